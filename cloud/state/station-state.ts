import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type pg from 'pg';
import type { Logger } from 'pino';
import { listen } from './pg-listen.js';

/**
 * A small state per station (a JSON text: the SM4 key after 1014 changes, the PW after a 1072) that
 * every packet's check reads: kept in memory, read synchronously, and written through to a table.
 * In the state SQLite for one process; in PostgreSQL for a cluster, where every process hears the
 * others' changes (LISTEN/NOTIFY) and applies them to its memory.
 */
export interface StationStateTable {
  /** Every station's state as stored, at start (in PostgreSQL kept current: what a resync compares with). */
  readonly rows: ReadonlyMap<string, string>;
  put(mn: string, state: string): void;
  /** Calls `fn` with each change another process made (none in SQLite). */
  watch(fn: (mn: string, state: string) => void): void;
}

export type StateTableName = 'station_keys' | 'station_passwords';

/** One process's table in the state database. */
export class SqliteStateTable implements StationStateTable {
  readonly rows: ReadonlyMap<string, string>;
  private readonly save: Database.Statement<[string, string]>;

  constructor(db: Database.Database, table: StateTableName) {
    db.exec(`CREATE TABLE IF NOT EXISTS ${table} (mn TEXT PRIMARY KEY, state TEXT NOT NULL)`);
    this.save = db.prepare(
      `INSERT INTO ${table} (mn, state) VALUES (?, ?) ON CONFLICT (mn) DO UPDATE SET state = excluded.state`,
    );
    const all = db.prepare(`SELECT mn, state FROM ${table}`).all() as { mn: string; state: string }[];
    this.rows = new Map(all.map((r) => [r.mn, r.state]));
  }

  put(mn: string, state: string): void {
    this.save.run(mn, state);
  }

  watch(): void {}
}

/**
 * A cluster's table in PostgreSQL. A change is written and announced in one statement (pg_notify is
 * delivered on commit); each process ignores its own announcements (its memory has the change already,
 * and an older one arriving late must not undo a newer). Writes are asynchronous: the caller's memory
 * holds the change at once, and a write that fails is logged.
 */
export class PgStateTable implements StationStateTable {
  private readonly watchers: ((mn: string, state: string) => void)[] = [];
  private readonly self = randomUUID();
  /** This process's writes, one after another: the table ends with the last, as the memory does. */
  private writes: Promise<unknown> = Promise.resolve();

  readonly rows = new Map<string, string>();
  private unlisten: () => void = () => undefined;
  /** The stations this process changes while a resync reads the table. */
  private touched: Set<string> | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly table: StateTableName,
    private readonly log: Logger,
  ) {}

  static async open(pool: pg.Pool, table: StateTableName, log: Logger): Promise<PgStateTable> {
    const t = new PgStateTable(pool, table, log);
    // Listening before reading: a change another process makes meanwhile is held and applied over what
    // the read found, in the order made, so it is neither missed nor undone by the read.
    const held: [string, string][] = [];
    let apply = (mn: string, state: string): void => void held.push([mn, state]);
    t.unlisten = await listen(
      pool,
      table,
      log,
      'station state notifications',
      (payload) => {
        const { from, mn, state } = JSON.parse(payload) as { from: string; mn: string; state: string };
        if (from !== t.self) apply(mn, state);
      },
      { resync: () => t.resync() },
    );
    const all = await pool.query<{ mn: string; state: string }>(`SELECT mn, state FROM ${table}`);
    for (const r of all.rows) t.rows.set(r.mn, r.state);
    for (const [mn, state] of held) t.rows.set(mn, state);
    apply = (mn, state) => {
      t.rows.set(mn, state);
      for (const fn of t.watchers) fn(mn, state);
    };
    return t;
  }

  /**
   * After a lost LISTEN connection: the changes the others made meanwhile, read from the table and
   * told to the watchers. A station this process changed since the read began keeps its own change
   * (it is newer than what the read found).
   */
  private async resync(): Promise<void> {
    await this.writes;
    const mine = new Set<string>();
    this.touched = mine;
    try {
      const all = await this.pool.query<{ mn: string; state: string }>(`SELECT mn, state FROM ${this.table}`);
      for (const { mn, state } of all.rows) {
        if (mine.has(mn) || this.rows.get(mn) === state) continue;
        this.rows.set(mn, state);
        for (const fn of this.watchers) fn(mn, state);
      }
    } finally {
      if (this.touched === mine) this.touched = undefined;
    }
  }

  put(mn: string, state: string): void {
    this.touched?.add(mn);
    this.rows.set(mn, state);
    const payload = JSON.stringify({ from: this.self, mn, state });
    const write = () =>
      this.pool.query(
        `WITH saved AS (INSERT INTO ${this.table} (mn, state) VALUES ($1, $2)
           ON CONFLICT (mn) DO UPDATE SET state = excluded.state RETURNING mn)
         SELECT pg_notify($3, $4) FROM saved`,
        [mn, state, this.table, payload],
      );
    this.writes = this.writes
      .then(write)
      .catch((e: Error) =>
        this.log.error({ mn, table: this.table, reason: e.message }, 'station state not stored in PostgreSQL'),
      );
  }

  /** Resolves once every write made so far is stored (or has failed and been logged). */
  settled(): Promise<unknown> {
    return this.writes;
  }

  watch(fn: (mn: string, state: string) => void): void {
    this.watchers.push(fn);
  }

  async close(): Promise<void> {
    await this.writes;
    this.unlisten();
  }
}
