import fc from 'fast-check';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type EdgeConfig } from '../edge/index.js';
import { freePort, influxDatabase, startInfluxd } from './helpers/cloud-procs.js';
import { startTestCloud } from './helpers/cloud-fixtures.js';
import { MN, PW, tempDir, wallWarpedClock, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { compileChild, spawnAgent, type AgentProcess } from './helpers/edge-process.js';
import { flat, memoryLogger, SIM_START, startSim, until } from './helpers/edge-sim.js';
import {
  cloudProcess,
  cloudRows,
  EDGE_MQTT_SECRET,
  edgeLedger,
  edgeStation,
  influxRows,
  reconcile,
  seriesGaps,
  spillDepth,
  storeKey,
  valueMismatches,
  type CloudRow,
  type EdgeLedger,
} from './helpers/fault-pipeline.js';

/**
 * Crashes along the whole chain, analyzer simulator (Modbus TCP) → edge agent → cloud ingest (real
 * sockets, SQLite on disk or a real influxd), on a clock 1200 times real time (an hour in 3 s). After
 * each run the edge's own history is the ground truth: every record in it must be in the cloud store
 * exactly once (by MN, factor, kind, time), except those still in the outbox, in flight when it stopped.
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
  const devices = [
    { unit: 1, profile: 'cod' },
    { unit: 4, profile: 'water-flow' },
  ];
  const sim = await startSim(
    {
      tcp: { port: 0 },
      devices,
      scenario: { seed: 1, start: '2025-05-31T23:50:00+08:00', signals: { cod: flat(48.5), 'water-flow': flat(20) } },
    },
    clock,
  );
  cleanups.push(() => sim.close());
  return sim;
}

/** Pauses (real ms) between crashes, reproducible from the seed the test prints. */
const pauses = (seed: number, n: number, min: number, max: number): number[] =>
  fc.sample(fc.integer({ min, max }), { numRuns: n, seed });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const counts = (rows: Map<string, CloudRow>): Map<string, number> => new Map([...rows].map(([k, row]) => [k, row.n]));

/**
 * The cloud in this process, and the configuration of an edge child reaching it over `transport`:
 * HJ 212 TCP, or MQTT through the ingest's embedded broker with the edge's persistent session.
 */
async function cloudOver(transport: 'hj212-tcp' | 'mqtt') {
  const cloud = await startTestCloud(
    transport === 'mqtt' ? { mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 }, tcp: undefined } : {},
    [await edgeStation()],
  );
  cleanups.push(() => cloud.stop());
  const mqtt = () => ({
    id: 'province',
    kind: 'mqtt' as const,
    url: `mqtt://127.0.0.1:${cloud.cloud.mqtt!.address!.port}`,
    username: MN,
    password: EDGE_MQTT_SECRET,
    pw: PW,
    timeoutSeconds: 1,
    reconnectMinSeconds: 0.1,
    reconnectMaxSeconds: 0.5,
  });
  const config = (dir: string, modbusPort: number): EdgeConfig =>
    transport === 'mqtt'
      ? waterOutlet(dir, modbusPort, 1, { uplinks: [mqtt()] })
      : waterOutlet(dir, modbusPort, cloud.cloud.tcp!.address.port);
  return { cloud, config };
}

