import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statfsSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { makeQn, parseHjTime } from '../protocol/index.js';
import type { AggregatorState, DataRecord, FieldInfo, HistoryCn } from './aggregator.js';
import type { PeriodStats } from './datasets.js';

/** One record waiting in an uplink's outbox. */
export interface OutboxRow {
  id: number;
  qn: string;
  record: DataRecord;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS history (cn TEXT NOT NULL, at INTEGER NOT NULL, stats TEXT NOT NULL, PRIMARY KEY (cn, at)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS minutes (at INTEGER PRIMARY KEY, stats TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  uplink TEXT NOT NULL,
  qn TEXT NOT NULL,
  cn TEXT NOT NULL,
  at INTEGER NOT NULL,
  stats TEXT NOT NULL,
  bytes INTEGER NOT NULL,
  -- 0: real-time and minute data, dropped first when the outbox is full; 1: hour and day data
  keep INTEGER NOT NULL
);
-- replay order (nextBatch) and the drop order of the cap (enforceCap)
CREATE INDEX IF NOT EXISTS outbox_order ON outbox (uplink, id);
CREATE INDEX IF NOT EXISTS outbox_drop ON outbox (uplink, keep, id);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_qn ON outbox (uplink, qn);
`;

/** QNs are this far apart: a record split into PNUM parts numbers its parts QN+1, QN+2... (C.49). */
const QN_STEP_MS = 10;

// Parameter changes (3020) are rare and what dynamic control is about: kept like hour data.
const KEEP: Record<DataRecord['cn'], 0 | 1> = {
  '2011': 0,
  '2021': 0,
  '2051': 0,
  '2061': 1,
  '2031': 1,
  '2041': 1,
  '3020': 1,
};
const DROPPABLE_CNS = (Object.keys(KEEP) as DataRecord['cn'][]).filter((cn) => KEEP[cn] === 0);
/** What gives way first on a full disk or a full outbox: real-time and minute data, never hour, day or parameter records. */
export const isDroppable = (cn: DataRecord['cn']): boolean => KEEP[cn] === 0;
const isFacilityCn = (cn: DataRecord['cn']): boolean => cn === '2021' || cn === '2041';

/** The stored body of a record: its statistics, or the field information of a 3020 upload. */
const bodyOf = (r: DataRecord): string =>
  JSON.stringify(r.cn === '3020' ? (r.info ?? {}) : isFacilityCn(r.cn) ? (r.facilities ?? {}) : r.stats);
function fromBody(cn: DataRecord['cn'], at: number, body: string): DataRecord {
  if (cn === '3020') return { cn, at, stats: {}, info: JSON.parse(body) as FieldInfo };
  if (isFacilityCn(cn)) return { cn, at, stats: {}, facilities: JSON.parse(body) as Record<string, number> };
  return { cn, at, stats: JSON.parse(body) as PeriodStats };
}

/** What the write-ahead log is cut back to after a checkpoint (journal_size_limit). */
const WAL_LIMIT_BYTES = 1024 * 1024;
/**
 * Ballast next to edge.db, given back when the disk is full: the DELETE that makes room and the
 * checkpoint that folds the log into the database need free space themselves. It holds a log that
 * outgrew its limit while checkpoints failed, plus the first rows dropped.
 */
const RESERVE_BYTES = WAL_LIMIT_BYTES + 512 * 1024;
/** Free space a disk-full drop aims at: the reserve again, a full log, and room for new records so the next drop is not the next write. */
const ROOM_BYTES = RESERVE_BYTES + WAL_LIMIT_BYTES + 512 * 1024;
/** Rows a disk-full drop deletes between two checks of the free space. */
const DROP_CHUNK = 100;
/** Pages (4 KiB) given back per vacuum step: their moves, parents and pointer maps stay well within the reserve. */
const VACUUM_STEP_PAGES = 64;

/** A write the disk refused even after the drop: only freeing space or lowering the caps helps. */
export class DiskFullError extends Error {}

const isDiskFull = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 'SQLITE_FULL';

/** Writes real zeros: a sparse file would reserve nothing. */
function writeZeros(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  try {
    const zeros = Buffer.alloc(64 * 1024);
    for (let done = 0; done < bytes;) done += writeSync(fd, zeros, 0, Math.min(zeros.length, bytes - done));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Real-time and minute data a disk-full drop deleted, and from where. */
interface Dropped {
  from: 'outbox' | 'history';
  cn: string;
  at: number;
}

export interface DiskFullStats {
  /** Writes that met a full disk and were retried after a drop. */
  events: number;
  /** Real-time and minute records dropped to make room, outbox and history rows alike. */
  dropped: number;
  /** Whether the reserve is in place for the next one. */
  reserve: boolean;
}

export interface StoreOptions {
  logger: Logger;
  /** Outbox cap per uplink, in bytes of stored records. */
  outboxBytes: ReadonlyMap<string, number>;
  utcOffsetMinutes: number;
}

interface RawOutboxRow {
  id: number;
  qn: string;
  cn: DataRecord['cn'];
  at: number;
  stats: string;
}

const toRow = (r: RawOutboxRow): OutboxRow => ({ id: r.id, qn: r.qn, record: fromBody(r.cn, r.at, r.stats) });

/**
 * History, aggregator state and every uplink's outbox in one SQLite file, so a record enters the
 * history and all outboxes in one transaction: after `kill -9` or a power cut it is everywhere or
 * nowhere. WAL with synchronous=FULL: a commit is on disk before the agent moves on (NORMAL would
 * survive a crash but could lose the last commits on power loss); the load is a few commits a minute.
 */
export class EdgeStore {
  private readonly db: Database.Database;
  private readonly bytes = new Map<string, number>();
  /** Receivers match 9014 answers by QN, so QNs stay unique and increasing, even across restarts. */
  private lastQnAt = 0;
  private readonly reservePath: string;
  private reserved: boolean;
  private reserveWarned = false;
  /** A disk full beyond help fails every write alike: said once, until a write gets through again. */
  private futileWarned = false;
  private readonly diskFull = { events: 0, dropped: 0 };

  constructor(
    private readonly dataDir: string,
    private readonly options: StoreOptions,
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'edge.db'));
    // Before the first table: lets a disk-full drop give the freed pages back to the filesystem.
    this.db.pragma('auto_vacuum = INCREMENTAL');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // Boxes have small disks: fold the log back every 256 pages (1 MiB) and cut it back to 1 MiB after,
    // instead of letting it grow to SQLite's defaults before the outbox cap has any say.
    this.db.pragma('wal_autocheckpoint = 256');
    this.db.pragma(`journal_size_limit = ${WAL_LIMIT_BYTES}`);
    this.db.exec(SCHEMA);
    this.convertToIncrementalVacuum();
    this.reservePath = join(dataDir, 'edge.db.reserve');
    this.reserved = statSync(this.reservePath, { throwIfNoEntry: false })?.size === RESERVE_BYTES;
    this.ensureReserve();
    const totals = this.db.prepare('SELECT uplink, SUM(bytes) AS total FROM outbox GROUP BY uplink').all() as {
      uplink: string;
      total: number;
    }[];
    for (const { uplink, total } of totals) this.bytes.set(uplink, total);
    const last = this.db.prepare('SELECT MAX(qn) AS qn FROM outbox').get() as { qn: string | null };
    if (last.qn) this.lastQnAt = parseHjTime(last.qn, options.utcOffsetMinutes, 'QN').getTime();
  }

  private nextQn(now: number): string {
    this.lastQnAt = Math.max(now, this.lastQnAt + QN_STEP_MS);
    return makeQn(new Date(this.lastQnAt), this.options.utcOffsetMinutes);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Commits a tick's outcome at once: the closed minutes, the aggregator's resume point, the new
   * records in history and in the outbox of each uplink that takes them.
   */
  commit(
    now: number,
    tick: { minutes: [number, PeriodStats][]; state: AggregatorState; records: DataRecord[] },
    outboxes: { uplink: string; accepts: (r: DataRecord) => boolean }[],
  ): void {
    const insertMinute = this.db.prepare('INSERT OR REPLACE INTO minutes (at, stats) VALUES (?, ?)');
    const insertHistory = this.db.prepare('INSERT OR REPLACE INTO history (cn, at, stats) VALUES (?, ?, ?)');
    const insertOutbox = this.db.prepare(
      'INSERT INTO outbox (uplink, qn, cn, at, stats, bytes, keep) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const setState = this.db.prepare("INSERT OR REPLACE INTO state (key, value) VALUES ('cursor', ?)");
    const added = this.write(() =>
      this.db.transaction(() => {
        const added = new Map<string, number>();
        for (const [at, stats] of tick.minutes) insertMinute.run(at, JSON.stringify(stats));
        setState.run(String(tick.state.cursor));
        for (const record of tick.records) {
          const stats = bodyOf(record);
          insertHistory.run(record.cn, record.at, stats);
          for (const box of outboxes) {
            if (!box.accepts(record)) continue;
            insertOutbox.run(box.uplink, this.nextQn(now), record.cn, record.at, stats, stats.length, KEEP[record.cn]);
            added.set(box.uplink, (added.get(box.uplink) ?? 0) + stats.length);
          }
        }
        return added;
      })(),
    );
    for (const [uplink, n] of added) {
      this.bytes.set(uplink, (this.bytes.get(uplink) ?? 0) + n);
      this.enforceCap(uplink);
    }
  }

  /** Drops the oldest real-time/minute records (then hour/day ones) until the outbox fits its cap. */
  private enforceCap(uplink: string): void {
    const cap = this.options.outboxBytes.get(uplink);
    if (cap === undefined) return;
    const oldest = this.db.prepare(
      'SELECT id, cn, at, bytes FROM outbox WHERE uplink = ? AND keep = ? ORDER BY id LIMIT 500',
    );
    const remove = this.db.prepare('DELETE FROM outbox WHERE id = ?');
    for (const keep of [0, 1]) {
      while ((this.bytes.get(uplink) ?? 0) > cap) {
        // Selected inside the write: a retry after a disk-full drop must not count rows that drop took.
        const dropped = this.write(() =>
          this.db.transaction(() => {
            const rows = oldest.all(uplink, keep) as { id: number; cn: string; at: number; bytes: number }[];
            let left = this.bytes.get(uplink) ?? 0;
            const taken: typeof rows = [];
            for (const row of rows) {
              if (left <= cap) break;
              remove.run(row.id);
              left -= row.bytes;
              taken.push(row);
            }
            return taken;
          })(),
        );
        if (dropped.length === 0) break;
        const freed = dropped.reduce((sum, r) => sum + r.bytes, 0);
        this.bytes.set(uplink, (this.bytes.get(uplink) ?? 0) - freed);
        this.options.logger.warn(
          {
            uplink,
            reason: 'outbox-full',
            capBytes: cap,
            dropped: dropped.length,
            cns: [...new Set(dropped.map((r) => r.cn))],
            from: dropped[0]?.at,
            to: dropped.at(-1)?.at,
          },
          'outbox over its cap: dropped the oldest records of the lowest priority',
        );
      }
    }
  }

  /**
   * The next records to send: mostly the oldest (a backlog replays in order), plus the newest few so
   * live data is not held back behind a week of backlog. `skip` are ids already in flight.
   */
  nextBatch(uplink: string, size: number, skip: ReadonlySet<number>): OutboxRow[] {
    const pick = (order: 'ASC' | 'DESC', n: number) =>
      (
        this.db
          .prepare(`SELECT id, qn, cn, at, stats FROM outbox WHERE uplink = ? ORDER BY id ${order} LIMIT ?`)
          .all(uplink, n + skip.size) as RawOutboxRow[]
      ).filter((r) => !skip.has(r.id));
    const live = Math.max(1, Math.floor(size / 4));
    const oldest = pick('ASC', size - live).slice(0, size - live);
    const newest = pick('DESC', live)
      .filter((r) => !oldest.some((o) => o.id === r.id))
      .slice(0, live);
    return [...oldest, ...newest.reverse()].map(toRow);
  }

  /** The receiver confirmed `qn` (9014): the record leaves the outbox. Returns whether it was there. */
  confirm(uplink: string, qn: string): boolean {
    // A confirmation lost to a power cut only makes the record go out again (the platform drops the
    // duplicate QN), so it need not wait for fsync; the next FULL commit syncs it with the WAL. With
    // FULL here a replay would pay one fsync per record.
    this.db.pragma('synchronous = NORMAL');
    let row: { bytes: number } | undefined;
    try {
      row = this.write(
        () =>
          this.db.prepare('DELETE FROM outbox WHERE uplink = ? AND qn = ? RETURNING bytes').get(uplink, qn) as
            { bytes: number } | undefined,
      );
    } catch (err) {
      // Called from a socket's data handler: a throw there would take the agent and its unsaved records down.
      if (!(err instanceof DiskFullError)) throw err;
      this.options.logger.error(
        { uplink, qn, reason: err.message },
        'confirmation not stored: the record will go out again',
      );
    } finally {
      this.db.pragma('synchronous = FULL');
    }
    if (row) this.bytes.set(uplink, (this.bytes.get(uplink) ?? 0) - row.bytes);
    return row !== undefined;
  }

  /** Settings commands changed (a platform's new password), kept across restarts. */
  setting(key: string): string | undefined {
    return (
      this.db.prepare('SELECT value FROM state WHERE key = ?').get(`setting:${key}`) as { value: string } | undefined
    )?.value;
  }

  /** On a disk full beyond help the value holds until the agent stops: failing a platform's command, or a tick that already stored its records, would lose more. */
  saveSetting(key: string, value: string): void {
    try {
      this.write(() =>
        this.db.prepare('INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)').run(`setting:${key}`, value),
      );
    } catch (err) {
      if (!(err instanceof DiskFullError)) throw err;
      this.options.logger.error({ key, reason: err.message }, 'setting not stored: it holds until the agent stops');
    }
  }

  /** Records and bytes waiting for an uplink, and the DataTime of the oldest one (the first queued). */
  outboxDepth(uplink: string): { records: number; bytes: number; oldestAt?: number } {
    const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE uplink = ?').get(uplink) as { n: number };
    const depth: { records: number; bytes: number; oldestAt?: number } = {
      records: n,
      bytes: this.bytes.get(uplink) ?? 0,
    };
    if (n === 0) return depth;
    const first = this.db.prepare('SELECT at FROM outbox WHERE uplink = ? ORDER BY id LIMIT 1').get(uplink) as
      { at: number } | undefined;
    if (first) depth.oldestAt = first.at;
    return depth;
  }

  /** Records of one kind whose DataTime is within [from, to], all at once: for tools and tests. History requests read `historyPage`. */
  history(cn: HistoryCn, from: number, to: number): DataRecord[] {
    const rows = this.db
      .prepare('SELECT at, stats FROM history WHERE cn = ? AND at BETWEEN ? AND ? ORDER BY at')
      .all(cn, from, to) as { at: number; stats: string }[];
    return rows.map((r) => fromBody(cn, r.at, r.stats));
  }

  /**
   * One page of history for a history request: records of `cn` with DataTime in [from, to] after
   * `after` (exclusive), oldest first. Keyset paging on the (cn, at) key: each page is an index range
   * scan however deep into a year it starts.
   */
  historyPage(cn: HistoryCn, from: number, to: number, after: number | undefined, limit: number): DataRecord[] {
    const lower = after === undefined ? from : Math.max(from, after + 1);
    const rows = this.db
      .prepare('SELECT at, stats FROM history WHERE cn = ? AND at BETWEEN ? AND ? ORDER BY at LIMIT ?')
      .all(cn, lower, to, limit) as { at: number; stats: string }[];
    return rows.map((r) => fromBody(cn, r.at, r.stats));
  }

  /** Where the aggregator resumes: the first open minute, the minutes of the open hour and the hours of the open day. */
  restore(hourStart: (at: number) => number, dayStart: (at: number) => number): AggregatorState | undefined {
    const row = this.db.prepare("SELECT value FROM state WHERE key = 'cursor'").get() as { value: string } | undefined;
    if (!row) return undefined;
    const cursor = Number(row.value);
    const minutes = this.db
      .prepare('SELECT at, stats FROM minutes WHERE at >= ? AND at < ?')
      .all(hourStart(cursor), cursor) as { at: number; stats: string }[];
    const hours = this.db
      .prepare("SELECT at, stats FROM history WHERE cn = '2061' AND at >= ? AND at < ?")
      .all(dayStart(cursor), cursor) as { at: number; stats: string }[];
    const parse = (r: { at: number; stats: string }): [number, PeriodStats] => [
      r.at,
      JSON.parse(r.stats) as PeriodStats,
    ];
    return { cursor, minutes: minutes.map(parse), hours: hours.map(parse) };
  }

  /** Forgets history older than `before` (historyDays), and minutes older than a day. */
  prune(before: number, now: number): void {
    this.write(() => {
      this.db.prepare('DELETE FROM history WHERE at < ?').run(before);
      this.db.prepare('DELETE FROM minutes WHERE at < ?').run(now - 86_400_000);
    });
  }

  diskFullStats(): DiskFullStats {
    return { ...this.diskFull, reserve: this.reserved };
  }

  /**
   * Every write goes through here: on a full disk, real-time and minute data make room and the write
   * is tried once more; after that the error names the way out rather than repeating SQLITE_FULL.
   */
  private write<T>(fn: () => T): T {
    let result: T;
    try {
      result = fn();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      result = this.retryAfterMakingRoom(fn);
    }
    this.futileWarned = false;
    this.ensureReserve();
    return result;
  }

  private retryAfterMakingRoom<T>(fn: () => T): T {
    try {
      this.makeRoom();
      return fn();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      throw new DiskFullError(
        `disk full: no room for ${join(this.dataDir, 'edge.db')} even after dropping real-time and minute data; free disk space on that filesystem or lower the uplinks' outboxBytes`,
        { cause: err },
      );
    }
  }

  /** Gives the reserve back, then drops the oldest real-time and minute data until there is room again. Never hour or day data. */
  private makeRoom(): void {
    rmSync(this.reservePath, { force: true });
    this.reserved = false;
    this.reserveWarned = false;
    const dropped: Dropped[] = [];
    try {
      this.compact();
      while (this.room() < ROOM_BYTES) {
        const chunk = this.dropOldest();
        if (chunk.length === 0) break;
        dropped.push(...chunk);
        this.compact();
      }
    } finally {
      // Also when the disk refused even this: what was dropped is never silent.
      this.logDrop(dropped);
    }
  }

  private logDrop(dropped: Dropped[]): void {
    this.diskFull.events += 1;
    this.diskFull.dropped += dropped.length;
    const count = (from: Dropped['from']) => dropped.filter((d) => d.from === from).length;
    const ats = dropped.map((d) => d.at);
    const enough = this.room() >= ROOM_BYTES;
    const futile = dropped.length === 0 && !enough;
    if (futile && this.futileWarned) return;
    this.futileWarned = futile;
    this.options.logger.warn(
      {
        reason: 'disk-full',
        dataDir: this.dataDir,
        dropped: dropped.length,
        outbox: count('outbox'),
        history: count('history'),
        cns: [...new Set(dropped.map((d) => d.cn))],
        ...(dropped.length > 0 && { from: Math.min(...ats), to: Math.max(...ats) }),
        freeBytes: this.freeBytes(),
      },
      dropped.length > 0
        ? 'disk full: dropped the oldest real-time and minute data to make room'
        : enough
          ? 'disk full: made room without dropping data'
          : 'disk full: no real-time or minute data left to drop',
    );
  }

  /**
   * Folds the log into the database, then hands its free pages back to the filesystem a step at a
   * time: moving pages writes to the log, and each step must fit in the room the last one made. A
   * database without auto-vacuum frees nothing, which ends the loop.
   */
  private compact(): void {
    const freePages = () => this.db.pragma('freelist_count', { simple: true }) as number;
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    let free = freePages();
    while (free > 0) {
      this.db.pragma(`incremental_vacuum(${VACUUM_STEP_PAGES})`);
      this.db.pragma('wal_checkpoint(TRUNCATE)');
      const left = freePages();
      if (left >= free) break;
      free = left;
    }
  }

  /** Space SQLite can write to: free on the filesystem, plus free pages in a database that cannot give them back. */
  private room(): number {
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return this.freeBytes() + free * (this.db.pragma('page_size', { simple: true }) as number);
  }

  private freeBytes(): number {
    const fs = statfsSync(this.dataDir);
    return fs.bavail * fs.bsize;
  }

  /**
   * Deletes up to DROP_CHUNK rows of the oldest real-time or minute data, wherever it is: an uplink's
   * outbox or the history. At equal age the outbox copy goes first: the history one still answers a
   * platform's re-send request.
   */
  private dropOldest(): Dropped[] {
    const firstOutbox = this.db
      .prepare('SELECT at FROM outbox WHERE uplink = ? AND keep = 0 ORDER BY id LIMIT 1')
      .pluck();
    const firstHistory = this.db.prepare('SELECT at FROM history WHERE cn = ? ORDER BY at LIMIT 1').pluck();
    const sources = [
      ...[...this.bytes.keys()].map((uplink) => ({
        at: firstOutbox.get(uplink) as number | undefined,
        drop: () => this.dropOutbox(uplink),
      })),
      ...DROPPABLE_CNS.map((cn) => ({
        at: firstHistory.get(cn) as number | undefined,
        drop: () => this.dropHistory(cn),
      })),
    ];
    let oldest: (typeof sources)[number] | undefined;
    for (const s of sources) if (s.at !== undefined && (oldest?.at === undefined || s.at < oldest.at)) oldest = s;
    return oldest ? oldest.drop() : [];
  }

  private dropOutbox(uplink: string): Dropped[] {
    const rows = this.db
      .prepare('SELECT id, cn, at, bytes FROM outbox WHERE uplink = ? AND keep = 0 ORDER BY id LIMIT ?')
      .all(uplink, DROP_CHUNK) as { id: number; cn: string; at: number; bytes: number }[];
    this.db.prepare('DELETE FROM outbox WHERE uplink = ? AND keep = 0 AND id <= ?').run(uplink, rows.at(-1)!.id);
    this.bytes.set(uplink, (this.bytes.get(uplink) ?? 0) - rows.reduce((sum, r) => sum + r.bytes, 0));
    return rows.map((r) => ({ from: 'outbox', cn: r.cn, at: r.at }));
  }

  private dropHistory(cn: string): Dropped[] {
    const ats = this.db
      .prepare('SELECT at FROM history WHERE cn = ? ORDER BY at LIMIT ?')
      .pluck()
      .all(cn, DROP_CHUNK) as number[];
    this.db.prepare('DELETE FROM history WHERE cn = ? AND at <= ?').run(cn, ats.at(-1)!);
    return ats.map((at) => ({ from: 'history', cn, at }));
  }

  /** Puts the reserve (back) in place if it is missing; without room for it, says so once and tries again after later writes. */
  private ensureReserve(): void {
    if (this.reserved) return;
    const failure = this.placeReserve();
    if (failure !== undefined && !this.reserveWarned) {
      this.options.logger.warn(
        { reason: 'disk-full', dataDir: this.dataDir, reserveBytes: RESERVE_BYTES, cause: failure },
        'no room for the disk-full reserve; trying again after later writes',
      );
    }
    this.reserveWarned = failure !== undefined;
  }

  /** Returns why the reserve could not be placed, if it could not. */
  private placeReserve(): string | undefined {
    const partial = `${this.reservePath}.partial`;
    // Left by a crash, it would hold space the check below counts as taken.
    rmSync(partial, { force: true });
    // A reserve that leaves no room for the log would only trade the next write for a drop.
    const needed = RESERVE_BYTES + WAL_LIMIT_BYTES;
    const free = this.freeBytes();
    if (free < needed) return `${free} bytes free, ${needed} needed`;
    try {
      writeZeros(partial, RESERVE_BYTES);
      renameSync(partial, this.reservePath);
      this.reserved = true;
      return undefined;
    } catch (err) {
      rmSync(partial, { force: true });
      return (err as Error).message;
    }
  }

  /** Databases from before auto_vacuum was set get it the only way SQLite allows: a VACUUM, once. */
  private convertToIncrementalVacuum(): void {
    if (this.db.pragma('auto_vacuum', { simple: true }) === 2) return;
    try {
      this.db.exec('VACUUM');
      this.options.logger.info({ dataDir: this.dataDir }, 'edge.db converted to incremental auto-vacuum');
    } catch (err) {
      this.options.logger.warn(
        { reason: (err as Error).message, dataDir: this.dataDir },
        'edge.db keeps auto-vacuum off: a full disk will drop data without handing the space back; retried at the next start',
      );
    }
  }
}
