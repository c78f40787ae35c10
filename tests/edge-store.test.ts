import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EdgeStore } from '../edge/store/index.js';
import { CONFIRM_COMMIT_MS, CONFIRMS_PER_COMMIT } from '../edge/store/outbox.js';
import type { DataCn, DataRecord } from '../edge/aggregator.js';
import { memoryLogger } from './helpers/edge-sim.js';

const T0 = Date.parse('2025-06-01T00:00:00+08:00');
let dir: string;
const stores: EdgeStore[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edge-store-'));
});
afterEach(async () => {
  for (const s of stores.splice(0)) s.close();
  await rm(dir, { recursive: true, force: true });
});

function open(caps: Record<string, number> = {}) {
  const { logger, lines } = memoryLogger();
  const store = new EdgeStore(dir, { logger, outboxBytes: new Map(Object.entries(caps)), utcOffsetMinutes: 480 });
  stores.push(store);
  return { store, lines };
}

const record = (cn: DataCn, i: number): DataRecord => ({
  cn,
  at: T0 + i * 60_000,
  stats: { w01018: { avg: i, flag: 'N', valid: 1, count: 1 } },
});
const state = { cursor: T0, minutes: [], hours: [] };
const everyone = (uplink: string) => ({ uplink, accepts: () => true });

