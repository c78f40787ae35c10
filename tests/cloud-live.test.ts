import { describe, expect, it } from 'vitest';
import { LiveHub } from '../cloud/api/live.js';
import type { Point } from '../cloud/store/types.js';

const MN = '010000A8900016F000169DC0';
const station = {
  mn: MN,
  type: 'water' as const,
  factors: { w01018: { unit: 'mg/L', upper: 10, warnAt: 0.9, basis: 'hour' as const } },
} as unknown as Parameters<LiveHub['stored']>[0];
const point = (time: number, rtd: number | undefined, flag?: string, factor = 'w01018'): Point => ({
  mn: MN,
  factor,
  kind: 'rtd',
  time,
  values: rtd === undefined ? {} : { Rtd: rtd },
  ...(flag !== undefined && { flag }),
});

describe('live values', () => {
  it('keep the newest value per factor with its fields, and hand out copies that later data does not change', () => {
    const live = new LiveHub();
    live.stored(station, [point(1000, 5, 'N'), point(1000, 1, 'N', 'w21003')]);
    const first = live.values(MN);
    expect(first).toEqual({
      w01018: { kind: 'rtd', time: 1000, value: 5, flag: 'N', judged: 5, state: 'normal' },
      w21003: { kind: 'rtd', time: 1000, value: 1, flag: 'N' },
    });
    live.stored(station, [point(2000, 12, 'N')]);
    expect(first.w01018).toEqual({ kind: 'rtd', time: 1000, value: 5, flag: 'N', judged: 5, state: 'normal' });
    expect(live.values(MN).w01018).toEqual({
      kind: 'rtd',
      time: 2000,
      value: 12,
      flag: 'N',
      judged: 12,
      state: 'warning',
    });
    // Fields the new value lacks are gone, not left over from the one before.
    live.stored(station, [point(3000, undefined)]);
    expect(Object.keys(live.values(MN).w01018!)).toEqual(['kind', 'time']);
    live.stored(station, [point(4000, 3, 'D')]);
    expect(live.values(MN).w01018).toEqual({ kind: 'rtd', time: 4000, value: 3, flag: 'D' });
    // An older record (a backfill) does not hide the newer value.
    live.stored(station, [point(500, 7, 'N')]);
    expect(live.values(MN).w01018).toEqual({ kind: 'rtd', time: 4000, value: 3, flag: 'D' });
  });
});
