import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import type { RunningAgent } from '../edge/index.js';
import { connect } from 'node:net';
import {
  StreamDecoder,
  decodeFrame,
  encodeFrame,
  exeRtnAnswer,
  makeFlag,
  qnRtnAnswer,
  type Packet,
} from '../protocol/index.js';
import { PlatformConfigSchema, PlatformServer, renderReport } from '../simulators/platform/index.js';
import type { ExchangeRecord } from '../simulators/platform/index.js';
import { MN, PW, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { SIM_START, memoryLogger, startWaterSim, until } from './helpers/edge-sim.js';
import { frames, wireTap } from './helpers/wire-tap.js';

/**
 * HJ 212-2025 1014 key change from the platform simulator to the edge agent (the analyzer simulator
 * behind it), over TCP through a proxy that keeps the wire: the platform's scripted 1014 goes under the
 * configured key, the box answers 9011/9012, every frame after its 9012 is under the new key, and the
 * platform's report says so; a 1014 with a malformed key is ExeRtn=3 and changes nothing.
 */
const K0 = '0123456789ABCDEF0123456789ABCDEF';
const K1 = 'A1B2C3D4E5F60718293A4B5C6D7E8F90';
const under = (f: string, k: string): boolean =>
  decodeFrame(f, { mode: 'strict', sm4Key: () => Buffer.from(k, 'hex') }).ok;
const cnOf = (f: string): string => /CN=(\d{4})/.exec(f)![1]!;
const qnOf = (f: string): string | undefined => /QN=(\d{17})/.exec(f)?.[1];

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('HJ 212-2025 1014, platform simulator → edge agent', () => {
  it('scripted 1014: 9011/9012 from the box, later frames under the new key, the report names the change', async () => {
    const clock = warpedClock(300, SIM_START - 10 * 60_000);
    const sim = await startWaterSim(clock, '2025-05-31T23:50:00+08:00');
    cleanups.push(() => sim.close());
    const platform = new PlatformServer(
      PlatformConfigSchema.parse({
        port: 0,
        stations: [{ mn: MN, pw: PW, version: '2025', st: '32', sm4Key: K0 }],
        requestTimeout: '20s',
        sequential: true,
        script: [
          // 31 hex digits: not a key (docs/protocol-2025.md): 9012 ExeRtn=3, the key stays.
          { after: '1s', mn: MN, cn: '1014', params: { NewKey: K1.slice(1) } },
          { after: '1s', mn: MN, cn: '1014', params: { NewKey: K1 } },
        ],
      }),
      { log: pino({ level: 'silent' }), now: clock },
    );
    const exchanges: ExchangeRecord[] = [];
    platform.on('exchange', (e) => exchanges.push(e));
    await platform.listen();
    let closed = false;
    const closePlatform = async () => {
      closed = true;
      return platform.close();
    };
    cleanups.push(async () => void (closed || (await closePlatform())));
    const tap = await wireTap(platform.port);
    cleanups.push(() => tap.close());

    const data = await tempDir();
    cleanups.push(data.remove);
    const base = waterOutlet(data.dir, sim.tcp!.port, tap.port, { clockTrusted: true });
    const edgeConfig = {
      ...base,
      uplinks: [{ ...base.uplinks[0]!, version: '2025', sm4Key: K0 } as (typeof base.uplinks)[number]],
    };
    let agent: RunningAgent | undefined = await startAgent(edgeConfig, {
      logger: memoryLogger().logger,
      clock,
      tickMs: 25,
    });
    cleanups.push(async () => void (await agent?.close()));
    await until(() => exchanges.length === 2, 'the two 1014 exchanges', 30_000);
    const keyChange = () => platform.conformance().stations.find((s) => s.mn === MN)!.checks['key-change'];
    await until(() => (keyChange()?.passed ?? 0) >= 1, 'an encrypted frame after the change', 30_000);
    await agent.close();
    agent = undefined;
    const report = await closePlatform();

    const [bad, good] = exchanges;
    expect([bad!.cn, bad!.answers, bad!.ok]).toEqual(['1014', ['9011 QnRtn=1', '9012 ExeRtn=3'], false]);
    expect([good!.cn, good!.answers, good!.ok]).toEqual(['1014', ['9011 QnRtn=1', '9012 ExeRtn=1'], true]);

    // On the wire: both 1014s went under K0 with the key asked for in their (encrypted) CP.
    const down = frames(tap.down);
    const requests = down.filter((f) => cnOf(f) === '1014');
    expect(requests.map(qnOf)).toEqual([bad!.qn, good!.qn]);
    for (const f of requests) {
      expect(f).not.toContain('NewKey');
      expect(under(f, K0)).toBe(true);
    }
    const sent = decodeFrame(requests[1]!, { mode: 'strict', sm4Key: () => Buffer.from(K0, 'hex') });
    expect(sent.ok && sent.frame.packet.cp.params['NewKey']).toBe(K1);

    // Up: every encrypted frame before the good 9012 is under K0, every one after it under K1 and not K0.
    const up = frames(tap.up);
    const switched = up.findIndex((f) => cnOf(f) === '9012' && qnOf(f) === good!.qn);
    expect(switched).toBeGreaterThan(0);
    const encrypted = (fs: string[]) => fs.filter((f) => /^(2\d{3}|3020|1014)$/.test(cnOf(f)));
    const before = encrypted(up.slice(0, switched));
    const after = encrypted(up.slice(switched + 1));
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    for (const f of before) expect([under(f, K0), under(f, K1)]).toEqual([true, false]);
    for (const f of after) expect([under(f, K1), under(f, K0)]).toEqual([true, false]);

    // The report: the refused and the good 1014, a passing key-change check, nothing rejected.
    const station = report.stations.find((s) => s.mn === MN)!;
    expect(station.frames.rejected).toBe(0);
    expect(station.checks['key-change']).toMatchObject({ passed: 1, failed: 0 });
    expect(station.checks['request-1014']).toMatchObject({ passed: 1, failed: 1 });
    const text = renderReport(report);
    expect(text).toContain(`ok request 1014 QN=${good!.qn}`);
    expect(text).toContain('9011 QnRtn=1 → 9012 ExeRtn=1');
    expect(text).toMatch(/ok key-change +1 passed +0 failed/);
    expect(renderReport(report, { lang: 'zh' })).toContain('密钥更新 1014');
  });
});

describe('HJ 212-2025 1014, the platform simulator’s key-change check', () => {
  it('fails a logger that answers 9012 ExeRtn=1 and goes on under the old key, naming the frame', async () => {
    const platform = new PlatformServer(
      PlatformConfigSchema.parse({
        port: 0,
        stations: [{ mn: MN, pw: PW, version: '2025', st: '32', sm4Key: K0 }],
        script: [{ after: 0, mn: MN, cn: '1014', params: { NewKey: K1 } }],
      }),
      { log: pino({ level: 'silent' }) },
    );
    await platform.listen();
    cleanups.push(() => platform.close());
    const socket = connect({ host: '127.0.0.1', port: platform.port });
    cleanups.push(async () => void socket.destroy());
    const received: Packet[] = [];
    const decoder = new StreamDecoder({ mode: 'strict', sm4Key: () => Buffer.from(K0, 'hex') });
    socket.on('data', (b) => {
      for (const r of decoder.push(b)) if (r.ok) received.push(r.frame.packet);
    });
    let seq = 0;
    const upload = (key: string): string =>
      encodeFrame(
        {
          version: '2025',
          qn: `20250601000000${String(++seq).padStart(3, '0')}`,
          st: '32',
          cn: '2011',
          pw: PW,
          mn: MN,
          flag: makeFlag('2025', { ack: true }),
          cp: { params: { DataTime: '20250601000000' }, factors: { w01018: { Rtd: '48.5', Flag: 'N' } } },
        },
        { sm4Key: () => Buffer.from(key, 'hex') },
      );
    socket.write(upload(K0));
    await until(() => received.some((p) => p.cn === '1014'), 'the 1014');
    const request = received.find((p) => p.cn === '1014')!;
    expect(request.cp.params['NewKey']).toBe(K1);
    socket.write(encodeFrame(qnRtnAnswer(request, 1)) + encodeFrame(exeRtnAnswer(request, 1)));
    await until(() => platform.conformance().stations[0]!.checks['request-1014']?.passed === 1, 'the exchange over');
    const stale = upload(K0);
    socket.write(stale);
    const check = () => platform.conformance().stations[0]!.checks['key-change'];
    await until(() => check()?.failed === 1, 'the key-change check failed');
    expect(check()!.reasons).toEqual([
      `CN 2011 still under the replaced key after the 9012 ExeRtn=1 of 1014 QN=${request.qn}`,
    ]);
    const text = renderReport(platform.conformance());
    expect(text).toContain(`- QN=${qnOf(stale)} CN=2011`);
    expect(text).toMatch(/x key-change +0 passed +1 failed/);
  });
});
