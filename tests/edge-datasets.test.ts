import { describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../edge/index.js';
import { Aggregator } from '../edge/aggregator.js';
import {
  combineStats,
  converted,
  minuteStat,
  periodStart,
  periodStats,
  withAmounts,
  withConverted,
} from '../edge/datasets.js';
import { recordFrames } from '../edge/sender.js';
import { recordPacket } from '../edge/packets.js';
import type { DataRecord } from '../edge/aggregator.js';
import type { FactorStat, PeriodStats } from '../edge/datasets.js';
import type { HjFlag } from '../edge/config.js';
import { decodeFrame, encodeFrame } from '../protocol/index.js';
import { minimalConfig } from './helpers/edge-config.js';

const T0 = Date.parse('2025-06-01T00:00:00+08:00');
const MIN = 60_000;
const water = {
  mn: '010000A8900016F000169DC0',
  st: '32',
  kind: 'water' as const,
  utcOffsetMinutes: 480,
  flow: { code: 'w00000', unit: 'L/s' as const },
  o2Code: 'a19001',
};
const gas = {
  mn: '370104201800010000A8C2F1',
  st: '31',
  kind: 'gas' as const,
  utcOffsetMinutes: 480,
  flow: { code: 'a00000', unit: 'm3/h' as const },
  referenceO2: 6,
  o2Code: 'a19001',
};
const minuteOf = (avg: number, flag: HjFlag = 'N'): FactorStat => ({
  min: avg,
  avg,
  max: avg,
  flag,
  valid: flag === 'N' ? 1 : 0,
  count: 1,
});

describe('minute statistics from samples', () => {
  it('averages valid samples; a minute with 3 of 4 valid is N', () => {
    const s = (value: number, flag: HjFlag = 'N') => ({ at: T0, value, flag });
    expect(minuteStat([s(10), s(20), s(30), s(40, 'M')])).toEqual({
      min: 10,
      avg: 20,
      max: 30,
      flag: 'N',
      valid: 3,
      count: 4,
    });
    // mostly calibration: flag C, values of the one valid sample (eq. 23 counts valid readings only)
    expect(minuteStat([s(10), s(20, 'C'), s(30, 'C')])).toEqual({
      min: 10,
      avg: 10,
      max: 10,
      flag: 'C',
      valid: 1,
      count: 3,
    });
    // all calibration: what the analyzer read, flagged C
    expect(minuteStat([s(20, 'C'), s(30, 'C')])).toMatchObject({ min: 20, avg: 25, max: 30, flag: 'C', valid: 0 });
    // water: one abnormal sample makes the minute abnormal (note to C.16)
    expect(minuteStat([s(10), s(20), s(30), s(40, 'M')], 'water')).toMatchObject({ avg: 20, flag: 'M', valid: 3 });
    // never answered: B and no values
    expect(minuteStat([s(Number.NaN, 'B'), s(Number.NaN, 'B')])).toEqual({ flag: 'B', valid: 0, count: 2 });
  });
});

describe('hour and day validity (notes to C.16-C.18, D.2.2)', () => {
  const gasHour = { kind: 'gas' as const, period: 'hour' as const, expected: 60 };
  it('a flue-gas hour with 45 valid minutes is N, averaging only them', () => {
    const minutes = [
      ...Array.from({ length: 45 }, () => minuteOf(10)),
      ...Array.from({ length: 15 }, () => minuteOf(100, 'M')),
    ];
    expect(combineStats(minutes, gasHour)).toMatchObject({ avg: 10, min: 10, max: 10, flag: 'N', valid: 45 });
  });

  it(
    'a flue-gas hour with 44 valid minutes is D (C.17: instrument ' + 'fault), its values those of the valid minutes',
    () => {
      const minutes = [
        ...Array.from({ length: 44 }, () => minuteOf(10)),
        ...Array.from({ length: 16 }, () => minuteOf(100, 'M')),
      ];
      const hour = combineStats(minutes, gasHour);
      expect(hour).toMatchObject({ flag: 'D', avg: 10, min: 10, max: 10, valid: 44 });
    },
  );

  it('minutes that never came count against the hour', () => {
    const fortyFive = Array.from({ length: 45 }, () => ({ a21026: minuteOf(10) }));
    expect(periodStats('hour', fortyFive, 60, gas)['a21026']).toMatchObject({ flag: 'N', valid: 45, count: 60 });
    expect(periodStats('hour', fortyFive.slice(1), 60, gas)['a21026']).toMatchObject({
      flag: 'D',
      valid: 44,
      avg: 10,
    });
    // water: a minute that never came is abnormal (B), so the hour is
    const water60 = Array.from({ length: 60 }, () => ({ w01018: minuteOf(10) }));
    expect(periodStats('hour', water60, 60, water)['w01018']).toMatchObject({ flag: 'N', valid: 60 });
    expect(periodStats('hour', water60.slice(1), 60, water)['w01018']).toMatchObject({ flag: 'B', valid: 59 });
  });

  it('a flue-gas day needs 20 valid hours; a water day none abnormal', () => {
    const hours = (code: string, valid: number) =>
      Array.from({ length: 24 }, (_, i) => ({ [code]: minuteOf(i < valid ? 10 : 50, i < valid ? 'N' : 'C') }));
    expect(periodStats('day', hours('a21026', 20), 24, gas)['a21026']).toMatchObject({ flag: 'N', avg: 10 });
    expect(periodStats('day', hours('a21026', 19), 24, gas)['a21026']).toMatchObject({ flag: 'D', avg: 10 });
    expect(periodStats('day', hours('w01018', 24), 24, water)['w01018']).toMatchObject({ flag: 'N', avg: 10 });
    // 23 valid hours and one in calibration: C, the mean of the 23
    expect(periodStats('day', hours('w01018', 23), 24, water)['w01018']).toMatchObject({ flag: 'C', avg: 10 });
  });
});

describe('emission amounts and converted concentrations (HJ 212-2017 appendix D)', () => {
  it('water: kg = mg/L × m3 × 1e-3, flow Cou in m3', () => {
    const stats = withAmounts({ w01018: minuteOf(50), w00000: minuteOf(20) }, water, 60);
    // 20 L/s over 60 s = 1.2 m3; 50 mg/L × 1.2 m3 = 60 g
    expect(stats['w00000']?.cou).toBeCloseTo(1.2, 12);
    expect(stats['w01018']?.cou).toBeCloseTo(0.06, 12);
  });

  it('gas: kg = mg/m3 × m3 × 1e-6 on the actual (not converted) concentration; no Cou for O2', () => {
    const stats = withAmounts({ a21026: minuteOf(100), a00000: minuteOf(3600), a19001: minuteOf(11) }, gas, 60);
    expect(stats['a00000']?.cou).toBeCloseTo(60, 9);
    expect(stats['a21026']?.cou).toBeCloseTo(0.006, 12);
    expect(stats['a19001']?.cou).toBeUndefined();
  });

  it('Zs = C × (21 − ref) / (21 − O2); none at O2 ≥ 21 or without O2', () => {
    expect(converted(100, 11, 6)).toBe(150);
    expect(converted(100, 21, 6)).toBeUndefined();
    expect(converted(100, 25, 6)).toBeUndefined();
    expect(converted(100, undefined, 6)).toBeUndefined();
    const zs = withConverted({ a21026: minuteOf(100), a19001: minuteOf(11), a01012: minuteOf(85) }, gas);
    expect(zs['a21026']).toMatchObject({ zsMin: 150, zsAvg: 150, zsMax: 150 });
    expect(zs['a01012']?.zsAvg).toBeUndefined();
    expect(withConverted({ a21026: minuteOf(100), a19001: minuteOf(21) }, gas)['a21026']?.zsAvg).toBeUndefined();
  });
});

describe('local periods', () => {
  it('follow the outlet clock: Beijing midnight is 16:00 UTC', () => {
    expect(periodStart(Date.parse('2025-06-01T15:59:59Z'), 'day', 480)).toBe(Date.parse('2025-05-31T16:00:00Z'));
    expect(periodStart(Date.parse('2025-06-01T16:00:00Z'), 'day', 480)).toBe(Date.parse('2025-06-01T16:00:00Z'));
    expect(periodStart(Date.parse('2025-06-01T10:37:10Z'), 'interval', 480, 10)).toBe(
      Date.parse('2025-06-01T10:30:00Z'),
    );
    expect(periodStart(Date.parse('2025-06-01T10:37:10Z'), 'hour', 330)).toBe(Date.parse('2025-06-01T10:30:00Z'));
  });
});

/** Feeds a reading every 10 s from T0 for `minutes`, with a maintenance window, ticking as a clock would. */
function drive(minutes: number, maintenance: (minute: number) => boolean): DataRecord[] {
  const base = minimalConfig();
  base.devices[0]!.factors.push({ code: 'w00000', value: { address: 4 } });
  const config = parseEdgeConfig({ ...base, station: water, rtdIntervalSeconds: 60, minIntervalMinutes: 10 });
  const agg = new Aggregator(config, T0);
  const records: DataRecord[] = [];
  for (let t = T0; t <= T0 + minutes * MIN; t += 10_000) {
    records.push(...agg.tick(t).records);
    const minute = Math.floor((t - T0) / MIN);
    const flag = maintenance(minute) ? 'M' : 'N';
    agg.add(t, [
      { code: 'w01018', value: flag === 'M' ? 0 : 40 + (minute % 2) * 10, flag },
      { code: 'w00000', value: 20, flag: 'N' },
    ]);
  }
  return records;
}

describe('the aggregator over a day of known input', () => {
  const records = drive(24 * 60, (m) => (m >= 15 && m < 30) || (m >= 60 + 10 && m < 60 + 26));
  const of = (cn: string) => records.filter((r) => r.cn === cn);

  it('emits 2011 every RtdInterval, 2051 every MinInterval, 2061 hourly and 2031 at midnight', () => {
    expect(of('2011')).toHaveLength(24 * 60);
    expect(of('2051')).toHaveLength(24 * 6);
    expect(of('2061')).toHaveLength(24);
    expect(of('2031')).toHaveLength(1);
    expect(
      of('2051')
        .map((r) => r.at)
        .slice(0, 3),
    ).toEqual([T0, T0 + 10 * MIN, T0 + 20 * MIN]);
  });

  it('computes minute values and flags: a water 10-minute record is abnormal with one abnormal minute', () => {
    const [first, second, third] = of('2051');
    expect(first?.stats['w01018']).toMatchObject({ min: 40, max: 50, flag: 'N' });
    // flow-weighted at a constant 20 L/s: the plain mean of 5 × 40 and 5 × 50
    expect(first?.stats['w01018']?.avg).toBeCloseTo(45, 10);
    expect(first?.stats['w01018']?.cou).toBeCloseTo(45 * 12 * 1e-3, 9); // 20 L/s × 600 s = 12 m3
    expect(first?.stats['w00000']?.cou).toBeCloseTo(12, 9);
    expect(second?.stats['w01018']).toMatchObject({ flag: 'M', valid: 5 }); // minutes 15-19 in maintenance
    expect(third?.stats['w01018']).toMatchObject({ flag: 'M', avg: 0 });
    // no valid minute: no emission amount (D.1.2.2 sums valid ones only), but the flow's Cou is there
    expect(third?.stats['w01018']?.cou).toBeUndefined();
    expect(third?.stats['w00000']?.cou).toBeCloseTo(12, 9);
  });

  it('water hours with maintenance minutes are M (not N, C.17); the day is M with 22 valid hours', () => {
    const [h0, h1, h2] = of('2061');
    // valid minutes 0-14 and 30-59 read 40 (even) or 50 (odd): 23 × 40 + 22 × 50 = 2020
    expect(h0?.stats['w01018']).toMatchObject({ flag: 'M', valid: 45, min: 40, max: 50 });
    expect(h0?.stats['w01018']?.avg).toBeCloseTo(2020 / 45, 10);
    // Cou of the 45 valid minutes: 2020 mg/L·min × 1.2 m3/min × 1e-3 = 2.424 kg
    expect(h0?.stats['w01018']?.cou).toBeCloseTo(2020 * 1.2e-3, 10);
    expect(h1?.stats['w01018']).toMatchObject({ flag: 'M', valid: 44 });
    expect(h2?.stats['w01018']).toMatchObject({ flag: 'N', valid: 60 });
    expect(h2?.stats['w01018']?.avg).toBeCloseTo(45, 10);
    expect(h0?.stats['w00000']?.cou).toBeCloseTo(72, 6); // 20 L/s × 3600 s = 72 m3
    // the day from its 22 valid hours (eq. 11, eq. 14): 22 × 45 mg/L × 72 m3 × 1e-3 = 71.28 kg, 71.28 / 1584 m3
    const day = of('2031')[0]?.stats['w01018'];
    expect(day).toMatchObject({ flag: 'M', valid: 22 });
    expect(day?.avg).toBeCloseTo(45, 10);
    expect(day?.cou).toBeCloseTo(71.28, 9);
    expect(of('2031')[0]?.stats['w00000']).toMatchObject({ flag: 'N', valid: 24 });
    expect(of('2031')[0]?.stats['w00000']?.cou).toBeCloseTo(72 * 24, 6);
  });

  it('builds the upload: DataTime in Beijing time, fixed decimals, A bit set, and the codec reads it back', () => {
    const hour = of('2061')[0]!;
    const packet = recordPacket(
      hour,
      { mn: water.mn, pw: '123456', st: '32', version: '2017' },
      '20250601010000000',
      new Map([['w01018', 1]]),
      480,
    );
    const frame = encodeFrame(packet);
    const decoded = decodeFrame(frame, { mode: 'strict' });
    expect(decoded.ok).toBe(true);
    if (!decoded.ok) return;
    expect(decoded.frame.packet).toMatchObject({
      cn: '2061',
      flag: 5,
      mn: water.mn,
      cp: { params: { DataTime: '20250601000000' } },
    });
    expect(decoded.frame.packet.cp.factors['w01018']).toEqual({
      Min: '40.0',
      Avg: '44.9',
      Max: '50.0',
      Cou: '2.4240',
      Flag: 'M',
    });
    const rt: PeriodStats = { w01018: { avg: 41.26, flag: 'B', valid: 0, count: 1 } };
    expect(
      recordPacket(
        { cn: '2011', at: T0, stats: rt },
        { mn: water.mn, pw: '123456', st: '32', version: '2017' },
        '20250601000000000',
        new Map(),
        480,
      ).cp.factors,
    ).toEqual({ w01018: { Rtd: '41.260', Flag: 'B' } });
  });
});

describe('uploads over 1024 bytes', () => {
  it('are split into PNUM/PNO packets with their own QNs, each within the standard length', () => {
    const stat: FactorStat = {
      min: 123.456,
      avg: 234.567,
      max: 345.678,
      zsMin: 150.1,
      zsAvg: 250.2,
      zsMax: 350.3,
      cou: 1.2345,
      flag: 'N',
      valid: 60,
      count: 60,
    };
    const codes = [
      'a21026',
      'a21002',
      'a34013',
      'a21024',
      'a21005',
      'a24088',
      'a19001',
      'a01011',
      'a01012',
      'a01013',
      'a01014',
      'a00000',
    ];
    const record: DataRecord = { cn: '2061', at: T0, stats: Object.fromEntries(codes.map((c) => [c, stat])) };
    const parts = recordFrames(
      record,
      '20250601010000000',
      { mn: gas.mn, pw: 'a1B2c3', st: '31', version: '2017' },
      new Map(),
      480,
    );
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.map((p) => p.qn)).toEqual(parts.map((_, i) => `2025060101000000${i}`));
    const decoded = parts.map((p) => decodeFrame(p.frame, { mode: 'strict' }));
    expect(decoded.every((d) => d.ok)).toBe(true);
    const factors = decoded.flatMap((d) => (d.ok ? Object.keys(d.frame.packet.cp.factors) : []));
    expect(factors.sort()).toEqual([...codes].sort());
  });
});