function expectReconciled(r: ReturnType<typeof reconcile>, pending: number): void {
  expect(r.missing, 'records the edge made that the cloud never stored').toEqual([]);
  expect(r.unknown, 'cloud records the edge never made').toEqual([]);
  expect(r.duplicated).toEqual([]);
  expect(r.delivered).toBeGreaterThan(0);
  expect(pending).toBeLessThanOrEqual(IN_FLIGHT * 4);
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
/** waterOutlet's MinInterval: a 2051 every 10 minutes. */
const INTERVAL = 10 * MINUTE;

/** Simulated instants the edge was not reading its analyzers: from a kill to its restart's first reading. */
type Downtime = [from: number, to: number];

/**
 * The downtime of each kill, read from the edge's own real-time series. It begins with the last 2011
 * before the kill: what the agent read after its last committed tick was in memory (a minute is
 * written when it closes) and kill -9 loses it; at 1200× a tick every 25 ms is 30 simulated seconds,
 * so a whole minute may go. It ends with the first 2011 after the kill: the restarted agent sends one
 * once it has read the analyzers again.
 */
const downtimes = (kills: number[], rtd: number[]): Downtime[] =>
  kills.map((at) => [
    rtd.findLast((t) => t <= at) ?? Number.NEGATIVE_INFINITY,
    rtd.find((t) => t > at) ?? Number.POSITIVE_INFINITY,
  ]);

/**
 * Past keys: the stored values and flags are the edge's, the series has no hole across the crashes
 * (a 2051 every interval, a 2061 every hour, except a period a downtime overlaps, when nothing may
 * have read the analyzers), and the hour of each crash is stored with its values: the signals are flat,
 * so every COD statistic of any hour is 48.5 mg/L (the simulator's constant) however few minutes it had.
 */
function expectValuesAndSeries(edge: EdgeLedger, rows: Map<string, CloudRow>, crashes: number[], down: Downtime[]) {
  expect(valueMismatches(edge, rows), "stored values and flags unlike the edge's").toEqual([]);
  // A period a downtime cuts into is excused too: the restarted agent may not have read the analyzers
  // in what was left of it (at 1200x the first reads after a start can take a simulated minute or two).
  const excused = (start: number, end: number) => down.some(([from, to]) => start < to && end > from);
  const iso = (t: number) => new Date(t).toISOString().slice(11, 19);
  const context = (gaps: number[]) =>
    JSON.stringify({
      down: down.map(([a, b]) => [iso(a), Number.isFinite(b) ? iso(b) : 'end']),
      rtdNear: gaps.map((g) => edge.times['2011'].filter((t) => Math.abs(t - g) < 2 * INTERVAL).map(iso)),
    });
  const gaps2051 = seriesGaps(edge.times['2051'], INTERVAL, excused);
  expect(gaps2051, `2051 intervals with no record ${context(gaps2051)}`).toEqual([]);
  expect(seriesGaps(edge.times['2061'], HOUR, excused), '2061 hours with no record').toEqual([]);
  expect(edge.times['2011'].length, 'the real-time series the downtimes are read from').toBeGreaterThanOrEqual(60);
  expect(edge.times['2051'].length).toBeGreaterThanOrEqual(6);
  expect(edge.times['2061'].length).toBeGreaterThanOrEqual(1);
  for (const at of crashes) {
    const hour = Math.floor(at / HOUR) * HOUR;
    // A crash in the last, still open hour has no hour record yet.
    if (hour > (edge.times['2061'].at(-1) ?? 0)) continue;
    const stored = rows.get(storeKey('hour', 'w01018', hour));
    expect(stored?.values, `COD of the crash hour ${new Date(hour).toISOString()}`).toMatchObject({
      Min: 48.5,
      Avg: 48.5,
      Max: 48.5,
    });
  }
}

describe('crashes along the chain', () => {
  let build: Awaited<ReturnType<typeof compileChild>>;
  beforeAll(async () => {
    build = await compileChild();
  }, 60_000);
  afterAll(async () => build?.remove());

  for (const transport of ['hj212-tcp', 'mqtt'] as const) {
    it(
      `edge killed with kill -9 three times at random moments (${transport} ` +
        'uplink): every record it made is stored once',
      async () => {
        const seed = Date.now() % 100_000;
        const realStart = Date.now();
        const clock = wallWarpedClock(WARP, EARLY, realStart);
        const sim = await analyzers(clock);
        const { cloud, config: configFor } = await cloudOver(transport);
        const data = await tempDir();
        cleanups.push(data.remove);
        const config = configFor(data.dir, sim.tcp!.port);
        const timing = { warp: WARP, realStart, simStart: EARLY };
        let agent: AgentProcess | undefined;
        cleanups.push(async () => void agent?.child.kill('SIGKILL'));
        const recoveries: number[] = [];
        const crashes: number[] = [];
        for (const pause of pauses(seed, 3, HOUR_MS / 3, HOUR_MS * 1.2)) {
          agent = await spawnAgent(build.entry, config, data.dir, timing);
          const restarted = Date.now();
          const before = cloud.cloud.ingest.stats.stored;
          await until(() => cloud.cloud.ingest.stats.stored > before, 'an upload stored after the (re)start', 15_000);
          recoveries.push(Date.now() - restarted);
          await sleep(pause);
          crashes.push(clock());
          agent.child.kill('SIGKILL');
          await agent.exited;
        }
        // A last run long enough to close an hour and replay what the kills left behind, then a clean stop.
        agent = await spawnAgent(build.entry, config, data.dir, timing);
        await sleep(HOUR_MS * 1.5);
        agent.child.kill('SIGTERM');
        await agent.exited;
        const edge = edgeLedger(data.dir);
        const rows = await cloudRows(cloud.cloud.store);
        const r = reconcile(edge, counts(rows));
        console.info(
          JSON.stringify({
            fault: `edge kill -9 x3 (${transport})`,
            mn: MN,
            seed,
            recoveryMs: recoveries,
            delivered: r.delivered,
            pending: edge.pending.size,
          }),
        );
        expectReconciled(r, edge.pending.size);
        expectValuesAndSeries(edge, rows, crashes, downtimes(crashes, edge.times['2011']));
        expect([...edge.produced].some((k) => k.includes('|hour|'))).toBe(true);
      },
      60_000,
    );
  }

  it(
    'cloud ingest killed with kill -9 twice mid-stream (once while the edge ' +
      'replays its backlog): every record stored once',
    async () => {
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
      const crashes: number[] = [];
      for (const [i, pause] of pauses(seed, 2, HOUR_MS / 2, HOUR_MS).entries()) {
        await sleep(pause);
        crashes.push(clock());
        await cloud.kill9();
        // Down for a while, so a backlog builds up; the second kill lands while it is being replayed.
        await sleep(HOUR_MS / 2);
        const backlog = acked();
        expect(backlog).toBeGreaterThan(0);
        const restarted = Date.now();
        await cloud.start();
        if (i === 0) {
          // The second kill must land mid-replay: wait until the restarted ingest has confirmed a record.
          await until(() => acked() < backlog, 'the replay to start (a backlog record confirmed)', 15_000);
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
        const rows = await cloudRows(store);
        const r = reconcile(edge, counts(rows));
        console.info(
          JSON.stringify({
            fault: 'cloud kill -9 x2',
            mn: MN,
            seed,
            drainMs: recoveries,
            delivered: r.delivered,
            pending: edge.pending.size,
          }),
        );
        expectReconciled(r, edge.pending.size);
        // The edge ran throughout: no period is excused.
        expectValuesAndSeries(edge, rows, crashes, []);
      } finally {
        store.db.close();
      }
    },
    60_000,
  );
  it(
    'cloud ingest on InfluxDB (real influxd) killed with kill -9 twice mid-batch: ' +
      'the spill queue survives, every record is in InfluxDB once',
    async () => {
      const seed = Date.now() % 100_000;
      const user = { name: 'hj212', password: 's3cret' };
      const influx = await startInfluxd();
      cleanups.push(() => influx.stop());
      // A frozen influxd ignores SIGTERM until it runs again: thawed before it is stopped.
      cleanups.push(async () => void influx.child.kill('SIGCONT'));
      const query = await influxDatabase(influx, user, 'fault');
      const port = await freePort();
      const store = {
        type: 'influxdb',
        url: `http://127.0.0.1:${influx.port}`,
        database: 'fault',
        username: user.name,
        password: user.password,
        spillPath: 'spill.db',
        batchSize: 20,
        flushIntervalMs: 50,
      };
      const cloud = await cloudProcess(port, [await edgeStation()], store);
      cleanups.push(() => cloud.remove());
      await cloud.start();
      const spilled = (): number => spillDepth(join(cloud.dir, 'spill.db'));
      const clock = warpedClock(WARP, EARLY);
      const sim = await analyzers(clock);
      const data = await tempDir();
      cleanups.push(data.remove);
      const agent = await startAgent(waterOutlet(data.dir, sim.tcp!.port, port), {
        logger: memoryLogger().logger,
        clock,
        tickMs: 25,
      });
      let stopped = false;
      cleanups.push(async () => void (stopped || (await agent.close())));
      const outbox = (): number => agent.health().uplinks['province']!.outbox.records;
      const recoveries: number[] = [];
      const survived: number[] = [];
      const crashes: number[] = [];
      for (const [i, pause] of pauses(seed, 2, HOUR_MS / 2, HOUR_MS).entries()) {
        await sleep(pause);
        crashes.push(clock());
        // influxd frozen: the flusher's batch is sent and never answered, and every upload answered
        // from now on exists only in the spill queue, so a 9014 sent before the spill had it loses data.
        influx.child.kill('SIGSTOP');
        await until(() => spilled() >= 20, 'uploads answered while InfluxDB is frozen', 15_000);
        await cloud.kill9();
        survived.push(spilled());
        influx.child.kill('SIGCONT');
        await sleep(HOUR_MS / 2);
        const restarted = Date.now();
        await cloud.start();
        // The second kill lands while the edge replays the backlog the first one left.
        if (i === 0) continue;
        await until(() => spilled() === 0 && outbox() <= 2, 'the spill queue and the edge backlog to drain', 20_000);
        recoveries.push(Date.now() - restarted);
      }
      await sleep(HOUR_MS);
      await agent.close();
      stopped = true;
      await until(() => spilled() === 0, 'the last points to reach InfluxDB', 10_000);
      await cloud.stop();
      const edge = edgeLedger(data.dir);
      const rows = await influxRows(query, 'fault');
      const r = reconcile(edge, counts(rows));
      console.info(
        JSON.stringify({
          fault: 'cloud (InfluxDB) kill -9 x2 mid-batch',
          mn: MN,
          seed,
          spillAfterKill: survived,
          recoveryMs: recoveries,
          delivered: r.delivered,
          pending: edge.pending.size,
        }),
      );
      expect(Math.min(...survived), 'points the spill queue held through the kill').toBeGreaterThan(0);
      expectReconciled(r, edge.pending.size);
      expectValuesAndSeries(edge, rows, crashes, []);
    },
    80_000,
  );
});
