/**
 * Rules CPU per 10-factor upload: `RuleEngine.onStored` with its SQLite alarm store (a state database
 * opened as `hj212 cloud` opens it) on the points of 2011 uploads of S water stations, each factor
 * with an upper limit. Two loads:
 *   - steady: every value inside its limit, so no alarm changes (the usual upload; each valid value
 *     still judges "not negative" and "under the limit");
 *   - churn: each station's uploads alternate all ten factors over the limit and all back under it,
 *     so every upload opens or closes ten episodes (the worst case for the state database).
 * Same-run baselines over the same uploads: the decode of the frames alone, and the pure judgement
 * (`judge`, the conditions without the engine or the store). Rounds of every case are interleaved.
 * `--before DIR,…` also runs the engine of other builds (the `dist` of another commit) in the same
 * rounds, for a before/after ratio on the same machine at the same time. CPU is process.cpuUsage
 * (user + system) of this process, which does nothing else meanwhile. One JSON line.
 *   node dist/bench/rules.js [--uploads 4000] [--stations 100] [--rounds 7] [--before /tmp/old/dist]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import * as here from '../cloud/index.js';
import { pointsOf } from '../cloud/ingest/points.js';
import { judge, nextRun, type Run } from '../cloud/rules/judge.js';
import { headlineValue } from '../cloud/store/types.js';
import { decodeFrame, encodeFrame, formatHjTime, makeQn, type Packet } from '../protocol/index.js';
import { median } from './stats.js';

const { values } = parseArgs({
  options: {
    uploads: { type: 'string', default: '4000' },
    stations: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '7' },
    /** Comma-separated `dist` directories of other builds whose engines run in the same rounds. */
    before: { type: 'string', default: '' },
    loads: { type: 'string', default: 'steady,churn' },
  },
});
// A full GC before each measured case, so that none pays for the garbage of the case before it
// (process.cpuUsage counts V8's GC threads too).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const UPLOADS = Number(values.uploads);
const STATIONS = Number(values.stations);
const ROUNDS = Number(values.rounds);
const FACTORS = ['w01018', 'w21003', 'w21011', 'w21001', 'w01001', 'w01010', 'w00000', 'w00001', 'w00002', 'w00003'];
const LIMIT = 100;
const T0 = Date.UTC(2026, 0, 1);

const mnOf = (i: number): string => `0100000000A8900000${String(i).padStart(6, '0')}`;

/** Upload n: station n mod S, one second after the one before; over the limit when `over` says. */
function frame(n: number, over: boolean): string {
  const t = new Date(T0 + n * 1000);
  const factors = Object.fromEntries(
    FACTORS.map((f, i) => [f, { Rtd: ((over ? 150 : 10) + i + (n % 7) / 10).toFixed(2), Flag: 'N' }]),
  );
  const p: Packet = {
    version: '2017',
    qn: makeQn(t),
    st: '32',
    cn: '2011',
    pw: 'b3nch1',
    mn: mnOf(n % STATIONS),
    flag: 5,
    cp: { params: { DataTime: formatHjTime(t) }, factors },
  };
  return encodeFrame(p);
}

