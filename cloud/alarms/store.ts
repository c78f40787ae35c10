import type Database from 'better-sqlite3';
import { z } from 'zod';
import { ALARM_TYPES, type AlarmType, type Condition } from '../rules/judge.js';
import { MN_IN } from '../state/sqlite-filter.js';
import type { Awaitable } from '../rules/state.js';

/** `backfill`: the hour came late (补传); `manual`: it was entered by hand (flag S, 手工补录). */
export const CLOSED_BY = ['backfill', 'manual'] as const;
export type ClosedBy = (typeof CLOSED_BY)[number];

/**
 * An alarm episode: the one shape the store keeps, the API lists and cluster peers copy to each
 * other (a copy from the broker is checked against it on receipt).
 */
export const AlarmSchema = z.object({
  id: z.number().int().nonnegative(),
  type: z.enum(ALARM_TYPES),
  mn: z.string().min(1),
  factor: z.string().optional(),
  kind: z.string().optional(),
  /** Data time the condition was first seen (epoch ms): the start of the condition. */
  openedAt: z.number(),
  /**
   * When the cloud raised the alarm (its rules' clock, epoch ms): later than `openedAt` for a missing
   * hour or a late upload.
   */
  raisedAt: z.number().optional(),
  closedAt: z.number().optional(),
  /**
   * What ended the episode where it says more than its condition clearing: a missing hour sent late
   * (`backfill`, 补传) or entered by hand (`manual`).
   */
  closedBy: z.enum(CLOSED_BY).optional(),
  value: z.number().optional(),
  limit: z.number().optional(),
  multiple: z.number().optional(),
  /** Largest multiple seen while open. */
  peak: z.number().optional(),
  detail: z.string().optional(),
});
export type Alarm = z.output<typeof AlarmSchema>;

export const AlarmFilterSchema = z.object({
  mn: z.string().optional(),
  type: z.enum(ALARM_TYPES).optional(),
  state: z.enum(['open', 'closed']).optional(),
  /** Opened at or after, epoch ms. */
  from: z.coerce.number().int().optional(),
  /** Opened before, epoch ms. */
  to: z.coerce.number().int().optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});
export type AlarmFilter = z.input<typeof AlarmFilterSchema>;

type Row = {
  id: number;
  type: AlarmType;
  mn: string;
  factor: string | null;
  kind: string | null;
  opened_at: number;
  closed_at: number | null;
  closed_by: ClosedBy | null;
  raised_at: number | null;
  value: number | null;
  lim: number | null;
  multiple: number | null;
  peak: number | null;
  detail: string | null;
};

function toAlarm(r: Row): Alarm {
  const a: Alarm = { id: r.id, type: r.type, mn: r.mn, openedAt: r.opened_at };
  if (r.factor !== null) a.factor = r.factor;
  if (r.kind !== null) a.kind = r.kind;
  if (r.raised_at !== null) a.raisedAt = r.raised_at;
  if (r.closed_at !== null) a.closedAt = r.closed_at;
  if (r.closed_by !== null) a.closedBy = r.closed_by;
  if (r.value !== null) a.value = r.value;
  if (r.lim !== null) a.limit = r.lim;
  if (r.multiple !== null) a.multiple = r.multiple;
  if (r.peak !== null) a.peak = r.peak;
  if (r.detail !== null) a.detail = r.detail;
  return a;
}

/** What identifies one episode: at most one alarm per key is open at a time. */
export type AlarmOpen = Pick<Condition, 'type' | 'mn' | 'time'> &
  Partial<Pick<Condition, 'factor' | 'kind' | 'value' | 'limit' | 'multiple'>> & {
    key: string;
    detail?: string;
    /** When the cloud raises it (its rules' clock); `time` is when the condition started. */
    raisedAt?: number;
  };

/** The changes of one `batch`: whether its transaction was begun, and what watchers hear once it commits. */
interface Batch {
  began: boolean;
  changes: Alarm[];
}

const COLUMNS = `type TEXT NOT NULL, mn TEXT NOT NULL, factor TEXT, kind TEXT, opened_at INTEGER NOT NULL,
  closed_at INTEGER,
  value REAL, lim REAL, multiple REAL, peak REAL, detail TEXT, closed_by TEXT, raised_at INTEGER`;

/** State databases made before a column existed get it added. */
function addMissingColumn(db: Database.Database, table: string, column: string, type: string): void {
  const have = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
  if (!have) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
}

/** What the API reads of the episodes: from SQLite now, or from a cluster's PostgreSQL later. */
export interface AlarmReader {
  list(filter?: AlarmFilter, within?: readonly string[]): Awaitable<Alarm[]>;
  get(id: number): Awaitable<Alarm | undefined>;
}

/**
 * Alarm episodes of one ingest process in SQLite (the embedded default): opened once, updated while
 * open, closed once. A cluster keeps them in PostgreSQL instead (cloud/alarms/pg-store.ts).
 */
