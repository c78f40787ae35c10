import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { Awaitable } from '../rules/state.js';

export const AckBodySchema = z.object({
  comment: z.string().trim().min(1, 'say what was done about the alarm').max(500),
});

/** Who acknowledged an alarm, when, and what they said. */
export interface Ack {
  by: string;
  at: number;
  comment: string;
}

/** Acknowledgements as the API reads and gives them: in SQLite, or in a cluster's PostgreSQL (PgAckStore). */
export interface AckBook {
  add(alarmId: number, ack: Ack): Awaitable<void>;
  of(ids: readonly number[]): Awaitable<Map<number, Ack>>;
}

/** Follow-up trails as the API reads and adds to them: in SQLite, or in PostgreSQL (PgFollowUpStore). */
export interface FollowUpBook {
  add(alarmId: number, f: FollowUp): Awaitable<void>;
  of(ids: readonly number[]): Awaitable<Map<number, FollowUp[]>>;
}

/** Acknowledgements beside the alarm episodes (same state database); the latest one counts. */
export class AckStore implements AckBook {
  /** The follow-up trails, in the same database. */
  readonly followUps: FollowUpStore;

  constructor(private readonly db: Database.Database) {
    this.followUps = new FollowUpStore(db);
    db.exec(
      'CREATE TABLE IF NOT EXISTS alarm_acks (alarm_id INTEGER PRIMARY KEY, by TEXT NOT NULL, at INTEGER NOT NULL, ' +
        'comment TEXT NOT NULL)',
    );
  }

  /** Records an acknowledgement unless a later one is already there. */
  add(alarmId: number, ack: Ack): void {
    this.db
      .prepare(
        'INSERT INTO alarm_acks (alarm_id, by, at, comment) VALUES (?, ?, ?, ?) ON CONFLICT (alarm_id) DO UPDATE ' +
          'SET by = excluded.by, at = excluded.at, comment = excluded.comment WHERE excluded.at >= alarm_acks.at',
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

/**
 * What the centre did about an alarm after seeing it: told the enterprise (已通知企业), or it is dealt
 * with (已处理).
 */
export const FOLLOW_UP_STATES = ['notified', 'handled'] as const;
export type FollowUpState = (typeof FOLLOW_UP_STATES)[number];

export const FollowUpBodySchema = z.strictObject({
  state: z.enum(FOLLOW_UP_STATES, 'state is notified (已通知企业) or handled (已处理)'),
  comment: z.string().trim().min(1, 'say what was done about the alarm').max(500),
});

/** One change of an alarm's follow-up state: who, when, to what, and what they said. */
export interface FollowUp {
  by: string;
  at: number;
  state: FollowUpState;
  comment: string;
}

/**
 * The follow-up trail of each alarm (same state database as the acknowledgements): every change is a
 * new row, never an update, so the trail shows who moved an alarm to which state, when and why; the
 * newest row is its current state.
 */
export class FollowUpStore implements FollowUpBook {
  constructor(private readonly db: Database.Database) {
    // One change is one row however often the same request is made.
    db.exec(`CREATE TABLE IF NOT EXISTS alarm_follow_ups (id INTEGER PRIMARY KEY AUTOINCREMENT,
        alarm_id INTEGER NOT NULL,
        by TEXT NOT NULL, at INTEGER NOT NULL, state TEXT NOT NULL, comment TEXT NOT NULL);
      CREATE UNIQUE INDEX IF NOT EXISTS alarm_follow_ups_change
        ON alarm_follow_ups (alarm_id, at, by, state, comment)`);
  }

  /** Records a change unless the trail has it already. */
  add(alarmId: number, f: FollowUp): void {
    this.db
      .prepare('INSERT OR IGNORE INTO alarm_follow_ups (alarm_id, by, at, state, comment) VALUES (?, ?, ?, ?, ?)')
      .run(alarmId, f.by, f.at, f.state, f.comment);
  }

  /** The trails of the given alarms, oldest change first, by alarm id (alarms without one are absent). */
  of(ids: readonly number[]): Map<number, FollowUp[]> {
    const trails = new Map<number, FollowUp[]>();
    if (ids.length === 0) return trails;
    const rows = this.db
      .prepare(
        `SELECT alarm_id, by, at, state, comment FROM alarm_follow_ups ` +
          `WHERE alarm_id IN (${ids.map(() => '?').join(',')}) ORDER BY at, id`,
      )
      .all(...ids) as (FollowUp & { alarm_id: number })[];
    for (const { alarm_id, ...f } of rows) trails.set(alarm_id, [...(trails.get(alarm_id) ?? []), f]);
    return trails;
  }
}
