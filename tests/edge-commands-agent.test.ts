import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import type { RunningAgent } from '../edge/index.js';
import { recordPacket } from '../edge/packets.js';
import { EdgeStore } from '../edge/store/index.js';
import { needsAck } from '../protocol/index.js';
import { MN, PW, recordingPlatform, tempDir, waterOutlet } from './helpers/edge-agent.js';
import type { RecordedConnection } from './helpers/edge-agent.js';
import { freePort } from './helpers/common.js';
import { memoryLogger, until } from './helpers/edge-sim.js';
import { requestBytes } from './helpers/fuzz-edge.js';

/**
 * CN 1000, 1012 and 2081 between the edge agent and a platform that answers nothing unless the test
 * says so: the agent's clock stands still at 2025-06-01 10:00:00 China time, so every time is known.
 */

const T0 = Date.parse('2025-06-01T10:00:00+08:00');
const clock = () => T0;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** How many times the first upload of a connection was sent on it. */
const sendsOfFirstUpload = (conn: RecordedConnection): number => {
  const uploads = conn.packets.filter((p) => needsAck(p.flag) && p.cn.startsWith('2'));
  return uploads.filter((p) => p.qn === uploads[0]?.qn).length;
};

async function agentOn(config: Parameters<typeof startAgent>[0], logger: Parameters<typeof startAgent>[1]['logger']) {
  const agent: RunningAgent = await startAgent(config, { logger, clock, tickMs: 25 });
  let closed = false;
  cleanups.push(async () => void (closed || (await agent.close())));
  return {
    agent,
    close: async () => {
      closed = true;
      await agent.close();
    },
  };
}

