import Database from 'better-sqlite3';
import { GroupCommit } from './group-commit.js';
import { PointQuerySchema, type MeasurementStore, type Point, type PointQuery } from './types.js';

type Row = {
  mn: string;
  factor: string;
  kind: Point['kind'];
  time: number;
  vals: string;
  flag: string | null;
  outlet: string | null;
};

/**
 * Opens a SQLite file in WAL mode: readers (the API) never block the ingest's writes. `durable` is for
 * what a 9014 confirms: FULL syncs every commit, so a power cut cannot take back what a logger was
 * told is stored; NORMAL (rule state, alarms) survives a process crash but may lose the last commits
 * on a power cut.
 */
export function openSqlite(file: string, opts: { durable?: boolean } = {}): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.durable ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  return db;
}

/** Columns bound per row, in the order of INSERT_HEAD. */
const COLUMNS_PER_ROW = 7;
/**
 * Rows bound by one INSERT: a 10-factor upload is one statement call instead of ten (each call crosses
 * into native code, binds, steps and resets), well under SQLite's 32,766 bound parameters.
 */
const ROWS_PER_INSERT = 16;
/**
 * Pages the WAL may hold before a checkpoint copies them into the database (SQLite's default: 1,000).
 * Uploads of a thousand stations land on as many leaf pages; a checkpoint every 1,000 pages writes and
 * fsyncs each of them again every few group commits, one every 10,000 once per many of its rewrites.
 * Durability is the WAL's (synchronous FULL), so this changes the WAL's size (up to ~40 MB), not what
 * a commit guarantees.
 */
const WAL_CHECKPOINT_PAGES = 10_000;
const INSERT_HEAD = 'INSERT INTO measurements (mn, factor, kind, time, vals, flag, outlet) VALUES ';
const UPSERT = ` ON CONFLICT (mn, kind, time, factor) DO UPDATE SET vals = excluded.vals, flag = excluded.flag,
      outlet = excluded.outlet`;

/** The embedded default store, so the service runs with no external database. */
export class SqliteStore implements MeasurementStore {
  /** The INSERT of n rows at [n], prepared on first use, once. */
  private readonly inserts: Database.Statement<unknown[]>[] = [];
  /** The parameters of an INSERT of n rows at [n], refilled per call (bound values are copied by SQLite). */
  private readonly params: unknown[][] = [];
  private readonly group: GroupCommit<Point>;

  constructor(readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS measurements (
      mn TEXT NOT NULL, factor TEXT NOT NULL, kind TEXT NOT NULL, time INTEGER NOT NULL,
      vals TEXT NOT NULL, flag TEXT, outlet TEXT,
      PRIMARY KEY (mn, kind, time, factor)) WITHOUT ROWID`);
    db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    // One transaction per group commit: every write of the turn, in order (a later write of a key wins).
    const writeGroups = db.transaction((groups: readonly (readonly Point[])[]) => {
      for (const points of groups)
        for (let i = 0; i < points.length; i += ROWS_PER_INSERT)
          this.insertRows(points, i, Math.min(points.length, i + ROWS_PER_INSERT));
    });
    this.group = new GroupCommit((groups) => writeGroups(groups));
  }

  /** Inserts points[from, to) with one statement; rows of one statement are upserted in order too. */
  private insertRows(points: readonly Point[], from: number, to: number): void {
    const n = to - from;
    let insert = this.inserts[n];
    if (insert === undefined) {
      const rows = Array.from({ length: n }, () => '(?, ?, ?, ?, ?, ?, ?)').join(', ');
      this.inserts[n] = insert = this.db.prepare<unknown[]>(INSERT_HEAD + rows + UPSERT);
      this.params[n] = new Array<unknown>(n * COLUMNS_PER_ROW);
    }
    const a = this.params[n]!;
    let k = 0;
    for (let i = from; i < to; i++) {
      const p = points[i]!;
      a[k++] = p.mn;
      a[k++] = p.factor;
      a[k++] = p.kind;
      a[k++] = p.time;
      a[k++] = JSON.stringify(p.values);
      a[k++] = p.flag ?? null;
      a[k++] = p.outlet ?? null;
    }
    insert.run(a);
  }

  static open(file: string): SqliteStore {
    return new SqliteStore(openSqlite(file, { durable: true }));
  }

  write(points: readonly Point[]): Promise<void> {
    return this.group.add(points);
  }

  async query(input: PointQuery): Promise<Point[]> {
    const q = PointQuerySchema.parse(input);
    const rows = this.db
      .prepare(
        `SELECT * FROM measurements WHERE mn = ? AND kind = ? AND time >= ? AND time < ? ` +
          `${q.factor !== undefined ? 'AND factor = ?' : ''} ORDER BY time, factor LIMIT ?`,
      )
      .all(...[q.mn, q.kind, q.from, q.to, ...(q.factor !== undefined ? [q.factor] : []), q.limit]) as Row[];
    return rows.map((r) => {
      const p: Point = {
        mn: r.mn,
        factor: r.factor,
        kind: r.kind,
        time: r.time,
        values: JSON.parse(r.vals) as Record<string, number>,
      };
      if (r.flag !== null) p.flag = r.flag;
      if (r.outlet !== null) p.outlet = r.outlet;
      return p;
    });
  }

  async close(): Promise<void> {
    this.group.flush();
    this.db.close();
  }
}
