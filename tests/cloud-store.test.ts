import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATA_CN, pointsOf, SqliteStore, type Point } from '../cloud/index.js';
import { GroupCommit } from '../cloud/store/group-commit.js';
import { type Packet } from '../protocol/index.js';
import { parseCp } from '../protocol/cp.js';
import { WATER_MN } from './helpers/cloud-fixtures.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function tempStore(): Promise<SqliteStore> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-store-'));
  const store = SqliteStore.open(join(dir, 'store.db'));
  cleanup.push(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

const T0 = Date.parse('2026-11-20T10:00:00+08:00');
const point = (factor: string, kind: Point['kind'], time: number, avg: number, flag = 'N'): Point => ({
  mn: WATER_MN,
  factor,
  kind,
  time,
  values: { Avg: avg },
  flag,
  outlet: 'WS-01',
});

describe('SQLite store', () => {
  it('runs in WAL mode and syncs every commit: a 9014 is only sent for what a power cut cannot take back', async () => {
    const store = await tempStore();
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('commits the uploads of one event-loop turn together, each confirmed once stored', async () => {
    const store = await tempStore();
    const writes = [0, 1, 2, 3].map((i) => store.write([point('w01018', 'hour', T0 + i * 3_600_000, i)]));
    expect(await store.query({ mn: WATER_MN, kind: 'hour', from: 0, to: T0 * 2 })).toEqual([]);
    await Promise.all(writes);
    expect(
      (await store.query({ mn: WATER_MN, kind: 'hour', from: 0, to: T0 * 2 })).map((p) => p.values['Avg']),
    ).toEqual([0, 1, 2, 3]);
  });

  it('stores writes of any size (several rows per INSERT), the later row of a key winning within a write', async () => {
    const store = await tempStore();
    const many = Array.from({ length: 37 }, (_, i) => point(`w${String(i).padStart(5, '0')}`, 'hour', T0, i));
    await Promise.all([store.write(many), store.write([point('w00001', 'hour', T0, 99, 'M')])]);
    await store.write([point('w00002', 'hour', T0, 5), point('w00002', 'hour', T0, 6, 'D')]);
    const got = await store.query({ mn: WATER_MN, kind: 'hour', from: T0, to: T0 + 1 });
    expect(got).toHaveLength(37);
    expect(got[0]).toEqual(point('w00000', 'hour', T0, 0));
    expect(got[1]).toEqual(point('w00001', 'hour', T0, 99, 'M'));
    expect(got[2]).toEqual(point('w00002', 'hour', T0, 6, 'D'));
    expect(got[36]).toEqual(point('w00036', 'hour', T0, 36));
  });

  it('overwrites the same MN, factor, kind and time, and keeps kinds apart', async () => {
    const store = await tempStore();
    await store.write([point('w01018', 'hour', T0, 20), point('w21003', 'hour', T0, 1)]);
    await store.write([point('w01018', 'hour', T0, 22, 'M'), point('w01018', 'minute', T0, 21)]);
    const hours = await store.query({ mn: WATER_MN, kind: 'hour', from: T0, to: T0 + 1 });
    expect(hours).toEqual([point('w01018', 'hour', T0, 22, 'M'), point('w21003', 'hour', T0, 1)]);
    expect(await store.query({ mn: WATER_MN, kind: 'minute', from: T0, to: T0 + 1 })).toEqual([
      point('w01018', 'minute', T0, 21),
    ]);
  });

  it('queries by factor and a half-open time range, ordered by time', async () => {
    const store = await tempStore();
    const H = 3_600_000;
    await store.write([3, 1, 0, 2].map((i) => point('w01018', 'hour', T0 + i * H, i)));
    await store.write([point('w21003', 'hour', T0 + H, 9)]);
    const got = await store.query({ mn: WATER_MN, factor: 'w01018', kind: 'hour', from: T0 + H, to: T0 + 3 * H });
    expect(got.map((p) => p.values['Avg'])).toEqual([1, 2]);
    expect(await store.query({ mn: 'other', kind: 'hour', from: 0, to: T0 * 2 })).toEqual([]);
  });
});

describe('points of a packet', () => {
  const packet = (cn: string, cp: string, mode: 'strict' | 'lenient' = 'strict'): Packet => ({
    version: '2017',
    st: '32',
    cn,
    mn: WATER_MN,
    flag: 5,
    cp: parseCp(cp, mode, []),
  });

  it('takes numeric fields as values, the flag apart, and DataTime as local UTC+8 time', () => {
    const p = packet(
      '2061',
      'DataTime=20261120100000;w01018-Avg=20.5,w01018-Max=30,w01018-Flag=N,w01018-SampleTime=20261120100500;' +
        'w00000-Cou=12.25,w00000-Flag=N',
    );
    const r = pointsOf(p, DATA_CN['2061']!, 'WS-01');
    expect(r).toEqual({
      ok: true,
      points: [
        {
          mn: WATER_MN,
          factor: 'w01018',
          kind: 'hour',
          time: T0,
          values: { Avg: 20.5, Max: 30 },
          flag: 'N',
          outlet: 'WS-01',
        },
        { mn: WATER_MN, factor: 'w00000', kind: 'hour', time: T0, values: { Cou: 12.25 }, flag: 'N', outlet: 'WS-01' },
      ],
    });
  });

  it('refuses an upload without a usable DataTime', () => {
    expect(pointsOf(packet('2011', 'w01018-Rtd=1'), 'rtd')).toEqual({ ok: false, reason: 'no DataTime in the CP' });
    // Month 13: strict decoding refuses it already; lenient lets it through to the store, which refuses it.
    expect(pointsOf(packet('2011', 'DataTime=20261320100000;w01018-Rtd=1', 'lenient'), 'rtd')).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a valid date/),
    });
  });
});

describe('group commit', () => {
  it(
    'writes the additions of one turn together, and when that fails, ' + 'each alone: only the bad one is refused',
    async () => {
      const commits: number[][][] = [];
      const group = new GroupCommit<number>((groups) => {
        if (groups.some((g) => g.includes(-1))) throw new Error('disk says no');
        commits.push(groups.map((g) => [...g]));
      });
      await Promise.all([group.add([1]), group.add([2, 3])]);
      expect(commits).toEqual([[[1], [2, 3]]]);
      const outcomes = await Promise.allSettled([group.add([4]), group.add([-1]), group.add([5])]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(commits.slice(1)).toEqual([[[4]], [[5]]]);
    },
  );

  it('makes a turn durable once, after its commits and the fallback; refuses them all if that fails', async () => {
    const steps: string[] = [];
    let syncFails = false;
    const group = new GroupCommit<number>(
      (groups) => {
        if (groups.some((g) => g.includes(-1))) throw new Error('disk says no');
        steps.push(`append ${groups.map((g) => g.join('+')).join(',')}`);
      },
      () => {
        steps.push('sync');
        if (syncFails) throw new Error('fsync failed');
      },
    );
    const outcomes = await Promise.allSettled([group.add([1]), group.add([-1]), group.add([2])]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(steps).toEqual(['append 1', 'append 2', 'sync']);
    syncFails = true;
    const failed = await Promise.allSettled([group.add([3]), group.add([4])]);
    expect(failed.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(steps.slice(3)).toEqual(['append 3,4', 'sync']);
  });
});
