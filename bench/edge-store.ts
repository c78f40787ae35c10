/**
 * The edge outbox's replay loop alone, one JSON line: an outbox of `--records` real-time records of 10
 * factors drained as the sender drains it (a window of records out, `--per-turn` 9014s an event-loop
 * turn, one `nextBatch` for the freed slots, the confirmations' commit in the turn's `setImmediate`),
 * without sockets or a platform, so the store's CPU per record is measured apart from the rest.
 * `--before DIR,…` also runs the store of other builds (the `dist` of another commit) in the same
 * rounds, alternating, for a before/after on the same machine at the same time.
 *   node dist/bench/edge-store.js [--records 6000] [--window 4] [--per-turn 2] [--rounds 5] [--before /tmp/old/dist]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import type { PeriodStats } from '../edge/datasets.js';
import type { DataRecord } from '../edge/aggregator.js';
import * as current from '../edge/store/index.js';

type StoreModule = typeof current;

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '6000' },
    window: { type: 'string', default: '4' },
    'per-turn': { type: 'string', default: '2' },
    rounds: { type: 'string', default: '5' },
    before: { type: 'string', default: '' },
  },
});
const [n, window, perTurn, rounds] = [values.records, values.window, values['per-turn'], values.rounds].map(Number) as [
  number,
  number,
  number,
  number,
];

const CODES = ['a21026', 'a21002', 'a34013', 'a19001', 'a01012', 'a01013', 'a01011', 'a01014', 'a00000', 'w01018'];
const stats = (avg: number): PeriodStats =>
  Object.fromEntries(
    CODES.map((c, i) => [
      c,
      { min: avg * 0.9 + i, avg: avg + i, max: avg * 1.1 + i, cou: 0.01 * i, flag: 'N', valid: 60, count: 60 },
    ]),
  );
const t0 = Date.parse('2026-01-01T00:00:00+08:00');
const records: DataRecord[] = Array.from({ length: n }, (_, i) => ({
  cn: '2011',
  at: t0 + i * 30_000,
  stats: stats(20 + (i % 7)),
}));
const silent = pino({ level: 'silent' });

/** CPU µs per record of one drain. */
async function drain(store: StoreModule): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'hj212-edge-store-bench-'));
  try {
    const s = new store.EdgeStore(dir, { logger: silent, utcOffsetMinutes: 480, outboxBytes: new Map() });
    s.commitTick(Date.now(), { minutes: [], state: { cursor: 0, minutes: [], hours: [] }, records }, [
      { uplink: 'p', accepts: () => true },
    ]);
    const inFlight = new Map<number, string>();
    const cpu0 = process.cpuUsage();
    for (const r of s.nextBatch('p', window, new Set())) inFlight.set(r.id, r.qn);
    while (inFlight.size > 0) {
      let k = 0;
      for (const [id, qn] of inFlight) {
        if (k++ >= perTurn) break;
        inFlight.delete(id);
        s.confirm('p', qn);
      }
      for (const r of s.nextBatch('p', window - inFlight.size, new Set(inFlight.keys()))) inFlight.set(r.id, r.qn);
      await new Promise((r) => setImmediate(r));
    }
    const cpu = process.cpuUsage(cpu0);
    s.close();
    return (cpu.user + cpu.system) / n;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const stores: Record<string, StoreModule> = { current };
for (const dir of values.before.split(',').filter(Boolean))
  stores[`before:${dir}`] = (await import(
    pathToFileURL(join(resolve(dir), 'edge', 'store', 'index.js')).href
  )) as StoreModule;

const runs: Record<string, number[]> = Object.fromEntries(Object.keys(stores).map((k) => [k, []]));
for (let round = 0; round < rounds; round++)
  for (const [name, store] of Object.entries(stores)) runs[name]!.push(Math.round(await drain(store)));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  JSON.stringify({
    bench: 'edge-store',
    node: process.version,
    records: n,
    window,
    perTurn,
    rounds,
    cpuUsPerRecord: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, { median: median(v), rounds: v }])),
  }),
);
