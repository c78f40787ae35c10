import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeIssues, issuePath } from '../protocol/zod-issues.js';

describe('one way to name what is wrong in a config', () => {
  it('writes a path as the YAML reads', () => {
    expect(issuePath(['stations', 2, 'factors', 'w01018', 'upper'])).toBe('stations[2].factors.w01018.upper');
    expect(issuePath([0, 'mn'])).toBe('[0].mn');
    expect(issuePath([])).toBe('');
  });

  it('gives every issue its source and path, and each stray key a line naming it', () => {
    const schema = z.strictObject({ stations: z.array(z.strictObject({ mn: z.string(), upper: z.number() })) });
    const r = schema.safeParse({ stations: [{ mn: 'A', upper: 'fifty', uper: 1 }], uppper: 5, x: 1 });
    expect(r.success).toBe(false);
    expect(describeIssues(r.error!, { source: 'stations.yaml', docs: 'docs/cloud.md' }).split('\n')).toEqual([
      'stations.yaml: stations[0].upper: Invalid input: expected number, received string',
      'stations.yaml: stations[0].uper: not a known key (a typo?); see docs/cloud.md',
      'stations.yaml: uppper: not a known key (a typo?); see docs/cloud.md',
      'stations.yaml: x: not a known key (a typo?); see docs/cloud.md',
    ]);
  });

  it('names the top level, or leaves it out for a flag', () => {
    const r = z.number().positive().safeParse(0);
    expect(describeIssues(r.error!, { source: 'cfg.yaml' })).toBe(
      'cfg.yaml: (top level): Too small: expected number to be >0',
    );
    expect(describeIssues(r.error!, { source: '--warp', topLevel: '' })).toBe(
      '--warp: Too small: expected number to be >0',
    );
  });
});
