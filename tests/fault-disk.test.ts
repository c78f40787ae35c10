import { closeSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import { EdgeStore } from '../edge/store/index.js';
import type { DataCn, DataRecord } from '../edge/aggregator.js';
import { freePort } from './helpers/cloud-procs.js';
import { warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { flat, memoryLogger, SIM_START, startSim, until } from './helpers/edge-sim.js';
import { freeBytes, smallFilesystem } from './helpers/fault-disk.js';
import { edgeLedger, seriesGaps } from './helpers/fault-pipeline.js';

// tests/edge-store.test.ts proves the drop order on the store alone; this runs the whole agent, with
// its platform unreachable, on a real 16 MB filesystem (tmpfs, when the tests run as root). The
// second part fills a smaller one before any outbox cap is reached (issue 8).

const WARP = 3600;
const HOUR_MS = 3_600_000 / WARP;
// Below the config's 64 KiB minimum, applied past validation, so eight hours of data overflow it.
const CAP = 16 * 1024;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/**
 * The test water outlet on `dir`, its analyzers simulated, its platform unreachable (nothing listens
 * there: every record stays in the outbox), an hour passing every HOUR_MS. `stop` closes it once.
 */
async function outletOnSmallDisk(dir: string, seed: number, outboxBytes?: number) {
  const clock = warpedClock(WARP, SIM_START - 10 * 60_000);
  const devices = [
    { unit: 1, profile: 'cod' },
    { unit: 4, profile: 'water-flow' },
  ];
  const sim = await startSim(
    {
      tcp: { port: 0 },
      devices,
      scenario: { seed, start: '2025-05-31T23:50:00+08:00', signals: { cod: flat(48.5), 'water-flow': flat(20) } },
    },
    clock,
  );
  cleanups.push(() => sim.close());
  const config = waterOutlet(dir, sim.tcp!.port, await freePort());
  const { logger, lines } = memoryLogger();
  const uplinks = outboxBytes === undefined ? config.uplinks : config.uplinks.map((u) => ({ ...u, outboxBytes }));
  const agent = await startAgent({ ...config, uplinks }, { logger, clock, tickMs: 25 });
  let open = true;
  const stop = async () => void (open && ((open = false), await agent.close()));
  cleanups.push(stop);
  return { clock, mn: config.station.mn, agent, lines, stop };
}
const passHours = (n: number) => new Promise((r) => setTimeout(r, n * HOUR_MS));

describe('edge outbox on a small disk', () => {
  it(
    'platform unreachable for 8 hours: the byte cap drops real-time and minute ' +
      'data first, logs it, and every hour record survives',
    async () => {
      const fs = await smallFilesystem(16 * 1024 * 1024);
      cleanups.push(fs.remove);
      const { agent, lines, stop } = await outletOnSmallDisk(fs.dir, 1, CAP);
      await passHours(8);
      const depth = agent.health().uplinks['province']!.outbox;
      await stop();
      const free = await freeBytes(fs.dir);
      console.info(
        JSON.stringify({
          fault: 'outbox cap on a small disk',
          realFilesystem: fs.real,
          capBytes: CAP,
          outbox: depth,
          freeBytes: free,
        }),
      );

      expect(depth.bytes).toBeLessThanOrEqual(CAP);
      const drops = lines.filter((l) => l['reason'] === 'outbox-full');
      expect(drops.length).toBeGreaterThan(0);
      expect(new Set(drops.flatMap((l) => l['cns'] as string[]))).not.toContain('2061');
      const { produced, pending, times } = edgeLedger(fs.dir);
      const hours = [...produced].filter((k) => k.includes('|hour|'));
      expect(hours.length).toBeGreaterThanOrEqual(6 * 2);
      // The cap drops real-time and minute data only: the hour series has a 2061 for every hour.
      expect(seriesGaps(times['2061'], 3_600_000), 'hours with no 2061').toEqual([]);
      expect(hours.filter((k) => !pending.has(k))).toEqual([]);
      // The dropped real-time and minute data are still in the history, for a platform's re-send request.
      expect([...produced].filter((k) => k.includes('|minute|')).length).toBeGreaterThan(
        [...pending].filter((k) => k.includes('|minute|')).length,
      );
      if (fs.real) expect(free).toBeGreaterThan(0);
    },
    30_000,
  );
});

// The store alone on a disk smaller than its outbox caps: SQLite meets ENOSPC (SQLITE_FULL) itself.
const MIB = 1024 * 1024;
const MINUTE_MS = 60_000;
const UPLINKS = [
  { uplink: 'province', accepts: (r: DataRecord) => r.cn !== '2011' },
  { uplink: 'cloud', accepts: () => true },
];
const stats = (i: number) =>
  Object.fromEntries(
    ['w01018', 'w21003', 'w21011', 'w00000'].map((code) => [
      code,
      { avg: i / 7, min: i / 9, max: i / 3, flag: 'N', valid: 1, count: 60 } as const,
    ]),
  );

function openStore(dir: string) {
  const { logger, lines } = memoryLogger();
  // Caps far above the disk: only the disk can stop the outboxes.
  const store = new EdgeStore(dir, {
    logger,
    outboxBytes: new Map(UPLINKS.map((u) => [u.uplink, 1024 * MIB])),
    utcOffsetMinutes: 480,
  });
  cleanups.push(async () => store.close());
  return { store, lines };
}

/**
 * Minute `i` of the simulated clock, as the agent commits it: real-time and minute data, the hour and day when they
 * close.
 */
function commitMinute(store: EdgeStore, i: number, cns: DataCn[] = ['2011', '2051']): void {
  const at = SIM_START + i * MINUTE_MS;
  const closing: DataCn[] = [
    ...cns,
    ...(i % 60 === 59 ? ['2061' as const] : []),
    ...(i % 1440 === 1439 ? ['2031' as const] : []),
  ];
  store.commitTick(
    at,
    {
      minutes: [[at, stats(i)]],
      state: { cursor: at + MINUTE_MS, minutes: [], hours: [] },
      records: closing.map((cn) => ({ cn, at, stats: stats(i) })),
    },
    UPLINKS,
  );
}

/** Takes every byte left on the filesystem of `dir`, as another program's file would. */
function fillDisk(dir: string, name = 'other-program.log'): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) if (writeSync(fd, chunk) === 0) break;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return path;
}

