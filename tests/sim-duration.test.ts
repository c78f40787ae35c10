import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { durationMs, durationMsSchema } from '../simulators/shared/duration.js';

describe('durations in simulator configs', () => {
  it('reads number-and-unit parts as milliseconds', () => {
    expect(durationMs('500ms', 'ms')).toBe(500);
    expect(durationMs('2s', 'ms')).toBe(2000);
    expect(durationMs('1.5m', 's')).toBe(90_000); // 1.5 x 60 000
    expect(durationMs('1min', 's')).toBe(60_000);
    expect(durationMs('2 s', 'ms')).toBe(2000);
    // 1 d + 6 h + 30 m = 86 400 000 + 21 600 000 + 1 800 000
    expect(durationMs('1d6h30m', 'ms')).toBe(109_800_000);
    expect(durationMs('1h 30m', 's')).toBe(5_400_000); // 3 600 000 + 1 800 000
  });

  it('reads a bare number in the unit the config documents', () => {
    expect(durationMs('90', 's')).toBe(90_000);
    expect(durationMs('90', 'ms')).toBe(90);
    expect(durationMs(2.5, 's')).toBe(2500);
    expect(durationMs(2.5, 'ms')).toBe(3); // rounded to a whole millisecond
  });

  it('refuses what is not a duration', () => {
    for (const bad of ['', '2x', 'h', '1.', '-5s', 's2', '5s garbage']) expect(durationMs(bad, 'ms')).toBeUndefined();
    expect(durationMs(-1, 's')).toBeUndefined();
    expect(durationMs(Number.NaN, 's')).toBeUndefined();
  });

  it('reports a bad value under the field, saying what a bare number means', () => {
    const schema = z.object({ tick: durationMsSchema('ms') });
    expect(schema.parse({ tick: '1m' })).toEqual({ tick: 60_000 });
    const r = schema.safeParse({ tick: 'soon' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['tick']);
    expect(r.error?.issues[0]?.message).toMatch(/a bare number means milliseconds\); got "soon"$/);
  });
});