describe('the durable outbox', () => {
  it('keeps a record per uplink until that uplink confirms its QN, across a reopen', () => {
    const { store } = open();
    store.commitTick(T0, { minutes: [], state, records: [record('2051', 0), record('2061', 1)] }, [
      everyone('a'),
      { uplink: 'b', accepts: (r) => r.cn === '2061' },
    ]);
    const batch = store.nextBatch('a', 10, new Set());
    expect(batch.map((r) => r.record.cn)).toEqual(['2051', '2061']);
    expect(batch[0]?.qn).toBe('20250601000000000');
    expect(batch[1]?.qn).toBe('20250601000000010');
    expect(store.confirm('a', batch[0]!.qn)).toBe(true);
    expect(store.confirm('a', batch[0]!.qn)).toBe(false);
    expect(store.outboxDepth('b').records).toBe(1);
    store.close();
    stores.pop();
    const { store: again } = open();
    expect(again.nextBatch('a', 10, new Set()).map((r) => r.record)).toEqual([record('2061', 1)]);
    expect(again.outboxDepth('b').records).toBe(1);
    // QNs keep increasing after a restart even when the clock is behind the last one
    again.commitTick(T0 - 5000, { minutes: [], state, records: [record('2051', 2)] }, [everyone('a')]);
    expect(again.nextBatch('a', 10, new Set()).map((r) => r.qn)).toEqual(['20250601000000010', '20250601000000030']);
  });

  it(
    'deletes the confirmations of one event-loop turn together, ' + 'hiding them from the next batch meanwhile',
    async () => {
      const { store } = open();
      store.commitTick(T0, { minutes: [], state, records: [0, 1, 2, 3].map((i) => record('2051', i)) }, [
        everyone('a'),
      ]);
      const [r0, r1, r2] = store.nextBatch('a', 10, new Set());
      expect(store.confirm('a', r0!.qn)).toBe(true);
      expect(store.confirm('a', r2!.qn)).toBe(true);
      // Not offered again although the delete has not run yet: 4 records - 2 confirmed = r1 and r3.
      expect(store.nextBatch('a', 10, new Set()).map((r) => (r.record.at - T0) / 60_000)).toEqual([1, 3]);
      const raw = new Database(join(dir, 'edge.db'), { readonly: true });
      const rows = () => raw.prepare('SELECT COUNT(*) FROM outbox').pluck().get() as number;
      // The turn is over: both rows are gone from the file without another call to the store.
      await new Promise((r) => setImmediate(r));
      expect(rows()).toBe(2);
      expect(store.confirm('a', r1!.qn)).toBe(true);
      // close() deletes what is still waiting: 2 - 1 = 1 left.
      store.close();
      stores.pop();
      expect(rows()).toBe(1);
      raw.close();
    },
  );

  it('holds the deletes of a replay for one commit until released, a bound or a timeout', async () => {
    const { store } = open();
    const n = CONFIRMS_PER_COMMIT + 2;
    store.commitTick(T0, { minutes: [], state, records: Array.from({ length: n }, (_, i) => record('2051', i)) }, [
      everyone('a'),
    ]);
    const raw = new Database(join(dir, 'edge.db'), { readonly: true });
    const rows = () => raw.prepare('SELECT COUNT(*) FROM outbox').pluck().get() as number;
    const turn = () => new Promise((r) => setImmediate(r));
    const box = store.outbox('a');
    const batch = box.nextBatch(n, new Set());
    // More 9014s expected: the turn ends with both deletes held, the records hidden meanwhile.
    expect(box.confirm(batch[0]!.qn, true)).toBe(true);
    expect(box.confirm(batch[1]!.qn, true)).toBe(true);
    await turn();
    expect(rows()).toBe(n);
    expect(box.nextBatch(n, new Set()).map((r) => r.qn)).not.toContain(batch[0]!.qn);
    // Nothing left in flight: released, committed at the end of this turn.
    box.release();
    await turn();
    expect(rows()).toBe(n - 2);
    // A full commit's worth is not held further.
    for (const r of batch.slice(2)) box.confirm(r.qn, true);
    await turn();
    expect(rows()).toBe(0);
    raw.close();
  });

  it('commits held deletes within CONFIRM_COMMIT_MS even if never released', async () => {
    const { store } = open();
    store.commitTick(T0, { minutes: [], state, records: [record('2051', 0), record('2051', 1)] }, [everyone('a')]);
    const raw = new Database(join(dir, 'edge.db'), { readonly: true });
    const rows = () => raw.prepare('SELECT COUNT(*) FROM outbox').pluck().get() as number;
    const box = store.outbox('a');
    const [r0] = box.nextBatch(2, new Set());
    box.confirm(r0!.qn, true);
    await new Promise((r) => setTimeout(r, CONFIRM_COMMIT_MS + 30));
    expect(rows()).toBe(1);
    raw.close();
  });

  it('carries 3020 field information through the outbox', () => {
    const { store } = open();
    const info: DataRecord = { cn: '3020', at: T0, stats: {}, info: { w01018: { i13004: 165 } } };
    store.commitTick(T0, { minutes: [], state, records: [info] }, [everyone('a')]);
    expect(store.nextBatch('a', 10, new Set()).map((r) => r.record)).toEqual([info]);
  });

  it('replays oldest first in batches while letting the newest records through', () => {
    const { store } = open();
    store.commitTick(T0, { minutes: [], state, records: Array.from({ length: 100 }, (_, i) => record('2051', i)) }, [
      everyone('a'),
    ]);
    const first = store.nextBatch('a', 8, new Set()).map((r) => r.record.at);
    expect(first).toEqual([...[0, 1, 2, 3, 4, 5].map((i) => T0 + i * 60_000), T0 + 98 * 60_000, T0 + 99 * 60_000]);
    const inFlight = new Set(store.nextBatch('a', 8, new Set()).map((r) => r.id));
    const second = store.nextBatch('a', 8, inFlight).map((r) => (r.record.at - T0) / 60_000);
    expect(second).toEqual([6, 7, 8, 9, 10, 11, 96, 97]);
  });

  it('drops the oldest minute data first, hour data last, and logs it', () => {
    const { store, lines } = open({ a: 1200 });
    const records = [record('2061', 0), ...Array.from({ length: 60 }, (_, i) => record('2051', i + 1))];
    store.commitTick(T0, { minutes: [], state, records }, [everyone('a')]);
    const kept = store.nextBatch('a', 100, new Set()).map((r) => r.record);
    expect(kept.length).toBeLessThan(40);
    expect(store.outboxDepth('a').bytes).toBeLessThanOrEqual(1200);
    expect(kept[0]).toEqual(record('2061', 0));
    // the survivors are the newest minute records, contiguous up to the last
    const minutes = kept.slice(1).map((r) => (r.at - T0) / 60_000);
    expect(minutes.at(-1)).toBe(60);
    expect(minutes).toEqual(Array.from({ length: minutes.length }, (_, i) => 61 - minutes.length + i));
    const drop = lines.find((l) => l['reason'] === 'outbox-full');
    expect(drop).toMatchObject({ uplink: 'a', cns: ['2051'], from: T0 + 60_000, dropped: 60 - minutes.length });
  });

  it('keeps history by kind and time for re-send requests, and prunes it', () => {
    const { store } = open();
    store.commitTick(
      T0,
      {
        minutes: [[T0, { w01018: { avg: 1, flag: 'N', valid: 1, count: 1 } }]],
        state: { cursor: T0 + 60_000, minutes: [], hours: [] },
        records: [record('2061', 0), record('2061', 60), record('2051', 10)],
      },
      [],
    );
    expect(store.history('2061', T0, T0 + 3_600_000).map((r) => r.at)).toEqual([T0, T0 + 3_600_000]);
    expect(store.history('2051', T0, T0 + 3_600_000)).toHaveLength(1);
    const restored = store.restore(
      (t) => t - (t % 3_600_000),
      () => T0,
    );
    expect(restored).toMatchObject({ cursor: T0 + 60_000, hours: [[T0, record('2061', 0).stats]] });
    store.prune(T0 + 1, T0 + 1);
    expect(store.history('2061', 0, Number.MAX_SAFE_INTEGER).map((r) => r.at)).toEqual([T0 + 3_600_000]);
  });

  it(
    'converts a database from before auto-vacuum, so a full disk can get ' +
      'space back, and keeps a real reserve next to it',
    () => {
      const old = new Database(join(dir, 'edge.db'));
      old.pragma('journal_mode = WAL');
      old.exec(
        'CREATE TABLE history (cn TEXT NOT NULL, at INTEGER NOT NULL, stats TEXT NOT NULL, PRIMARY KEY (cn, at)) ' +
          "WITHOUT ROWID; INSERT INTO history VALUES ('2061', 0, '{}')",
      );
      old.close();
      const { store, lines } = open();
      expect(store.history('2061', 0, 0)).toHaveLength(1);
      store.close();
      stores.pop();
      const db = new Database(join(dir, 'edge.db'));
      expect(db.pragma('auto_vacuum', { simple: true })).toBe(2);
      db.close();
      expect(lines.some((l) => l['msg'] === 'edge.db converted to incremental auto-vacuum')).toBe(true);
      // Allocated blocks, not a hole: a sparse file would give nothing back on a full disk.
      const reserve = statSync(join(dir, 'edge.db.reserve'));
      expect(reserve.size).toBeGreaterThanOrEqual(1024 * 1024);
      expect(reserve.blocks * 512).toBeGreaterThanOrEqual(reserve.size);
    },
  );
});
