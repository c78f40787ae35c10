import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { Awaitable } from './rules/state.js';
import type { ShutdownStore } from './shutdowns.js';
import { listFilter } from './state/sqlite-filter.js';

/**
 * Abnormal-operation registration (不正常运行登记), as the provincial self-monitoring platforms keep it: an
 * enterprise says that an outlet was, or will be, not monitored for a period and why; the environmental
 * authority (or the centre) reviews it (审核). Only an approved registration takes effect: it becomes a
 * shutdown window, so the missing-hour check and the rates leave its hours out (HJ 75-2017 and HJ 355-2019
 * count the hours a source is in operation; a registered stop is not owed). A rejected one stays, as such.
 */
export const REGISTRATION_REASONS = {
  /** 停产未监测: the plant does not produce, so the outlet discharges nothing. */
  stopped: '停产未监测',
  /** 检修: the process or the treatment facility is under maintenance. */
  maintenance: '检修',
  /** 故障: the monitoring equipment has failed and is being repaired. */
  fault: '故障',
  /** 停运: the monitoring system is taken out of service (e.g. replaced). */
  outOfService: '停运',
  /** 其他: any other reason, said in the detail. */
  other: '其他',
} as const;
export type RegistrationReason = keyof typeof REGISTRATION_REASONS;
const ReasonSchema = z.enum(Object.keys(REGISTRATION_REASONS) as [RegistrationReason, ...RegistrationReason[]], {
  message: `reason is one of ${Object.keys(REGISTRATION_REASONS).join(', ')}`,
});

const DAY = 86_400_000;
/** The longest period one registration covers: a year (a longer stop is a change of the permit, not a registration). */
const MAX_SPAN = 366 * DAY;

export const RegistrationBodySchema = z
  .strictObject({
    from: z.iso.datetime({
      offset: true,
      message: 'from is an ISO 8601 time with its zone, e.g. 2026-11-20T00:00:00+08:00',
    }),
    to: z.iso.datetime({ offset: true, message: 'to is an ISO 8601 time with its zone (the end of the period)' }),
    reason: ReasonSchema,
    /** What happened; required for `other`, where the reason says nothing by itself. */
    detail: z.string().trim().max(500).default(''),
  })
  .refine((r) => Date.parse(r.from) < Date.parse(r.to), { message: 'a period ends after it starts', path: ['to'] })
  .refine((r) => Date.parse(r.to) - Date.parse(r.from) <= MAX_SPAN, {
    message: 'a registration covers at most 366 days',
    path: ['to'],
  })
  .refine((r) => r.reason !== 'other' || r.detail !== '', {
    message: 'say in detail what the other reason is',
    path: ['detail'],
  });
export type RegistrationBody = z.output<typeof RegistrationBodySchema>;

/** The body of a review (审核) of any submission: registrations and monitoring plans. */
export const ReviewBodySchema = z.strictObject({
  decision: z.enum(['approve', 'reject'], { message: 'decision is approve or reject' }),
  /** Why; required to reject, so the enterprise knows what to fix. */
  comment: z.string().trim().max(500).default(''),
});
export type ReviewBody = z.output<typeof ReviewBodySchema>;

export const REGISTRATION_STATES = ['submitted', 'approved', 'rejected'] as const;
export type RegistrationState = (typeof REGISTRATION_STATES)[number];

/** A registration as kept: its period as given (ISO with zone), who submitted it and, once reviewed, who decided. */
export interface Registration {
  id: number;
  mn: string;
  from: string;
  to: string;
  reason: RegistrationReason;
  detail: string;
  state: RegistrationState;
  by: string;
  at: number;
  review?: { by: string; at: number; comment: string };
}

/** A row of the registrations table (SQLite and a cluster's PostgreSQL). */
export type RegistrationRow = {
  id: number;
  mn: string;
  from: string;
  to: string;
  reason: RegistrationReason;
  detail: string;
  state: RegistrationState;
  by: string;
  at: number;
  reviewed_by: string | null;
  reviewed_at: number | null;
  review_comment: string | null;
};

export function toRegistration(r: RegistrationRow): Registration {
  const out: Registration = {
    id: r.id,
    mn: r.mn,
    from: r.from,
    to: r.to,
    reason: r.reason,
    detail: r.detail,
    state: r.state,
    by: r.by,
    at: r.at,
  };
  if (r.reviewed_by !== null) out.review = { by: r.reviewed_by, at: r.reviewed_at!, comment: r.review_comment ?? '' };
  return out;
}

