import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../edge/index.js';
import { Aggregator } from '../edge/aggregator.js';
import { recordPacket } from '../edge/packets.js';
import { toFixedHalfEven } from '../edge/rounding.js';
import type { EdgeConfig } from '../edge/index.js';
import type { DataRecord } from '../edge/aggregator.js';
import type { FactorReading } from '../edge/registers.js';
import type { HjFlag } from '../edge/config.js';
import type { Version } from '../protocol/index.js';
import { decodeFrame, encodeFrame } from '../protocol/index.js';
import { minimalConfig } from './helpers/edge-config.js';

/**
 * Worked examples of docs/statistics.md ("Edge: readings to HJ 212 data sets"), one reading a minute
 * through the aggregator the agent runs, out as the packet a platform decodes. Every expected value is
 * computed by hand in the comment beside it.
 */

const T0 = Date.parse('2025-06-01T00:00:00+08:00');
const MIN = 60_000;
const WATER_MN = '010000A8900016F000169DC0';
const GAS_MN = '370104201800010000A8C2F1';

type FactorInput = { code: string; converted?: boolean; couUnit?: 'kg' | 'g' | 'mg'; decimals?: number };

function config(kind: 'water' | 'gas', factors: FactorInput[]): EdgeConfig {
  const base = minimalConfig();
  base.devices[0]!.factors = factors.map((f, i) => ({ ...f, value: { address: 2 * i } }));
  const station =
    kind === 'water'
      ? { mn: WATER_MN, st: '32', kind, flow: { code: 'w00000', unit: 'L/s' as const } }
      : { mn: GAS_MN, st: '31', kind, flow: { code: 'a00000', unit: 'm3/h' as const }, referenceO2: 6 };
  return parseEdgeConfig({ ...base, station, rtdIntervalSeconds: 60, minIntervalMinutes: 10 });
}

/** One reading a minute, at the start of each minute, for `minutes`; the records of every period that ended. */
function drive(cfg: EdgeConfig, minutes: number, reading: (minute: number) => FactorReading[]): DataRecord[] {
  const agg = new Aggregator(cfg, T0);
  const out: DataRecord[] = [];
  for (let m = 0; m <= minutes; m++) {
    out.push(...agg.tick(T0 + m * MIN).records);
    if (m < minutes) agg.add(T0 + m * MIN, reading(m));
  }
  return out;
}

const r = (code: string, value: number, flag: HjFlag = 'N'): FactorReading => ({ code, value, flag });
const first = (records: DataRecord[], cn: string) => records.find((x) => x.cn === cn)!;

/** The CP factors a platform decodes from the record's packet. */
function wire(record: DataRecord, cfg: EdgeConfig, version: Version) {
  const decimals = new Map(cfg.devices.flatMap((d) => d.factors.map((f) => [f.code, f.decimals] as const)));
  const packet = recordPacket(
    record,
    { mn: cfg.station.mn, pw: '123456', st: cfg.station.st, version },
    '20250601010000000',
    decimals,
    480,
  );
  const decoded = decodeFrame(encodeFrame(packet), { mode: 'strict' });
  if (!decoded.ok) throw new Error(`the platform could not decode ${record.cn}: ${decoded.error.code}`);
  return decoded.frame.packet.cp.factors;
}

