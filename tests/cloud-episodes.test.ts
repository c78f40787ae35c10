import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256, type Alarm, type StationInput } from '../cloud/index.js';
import { LoggerConfigSchema, startLoggers, type LoggerFleet } from '../simulators/logger/index.js';
import {
  GAS_MN,
  GAS_PW,
  startTestCloud,
  testHash,
  WATER_MN,
  WATER_PW,
  type TestCloud,
} from './helpers/cloud-fixtures.js';

/**
 * The logger simulator's uploads, on a hand-driven clock, into the cloud over TCP: three days of a
 * water and a gas outlet of one enterprise, with scripted episodes. Every expected value below is
 * worked out by hand from the script (docs/statistics.md, "Cloud: exceedance, warnings, missing hours
 * and rates").
 *
 * Day 1 (2026-11-20): monitoring from 02:00; both analyzers stopped (F) 08:00-11:00; NH3-N fault (D)
 *   20:00-21:00; COD held at 120 mg/L 14:00-16:00 (limit 100: 超标 on the hours, 预警 on real-time and minute
 * data). Day 2 (2026-11-21): the water outlet's registered shutdown 00:00-06:00; SO2 held at 80 mg/m3 with O2 at
 *   11 % 10:00-11:00 (converted to 6 %: 80 x 15 / 10 = 120 over the limit 100, though 80 is under it).
 * Day 3 (2026-11-22, in progress until 15:00): COD calibration (C) 06:00-07:00; a real-time COD spike of 150
 *   at 09:15; the link down at 11:00 (hour 10:00 never sent, back-filled on the cloud's 2061 request); COD
 *   at 90 13:00-14:00 (above the 预警 threshold 80 % x 100, under the limit).
 */

const H = 3_600_000;
const at = (local: string): number => Date.parse(`${local}:00+08:00`);
const iso = (local: string): string => `${local}:00+08:00`;
const READ = 'episodes-read-token-0123456789';
const START = '2026-11-20T02:00';

const stations = async (): Promise<StationInput[]> => [
  {
    mn: WATER_MN,
    enterprise: '示例化工有限公司',
    outlet: 'WS-01',
    type: 'water',
    passwordHash: await testHash(WATER_PW),
    monitoredSince: iso(START),
    // What the simulator sends naturally stays far inside: COD <= 49, NH3-N <= 3.3, pH 6.9-7.7.
    factors: { w01018: { upper: 100, warnAt: 0.8 }, w21003: { upper: 8 }, w01001: { lower: 6, upper: 9 }, w00000: {} },
    shutdowns: [{ from: iso('2026-11-21T00:00'), to: iso('2026-11-21T06:00'), reason: '停产检修' }],
  },
  {
    mn: GAS_MN,
    enterprise: '示例化工有限公司',
    outlet: 'DA-01',
    type: 'gas',
    passwordHash: await testHash(GAS_PW),
    monitoredSince: iso(START),
    o2Ref: 6,
    // Natural converted values stay inside: SO2 <= 39, NOx <= 95, particulate <= 10.
    factors: { a21026: { upper: 100 }, a21002: { upper: 200 }, a34013: { upper: 20 }, a19001: {}, a00000: {} },
  },
];

const script = [
  { from: iso('2026-11-20T08:00'), to: iso('2026-11-20T11:00'), flag: 'F' as const },
  { from: iso('2026-11-20T20:00'), to: iso('2026-11-20T21:00'), factors: ['w21003'], flag: 'D' as const },
  { from: iso('2026-11-20T14:00'), to: iso('2026-11-20T16:00'), factors: ['w01018'], value: 120 },
  { from: iso('2026-11-21T10:00'), to: iso('2026-11-21T11:00'), factors: ['a21026'], value: 80 },
  { from: iso('2026-11-21T10:00'), to: iso('2026-11-21T11:00'), factors: ['a19001'], value: 11 },
  { from: iso('2026-11-22T06:00'), to: iso('2026-11-22T07:00'), factors: ['w01018'], flag: 'C' as const },
  { from: '2026-11-22T09:15:00+08:00', to: '2026-11-22T09:15:01+08:00', factors: ['w01018'], value: 150 },
  { from: iso('2026-11-22T13:00'), to: iso('2026-11-22T14:00'), factors: ['w01018'], value: 90 },
];

