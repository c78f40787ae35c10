import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { InfluxStore } from '../cloud/index.js';
import { startAgent, type EdgeConfig } from '../edge/index.js';
import { startTestCloud, type TestCloud } from './helpers/cloud-fixtures.js';
import { influxDatabase, launch, startInfluxd, startMosquitto, type Proc } from './helpers/cloud-procs.js';
import { MN, PW, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { flat, memoryLogger, SIM_START, startSim, until } from './helpers/edge-sim.js';
import {
  cloudRows,
  edgeLedger,
  edgeStation,
  reconcile,
  seriesGaps,
  storeKey,
  valueMismatches,
} from './helpers/fault-pipeline.js';

/**
 * Outages behind the ingest (InfluxDB) and between edge and ingest (the MQTT broker), with the real
 * servers stopped and started again on the same port, on a clock 1200 times real time. The edge's
 * history is the ground truth, as in fault-crash.test.ts.
 */

const WARP = 1200;
const EARLY = SIM_START - 10 * 60_000;
const HOUR_MS = 3_600_000 / WARP;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Analyzers and the edge agent (in process) sending to the uplink `over` describes; stopped by `close`. */
async function edge(uplink: (modbusPort: number, dir: string) => EdgeConfig) {
  const clock = warpedClock(WARP, EARLY);
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
  const data = await tempDir();
  cleanups.push(data.remove);
  const agent = await startAgent(uplink(sim.tcp!.port, data.dir), { logger: memoryLogger().logger, clock, tickMs: 25 });
  let open = true;
  const close = async (): Promise<void> => void (open && ((open = false), await agent.close()));
  cleanups.push(close);
  return { agent, clock, dir: data.dir, close, outbox: () => agent.health().uplinks['province']!.outbox.records };
}

const HOUR = 3_600_000;
/** waterOutlet's MinInterval: a 2051 every 10 minutes. */
const INTERVAL = 600_000;

/**
 * Reconciles edge and cloud (keys, then values and flags within the wire's rounding), checks the
 * series has no hole across the outages at `outages` (simulated instants; the edge ran throughout,
 * so a 2051 every interval and a 2061 every hour), and logs the fault with its recovery figures.
 */
async function reconciled(
  c: TestCloud,
  dir: string,
  label: string,
  report: Record<string, number>,
  outages: number[],
): Promise<void> {
  const books = edgeLedger(dir);
  const rows = await cloudRows(c.cloud.store);
  const r = reconcile(books, new Map([...rows].map(([k, row]) => [k, row.n])));
  console.info(
    JSON.stringify({ fault: label, mn: MN, ...report, delivered: r.delivered, pending: books.pending.size }),
  );
  expect(r.missing, 'records the edge made that the cloud never stored').toEqual([]);
  expect(r.unknown).toEqual([]);
  expect(r.duplicated).toEqual([]);
  // What was generated or in flight when the agent stopped (a window of 4 plus the last ticks), not a backlog.
  expect(books.pending.size).toBeLessThanOrEqual(16);
  expect([...books.produced].some((k) => k.includes('|hour|'))).toBe(true);
  expect(valueMismatches(books, rows), "stored values and flags unlike the edge's").toEqual([]);
  expect(seriesGaps(books.times['2051'], INTERVAL), '2051 intervals with no record').toEqual([]);
  expect(seriesGaps(books.times['2061'], HOUR), '2061 hours with no record').toEqual([]);
  expect(books.times['2051'].length).toBeGreaterThanOrEqual(6);
  // The hour each outage began in, stored with its values: the COD signal is flat at 48.5 mg/L, so
  // every statistic of every hour is 48.5 (hand value: the simulator's constant).
  for (const at of outages) {
    const hour = Math.floor(at / HOUR) * HOUR;
    if (hour > (books.times['2061'].at(-1) ?? 0)) continue;
    expect(rows.get(storeKey('hour', 'w01018', hour))?.values, `COD of the outage hour`).toMatchObject({
      Min: 48.5,
      Avg: 48.5,
      Max: 48.5,
    });
  }
}

describe('outages', () => {
  it(
    'InfluxDB (real influxd) stopped for an hour of data during ingest, then ' +
      'restarted: the spill catches up, every record stored once',
    async () => {
      const user = { name: 'hj212', password: 's3cret' };
      let influx: Proc = await startInfluxd();
      cleanups.push(() => influx.stop());
      await influxDatabase(influx, user, 'fault');
      const spill = await mkdtemp(join(tmpdir(), 'hj212-spill-'));
      cleanups.push(() => rm(spill, { recursive: true, force: true }));
      const c = await startTestCloud(
        {
          store: {
            type: 'influxdb',
            url: `http://127.0.0.1:${influx.port}`,
            database: 'fault',
            username: user.name,
            password: user.password,
            spillPath: join(spill, 'spill.db'),
            flushIntervalMs: 50,
          },
        },
        [await edgeStation()],
      );
      cleanups.push(() => c.stop());
      const store = c.cloud.store as InfluxStore;
      const e = await edge((modbus, dir) => waterOutlet(dir, modbus, c.cloud.tcp!.address.port));
      await sleep(HOUR_MS / 2);
      const outage = e.clock();
      await influx.kill();
      await sleep(HOUR_MS);
      expect(store.pending, 'points waiting in the spill while InfluxDB is down').toBeGreaterThan(0);
      const restarted = Date.now();
      influx = await startInfluxd(influx.dir, influx.port);
      await until(() => store.pending === 0, 'the spill to drain into InfluxDB', 20_000);
      const recovery = Date.now() - restarted;
      await sleep(HOUR_MS / 2);
      await e.close();
      await until(() => store.pending === 0, 'the last points to reach InfluxDB', 10_000);
      expect(c.lines.some((l) => l['msg'] === 'InfluxDB write failed; spilling until it is back')).toBe(true);
      await reconciled(c, e.dir, 'influxd stopped 1 h', { recoveryMs: recovery }, [outage]);
    },
    60_000,
  );

  it(
    'MQTT: the broker (mosquitto) restarted mid-stream, then the link cut ' +
      'for an hour of data: every record stored once',
    async () => {
      const mosq = await startMosquitto();
      let broker: Proc = mosq;
      cleanups.push(() => broker.stop());
      const url = `mqtt://127.0.0.1:${mosq.port}`;
      const restart = async (downMs: number): Promise<void> => {
        await broker.kill();
        await sleep(downMs);
        broker = await launch(
          mosq.dir,
          mosq.port,
          '/usr/sbin/mosquitto',
          ['-c', join(mosq.dir, 'mosquitto.conf')],
          'mosquitto',
        );
      };
      const c = await startTestCloud({ mqtt: { mode: 'external', url }, tcp: undefined }, [await edgeStation()]);
      cleanups.push(() => c.stop());
      const mqtt = {
        id: 'province',
        kind: 'mqtt' as const,
        url,
        username: MN,
        pw: PW,
        timeoutSeconds: 1,
        reconnectMinSeconds: 0.1,
        reconnectMaxSeconds: 0.5,
      };
      const e = await edge((modbus, dir) => waterOutlet(dir, modbus, 1, { uplinks: [mqtt] }));
      const stored = (): number => c.cloud.ingest.stats.stored;
      await until(() => stored() > 5, 'the first uploads over MQTT', 15_000);
      const outages = [e.clock()];
      await restart(100);
      let at = Date.now();
      const before = stored();
      await until(() => stored() > before, 'uploads after the broker restart', 15_000);
      const restartRecovery = Date.now() - at;
      outages.push(e.clock());
      await restart(HOUR_MS);
      at = Date.now();
      const backlog = e.outbox();
      await until(() => e.outbox() <= 2, 'the hour of backlog to drain', 20_000);
      const cutRecovery = Date.now() - at;
      await sleep(HOUR_MS / 2);
      await e.close();
      await reconciled(
        c,
        e.dir,
        'mosquitto restart + 1 h cut',
        { restartRecoveryMs: restartRecovery, backlog, recoveryMs: cutRecovery },
        outages,
      );
    },
    60_000,
  );
});
