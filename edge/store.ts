import { mkdirSync } from 'node:fs';
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
const KEEP: Record<DataRecord['cn'], 0 | 1> = { '2011': 0, '2021': 0, '2051': 0, '2061': 1, '2031': 1, '2041': 1, '3020': 1 };
const isFacilityCn = (cn: DataRecord['cn']): boolean => cn === '2021' || cn === '2041';

/** The stored body of a record: its statistics, or the field information of a 3020 upload. */
const bodyOf = (r: DataRecord): string => JSON.stringify(r.cn === '3020' ? (r.info ?? {}) : isFacilityCn(r.cn) ? (r.facilities ?? {}) : r.stats);
function fromBody(cn: DataRecord['cn'], at: number, body: string): DataRecord {
  if (cn === '3020') return { cn, at, stats: {}, info: JSON.parse(body) as FieldInfo };
  if (isFacilityCn(cn)) return { cn, at, stats: {}, facilities: JSON.parse(body) as Record<string, number> };
  return { cn, at, stats: JSON.parse(body) as PeriodStats };
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

  constructor(dataDir: string, private readonly options: StoreOptions) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'edge.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // Boxes have small disks: fold the log back every 256 pages (1 MiB) and cut it back to 1 MiB after,
    // instead of letting it grow to SQLite's defaults before the outbox cap has any say.
    this.db.pragma('wal_autocheckpoint = 256');
    this.db.pragma('journal_size_limit = 1048576');
    this.db.exec(SCHEMA);
    const totals = this.db.prepare('SELECT uplink, SUM(bytes) AS total FROM outbox GROUP BY uplink').all() as { uplink: string; total: number }[];
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
  commit(now: number, tick: { minutes: [number, PeriodStats][]; state: AggregatorState; records: DataRecord[] }, outboxes: { uplink: string; accepts: (r: DataRecord) => boolean }[]): void {
    const insertMinute = this.db.prepare('INSERT OR REPLACE INTO minutes (at, stats) VALUES (?, ?)');
    const insertHistory = this.db.prepare('INSERT OR REPLACE INTO history (cn, at, stats) VALUES (?, ?, ?)');
    const insertOutbox = this.db.prepare('INSERT INTO outbox (uplink, qn, cn, at, stats, bytes, keep) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const setState = this.db.prepare("INSERT OR REPLACE INTO state (key, value) VALUES ('cursor', ?)");
    const added = new Map<string, number>();
    this.db.transaction(() => {
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
    })();
    for (const [uplink, n] of added) {
      this.bytes.set(uplink, (this.bytes.get(uplink) ?? 0) + n);
      this.enforceCap(uplink);
    }
  }

  /** Drops the oldest real-time/minute records (then hour/day ones) until the outbox fits its cap. */
  private enforceCap(uplink: string): void {
    const cap = this.options.outboxBytes.get(uplink);
    if (cap === undefined) return;
    const oldest = this.db.prepare('SELECT id, cn, at, bytes FROM outbox WHERE uplink = ? AND keep = ? ORDER BY id LIMIT 500');
    const remove = this.db.prepare('DELETE FROM outbox WHERE id = ?');
    for (const keep of [0, 1]) {
      while ((this.bytes.get(uplink) ?? 0) > cap) {
        const rows = oldest.all(uplink, keep) as { id: number; cn: string; at: number; bytes: number }[];
        if (rows.length === 0) break;
        let freed = 0;
        const dropped: typeof rows = [];
        this.db.transaction(() => {
          for (const row of rows) {
            if ((this.bytes.get(uplink) ?? 0) - freed <= cap) break;
            remove.run(row.id);
            freed += row.bytes;
            dropped.push(row);
          }
        })();
        this.bytes.set(uplink, (this.bytes.get(uplink) ?? 0) - freed);
        this.options.logger.warn(
          { uplink, reason: 'outbox-full', capBytes: cap, dropped: dropped.length, cns: [...new Set(dropped.map((r) => r.cn))], from: dropped[0]?.at, to: dropped.at(-1)?.at },
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
      (this.db.prepare(`SELECT id, qn, cn, at, stats FROM outbox WHERE uplink = ? ORDER BY id ${order} LIMIT ?`).all(uplink, n + skip.size) as RawOutboxRow[]).filter((r) => !skip.has(r.id));
    const live = Math.max(1, Math.floor(size / 4));
    const oldest = pick('ASC', size - live).slice(0, size - live);
    const newest = pick('DESC', live).filter((r) => !oldest.some((o) => o.id === r.id)).slice(0, live);
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
      row = this.db.prepare('DELETE FROM outbox WHERE uplink = ? AND qn = ? RETURNING bytes').get(uplink, qn) as { bytes: number } | undefined;
    } finally {
      this.db.pragma('synchronous = FULL');
    }
    if (row) this.bytes.set(uplink, (this.bytes.get(uplink) ?? 0) - row.bytes);
    return row !== undefined;
  }

  /** Settings commands changed (a platform's new password), kept across restarts. */
  setting(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM state WHERE key = ?').get(`setting:${key}`) as { value: string } | undefined)?.value;
  }

  saveSetting(key: string, value: string): void {
    this.db.prepare('INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)').run(`setting:${key}`, value);
  }

  outboxDepth(uplink: string): { records: number; bytes: number } {
    const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM outbox WHERE uplink = ?').get(uplink) as { n: number };
    return { records: n, bytes: this.bytes.get(uplink) ?? 0 };
  }

  /** Records of one kind whose DataTime is within [from, to], for history requests (2031/2051/2061). */
  history(cn: HistoryCn, from: number, to: number): DataRecord[] {
    const rows = this.db.prepare('SELECT at, stats FROM history WHERE cn = ? AND at BETWEEN ? AND ? ORDER BY at').all(cn, from, to) as { at: number; stats: string }[];
    return rows.map((r) => fromBody(cn, r.at, r.stats));
  }

  /** Where the aggregator resumes: the first open minute, the minutes of the open hour and the hours of the open day. */
  restore(hourStart: (at: number) => number, dayStart: (at: number) => number): AggregatorState | undefined {
    const row = this.db.prepare("SELECT value FROM state WHERE key = 'cursor'").get() as { value: string } | undefined;
    if (!row) return undefined;
    const cursor = Number(row.value);
    const minutes = this.db.prepare('SELECT at, stats FROM minutes WHERE at >= ? AND at < ?').all(hourStart(cursor), cursor) as { at: number; stats: string }[];
    const hours = this.db.prepare("SELECT at, stats FROM history WHERE cn = '2061' AND at >= ? AND at < ?").all(dayStart(cursor), cursor) as { at: number; stats: string }[];
    const parse = (r: { at: number; stats: string }): [number, PeriodStats] => [r.at, JSON.parse(r.stats) as PeriodStats];
    return { cursor, minutes: minutes.map(parse), hours: hours.map(parse) };
  }

  /** Forgets history older than `before` (historyDays), and minutes older than a day. */
  prune(before: number, now: number): void {
    this.db.prepare('DELETE FROM history WHERE at < ?').run(before);
    this.db.prepare('DELETE FROM minutes WHERE at < ?').run(now - 86_400_000);
  }
}