let c: TestCloud;
let base: string;
const clock = { now: at(START) };
const fleets: LoggerFleet[] = [];

async function until(what: string, ok: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + 20_000;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Moves the clock an hour at a time to `local`, each time until both loggers' uploads are answered. */
async function runTo(local: string): Promise<void> {
  for (let next = clock.now + H; next <= at(local); next += H) {
    const before = fleets.map((f) => f.summary.sent);
    clock.now = next;
    await until(`uploads of ${new Date(next).toISOString()}`, () =>
      fleets.every((f, i) => f.summary.sent > before[i]! && f.summary.acknowledged === f.summary.sent),
    );
  }
}

async function get<T>(path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${READ}` } });
  expect(res.status, path).toBe(200);
  return (await res.json()) as T;
}

interface RatesBody {
  outletRates: Record<string, number>;
  factors: { factor: string; expected: number; received: number; valid: number; stopped: number }[];
}
const counts = (r: Record<string, number>): number[] => [r['expected']!, r['received']!, r['valid']!];

let beforeBackfill: RatesBody;
let missingOpened: Alarm[];

beforeAll(async () => {
  c = await startTestCloud(
    {
      http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'viewer', sha256: sha256(READ), role: 'read' }] },
      rules: { graceMinutes: 20, lookbackHours: 24 },
    },
    await stations(),
    { now: () => clock.now },
  );
  base = `http://127.0.0.1:${c.cloud.http!.address.port}`;
  for (const [mn, pw, outlet] of [
    [WATER_MN, WATER_PW, 'water'],
    [GAS_MN, GAS_PW, 'gas'],
  ] as const) {
    const config = LoggerConfigSchema.parse({
      port: c.cloud.tcp!.address.port,
      stations: [{ mn, pw, outlet }],
      // Real-time every 15 min, minute data every 20 min: a real-time instant (hh:15, hh:45) is never one
      // of the samples a minute (every 3 min 20 s) or hour record (every 10 min) is made of.
      intervals: { rtd: 900, minute: 20, hour: true, day: false },
      tick: 5,
      // The scripted clock jumps: a 1012 set at one instant and applied at another would shift the logger.
      timeCalibration: false,
      script,
      outages: [{ from: '2026-11-22T11:00:00+08:00', to: '2026-11-22T11:00:01+08:00' }],
    });
    fleets.push(await startLoggers(config, { clock: { now: () => clock.now }, log: pino({ level: 'silent' }) }));
  }
  await runTo('2026-11-22T12:00');
  beforeBackfill = await get<RatesBody>(`/stations/${WATER_MN}/rates?day=2026-11-22`);
  // 12:00: hour 10:00 ended at 11:00, its grace at 11:20: missing. The cloud asks both loggers for it.
  await c.cloud.rules.checkMissing(clock.now);
  missingOpened = c.cloud.alarms.list({ type: 'missing-hour' });
  await until('the back-fill', () => c.cloud.alarms.list({ type: 'missing-hour', state: 'open' }).length === 0);
  await runTo('2026-11-22T15:00');
}, 120_000);

afterAll(async () => {
  for (const f of fleets) await f.stop();
  await c?.stop();
});

const episode = (a: Alarm) => [a.type, a.mn === WATER_MN ? 'water' : 'gas', a.factor, a.kind, a.openedAt, a.closedAt];

