import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import { MAX_UNREAD_BYTES } from '../edge/uplink-tcp.js';
import { PARAMETER_WRITES, REFUSAL_LOGS_PER_MINUTE } from '../edge/link.js';
import type { RunningAgent } from '../edge/index.js';
import { StreamDecoder, encodeFrame, formatHjTime, request } from '../protocol/index.js';
import type { Packet } from '../protocol/index.js';
import { MN, PW, startPlatform, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { SIM_START, memoryLogger, startWaterSim, until } from './helpers/edge-sim.js';
import { rawPlatform, requestBytes } from './helpers/fuzz-edge.js';
import { reframe } from './helpers/fuzz-traffic.js';

/**
 * The agent end to end: the analyzer simulator over Modbus TCP in, the platform simulator over
 * HJ 212 TCP out, on a clock 1200 times real time (an hour in 3 s).
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function setup(warp = 1200) {
  const clock = warpedClock(warp);
  const sim = await startWaterSim(clock);
  cleanups.push(() => sim.close());
  const platform = await startPlatform(0, clock);
  cleanups.push(async () => void (await platform.server.close()));
  const data = await tempDir();
  cleanups.push(data.remove);
  const { logger, lines } = memoryLogger();
  return { clock, sim, platform, data, logger, lines };
}

async function agentOn(
  config: Parameters<typeof startAgent>[0],
  logger: Parameters<typeof startAgent>[1]['logger'],
  clock: () => number,
): Promise<RunningAgent> {
  const agent = await startAgent(config, { logger, clock, tickMs: 25 });
  cleanups.push(() => agent.close());
  return agent;
}

describe('HJ 212 TCP uplink to the platform simulator', () => {
  it(
    'a platform refusing the PW (9011 QnRtn=3) is said at error ' + 'level with the fix, and not resent in a loop',
    async () => {
      const { clock, sim, platform, data, logger, lines } = await setup();
      const refused: { cn: string; qnRtn: number; at: number }[] = [];
      platform.server.on('refused', (r: { cn: string; qnRtn: number }) => refused.push({ ...r, at: Date.now() }));
      const config = waterOutlet(data.dir, sim.tcp!.port, platform.port);
      // A PW the platform did not register; after a refusal the uplink holds its sends reconnectMaxSeconds (2 s).
      config.uplinks = config.uplinks.map((u) => ({ ...u, pw: 'zz9999', reconnectMaxSeconds: 2 }));
      const agent = await agentOn(config, logger, clock);
      await until(() => lines.some((l) => l['reason'] === 'platform-refused-pw'), 'the refusal logged', 15_000);
      const first = lines.find((l) => l['reason'] === 'platform-refused-pw')!;
      expect(first).toMatchObject({
        level: 50,
        mn: MN,
        uplink: 'province',
        qnRtn: 3,
        holdSeconds: 2,
        msg: `the platform refused PW for MN ${MN}: set this uplink's pw to the one the platform registered`,
      });
      expect(agent.health().uplinks['province']!.lastError).toBe(first['msg']);
      const uploads = () => refused.filter((r) => r.cn !== '1013');
      const firstAt = uploads()[0]!.at;
      // The next upload comes only after the hold. Without it, the 1 s answer timeout would send the
      // records in flight again after 1 s; a loaded machine only makes the gap longer, never shorter.
      await until(() => uploads().some((r) => r.at > firstAt + 500), 'the next upload after the hold', 15_000);
      const next = uploads().find((r) => r.at > firstAt + 500)!;
      expect(next.at - firstAt).toBeGreaterThanOrEqual(1990);
      expect(uploads().every((r) => r.qnRtn === 3)).toBe(true);
      // Nothing left the outbox: every refused record is still there to be sent once the PW is fixed.
      expect(agent.health().uplinks['province']!.outbox.records).toBeGreaterThan(0);
    },
  );

  it('delivers real-time, minute and hour data that pass the platform checks, each confirmed by 9014', async () => {
    const { clock, sim, platform, data, logger } = await setup();
    const agent = await agentOn(waterOutlet(data.dir, sim.tcp!.port, platform.port), logger, clock);
    await until(() => platform.uploads.filter((u) => u.cn === '2061').length >= 1, 'the first hour record', 15_000);
    const station = platform.server.conformance().stations.find((s) => s.mn === MN)!;
    const failed = Object.entries(station.checks).filter(([, t]) => t.failed > 0);
    expect(failed).toEqual([]);
    expect(station.uploads['2051']).toBeGreaterThanOrEqual(6);
    // 60 real-time records an hour, less the snapshots a late tick skips on a busy machine
    expect(station.uploads['2011']).toBeGreaterThanOrEqual(40);
    // the COD analyzer's parameters went up once (3020): they did not change afterwards
    expect(station.uploads['3020']).toBe(1);
    await until(() => agent.health().uplinks['province']!.outbox.records <= 4, 'the outbox to drain');
    expect(agent.health().uplinks['province']).toMatchObject({ kind: 'hj212-tcp', state: 'connected' });
    expect(agent.health().devices['cod']).toMatchObject({
      failures: 0,
      lastReadings: [{ code: 'w01018', value: 48.5, flag: 'N' }],
    });
  });

  it('speaks HJ 212-2025 with the CP SM4-encrypted under the uplink key, and the platform reads it', async () => {
    const key = '00112233445566778899AABBCCDDEEFF';
    const { clock, sim, data, logger } = await setup();
    const platform = await startPlatform(0, clock, { version: '2025', sm4Key: key });
    cleanups.push(async () => void (await platform.server.close()));
    const config = waterOutlet(data.dir, sim.tcp!.port, platform.port);
    await agentOn({ ...config, uplinks: [{ ...config.uplinks[0]!, version: '2025', sm4Key: key }] }, logger, clock);
    await until(() => platform.uploads.filter((u) => u.cn === '2051').length >= 2, 'two minute records', 15_000);
    const station = platform.server.conformance().stations.find((s) => s.mn === MN)!;
    expect(Object.entries(station.checks).filter(([, t]) => t.failed > 0)).toEqual([]);
    expect(station.versions).toEqual(['2025']);
  });

  it('asks for a time calibration (1013) when its clock is not trusted, and takes the 1012 that follows', async () => {
    const { clock, sim, platform, data, logger, lines } = await setup();
    const agent = await agentOn(waterOutlet(data.dir, sim.tcp!.port, platform.port), logger, clock);
    await until(() => platform.exchanges.some((e) => e.cn === '1012'), 'the platform to set the time', 15_000);
    expect(agent.health().clock).toMatchObject({ trusted: false, offsetMs: expect.any(Number) });
    expect(platform.exchanges.find((e) => e.cn === '1012')).toMatchObject({
      ok: true,
      answers: ['9011 QnRtn=1', '9012 ExeRtn=1'],
    });
    expect(lines.some((l) => l['msg'] === 'asked the platform for a time calibration (1013)')).toBe(true);
  });

  it('does not ask when the box clock follows a time source', async () => {
    const { clock, sim, platform, data, logger, lines } = await setup();
    const agent = await agentOn(
      waterOutlet(data.dir, sim.tcp!.port, platform.port, { clockTrusted: true }),
      logger,
      clock,
    );
    await until(() => platform.uploads.some((u) => u.cn === '2051'), 'a minute record', 15_000);
    expect(agent.health().clock).toEqual({ trusted: true, offsetMs: 0 });
    expect(platform.exchanges.filter((e) => e.cn === '1012')).toEqual([]);
    expect(lines.some((l) => l['msg'] === 'asked the platform for a time calibration (1013)')).toBe(false);
  });

  it(
    'writes analyzer parameters a platform sets (3021) over Modbus, ' +
      'answers 9011/9012, and reports them back (3020)',
    async () => {
      const { clock, sim, platform, data, logger, lines } = await setup();
      await agentOn(waterOutlet(data.dir, sim.tcp!.port, platform.port), logger, clock);
      await until(() => platform.uploads.some((u) => u.cn === '3020'), 'the first 3020 upload', 15_000);
      const set = (value: string) =>
        platform.server.issue({
          mn: MN,
          cn: '3021',
          params: { PolId: 'w01018', InfoId: 'i13001', 'i13001-Info': value },
        });
      const accepted = set('800');
      await until(() => accepted.done, 'the 3021 exchange', 10_000);
      expect(accepted).toMatchObject({ ok: true, answers: ['9011 QnRtn=1', '9012 ExeRtn=1'] });
      // The analyzer (unit 1, range upper limit at register 12) now holds it, and the box says so with a 3020.
      expect(sim.devices.get(1)!.snapshot().parameters.get('rangeUpper')).toBe(800);
      await until(
        () => platform.uploads.filter((u) => u.cn === '3020').length >= 2,
        'the 3020 with the new value',
        10_000,
      );
      // The analyzer refuses a negative range (Modbus exception 03): the platform hears ExeRtn 3, and nothing changed.
      const refused = set('-5');
      await until(() => refused.done, 'the refused 3021 exchange', 10_000);
      expect(refused.answers).toEqual(['9011 QnRtn=1', '9012 ExeRtn=3']);
      expect(sim.devices.get(1)!.snapshot().parameters.get('rangeUpper')).toBe(800);
      expect(lines.some((l) => l['msg'] === 'analyzer parameters not written (3021)')).toBe(true);
    },
  );

  it(
    'holds 2 parameter writes (3021) at once per uplink and answers the ' +
      'rest ExeRtn 5 (busy) so polling keeps the bus',
    async () => {
      const { clock, sim, data, logger, lines } = await setup();
      const platform = await rawPlatform();
      cleanups.push(platform.close);
      await agentOn(waterOutlet(data.dir, sim.tcp!.port, platform.port), logger, clock);
      await until(platform.connected, 'the edge to connect');
      const qns = [1, 2, 3, 4, 5].map((i) => `2025060100000010${i}`);
      const frames = qns.map((qn) =>
        requestBytes({ qn, st: '32', cn: '3021', pw: PW, mn: MN, flag: '5' }, 'PolId=w01018;i13001-Info=700'),
      );
      // One write: all five are handled before the first write to the analyzer is done.
      await platform.write(Buffer.concat(frames));
      const result = (qn: string) =>
        platform.received.find((r) => r.packet.qn === qn && r.packet.cn === '9012')?.packet.cp.params['ExeRtn'];
      await until(() => qns.every((qn) => result(qn) !== undefined), 'five 9012 answers');
      expect(PARAMETER_WRITES).toBe(2);
      expect(qns.map(result)).toEqual(['1', '1', '5', '5', '5']);
      expect(sim.devices.get(1)!.snapshot().parameters.get('rangeUpper')).toBe(700);
      expect(lines.filter((l) => l['reason'] === 'parameters-busy')).toHaveLength(3);
    },
  );

  it('refuses an SM4 key on a 2017 uplink, naming the field', () => {
    expect(() =>
      waterOutlet('/tmp/x', 1, 2, {
        uplinks: [
          {
            id: 'p',
            kind: 'hj212-tcp',
            host: '127.0.0.1',
            port: 2,
            pw: PW,
            sm4Key: '00112233445566778899AABBCCDDEEFF',
          },
        ],
      }),
    ).toThrow(/uplinks\[p\]\.sm4Key: SM4 encryption is part of HJ 212-2025/);
  });

  it('answers platform commands with 9011/9012/9013 in the order of appendix C', async () => {
    const { clock, sim, platform, data, logger } = await setup();
    await agentOn(waterOutlet(data.dir, sim.tcp!.port, platform.port), logger, clock);
    await until(() => platform.uploads.some((u) => u.cn === '2061'), 'an hour of history', 15_000);
    const ask = async (cn: string, params: Record<string, string> = {}) => {
      const before = platform.exchanges.length;
      platform.server.issue({ mn: MN, cn, params });
      await until(() => platform.exchanges.length > before, `the answer to ${cn}`);
      return platform.exchanges.at(-1)!;
    };
    for (const cn of ['1011', '1061', '1063'])
      expect(await ask(cn), cn).toMatchObject({ ok: true, qnRtn: 1, exeRtn: 1, dataPackets: 1 });
    expect(await ask('1062', { RtdInterval: '120' })).toMatchObject({
      ok: true,
      answers: ['9011 QnRtn=1', '9012 ExeRtn=1'],
    });
    expect(await ask('1062', { RtdInterval: '10' })).toMatchObject({ exeRtn: 3 });
    expect(await ask('1064', { MinInterval: '5' })).toMatchObject({ ok: true, exeRtn: 1 });
    expect(await ask('3020', { PolId: 'w01018', InfoId: 'i13001' })).toMatchObject({
      ok: true,
      answers: ['9011 QnRtn=1', '3020', '9012 ExeRtn=1'],
    });
    const hour = formatHjTime(new Date(SIM_START));
    expect(await ask('2061', { BeginTime: hour, EndTime: hour })).toMatchObject({
      ok: true,
      answers: ['9011 QnRtn=1', '2061', '9012 ExeRtn=1'],
    });
    expect(await ask('2061', { BeginTime: '20200101000000', EndTime: '20200101010000' })).toMatchObject({
      ok: true,
      exeRtn: 100,
      dataPackets: 0,
    });
    expect(await ask('2012')).toMatchObject({ ok: true, answers: ['9013'] });
    expect(await ask('3011', { PolId: 'w01018' })).toMatchObject({ qnRtn: 2 });
    expect(await ask('1999')).toMatchObject({ qnRtn: 8 });
    const failed = Object.entries(platform.server.conformance().stations.find((s) => s.mn === MN)!.checks).filter(
      ([name, t]) => t.failed > 0 && !['request-1062', 'request-3011', 'request-1999'].includes(name),
    );
    expect(failed).toEqual([]);
  });

  it(
    'answers a request whose Flag is no Flag of the standard 9011 QnRtn=6, and ' +
      'logs 20 refusals of a reason a minute while counting all',
    async () => {
      const { clock, sim, data, logger, lines } = await setup();
      const got: Packet[] = [];
      const peers: Socket[] = [];
      const Q = '20250601000000456';
      const server = createServer((socket) => {
        peers.push(socket);
        const decoder = new StreamDecoder();
        socket.on('data', (chunk: Buffer) => {
          for (const r of decoder.push(chunk)) if (r.ok) got.push(r.frame.packet);
        });
        // Flag 255 carries version bits 111111, which no edition uses
        socket.write(reframe(Buffer.from(`QN=${Q};ST=32;CN=1011;PW=${PW};MN=${MN};Flag=255;CP=&&&&`)));
        // 100 answers with a bad CRC: a damaged 9014 is not answered, only counted
        const answer = encodeFrame({
          version: '2017',
          qn: Q,
          st: '91',
          cn: '9014',
          mn: MN,
          pw: PW,
          flag: 4,
          cp: { params: {}, factors: {} },
        });
        const badCrc = `${answer.slice(0, -6)}${answer.slice(-6, -2) === '0000' ? 'FFFF' : '0000'}\r\n`;
        socket.write(badCrc.repeat(100));
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      cleanups.push(async () => {
        for (const p of peers) p.destroy();
        await new Promise((resolve) => server.close(resolve));
      });
      const agent = await agentOn(
        waterOutlet(data.dir, sim.tcp!.port, (server.address() as AddressInfo).port),
        logger,
        clock,
      );
      await until(() => got.some((p) => p.cn === '9011' && p.qn === Q), 'the answer to the bad Flag');
      const answer = got.find((p) => p.cn === '9011' && p.qn === Q)!;
      expect([answer.mn, answer.pw, answer.cp.params]).toEqual([MN, undefined, { QnRtn: '6' }]);
      await until(() => (agent.health().uplinks['province']!.refused['bad-crc'] ?? 0) >= 100, '100 bad CRCs counted');
      expect(agent.health().uplinks['province']!.refused).toEqual({ 'unknown-version': 1, 'bad-crc': 100 });
      expect(
        lines.filter((l) => l['reason'] === 'bad-crc' && l['uplink'] === 'province' && l['mn'] === MN),
      ).toHaveLength(REFUSAL_LOGS_PER_MINUTE);
      expect(REFUSAL_LOGS_PER_MINUTE).toBe(20);
    },
  );

  it(
    'drops the link to a platform that sends requests and never reads ' + 'the answers, past 1 MiB unread, and redials',
    async () => {
      const { clock, sim, data, logger, lines } = await setup();
      const peers: Socket[] = [];
      const request1011 = encodeFrame(request({ mn: MN, pw: PW, st: '32' }, '1011', {}, { qn: '20250601000000789' }));
      const server = createServer((socket) => {
        peers.push(socket);
        socket.on('error', () => undefined);
        // Never read: once the kernel's buffers are full, the box's answers pile up in its socket.
        socket.pause();
        // 40 000 requests of ~110 bytes; each is answered with three frames (9011, 1011, 9012), ~12 MB in all
        const burst = request1011.repeat(1000);
        for (let i = 0; i < 40; i++) socket.write(burst);
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      cleanups.push(async () => {
        for (const p of peers) p.destroy();
        await new Promise((resolve) => server.close(resolve));
      });
      expect(MAX_UNREAD_BYTES).toBe(1024 * 1024);
      const config = waterOutlet(data.dir, sim.tcp!.port, (server.address() as AddressInfo).port);
      // Long answer timeouts: the link must go for the unread bytes, not for uploads left unanswered.
      const agent = await agentOn(
        { ...config, uplinks: [{ ...config.uplinks[0]!, timeoutSeconds: 60 }] },
        logger,
        clock,
      );
      await until(
        () => lines.some((l) => l['reason'] === 'peer-not-reading'),
        'the box to give up on the platform',
        30_000,
      );
      await until(() => peers.length >= 2, 'the box to redial', 30_000);
      expect(agent.health().uplinks['province']!.refused['peer-not-reading']).toBeGreaterThanOrEqual(1);
    },
  );

  it(
    'logs garbage and answers a request with a bad CRC 9011 ' + 'QnRtn=9 (table 7), then answers it sent again',
    async () => {
      const { clock, sim, data, logger, lines } = await setup();
      const got: Packet[] = [];
      const peers: Socket[] = [];
      const server = createServer((socket) => {
        peers.push(socket);
        const decoder = new StreamDecoder();
        socket.on('data', (chunk: Buffer) => {
          for (const r of decoder.push(chunk)) if (r.ok) got.push(r.frame.packet);
        });
        const good = encodeFrame(request({ mn: MN, pw: PW, st: '32' }, '1061', {}, { qn: '20250601000000123' }));
        const badCrc = `${good.slice(0, -6)}${good.slice(-6, -2) === '0000' ? 'FFFF' : '0000'}\r\n`;
        socket.write(`garbage\r\n${badCrc}`);
        setTimeout(() => socket.write(good), 100);
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      cleanups.push(async () => {
        for (const p of peers) p.destroy();
        await new Promise((resolve) => server.close(resolve));
      });
      await agentOn(waterOutlet(data.dir, sim.tcp!.port, (server.address() as AddressInfo).port), logger, clock);
      await until(
        () => got.some((p) => p.cn === '9012' && p.qn === '20250601000000123'),
        'the answer to the good request',
      );
      expect(
        got
          .filter((p) => p.qn === '20250601000000123')
          .map((p) => [p.cn, p.cp.params['QnRtn'] ?? p.cp.params['ExeRtn']]),
      ).toEqual([
        ['9011', '9'],
        ['9011', '1'],
        ['1061', undefined],
        ['9012', '1'],
      ]);
      expect(lines.filter((l) => l['msg'] === 'frame from the peer rejected').map((l) => l['reason'])).toEqual(
        expect.arrayContaining(['bad-crc']),
      );
      expect(lines.some((l) => l['msg'] === 'platform link down; the outbox keeps the data')).toBe(false);
    },
  );
});
