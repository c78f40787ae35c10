import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import { freePort } from './helpers/cloud-procs.js';
import { startTestCloud } from './helpers/cloud-fixtures.js';
import { tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { compileChild, spawnAgent, type AgentProcess } from './helpers/edge-process.js';
import { flat, memoryLogger, SIM_START, startSim, until } from './helpers/edge-sim.js';
import { cloudKeys, cloudProcess, edgeLedger, edgeStation, reconcile } from './helpers/fault-pipeline.js';

/**
 * Crashes along the whole chain, analyzer simulator (Modbus TCP) → edge agent → cloud ingest (real
 * sockets, SQLite on disk), on a clock 1200 times real time (an hour in 3 s). After each run the
 * edge's own history is the ground truth: every record in it must be in the cloud store exactly
 * once (by MN, factor, kind, time), except those still in the outbox, in flight when it stopped.
 */

const WARP = 1200;
const EARLY = SIM_START - 10 * 60_000;
const HOUR_MS = 3_600_000 / WARP;
/** Records sent but not yet confirmed when the run ends: at most the uplink's window. */
const IN_FLIGHT = 8;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

async function analyzers(clock: () => number) {
  const devices = [{ unit: 1, profile: 'cod' }, { unit: 4, profile: 'water-flow' }];
  const sim = await startSim({ tcp: { port: 0 }, devices, scenario: { seed: 1, start: '2025-05-31T23:50:00+08:00', signals: { cod: flat(48.5), 'water-flow': flat(20) } } }, clock);
  cleanups.push(() => sim.close());
  return sim;
}

/** Pauses (real ms) between crashes, reproducible from the seed the test prints. */
const pauses = (seed: number, n: number, min: number, max: number): number[] => fc.sample(fc.integer({ min, max }), { numRuns: n, seed });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function expectReconciled(r: ReturnType<typeof reconcile>, pending: number): void {
  expect(r.missing, 'records the edge made that the cloud never stored').toEqual([]);
  expect(r.unknown, 'cloud records the edge never made').toEqual([]);
  expect(r.duplicated).toEqual([]);
  expect(r.delivered).toBeGreaterThan(0);
  expect(pending).toBeLessThanOrEqual(IN_FLIGHT * 4);
}

describe('crashes along the chain', () => {
  let build: Awaited<ReturnType<typeof compileChild>>;
  beforeAll(async () => {
    build = await compileChild();
  }, 60_000);
  afterAll(async () => build?.remove());

  it('edge killed with kill -9 three times at random moments: every record it made is stored once', async () => {
    const seed = Date.now() % 100_000;
    const realStart = Date.now();
    const clock = warpedClock(WARP, EARLY);
    const sim = await analyzers(clock);
    const cloud = await startTestCloud({}, [await edgeStation()]);
    cleanups.push(() => cloud.stop());
    const data = await tempDir();
    cleanups.push(data.remove);
    const config = waterOutlet(data.dir, sim.tcp!.port, cloud.cloud.tcp!.address.port);
    const timing = { warp: WARP, realStart, simStart: EARLY };
    let agent: AgentProcess | undefined;
    cleanups.push(async () => void agent?.child.kill('SIGKILL'));
    const recoveries: number[] = [];
    for (const pause of pauses(seed, 3, HOUR_MS / 3, HOUR_MS * 1.2)) {
      agent = await spawnAgent(build.entry, config, data.dir, timing);
      const restarted = Date.now();
      const before = cloud.cloud.ingest.stats.stored;
      await until(() => cloud.cloud.ingest.stats.stored > before, 'an upload stored after the (re)start', 15_000);
      recoveries.push(Date.now() - restarted);
      await sleep(pause);
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
    // A last run long enough to close an hour and replay what the kills left behind, then a clean stop.
    agent = await spawnAgent(build.entry, config, data.dir, timing);
    await sleep(HOUR_MS * 1.5);
    agent.child.kill('SIGTERM');
    await agent.exited;
    const edge = edgeLedger(data.dir);
    const r = reconcile(edge, await cloudKeys(cloud.cloud.store));
    console.info(JSON.stringify({ fault: 'edge kill -9 x3', seed, recoveryMs: recoveries, delivered: r.delivered, pending: edge.pending.size }));
    expectReconciled(r, edge.pending.size);
    expect([...edge.produced].some((k) => k.includes('|hour|'))).toBe(true);
  }, 60_000);

  it('cloud ingest killed with kill -9 twice mid-stream (once while the edge replays its backlog): every record stored once', async () => {
    const seed = Date.now() % 100_000;
    const clock = warpedClock(WARP, EARLY);
    const sim = await analyzers(clock);
    const port = await freePort();
    const cloud = await cloudProcess(port, [await edgeStation()]);
    cleanups.push(() => cloud.remove());
    await cloud.start();
    const data = await tempDir();
    cleanups.push(data.remove);
    const { logger } = memoryLogger();
    const agent = await startAgent(waterOutlet(data.dir, sim.tcp!.port, port), { logger, clock, tickMs: 25 });
    let stopped = false;
    cleanups.push(async () => void (stopped || (await agent.close())));
    const acked = (): number => agent.health().uplinks['province']!.outbox.records;
    const recoveries: number[] = [];
    for (const [i, pause] of pauses(seed, 2, HOUR_MS / 2, HOUR_MS).entries()) {
      await sleep(pause);
      await cloud.kill9();
      // Down for a while, so a backlog builds up; the second kill lands while it is being replayed.
      await sleep(HOUR_MS / 2);
      const restarted = Date.now();
      await cloud.start();
      if (i === 0) {
        await until(() => acked() < 20, 'the replay to start', 15_000).catch(() => undefined);
        continue;
      }
      await until(() => acked() <= 2, 'the backlog to drain', 20_000);
      recoveries.push(Date.now() - restarted);
    }
    await sleep(HOUR_MS);
    await agent.close();
    stopped = true;
    await cloud.stop();
    const edge = edgeLedger(data.dir);
    const store = cloud.openStore();
    try {
      const r = reconcile(edge, await cloudKeys(store));
      console.info(JSON.stringify({ fault: 'cloud kill -9 x2', seed, drainMs: recoveries, delivered: r.delivered, pending: edge.pending.size }));
      expectReconciled(r, edge.pending.size);
    } finally {
      store.db.close();
    }
  }, 60_000);
});
