import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../cloud/index.js';
import { decodeFrame, parseHjTime, type Packet } from '../protocol/index.js';
import {
  isNoiseDay,
  leq,
  LoggerConfigSchema,
  noiseCp,
  standardCheckCp,
  startLoggers,
} from '../simulators/logger/index.js';
import { startTestCloud, testStations, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';
import { until } from './helpers/common.js';
import { READ, type Json } from './helpers/dashboard-api.js';
import { warpedClock } from './helpers/edge-agent.js';
import { frames, mqttFrames, wireTap } from './helpers/wire-tap.js';

/**
 * The logger simulator's HJ 212-2025 uploads into the cloud, over TCP and over MQTT (the cloud's embedded
 * broker), SM4-encrypted: the 1001 serial at connect, and 2013 raw data, 2052 noise, 2062 standard check and
 * 2111 furnace temperature on their schedules (docs/protocol-2025.md). A proxy in front of the cloud's port
 * (TCP or MQTT, whose PUBLISH payloads are the frames) keeps what went over the wire: every value the
 * cloud returns by kind is the value of a frame that was sent, and the frames carry what the config says.
 */
const KEY = '00112233445566778899AABBCCDDEEFF';
const SERIAL = 'LGR-2025.0001_A';
/** Simulated time starts a minute before 10:00 China time; at 600 × ten simulated minutes take a second. */
const START = Date.parse('2026-11-20T09:59:00+08:00');
const MIN = 60_000;

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const KIND: Record<string, string> = { '2013': 'raw', '2052': 'noise', '2062': 'check', '2111': 'furnace' };

describe.each(['tcp', 'mqtt'] as const)('logger simulator → cloud, HJ 212-2025 data uploads over %s', (via) => {
  it(
    '1001 serial shown on the station; 2013, 2052, 2062, 2111 ' + 'stored by kind with the values on the wire',
    async () => {
      const clock = warpedClock(600, START);
      const stations = (await testStations()).map((s) =>
        s.mn === WATER_MN ? { ...s, version: '2025' as const, sm4Key: KEY } : s,
      );
      const c = await startTestCloud(
        {
          http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'viewer', sha256: sha256(READ), role: 'read' }] },
          ...(via === 'mqtt' && { mqtt: { mode: 'embedded' as const, host: '127.0.0.1', port: 0 } }),
        },
        stations,
        { now: clock, clock: { wall: clock, mono: () => performance.now() } },
      );
      cleanups.push(() => c.stop());
      const get = async (path: string): Promise<Json> => {
        const res = await fetch(`http://127.0.0.1:${c.cloud.http!.address.port}${path}`, {
          headers: { authorization: `Bearer ${READ}` },
        });
        expect(res.status).toBe(200);
        return res.json();
      };
      const tap = await wireTap(via === 'tcp' ? c.cloud.tcp!.address.port : c.cloud.mqtt!.address!.port);
      cleanups.push(() => tap.close());
      const config = LoggerConfigSchema.parse({
        port: tap.port,
        ...(via === 'mqtt' && { mqtt: { url: `mqtt://127.0.0.1:${tap.port}`, secret: 'water-secret' } }),
        stations: [{ mn: WATER_MN, pw: WATER_PW, version: '2025', outlet: 'water', sm4Key: KEY, serial: SERIAL }],
        intervals: { rtd: 3600, minute: 60, hour: false, day: false },
        data2025: {
          raw: 600,
          noise: 10,
          furnace: true,
          standardCheck: { every: 15, standard: 50, biasPercent: 2, tolerancePercent: 10 },
        },
        tick: 20,
      });
      const fleet = await startLoggers(config, { clock: { now: clock }, log: pino({ level: 'silent' }) });
      cleanups.push(() => fleet.stop());

      const count = async (kind: string, factor: string): Promise<number> =>
        (await c.cloud.store.query({ mn: WATER_MN, kind: kind as 'raw', factor, from: 0, to: 8.64e15 })).length;
      await until(
        async () =>
          (await count('raw', 'w01018')) >= 2 &&
          (await count('noise', 'LA')) >= 2 &&
          (await count('check', 'w01018')) >= 2 &&
          (await count('furnace', 'a01901')) >= 2,
        'two records of each 2025 kind stored',
        30_000,
      );
      const summary = await fleet.stop();
      expect(summary.failed).toBe(0);
      expect(c.cloud.ingest.stats.rejected).toEqual({});

      // Over MQTT the frames are the PUBLISH payloads of each connection, in order.
      const sent = (side: 'up' | 'down'): string[] =>
        via === 'tcp' ? frames(tap[side]) : tap.conns.flatMap((conn) => mqttFrames(conn[side]));
      const wire = sent('up');
      const decoded: Packet[] = wire.map((f) => {
        const r = decodeFrame(f, { mode: 'strict', sm4Key: () => Buffer.from(KEY, 'hex') });
        if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
        return r.frame.packet;
      });

      // 1001 first on the link, in clear text (not a command HJ 212-2025 encrypts), without the A bit: not answered.
      expect(decoded[0]).toMatchObject({ cn: '1001', mn: WATER_MN, version: '2025' });
      expect(decoded[0]!.cp.params['SN']).toBe(SERIAL);
      expect(wire[0]).toContain(`SN=${SERIAL}`);
      expect(decoded[0]!.flag! & 1).toBe(0);
      const down = sent('down').map((f) => decodeFrame(f, { mode: 'lenient', sm4Key: () => Buffer.from(KEY, 'hex') }));
      expect(down.filter((r) => r.ok && r.frame.packet.qn === decoded[0]!.qn)).toEqual([]);
      const station = await get(`/stations/${WATER_MN}`);
      expect(station.serial).toEqual({ serial: SERIAL, reportedAt: expect.any(Number), since: expect.any(Number) });

      // The 2025 uploads: CP as SM4 cipher text (hex, no factor code), the A bit set, each answered 9014.
      const uploads = decoded.map((p, i) => ({ p, raw: wire[i]! })).filter(({ p }) => p.cn in KIND);
      for (const cn of Object.keys(KIND)) expect(uploads.filter((u) => u.p.cn === cn).length).toBeGreaterThanOrEqual(2);
      for (const { p, raw } of uploads) {
        expect(/CP=&&(.*)&&/.exec(raw)![1]).toMatch(/^([0-9A-F]{32})+$/);
        expect(p.flag! & 1).toBe(1);
      }
      const acked = new Set(down.flatMap((r) => (r.ok && r.frame.packet.cn === '9014' ? [r.frame.packet.qn] : [])));
      for (const { p } of uploads) expect(acked.has(p.qn)).toBe(true);

      // What each carries, from the config: DataTime on its period (local time), the fields of docs/protocol-2025.md.
      const at = (p: Packet): number => parseHjTime(p.cp.params['DataTime']!).getTime();
      const onPeriod = (t: number, minutes: number): boolean => (t + 8 * 60 * MIN) % (minutes * MIN) === 0;
      for (const { p } of uploads) {
        const t = at(p);
        if (p.cn === '2013') {
          expect(onPeriod(t, 10)).toBe(true);
          expect(Object.keys(p.cp.factors)).toEqual(['w01018', 'w21003', 'w00000', 'w01001']);
          for (const f of Object.values(p.cp.factors)) expect(Object.keys(f)).toEqual(['Rtd', 'Flag']);
        }
        if (p.cn === '2052') {
          // A 10-minute run starting on its boundary, all of it by day (10:00-22:00 China time): no NightData.
          expect(onPeriod(t, 10)).toBe(true);
          expect(Object.keys(p.cp.factors)).toEqual(['LA']);
          expect(Object.keys(p.cp.factors['LA']!)).toEqual(['Data', 'DayData', 'Flag']);
          expect(p.cp.factors['LA']!['Data']).toBe(p.cp.factors['LA']!['DayData']);
        }
        if (p.cn === '2062') {
          // A check every 15 minutes of COD (the outlet's first factor, one decimal): 50 × 1.02 = 51.0, within 10 %.
          expect(onPeriod(t, 15)).toBe(true);
          expect(p.cp.factors).toEqual({ w01018: { Check: '51.0', StandardValue: '50.0', Pass: '1', Flag: 'N' } });
        }
        if (p.cn === '2111') {
          expect(onPeriod(t, 5)).toBe(true);
          const f = p.cp.factors['a01901']!;
          expect(Object.keys(f)).toEqual(['Min', 'Avg', 'Max', 'Flag']);
          expect(Number(f['Min'])).toBeLessThanOrEqual(Number(f['Avg']));
          expect(Number(f['Avg'])).toBeLessThanOrEqual(Number(f['Max']));
        }
      }

      // Read back by kind through the API: exactly the records of the frames sent, with their values as numbers.
      for (const [cn, kind] of Object.entries(KIND)) {
        const expected = new Map<string, Json>();
        for (const { p } of uploads.filter((u) => u.p.cn === cn))
          for (const [factor, fields] of Object.entries(p.cp.factors)) {
            const values = Object.fromEntries(
              Object.entries(fields)
                .filter(([k]) => k !== 'Flag')
                .map(([k, v]) => [k, Number(v)]),
            );
            expected.set(`${factor}@${at(p)}`, {
              mn: WATER_MN,
              factor,
              kind,
              time: at(p),
              values,
              flag: fields['Flag'],
            });
          }
        const got = (await get(
          `/stations/${WATER_MN}/data?kind=${kind}&from=${START - 3_600_000}&to=${START + 86_400_000}`,
        )) as Json[];
        expect(got.length).toBe(expected.size);
        for (const g of got) expect(g).toMatchObject(expected.get(`${g.factor}@${g.time}`));
      }
      const list = (await get('/stations')) as Json[];
      expect(list.find((s) => s.mn === WATER_MN)).toMatchObject({ online: true, via, serial: { serial: SERIAL } });
    },
  );
});