const decode = (text: string): Packet => {
  const r = decodeFrame(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.frame.packet;
};

// Each station's k-th upload is over the limit when k is odd (churn), never (steady).
const allLoads = {
  steady: (n: number) => frame(n, false),
  churn: (n: number) => frame(n, Math.floor(n / STATIONS) % 2 === 1),
};
const loads = Object.fromEntries(
  values.loads
    .split(',')
    .map((name) => [name, Array.from({ length: UPLOADS }, (_, n) => allLoads[name as keyof typeof allLoads](n))]),
) as Partial<Record<keyof typeof allLoads, string[]>>;
const pointsOfLoad = Object.fromEntries(
  Object.entries(loads).map(([name, frames]) => [
    name,
    frames.map((f) => {
      const r = pointsOf(decode(f), 'rtd');
      if (!r.ok) throw new Error(r.reason);
      return r.points;
    }),
  ]),
) as Record<keyof typeof allLoads, here.Point[][]>;

// The rules never check it; a low cost keeps the set-up short.
const passwordHash = await here.hashSecret('b3nch1', 1024);
const stationsInput = Array.from({ length: STATIONS }, (_, i) => ({
  mn: mnOf(i),
  enterprise: `E${i}`,
  outlet: `WS-${i}`,
  type: 'water',
  passwordHash,
  factors: Object.fromEntries(FACTORS.map((f) => [f, { unit: 'mg/L', upper: LIMIT }])),
}));

/** What the bench needs of a build's cloud module: the same names in every tree measured. */
type Cloud = Pick<typeof here, 'AlarmStore' | 'Registry' | 'RuleEngine' | 'RulesOptionsSchema' | 'openSqlite'>;

const engines: Record<string, Cloud> = { after: here };
for (const dir of values.before.split(',').filter(Boolean))
  engines[`before:${dir}`] = (await import(pathToFileURL(join(resolve(dir), 'cloud', 'index.js')).href)) as Cloud;

const tmp = await mkdtemp(join(tmpdir(), 'hj212-bench-rules-'));
let dbs = 0;

/** CPU µs (user + system) of `fn`, and its changes (opened and closed episodes). */
function cpuUs(fn: () => number): { us: number; changes: number } {
  gc();
  const before = process.cpuUsage();
  const changes = fn();
  const d = process.cpuUsage(before);
  return { us: d.user + d.system, changes };
}

/** One round of a build's engine over one load, on a fresh state database: CPU µs per upload. */
function runEngine(cloud: Cloud, load: keyof typeof allLoads): { us: number; changes: number } {
  const db = cloud.openSqlite(join(tmp, `state-${dbs++}.db`));
  const registry = cloud.Registry.parse({ stations: stationsInput });
  const alarms = new cloud.AlarmStore(db);
  let changes = 0;
  const engine = new cloud.RuleEngine({
    options: cloud.RulesOptionsSchema.parse({}),
    registry: () => registry,
    // onStored reads nothing from the measurement store (only the missing-hour check does).
    store: undefined as unknown as here.MeasurementStore,
    alarms,
    notify: () => changes++,
    send: () => false,
    shutdowns: () => [],
    log: pino({ level: 'silent' }),
    now: () => T0 + UPLOADS * 1000,
  });
  const stations = stationsInput.map((s) => registry.get(s.mn)!);
  const uploads = pointsOfLoad[load];
  const r = cpuUs(() => {
    for (let n = 0; n < uploads.length; n++) engine.onStored(stations[n % STATIONS]!, uploads[n]!);
    return changes;
  });
  db.close();
  return { us: r.us / uploads.length, changes: r.changes / uploads.length };
}

/** Baseline: the pure judgement of the same uploads (conditions built, nothing applied). */
function runJudge(load: keyof typeof allLoads): { us: number; changes: number } {
  const registry = here.Registry.parse({ stations: stationsInput });
  const stations = stationsInput.map((s) => registry.get(s.mn)!);
  const runsMap = new Map<string, Run>();
  const runs = (p: here.Point): Run | undefined => {
    const value = headlineValue(p);
    if (value === undefined) return undefined;
    const k = `${p.mn}|${p.factor}|${p.kind}`;
    const run = nextRun(runsMap.get(k), value, p.time);
    runsMap.set(k, run);
    return run;
  };
  const uploads = pointsOfLoad[load];
  let conditions = 0;
  const r = cpuUs(() => {
    for (let n = 0; n < uploads.length; n++) conditions += judge(stations[n % STATIONS]!, uploads[n]!, runs).length;
    return 0;
  });
  if (conditions === 0) throw new Error('no condition judged');
  return { us: r.us / uploads.length, changes: 0 };
}

/** Baseline: decoding the same frames alone. */
function runDecode(load: keyof typeof allLoads): { us: number; changes: number } {
  const frames = loads[load]!;
  let factors = 0;
  const r = cpuUs(() => {
    for (const f of frames) factors += Object.keys(decode(f).cp.factors).length;
    return 0;
  });
  if (factors !== frames.length * FACTORS.length) throw new Error('decode lost factors');
  return { us: r.us / frames.length, changes: 0 };
}

try {
  const cases: Record<string, () => { us: number; changes: number }> = {};
  for (const load of Object.keys(loads) as (keyof typeof allLoads)[]) {
    cases[`${load}/decode`] = () => runDecode(load);
    cases[`${load}/judge`] = () => runJudge(load);
    for (const [name, cloud] of Object.entries(engines)) cases[`${load}/${name}`] = () => runEngine(cloud, load);
  }
  // One warm-up round (JIT, page cache), then interleaved rounds.
  for (const run of Object.values(cases)) run();
  const us: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const changes: Record<string, number> = {};
  const names = Object.keys(cases);
  // Each round starts one case further on, so that no case always follows the same one.
  for (let r = 0; r < ROUNDS; r++)
    for (const name of [...names.slice(r % names.length), ...names.slice(0, r % names.length)]) {
      const run = cases[name]!;
      const m = run();
      us[name]!.push(m.us);
      changes[name] = m.changes;
    }
  const result: Record<string, unknown> = {};
  for (const load of Object.keys(loads)) {
    const med = (name: string): number => median(us[`${load}/${name}`]!);
    const decodeUs = med('decode');
    const perBuild = Object.fromEntries(
      Object.keys(engines).map((name) => [
        name,
        {
          cpuUsPerUpload: +med(name).toFixed(1),
          range: [Math.min(...us[`${load}/${name}`]!), Math.max(...us[`${load}/${name}`]!)].map((x) => +x.toFixed(1)),
          alarmChangesPerUpload: changes[`${load}/${name}`],
          ratioToDecode: +(med(name) / decodeUs).toFixed(2),
          ...(name !== 'after' && { afterOverThis: +(med('after') / med(name)).toFixed(3) }),
        },
      ]),
    );
    result[load] = {
      baseline: { decodeCpuUsPerUpload: +decodeUs.toFixed(1), judgeOnlyCpuUsPerUpload: +med('judge').toFixed(1) },
      engines: perBuild,
    };
  }
  console.log(
    JSON.stringify({
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
      factorsPerUpload: FACTORS.length,
      uploadsPerRound: UPLOADS,
      stations: STATIONS,
      rounds: ROUNDS,
      ...result,
    }),
  );
} finally {
  await rm(tmp, { recursive: true, force: true });
}
