import { describe, expect, it } from 'vitest';
import {
  exceedance,
  factorRates,
  HOUR,
  isAssessed,
  judge,
  judgePoint,
  limitConditions,
  judgedValue,
  missingHours,
  nextRun,
  Registry,
  valueConditions,
  type Point,
  type Run,
} from '../cloud/index.js';
import { GAS_MN, testStations, WATER_MN } from './helpers/cloud-fixtures.js';

const stations = await testStations();
const registry = Registry.parse({ stations });
const gas = registry.get(GAS_MN)!;
const water = registry.get(WATER_MN)!;
const T = Date.parse('2026-11-20T10:00:00+08:00');
const pt = (
  mn: string,
  factor: string,
  values: Record<string, number>,
  flag: string | undefined = 'N',
  kind: Point['kind'] = 'hour',
): Point => {
  const p: Point = { mn, factor, kind, time: T, values };
  if (flag !== undefined) p.flag = flag;
  return p;
};

describe('judged value', () => {
  it('takes the converted value a gas logger sent, else converts with the O2 of the same upload', () => {
    expect(judgedValue(gas, pt(GAS_MN, 'a21026', { Avg: 30, ZsAvg: 40 }), undefined)).toBe(40);
    // C x (21 - 6) / (21 - 11) = 30 x 1.5
    expect(judgedValue(gas, pt(GAS_MN, 'a21026', { Avg: 30 }), pt(GAS_MN, 'a19001', { Avg: 11 }))).toBe(45);
  });

  it('never judges 9999.99, an O2 of 21 % or more, an invalid O2, or a missing O2', () => {
    expect(judgedValue(gas, pt(GAS_MN, 'a21026', { Avg: 30, ZsAvg: 9999.99 }), undefined)).toBeUndefined();
    expect(judgedValue(gas, pt(GAS_MN, 'a21026', { Avg: 30 }), pt(GAS_MN, 'a19001', { Avg: 21 }))).toBeUndefined();
    expect(judgedValue(gas, pt(GAS_MN, 'a21026', { Avg: 30 }), pt(GAS_MN, 'a19001', { Avg: 11 }, 'D'))).toBeUndefined();
    expect(judgedValue(gas, pt(GAS_MN, 'a21026', { Avg: 30 }), undefined)).toBeUndefined();
    expect(judgedValue(water, pt(WATER_MN, 'w01018', { Avg: 9999.99 }), undefined)).toBeUndefined();
  });

  it('uses Rtd for real-time data and Avg otherwise', () => {
    expect(judgedValue(water, pt(WATER_MN, 'w01018', { Rtd: 7, Avg: 8 }, 'N', 'rtd'), undefined)).toBe(7);
    expect(judgedValue(water, pt(WATER_MN, 'w01018', { Rtd: 7, Avg: 8 }), undefined)).toBe(8);
  });
});

describe('exceedance', () => {
  it('is active above the upper limit, with the multiple (C - limit) / limit', () => {
    expect(exceedance(water, pt(WATER_MN, 'w01018', { Avg: 75 }), undefined)).toMatchObject({
      active: true,
      value: 75,
      limit: 50,
      multiple: 0.5,
    });
    expect(exceedance(water, pt(WATER_MN, 'w01018', { Avg: 50 }), undefined)).toMatchObject({ active: false });
  });

  it('is active below a lower limit (pH 6-9)', () => {
    expect(exceedance(water, pt(WATER_MN, 'w01001', { Avg: 4.5 }), undefined)).toMatchObject({
      active: true,
      limit: 6,
      multiple: 0.25,
    });
    expect(exceedance(water, pt(WATER_MN, 'w01001', { Avg: 7 }), undefined)).toMatchObject({ active: false });
  });

  it('ignores invalid data and factors without limits; a missing flag counts as valid', () => {
    for (const flag of ['F', 'M', 'S', 'D', 'C', 'T', 'B'])
      expect(exceedance(water, pt(WATER_MN, 'w01018', { Avg: 500 }, flag), undefined)).toBeUndefined();
    expect(exceedance(water, pt(WATER_MN, 'w00000', { Avg: 1e9 }), undefined)).toBeUndefined();
    expect(exceedance(water, pt(WATER_MN, 'w01018', { Avg: 500 }, undefined), undefined)).toMatchObject({
      active: true,
    });
  });

  it('judges gas limits on converted values', () => {
    const conditions = judge(
      gas,
      [pt(GAS_MN, 'a21026', { Avg: 30 }), pt(GAS_MN, 'a19001', { Avg: 11 })],
      () => undefined,
    );
    expect(conditions.filter((c) => c.active)).toEqual([
      expect.objectContaining({
        type: 'exceedance',
        factor: 'a21026',
        active: true,
        value: 45,
        multiple: (45 - 35) / 35,
      }),
    ]);
  });
});