describe('exceedance (超标) and warning (预警) episodes from the simulator', () => {
  it('opens 超标 on hour averages only, 预警 on real-time and minute values, each with its own times', () => {
    const alarms = c.cloud.alarms.list({}).filter((a) => a.type === 'exceedance' || a.type === 'warning');
    expect(alarms.map(episode)).toEqual([
      // COD 120 over [14:00, 16:00) of day 1: hours 14 and 15, the real-time values 14:00-15:45, the
      // minute records 14:00-15:40; each closes with the first value under it, data time 16:00.
      // Listed in the order they opened: the real-time value at 14:00 came at 14:00, the minute and hour records at
      // 15:00.
      ['warning', 'water', 'w01018', 'rtd', at('2026-11-20T14:00'), at('2026-11-20T16:00')],
      ['warning', 'water', 'w01018', 'minute', at('2026-11-20T14:00'), at('2026-11-20T16:00')],
      ['exceedance', 'water', 'w01018', 'hour', at('2026-11-20T14:00'), at('2026-11-20T16:00')],
      // SO2 80 at O2 11 % on day 2, judged converted: 120.
      ['warning', 'gas', 'a21026', 'rtd', at('2026-11-21T10:00'), at('2026-11-21T11:00')],
      ['warning', 'gas', 'a21026', 'minute', at('2026-11-21T10:00'), at('2026-11-21T11:00')],
      ['exceedance', 'gas', 'a21026', 'hour', at('2026-11-21T10:00'), at('2026-11-21T11:00')],
      // The spike: one real-time value, closed by the next one at 09:30.
      ['warning', 'water', 'w01018', 'rtd', at('2026-11-22T09:15'), at('2026-11-22T09:30')],
      // COD 90 (above 80 % of 100): the hour is a 预警, not 超标; so are its real-time and minute values.
      ['warning', 'water', 'w01018', 'rtd', at('2026-11-22T13:00'), at('2026-11-22T14:00')],
      ['warning', 'water', 'w01018', 'minute', at('2026-11-22T13:00'), at('2026-11-22T14:00')],
      ['warning', 'water', 'w01018', 'hour', at('2026-11-22T13:00'), at('2026-11-22T14:00')],
    ]);
    const value = (type: string, mn: string, kind: string, from: string) =>
      alarms.find((a) => a.type === type && a.mn === mn && a.kind === kind && a.openedAt === at(from))!;
    // (120 - 100) / 100 = 0.2 on the hour and on the warnings of the same values.
    expect(value('exceedance', WATER_MN, 'hour', '2026-11-20T14:00')).toMatchObject({
      value: 120,
      limit: 100,
      multiple: 0.2,
      peak: 0.2,
    });
    expect(value('warning', WATER_MN, 'rtd', '2026-11-20T14:00')).toMatchObject({ value: 120, multiple: 0.2 });
    // Gas: the value and the multiple are both of the converted value, 80 x (21 - 6) / (21 - 11) = 120.
    const so2 = value('exceedance', GAS_MN, 'hour', '2026-11-21T10:00');
    expect(so2).toMatchObject({ value: 120, limit: 100 });
    expect(so2.multiple).toBeCloseTo(0.2, 12);
    // The spike: (150 - 100) / 100 = 0.5.
    expect(value('warning', WATER_MN, 'rtd', '2026-11-22T09:15')).toMatchObject({ value: 150, multiple: 0.5 });
    // The band: (90 - 100) / 100 = -0.1, above the threshold 0.8 x 100 = 80.
    expect(value('warning', WATER_MN, 'hour', '2026-11-22T13:00')).toMatchObject({
      value: 90,
      limit: 100,
      multiple: -0.1,
      detail: 'above the 预警 threshold 80 (80 % of 100)',
    });
  });

  it('shows the same judgement on the data API as on the alarm', async () => {
    const [hour] = await get<{ judged: Record<string, unknown> }[]>(
      `/stations/${GAS_MN}/data?factor=a21026&kind=hour&from=${at('2026-11-21T10:00')}&to=${at('2026-11-21T11:00')}`,
    );
    expect(hour!.judged).toMatchObject({ value: 120, state: 'exceedance', limit: 100 });
    // F-flagged hours are never judged.
    const [stopped] = await get<{ flag: string; judged?: unknown }[]>(
      `/stations/${WATER_MN}/data?factor=w01018&kind=hour&from=${at('2026-11-20T08:00')}&to=${at('2026-11-20T09:00')}`,
    );
    expect(stopped).toMatchObject({ flag: 'F' });
    expect(stopped!.judged).toBeUndefined();
  });
});

describe('a missing hour back-filled after a 2061 request', () => {
  it('closes its alarms by back-fill and keeps the hour marked 补传 with its arrival', async () => {
    // Hour 10:00 of day 3, every factor of both outlets (4 + 5), opened at the check at 12:00.
    expect(missingOpened.map((a) => [a.mn, a.openedAt])).toEqual([
      ...Array(4).fill([WATER_MN, at('2026-11-22T10:00')]),
      ...Array(5).fill([GAS_MN, at('2026-11-22T10:00')]),
    ]);
    const closed = c.cloud.alarms.list({ type: 'missing-hour' });
    // The loggers answered at once, on the clock standing at 12:00.
    expect(closed.map((a) => [a.closedAt, a.closedBy])).toEqual(Array(9).fill([at('2026-11-22T12:00'), 'backfill']));
    const data = await get<{ time: number; backfilled?: { arrivedAt: number; closedAlarm: boolean } }[]>(
      `/stations/${WATER_MN}/data?factor=w01018&kind=hour&from=${at('2026-11-22T09:00')}&to=${at('2026-11-22T12:00')}`,
    );
    expect(data.map((p) => [p.time, p.backfilled])).toEqual([
      [at('2026-11-22T09:00'), undefined],
      [at('2026-11-22T10:00'), { arrivedAt: at('2026-11-22T12:00'), closedAlarm: true }],
      [at('2026-11-22T11:00'), undefined],
    ]);
  });
});

