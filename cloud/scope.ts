import { z } from 'zod';
import type { Station } from './registry.js';

/**
 * Whose data an account may see. A monitoring centre's platform is two-sided: the centre and the
 * environmental authority (生态环境主管部门) review, enterprises (排污单位) keep their own plans,
 * registrations and marks. So an account is one of
 * - the centre: no scope, every station;
 * - an authority of a jurisdiction (辖区): `region`, the stations whose registry `region` is it;
 * - an enterprise user: `enterprise`, the stations whose registry `enterprise` is it.
 * The role (read < operator < admin) says what the account may do within its scope.
 */
export const ScopeSchema = z
  .strictObject({
    /** An enterprise user: only the stations of this enterprise (its registry `enterprise`). */
    enterprise: z.string().min(1, 'name the enterprise as the registry spells it').optional(),
    /** An authority user: only the stations of this jurisdiction (the registry's `region`). */
    region: z.string().min(1, 'name the region as the registry spells it').optional(),
  })
  .refine((s) => s.enterprise === undefined || s.region === undefined, {
    message: 'an account is an enterprise user or an authority of a region, not both: give enterprise or region',
    path: ['region'],
  });
export type Scope = z.output<typeof ScopeSchema>;

export type ScopeKind = 'centre' | 'authority' | 'enterprise';

/** What kind of account a scope makes. */
export function scopeKind(s: Scope): ScopeKind {
  if (s.enterprise !== undefined) return 'enterprise';
  if (s.region !== undefined) return 'authority';
  return 'centre';
}

/** Whether an account of this scope may see a station's data. */
export function sees(s: Scope, station: Pick<Station, 'enterprise' | 'region'>): boolean {
  if (s.enterprise !== undefined) return station.enterprise === s.enterprise;
  if (s.region !== undefined) return station.region === s.region;
  return true;
}

/** Whether a scope sees an enterprise at all (an enterprise user its own; an authority those in its region). */
export function seesEnterprise(
  s: Scope,
  enterprise: string,
  stations: Iterable<Pick<Station, 'enterprise' | 'region'>>,
): boolean {
  if (s.enterprise !== undefined) return s.enterprise === enterprise;
  if (s.region === undefined) return true;
  for (const st of stations) if (st.enterprise === enterprise && st.region === s.region) return true;
  return false;
}

/** Whether an account may review (审核) others' submissions: the centre and authorities, never an enterprise. */
export const reviews = (s: Scope): boolean => s.enterprise === undefined;

/** The scope's own fields only (no undefined keys), for views and logs. */
export function scopeView(s: Scope): Scope {
  return {
    ...(s.enterprise !== undefined && { enterprise: s.enterprise }),
    ...(s.region !== undefined && { region: s.region }),
  };
}
