import type pg from 'pg';
import type { Backfill } from '../alarms/backfills.js';
import type { Ack, FollowUp } from '../api/acks.js';
import type { Shutdown, Station } from '../registry.js';
import type { ShutdownBook } from '../shutdowns.js';
import type { StationRules } from '../rules/state.js';
import { inTransaction } from './pg-schema.js';

/**
 * The smaller shared stores of a cluster in PostgreSQL: the same records and rules as their SQLite
 * counterparts (cloud/api/acks.ts, cloud/shutdowns.ts, cloud/alarms/backfills.ts), asynchronous, one
 * table for every process, so nothing is copied between processes.
 */

/** Acknowledgements: the latest counts, also when two processes take one for the same alarm at once. */
export class PgAckStore {
  constructor(private readonly db: Pick<pg.Pool, 'query'>) {}

  async add(alarmId: number, ack: Ack): Promise<void> {
    await this.db.query(
      `INSERT INTO alarm_acks (alarm_id, by, at, comment) VALUES ($1, $2, $3, $4)
       ON CONFLICT (alarm_id) DO UPDATE SET by = excluded.by, at = excluded.at, comment = excluded.comment
       WHERE excluded.at >= alarm_acks.at`,
      [alarmId, ack.by, ack.at, ack.comment],
    );
  }

  /** Acknowledgements of the given alarms, by alarm id. */
  async of(ids: readonly number[]): Promise<Map<number, Ack>> {
    if (ids.length === 0) return new Map();
    const r = await this.db.query<Ack & { alarm_id: number }>(
      'SELECT alarm_id, by, at, comment FROM alarm_acks WHERE alarm_id = ANY($1::bigint[])',
      [ids],
    );
    return new Map(r.rows.map(({ alarm_id, ...ack }) => [alarm_id, ack]));
  }
}

/** Follow-up trails: every change a row, never updated; the same change twice is one row. */
export class PgFollowUpStore {
  constructor(private readonly db: Pick<pg.Pool, 'query'>) {}

