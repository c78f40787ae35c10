import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import type { RunningAgent } from '../edge/index.js';
import { handleCommand } from '../edge/commands.js';
import type { CommandContext } from '../edge/commands.js';
import { encodeFrame, needsAck, request } from '../protocol/index.js';
import { MN, PW, recordingPlatform, tempDir, waterOutlet } from './helpers/edge-agent.js';
import { freePort } from './helpers/common.js';
import { memoryLogger, until } from './helpers/edge-sim.js';

/**
 * CN 1002 (HJ 212-2025 set MN; assumed, docs/protocol-2025.md): the box answers 9011/9012 under its old
 * MN, then every packet carries the new one, across a restart.
 */
const T0 = Date.parse('2025-06-01T10:00:00+08:00');
const NEW_MN = '010000A8900016F000169DC9';
const KEY = '0123456789abcdeffedcba9876543210';
const codec = { sm4Key: () => Buffer.from(KEY, 'hex') };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe('CN 1002 set MN', () => {
  const ctx = (version: '2017' | '2025'): CommandContext => ({
    to: { mn: MN, pw: PW, st: '32', version },
    now: T0,
    utcOffsetMinutes: 480,
    rtdIntervalSeconds: 30,
    minIntervalMinutes: 10,
    clockTrusted: false,
    clockPolicy: 'set',
    parameters: () => undefined,
    historySlot: () => 'free',
  });
  const ask = (version: '2017' | '2025', params: Record<string, string>) =>
    handleCommand(
      request({ mn: MN, pw: PW, st: '32', version }, '1002', params, { qn: '20250601100000001' }),
      ctx(version),
    )!;

  it('answers 9011 QnRtn=1, 9012 ExeRtn=1 and sets the MN; a malformed MN is ExeRtn=3; 2017 links: bad CN', () => {
    expect(ask('2025', { NewMN: NEW_MN })).toMatchObject({
      replies: [
        { cn: '9011', mn: MN, cp: { params: { QnRtn: '1' } } },
        { cn: '9012', mn: MN, cp: { params: { ExeRtn: '1' } } },
      ],
      effect: { kind: 'set-mn', mn: NEW_MN },
    });
    const bad = ask('2025', { NewMN: 'short' });
    expect(bad.replies.map((p) => [p.cn, p.cp.params])).toEqual([
      ['9011', { QnRtn: '1' }],
      ['9012', { ExeRtn: '3' }],
    ]);
    expect(bad.effect).toBeUndefined();
    expect(ask('2017', { NewMN: NEW_MN }).replies.map((p) => [p.cn, p.cp.params])).toEqual([['9011', { QnRtn: '8' }]]);
  });

  it('end to end: the next packets and those after a restart carry the new MN', async () => {
    const platform = await recordingPlatform(cleanups, codec);
    const data = await tempDir();
    cleanups.push(data.remove);
    const config = waterOutlet(data.dir, await freePort(), platform.port, { clockTrusted: true });
    config.uplinks = config.uplinks.map((u) => ({ ...u, version: '2025' as const, sm4Key: KEY }));
    const { logger } = memoryLogger();
    let agent: RunningAgent = await startAgent(config, { logger, clock: () => T0, tickMs: 25 });
    cleanups.push(() => agent.close());
    await until(() => platform.conns[0]?.packets.some((p) => p.cn === '2081') ?? false, 'the boot time (2081)');
    expect(platform.conns[0]!.packets.find((p) => p.cn === '2081')!.mn).toBe(MN);
    const target = { mn: MN, pw: PW, st: '32', version: '2025' as const };
    platform.conns[0]!.socket.write(
      encodeFrame(request(target, '1002', { NewMN: NEW_MN }, { qn: '20250601100000001' }), codec),
    );
    await until(() => platform.conns[0]!.packets.some((p) => p.cn === '9012'), 'the 9012 of the 1002');
    const answers = platform.conns[0]!.packets.filter((p) => p.qn === '20250601100000001');
    expect(answers.map((p) => [p.cn, p.mn, p.cp.params])).toEqual([
      ['9011', MN, { QnRtn: '1' }],
      ['9012', MN, { ExeRtn: '1' }],
    ]);
    // 1011 to the new MN: answered, and the upload of the time carries it.
    platform.conns[0]!.socket.write(
      encodeFrame(request({ ...target, mn: NEW_MN }, '1011', {}, { qn: '20250601100000002' }), codec),
    );
    await until(
      () => platform.conns[0]!.packets.some((p) => p.qn === '20250601100000002' && p.cn === '9012'),
      'the 9012 of the 1011',
    );
    const time = platform.conns[0]!.packets.filter((p) => p.qn === '20250601100000002');
    expect(time.map((p) => [p.cn, p.mn])).toEqual([
      ['9011', NEW_MN],
      ['1011', NEW_MN],
      ['9012', NEW_MN],
    ]);
    await agent.close();
    // After a restart the new MN is read back from the settings: the next 2081 carries it.
    agent = await startAgent(config, { logger, clock: () => T0 + 60_000, tickMs: 25 });
    await until(
      () => platform.conns.length >= 2 && platform.conns.at(-1)!.packets.filter((p) => p.cn === '2081').length >= 2,
      'the 2081 after the restart',
    );
    // This platform confirms nothing (no 9014): the first run's 2081 is still in the outbox and goes again,
    // with this run's; both, and everything else on the new connection, are addressed with the new MN.
    const after = platform.conns.at(-1)!.packets;
    expect(after.filter((p) => p.cn === '2081').map((p) => p.mn)).toEqual([NEW_MN, NEW_MN]);
    expect(after.every((p) => p.mn === NEW_MN)).toBe(true);
  }, 60_000);
});

