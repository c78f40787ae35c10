import type pg from 'pg';
import { inTransaction } from '../state/pg-schema.js';
import { AlarmFilterSchema, type Alarm, type AlarmFilter, type AlarmOpen, type ClosedBy } from './store.js';

type Row = {
  id: number;
  type: Alarm['type'];
  mn: string;
  factor: string | null;
  kind: string | null;
  opened_at: number;
  raised_at: number | null;
  closed_at: number | null;
  closed_by: ClosedBy | null;
  value: number | null;
  lim: number | null;
  multiple: number | null;
  peak: number | null;
  detail: string | null;
};

const COLUMNS =
  'id, type, mn, factor, kind, opened_at, raised_at, closed_at, closed_by, value, lim, multiple, peak, detail';

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

/** What runs the queries: the pool, or the one connection of a transaction. */
type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

/**
 * Alarm episodes of a whole cluster in PostgreSQL, the same shape and semantics as the SQLite
 * AlarmStore (cloud/alarms/store.ts) but asynchronous, and shared: every process reads and writes the
 * one table, so no episode travels between processes but through it. Exactly once is the database's
 * to enforce: `alarms_open` admits one open episode per condition key and `alarms_once` one episode per
 * key and start, so two processes evaluating the same condition (a failover overlap, a packet stored
 * by one while another sweeps) raise it once; the loser's insert does nothing and it is told so.
 */
export class PgAlarmStore {
  private readonly watchers: ((alarm: Alarm) => void)[] = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly db: Queryable = pool,
    private readonly uncommitted?: Alarm[],
  ) {}

  /** Calls `fn` with the episode after every change this process commits (opened, peak raised, closed). */
  watch(fn: (alarm: Alarm) => void): void {
    this.watchers.push(fn);
  }

  private changed(alarm: Alarm): Alarm {
    if (this.uncommitted) this.uncommitted.push(alarm);
    else for (const fn of this.watchers) fn(alarm);
    return alarm;
  }

  /**
   * Runs `fn` with a view of the store bound to one transaction (an episode change and what it queues
   * go together or not at all); watchers hear of the changes once committed.
   */
  async atomically<T>(fn: (tx: PgAlarmStore, client: pg.PoolClient) => Promise<T>): Promise<T> {
    const changes: Alarm[] = [];
    const result = await inTransaction(this.pool, (client) => fn(new PgAlarmStore(this.pool, client, changes), client));
    for (const alarm of changes) for (const w of this.watchers) w(alarm);
    return result;
  }

  /** Opens an episode, or raises the peak of the open one; returns the alarm only when it is new. */
  async open(a: AlarmOpen): Promise<Alarm | undefined> {
    const inserted = await this.db.query<Row>(
      `INSERT INTO alarms (key, type, mn, factor, kind, opened_at, value, lim, multiple, peak, detail, raised_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      [
        a.key,
        a.type,
        a.mn,
        a.factor ?? null,
        a.kind ?? null,
        a.time,
        a.value ?? null,
        a.limit ?? null,
        a.multiple ?? null,
        a.detail ?? null,
        a.raisedAt ?? null,
      ],
    );
    const row = inserted.rows[0];
    if (row) return this.changed(toAlarm(row));
    if (a.multiple !== undefined) {
      const raised = await this.db.query<Row>(
        `UPDATE alarms SET peak = $2 WHERE key = $1 AND closed_at IS NULL AND (peak IS NULL OR peak < $2)
         RETURNING ${COLUMNS}`,
        [a.key, a.multiple],
      );
      if (raised.rows[0]) this.changed(toAlarm(raised.rows[0]));
    }
    return undefined;
  }

  /** Closes the open episode of `key`, if any, and returns it; whoever closes it first does. */
  async close(key: string, at: number, by?: ClosedBy): Promise<Alarm | undefined> {
    const r = await this.db.query<Row>(
      `UPDATE alarms SET closed_at = $2, closed_by = $3 WHERE key = $1 AND closed_at IS NULL RETURNING ${COLUMNS}`,
      [key, at, by ?? null],
    );
    return r.rows[0] && this.changed(toAlarm(r.rows[0]));
  }

  async isOpen(key: string): Promise<boolean> {
    const r = await this.db.query('SELECT 1 FROM alarms WHERE key = $1 AND closed_at IS NULL', [key]);
    return (r.rowCount ?? 0) > 0;
  }

  async get(id: number): Promise<Alarm | undefined> {
    const r = await this.db.query<Row>(`SELECT ${COLUMNS} FROM alarms WHERE id = $1`, [id]);
    return r.rows[0] && toAlarm(r.rows[0]);
  }

  /** Alarms by the filter; `within`, when given, keeps those of these MNs only (a scoped account's stations). */
  async list(input: AlarmFilter = {}, within?: readonly string[]): Promise<Alarm[]> {
    const f = AlarmFilterSchema.parse(input);
    const where: string[] = [];
    const args: unknown[] = [];
    const given = [
      ['mn', '=', f.mn],
      ['type', '=', f.type],
      ['opened_at', '>=', f.from],
      ['opened_at', '<', f.to],
    ] as const;
    for (const [column, op, v] of given)
      if (v !== undefined) {
        args.push(v);
        where.push(`${column} ${op} $${args.length}`);
      }
    if (f.state !== undefined) where.push(f.state === 'open' ? 'closed_at IS NULL' : 'closed_at IS NOT NULL');
    if (within !== undefined) {
      args.push(within);
      where.push(`mn = ANY($${args.length}::text[])`);
    }
    args.push(f.limit);
    const cond = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const r = await this.db.query<Row>(
      `SELECT ${COLUMNS} FROM alarms ${cond} ORDER BY opened_at, id LIMIT $${args.length}`,
      args,
    );
    return r.rows.map(toAlarm);
  }
}