describe('the logger simulator’s 2025 values, by hand', () => {
  it('Leq of sound levels, day and night by China time, a 2062 of a check outside its tolerance', () => {
    // Equal levels are their own Leq; 60 and 50 dB: 10·lg((10^6 + 10^5) / 2) = 57.40 dB.
    expect(leq([50, 50])).toBeCloseTo(50, 10);
    expect(leq([60, 50])).toBeCloseTo(57.404, 3);
    // 06:00 China time is 22:00 UTC of the day before.
    expect(isNoiseDay(Date.parse('2026-11-20T05:59:59+08:00'))).toBe(false);
    expect(isNoiseDay(Date.parse('2026-11-20T06:00:00+08:00'))).toBe(true);
    expect(isNoiseDay(Date.parse('2026-11-20T21:59:59+08:00'))).toBe(true);
    expect(isNoiseDay(Date.parse('2026-11-20T22:00:00+08:00'))).toBe(false);
    // A SO2 check (one decimal) at 80 reading 12 % high, tolerance 10 %: 89.6, failed.
    const t = Date.parse('2026-11-20T08:30:00+08:00');
    const config = { factor: 'a21026', standard: 80, biasPercent: 12, tolerancePercent: 10 };
    expect(standardCheckCp('gas', t, config)).toEqual({
      params: { DataTime: '20261120083000' },
      factors: { a21026: { Check: '89.6', StandardValue: '80.0', Pass: '0', Flag: 'N' } },
    });
  });

  it('a 2052 run across 22:00 China time has DayData and NightData; the strict config refuses an unknown key', () => {
    // Six samples of a 12-minute run from 21:54: 21:54, 21:56, 21:58 by day, 22:00, 22:02, 22:04 by night.
    const cp = noiseCp(1, WATER_MN, Date.parse('2026-11-20T21:54:00+08:00'), 12 * MIN);
    expect(cp.params).toEqual({ DataTime: '20261120215400' });
    expect(Object.keys(cp.factors['LA']!)).toEqual(['Data', 'DayData', 'NightData', 'Flag']);
    const [data, day, night] = ['Data', 'DayData', 'NightData'].map((k) => Number(cp.factors['LA']![k]));
    // The Leq of all six lies between the Leq of each half (equal halves by count).
    expect(data).toBeGreaterThanOrEqual(Math.min(day!, night!) - 0.05);
    expect(data).toBeLessThanOrEqual(Math.max(day!, night!) + 0.05);
    const bad = LoggerConfigSchema.safeParse({ port: 1, pw: 'a1', data2025: { noize: 10 } });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error!.issues)).toContain('noize');
  });
});