describe('CN 1001 logger serial number', () => {
  it('goes first on each connection of a 2025 uplink, with SN and no answer asked; never on a 2017 one', async () => {
    const p2025 = await recordingPlatform(cleanups, codec);
    const p2017 = await recordingPlatform(cleanups, codec);
    const data = await tempDir();
    cleanups.push(data.remove);
    const config = waterOutlet(data.dir, await freePort(), p2025.port, { clockTrusted: true });
    config.station = { ...config.station, serial: 'HJBOX-2025-0042' };
    const base = config.uplinks[0]!;
    if (base.kind !== 'hj212-tcp') throw new Error('the fixture uplink is TCP');
    config.uplinks = [
      { ...base, version: '2025', sm4Key: KEY },
      { ...base, id: 'city', port: p2017.port },
    ];
    const agent: RunningAgent = await startAgent(config, {
      logger: memoryLogger().logger,
      clock: () => T0,
      tickMs: 25,
    });
    cleanups.push(() => agent.close());
    await until(() => p2025.conns[0]?.packets.some((p) => p.cn === '2081') ?? false, 'the 2081 on the 2025 uplink');
    await until(() => p2017.conns[0]?.packets.some((p) => p.cn === '2081') ?? false, 'the 2081 on the 2017 uplink');
    const first = p2025.conns[0]!.packets[0]!;
    expect([first.cn, first.mn, first.version, first.cp.params]).toEqual([
      '1001',
      MN,
      '2025',
      { DataTime: '20250601100000', SN: 'HJBOX-2025-0042' },
    ]);
    // Flag without the A bit: the platform is not asked to answer.
    expect(needsAck(first.flag)).toBe(false);
    expect(p2017.conns[0]!.packets.some((p) => p.cn === '1001')).toBe(false);
    // A new connection announces it again.
    p2025.conns[0]!.socket.destroy();
    await until(() => p2025.conns.length >= 2 && p2025.conns[1]!.packets.length > 0, 'the second connection');
    expect(p2025.conns[1]!.packets[0]!.cn).toBe('1001');
  }, 60_000);
});