export class AlarmStore {
  private readonly watchers: ((alarm: Alarm) => void)[] = [];
  private uncommitted: Alarm[] | undefined;
  /** The batch being collected (see `batch`). */
  private batching: Batch | undefined;
  /**
   * The open episodes of this process (key → id and peak), mirrored from the table it alone writes, so
   * that a condition which changes nothing (a value that is not negative, a packet from a station that
   * is not offline) is answered without touching SQLite. Rebuilt from the table at start and whenever
   * a transaction rolls back, so it never holds what the database does not.
   */
  private readonly statements = new Map<string, Database.Statement>();
  /** One transaction function for every `atomically` (better-sqlite3 builds a wrapper per `transaction` call). */
  private readonly transaction: (fn: () => unknown) => unknown;
  private readonly openKeys = new Map<string, { id: number; peak: number | null; mn: string }>();
  /** How many of those are open per station: the rules skip the keys of a station with none. */
  private readonly openPerMn = new Map<string, number>();

  constructor(private readonly db: Database.Database) {
    this.transaction = db.transaction((fn: () => unknown) => fn());
    db.exec(`CREATE TABLE IF NOT EXISTS alarms (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, ${COLUMNS});
      CREATE UNIQUE INDEX IF NOT EXISTS alarms_open ON alarms (key) WHERE closed_at IS NULL;
      CREATE INDEX IF NOT EXISTS alarms_mn ON alarms (mn, opened_at)`);
    addMissingColumn(db, 'alarms', 'closed_by', 'TEXT');
    addMissingColumn(db, 'alarms', 'raised_at', 'INTEGER');
    this.loadOpen();
  }

  /** The statement of `sql`, prepared once: every alarm change runs several. */
  private statement(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  private loadOpen(): void {
    this.openKeys.clear();
    this.openPerMn.clear();
    const rows = this.db.prepare('SELECT key, id, peak, mn FROM alarms WHERE closed_at IS NULL').all() as {
      key: string;
      id: number;
      peak: number | null;
      mn: string;
    }[];
    for (const r of rows) this.remember(r.key, { id: r.id, peak: r.peak, mn: r.mn });
  }

  private remember(key: string, open: { id: number; peak: number | null; mn: string }): void {
    this.openKeys.set(key, open);
    this.openPerMn.set(open.mn, (this.openPerMn.get(open.mn) ?? 0) + 1);
  }

  private forget(key: string, mn: string): void {
    this.openKeys.delete(key);
    const n = (this.openPerMn.get(mn) ?? 1) - 1;
    if (n > 0) this.openPerMn.set(mn, n);
    else this.openPerMn.delete(mn);
  }

  /** Calls `fn` with the episode after every change this process makes (opened, peak raised, closed). */
  watch(fn: (alarm: Alarm) => void): void {
    this.watchers.push(fn);
  }

  /**
   * Runs `fn` (an episode change and what it queues, such as webhook events in the same database) as
   * one transaction: a crash or a failed queue write leaves neither. Watchers hear of the changes only
   * once they are committed. Inside `batch` it is a savepoint of the batch's transaction: undone alone
   * when it fails, committed with the batch.
   */
  atomically<T>(fn: () => T): T {
    if (this.uncommitted) return fn();
    const batch = this.batching;
    if (batch) this.begin(batch);
    this.uncommitted = [];
    try {
      // In a batch's transaction better-sqlite3 makes this a savepoint.
      const result = this.transaction(fn) as T;
      const committed = this.uncommitted;
      this.uncommitted = undefined;
      if (batch) batch.changes.push(...committed);
      else for (const alarm of committed) this.tell(alarm);
      return result;
    } catch (e) {
      // The transaction (or the savepoint) rolled back: what it opened or closed did not happen.
      this.loadOpen();
      throw e;
    } finally {
      this.uncommitted = undefined;
    }
  }

  /**
   * Runs `fn` (what the rules conclude from one upload, or from one sweep) with every write it makes
   * to the state database in one transaction, begun at its first write: none at all when it changes
   * nothing, which the episodes kept in memory tell without asking SQLite. Each `atomically` inside is
   * a savepoint, so a change that fails is undone alone and the others stand, as when each was a
   * transaction of its own; one COMMIT (one fsync) then covers them all. Watchers hear of the changes
   * once committed. Should the COMMIT fail, none of them happened: `onCommitError` is told (else it is
   * thrown) and the open episodes are read back from the database. An error thrown by `fn` is thrown
   * after what was written before it is committed.
   */
  batch<T>(fn: () => T, onCommitError?: (err: Error) => void): T {
    if (this.batching || this.uncommitted) return fn();
    const batch: Batch = { began: false, changes: [] };
    this.batching = batch;
    let result: T;
    try {
      result = fn();
    } finally {
      this.batching = undefined;
      this.commit(batch, onCommitError);
    }
    return result;
  }

  /** Runs a write to the state database (this store's or another's sharing it) in the batch collected, if any. */
  write<T>(fn: () => T): T {
    if (this.batching) this.begin(this.batching);
    return fn();
  }

  private begin(batch: Batch): void {
    if (batch.began) return;
    this.db.exec('BEGIN');
    batch.began = true;
  }

  private commit(batch: Batch, onCommitError: ((err: Error) => void) | undefined): void {
    if (!batch.began) return;
    try {
      this.db.exec('COMMIT');
    } catch (e) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      this.loadOpen();
      if (!onCommitError) throw e;
      onCommitError(e as Error);
      return;
    }
    for (const alarm of batch.changes) this.tell(alarm);
  }