describe('water: flow-weighted concentrations, Cou of valid minutes (D.1.2.2, D.1.2.3)', () => {
  const cfg = config('water', [
    { code: 'w01018', decimals: 1 },
    { code: 'w00000', decimals: 2 },
  ]);
  // Issue row 1: 30 min at 10 L/s with COD 100 mg/L, then 30 min at 90 L/s with COD 20 mg/L.
  const records = drive(cfg, 60, (m) =>
    m < 30 ? [r('w01018', 100), r('w00000', 10)] : [r('w01018', 20), r('w00000', 90)],
  );
  const hour = first(records, '2061');

  it('an hour is G / D: 5.04 kg over 180 m3 is 28 mg/L, not the time mean 60', () => {
    // D = 10 L/s × 1800 s + 90 L/s × 1800 s = 18 m3 + 162 m3 = 180 m3
    // G = 100 mg/L × 18 m3 × 1e-3 + 20 mg/L × 162 m3 × 1e-3 = 1.8 kg + 3.24 kg = 5.04 kg
    // C = G / D = 5.04 kg / 180 m3 = 0.028 kg/m3 = 28 mg/L
    expect(hour.stats['w01018']).toMatchObject({ flag: 'N', min: 20, max: 100, valid: 60 });
    expect(hour.stats['w01018']?.avg).toBeCloseTo(28, 10);
    expect(hour.stats['w01018']?.cou).toBeCloseTo(5.04, 10);
    // the flow: its volume, and its mean over the hour (10 + 90) / 2 = 50 L/s (D.1.1.3 eq. 6: 180 m3 / 3600 s)
    expect(hour.stats['w00000']?.cou).toBeCloseTo(180, 9);
    expect(hour.stats['w00000']?.avg).toBeCloseTo(50, 10);
    // Avg × volume = Cou: 28 mg/L × 180 m3 × 1e-3 = 5.04 kg
    const s = hour.stats['w01018']!;
    expect((s.avg as number) * (hour.stats['w00000']!.cou as number) * 1e-3).toBeCloseTo(s.cou as number, 10);
  });

  it('goes out as 28.0 mg/L and 5.0400 kg on 2017 and on 2025', () => {
    for (const version of ['2017', '2025'] as const) {
      expect(wire(hour, cfg, version)['w01018']).toEqual({
        Min: '20.0',
        Avg: '28.0',
        Max: '100.0',
        Cou: '5.0400',
        Flag: 'N',
      });
      expect(wire(hour, cfg, version)['w00000']).toMatchObject({ Avg: '50.00', Cou: '180.0000', Flag: 'N' });
    }
  });

  it('a 10-minute record is weighted the same way, and the day is G_d / D_d over its hours', () => {
    const tenMinutes = records.filter((x) => x.cn === '2051');
    // minutes 0-9: 6 m3 (10 L/s × 600 s), 100 mg/L × 6 m3 × 1e-3 = 0.6 kg
    expect(tenMinutes[0]?.stats['w01018']?.avg).toBeCloseTo(100, 10);
    expect(tenMinutes[0]?.stats['w01018']?.cou).toBeCloseTo(0.6, 10);
    expect(tenMinutes[0]?.stats['w00000']?.cou).toBeCloseTo(6, 10);
    // a day of such hours: 24 × 5.04 = 120.96 kg over 24 × 180 = 4320 m3, still 28 mg/L
    const day = first(
      drive(cfg, 24 * 60, (m) =>
        m % 60 < 30 ? [r('w01018', 100), r('w00000', 10)] : [r('w01018', 20), r('w00000', 90)],
      ),
      '2031',
    );
    expect(day.stats['w01018']).toMatchObject({ flag: 'N', valid: 24 });
    expect(day.stats['w01018']?.avg).toBeCloseTo(28, 9);
    expect(day.stats['w01018']?.cou).toBeCloseTo(120.96, 9);
    expect(day.stats['w00000']?.cou).toBeCloseTo(4320, 7);
  });

  it('issue row 2: ten minutes of COD flagged D make the hour D, its Avg and Cou from the 50 valid minutes', () => {
    // 20 L/s and COD 50 mg/L all hour, minutes 20-29 flagged D reading 500 (a fault)
    const faulty = drive(cfg, 60, (m) => [
      r('w01018', m >= 20 && m < 30 ? 500 : 50, m >= 20 && m < 30 ? 'D' : 'N'),
      r('w00000', 20),
    ]);
    const h = first(faulty, '2061');
    expect(h.stats['w01018']).toMatchObject({ flag: 'D', valid: 50, min: 50, max: 50 });
    expect(h.stats['w01018']?.avg).toBeCloseTo(50, 10);
    // valid minutes: 20 L/s × 60 s × 50 = 60 m3; 50 mg/L × 60 m3 × 1e-3 = 3 kg (the faulty 10 minutes add nothing)
    expect(h.stats['w01018']?.cou).toBeCloseTo(3, 10);
    expect(h.stats['w01018']?.volume).toBeCloseTo(60, 10);
    // the flow was valid all hour: 20 L/s × 3600 s = 72 m3
    expect(h.stats['w00000']).toMatchObject({ flag: 'N' });
    expect(h.stats['w00000']?.cou).toBeCloseTo(72, 9);
    expect(wire(h, cfg, '2017')['w01018']).toEqual({ Min: '50.0', Avg: '50.0', Max: '50.0', Cou: '3.0000', Flag: 'D' });
    // the 10-minute record 00:20-00:30 has no valid minute: what the analyzer read, D, and no Cou
    const broken = faulty.filter((x) => x.cn === '2051')[2]!;
    expect(broken.stats['w01018']).toMatchObject({ flag: 'D', avg: 500, valid: 0 });
    expect(broken.stats['w01018']?.cou).toBeUndefined();
  });

  it('a flow not valid for half the hour: COD Cou of the valid half, its mean arithmetic (D.1.3)', () => {
    // COD 100 mg/L at 10 L/s for 30 minutes, then COD 20 mg/L while the flow meter is in fault (D)
    const h = first(
      drive(cfg, 60, (m) => (m < 30 ? [r('w01018', 100), r('w00000', 10)] : [r('w01018', 20), r('w00000', 90, 'D')])),
      '2061',
    );
    // no D for the second half: G / D cannot weigh it, so the mean is (30 × 100 + 30 × 20) / 60 = 60
    expect(h.stats['w01018']).toMatchObject({ flag: 'N', valid: 60, avg: 60 });
    // Cou of the first half only: 100 mg/L × 18 m3 × 1e-3 = 1.8 kg; the flow's hour is D with 18 m3
    expect(h.stats['w01018']?.cou).toBeCloseTo(1.8, 10);
    expect(h.stats['w00000']).toMatchObject({ flag: 'D', valid: 30 });
    expect(h.stats['w00000']?.cou).toBeCloseTo(18, 10);
  });

  it('metals: Cou in appendix B amount units (mercury in g), or the couUnit a platform asks for', () => {
    const metals = config('water', [
      { code: 'w20111' }, // total mercury, μg/L, Cou in g (appendix B)
      { code: 'w20116', couUnit: 'g' }, // total chromium, mg/L, appendix B says kg; this platform wants g
      { code: 'w00000' },
    ]);
    const h = first(
      drive(metals, 60, () => [r('w20111', 2), r('w20116', 0.5), r('w00000', 20)]),
      '2061',
    );
    // 20 L/s × 3600 s = 72 m3; mercury 2 μg/L × 72 m3 = 144 mg = 0.144 g
    expect(h.stats['w20111']?.cou).toBeCloseTo(0.144, 12);
    // chromium 0.5 mg/L × 72 m3 = 36 g
    expect(h.stats['w20116']?.cou).toBeCloseTo(36, 10);
    expect(wire(h, metals, '2017')['w20116']).toMatchObject({ Cou: '36.0000' });
  });

  it('refuses couUnit on a factor that has no emission amount, naming the field', () => {
    expect(() => config('water', [{ code: 'w01001', couUnit: 'g' }, { code: 'w00000' }])).toThrow(
      'devices[cod].factors[w01001].couUnit: ' +
        'w01001 has no emission amount (its unit is dimensionless); remove couUnit',
    );
  });
});

