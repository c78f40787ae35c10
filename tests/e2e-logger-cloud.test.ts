import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFrame, type Packet } from '../protocol/index.js';
import { LoggerConfigSchema, startLoggers } from '../simulators/logger/index.js';
import { testHash, testStations, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';
import { until } from './helpers/common.js';
import { apiCloud, READ, type Json } from './helpers/dashboard-api.js';
import { warpedClock } from './helpers/edge-agent.js';
import { frames, wireTap } from './helpers/wire-tap.js';

/**
 * The logger simulator against the cloud over TCP, for an HJ 212-2017 station and an HJ 212-2025 one
 * with SM4: the logger's 1013 at connect is answered 9013 then 1012 (C.4, C.3), the 2025 heartbeat
 * 9015 is answered 9013, the cloud's 1014 changes the key, and the uploads are stored; all read back
 * through the cloud's HTTP API and a tap on the wire.
 */

const SM4_MN = '0100000000A89000000000C3';
const SM4_KEY = '0123456789ABCDEF0123456789ABCDEF';
const SM4_PW = 'k2025k';
/** Simulated time starts a minute before 10:00 China time; at 1200 × an hour takes 3 s. */
const START = Date.parse('2026-11-20T09:59:00+08:00');

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.each(['2017', '2025'] as const)('logger simulator ↔ cloud (HJ 212-%s)', (version) => {
  it(
    '1013 → 9013 + 1012 answered 9011/9012; uploads stored; 2025: SM4 on ' +
      'the wire, 9015 → 9013 and a 1014 key change',
    async () => {
      const mn = version === '2025' ? SM4_MN : WATER_MN;
      const pw = version === '2025' ? SM4_PW : WATER_PW;
      // One warped clock for both, so the cloud's 1012 moves the logger by less than a second.
      const clock = warpedClock(1200, START);
      const [water, gas] = await testStations();
      const { c, call } = await apiCloud({}, { now: clock, clock: { wall: clock, mono: () => performance.now() } }, [
        water!,
        gas!,
        { ...water!, mn: SM4_MN, version: '2025', sm4Key: SM4_KEY, passwordHash: await testHash(SM4_PW) },
      ]);
      cleanups.push(() => c.stop());
      const tap = await wireTap(c.cloud.tcp!.address.port);
      cleanups.push(() => tap.close());
      const config = LoggerConfigSchema.parse({
        port: tap.port,
        stations: [{ mn, pw, version, outlet: 'water', ...(version === '2025' && { sm4Key: SM4_KEY }) }],
        // Real-time data every simulated hour (3 s real) leaves the link idle in between: the heartbeat's room.
        intervals: { rtd: 3600, minute: 60, hour: true, day: false },
        heartbeat: 1,
        tick: 20,
      });
      const fleet = await startLoggers(config, { clock: { now: clock }, log: pino({ level: 'silent' }) });
      cleanups.push(() => fleet.stop());

      // Frames decoded under whichever key they went under: the configured one, then any the cloud issued.
      const keys = [SM4_KEY];
      const decoded = (chunks: string[]): Packet[] =>
        frames(chunks).flatMap((f) => {
          for (const k of keys) {
            const r = decodeFrame(f, { mode: 'strict', sm4Key: () => Buffer.from(k, 'hex') });
            if (r.ok) return [r.frame.packet];
          }
          return [];
        });
      const range = { mn, kind: 'hour' as const, factor: 'w01018', from: START - 3_600_000, to: START + 86_400_000 };
      // Waited on in the store (the API is rate-limited against polling); read through the API at the end.
      const storedHours = async (): Promise<number> => (await c.cloud.store.query(range)).length;
      await until(async () => (await storedHours()) >= 2, 'two hours stored', 20_000);
      if (version === '2025')
        await until(
          () =>
            decoded(tap.down).some(
              (p) => p.cn === '9013' && decoded(tap.up).some((u) => u.cn === '9015' && u.qn === p.qn),
            ),
          'a heartbeat answered',
          20_000,
        );
      if (version === '2025') {
        // The cloud issues a new key (1014, docs/protocol-2025.md): answered 9011/9012, and every frame after
        // the 9012 is under the new key, which the cloud takes; the hours go on being stored.
        const before = await storedHours();
        expect(c.cloud.changeKey(mn)).toBe(true);
        await until(() => decoded(tap.down).some((p) => p.cn === '1014'), 'the 1014');
        const change = decoded(tap.down).find((p) => p.cn === '1014')!;
        const newKey = change.cp.params['NewKey']!;
        expect(newKey).toMatch(/^[0-9A-F]{32}$/);
        await until(() => decoded(tap.up).some((p) => p.cn === '9012' && p.qn === change.qn), 'the 1014 answered');
        expect(
          decoded(tap.up)
            .filter((p) => p.qn === change.qn)
            .map((p) => [p.cn, p.cp.params]),
        ).toEqual([
          ['9011', { QnRtn: '1' }],
          ['9012', { ExeRtn: '1' }],
        ]);
        await until(async () => (await storedHours()) >= before + 2, 'hours stored under the new key', 20_000);
        const sent = frames(tap.up);
        const after = sent.slice(sent.findIndex((f) => f.includes(`QN=${change.qn}`) && f.includes('CN=9012')) + 1);
        const uploads = after.filter((f) => /CN=2\d{3}/.test(f));
        expect(uploads.length).toBeGreaterThan(0);
        const under = (f: string, k: string) =>
          decodeFrame(f, { mode: 'strict', sm4Key: () => Buffer.from(k, 'hex') }).ok;
        for (const f of uploads) expect([under(f, newKey), under(f, SM4_KEY)]).toEqual([true, false]);
        keys.push(newKey);
      }
      const summary = await fleet.stop();

      const up = decoded(tap.up);
      const down = decoded(tap.down);
      // C.4: the 1013 first, answered 9013 with its QN, then the centre's 1012 with SystemTime (C.3),
      // which the logger answers 9011 QnRtn=1 and 9012 ExeRtn=1 with the 1012's QN.
      const calibration = up.find((p) => p.cn === '1013')!;
      expect(calibration).toBeDefined();
      const setTime = down.find((p) => p.cn === '1012')!;
      expect(down.filter((p) => p.qn === calibration.qn).map((p) => p.cn)).toEqual(['9013']);
      expect(setTime.cp.params['SystemTime']).toMatch(/^20261120(09|10)\d{4}$/);
      expect(up.filter((p) => p.qn === setTime.qn).map((p) => [p.cn, p.cp.params])).toEqual([
        ['9011', { QnRtn: '1' }],
        ['9012', { ExeRtn: '1' }],
      ]);
      // The 1012, and for 2025 the 1014.
      expect(summary.requests).toBe(version === '2025' ? 2 : 1);
      expect(summary.failed).toBe(0);
      expect(summary.refused).toEqual({});
      expect(c.cloud.ingest.stats.rejected).toEqual({});

      if (version === '2025') {
        // Every upload's CP went as SM4 cipher text (hex, no factor code on the wire); every heartbeat got 9013.
        const uploads = frames(tap.up).filter((f) => /CN=2\d{3}/.test(f));
        expect(uploads.length).toBeGreaterThan(0);
        for (const f of uploads) expect(/CP=&&(.*)&&/.exec(f)![1]).toMatch(/^([0-9A-F]{32})+$/);
        const beats = up.filter((p) => p.cn === '9015');
        expect(beats.length).toBeGreaterThan(0);
        const answered = new Set(down.filter((p) => p.cn === '9013').map((p) => p.qn));
        // The last may have been in flight when the logger stopped.
        expect(beats.slice(0, -1).filter((b) => !answered.has(b.qn))).toEqual([]);
        expect(beats.some((b) => answered.has(b.qn))).toBe(true);
      } else {
        expect(up.some((p) => p.cn === '9015')).toBe(false);
      }

      // Through the API: the hours (10:00 and on, China time) with their COD, and the station seen over TCP.
      const stored = (
        await call('GET', `/stations/${mn}/data?kind=hour&factor=w01018&from=${range.from}&to=${range.to}`, {
          token: READ,
        })
      ).body as Json[];
      expect(stored.length).toBe(await storedHours());
      expect(stored.length).toBeGreaterThanOrEqual(2);
      for (const h of stored)
        expect(h).toMatchObject({ mn, factor: 'w01018', kind: 'hour', values: { Avg: expect.any(Number) } });
      const stations = (await call('GET', '/stations', { token: READ })).body as Json[];
      expect(stations.find((s) => s.mn === mn)).toMatchObject({ online: true, via: 'tcp' });
    },
  );
});