/** The records of `cn` each uplink's outbox still holds, and the history. */
function kept(store: EdgeStore, cn: '2061' | '2031') {
  const outbox = (uplink: string) =>
    store
      .nextBatch(uplink, 1_000_000, new Set())
      .filter((r) => r.record.cn === cn)
      .map((r) => r.record.at);
  return {
    province: outbox('province'),
    cloud: outbox('cloud'),
    history: store.history(cn, 0, Number.MAX_SAFE_INTEGER).map((r) => r.at),
  };
}
const closedAt = (minutes: number, every: number) =>
  Array.from({ length: Math.floor(minutes / every) }, (_, k) => SIM_START + ((k + 1) * every - 1) * MINUTE_MS);

const diskFullLines = (lines: Record<string, unknown>[]) =>
  lines.filter((l) => l['reason'] === 'disk-full' && typeof l['dropped'] === 'number');
const reserveBytes = (dir: string) => statSync(join(dir, 'edge.db.reserve'), { throwIfNoEntry: false })?.size ?? 0;
const NO_ROOT =
  'needs root to mount a small tmpfs; a temp dir on the big disk never fills, so there is nothing to test';

describe('edge store on a disk that fills up', () => {
  it(
    'outbox caps far above a 6 MB disk: the oldest real-time and minute data make ' +
      'room, no write fails, every hour and day record survives',
    async (ctx) => {
      const fs = await smallFilesystem(6 * MIB);
      cleanups.push(fs.remove);
      ctx.skip(!fs.real, NO_ROOT);
      const { store, lines } = openStore(fs.dir);
      // Three simulated days; without room being made the disk refused every write after about 18 hours.
      const MINUTES = 3 * 1440;
      let firstFull: number | undefined;
      const failed: number[] = [];
      for (let i = 0; i < MINUTES; i++) {
        try {
          commitMinute(store, i);
        } catch {
          failed.push(i);
        }
        if (firstFull === undefined && store.diskFullStats().events > 0) firstFull = i;
      }
      const free = await freeBytes(fs.dir);
      const files = Object.fromEntries(
        ['edge.db', 'edge.db-wal', 'edge.db.reserve'].map((f) => [
          f,
          statSync(join(fs.dir, f), { throwIfNoEntry: false })?.size,
        ]),
      );
      console.info(
        JSON.stringify({
          fault: 'disk full under the outbox',
          minutes: MINUTES,
          firstFull,
          disk: store.diskFullStats(),
          freeBytes: free,
          files,
        }),
      );

      expect(failed).toEqual([]);
      expect(firstFull).toBeDefined();
      expect(firstFull!).toBeLessThan(MINUTES / 2);
      const hours = closedAt(MINUTES, 60);
      const days = closedAt(MINUTES, 1440);
      expect(kept(store, '2061')).toEqual({ province: hours, cloud: hours, history: hours });
      expect(kept(store, '2031')).toEqual({ province: days, cloud: days, history: days });
      // Oldest first: the newest minutes are still there, the first ones are gone.
      const minutes = store
        .nextBatch('province', 1_000_000, new Set())
        .filter((r) => r.record.cn === '2051')
        .map((r) => r.record.at);
      expect(minutes.at(-1)).toBe(SIM_START + (MINUTES - 1) * MINUTE_MS);
      expect(minutes[0]).toBeGreaterThan(SIM_START);
      const drops = diskFullLines(lines);
      expect(drops.length).toBe(store.diskFullStats().events);
      expect(drops[0]).toMatchObject({
        level: 40,
        dataDir: fs.dir,
        outbox: expect.any(Number),
        history: expect.any(Number),
        from: SIM_START,
        msg: expect.stringContaining('disk full'),
      });
      expect(drops.reduce((n, l) => n + (l['dropped'] as number), 0)).toBe(store.diskFullStats().dropped);
      expect(store.diskFullStats().dropped).toBeGreaterThan(0);
      expect(new Set(drops.flatMap((l) => l['cns'] as string[]))).toEqual(new Set(['2011', '2051']));
      expect(free).toBeGreaterThan(0);
      expect(reserveBytes(fs.dir)).toBeGreaterThanOrEqual(MIB);
      expect(store.diskFullStats().reserve).toBe(true);
    },
    20_000,
  );

  it(
    'another program takes every free byte: the store makes room the ' +
      'same way, writes go on and the reserve is back',
    async (ctx) => {
      const fs = await smallFilesystem(6 * MIB);
      cleanups.push(fs.remove);
      ctx.skip(!fs.real, NO_ROOT);
      const { store, lines } = openStore(fs.dir);
      for (let i = 0; i < 240; i++) commitMinute(store, i);
      expect(store.diskFullStats().events).toBe(0);
      fillDisk(fs.dir);
      expect(await freeBytes(fs.dir)).toBeLessThan(64 * 1024);
      const failed: number[] = [];
      for (let i = 240; i < 720; i++) {
        try {
          commitMinute(store, i);
        } catch {
          failed.push(i);
        }
      }
      expect(failed).toEqual([]);
      expect(store.diskFullStats().events).toBeGreaterThan(0);
      expect(diskFullLines(lines).length).toBe(store.diskFullStats().events);
      const hours = closedAt(720, 60);
      expect(kept(store, '2061')).toEqual({ province: hours, cloud: hours, history: hours });
      // Our own real-time and minute data gave the room back: the reserve is in place for the next time.
      expect(store.diskFullStats().reserve).toBe(true);
      expect(reserveBytes(fs.dir)).toBeGreaterThanOrEqual(MIB);
    },
    20_000,
  );

  it(
    'a restart on a full disk with free pages inside edge.db: they go ' + 'back to the filesystem, nothing is dropped',
    async (ctx) => {
      const fs = await smallFilesystem(8 * MIB);
      cleanups.push(fs.remove);
      ctx.skip(!fs.real, NO_ROOT);
      const first = openStore(fs.dir);
      for (let i = 0; i < 1200; i++) commitMinute(first.store, i);
      // Uplinks confirmed all but the last 200 records and history was pruned: pages freed, the file as big as ever.
      for (const u of UPLINKS)
        for (const r of first.store.nextBatch(u.uplink, 1_000_000, new Set()).slice(0, -200))
          first.store.confirm(u.uplink, r.qn);
      first.store.prune(SIM_START + 1000 * MINUTE_MS, SIM_START + 1200 * MINUTE_MS);
      first.store.close();
      const size = () => statSync(join(fs.dir, 'edge.db')).size;
      const before = size();
      // Closing removed the log: the first commit after the restart needs disk space for it.
      const { store, lines } = openStore(fs.dir);
      fillDisk(fs.dir);
      const failed: number[] = [];
      for (let i = 1200; i < 1500; i++) {
        try {
          commitMinute(store, i);
        } catch {
          failed.push(i);
        }
      }
      expect(failed).toEqual([]);
      expect(store.diskFullStats()).toEqual({ events: 1, dropped: 0, reserve: true });
      expect(diskFullLines(lines)).toMatchObject([{ dropped: 0, msg: 'disk full: made room without dropping data' }]);
      expect(size()).toBeLessThan(before - MIB);
      expect(store.history('2051', 0, Number.MAX_SAFE_INTEGER)).toHaveLength(500);
    },
    20_000,
  );

  it(
    'nothing left to drop: the write fails with an error naming the data dir and the ' +
      'fix; once there is room it succeeds and the reserve is back',
    async (ctx) => {
      const fs = await smallFilesystem(6 * MIB);
      cleanups.push(fs.remove);
      ctx.skip(!fs.real, NO_ROOT);
      const { store, lines } = openStore(fs.dir);
      // Only hour data, which a full disk never drops.
      for (let i = 59; i < 60 * 24; i += 60) commitMinute(store, i, []);
      const filler = fillDisk(fs.dir);
      let error: Error | undefined;
      for (let i = 24 * 60 + 59; !error && i < 24 * 60 * 30; i += 60) {
        try {
          commitMinute(store, i, []);
        } catch (err) {
          error = err as Error;
        }
      }
      expect(error?.message).toMatch(
        /^disk full: no room for .*edge\.db .*free disk space on that filesystem or lower the uplinks' outboxBytes$/,
      );
      expect(error?.message).toContain(fs.dir);
      expect(store.diskFullStats().reserve).toBe(false);
      // A setting (a platform's new password) cannot fail the command that brought it: logged, kept in memory.
      expect(() => store.saveSettings({ passwords: { province: 'x'.repeat(4 * MIB) } })).not.toThrow();
      expect(lines.find((l) => l['key'] === 'province.pw')).toMatchObject({
        level: 50,
        msg: 'setting not stored: it holds until the agent stops',
      });
      expect(store.readSettings().passwords['province']).toBeUndefined();
      rmSync(filler);
      const before = kept(store, '2061').history.length;
      commitMinute(store, 24 * 60 * 30 + 59, []);
      expect(kept(store, '2061').history.length).toBe(before + 1);
      expect(kept(store, '2061').province.length).toBe(before + 1);
      expect(store.diskFullStats().reserve).toBe(true);
      expect(reserveBytes(fs.dir)).toBeGreaterThanOrEqual(MIB);
    },
    20_000,
  );
});

