import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeIssues, issuePath } from '../protocol/zod-issues.js';

describe('one way to name what is wrong in a config', () => {
  it('writes a path as the YAML reads', () => {
    expect(issuePath(['stations', 2, 'factors', 'w01018', 'upper'])).toBe('stations[2].factors.w01018.upper');
    expect(issuePath([0, 'mn'])).toBe('[0].mn');
    expect(issuePath([])).toBe('');
  });

  it('gives every issue its source, path and fix, one a line', () => {
    const schema = z.strictObject({ stations: z.array(z.strictObject({ mn: z.string(), upper: z.number() })) });
    const r = schema.safeParse({ stations: [{ mn: 'A', upper: 'fifty' }], uppper: 5 });
    expect(r.success).toBe(false);
    expect(describeIssues(r.error!, { source: 'stations.yaml' }).split('\n')).toEqual([
      'stations.yaml: stations[0].upper: Invalid input: expected number, received string',
      'stations.yaml: (top level): Unrecognized key: "uppper" (check the spelling or remove it)',
    ]);
    expect(describeIssues(r.error!, { separator: '; ', topLevel: '' })).toBe(
      'stations[0].upper: Invalid input: expected number, received string; Unrecognized key: "uppper" (check the spelling or remove it)',
    );
  });
});
