import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { stringify } from 'yaml';
import { DATA_CN, SqliteStore, type MeasurementStore, type StationInput } from '../../cloud/index.js';
import { EdgeStore, type DataCn } from '../../edge/index.js';
import { MN, PW } from './edge-agent.js';
import { memoryLogger } from './edge-sim.js';
import { testHash } from './cloud-fixtures.js';
import type { InfluxQuery } from './cloud-procs.js';
import { spawnCli, type CliChild } from './common.js';

const CNS: DataCn[] = ['2011', '2051', '2061', '2031'];

/** The MQTT secret the edge test outlet logs in to an embedded broker with (user name = MN). */
export const EDGE_MQTT_SECRET = 'fault-mqtt-secret';

/** The registry entry for the edge test outlet (tests/helpers/edge-agent.ts), so the cloud accepts it over TCP and MQTT. */
export async function edgeStation(): Promise<StationInput> {
  const [passwordHash, mqttSecretHash] = await Promise.all([testHash(PW), testHash(EDGE_MQTT_SECRET)]);
  return {
    mn: MN,
    enterprise: '故障测试',
    outlet: 'WS-F',
    type: 'water',
    passwordHash,
    mqttSecretHash,
    factors: { w01018: {}, w21003: {}, w00000: {} },
  };
}

/** A record's identity in the cloud store: MN, factor, kind, time (to the second, as DataTime carries it). */
const key = (kind: string, factor: string, time: number): string =>
  `${MN}|${kind}|${factor}|${Math.floor(time / 1000) * 1000}`;

/** What the edge produced (its local history) and what its outbox still held, as store keys. Agent must be stopped. */
export function edgeLedger(dataDir: string): { produced: Set<string>; pending: Set<string> } {
  const store = new EdgeStore(dataDir, {
    logger: memoryLogger().logger,
    utcOffsetMinutes: 480,
    outboxBytes: new Map(),
  });
  const keysOf = (cn: string, at: number, factors: string[]): string[] => factors.map((f) => key(DATA_CN[cn]!, f, at));
  try {
    const produced = new Set(
      CNS.flatMap((cn) =>
        store.history(cn, 0, Number.MAX_SAFE_INTEGER).flatMap((r) => keysOf(cn, r.at, Object.keys(r.stats))),
      ),
    );
    const pending = new Set(
      store
        .nextBatch('province', 1_000_000, new Set())
        .flatMap((row) => keysOf(row.record.cn, row.record.at, Object.keys(row.record.stats))),
    );
    return { produced, pending };
  } finally {
    store.close();
  }
}

/** Every key the cloud store holds for the edge outlet, with how many rows each has. */
export async function cloudKeys(store: MeasurementStore): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const kind of ['rtd', 'minute', 'hour', 'day'] as const) {
    for (const p of await store.query({ mn: MN, kind, from: 0, to: Number.MAX_SAFE_INTEGER, limit: 100_000 })) {
      const k = key(kind, p.factor, p.time);
      out.set(k, (out.get(k) ?? 0) + 1);
    }
  }
  return out;
}

/** Points the ingest's InfluxDB spill queue holds right now (read from its file, the ingest alive or not). */
export function spillDepth(file: string): number {
  const db = new Database(file, { fileMustExist: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM spill').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

type InfluxSeries = { name: string; columns: string[]; values: unknown[][] };

/**
 * Every key InfluxDB itself holds for the edge outlet (not the ingest's spill queue), with how many
 * points each has. Asked directly rather than through the store, whose reads merge by key and would
 * hide a point written twice under different tags.
 */
export async function influxKeys(query: InfluxQuery, database: string): Promise<Map<string, number>> {
  const body = (await query(`SELECT * FROM "rtd", "minute", "hour", "day" WHERE "mn" = '${MN}'`, database)) as {
    results: { series?: InfluxSeries[]; error?: string }[];
  };
  const result = body.results[0];
  if (result?.error !== undefined) throw new Error(`InfluxDB: ${result.error}`);
  const out = new Map<string, number>();
  for (const s of result?.series ?? []) {
    const [time, factor] = [s.columns.indexOf('time'), s.columns.indexOf('factor')];
    for (const row of s.values) {
      const k = key(s.name, String(row[factor]), Number(row[time]));
      out.set(k, (out.get(k) ?? 0) + 1);
    }
  }
  return out;
}

/** Compares the edge's ledger with the cloud: what is missing (not even pending) and what the cloud has that the edge never made. */
export function reconcile(
  edge: { produced: Set<string>; pending: Set<string> },
  cloud: Map<string, number>,
): { missing: string[]; unknown: string[]; duplicated: string[]; delivered: number } {
  const missing = [...edge.produced].filter((k) => !cloud.has(k) && !edge.pending.has(k));
  const unknown = [...cloud.keys()].filter((k) => !edge.produced.has(k));
  const duplicated = [...cloud].filter(([, n]) => n > 1).map(([k]) => k);
  return { missing, unknown, duplicated, delivered: [...edge.produced].filter((k) => cloud.has(k)).length };
}

/** `hj212 cloud` as its own process (SQLite store unless told) on a fixed port, so a test can kill -9 it and start it again on the same files. */
export interface CloudProcess {
  port: number;
  dir: string;
  start(): Promise<void>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
  /** The SQLite store, opened once the process is stopped. */
  openStore(): SqliteStore;
  remove(): Promise<void>;
}

export async function cloudProcess(
  port: number,
  stations: StationInput[],
  store: Record<string, unknown> = { type: 'sqlite', path: 'store.db' },
): Promise<CloudProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-fault-cloud-'));
  await writeFile(join(dir, 'stations.yaml'), stringify({ stations }));
  await writeFile(
    join(dir, 'cloud.yaml'),
    stringify({
      registry: 'stations.yaml',
      store,
      state: 'state.db',
      tcp: { host: '127.0.0.1', port },
      rules: { checkEverySeconds: 3600 },
    }),
  );
  let child: CliChild | undefined;
  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    const c = child;
    child = undefined;
    await c?.signal(signal);
  };
  return {
    port,
    dir,
    async start() {
      child = spawnCli(['cloud', '--config', join(dir, 'cloud.yaml')]);
      await child.printed('HJ 212 TCP listening', 15_000);
    },
    kill9: () => stopWith('SIGKILL'),
    stop: () => stopWith('SIGTERM'),
    openStore: () => SqliteStore.open(join(dir, 'store.db')),
    async remove() {
      await stopWith('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
