import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { DataRecord } from '../aggregator.js';
import { fromBody } from './body.js';
import type { Statements } from './db.js';
import { DiskFullError, type DiskGuard, type Dropped } from './disk-guard.js';
import { DROP_CHUNK } from './history.js';
import { dropClass, planDrops } from './retention.js';

/** One record waiting in an uplink's outbox. */
export interface OutboxRow {
  id: number;
  qn: string;
  record: DataRecord;
}

/**
 * An uplink's durable buffer (the shape of Telegraf's output buffer): records go in with `enqueue`,
 * out in batches with `nextBatch`, and leave only once the receiver confirmed them (`confirm`).
 */
export interface Outbox {
  /** Adds a record under its QN; called inside the store's tick transaction. Returns the bytes it takes. */
  enqueue(record: DataRecord, body: string, qn: string): number;
  /**
   * The next records to send: mostly the oldest (a backlog replays in order), plus the newest few so
   * live data is not held back behind a week of backlog. `skip` are ids already in flight.
   */
  nextBatch(size: number, skip: ReadonlySet<number>): OutboxRow[];
  /**
   * The receiver confirmed `qn` (9014): the record leaves the outbox. Returns whether it was there.
   * `more`: the caller expects more 9014s shortly (records still in flight), so the delete may wait for
   * theirs and share one commit (see `Outboxes`) until `release`; without it, it is committed once this
   * turn is over.
   */
  confirm(qn: string, more?: boolean): boolean;
  /** The 9014s expected with `more` will not come (nothing left in flight): what is held commits this turn. */
  release(): void;
  /** Records and bytes waiting, and the DataTime of the oldest one. */
  depth(): { records: number; bytes: number; oldestAt?: number };
}

interface RawRow {
  id: number;
  qn: string;
  cn: DataRecord['cn'];
  at: number;
  stats: string;
}
interface SizedRow {
  id: number;
  cn: DataRecord['cn'];
  at: number;
  bytes: number;
}

const toRow = (r: RawRow): OutboxRow => ({ id: r.id, qn: r.qn, record: fromBody(r.cn, r.at, r.stats) });

/**
 * The first rows of the outbox in one order (oldest first or newest first), read ahead in one statement.
 * `complete`: they are all the outbox holds.
 */
interface End {
  rows: RawRow[];
  complete: boolean;
}

/** Rows `nextBatch` reads beyond what it needs at each end, so most calls read nothing. */
const READ_AHEAD = 64;
/** Rows handed out remembered at most (a window is at most 64; the rest were resent after reconnects). */
const HANDED_OUT_MAX = 1024;

interface Shared {
  db: Database.Database;
  sql: Statements;
  guard: DiskGuard;
  logger: Logger;
  /** Deletes every confirmed record now (depth, close). */
  flush: () => void;
  /** A record was confirmed (`held`), or the held ones are released: arranges the delete (`Outboxes.schedule`). */
  schedule: (more: boolean, held: number) => void;
}

class SqliteOutbox implements Outbox {
  /** Bytes of the stored records, confirmed ones included until their delete commits. */
  bytes = 0;
  /** Confirmed (QN to row id), deleted at the next flush: hidden from `nextBatch` meanwhile. */
  private readonly confirmed = new Map<string, number>();
  /** The ids of `confirmed`, for `nextBatch`'s filter. */
  private readonly confirmedIds = new Set<number>();
  /**
   * The first rows at each end of the outbox (0 oldest first, 1 newest first), exactly as SQLite would
   * list them: dropped when a record is added or dropped, and the confirmed ones taken out once their
   * delete committed.
   */
  private ends: [End | undefined, End | undefined] = [undefined, undefined];
  /**
   * QN to id of the rows `nextBatch` handed out since the last drop, so a 9014 of one finds its row
   * without a SELECT: forgotten at every drop (cap, full disk) and at its confirmation, and bounded.
   */
  private readonly handedOut = new Map<string, number>();

  constructor(
    readonly uplink: string,
    private readonly cap: number | undefined,
    private readonly s: Shared,
  ) {}

  enqueue(record: DataRecord, body: string, qn: string): number {
    this.s.sql.enqueue.run(this.uplink, qn, record.cn, record.at, body, body.length, dropClass(record.cn));
    this.forgetEnds();
    return body.length;
  }

  /** The outbox changed other than by a confirmation's delete: the next batch reads its ends again. */
  private forgetEnds(): void {
    this.ends = [undefined, undefined];
  }

  /** Rows were dropped: what was handed out may be gone. */
  private forgetDropped(): void {
    this.forgetEnds();
    this.handedOut.clear();
  }

  private handOut(r: RawRow): OutboxRow {
    if (this.handedOut.size >= HANDED_OUT_MAX) this.handedOut.clear();
    this.handedOut.set(r.qn, r.id);
    return toRow(r);
  }