describe('HJ 212-2025 uploads', () => {
  it('carry the CP SM4-encrypted under the uplink key, and decode only with that key', () => {
    const key = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');
    const stat: FactorStat = { min: 1, avg: 2, max: 3, flag: 'N', valid: 60, count: 60 };
    const record: DataRecord = { cn: '2061', at: T0, stats: { a21026: stat } };
    const [part] = recordFrames(
      record,
      '20250601010000000',
      { mn: gas.mn, pw: 'a1B2c3', st: '31', version: '2025' },
      new Map(),
      480,
      { sm4Key: () => key },
    );
    expect(part!.frame).toMatch(/CP=&&[0-9A-F]{32,}&&/);
    expect(part!.frame).not.toContain('a21026');
    const decoded = decodeFrame(part!.frame, { mode: 'strict', sm4Key: () => key });
    expect(decoded.ok && decoded.frame.packet.cp.factors['a21026']).toMatchObject({ Avg: '2.000', Flag: 'N' });
    expect(decodeFrame(part!.frame, { mode: 'strict' })).toMatchObject({
      ok: false,
      error: { code: 'decrypt-failed' },
    });
  });
});

describe('field information uploads (3020)', () => {
  it('carry each analyzer parameter under its PolId, without register float noise', () => {
    const record: DataRecord = {
      cn: '3020',
      at: T0,
      stats: {},
      info: { w01018: { i13004: 165.0399932861328, i13001: 500 } },
    };
    const frame = encodeFrame(
      recordPacket(
        record,
        { mn: water.mn, pw: 'a1B2c3', st: '32', version: '2017' },
        '20250601000000000',
        new Map(),
        480,
      ),
    );
    expect(frame).toContain(
      'CN=3020;PW=a1B2c3;MN=010000A8900016F000169DC0;Flag=5;CP=&&DataTime=20250601000000;PolId=w01018;' +
        'i13004-Info=165.04;i13001-Info=500&&',
    );
    expect(decodeFrame(frame, { mode: 'strict' }).ok).toBe(true);
  });
});