describe('flue gas: flags, amounts and converted values (D.2, HJ 75-2017)', () => {
  const cfg = config('gas', [
    { code: 'a21026', decimals: 1 },
    { code: 'a19001', decimals: 1 },
    { code: 'a00000', decimals: 1 },
    { code: 'a24088', decimals: 1, converted: false },
  ]);

  it('ten minutes of SO2 flagged D leave a gas hour N (50 ≥ 45 valid minutes), unlike water', () => {
    const h = first(
      drive(cfg, 60, (m) => [
        r('a21026', m >= 20 && m < 30 ? 400 : 50, m >= 20 && m < 30 ? 'D' : 'N'),
        r('a19001', 11),
        r('a00000', 36000),
      ]),
      '2061',
    );
    expect(h.stats['a21026']).toMatchObject({ flag: 'N', valid: 50, min: 50, max: 50, avg: 50 });
    // Zs = 50 × (21 − 6) / (21 − 11) = 75
    expect(h.stats['a21026']).toMatchObject({ zsMin: 75, zsAvg: 75, zsMax: 75 });
    // eq. 33: G = C × Q × 1e-6 = 50 mg/m3 × 36000 m3 × 1e-6 = 1.8 kg (36000 m3/h over one hour)
    expect(h.stats['a21026']?.cou).toBeCloseTo(1.8, 10);
    expect(h.stats['a00000']?.cou).toBeCloseTo(36000, 6);
  });

  it('a flue-gas 10-minute record is N with 8 valid minutes, D with 7 (75 %, note to C.16)', () => {
    // minutes 0-1 in calibration (record 00:00 has 8 valid), minutes 10-12 (record 00:10 has 7)
    const tens = drive(cfg, 20, (m) => [
      r('a21026', 50, m < 2 || (m >= 10 && m < 13) ? 'C' : 'N'),
      r('a19001', 11),
    ]).filter((x) => x.cn === '2051');
    expect(tens.map((x) => [x.stats['a21026']?.flag, x.stats['a21026']?.valid])).toEqual([
      ['N', 8],
      ['D', 7],
    ]);
  });

  it('44 valid minutes make a gas hour D (C.17: instrument fault); a stopped source makes it F', () => {
    const fault = first(
      drive(cfg, 60, (m) => [r('a21026', 50, m < 44 ? 'N' : 'M'), r('a19001', 11), r('a00000', 36000)]),
      '2061',
    );
    expect(fault.stats['a21026']).toMatchObject({ flag: 'D', valid: 44, avg: 50 });
    const stopped = first(
      drive(cfg, 60, (m) => [r('a21026', 0, m < 10 ? 'N' : 'F'), r('a19001', 20.9, m < 10 ? 'N' : 'F')]),
      '2061',
    );
    expect(stopped.stats['a21026']).toMatchObject({ flag: 'F', valid: 10 });
  });

  it('no Cou from a concentration or a flow without a valid minute', () => {
    // SO2 in calibration all hour (reading 400 of span gas): no amount, although the flow was valid
    const calibrating = first(
      drive(cfg, 60, () => [r('a21026', 400, 'C'), r('a19001', 11), r('a00000', 36000)]),
      '2061',
    );
    expect(calibrating.stats['a21026']).toMatchObject({ flag: 'D', avg: 400, valid: 0 });
    expect(calibrating.stats['a21026']?.cou).toBeUndefined();
    expect(calibrating.stats['a00000']?.cou).toBeCloseTo(36000, 6);
    // the flow meter in fault all hour: neither SO2 nor the flow has a Cou
    const noFlow = first(
      drive(cfg, 60, () => [r('a21026', 50), r('a19001', 11), r('a00000', 36000, 'D')]),
      '2061',
    );
    expect(noFlow.stats['a21026']).toMatchObject({ flag: 'N', avg: 50 });
    expect(noFlow.stats['a21026']?.cou).toBeUndefined();
    expect(noFlow.stats['a00000']?.cou).toBeUndefined();
  });

  // Issue row 3: SO2 5 mg/m3 all hour while O2 reads 20.8 % flagged C (calibration).
  const noO2 = drive(cfg, 60, () => [r('a21026', 5), r('a19001', 20.8, 'C'), r('a00000', 36000)]);

  it('issue row 3: no converted value from an invalid O2 — omitted on 2017, 9999.99 on 2025, never 375', () => {
    const h = first(noO2, '2061');
    // 5 × 15 / (21 − 20.8) = 375 would be the converted value of an invalid O2: not computed
    expect(h.stats['a21026']).toMatchObject({ flag: 'N', avg: 5, zsUnavailable: true });
    expect(h.stats['a21026']?.zsAvg).toBeUndefined();
    expect(h.stats['a19001']).toMatchObject({ flag: 'D' });
    expect(wire(h, cfg, '2017')['a21026']).toEqual({ Min: '5.0', Avg: '5.0', Max: '5.0', Cou: '0.1800', Flag: 'N' });
    expect(wire(h, cfg, '2025')['a21026']).toEqual({
      Min: '5.0',
      Avg: '5.0',
      Max: '5.0',
      ZsMin: '9999.99',
      ZsAvg: '9999.99',
      ZsMax: '9999.99',
      Cou: '0.1800',
      Flag: 'N',
    });
    // real-time data the same: no ZsRtd from an O2 flagged C
    const rt = first(noO2, '2011');
    expect(wire(rt, cfg, '2017')['a21026']).toEqual({ Rtd: '5.0', Flag: 'N' });
    expect(wire(rt, cfg, '2025')['a21026']).toEqual({ Rtd: '5.0', ZsRtd: '9999.99', Flag: 'N' });
  });

  it('an O2 valid for 40 minutes is not a valid O2 of the hour: no converted values from its valid minutes', () => {
    const h = first(
      drive(cfg, 60, (m) => [r('a21026', 50), r('a19001', 11, m < 40 ? 'N' : 'C'), r('a00000', 36000)]),
      '2061',
    );
    // 40 < 45 valid minutes: the O2 hour is D, so the SO2 hour has no Zs although 40 minutes would convert to 75
    expect(h.stats['a19001']).toMatchObject({ flag: 'D', valid: 40 });
    expect(h.stats['a21026']).toMatchObject({ flag: 'N', avg: 50, zsUnavailable: true });
    expect(h.stats['a21026']?.zsAvg).toBeUndefined();
  });

  it('issue row 4: Zs 100 for 30 min then 150: ZsMin 100, ZsMax 150, ZsAvg by eq. 28 on the hour means', () => {
    // SO2 50 mg/m3 all hour; O2 13.5 % then 16 %: Zs = 50 × 15 / 7.5 = 100, then 50 × 15 / 5 = 150
    const h = first(
      drive(cfg, 60, (m) => [r('a21026', 50), r('a19001', m < 30 ? 13.5 : 16), r('a00000', 36000)]),
      '2061',
    );
    const so2 = h.stats['a21026']!;
    expect(so2).toMatchObject({ flag: 'N', avg: 50, zsMin: 100, zsMax: 150 });
    // mean O2 = (13.5 + 16) / 2 = 14.75 %; ZsAvg = 50 × 15 / (21 − 14.75) = 750 / 6.25 = 120
    expect(so2.zsAvg).toBeCloseTo(120, 10);
    expect(h.stats['a19001']?.avg).toBeCloseTo(14.75, 10);
    expect(wire(h, cfg, '2017')['a21026']).toMatchObject({ ZsMin: '100.0', ZsAvg: '120.0', ZsMax: '150.0' });
  });

  it('a factor exempt from O2 conversion (NMHC) and O2 itself carry no Zs on either edition', () => {
    const h = first(
      drive(cfg, 60, () => [r('a21026', 50), r('a19001', 11), r('a24088', 30), r('a00000', 36000)]),
      '2061',
    );
    expect(h.stats['a24088']).toMatchObject({ flag: 'N', avg: 30 });
    expect(h.stats['a24088']?.zsAvg).toBeUndefined();
    expect(h.stats['a24088']?.zsUnavailable).toBeUndefined();
    for (const version of ['2017', '2025'] as const) {
      expect(Object.keys(wire(h, cfg, version)['a24088']!)).not.toContain('ZsAvg');
      expect(Object.keys(wire(h, cfg, version)['a19001']!)).not.toContain('ZsAvg');
    }
  });

  it('a gas day: mean of its valid hours (eq. 25, ≥ 20), Cou of those hours (eqs. 32, 34)', () => {
    // hours 0-19 SO2 40 valid; hours 20-23 in maintenance reading 400: 20 valid hours, N
    const records = drive(cfg, 24 * 60, (m) => [
      r('a21026', m < 20 * 60 ? 40 : 400, m < 20 * 60 ? 'N' : 'M'),
      r('a19001', 11),
      r('a00000', 36000),
    ]);
    const day = first(records, '2031');
    expect(day.stats['a21026']).toMatchObject({ flag: 'N', valid: 20, avg: 40 });
    // 20 hours × 40 mg/m3 × 36000 m3 × 1e-6 = 20 × 1.44 = 28.8 kg; Zs 40 × 15 / 10 = 60
    expect(day.stats['a21026']?.cou).toBeCloseTo(28.8, 9);
    expect(day.stats['a21026']).toMatchObject({ zsMin: 60, zsMax: 60 });
    expect(day.stats['a21026']?.zsAvg).toBeCloseTo(60, 10);
    // the flow was valid all day: 24 × 36000 m3
    expect(day.stats['a00000']?.cou).toBeCloseTo(864000, 4);
    // a 21st hour lost makes the day D
    const short = drive(cfg, 24 * 60, (m) => [r('a21026', 40, m < 19 * 60 ? 'N' : 'M'), r('a19001', 11)]);
    expect(first(short, '2031').stats['a21026']).toMatchObject({ flag: 'D', valid: 19 });
  });
});

