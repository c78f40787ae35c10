import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { DATA_CN, SqliteStore, type MeasurementStore, type StationInput } from '../../cloud/index.js';
import { unsentLines } from '../../cloud/store/spill-log.js';
import { EdgeStore } from '../../edge/store/index.js';
import type { DataCn, DataRecord } from '../../edge/aggregator.js';
import type { FactorStat } from '../../edge/datasets.js';
import { MN, PW } from './edge-agent.js';
import { memoryLogger } from './edge-sim.js';
import { testHash } from './cloud-fixtures.js';
import type { InfluxQuery } from './cloud-procs.js';
import { spawnCli, type CliChild } from './common.js';

const CNS: DataCn[] = ['2011', '2051', '2061', '2031'];

/** The MQTT secret the edge test outlet logs in to an embedded broker with (user name = MN). */
export const EDGE_MQTT_SECRET = 'fault-mqtt-secret';

/**
 * The registry entry for the edge test outlet (tests/helpers/edge-agent.ts), so the cloud accepts it over TCP and MQTT.
 */
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
export const storeKey = (kind: string, factor: string, time: number): string => key(kind, factor, time);
const key = (kind: string, factor: string, time: number): string =>
  `${MN}|${kind}|${factor}|${Math.floor(time / 1000) * 1000}`;

/** One factor of one record as the wire carries it: its numeric fields by wire name, and its flag. */
export interface WireValues {
  values: Record<string, number>;
  flag: string | undefined;
}

/**
 * How far a stored value may be from the edge's own, unrounded one: the wire's rounding. The test
 * outlet (tests/helpers/edge-agent.ts `waterOutlet`) sends every value with 2 decimals and Cou with 4
 * (edge/packets.ts), so a stored value is within half a unit of that place; 1e-9 more absorbs binary
 * floating point. HJ 212-2017 leaves the decimals to the logger (6.3.3.2.2 gives N14.2-style formats).
 */
export const WIRE_TOLERANCE = { value: 0.5e-2 + 1e-9, cou: 0.5e-4 + 1e-9 } as const;

/**
 * A record's factor as its packet carries it (edge/packets.ts: Rtd and ZsRtd for 2011, Min/Avg/Max/Zs*, Cou otherwise).
 */
function wireValues(cn: DataRecord['cn'], stat: FactorStat): WireValues {
  const fields: [string, number | undefined][] =
    cn === '2011'
      ? [
          ['Rtd', stat.avg],
          ['ZsRtd', stat.zsAvg],
        ]
      : [
          ['Min', stat.min],
          ['Avg', stat.avg],
          ['Max', stat.max],
          ['ZsMin', stat.zsMin],
          ['ZsAvg', stat.zsAvg],
          ['ZsMax', stat.zsMax],
          ['Cou', stat.cou],
        ];
  const values = Object.fromEntries(fields.filter((f): f is [string, number] => f[1] !== undefined));
  return { values, flag: stat.flag };
}

/** The edge's books: what it produced (its history), its outbox's leftovers, and each produced record's values. */
export interface EdgeLedger {
  produced: Set<string>;
  pending: Set<string>;
  /** By store key: the values the edge recorded, as they go on the wire. */
  values: Map<string, WireValues>;
  /** DataTimes of the records of each CN, ascending. */
  times: Record<DataCn, number[]>;
}

/** What the edge produced (its local history) and what its outbox still held, as store keys. Agent must be stopped. */
export function edgeLedger(dataDir: string): EdgeLedger {
  const store = new EdgeStore(dataDir, {
    logger: memoryLogger().logger,
    utcOffsetMinutes: 480,
    outboxBytes: new Map(),
  });
  const keysOf = (cn: string, at: number, factors: string[]): string[] => factors.map((f) => key(DATA_CN[cn]!, f, at));
  try {
    const values = new Map<string, WireValues>();
    const times = {} as Record<DataCn, number[]>;
    for (const cn of CNS) {
      const records = store.history(cn, 0, Number.MAX_SAFE_INTEGER);
      times[cn] = [...new Set(records.map((r) => r.at))].sort((a, b) => a - b);
      for (const r of records)
        for (const [factor, stat] of Object.entries(r.stats))
          values.set(key(DATA_CN[cn]!, factor, r.at), wireValues(r.cn, stat));
    }
    const pending = new Set(
      store
        .nextBatch('province', 1_000_000, new Set())
        .flatMap((row) => keysOf(row.record.cn, row.record.at, Object.keys(row.record.stats))),
    );
    return { produced: new Set(values.keys()), pending, values, times };
  } finally {
    store.close();
  }
}

/** What the cloud holds under one key: how many rows, and the values and flag of the last. */
export interface CloudRow extends WireValues {
  n: number;
}

/** Every row the cloud store holds for the edge outlet, by store key. */
export async function cloudRows(store: MeasurementStore): Promise<Map<string, CloudRow>> {
  const out = new Map<string, CloudRow>();
  for (const kind of ['rtd', 'minute', 'hour', 'day'] as const) {
    for (const p of await store.query({ mn: MN, kind, from: 0, to: Number.MAX_SAFE_INTEGER, limit: 100_000 })) {
      const k = key(kind, p.factor, p.time);
      out.set(k, { n: (out.get(k)?.n ?? 0) + 1, values: p.values, flag: p.flag });
    }
  }
  return out;
}

