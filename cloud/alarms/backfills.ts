import type Database from 'better-sqlite3';
import type { Awaitable } from '../rules/state.js';

/** One hour record that arrived after it was due (补传): late on its own, or in answer to a 2061 request. */
export interface Backfill {
  mn: string;
  factor: string;
  /** Hour start (DataTime), epoch ms. */
  time: number;
  /** When it was stored, on the rules' clock. */
  arrivedAt: number;
  /** A missing-hour alarm was open for it, and this arrival closed it. */
  closedAlarm: boolean;
}

/** What the API reads of the back-filled hours: from SQLite, or a cluster's PostgreSQL (PgBackfillStore). */
export interface BackfillReader {
  list(mn: string, from: number, to: number): Awaitable<Backfill[]>;
}

/**
 * Back-filled hours in the state database: the measurement store keeps only the values (a resend
 * overwrites them), so that an hour came late, and when, is kept here, once: a later resend of the
 * same hour does not move its arrival.
 */
export class BackfillStore implements BackfillReader {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS backfills (mn TEXT NOT NULL, factor TEXT NOT NULL, time INTEGER NOT NULL,
      arrived_at INTEGER NOT NULL, closed_alarm INTEGER NOT NULL, PRIMARY KEY (mn, time, factor)) WITHOUT ROWID`);
  }

  /** Records a late hour; false when it was already recorded. */
  add(b: Backfill): boolean {
    return (
      this.db
        .prepare('INSERT OR IGNORE INTO backfills (mn, factor, time, arrived_at, closed_alarm) VALUES (?, ?, ?, ?, ?)')
        .run(b.mn, b.factor, b.time, b.arrivedAt, b.closedAlarm ? 1 : 0).changes > 0
    );
  }

  /** Back-filled hours of a station with a DataTime in [from, to), by time then factor. */
  list(mn: string, from: number, to: number): Backfill[] {
    return (
      this.db
        .prepare(
          'SELECT mn, factor, time, arrived_at, closed_alarm FROM backfills ' +
            'WHERE mn = ? AND time >= ? AND time < ? ORDER BY time, factor',
        )
        .all(mn, from, to) as { mn: string; factor: string; time: number; arrived_at: number; closed_alarm: number }[]
    ).map((r) => ({
      mn: r.mn,
      factor: r.factor,
      time: r.time,
      arrivedAt: r.arrived_at,
      closedAlarm: r.closed_alarm === 1,
    }));
  }
}