  /** The first `count` rows from one end (fewer if the outbox holds fewer), read ahead when the cache runs short. */
  private end(which: 0 | 1, count: number): RawRow[] {
    let end = this.ends[which];
    if (!end || (end.rows.length < count && !end.complete)) {
      const limit = count + READ_AHEAD;
      const statement = which === 0 ? this.s.sql.oldestOutbox : this.s.sql.newestOutbox;
      const rows = statement.all(this.uplink, limit) as RawRow[];
      end = { rows, complete: rows.length < limit };
      this.ends[which] = end;
    }
    return end.rows;
  }

  nextBatch(size: number, skip: ReadonlySet<number>): OutboxRow[] {
    const hidden = skip.size + this.confirmed.size;
    // The first n rows from one end that are neither in flight nor confirmed, looked for among its first
    // n + hidden rows (as many as can be hidden).
    const pick = (which: 0 | 1, n: number): RawRow[] => {
      const out: RawRow[] = [];
      if (n <= 0) return out;
      const rows = this.end(which, n + hidden);
      const last = Math.min(rows.length, n + hidden);
      for (let i = 0; i < last && out.length < n; i++) {
        const row = rows[i]!;
        if (!skip.has(row.id) && !this.confirmedIds.has(row.id)) out.push(row);
      }
      return out;
    };
    const live = Math.max(1, Math.floor(size / 4));
    const oldest = pick(0, size - live);
    // The newest: among the first live + oldest.length visible ones, those the oldest did not take.
    let newest = pick(1, live + oldest.length);
    if (oldest.length > 0) {
      const taken = new Set(oldest.map((r) => r.id));
      newest = newest.filter((r) => !taken.has(r.id));
    }
    const batch: OutboxRow[] = oldest.map((r) => this.handOut(r));
    for (let i = Math.min(newest.length, live) - 1; i >= 0; i--) batch.push(this.handOut(newest[i]!));
    return batch;
  }

  confirm(qn: string, more = false): boolean {
    if (this.confirmed.has(qn)) return false;
    const id = this.handedOut.get(qn) ?? (this.s.sql.outboxId.get(this.uplink, qn) as number | undefined);
    if (id === undefined) return false;
    this.handedOut.delete(qn);
    this.confirmed.set(qn, id);
    this.confirmedIds.add(id);
    this.s.schedule(more, 1);
    return true;
  }

  release(): void {
    this.s.schedule(false, 0);
  }

  depth(): { records: number; bytes: number; oldestAt?: number } {
    this.s.flush();
    const depth: { records: number; bytes: number; oldestAt?: number } = {
      records: this.s.sql.outboxCount.get(this.uplink) as number,
      bytes: this.bytes,
    };
    const oldest = this.s.sql.outboxOldestAt.get(this.uplink) as number | undefined;
    if (oldest !== undefined) depth.oldestAt = oldest;
    return depth;
  }

  get hasConfirmed(): boolean {
    return this.confirmed.size > 0;
  }

  /** Inside the flush transaction: deletes the confirmed records; returns the bytes they took. */
  deleteConfirmed(): number {
    let freed = 0;
    for (const id of this.confirmedIds) freed += (this.s.sql.confirm.get(id) as number | undefined) ?? 0;
    return freed;
  }

  /** After the flush, committed or not: a confirmation the disk refused only makes the record go out again. */
  forgetConfirmed(committed: boolean): string[] {
    if (committed)
      for (const end of this.ends) if (end) end.rows = end.rows.filter((r) => !this.confirmedIds.has(r.id));
    const qns = [...this.confirmed.keys()];
    this.confirmed.clear();
    this.confirmedIds.clear();
    return qns;
  }

