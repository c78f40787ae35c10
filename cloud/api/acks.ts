import type Database from 'better-sqlite3';
import { z } from 'zod';

export const AckBodySchema = z.object({
  comment: z.string().trim().min(1, 'say what was done about the alarm').max(500),
});

/** Who acknowledged an alarm, when, and what they said. */
export interface Ack {
  by: string;
  at: number;
  comment: string;
}

/**
 * Acknowledgements beside the alarm episodes (same state database); the latest one counts, also
 * when acknowledgements of one alarm are given on two processes of a cluster at once.
 */
export class AckStore {
  private readonly watchers: ((alarmId: number, ack: Ack) => void)[] = [];

  constructor(private readonly db: Database.Database) {
    db.exec(
      'CREATE TABLE IF NOT EXISTS alarm_acks (alarm_id INTEGER PRIMARY KEY, by TEXT NOT NULL, at INTEGER NOT NULL, comment TEXT NOT NULL)',
    );
  }

  /** Calls `fn` after every acknowledgement given here (not those applied from peers). */
  watch(fn: (alarmId: number, ack: Ack) => void): void {
    this.watchers.push(fn);
  }

  add(alarmId: number, ack: Ack): void {
    this.apply(alarmId, ack);
    for (const fn of this.watchers) fn(alarmId, ack);
  }

  /** Records an acknowledgement unless a later one is already there. */
  apply(alarmId: number, ack: Ack): void {
    this.db
      .prepare(
        'INSERT INTO alarm_acks (alarm_id, by, at, comment) VALUES (?, ?, ?, ?) ON CONFLICT (alarm_id) DO UPDATE SET by = excluded.by, at = excluded.at, comment = excluded.comment WHERE excluded.at >= alarm_acks.at',
      )
      .run(alarmId, ack.by, ack.at, ack.comment);
  }

  /** Acknowledgements of the given alarms, by alarm id. */
  of(ids: readonly number[]): Map<number, Ack> {
    if (ids.length === 0) return new Map();
    const rows = this.db
      .prepare(`SELECT alarm_id, by, at, comment FROM alarm_acks WHERE alarm_id IN (${ids.map(() => '?').join(',')})`)
      .all(...ids) as (Ack & { alarm_id: number })[];
    return new Map(rows.map(({ alarm_id, ...ack }) => [alarm_id, ack]));
  }
}