describe('basis of 超标 and 预警', () => {
  const withFactors = (factors: Record<string, unknown>) =>
    Registry.parse({ stations: [{ ...stations[0]!, factors }] }).get(WATER_MN)!;
  const active = (st: typeof water, p: Point): [string, number | undefined][] =>
    limitConditions(st, p, undefined)
      .filter((c) => c.active)
      .map((c) => [c.type, c.multiple]);

  it('raises 预警, never 超标, from real-time and minute values over the limit', () => {
    // COD limit 50: Rtd 60 and a minute Avg of 75 are warnings with multiples 0.2 and 0.5; the hour Avg 75 is 超标.
    expect(active(water, pt(WATER_MN, 'w01018', { Rtd: 60 }, 'N', 'rtd'))).toEqual([['warning', 0.2]]);
    expect(active(water, pt(WATER_MN, 'w01018', { Avg: 75 }, 'N', 'minute'))).toEqual([['warning', 0.5]]);
    expect(active(water, pt(WATER_MN, 'w01018', { Avg: 75 }, 'N', 'hour'))).toEqual([['exceedance', 0.5]]);
    expect(active(water, pt(WATER_MN, 'w01018', { Rtd: 50 }, 'N', 'rtd'))).toEqual([]);
    // pH 6-9: a real-time 5.4 is below the lower limit, (6 - 5.4) / 6 = 0.1.
    const [[type, multiple]] = active(water, pt(WATER_MN, 'w01001', { Rtd: 5.4 }, 'N', 'rtd')) as [[string, number]];
    expect(type).toBe('warning');
    expect(multiple).toBeCloseTo(0.1, 12);
  });

  it('warns from warnAt x limit: 80 % of 50 is 40', () => {
    const st = withFactors({ w01018: { upper: 50, warnAt: 0.8 } });
    // Real-time 45: above 40, (45 - 50) / 50 = -0.1 (below the limit); hour 45 is a warning too, not 超标.
    expect(active(st, pt(WATER_MN, 'w01018', { Rtd: 45 }, 'N', 'rtd'))).toEqual([['warning', -0.1]]);
    expect(active(st, pt(WATER_MN, 'w01018', { Avg: 45 }))).toEqual([['warning', -0.1]]);
    expect(active(st, pt(WATER_MN, 'w01018', { Avg: 40 }))).toEqual([]);
    // Over the limit the hour is 超标 and its warning closes: (55 - 50) / 50 = 0.1.
    const hour55 = limitConditions(st, pt(WATER_MN, 'w01018', { Avg: 55 }), undefined);
    expect(hour55.map((c) => [c.type, c.active])).toEqual([
      ['exceedance', true],
      ['warning', false],
    ]);
    expect(judgePoint(st, pt(WATER_MN, 'w01018', { Avg: 45 }), undefined)).toEqual({
      value: 45,
      state: 'warning',
      limit: 50,
      multiple: -0.1,
      threshold: 40,
    });
  });

  it('judges 超标 on the day average when the basis is day; an hour over it is a 预警', () => {
    const st = withFactors({ w01018: { upper: 50, basis: 'day' } });
    expect(active(st, pt(WATER_MN, 'w01018', { Avg: 60 }, 'N', 'day'))).toEqual([['exceedance', 0.2]]);
    expect(active(st, pt(WATER_MN, 'w01018', { Avg: 60 }, 'N', 'hour'))).toEqual([['warning', 0.2]]);
  });

  it('judges each kind with a limit of its own: hour on 100, day on 80 (1-hour and 24-hour limits)', () => {
    const st = withFactors({ w01018: { upper: 100, limits: { day: { upper: 80 } } } });
    // Day 90 > 80: (90 - 80) / 80 = 0.125; hour 90 < 100 is fine; hour 120: (120 - 100) / 100 = 0.2.
    expect(active(st, pt(WATER_MN, 'w01018', { Avg: 90 }, 'N', 'day'))).toEqual([['exceedance', 0.125]]);
    expect(active(st, pt(WATER_MN, 'w01018', { Avg: 90 }))).toEqual([]);
    expect(active(st, pt(WATER_MN, 'w01018', { Avg: 120 }))).toEqual([['exceedance', 0.2]]);
  });

  it('takes the value and the multiple from the same converted value for gas, and never judges without it', () => {
    // SO2 Avg 30 at O2 11 %, reference 6 %: 30 x 15 / 10 = 45; (45 - 35) / 35 = 2/7.
    const [c] = limitConditions(gas, pt(GAS_MN, 'a21026', { Avg: 30 }), pt(GAS_MN, 'a19001', { Avg: 11 }));
    expect(c).toMatchObject({ type: 'exceedance', active: true, value: 45, limit: 35 });
    expect(c!.multiple).toBeCloseTo(10 / 35, 12);
    // 9999.99 ("no valid O2", 2025) as ZsRtd is never judged, whatever Rtd says.
    expect(limitConditions(gas, pt(GAS_MN, 'a21026', { Rtd: 300, ZsRtd: 9999.99 }, 'N', 'rtd'), undefined)).toEqual([]);
    expect(limitConditions(water, pt(WATER_MN, 'w01018', { Avg: 300 }, 'C'), undefined)).toEqual([]);
  });

  it('assesses the factors with a limit unless told otherwise', () => {
    expect(['w01018', 'w21003', 'w01001', 'w00000'].map((f) => isAssessed(water.factors[f]!))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    const st = withFactors({ w01018: { upper: 50, assessed: false }, w00000: { assessed: true } });
    expect([isAssessed(st.factors['w01018']!), isAssessed(st.factors['w00000']!)]).toEqual([false, true]);
  });
});

describe('value alarms', () => {
  const station = Registry.parse({
    stations: [{ ...stations[0]!, factors: { w01018: { zeroAlarm: true, constantPeriods: 3 } } }],
  }).get(WATER_MN)!;

  it('flags negative and zero values', () => {
    const types = (v: number): string[] =>
      valueConditions(station, pt(WATER_MN, 'w01018', { Avg: v }), undefined)
        .filter((c) => c.active)
        .map((c) => c.type);
    expect(types(-1)).toEqual(['negative']);
    expect(types(0)).toEqual(['zero']);
    expect(types(3)).toEqual([]);
  });

  it('flags a value constant for the configured number of periods, not counting resent periods', () => {
    let run: Run | undefined;
    const active: boolean[] = [];
    for (const [i, v] of [
      [0, 5],
      [1, 5],
      [1, 5],
      [2, 5],
      [3, 6],
    ] as const) {
      run = nextRun(run, v, T + i * HOUR);
      active.push(
        valueConditions(station, { ...pt(WATER_MN, 'w01018', { Avg: v }), time: T + i * HOUR }, run).find(
          (c) => c.type === 'constant',
        )!.active,
      );
    }
    expect(active).toEqual([false, false, false, true, false]);
  });
});

describe('missing hours', () => {
  const base = { factors: ['w01018', 'w21003'], shutdowns: [], graceMs: 20 * 60_000 };
  // Look back exactly to 10:00, the first hour of the script.
  const at = (now: number): { now: number; lookbackMs: number } => ({ now, lookbackMs: now - T });
  const have = (...items: [string, number][]): Set<string> => new Set(items.map(([f, h]) => `${f}|${T + h * HOUR}`));

  it('lists each factor hour that is due and absent', () => {
    // now 13:30: hours 10, 11 and 12 are due (12:00-13:00 plus 20 min grace); 13:00 is not.
    const got = missingHours({
      ...base,
      have: have(['w01018', 0], ['w21003', 0], ['w01018', 2]),
      ...at(T + 3.5 * HOUR),
    });
    expect(got.map((m) => [m.factor, (m.hour - T) / HOUR])).toEqual([
      ['w01018', 1],
      ['w21003', 1],
      ['w21003', 2],
    ]);
  });

  it('waits out the grace period', () => {
    expect(
      missingHours({ ...base, have: have(['w01018', 0], ['w21003', 0]), ...at(T + 2 * HOUR + 19 * 60_000) }),
    ).toEqual([]);
    expect(
      missingHours({ ...base, have: have(['w01018', 0], ['w21003', 0]), ...at(T + 2 * HOUR + 20 * 60_000) }),
    ).toHaveLength(2);
  });

  it('never counts an hour that began before monitoring did', () => {
    // Monitoring began at 11:20: 11:00 was only partly watched, so the first due hour is 12:00.
    const got = missingHours({ ...base, have: have(), since: T + 1 * HOUR + 20 * 60_000, ...at(T + 3.5 * HOUR) });
    expect(got.map((m) => (m.hour - T) / HOUR)).toEqual([2, 2]);
  });

  it('excludes hours overlapping a registered shutdown window', () => {
    const shutdowns = [{ from: '2026-11-20T10:30:00+08:00', to: '2026-11-20T12:00:00+08:00', reason: '停产' }];
    expect(
      missingHours({ ...base, shutdowns, have: have(['w01018', 0], ['w21003', 0]), ...at(T + 2 * HOUR + 20 * 60_000) }),
    ).toEqual([]);
  });
});

describe('rates', () => {
  const D = Date.parse('2026-11-20T00:00:00+08:00');
  const hour = (h: number, flag: string): Point => ({
    mn: WATER_MN,
    factor: 'w01018',
    kind: 'hour',
    time: D + h * HOUR,
    values: { Avg: 20 },
    flag,
  });
  const day = { from: D, to: D + 24 * HOUR, factors: ['w01018'], rules: { manualCountsValid: false } };

  it('expects the hours that have ended, after monitoring began, outside shutdowns, less F hours', () => {
    // now 14:30: hours 0-13 have ended (14). Monitoring began 02:00 (12 left), 05:00-07:00 shut down (10 left),
    // hours 08 and 09 flagged F (8 left). Received: 10, 11, 12 (N), 13 (D) = 4; valid 3.
    const [r] = factorRates({
      ...day,
      now: D + 14.5 * HOUR,
      since: D + 2 * HOUR,
      shutdowns: [{ from: '2026-11-20T05:00:00+08:00', to: '2026-11-20T07:00:00+08:00', reason: '停产' }],
      hours: [
        hour(1, 'N'),
        hour(8, 'F'),
        hour(9, 'F'),
        hour(10, 'N'),
        hour(11, 'N'),
        hour(12, 'N'),
        hour(13, 'D'),
        hour(14, 'N'),
      ],
    });
    expect(r).toMatchObject({
      expected: 8,
      received: 4,
      valid: 3,
      stopped: 2,
      transmissionRate: 0.5,
      validityRate: 0.75,
    });
    expect(r!.effectivenessRate).toBe(0.375);
    expect(r!.missing.map((t) => (t - D) / HOUR)).toEqual([2, 3, 4, 7]);
  });

  it('counts S (manually entered) as received, and as valid only where the regulator accepts it', () => {
    const hours = [hour(0, 'N'), hour(1, 'S')];
    const opts = { ...day, now: D + 2 * HOUR, shutdowns: [], hours };
    expect(factorRates(opts)[0]).toMatchObject({ expected: 2, received: 2, valid: 1 });
    expect(factorRates({ ...opts, rules: { manualCountsValid: true } })[0]).toMatchObject({ valid: 2 });
  });
});
