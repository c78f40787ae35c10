import type Database from 'better-sqlite3';
import { z } from 'zod';

export const AckBodySchema = z.object({ comment: z.string().trim().min(1, 'say what was done about the alarm').max(500) });

/** Who acknowledged an alarm, when, and what they said. */
export interface Ack {
  by: string;
  at: number;
  comment: string;
}

/** Acknowledgements beside the alarm episodes (same state database); the last one given counts. */
export class AckStore {
  constructor(private readonly db: Database.Database) {
    db.exec('CREATE TABLE IF NOT EXISTS alarm_acks (alarm_id INTEGER PRIMARY KEY, by TEXT NOT NULL, at INTEGER NOT NULL, comment TEXT NOT NULL)');
  }

  add(alarmId: number, ack: Ack): void {
    this.db.prepare('INSERT OR REPLACE INTO alarm_acks (alarm_id, by, at, comment) VALUES (?, ?, ?, ?)').run(alarmId, ack.by, ack.at, ack.comment);
  }

  /** Acknowledgements of the given alarms, by alarm id. */
  of(ids: readonly number[]): Map<number, Ack> {
    if (ids.length === 0) return new Map();
    const rows = this.db.prepare(`SELECT alarm_id, by, at, comment FROM alarm_acks WHERE alarm_id IN (${ids.map(() => '?').join(',')})`).all(...ids) as (Ack & { alarm_id: number })[];
    return new Map(rows.map(({ alarm_id, ...ack }) => [alarm_id, ack]));
  }
}