describe('edge agent on a disk that fills up', () => {
  it(
    'another program takes every free byte while the platform is unreachable: the agent drops its oldest ' +
      'real-time and minute data, says so in its log and health, and keeps every hour record',
    async (ctx) => {
      const fs = await smallFilesystem(6 * MIB);
      cleanups.push(fs.remove);
      ctx.skip(!fs.real, NO_ROOT);
      const { clock, mn, agent, lines, stop } = await outletOnSmallDisk(fs.dir, 2);
      await passHours(3);
      expect(agent.health().storage.events).toBe(0);
      fillDisk(fs.dir);
      const filledAt = clock();
      await passHours(5);
      const health = agent.health();
      await stop();
      console.info(
        JSON.stringify({
          fault: 'disk full under the running agent',
          storage: health.storage,
          outbox: health.uplinks['province']!.outbox,
          freeBytes: await freeBytes(fs.dir),
        }),
      );

      // Three hours of our own data are far less than the reserve: it cannot come back until the other program frees
      // space, and the log says so.
      expect(health.storage).toMatchObject({ unsavedRecords: 0, reserve: false });
      expect(lines.find((l) => l['reserveBytes'] !== undefined)).toMatchObject({
        level: 40,
        mn: mn,
        msg: expect.stringContaining('no room for the disk-full reserve'),
      });
      expect(health.storage.events).toBeGreaterThan(0);
      expect(health.storage.dropped).toBeGreaterThan(0);
      expect(lines.filter((l) => l['level'] === 50)).toEqual([]);
      const drops = diskFullLines(lines);
      expect(drops.length).toBe(health.storage.events);
      for (const d of drops) expect(d).toMatchObject({ mn: mn, dataDir: fs.dir });
      expect(new Set(drops.flatMap((l) => l['cns'] as string[])).has('2061')).toBe(false);
      const { produced, pending } = edgeLedger(fs.dir);
      const hours = [...produced].filter((k) => k.includes('|hour|'));
      expect(hours.length).toBeGreaterThanOrEqual(7 * 2);
      expect(hours.filter((k) => !pending.has(k))).toEqual([]);
      // Writes went on after the disk filled: the real-time data of the last hour are there.
      const rtd = [...pending].filter((k) => k.includes('|rtd|')).map((k) => Number(k.split('|').at(-1)));
      expect(Math.max(...rtd)).toBeGreaterThan(filledAt + 4 * 3_600_000);
      // Oldest first: everything dropped is older than every real-time record still waiting.
      expect(Math.max(...drops.filter((d) => (d['dropped'] as number) > 0).map((d) => d['to'] as number))).toBeLessThan(
        Math.min(...rtd),
      );
    },
    30_000,
  );

  it(
    'a disk full beyond help: records wait in memory, the log says so once, ' +
      'and once space is freed every one of them is stored',
    async (ctx) => {
      const fs = await smallFilesystem(6 * MIB);
      cleanups.push(fs.remove);
      ctx.skip(!fs.real, NO_ROOT);
      const { clock, mn, agent, lines, stop } = await outletOnSmallDisk(fs.dir, 3);
      await passHours(1);
      // The reserve is gone too (another program took it): nothing is left to give back but our own real-time data.
      const fillers = [fillDisk(fs.dir)];
      rmSync(join(fs.dir, 'edge.db.reserve'));
      fillers.push(fillDisk(fs.dir, 'other-program-2.log'));
      await until(() => agent.health().storage.unsavedRecords > 0, 'records the store refused');
      await passHours(3);
      const full = agent.health().storage;
      const refusals = lines.filter((l) => l['msg'] === 'cannot store records; retrying every tick');
      for (const f of fillers) rmSync(f);
      await until(() => agent.health().storage.unsavedRecords === 0, 'the records held in memory to be stored');
      const endAt = clock();
      const after = agent.health().storage;
      await stop();
      console.info(JSON.stringify({ fault: 'disk full beyond help under the running agent', whileFull: full, after }));

      // Three warped hours of real-time, minute and hour data waited in memory, and nothing was dropped.
      expect(full.unsavedRecords).toBeGreaterThan(100);
      expect(after).toMatchObject({ dropped: 0, unsavedRecords: 0, reserve: true });
      // Each said once for the whole outage (at most once a minute), the refusal naming the way out.
      expect(refusals).toHaveLength(1);
      expect(refusals[0]).toMatchObject({
        level: 50,
        mn: mn,
        reason: expect.stringContaining('free disk space on that filesystem'),
      });
      expect(lines.filter((l) => l['msg'] === 'disk full: no real-time or minute data left to drop')).toHaveLength(1);
      const { produced, pending } = edgeLedger(fs.dir);
      const hours = [...produced].filter((k) => k.includes('|hour|'));
      expect(hours.length).toBeGreaterThanOrEqual(2 * (Math.floor((endAt - SIM_START) / 3_600_000) - 1));
      expect(hours.filter((k) => !pending.has(k))).toEqual([]);
      // The real-time series has no hole where the disk was full: what memory held reached the outbox.
      const rtdAt = [...pending]
        .filter((k) => k.includes('|rtd|w01018|'))
        .map((k) => Number(k.split('|').at(-1)))
        .sort((a, b) => a - b);
      expect(rtdAt.at(-1)! - rtdAt[0]!).toBeGreaterThan(3.5 * 3_600_000);
      // Records lost from memory would leave the whole full spell (3 warped hours) empty. The bound is looser
      // than the real-time interval because a stall of the loaded test machine stretches on the warped
      // clock (1 real ms = 3.6 s here): 30 minutes is 0.5 real s of stall, and a sixth of the spell.
      expect(Math.max(...rtdAt.slice(1).map((t, i) => t - rtdAt[i]!))).toBeLessThanOrEqual(30 * 60_000);
    },
    30_000,
  );
});
