import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import { EdgeStore } from '../edge/store/index.js';
import type { EdgeConfig } from '../edge/index.js';
import type { DataCn } from '../edge/aggregator.js';
import { MN, startPlatform, tempDir, wallWarpedClock, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { compileChild, spawnAgent } from './helpers/edge-process.js';
import { SIM_START, flat, memoryLogger, startSim, until } from './helpers/edge-sim.js';

/**
 * The "done when": an uplink outage of two simulated hours, `kill -9` of the agent process,
 * and an analyzer unplugged, each on a clock 1200 times real time (an hour in 3 s), against the
 * analyzer simulator (Modbus TCP) and the platform simulator (HJ 212 TCP).
 */

const WARP = 1200;
// Clocks start ten simulated minutes before midnight, so start-up delays fall outside the hours checked.
const EARLY = SIM_START - 10 * 60_000;
const EARLY_ISO = '2025-05-31T23:50:00+08:00';
const HOUR_MS = 3_600_000 / WARP;
const CNS: DataCn[] = ['2011', '2051', '2061'];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function analyzers(clock: () => number, signals: Record<string, ReturnType<typeof flat>> = {}) {
  const devices = [
    { unit: 1, profile: 'cod' },
    { unit: 2, profile: 'nh3n' },
    { unit: 4, profile: 'water-flow' },
  ];
  const sim = await startSim(
    {
      tcp: { port: 0 },
      devices,
      scenario: {
        seed: 1,
        start: EARLY_ISO,
        signals: { cod: flat(48.5), nh3n: flat(2.5), 'water-flow': flat(20), ...signals },
      },
    },
    clock,
  );
  cleanups.push(() => sim.close());
  return sim;
}

function outlet(dataDir: string, modbusPort: number, platformPort: number): EdgeConfig {
  const config = waterOutlet(dataDir, modbusPort, platformPort);
  const nh3n = {
    ...config.devices[0]!,
    id: 'nh3n',
    unit: 2,
    parameters: [],
    factors: [{ ...config.devices[0]!.factors[0]!, code: 'w21003' }],
  };
  return { ...config, devices: [...config.devices, nh3n] };
}

/**
 * Every QN the platform received, by CN. Each outbox row has its own QN, so the distinct QNs a
 * platform saw are the records it got; a QN seen twice is a record resent because its 9014 was cut.
 */
function received(uploads: { cn: string; qn?: string }[]) {
  const byCn = new Map<string, Set<string>>();
  let total = 0;
  for (const u of uploads) {
    if (u.qn === undefined) continue;
    byCn.set(u.cn, (byCn.get(u.cn) ?? new Set()).add(u.qn));
    total++;
  }
  const distinct = [...byCn.values()].reduce((n, s) => n + s.size, 0);
  return { count: (cn: string) => byCn.get(cn)?.size ?? 0, duplicates: total - distinct };
}

/** After the agent stopped: what its history holds and what its outbox still waits to send, by CN. */
function ledger(dataDir: string) {
  const { logger } = memoryLogger();
  const store = new EdgeStore(dataDir, { logger, utcOffsetMinutes: 480, outboxBytes: new Map() });
  try {
    const pending = new Map<string, number>();
    for (const row of store.nextBatch('province', 1_000_000, new Set()))
      pending.set(row.record.cn, (pending.get(row.record.cn) ?? 0) + 1);
    return Object.fromEntries(
      CNS.map((cn) => [
        cn,
        { history: store.history(cn, 0, Number.MAX_SAFE_INTEGER).length, pending: pending.get(cn) ?? 0 },
      ]),
    );
  } finally {
    store.close();
  }
}

function expectEveryRecordDelivered(
  dataDir: string,
  uploads: { cn: string; qn?: string }[],
  maxDuplicates: number,
): void {
  const got = received(uploads);
  const books = ledger(dataDir);
  for (const cn of CNS) {
    const { history, pending } = books[cn]!;
    expect(history, `${cn} records`).toBeGreaterThan(0);
    expect(got.count(cn) + pending, `${cn}: delivered + still in the outbox = stored`).toBe(history);
    expect(pending, `${cn} left in the outbox`).toBeLessThanOrEqual(4);
  }
  expect(got.duplicates).toBeLessThanOrEqual(maxDuplicates);
}

describe('recovery', () => {
  it('a 2-hour platform outage: the outbox keeps everything and replays it, each record once', async () => {
    const clock = warpedClock(WARP, EARLY);
    const sim = await analyzers(clock);
    let platform = await startPlatform(0, clock);
    const port = platform.port;
    const uploads = platform.uploads;
    const data = await tempDir();
    cleanups.push(data.remove);
    const { logger } = memoryLogger();
    // A 9014 later than the uplink's timeout is resent, as the standard wants; on a loaded machine the
    // replay's answers can take over the helper's 1 s, so this test allows 5 s and then expects no resend.
    const config = outlet(data.dir, sim.tcp!.port, port);
    const uplinks = config.uplinks.map((u) => ({ ...u, timeoutSeconds: 5 }));
    const agent = await startAgent({ ...config, uplinks }, { logger, clock, tickMs: 25 });
    let stopped = false;
    cleanups.push(async () => void (stopped || (await agent.close())));
    await until(() => received(uploads).count('2051') >= 3, 'the first minute records');
    // The platform goes away for two simulated hours, in the middle of the stream.
    await platform.server.close();
    await until(() => agent.health().uplinks['province']!.state !== 'connected', 'the agent to notice');
    // What the platform took before it went away; the last window (4) of it may have lost its answer.
    const takenBeforeOutage = uploads.length;
    await new Promise((r) => setTimeout(r, 2 * HOUR_MS));
    // two hours of minute (12) and hour (2) records wait in the outbox, and real-time ones on top
    // (at most 120: a tick delayed on a busy machine skips a real-time snapshot, never a period)
    expect(agent.health().uplinks['province']!.outbox.records).toBeGreaterThan(14 + 30);
    platform = await startPlatform(port, clock);
    cleanups.push(async () => void (await platform.server.close()));
    platform.server.on('upload', (u) => uploads.push(u));
    await until(() => agent.health().uplinks['province']!.outbox.records <= 4, 'the backlog to replay', 20_000);
    await agent.close();
    stopped = true;
    // A record goes out again only if its 9014 was lost: one of the (at most 4) in flight when the platform
    // closed. Every other record reached the platform exactly once.
    expectEveryRecordDelivered(data.dir, uploads, 4);
    const key = (u: { cn: string; qn?: string }): string => `${u.cn} ${u.qn}`;
    const times = new Map<string, number>();
    for (const u of uploads) times.set(key(u), (times.get(key(u)) ?? 0) + 1);
    const inFlight = new Set(uploads.slice(Math.max(0, takenBeforeOutage - 4), takenBeforeOutage).map(key));
    expect([...times].filter(([k, n]) => n > 1 && !inFlight.has(k))).toEqual([]);
    expect(received(uploads).count('2061')).toBeGreaterThanOrEqual(2);
  });

  describe('kill -9 of the agent process', () => {
    let build: Awaited<ReturnType<typeof compileChild>>;
    beforeAll(async () => {
      build = await compileChild();
    }, 60_000);
    afterAll(async () => build?.remove());

    it('restarts with nothing lost: the open hour resumes from disk and the outbox is replayed', async () => {
      const realStart = Date.now();
      const clock = wallWarpedClock(WARP, EARLY, realStart);
      const sim = await analyzers(clock);
      const platform = await startPlatform(0, clock);
      cleanups.push(async () => void (await platform.server.close()));
      const data = await tempDir();
      cleanups.push(data.remove);
      const config = outlet(data.dir, sim.tcp!.port, platform.port);
      const timing = { warp: WARP, realStart, simStart: EARLY };
      const first = await spawnAgent(build.entry, config, data.dir, timing);
      cleanups.push(async () => void first.child.kill('SIGKILL'));
      // Mid-stream: minute data flowing, in the second simulated hour.
      await until(
        () => received(platform.uploads).count('2061') >= 1 && received(platform.uploads).count('2051') >= 8,
        'data in the second hour',
        20_000,
      );
      first.child.kill('SIGKILL');
      await first.exited;
      const second = await spawnAgent(build.entry, config, data.dir, timing);
      cleanups.push(async () => void second.child.kill('SIGKILL'));
      await until(() => received(platform.uploads).count('2061') >= 3, 'two more hours after the restart', 30_000);
      second.child.kill('SIGTERM');
      await second.exited;
      expect(second.output()).toContain('resumed the open hour and day from disk');
      // Records sent but not yet confirmed when the process died are sent again (at most a window).
      expectEveryRecordDelivered(data.dir, platform.uploads, 4);
    });
  });

  it('one analyzer unplugged: its data turns B while the others keep reporting N', async () => {
    // A quarter of the warp of the other tests (an hour in 12 s): every minute of COD is checked, and a
    // water hour with one minute missing is not N, so an event loop stall must stay under a simulated minute.
    const clock = warpedClock(WARP / 4, EARLY);
    // NH3-N stops answering from 00:20 to 01:40 (simulated), as if its cable were pulled.
    const sim = await analyzers(clock, { nh3n: flat(2.5, [{ kind: 'dropout', from: '30m', to: '1h50m' }]) });
    const platform = await startPlatform(0, clock);
    cleanups.push(async () => void (await platform.server.close()));
    const data = await tempDir();
    cleanups.push(data.remove);
    const { logger, lines } = memoryLogger();
    // A short Modbus timeout: each retry of the silent unit holds the bus for 50 ms real time (30
    // simulated seconds); the back-off (0.5 s, five simulated minutes) spaces them out.
    const config = outlet(data.dir, sim.tcp!.port, platform.port);
    const agent = await startAgent(
      { ...config, buses: [{ ...config.buses[0]!, timeoutMs: 50, backoffMaxSeconds: 0.5 }] },
      { logger, clock, tickMs: 25 },
    );
    let stopped = false;
    cleanups.push(async () => void (stopped || (await agent.close())));
    await until(() => clock() > SIM_START + 2 * 3_600_000 + 60_000, 'two hours', 60_000);
    await agent.close();
    stopped = true;
    const store = new EdgeStore(data.dir, { logger, utcOffsetMinutes: 480, outboxBytes: new Map() });
    cleanups.push(async () => store.close());
    const [h0, h1] = store.history('2061', SIM_START, SIM_START + 3_600_000);
    expect(h0?.stats['w01018']?.flag).toBe('N');
    expect(h0?.stats['w01018']?.avg).toBeCloseTo(48.5, 9); // flow-weighted: Σ G / Σ D (HJ 212-2017 D.1.2.3)
    expect(h0?.stats['w00000']).toMatchObject({ flag: 'N', avg: 20 });
    expect(h1?.stats['w01018']?.flag).toBe('N');
    expect(h1?.stats['w01018']?.valid).toBeGreaterThanOrEqual(50);
    // 20 of 60 minutes valid in hour 0, at most 20 in hour 1 (from 01:40): neither is an N hour
    expect(h0?.stats['w21003']).toMatchObject({ flag: 'B' });
    expect(h0?.stats['w21003']?.valid).toBeGreaterThanOrEqual(17);
    expect(h0?.stats['w21003']?.valid).toBeLessThanOrEqual(21);
    expect(h1?.stats['w21003']).toMatchObject({ flag: 'B', avg: 2.5 });
    expect(h1?.stats['w21003']?.valid).toBeLessThanOrEqual(20);
    const minutes = store.history('2051', SIM_START, SIM_START + 2 * 3_600_000);
    const flagsAt = (code: string) => minutes.map((m) => m.stats[code]?.flag).join('');
    expect(flagsAt('w01018')).toBe('N'.repeat(minutes.length));
    // back after 01:40: found again at the next retry, within five simulated minutes
    expect(flagsAt('w21003')).toMatch(/^NNBBBBBBBB[BN]N$/);
    expect(
      lines.some((l) => l['device'] === 'nh3n' && l['mn'] === MN && l['msg'] === 'device lost; its data is B-flagged'),
    ).toBe(true);
    // and the line that says so, with when it was lost: the dropout began at 00:20 Beijing (16:20Z the day
    // before); a poll is stamped when it starts, a few warped seconds before the simulator answers it (so
    // 16:19:5x is the poll that found it); a timeout on a busy machine may add lines of its own
    const again = lines.filter((l) => l['device'] === 'nh3n' && l['msg'] === 'device answering again');
    expect(again[0]).toMatchObject({ mn: MN, reason: 'answering' });
    expect(again.map((l) => String(l['lostSince']))).toContainEqual(
      expect.stringMatching(/^2025-05-31T16:(19:5|2\d:\d)\d\.\d{3}Z$/),
    );
  }, 90_000);
});