  /** Records of a committed tick arrived: over its cap, the retention policy picks what goes. */
  grow(bytes: number): void {
    this.bytes += bytes;
    const cap = this.cap;
    if (cap === undefined) return;
    while (this.bytes > cap) {
      // Selected inside the write: a retry after a disk-full drop must not count rows that drop took.
      const dropped = this.s.guard.write(() =>
        this.s.db.transaction(() => {
          const rows = (this.s.sql.capCandidates.all(this.uplink) as SizedRow[]).map((r) => ({
            ...r,
            order: r.id,
            size: r.bytes,
          }));
          const taken = planDrops(rows, this.bytes - cap, 1);
          for (const r of taken) this.s.sql.deleteOutboxRow.run(r.id);
          return taken;
        })(),
      );
      if (dropped.length === 0) break;
      this.forgetDropped();
      this.bytes -= dropped.reduce((sum, r) => sum + r.bytes, 0);
      this.s.logger.warn(
        {
          uplink: this.uplink,
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

  /** The oldest real-time or minute record: a candidate of the disk-full drop. */
  oldestDroppable(): { cn: DataRecord['cn']; at: number } | undefined {
    return this.s.sql.firstDroppableOutbox.get(this.uplink) as { cn: DataRecord['cn']; at: number } | undefined;
  }

  /** Deletes the oldest DROP_CHUNK real-time and minute records (a full disk). */
  dropOldest(): Dropped[] {
    const rows = this.s.sql.oldestDroppableOutbox.all(this.uplink, DROP_CHUNK) as SizedRow[];
    if (rows.length === 0) return [];
    this.s.sql.dropOutboxUpTo.run(this.uplink, rows.at(-1)!.id);
    this.forgetDropped();
    this.bytes -= rows.reduce((sum, r) => sum + r.bytes, 0);
    return rows.map((r) => ({ from: 'outbox', cn: r.cn, at: r.at }));
  }
}

/**
 * Confirmations one commit carries at most while more are expected. Each commit of a delete writes about six
 * pages to the WAL (the table leaf, three index leaves, and the freelist pages when a leaf empties) whatever it
 * deletes, so at a window of 4, with two 9014s a turn, the commit was most of the store's cost a record. The
 * bound is also what a kill -9 in a replay may send again beyond the window in flight (the platform drops a
 * repeated QN); a lost confirmation never loses a record.
 */
export const CONFIRMS_PER_COMMIT = 32;
/** How long a confirmation waits for others to share its commit, at most. */
export const CONFIRM_COMMIT_MS = 20;

/** Every uplink's outbox in edge.db, and the batching of their confirmations. */
export class Outboxes {
  private readonly boxes = new Map<string, SqliteOutbox>();
  private readonly shared: Shared;
  /** A flush is queued for the end of this turn (setImmediate). */
  private scheduled = false;
  /** A flush is queued for CONFIRM_COMMIT_MS after the first held confirmation. */
  private timer: NodeJS.Timeout | undefined;
  /** Confirmations since the last flush. */
  private held = 0;
  private closed = false;
  /** The confirmations' transaction, wrapped once rather than at every flush. */
  private readonly deleteConfirmed: (boxes: SqliteOutbox[]) => number[];

  constructor(
    db: Database.Database,
    sql: Statements,
    guard: DiskGuard,
    logger: Logger,
    private readonly caps: ReadonlyMap<string, number>,
  ) {
    this.shared = {
      db,
      sql,
      guard,
      logger,
      flush: () => this.flush(),
      schedule: (more, held) => this.schedule(more, held),
    };
    this.deleteConfirmed = db.transaction((boxes: SqliteOutbox[]) => boxes.map((b) => b.deleteConfirmed()));
    for (const { uplink, total } of sql.outboxTotals.all() as { uplink: string; total: number }[])
      this.get(uplink).bytes = total;
  }

  /**
   * A confirmation's delete: committed once this turn of the event loop is over, in one transaction with the
   * turn's other 9014s; or, while its sender expects more (a replay), with theirs, once CONFIRMS_PER_COMMIT are
   * held or CONFIRM_COMMIT_MS after the first, whichever comes first. Meanwhile the record is hidden from
   * `nextBatch`. A confirmation without `more` (the last in flight, live data) commits this turn as before.
   */
  private schedule(more: boolean, held: number): void {
    this.held += held;
    if (this.held === 0) return;
    if (!more || this.held >= CONFIRMS_PER_COMMIT) {
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        if (!this.closed) this.flush();
      });
    } else if (!this.timer && !this.scheduled) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.closed) this.flush();
      }, CONFIRM_COMMIT_MS);
    }
  }

  get(uplink: string): SqliteOutbox {
    let box = this.boxes.get(uplink);
    if (!box) {
      box = new SqliteOutbox(uplink, this.caps.get(uplink), this.shared);
      this.boxes.set(uplink, box);
    }
    return box;
  }

  all(): SqliteOutbox[] {
    return [...this.boxes.values()];
  }

  /**
   * Deletes the confirmed records of every outbox in one transaction. A confirmation lost to a power
   * cut only makes the record go out again (the platform drops the duplicate QN), so it need not wait
   * for fsync: NORMAL here, and the next FULL commit syncs it with the WAL. Called from a socket's data
   * handler's aftermath: a full disk is logged, never thrown, since a throw would take the agent down.
   */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held = 0;
    const boxes = this.all().filter((b) => b.hasConfirmed);
    if (boxes.length === 0) return;
    const { sql, guard, logger } = this.shared;
    sql.syncNormal.run();
    let freed: number[] | undefined;
    let refused = '';
    try {
      freed = guard.write(() => this.deleteConfirmed(boxes));
    } catch (err) {
      if (!(err instanceof DiskFullError)) throw err;
      refused = err.message;
    } finally {
      sql.syncFull.run();
      for (const [i, b] of boxes.entries()) {
        const qns = b.forgetConfirmed(freed !== undefined);
        if (freed) b.bytes -= freed[i]!;
        else
          logger.error(
            { uplink: b.uplink, records: qns.length, qn: qns[0], reason: refused },
            'confirmation not stored: the record will go out again',
          );
      }
    }
  }

  close(): void {
    this.flush();
    this.closed = true;
  }
}
