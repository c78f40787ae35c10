import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { AlarmType, Condition } from '../rules/judge.js';

export interface Alarm {
  id: number;
  type: AlarmType;
  mn: string;
  factor?: string;
  kind?: string;
  /** Data time the condition was first seen (epoch ms). */
  openedAt: number;
  closedAt?: number;
  value?: number;
  limit?: number;
  multiple?: number;
  /** Largest multiple seen while open. */
  peak?: number;
  detail?: string;
}

export const AlarmFilterSchema = z.object({
  mn: z.string().optional(),
  type: z
    .enum(['exceedance', 'negative', 'zero', 'constant', 'offline', 'missing-hour', 'password-guessing'])
    .optional(),
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
  if (r.closed_at !== null) a.closedAt = r.closed_at;
  if (r.value !== null) a.value = r.value;
  if (r.lim !== null) a.limit = r.lim;
  if (r.multiple !== null) a.multiple = r.multiple;
  if (r.peak !== null) a.peak = r.peak;
  if (r.detail !== null) a.detail = r.detail;
  return a;
}

/** What identifies one episode: at most one alarm per key is open at a time. */
export type AlarmOpen = Pick<Condition, 'type' | 'mn' | 'time'> &
  Partial<Pick<Condition, 'factor' | 'kind' | 'value' | 'limit' | 'multiple'>> & { key: string; detail?: string };

/** Room for this many ingest processes in the alarm ids of a cluster (the most `nodeCount` allows). */
export const ID_STRIDE = 1024;

const COLUMNS = `type TEXT NOT NULL, mn TEXT NOT NULL, factor TEXT, kind TEXT, opened_at INTEGER NOT NULL, closed_at INTEGER,
  value REAL, lim REAL, multiple REAL, peak REAL, detail TEXT`;

/**
 * Alarm episodes in SQLite: opened once, updated while open, closed once. In a cluster each process
 * keeps the episodes of the stations it owns and a copy of the others' (`peer_alarms`, fed from the
 * cluster channel), so any process lists them all; ids are unique across the cluster because each
 * process numbers its episodes in its own residue class modulo ID_STRIDE.
 */
export class AlarmStore {
  private readonly watchers: ((alarm: Alarm) => void)[] = [];
  private uncommitted: Alarm[] | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly node?: { index: number },
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS alarms (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, ${COLUMNS});
      CREATE UNIQUE INDEX IF NOT EXISTS alarms_open ON alarms (key) WHERE closed_at IS NULL;
      CREATE INDEX IF NOT EXISTS alarms_mn ON alarms (mn, opened_at);
      CREATE TABLE IF NOT EXISTS peer_alarms (id INTEGER PRIMARY KEY, ${COLUMNS});
      CREATE INDEX IF NOT EXISTS peer_alarms_mn ON peer_alarms (mn, opened_at)`);
  }

  /** Calls `fn` with the episode after every change this process makes (opened, peak raised, closed). */
  watch(fn: (alarm: Alarm) => void): void {
    this.watchers.push(fn);
  }

  /**
   * Runs `fn` (an episode change and what it queues, such as webhook events in the same database) as
   * one transaction: a crash or a failed queue write leaves neither. Watchers hear of the changes only
   * once they are committed.
   */
  atomically<T>(fn: () => T): T {
    if (this.uncommitted) return fn();
    this.uncommitted = [];
    try {
      const result = this.db.transaction(fn)();
      const committed = this.uncommitted;
      this.uncommitted = undefined;
      for (const alarm of committed) this.tell(alarm);
      return result;
    } finally {
      this.uncommitted = undefined;
    }
  }

  private changed(id: number): Alarm | undefined {
    const alarm = this.get(id);
    if (alarm) {
      if (this.uncommitted) this.uncommitted.push(alarm);
      else this.tell(alarm);
    }
    return alarm;
  }

  private tell(alarm: Alarm): void {
    for (const fn of this.watchers) fn(alarm);
  }

  /** The next id of this process: plain row ids alone, its own residue class in a cluster. */
  private nextId(): number | null {
    if (!this.node) return null;
    const max = this.db.prepare('SELECT coalesce(max(id), 0) FROM alarms').pluck().get() as number;
    return (Math.floor(max / ID_STRIDE) + 1) * ID_STRIDE + this.node.index;
  }

  /** Applies an episode another process of the cluster owns; says whether it was new or now closed. */
  applyPeer(a: Alarm): 'opened' | 'closed' | 'updated' {
    const before = this.db.prepare('SELECT closed_at FROM peer_alarms WHERE id = ?').get(a.id) as
      { closed_at: number | null } | undefined;
    this.db
      .prepare(
        'INSERT OR REPLACE INTO peer_alarms (id, type, mn, factor, kind, opened_at, closed_at, value, lim, multiple, peak, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        a.id,
        a.type,
        a.mn,
        a.factor ?? null,
        a.kind ?? null,
        a.openedAt,
        a.closedAt ?? null,
        a.value ?? null,
        a.limit ?? null,
        a.multiple ?? null,
        a.peak ?? null,
        a.detail ?? null,
      );
    if (!before) return 'opened';
    return before.closed_at === null && a.closedAt !== undefined ? 'closed' : 'updated';
  }

  /** This process's own episodes opened at or after `from`, and those still open: what a peer that (re)joins needs. */
  own(from: number): Alarm[] {
    return (
      this.db.prepare('SELECT * FROM alarms WHERE opened_at >= ? OR closed_at IS NULL ORDER BY id').all(from) as Row[]
    ).map(toAlarm);
  }

  /** Opens an episode, or raises the peak of the open one; returns the alarm only when it is new. */
  open(a: AlarmOpen): Alarm | undefined {
    const open = this.db.prepare('SELECT id FROM alarms WHERE key = ? AND closed_at IS NULL').get(a.key) as
      { id: number } | undefined;
    if (open) {
      if (
        a.multiple !== undefined &&
        this.db
          .prepare('UPDATE alarms SET peak = ? WHERE id = ? AND (peak IS NULL OR peak < ?)')
          .run(a.multiple, open.id, a.multiple).changes > 0
      )
        this.changed(open.id);
      return undefined;
    }
    const id = this.db
      .prepare(
        'INSERT INTO alarms (id, key, type, mn, factor, kind, opened_at, value, lim, multiple, peak, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        this.nextId(),
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
      ).lastInsertRowid;
    return this.changed(Number(id));
  }

  /** Closes the open episode of `key`, if any, and returns it. */
  close(key: string, at: number): Alarm | undefined {
    const open = this.db.prepare('SELECT id FROM alarms WHERE key = ? AND closed_at IS NULL').get(key) as
      { id: number } | undefined;
    if (!open) return undefined;
    this.db.prepare('UPDATE alarms SET closed_at = ? WHERE id = ?').run(at, open.id);
    return this.changed(open.id);
  }

  isOpen(key: string): boolean {
    return this.db.prepare('SELECT 1 FROM alarms WHERE key = ? AND closed_at IS NULL').get(key) !== undefined;
  }

  get(id: number): Alarm | undefined {
    const r = (this.db.prepare('SELECT * FROM alarms WHERE id = ?').get(id) ??
      this.db.prepare('SELECT * FROM peer_alarms WHERE id = ?').get(id)) as Row | undefined;
    return r && toAlarm(r);
  }

  list(input: AlarmFilter = {}): Alarm[] {
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
    const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const cols = 'id, type, mn, factor, kind, opened_at, closed_at, value, lim, multiple, peak, detail';
    const sql = `SELECT ${cols} FROM alarms ${cond} UNION ALL SELECT ${cols} FROM peer_alarms ${cond} ORDER BY opened_at, id LIMIT ?`;
    return (this.db.prepare(sql).all(...args, ...args, f.limit) as Row[]).map(toAlarm);
  }
}
