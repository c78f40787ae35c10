import { describe, expect, it } from 'vitest';
import { LatestValues } from '../cloud/api/live-latest.js';
import type { Latest } from '../cloud/api/live.js';

describe('LatestValues', () => {
  it('gives back each factor as it was set, only the keys it had, in the order the factors came', () => {
    const v = new LatestValues();
    const cod: Latest = { kind: 'rtd', time: 1_780_000_000_000, value: 12.5, flag: 'N', judged: 12.5, state: 'normal' };
    const ph: Latest = { kind: 'minute', time: 1_780_000_060_000 };
    const nh3: Latest = { kind: 'hour', time: 1_780_000_120_000, value: Number.NaN, judged: 0 };
    v.set('w01018', cod);
    v.set('w01001', ph);
    v.set('w21003', nh3);
    expect(v.timeOf('w01001')).toBe(ph.time);
    expect(v.timeOf('w00000')).toBeUndefined();
    expect(v.entries()).toStrictEqual([
      ['w01018', cod],
      ['w01001', ph],
      ['w21003', nh3],
    ]);
    const later: Latest = { kind: 'rtd', time: cod.time + 30_000, flag: 'D' };
    v.set('w01018', later);
    expect(Object.fromEntries(v.entries())).toStrictEqual({ w01018: later, w01001: ph, w21003: nh3 });
  });
});
