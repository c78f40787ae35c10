import Database from 'better-sqlite3';
import { PointQuerySchema, type MeasurementStore, type Point, type PointQuery } from './types.js';

type Row = { mn: string; factor: string; kind: Point['kind']; time: number; vals: string; flag: string | null; outlet: string | null };

/** Opens a SQLite file in WAL mode: readers (the API) never block the ingest's writes. */
export function openSqlite(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // NORMAL under WAL survives a process crash; only a power cut can lose the last commits.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
}

/** The embedded default store, so the service runs with no external database. */
export class SqliteStore implements MeasurementStore {
  private readonly insert: Database.Statement<[string, string, string, number, string, string | null, string | null]>;
  private readonly writeMany: (points: readonly Point[]) => void;

  constructor(readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS measurements (
      mn TEXT NOT NULL, factor TEXT NOT NULL, kind TEXT NOT NULL, time INTEGER NOT NULL,
      vals TEXT NOT NULL, flag TEXT, outlet TEXT,
      PRIMARY KEY (mn, kind, time, factor)) WITHOUT ROWID`);
    this.insert = db.prepare(`INSERT INTO measurements (mn, factor, kind, time, vals, flag, outlet) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (mn, kind, time, factor) DO UPDATE SET vals = excluded.vals, flag = excluded.flag, outlet = excluded.outlet`);
    this.writeMany = db.transaction((points: readonly Point[]) => {
      for (const p of points) this.insert.run(p.mn, p.factor, p.kind, p.time, JSON.stringify(p.values), p.flag ?? null, p.outlet ?? null);
    });
  }

  static open(file: string): SqliteStore {
    return new SqliteStore(openSqlite(file));
  }

  async write(points: readonly Point[]): Promise<void> {
    this.writeMany(points);
  }

  async query(input: PointQuery): Promise<Point[]> {
    const q = PointQuerySchema.parse(input);
    const rows = this.db
      .prepare(
        `SELECT * FROM measurements WHERE mn = ? AND kind = ? AND time >= ? AND time < ? ${q.factor !== undefined ? 'AND factor = ?' : ''} ORDER BY time, factor LIMIT ?`,
      )
      .all(...[q.mn, q.kind, q.from, q.to, ...(q.factor !== undefined ? [q.factor] : []), q.limit]) as Row[];
    return rows.map((r) => {
      const p: Point = { mn: r.mn, factor: r.factor, kind: r.kind, time: r.time, values: JSON.parse(r.vals) as Record<string, number> };
      if (r.flag !== null) p.flag = r.flag;
      if (r.outlet !== null) p.outlet = r.outlet;
      return p;
    });
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