describe('CN 1000, 1012 and 2081 end to end', () => {
  it("1000 sets every upload's timeout and resends, persisted and taken again after a restart", async () => {
    const platform = await recordingPlatform(cleanups);
    const data = await tempDir();
    cleanups.push(data.remove);
    // Configured: 120 s and 10 resends, so without the 1000 no upload would be resent within the test.
    const config = waterOutlet(data.dir, await freePort(), platform.port, { clockTrusted: true });
    config.uplinks = config.uplinks.map((u) => ({ ...u, timeoutSeconds: 120, retries: 10 }));
    const { logger } = memoryLogger();
    const first = await agentOn(config, logger);
    await until(() => platform.conns[0]?.packets.some((p) => p.cn === '2081') ?? false, 'the first upload');
    const qn = '20250601100000001';
    platform.conns[0]!.socket.write(
      requestBytes({ qn, st: '32', cn: '1000', pw: PW, mn: MN, flag: '5' }, 'OverTime=1;ReCount=2'),
    );
    await until(() => platform.conns[0]!.packets.some((p) => p.cn === '9012'), 'the 9012 of the 1000');
    const answers = platform.conns[0]!.packets.filter((p) => p.qn === qn).map((p) => [p.cn, p.cp.params]);
    expect(answers).toEqual([
      ['9011', { QnRtn: '1' }],
      ['9012', { ExeRtn: '1' }],
    ]);
    // A fresh connection: nothing in flight keeps a timer of the configured 120 s.
    platform.conns[0]!.socket.destroy();
    // ReCount 2: the first upload goes 3 times (1 + 2 resends, OverTime 1 s apart), then the link is
    // presumed dead and the agent dials again.
    await until(() => platform.conns.length >= 3, 'the agent to give up on the silent link', 15_000);
    expect(sendsOfFirstUpload(platform.conns[1]!)).toBe(3);
    await first.close();

    const store = new EdgeStore(data.dir, { logger, outboxBytes: new Map(), utcOffsetMinutes: 480 });
    expect(store.readSettings()).toMatchObject({ overTimeSeconds: 1, reCount: 2 });
    store.close();

    // Restarted with the same configuration (120 s, 10 resends): the platform's values still hold.
    const before = platform.conns.length;
    await agentOn(config, logger);
    await until(() => platform.conns.length >= before + 2, 'the restarted agent to give up', 15_000);
    expect(sendsOfFirstUpload(platform.conns[before]!)).toBe(3);
  });

  it(
    '1012 under keep-ntp (the default of a trusted clock) is answered 9011 ' +
      'QnRtn 1, 9012 ExeRtn 1 and the difference logged',
    async () => {
      const platform = await recordingPlatform(cleanups);
      const data = await tempDir();
      cleanups.push(data.remove);
      const { logger, lines } = memoryLogger();
      const { agent } = await agentOn(
        waterOutlet(data.dir, await freePort(), platform.port, { clockTrusted: true }),
        logger,
      );
      await until(() => platform.conns.length > 0 && platform.conns[0]!.packets.length > 0, 'the link');
      const qn = '20250601100000002';
      platform.conns[0]!.socket.write(
        requestBytes({ qn, st: '32', cn: '1012', pw: PW, mn: MN, flag: '5' }, 'SystemTime=20250601100100'),
      );
      await until(() => platform.conns[0]!.packets.some((p) => p.cn === '9012'), 'the 9012 of the 1012');
      expect(platform.conns[0]!.packets.filter((p) => p.qn === qn).map((p) => [p.cn, p.cp.params])).toEqual([
        ['9011', { QnRtn: '1' }],
        ['9012', { ExeRtn: '1' }],
      ]);
      // 10:01:00 asked of a box at 10:00:00: the platform is 60 000 ms ahead; the box clock stays.
      expect(lines.find((l) => l['reason'] === 'clock policy keep-ntp')).toMatchObject({
        mn: MN,
        uplink: 'province',
        differenceMs: 60_000,
      });
      expect(agent.health().clock).toEqual({ trusted: true, offsetMs: 0 });
    },
  );

  it('1012 under clock policy set moves the box clock on a trusted box', async () => {
    const platform = await recordingPlatform(cleanups);
    const data = await tempDir();
    cleanups.push(data.remove);
    const { logger } = memoryLogger();
    const { agent } = await agentOn(
      waterOutlet(data.dir, await freePort(), platform.port, { clockTrusted: true, clockPolicy: 'set' }),
      logger,
    );
    await until(() => platform.conns.length > 0 && platform.conns[0]!.packets.length > 0, 'the link');
    platform.conns[0]!.socket.write(
      requestBytes(
        { qn: '20250601100000003', st: '32', cn: '1012', pw: PW, mn: MN, flag: '5' },
        'SystemTime=20250601095900',
      ),
    );
    await until(() => platform.conns[0]!.packets.some((p) => p.cn === '9012'), 'the 9012 of the 1012');
    expect(platform.conns[0]!.packets.find((p) => p.cn === '9012')?.cp.params).toEqual({ ExeRtn: '1' });
    // 09:59:00 against 10:00:00
    expect(agent.health().clock).toEqual({ trusted: true, offsetMs: -60_000 });
  });

  it(
    'records 2081 with RestartTime the start time at each start, ' + 'for 2017 uplinks and not for a 2005 one',
    async () => {
      const data = await tempDir();
      cleanups.push(data.remove);
      const nobody = await freePort();
      const config = waterOutlet(data.dir, await freePort(), nobody, { clockTrusted: true });
      config.uplinks = [config.uplinks[0]!, { ...config.uplinks[0]!, id: 'old', version: '2005' }];
      const { logger } = memoryLogger();
      for (let start = 1; start <= 2; start++) {
        const run = await agentOn(config, logger);
        await until(() => run.agent.health().uplinks['province']!.outbox.records >= start, 'the 2081 stored');
        await run.close();
      }
      const store = new EdgeStore(data.dir, { logger, outboxBytes: new Map(), utcOffsetMinutes: 480 });
      cleanups.push(async () => store.close());
      const boots = (uplink: string) =>
        store
          .outbox(uplink)
          .nextBatch(100, new Set())
          .filter((r) => r.record.cn === '2081');
      // One per start, both at the standing clock's 2025-06-01 10:00:00 (China time).
      expect(boots('province').map((r) => r.record)).toEqual([
        { cn: '2081', at: T0, stats: {} },
        { cn: '2081', at: T0, stats: {} },
      ]);
      const packet = recordPacket(
        boots('province')[0]!.record,
        { mn: MN, pw: PW, st: '32', version: '2017' },
        'q',
        new Map(),
        480,
      );
      expect([packet.cn, packet.flag, packet.cp.params]).toEqual([
        '2081',
        5,
        { DataTime: '20250601100000', RestartTime: '20250601100000' },
      ]);
      expect(boots('old')).toEqual([]);
    },
  );
});