  async add(alarmId: number, f: FollowUp): Promise<void> {
    await this.db.query(
      `INSERT INTO alarm_follow_ups (alarm_id, by, at, state, comment) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [alarmId, f.by, f.at, f.state, f.comment],
    );
  }

  /** The trails of the given alarms, oldest change first, by alarm id (alarms without one are absent). */
  async of(ids: readonly number[]): Promise<Map<number, FollowUp[]>> {
    const trails = new Map<number, FollowUp[]>();
    if (ids.length === 0) return trails;
    const r = await this.db.query<FollowUp & { alarm_id: number }>(
      `SELECT alarm_id, by, at, state, comment FROM alarm_follow_ups WHERE alarm_id = ANY($1::bigint[])
       ORDER BY at, id`,
      [ids],
    );
    for (const { alarm_id, ...f } of r.rows) trails.set(alarm_id, [...(trails.get(alarm_id) ?? []), f]);
    return trails;
  }
}

/** Shutdown windows registered through the API (the registry's own stay in the registry). */
export class PgShutdownStore implements ShutdownBook {
  constructor(private readonly db: Pick<pg.Pool, 'query'>) {}

  async add(mn: string, w: Shutdown): Promise<void> {
    await this.db.query('INSERT INTO shutdowns (mn, "from", "to", reason) VALUES ($1, $2, $3, $4)', [
      mn,
      w.from,
      w.to,
      w.reason,
    ]);
  }

  async list(mn: string): Promise<Shutdown[]> {
    const r = await this.db.query<Shutdown>(
      'SELECT "from", "to", reason FROM shutdowns WHERE mn = $1 ORDER BY "from" COLLATE "C", id',
      [mn],
    );
    return r.rows;
  }

  /** Every window of a station: the registry's and the registered ones. */
  async windows(station: Pick<Station, 'mn' | 'shutdowns'>): Promise<Shutdown[]> {
    return [...station.shutdowns, ...(await this.list(station.mn))];
  }
}

/** Back-filled hours (补传): recorded once, so a later resend does not move an hour's arrival. */
export class PgBackfillStore {
  constructor(private readonly db: Pick<pg.Pool, 'query'>) {}

  /** Records a late hour; false when it was already recorded (by this process or another). */
  async add(b: Backfill): Promise<boolean> {
    const r = await this.db.query(
      `INSERT INTO backfills (mn, factor, time, arrived_at, closed_alarm) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT DO NOTHING`,
      [b.mn, b.factor, b.time, b.arrivedAt, b.closedAlarm],
    );
    return (r.rowCount ?? 0) > 0;
  }

  /** Back-filled hours of a station with a DataTime in [from, to), by time then factor. */
  async list(mn: string, from: number, to: number): Promise<Backfill[]> {
    const r = await this.db.query<{
      mn: string;
      factor: string;
      time: number;
      arrived_at: number;
      closed_alarm: boolean;
    }>(
      `SELECT mn, factor, time, arrived_at, closed_alarm FROM backfills WHERE mn = $1 AND time >= $2 AND time < $3
       ORDER BY time, factor`,
      [mn, from, to],
    );
    return r.rows.map((x) => ({
      mn: x.mn,
      factor: x.factor,
      time: x.time,
      arrivedAt: x.arrived_at,
      closedAlarm: x.closed_alarm,
    }));
  }
}

type RuleRow = {
  runs: StationRules['runs'];
  treatment: StationRules['treatment'] | null;
  seen: StationRules['seen'] | null;
  since: number | null;
  requested_at: number | null;
};

const RULE_COLUMNS = 'mn, runs, treatment, seen, since, requested_at';

function toRules(r: RuleRow): StationRules {
  const s: StationRules = { runs: r.runs ?? {} };
  if (r.treatment) s.treatment = r.treatment;
  if (r.seen) s.seen = r.seen;
  if (r.since !== null) s.since = r.since;
  if (r.requested_at !== null) s.requestedAt = r.requested_at;
  return s;
}

/** The last packet heard of every station that has been heard, by any process. */
export async function readHeard(db: Pick<pg.Pool, 'query'>): Promise<Map<string, NonNullable<StationRules['seen']>>> {
  const r = await db.query<{ mn: string; seen: NonNullable<StationRules['seen']> }>(
    "SELECT mn, seen FROM rule_state WHERE seen IS NOT NULL AND seen <> 'null'::jsonb",
  );
  return new Map(r.rows.map((row) => [row.mn, row.seen]));
}

/** The committed rule state of these stations (those without a row have none yet). */
export async function readStationStates(
  db: Pick<pg.Pool, 'query'>,
  mns: readonly string[],
): Promise<Map<string, StationRules>> {
  if (mns.length === 0) return new Map();
  const r = await db.query<RuleRow & { mn: string }>(
    `SELECT ${RULE_COLUMNS} FROM rule_state WHERE mn = ANY($1::text[])`,
    [mns],
  );
  return new Map(r.rows.map((row) => [row.mn, toRules(row)]));
}

/**
 * Runs `fn` on a station's rule state with its row locked (SELECT ... FOR UPDATE) in one transaction,
 * and stores the state as `fn` left it: two processes that stored packets of one station evaluate its
 * rules one after the other, each seeing what the other left, and what `fn` writes on `client` (an
 * episode change, a queued webhook) commits with the state or not at all.
 */
export async function withStationState<T>(
  pool: pg.Pool,
  mn: string,
  fn: (state: StationRules, client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return inTransaction(pool, async (client) => {
    await client.query('INSERT INTO rule_state (mn) VALUES ($1) ON CONFLICT (mn) DO NOTHING', [mn]);
    const row = (
      await client.query<RuleRow & { mn: string }>(`SELECT ${RULE_COLUMNS} FROM rule_state WHERE mn = $1 FOR UPDATE`, [
        mn,
      ])
    ).rows[0]!;
    const state = toRules(row);
    const result = await fn(state, client);
    await client.query(
      'UPDATE rule_state SET runs = $2, treatment = $3, seen = $4, since = $5, requested_at = $6 WHERE mn = $1',
      [
        mn,
        JSON.stringify(state.runs),
        JSON.stringify(state.treatment ?? null),
        JSON.stringify(state.seen ?? null),
        state.since ?? null,
        state.requestedAt ?? null,
      ],
    );
    return result;
  });
}