describe('rates', () => {
  it('a day with F hours: the stopped hours are not expected', async () => {
    const r = await get<RatesBody>(`/stations/${WATER_MN}/rates?day=2026-11-20`);
    // Assessed: COD, NH3-N, pH (flow has no limit). Hours 02-23 (22), less F hours 08, 09, 10: 19 each.
    // All 19 received; NH3-N at 20:00 is D: valid 19 + 18 + 19 = 56 of 57.
    expect(r.factors.map((f) => [f.factor, f.expected, f.received, f.valid, f.stopped])).toEqual([
      ['w01018', 19, 19, 19, 3],
      ['w21003', 19, 19, 18, 3],
      ['w01001', 19, 19, 19, 3],
    ]);
    expect(counts(r.outletRates)).toEqual([57, 57, 56]);
    expect(r.outletRates).toMatchObject({ transmissionRate: 1, validityRate: 56 / 57, effectivenessRate: 56 / 57 });
    expect(r.outletRates).toMatchObject({ hoursExceeding: 2, hoursMissing: 0, hoursBackfilled: 0 });
  });

  it('a day with a shutdown window: its hours are not expected', async () => {
    const water = await get<RatesBody>(`/stations/${WATER_MN}/rates?day=2026-11-21`);
    // 24 hours less the shutdown 00:00-06:00 = 18 per factor, x 3.
    expect(counts(water.outletRates)).toEqual([54, 54, 54]);
    // The gas outlet had no shutdown: 24 x 3.
    const gas = await get<RatesBody>(`/stations/${GAS_MN}/rates?day=2026-11-21`);
    expect(counts(gas.outletRates)).toEqual([72, 72, 72]);
    expect(gas.outletRates).toMatchObject({ hoursExceeding: 1 });
  });

  it('a day in progress: hours up to now, the back-filled hour counted once it came', async () => {
    // At 12:00, before the back-fill: hours 00-11 (12) x 3 = 36; hour 10 missing: 33 received; COD at
    // 06:00 in calibration (C): 32 valid.
    expect(counts(beforeBackfill.outletRates)).toEqual([36, 33, 32]);
    expect(beforeBackfill.outletRates).toMatchObject({ transmissionRate: 33 / 36, hoursMissing: 1 });
    // At 15:00: hours 00-14 (15) x 3 = 45, all received; 44 valid.
    const r = await get<RatesBody>(`/stations/${WATER_MN}/rates?day=2026-11-22`);
    expect(counts(r.outletRates)).toEqual([45, 45, 44]);
    expect(r.outletRates).toMatchObject({ transmissionRate: 1, validityRate: 44 / 45, hoursBackfilled: 1 });
  });

  it('per enterprise and per month: the outlets and days pooled', async () => {
    const day = await get<{ enterprises: Record<string, number>[] }>('/rates?day=2026-11-20');
    // Water 57/57/56, gas (same F hours, no D) 57/57/57.
    expect(day.enterprises.map((e) => [e['enterprise'], e['outlets'], ...counts(e)])).toEqual([
      ['示例化工有限公司', 2, 114, 114, 113],
    ]);
    const month = await get<{ outlets: Record<string, number>[]; enterprises: Record<string, number>[] }>(
      '/report?month=2026-11',
    );
    // Water: 57 + 54 + 45 = 156 expected and received, 56 + 54 + 44 = 154 valid; gas 57 + 72 + 45 = 174, all valid.
    expect(month.outlets.map(counts)).toEqual([
      [156, 156, 154],
      [174, 174, 174],
    ]);
    expect(counts(month.enterprises[0]!)).toEqual([330, 330, 328]);
    expect(month.enterprises[0]!['validityRate']).toBe(328 / 330);
  });
});
