import { createServer } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startAgent } from '../edge/index.js';
import type { EdgeConfig } from '../edge/index.js';
import { CloudConfigSchema } from '../cloud/config.js';
import { startCloud, type Cloud } from '../cloud/service.js';
import type { Clock } from '../cloud/clock.js';
import {
  StreamDecoder,
  dataAnswer,
  decodeFrame,
  encodeFrame,
  makeFlag,
  makeQn,
  type Packet,
} from '../protocol/index.js';
import { encryptCp } from '../protocol/sm4.js';
import { WATER_MN, WATER_PW, captureLog, rawClient, testStations } from './helpers/cloud-fixtures.js';
import { tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { sleep } from './helpers/common.js';
import { frames, wireTap } from './helpers/wire-tap.js';
import { SIM_START, memoryLogger, startSim, startWaterSim, until } from './helpers/edge-sim.js';

/**
 * HJ 212-2025 key change (1014) and heartbeat (9015) between the edge agent (analyzer simulator
 * behind it) and the cloud, over real loopback sockets; what goes over the wire is read from a proxy.
 */
const K0 = '0123456789ABCDEFFEDCBA9876543210';
const key = (hex: string) => Buffer.from(hex, 'hex');

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const cpOf = (frame: string): string => /CP=&&(.*)&&/.exec(frame)![1]!;
const cnOf = (frame: string): string => /CN=(\d{4})/.exec(frame)![1]!;

/** A cloud over `dir` (kept across restarts), with a wall clock `offset()` ms ahead of the system's. */
async function cloudAt(dir: string, offset: () => number): Promise<{ cloud: Cloud; lines: Record<string, unknown>[] }> {
  const registry = join(dir, 'stations.yaml');
  const stations = (await testStations()).map((s) =>
    s.mn === WATER_MN ? { ...s, version: '2025' as const, sm4Key: K0 } : s,
  );
  await writeFile(registry, stringify({ stations }));
  const config = CloudConfigSchema.parse({
    registry,
    state: join(dir, 'state.db'),
    store: { type: 'sqlite', path: join(dir, 'store.db') },
    tcp: { host: '127.0.0.1', port: 0 },
    rules: { checkEverySeconds: 3600 },
    keyGraceSeconds: 600,
  });
  const clock: Clock = { wall: () => Date.now() + offset(), mono: () => performance.now() };
  const { log, lines } = captureLog();
  return { cloud: await startCloud(config, log, { clock }), lines };
}

describe('HJ 212-2025 key change (1014), edge agent ↔ cloud over TCP with SM4', () => {
  it(
    'switches both sides to the issued key, keeps the old one for the grace ' +
      'period only, and keeps the new one across restarts',
    async () => {
      let offset = 0;
      const cloudDir = await mkdtemp(join(tmpdir(), 'hj212-key-'));
      cleanups.push(() => rm(cloudDir, { recursive: true, force: true }));
      let c = await cloudAt(cloudDir, () => offset);
      cleanups.push(() => c.cloud.stop());
      const clock = warpedClock(300, SIM_START - 10 * 60_000);
      const sim = await startWaterSim(clock, '2025-05-31T23:50:00+08:00');
      cleanups.push(() => sim.close());
      let tap = await wireTap(c.cloud.tcp!.address.port);
      cleanups.push(() => tap.close());
      const data = await tempDir();
      cleanups.push(data.remove);
      const edgeConfig = (proxyPort: number): EdgeConfig => {
        const base = waterOutlet(data.dir, sim.tcp!.port, proxyPort);
        return {
          ...base,
          station: { ...base.station, mn: WATER_MN },
          uplinks: [
            { ...base.uplinks[0]!, pw: WATER_PW, version: '2025', sm4Key: K0 } as EdgeConfig['uplinks'][number],
          ],
        };
      };
      let agent = await startAgent(edgeConfig(tap.port), { logger: memoryLogger().logger, clock, tickMs: 25 });
      const stopAgent = () => agent.close();
      cleanups.push(() => stopAgent());
      const rtd = () => c.cloud.store.query({ mn: WATER_MN, kind: 'rtd', factor: 'w01018', from: 0, to: 8.64e15 });
      await until(async () => (await rtd()).length >= 2, 'real-time data under the configured key', 20_000);

      // Before the change: 2011 goes out as hex cipher text under K0, with no factor code in sight.
      const before = frames(tap.up).filter((f) => cnOf(f) === '2011');
      expect(before.length).toBeGreaterThan(0);
      for (const f of before) {
        expect(cpOf(f)).toMatch(/^([0-9A-F]{32})+$/);
        expect(f).not.toContain('w01018');
        expect(decodeFrame(f, { mode: 'strict', sm4Key: () => key(K0) }).ok).toBe(true);
      }

      expect(c.cloud.changeKey(WATER_MN)).toBe(true);
      await until(
        () => c.lines.some((l) => l['msg'] === 'SM4 key changed (1014)'),
        'the 9012 confirming the key',
        10_000,
      );
      // The centre's 1014 went under the old key; its NewKey is the key from now on.
      const request = frames(tap.down).find((f) => cnOf(f) === '1014')!;
      expect(cpOf(request)).not.toContain('NewKey');
      const decoded = decodeFrame(request, { mode: 'strict', sm4Key: () => key(K0) });
      if (!decoded.ok) throw new Error(decoded.error.message);
      const k1 = decoded.frame.packet.cp.params['NewKey']!;
      expect(k1).toMatch(/^[0-9A-F]{32}$/);
      expect(k1).not.toBe(K0);
      // The box answered 9011 QnRtn=1 and 9012 ExeRtn=1 with the request's QN.
      const answers = frames(tap.up)
        .map((f) => decodeFrame(f, { mode: 'lenient', sm4Key: () => key(K0) }))
        .flatMap((r) => (r.ok && r.frame.packet.qn === decoded.frame.packet.qn ? [r.frame.packet] : []));
      expect(answers.map((p) => [p.cn, p.cp.params['QnRtn'] ?? p.cp.params['ExeRtn']])).toEqual([
        ['9011', '1'],
        ['9012', '1'],
      ]);

      // After the 9012, uploads go under the new key only and are stored.
      const mark = frames(tap.up).length;
      const storedBefore = (await rtd()).length;
      await until(async () => (await rtd()).length >= storedBefore + 2, 'uploads under the new key stored', 20_000);
      const after = frames(tap.up)
        .slice(mark)
        .filter((f) => cnOf(f) === '2011');
      expect(after.length).toBeGreaterThan(0);
      for (const f of after) {
        expect(f).not.toContain('w01018');
        const ok = decodeFrame(f, { mode: 'strict', sm4Key: () => key(k1) });
        if (!ok.ok) throw new Error(ok.error.message);
        expect(decodeFrame(f, { mode: 'strict', sm4Key: () => key(K0) })).toMatchObject({ ok: false });
        // The same CP under the old key would be other cipher text.
        const plain = ok.frame.packet;
        expect(plain.cp.factors['w01018']).toBeDefined();
        expect(cpOf(f)).not.toBe(encryptCp(cpOf(encodeFrame(plain)), key(K0)));
      }
      expect(c.cloud.ingest.stats.rejected).toEqual({});

      // An upload under the old key within the grace period (600 s) is stored and answered...
      const raw = await rawClient(c.cloud.tcp!.address.port);
      cleanups.push(async () => raw.close());
      const oldKeyUpload = (dataTime: string): string => {
        const p: Packet = {
          version: '2025',
          qn: makeQn(new Date(Date.parse('2025-06-01T00:00:00+08:00'))),
          st: '32',
          cn: '2011',
          pw: WATER_PW,
          mn: WATER_MN,
          flag: makeFlag('2025', { ack: true }),
          cp: { params: { DataTime: dataTime }, factors: { w01018: { Rtd: '77.7', Flag: 'N' } } },
        };
        return encodeFrame(p, { sm4Key: () => key(K0) });
      };
      offset = 599_000;
      raw.socket.write(oldKeyUpload('20250531120000'));
      const [answer] = await raw.received(1);
      expect(answer).toMatchObject(dataAnswer({ version: '2025', mn: WATER_MN, pw: WATER_PW, qn: answer!.qn }));
      const at = Date.parse('2025-05-31T12:00:00+08:00');
      expect(
        (await c.cloud.store.query({ mn: WATER_MN, kind: 'rtd', factor: 'w01018', from: at, to: at + 1 })).map(
          (p) => p.values['Rtd'],
        ),
      ).toEqual([77.7]);
      // ...and after it refused (decrypt-failed), unanswered and not stored.
      offset = 601_000;
      raw.socket.write(oldKeyUpload('20250531120100'));
      await until(() => c.cloud.ingest.stats.rejected['decrypt-failed'] === 1, 'the old key refused', 10_000);
      expect(raw.packets).toHaveLength(1);
      expect(await c.cloud.store.query({ mn: WATER_MN, kind: 'rtd', from: at + 60_000, to: at + 60_001 })).toEqual([]);
      raw.close();

      // Both sides restart: the new key is still the one in use (state database, edge settings).
      await agent.close();
      await c.cloud.stop();
      await tap.close();
      c = await cloudAt(cloudDir, () => offset);
      tap = await wireTap(c.cloud.tcp!.address.port);
      agent = await startAgent(edgeConfig(tap.port), { logger: memoryLogger().logger, clock, tickMs: 25 });
      const storedBeforeRestart = (await rtd()).length;
      await until(
        async () => (await rtd()).length >= storedBeforeRestart + 2,
        'uploads after the restart stored',
        20_000,
      );
      const restarted = frames(tap.up).filter((f) => cnOf(f) === '2011');
      expect(restarted.length).toBeGreaterThan(0);
      for (const f of restarted) {
        expect(decodeFrame(f, { mode: 'strict', sm4Key: () => key(k1) }).ok).toBe(true);
        expect(decodeFrame(f, { mode: 'strict', sm4Key: () => key(K0) }).ok).toBe(false);
      }
      expect(c.cloud.ingest.stats.rejected).toEqual({});
    },
    90_000,
  );
});

describe('HJ 212-2025 key rotation asked by the box (1014 from the edge)', () => {
  it(
    'asks once the key is keyRotationDays old; the centre answers with ' + 'a 1014 carrying the key, and uploads go on',
    async () => {
      const cloudDir = await mkdtemp(join(tmpdir(), 'hj212-key-'));
      cleanups.push(() => rm(cloudDir, { recursive: true, force: true }));
      const c = await cloudAt(cloudDir, () => 0);
      cleanups.push(() => c.cloud.stop());
      const clock = warpedClock(300, SIM_START - 10 * 60_000);
      const sim = await startWaterSim(clock, '2025-05-31T23:50:00+08:00');
      cleanups.push(() => sim.close());
      const tap = await wireTap(c.cloud.tcp!.address.port);
      cleanups.push(() => tap.close());
      const data = await tempDir();
      cleanups.push(data.remove);
      const base = waterOutlet(data.dir, sim.tcp!.port, tap.port);
      // 0.01 day is 864 s of the agent clock, about 2.9 s at this warp.
      const uplink = { ...base.uplinks[0]!, pw: WATER_PW, version: '2025', sm4Key: K0, keyRotationDays: 0.01 };
      const agent = await startAgent(
        { ...base, station: { ...base.station, mn: WATER_MN }, uplinks: [uplink as EdgeConfig['uplinks'][number]] },
        { logger: memoryLogger().logger, clock, tickMs: 25 },
      );
      cleanups.push(() => agent.close());
      await until(() => c.lines.some((l) => l['msg'] === 'SM4 key changed (1014)'), 'the box-asked key change', 20_000);
      const asked = frames(tap.up).find((f) => cnOf(f) === '1014')!;
      const issued = frames(tap.down).find((f) => cnOf(f) === '1014')!;
      const askedQn = /QN=(\d+)/.exec(asked)![1]!;
      // The centre's 1014 answers the box's with its QN and the new key, under the old key.
      const r = decodeFrame(issued, { mode: 'strict', sm4Key: () => key(K0) });
      if (!r.ok) throw new Error(r.error.message);
      expect(r.frame.packet.qn).toBe(askedQn);
      const k1 = r.frame.packet.cp.params['NewKey']!;
      expect(c.lines.find((l) => l['msg'] === 'new SM4 key issued (1014)')).toMatchObject({ reason: 'logger-asked' });
      const mark = frames(tap.up).length;
      const rtd = () => c.cloud.store.query({ mn: WATER_MN, kind: 'rtd', factor: 'w01018', from: 0, to: 8.64e15 });
      const stored = (await rtd()).length;
      await until(async () => (await rtd()).length >= stored + 2, 'uploads under the new key stored', 20_000);
      const after = frames(tap.up)
        .slice(mark)
        .filter((f) => cnOf(f) === '2011');
      expect(after.length).toBeGreaterThan(0);
      for (const f of after) expect(decodeFrame(f, { mode: 'strict', sm4Key: () => key(k1) }).ok).toBe(true);
      expect(c.cloud.ingest.stats.rejected).toEqual({});
    },
    60_000,
  );
});

/** A platform on loopback that answers uploads 9014 and keeps every packet, decoded with `sm4Key`. */
async function recordingPlatform(sm4Key: string) {
  const packets: Packet[] = [];
  const server = createServer((s) => {
    const decoder = new StreamDecoder({ mode: 'lenient', sm4Key: () => key(sm4Key) });
    s.on('data', (b: Buffer) => {
      for (const r of decoder.push(b)) {
        if (!r.ok) continue;
        const p = r.frame.packet;
        packets.push(p);
        if ((p.cn.startsWith('2') || p.cn === '3020') && ((p.flag ?? 0) & 1) === 1) s.write(encodeFrame(dataAnswer(p)));
      }
    }).on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    packets,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('HJ 212-2025 heartbeat (9015)', () => {
  it('an idle 2025 uplink sends 9015 every heartbeatSeconds of the agent clock; a 2017 uplink never does', async () => {
    // The agent's clock only moves when the test moves it.
    let t = SIM_START + 30_000;
    const clock = () => t;
    const platform = await recordingPlatform(K0);
    cleanups.push(() => platform.close());
    const sim = await startSim({ tcp: { port: 0 }, devices: [{ unit: 1, profile: 'cod' }] }, clock);
    cleanups.push(() => sim.close());
    const data = await tempDir();
    cleanups.push(data.remove);
    const base = waterOutlet(data.dir, sim.tcp!.port, platform.port);
    const quiet = { realtime: false, runState: false };
    const agent = await startAgent(
      {
        ...base,
        clockTrusted: true,
        // No analyzer parameters (3020 uploads): after the boot time (2081) the links are idle.
        devices: base.devices.map(({ parameters: _p, ...d }) => ({ ...d, parameters: [] })),
        uplinks: [
          { ...base.uplinks[0]!, ...quiet, id: 'p2025', version: '2025', sm4Key: K0, heartbeatSeconds: 10 },
          { ...base.uplinks[0]!, ...quiet, id: 'p2017', version: '2017', heartbeatSeconds: 10 },
        ] as EdgeConfig['uplinks'],
      },
      { logger: memoryLogger().logger, clock, tickMs: 25 },
    );
    cleanups.push(() => agent.close());
    await until(
      () => Object.values(agent.health().uplinks).every((u) => u.state === 'connected'),
      'both uplinks connected',
    );
    await until(
      () => Object.values(agent.health().uplinks).every((u) => u.outbox.records === 0 && u.inFlight === 0),
      'the boot-time uploads (2081) confirmed',
    );
    const t0 = t;
    const beats = () => platform.packets.filter((p) => p.cn === '9015');
    // Half the interval: ticks run, nothing is due.
    t = t0 + 5_000;
    await sleep(300);
    t = t0 + 10_000;
    await until(() => beats().length === 1, 'the first heartbeat');
    t = t0 + 15_000;
    await sleep(300);
    t = t0 + 20_000;
    await until(() => beats().length === 2, 'the second heartbeat');
    // Each went out when the interval was full, not at the half-way tick; QN is the sending time (China time).
    expect(beats().map((p) => p.qn)).toEqual(['20250601000040000', '20250601000050000']);
    expect(beats().every((p) => p.version === '2025' && p.mn === base.station.mn)).toBe(true);
    expect(platform.packets.filter((p) => p.version === '2017' && p.cn === '9015')).toEqual([]);
  }, 30_000);
});
