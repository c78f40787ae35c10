import { describe, expect, it } from 'vitest';
import { reviews, scopeKind, ScopeSchema, sees, seesEnterprise } from '../cloud/scope.js';

const chem = { enterprise: '示例化工有限公司', region: '城东区' };
const power = { enterprise: '示例电厂', region: '城西区' };
const loose = { enterprise: '无区县企业' };

describe('scope: whose stations an account sees', () => {
  it('gives the centre every station, an authority its region, an enterprise its own', () => {
    expect([chem, power, loose].map((s) => sees({}, s))).toEqual([true, true, true]);
    expect([chem, power, loose].map((s) => sees({ region: '城东区' }, s))).toEqual([true, false, false]);
    expect([chem, power, loose].map((s) => sees({ enterprise: '示例电厂' }, s))).toEqual([false, true, false]);
    expect(scopeKind({})).toBe('centre');
    expect(scopeKind({ region: '城东区' })).toBe('authority');
    expect(scopeKind({ enterprise: '示例电厂' })).toBe('enterprise');
  });

  it('sees an enterprise through its stations, and lets only non-enterprise accounts review', () => {
    const all = [chem, power, loose];
    expect(seesEnterprise({ region: '城西区' }, '示例电厂', all)).toBe(true);
    expect(seesEnterprise({ region: '城西区' }, '示例化工有限公司', all)).toBe(false);
    expect(seesEnterprise({ enterprise: '示例电厂' }, '示例化工有限公司', all)).toBe(false);
    expect(seesEnterprise({}, '示例化工有限公司', all)).toBe(true);
    expect([reviews({}), reviews({ region: '城东区' }), reviews({ enterprise: '示例电厂' })]).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('refuses a scope that is both, and a stray key', () => {
    expect(ScopeSchema.safeParse({ enterprise: 'a', region: 'b' }).success).toBe(false);
    expect(ScopeSchema.safeParse({ enterprise: 'a', regoin: 'b' }).success).toBe(false);
  });
});