  private changed(id: number): Alarm | undefined {
    const alarm = this.get(id);
    if (alarm) {
      if (this.uncommitted) this.uncommitted.push(alarm);
      else if (this.batching) this.batching.changes.push(alarm);
      else this.tell(alarm);
    }
    return alarm;
  }

  private tell(alarm: Alarm): void {
    for (const fn of this.watchers) fn(alarm);
  }

  /** Whether `open(a)` would change anything: no episode of its key is open, or `a` raises its peak. */
  wouldOpen(a: AlarmOpen): boolean {
    const open = this.openKeys.get(a.key);
    return !open || (a.multiple !== undefined && (open.peak === null || open.peak < a.multiple));
  }

  /** Opens an episode, or raises the peak of the open one; returns the alarm only when it is new. */
  open(a: AlarmOpen): Alarm | undefined {
    const open = this.openKeys.get(a.key);
    if (open) {
      if (a.multiple !== undefined && (open.peak === null || open.peak < a.multiple)) {
        if (this.batching) this.begin(this.batching);
        this.statement('UPDATE alarms SET peak = ? WHERE id = ?').run(a.multiple, open.id);
        open.peak = a.multiple;
        this.changed(open.id);
      }
      return undefined;
    }
    if (this.batching) this.begin(this.batching);
    const id = Number(
      this.statement(
        'INSERT INTO alarms (key, type, mn, factor, kind, opened_at, value, lim, multiple, peak, detail, raised_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(
        a.key,
        a.type,
        a.mn,
        a.factor ?? null,
        a.kind ?? null,
        a.time,
        a.value ?? null,
        a.limit ?? null,
        a.multiple ?? null,
        a.multiple ?? null,
        a.detail ?? null,
        a.raisedAt ?? null,
      ).lastInsertRowid,
    );
    this.remember(a.key, { id, peak: a.multiple ?? null, mn: a.mn });
    return this.changed(id);
  }

  /** Closes the open episode of `key`, if any, and returns it. */
  close(key: string, at: number, by?: ClosedBy): Alarm | undefined {
    const open = this.openKeys.get(key);
    if (!open) return undefined;
    if (this.batching) this.begin(this.batching);
    this.statement('UPDATE alarms SET closed_at = ?, closed_by = ? WHERE id = ?').run(at, by ?? null, open.id);
    this.forget(key, open.mn);
    return this.changed(open.id);
  }

  isOpen(key: string): boolean {
    return this.openKeys.has(key);
  }

  /** Whether any episode of this process on the station is open (none to close when not). */
  hasOpen(mn: string): boolean {
    return this.openPerMn.has(mn);
  }

  get(id: number): Alarm | undefined {
    const r = this.statement('SELECT * FROM alarms WHERE id = ?').get(id) as Row | undefined;
    return r && toAlarm(r);
  }

  /** Alarms by the filter; `within`, when given, keeps those of these MNs only (a scoped account's stations). */
  list(input: AlarmFilter = {}, within?: readonly string[]): Alarm[] {
    const f = AlarmFilterSchema.parse(input);
    const given = (
      [
        ['mn = ?', f.mn],
        ['type = ?', f.type],
        ['opened_at >= ?', f.from],
        ['opened_at < ?', f.to],
      ] as const
    ).filter(([, v]) => v !== undefined);
    const where: string[] = given.map(([clause]) => clause);
    const args = given.map(([, v]) => v!);
    if (f.state !== undefined) where.push(f.state === 'open' ? 'closed_at IS NULL' : 'closed_at IS NOT NULL');
    if (within !== undefined) {
      where.push(MN_IN);
      args.push(JSON.stringify(within));
    }
    const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const cols =
      'id, type, mn, factor, kind, opened_at, raised_at, closed_at, closed_by, value, lim, multiple, peak, detail';
    const sql = `SELECT ${cols} FROM alarms ${cond} ORDER BY opened_at, id LIMIT ?`;
    return (this.db.prepare(sql).all(...args, f.limit) as Row[]).map(toAlarm);
  }
}