/** Why a review cannot be made, or undefined. */
export type ReviewRefusal = 'not-found' | 'already-reviewed' | 'no-comment';

/** The reason of the shutdown window an approved registration puts in force: it names its registration. */
export function windowReason(r: Pick<Registration, 'id' | 'reason' | 'detail'>): string {
  return `${REGISTRATION_REASONS[r.reason]}（不正常运行登记 #${r.id}）${r.detail ? `：${r.detail}` : ''}`;
}

/**
 * Where registrations are kept: the state database (RegistrationStore, answers at once) or a cluster's
 * PostgreSQL (PgRegistrationStore, cloud/state/pg-enterprise.ts); callers await.
 */
export interface RegistrationBook {
  submit(mn: string, body: RegistrationBody, by: string, at: number): Awaitable<Registration>;
  get(id: number): Awaitable<Registration | undefined>;
  /** A station's registrations, or those of a set of stations (undefined: every station), oldest period first. */
  list(filter?: { mns?: readonly string[]; state?: RegistrationState }): Awaitable<Registration[]>;
  /** Approves or rejects a submitted registration once; an approval puts its period in force as a shutdown window. */
  review(id: number, body: ReviewBody, by: string, at: number): Awaitable<Registration | ReviewRefusal>;
}

/** Registrations in the state database; an approval writes the shutdown window in the same transaction. */
export class RegistrationStore implements RegistrationBook {
  constructor(
    private readonly db: Database.Database,
    private readonly shutdowns: Pick<ShutdownStore, 'add'>,
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS registrations (id INTEGER PRIMARY KEY AUTOINCREMENT, mn TEXT NOT NULL,
      "from" TEXT NOT NULL, "to" TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT NOT NULL, state TEXT NOT NULL,
      "by" TEXT NOT NULL, at INTEGER NOT NULL, reviewed_by TEXT, reviewed_at INTEGER, review_comment TEXT);
      CREATE INDEX IF NOT EXISTS registrations_mn ON registrations (mn, "from")`);
  }

  submit(mn: string, body: RegistrationBody, by: string, at: number): Registration {
    const r = this.db
      .prepare(
        'INSERT INTO registrations (mn, "from", "to", reason, detail, state, "by", at) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *',
      )
      .get(mn, body.from, body.to, body.reason, body.detail, 'submitted', by, at) as RegistrationRow;
    return toRegistration(r);
  }

  get(id: number): Registration | undefined {
    const r = this.db.prepare('SELECT * FROM registrations WHERE id = ?').get(id) as RegistrationRow | undefined;
    return r && toRegistration(r);
  }

  /** A station's registrations, or those of a set of stations (undefined: every station), oldest period first. */
  list(filter: { mns?: readonly string[]; state?: RegistrationState } = {}): Registration[] {
    const { cond, args } = listFilter(filter);
    return (
      this.db.prepare(`SELECT * FROM registrations ${cond} ORDER BY "from", id`).all(...args) as RegistrationRow[]
    ).map(toRegistration);
  }

  /**
   * Approves or rejects a submitted registration once; an approval puts its period in force as a shutdown
   * window, in one transaction with the decision, so a crash leaves neither or both.
   */
  review(id: number, body: ReviewBody, by: string, at: number): Registration | ReviewRefusal {
    return this.db.transaction((): Registration | ReviewRefusal => {
      const r = this.get(id);
      if (!r) return 'not-found';
      if (r.state !== 'submitted') return 'already-reviewed';
      if (body.decision === 'reject' && body.comment === '') return 'no-comment';
      const state: RegistrationState = body.decision === 'approve' ? 'approved' : 'rejected';
      this.db
        .prepare(
          'UPDATE registrations SET state = ?, reviewed_by = ?, reviewed_at = ?, review_comment = ? WHERE id = ?',
        )
        .run(state, by, at, body.comment, id);
      if (state === 'approved') {
        // The window names its registration, so an hour it leaves out is explained by the record that did.
        this.shutdowns.add(r.mn, { from: r.from, to: r.to, reason: windowReason(r) });
      }
      return this.get(id)!;
    })();
  }
}
