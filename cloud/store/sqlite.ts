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

/** The embedded default store, so the service runs with no external database. */
export class SqliteStore implements MeasurementStore {
  private readonly insert: Database.Statement<[string, string, string, number, string, string | null, string | null]>;
  private readonly group: GroupCommit<Point>;

  constructor(readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS measurements (
      mn TEXT NOT NULL, factor TEXT NOT NULL, kind TEXT NOT NULL, time INTEGER NOT NULL,
      vals TEXT NOT NULL, flag TEXT, outlet TEXT,
      PRIMARY KEY (mn, kind, time, factor)) WITHOUT ROWID`);
    this.insert =
      db.prepare(`INSERT INTO measurements (mn, factor, kind, time, vals, flag, outlet) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (mn, kind, time, factor) DO UPDATE SET vals = excluded.vals, flag = excluded.flag,
      outlet = excluded.outlet`);
    const writeGroups = db.transaction((groups: readonly (readonly Point[])[]) => {
      for (const points of groups)
        for (const p of points)
          this.insert.run(p.mn, p.factor, p.kind, p.time, JSON.stringify(p.values), p.flag ?? null, p.outlet ?? null);
    });
    this.group = new GroupCommit((groups) => writeGroups(groups));
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