const counts = (rows: Map<string, CloudRow>): Map<string, number> => new Map([...rows].map(([k, r]) => [k, r.n]));

/** Every key the cloud store holds for the edge outlet, with how many rows each has. */
export async function cloudKeys(store: MeasurementStore): Promise<Map<string, number>> {
  return counts(await cloudRows(store));
}

/** Points the ingest's InfluxDB spill queue holds right now (read from its file, the ingest alive or not). */
export function spillDepth(file: string): number {
  // The spill log is the directory `<spillPath>.log`: its lines after the sent position.
  return unsentLines(`${file}.log`);
}

type InfluxSeries = { name: string; columns: string[]; values: unknown[][] };

/**
 * Every key InfluxDB itself holds for the edge outlet (not the ingest's spill queue), with how many
 * points each has. Asked directly rather than through the store, whose reads merge by key and would
 * hide a point written twice under different tags.
 */
export async function influxKeys(query: InfluxQuery, database: string): Promise<Map<string, number>> {
  return counts(await influxRows(query, database));
}

/** {@link influxKeys} with each point's fields and flag, as InfluxDB returns them. */
export async function influxRows(query: InfluxQuery, database: string): Promise<Map<string, CloudRow>> {
  const body = (await query(`SELECT * FROM "rtd", "minute", "hour", "day" WHERE "mn" = '${MN}'`, database)) as {
    results: { series?: InfluxSeries[]; error?: string }[];
  };
  const result = body.results[0];
  if (result?.error !== undefined) throw new Error(`InfluxDB: ${result.error}`);
  const out = new Map<string, CloudRow>();
  // Columns that are not fields of the point: its time and tags.
  const NOT_FIELDS = new Set(['time', 'mn', 'factor', 'outlet', 'flag']);
  for (const s of result?.series ?? []) {
    const at = (name: string): number => s.columns.indexOf(name);
    for (const row of s.values) {
      const k = key(s.name, String(row[at('factor')]), Number(row[at('time')]));
      // SELECT * over several measurements gives every column of all of them: null where a point has no such field.
      const values = Object.fromEntries(
        s.columns.flatMap((c, i) => (NOT_FIELDS.has(c) || typeof row[i] !== 'number' ? [] : [[c, row[i] as number]])),
      );
      const flag = row[at('flag')];
      out.set(k, {
        n: (out.get(k)?.n ?? 0) + 1,
        values,
        flag: typeof flag === 'string' && flag !== '' ? flag : undefined,
      });
    }
  }
  return out;
}

/**
 * Each record the cloud stored against the edge's own: the same fields, each within the wire's
 * rounding ({@link WIRE_TOLERANCE}), and the same flag. Returns one line per difference.
 */
export function valueMismatches(edge: Pick<EdgeLedger, 'values'>, cloud: Map<string, CloudRow>): string[] {
  const out: string[] = [];
  for (const [k, mine] of edge.values) {
    const theirs = cloud.get(k);
    if (theirs === undefined) continue;
    if (theirs.flag !== mine.flag) out.push(`${k}: flag ${String(theirs.flag)} stored, ${String(mine.flag)} recorded`);
    const names = new Set([...Object.keys(mine.values), ...Object.keys(theirs.values)]);
    for (const name of names) {
      const [a, b] = [mine.values[name], theirs.values[name]];
      const tolerance = name === 'Cou' ? WIRE_TOLERANCE.cou : WIRE_TOLERANCE.value;
      if (a === undefined || b === undefined || Math.abs(a - b) > tolerance)
        out.push(`${k}: ${name} ${String(b)} stored, ${String(a)} recorded`);
    }
  }
  return out;
}

/**
 * Where the edge's series has a hole: every `stepMs` from the first DataTime to the last must be
 * there, except the periods that `excused` says lay wholly in a time the edge was not running.
 */
export function seriesGaps(
  times: number[],
  stepMs: number,
  excused: (start: number, end: number) => boolean = () => false,
): number[] {
  const have = new Set(times);
  const gaps: number[] = [];
  const [first, last] = [times[0], times.at(-1)];
  if (first === undefined || last === undefined) return gaps;
  for (let t = first; t <= last; t += stepMs) if (!have.has(t) && !excused(t, t + stepMs)) gaps.push(t);
  return gaps;
}

/**
 * Compares the edge's ledger with the cloud: what is missing (not even pending) and what the cloud has that the edge
 * never made.
 */
export function reconcile(
  edge: { produced: Set<string>; pending: Set<string> },
  cloud: Map<string, number>,
): { missing: string[]; unknown: string[]; duplicated: string[]; delivered: number } {
  const missing = [...edge.produced].filter((k) => !cloud.has(k) && !edge.pending.has(k));
  const unknown = [...cloud.keys()].filter((k) => !edge.produced.has(k));
  const duplicated = [...cloud].filter(([, n]) => n > 1).map(([k]) => k);
  return { missing, unknown, duplicated, delivered: [...edge.produced].filter((k) => cloud.has(k)).length };
}

/**
 * `hj212 cloud` as its own process (SQLite store unless told) on a fixed port, so a test can kill -9 it and start it
 * again on the same files.
 */
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