describe('HJ 212-2025 rounding: half to even', () => {
  it('rounds the decimal value, ties to the even digit', () => {
    // 2.345 → 2.34 (4 even), 2.355 → 2.36 (6 even), 2.3451 → 2.35 (above half)
    expect(toFixedHalfEven(2.345, 2)).toBe('2.34');
    expect(toFixedHalfEven(2.355, 2)).toBe('2.36');
    expect(toFixedHalfEven(2.3451, 2)).toBe('2.35');
    expect(toFixedHalfEven(0.125, 2)).toBe('0.12');
    expect(toFixedHalfEven(0.135, 2)).toBe('0.14');
    expect(toFixedHalfEven(2.5, 0)).toBe('2');
    expect(toFixedHalfEven(3.5, 0)).toBe('4');
    expect(toFixedHalfEven(-2.5, 0)).toBe('-2');
    expect(toFixedHalfEven(-2.51, 0)).toBe('-3');
    // 1.005 is 1.00499999999999989... in binary; its decimal value is a tie: 1.00
    expect(toFixedHalfEven(1.005, 2)).toBe('1.00');
    expect(toFixedHalfEven(1.015, 2)).toBe('1.02');
    // arithmetic noise is not a digit: 0.1 + 0.2 and a mean of 2.5 computed as 2.4999999999999996
    expect(toFixedHalfEven(0.1 + 0.2, 1)).toBe('0.3');
    expect(toFixedHalfEven(2.4999999999999996, 0)).toBe('2');
    // small values around the last digit
    expect(toFixedHalfEven(0.005, 2)).toBe('0.00');
    expect(toFixedHalfEven(0.015, 2)).toBe('0.02');
    expect(toFixedHalfEven(0.0051, 2)).toBe('0.01');
    expect(toFixedHalfEven(0.004, 2)).toBe('0.00');
    expect(toFixedHalfEven(0.0004, 2)).toBe('0.00');
    expect(toFixedHalfEven(-0.001, 2)).toBe('0.00');
    expect(toFixedHalfEven(0, 3)).toBe('0.000');
    expect(toFixedHalfEven(12345.6789, 3)).toBe('12345.679');
    expect(toFixedHalfEven(99.95, 1)).toBe('100.0');
    expect(toFixedHalfEven(1e21, 0)).toBe('1000000000000000000000');
  });

  it('a tie k.5 (in units of the last decimal) goes to the even k, anything above or below to the nearest', () => {
    // value = (10 k + t) / 10^(d+1): t = 5 is a tie (→ k if k even, k + 1 if odd), t < 5 → k, t > 5 → k + 1
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 9 }),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 0, max: 4 }),
        (k, t, d) => {
          // the decimal text of (10 k + t) / 10^(d+1), e.g. k 12, t 5, d 1 → "1.25"
          const digits = String(10 * k + t).padStart(d + 2, '0');
          const value = Number(`${digits.slice(0, -(d + 1))}.${digits.slice(-(d + 1))}`);
          const up = t > 5 || (t === 5 && k % 2 === 1);
          const kept = String(k + (up ? 1 : 0)).padStart(d + 1, '0');
          const expected = d === 0 ? kept : `${kept.slice(0, -d)}.${kept.slice(-d)}`;
          expect(toFixedHalfEven(value, d)).toBe(expected);
        },
      ),
    );
  });

  it('2025 uplinks round half to even; 2017 keeps toFixed (half up on an exact tie)', () => {
    const cfg = config('water', [{ code: 'w01010', decimals: 1 }, { code: 'w00000' }]);
    // water temperature 28.0 ℃ for 30 minutes then 28.5 (arithmetic mean, D.1.3): (30 × 28 + 30 × 28.5) / 60 =
    // 28.25
    const h = first(
      drive(cfg, 60, (m) => [r('w01010', m < 30 ? 28 : 28.5), r('w00000', 20)]),
      '2061',
    );
    expect(h.stats['w01010']?.avg).toBe(28.25);
    expect(wire(h, cfg, '2025')['w01010']).toMatchObject({ Min: '28.0', Avg: '28.2', Max: '28.5' });
    expect(wire(h, cfg, '2017')['w01010']).toMatchObject({ Min: '28.0', Avg: '28.3', Max: '28.5' });
  });
});
