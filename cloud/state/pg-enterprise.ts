import type pg from 'pg';
import { inTransaction } from './pg-schema.js';
import { auditOf, markValues, toMark, type Mark, type MarkAudit, type MarkBody, type MarkParty } from '../marks.js';
import type { MarkRow, MarkStore } from '../marks.js';
import {
  omRecordValues,
  toOmRecord,
  type OmRecord,
  type OmRecordBody,
  type OmRecordBook,
  type OmRecordRow,
} from '../om-records.js';
import { PLAN_COLUMNS, toPlan, type ManualResult, type Plan, type PlanBody, type PlanBook } from '../plans.js';
import type { PlanRow, PlanState } from '../plans.js';
import {
  toRegistration,
  windowReason,
  type Registration,
  type RegistrationBody,
  type RegistrationBook,
  type RegistrationRow,
  type RegistrationState,
  type ReviewBody,
  type ReviewRefusal,
} from '../registrations.js';
import {
  FROM,
  itemValues,
  stepValues,
  type NewStep,
  TO,
  toItem,
  type AttachmentRow,
  type ItemRow,
  type StepRefusal,
  type StepRow,
} from '../supervision.js';
import type { SupervisionAction, SupervisionAnswer, SupervisionBook, SupervisionItem } from '../supervision.js';
import type { SupervisionReview, SupervisionState, SupervisionSubject } from '../supervision.js';
import { PgShutdownStore } from './pg-stores.js';

/**
 * The enterprise-facing records of a cluster in PostgreSQL (migrations 6 to 10): review marks,
 * abnormal-operation registrations, O&M records, monitoring plans with their manual results, and
 * electronic supervision. The same records and rules as their SQLite stores (cloud/marks.ts,
 * cloud/registrations.ts, cloud/om-records.ts, cloud/plans.ts, cloud/supervision.ts), one table for every
 * process, so what one process's API takes the others' read. ISO times kept as given are ordered bytewise
 * (COLLATE "C"), as SQLite orders them.
 */

type Db = Pick<pg.Pool, 'query'>;

/** `WHERE mn = ANY(...) AND state = ...` of what is given, its parameters numbered from $1. */
function listFilter(f: { mns?: readonly string[] | undefined; state?: string | undefined }): {
  cond: string;
  args: unknown[];
} {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.mns !== undefined) {
    args.push([...f.mns]);
    where.push(`mn = ANY($${args.length}::text[])`);
  }
  if (f.state !== undefined) {
    args.push(f.state);
    where.push(`state = $${args.length}`);
  }
  return { cond: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}

/** Review marks (数据审核/标记): the same overlay and audit trail as SqliteMarkStore. */
export class PgMarkStore implements MarkStore {
  constructor(private readonly db: Db) {}

  async add(mn: string, body: MarkBody, by: string, at: number, party?: MarkParty): Promise<Mark> {
    const r = await this.db.query<MarkRow>(
      `INSERT INTO marks (mn, factor, from_ms, to_ms, reason, flag, note, "by", at, by_party)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
      [...markValues(mn, body, by, at, party)],
    );
    return toMark(r.rows[0]!);
  }

  async revoke(mn: string, id: number, by: string, at: number): Promise<Mark | undefined> {
    // One withdrawal counts, also when two processes take one for the same mark at once.
    const r = await this.db.query<MarkRow>(
      `UPDATE marks SET revoked_by = $1, revoked_at = $2 WHERE id = $3 AND mn = $4 AND revoked_at IS NULL RETURNING *`,
      [by, at, id, mn],
    );
    return r.rows[0] && toMark(r.rows[0]);
  }

  async active(mn: string, from: number, to: number): Promise<Mark[]> {
    const r = await this.db.query<MarkRow>(
      `SELECT * FROM marks WHERE mn = $1 AND revoked_at IS NULL AND from_ms < $2 AND to_ms > $3 ORDER BY at, id`,
      [mn, to, from],
    );
    return r.rows.map(toMark);
  }

  async audit(mn: string): Promise<MarkAudit[]> {
    const r = await this.db.query<MarkRow>('SELECT * FROM marks WHERE mn = $1 ORDER BY id', [mn]);
    return auditOf(r.rows.map(toMark));
  }
}

/**
 * Abnormal-operation registrations (不正常运行登记): an approval writes its shutdown window (the shutdowns
 * table PgShutdownStore reads) in one transaction with the decision, the registration's row locked, so two
 * reviewers on two processes decide it once.
 */
export class PgRegistrationStore implements RegistrationBook {
  constructor(private readonly pool: pg.Pool) {}

  async submit(mn: string, body: RegistrationBody, by: string, at: number): Promise<Registration> {
    const r = await this.pool.query<RegistrationRow>(
      `INSERT INTO registrations (mn, "from", "to", reason, detail, state, "by", at)
       VALUES ($1, $2, $3, $4, $5, 'submitted', $6, $7) RETURNING *`,
      [mn, body.from, body.to, body.reason, body.detail, by, at],
    );
    return toRegistration(r.rows[0]!);
  }

  async get(id: number, db: Db = this.pool, lock = false): Promise<Registration | undefined> {
    const r = await db.query<RegistrationRow>(`SELECT * FROM registrations WHERE id = $1${lock ? ' FOR UPDATE' : ''}`, [
      id,
    ]);
    return r.rows[0] && toRegistration(r.rows[0]);
  }

  async list(filter: { mns?: readonly string[]; state?: RegistrationState } = {}): Promise<Registration[]> {
    const { cond, args } = listFilter(filter);
    const r = await this.pool.query<RegistrationRow>(
      `SELECT * FROM registrations ${cond} ORDER BY "from" COLLATE "C", id`,
      args,
    );
    return r.rows.map(toRegistration);
  }

  async review(id: number, body: ReviewBody, by: string, at: number): Promise<Registration | ReviewRefusal> {
    return inTransaction(this.pool, async (c): Promise<Registration | ReviewRefusal> => {
      const r = await this.get(id, c, true);
      if (!r) return 'not-found';
      if (r.state !== 'submitted') return 'already-reviewed';
      if (body.decision === 'reject' && body.comment === '') return 'no-comment';
      const state: RegistrationState = body.decision === 'approve' ? 'approved' : 'rejected';
      await c.query(
        'UPDATE registrations SET state = $1, reviewed_by = $2, reviewed_at = $3, review_comment = $4 WHERE id = $5',
        [state, by, at, body.comment, id],
      );
      if (state === 'approved')
        await new PgShutdownStore(c).add(r.mn, { from: r.from, to: r.to, reason: windowReason(r) });
      return (await this.get(id, c))!;
    });
  }
}

/** O&M records (运维记录). */
export class PgOmRecordStore implements OmRecordBook {
  constructor(private readonly db: Db) {}

  async add(mn: string, body: OmRecordBody, by: string, at: number): Promise<OmRecord> {
    const r = await this.db.query<OmRecordRow>(
      `INSERT INTO om_records (mn, factor, type, from_ms, to_ms, company, standard_value, reading, note, "by", at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
      omRecordValues(mn, body, by, at),
    );
    return toOmRecord(r.rows[0]!);
  }

  async list(mn: string, from: number, to: number): Promise<OmRecord[]> {
    const r = await this.db.query<OmRecordRow>(
      'SELECT * FROM om_records WHERE mn = $1 AND from_ms < $2 AND to_ms > $3 ORDER BY from_ms, id',
      [mn, to, from],
    );
    return r.rows.map(toOmRecord);
  }
}

/** Monitoring plans (自行监测方案) and manual results (手工监测). */
export class PgPlanStore implements PlanBook {
  constructor(private readonly db: Db) {}

  async submit(mn: string, body: PlanBody, by: string, at: number): Promise<Plan> {
    const r = await this.db.query<PlanRow>(
      `INSERT INTO plans (mn, items, state, "by", at) VALUES ($1, $2, 'submitted', $3, $4) RETURNING ${PLAN_COLUMNS}`,
      [mn, JSON.stringify(body.items), by, at],
    );
    return toPlan(r.rows[0]!);
  }

  async get(id: number): Promise<Plan | undefined> {
    const r = await this.db.query<PlanRow>(`SELECT ${PLAN_COLUMNS} FROM plans WHERE id = $1`, [id]);
    return r.rows[0] && toPlan(r.rows[0]);
  }

  async list(filter: { mns?: readonly string[]; state?: PlanState } = {}): Promise<Plan[]> {
    const { cond, args } = listFilter(filter);
    const r = await this.db.query<PlanRow>(`SELECT ${PLAN_COLUMNS} FROM plans ${cond} ORDER BY id`, args);
    return r.rows.map(toPlan);
  }

  async inForce(mn: string): Promise<Plan | undefined> {
    const r = await this.db.query<PlanRow>(
      `SELECT ${PLAN_COLUMNS} FROM plans WHERE mn = $1 AND state = 'approved'
       ORDER BY reviewed_at DESC, id DESC LIMIT 1`,
      [mn],
    );
    return r.rows[0] && toPlan(r.rows[0]);
  }

  async review(
    id: number,
    state: 'approved' | 'rejected',
    by: string,
    at: number,
    comment: string,
  ): Promise<Plan | 'not-submitted'> {
    const r = await this.db.query<PlanRow>(
      `UPDATE plans SET state = $1, reviewed_by = $2, reviewed_at = $3, review_comment = $4
       WHERE id = $5 AND state = 'submitted' RETURNING ${PLAN_COLUMNS}`,
      [state, by, at, comment, id],
    );
    return r.rows[0] ? toPlan(r.rows[0]) : 'not-submitted';
  }

  async attach(id: number, name: string, bytes: Buffer): Promise<void> {
    await this.db.query('UPDATE plans SET attachment_name = $1, attachment_bytes = $2, attachment = $3 WHERE id = $4', [
      name,
      bytes.length,
      bytes,
      id,
    ]);
  }

  async attachment(id: number): Promise<{ name: string; bytes: Buffer } | undefined> {
    const r = await this.db.query<{ name: string | null; bytes: Buffer | null }>(
      'SELECT attachment_name AS name, attachment AS bytes FROM plans WHERE id = $1',
      [id],
    );
    const a = r.rows[0];
    return a?.name != null && a.bytes != null ? { name: a.name, bytes: a.bytes } : undefined;
  }

  async addResult(m: Omit<ManualResult, 'id'>): Promise<ManualResult | 'duplicate'> {
    const r = await this.db.query<{ id: number }>(
      `INSERT INTO manual_results (mn, factor, time, value, method, method_source, lab, note, plan_id, "by", at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (mn, factor, time) DO NOTHING RETURNING id`,
      [m.mn, m.factor, m.time, m.value, m.method, m.methodSource, m.lab, m.note, m.planId, m.by, m.at],
    );
    return r.rows[0] ? { ...m, id: r.rows[0].id } : 'duplicate';
  }

  async results(mn: string, from: number, to: number): Promise<ManualResult[]> {
    const r = await this.db.query<ManualResult>(
      `SELECT id, mn, factor, time, value, method, method_source AS "methodSource", lab, note, plan_id AS "planId",
         "by", at FROM manual_results WHERE mn = $1 AND time >= $2 AND time < $3 ORDER BY time, factor COLLATE "C"`,
      [mn, from, to],
    );
    return r.rows;
  }
}

/**
 * Electronic supervision (电子督办): each step moves the item with its row locked, so two processes taking a
 * step of one item at once take them one after the other, the second one checked against the first's state.
 */
export class PgSupervisionStore implements SupervisionBook {
  constructor(private readonly pool: pg.Pool) {}

  async send(
    subject: SupervisionSubject,
    deadline: number,
    request: string,
    by: string,
    party: MarkParty,
    at: number,
  ): Promise<SupervisionItem> {
    return inTransaction(this.pool, async (c) => {
      const r = await c.query<{ id: number }>(
        `INSERT INTO supervision_items (mn, kind, alarm_id, factor, from_ms, to_ms, deadline, request, state, "by", at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'sent', $9, $10) RETURNING id`,
        [...itemValues(subject, deadline, request, by, at)],
      );
      const id = r.rows[0]!.id;
      await this.step(c, { item: id, action: 'send', state: 'sent', by, party, at, comment: request });
      return (await this.get(id, c))!;
    });
  }

  async get(id: number, db: Db = this.pool): Promise<SupervisionItem | undefined> {
    const r = await db.query<ItemRow>('SELECT * FROM supervision_items WHERE id = $1', [id]);
    return (await this.items(db, r.rows))[0];
  }

  async list(filter: { mns?: readonly string[]; state?: SupervisionState } = {}): Promise<SupervisionItem[]> {
    const { cond, args } = listFilter(filter);
    const r = await this.pool.query<ItemRow>(`SELECT * FROM supervision_items ${cond} ORDER BY id`, args);
    return this.items(this.pool, r.rows);
  }

  async openForAlarm(alarmId: number): Promise<number | undefined> {
    const r = await this.pool.query<{ id: number }>(
      `SELECT id FROM supervision_items WHERE alarm_id = $1 AND state != 'accepted' ORDER BY id LIMIT 1`,
      [alarmId],
    );
    return r.rows[0]?.id;
  }

  async answer(
    id: number,
    body: SupervisionAnswer,
    by: string,
    party: MarkParty,
    at: number,
  ): Promise<SupervisionItem | StepRefusal> {
    return inTransaction(this.pool, async (c): Promise<SupervisionItem | StepRefusal> => {
      const moved = await this.move(c, id, 'answer');
      if (moved !== undefined) return moved;
      const stepId = await this.step(c, {
        item: id,
        action: 'answer',
        state: TO.answer,
        ...{ by, party, at, comment: '', reason: body.reason, measures: body.measures },
      });
      for (const a of body.attachments) {
        const data = Buffer.from(a.base64, 'base64');
        await c.query(
          'INSERT INTO supervision_attachments (item_id, step_id, name, bytes, data) VALUES ($1, $2, $3, $4, $5)',
          [id, stepId, a.name, data.length, data],
        );
      }
      return (await this.get(id, c))!;
    });
  }

  async review(
    id: number,
    body: SupervisionReview,
    by: string,
    party: MarkParty,
    at: number,
  ): Promise<SupervisionItem | StepRefusal> {
    const action = body.decision === 'accept' ? 'accept' : 'return';
    return inTransaction(this.pool, async (c): Promise<SupervisionItem | StepRefusal> => {
      const moved = await this.move(c, id, action);
      if (moved !== undefined) return moved;
      await this.step(c, { item: id, action, state: TO[action], by, party, at, comment: body.comment });
      return (await this.get(id, c))!;
    });
  }

  async attachment(itemId: number, attachmentId: number): Promise<{ name: string; bytes: Buffer } | undefined> {
    const r = await this.pool.query<{ name: string; data: Buffer }>(
      'SELECT name, data FROM supervision_attachments WHERE id = $1 AND item_id = $2',
      [attachmentId, itemId],
    );
    const a = r.rows[0];
    return a && { name: a.name, bytes: a.data };
  }

  /** Items with their steps and attachments, read in two queries whatever their number. */
  private async items(db: Db, rows: readonly ItemRow[]): Promise<SupervisionItem[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const steps = await db.query<StepRow>(
      'SELECT * FROM supervision_steps WHERE item_id = ANY($1::bigint[]) ORDER BY id',
      [ids],
    );
    const files = await db.query<AttachmentRow & { item_id: number }>(
      `SELECT id, item_id, step_id, name, bytes FROM supervision_attachments WHERE item_id = ANY($1::bigint[])
       ORDER BY id`,
      [ids],
    );
    return rows.map((r) =>
      toItem(
        r,
        steps.rows.filter((s) => s.item_id === r.id),
        files.rows.filter((f) => f.item_id === r.id),
      ),
    );
  }

  /** Moves an item (its row locked) to the state after `action`, or says why not. */
  private async move(
    c: pg.PoolClient,
    id: number,
    action: Exclude<SupervisionAction, 'send'>,
  ): Promise<StepRefusal | undefined> {
    const r = await c.query<{ state: SupervisionState }>(
      'SELECT state FROM supervision_items WHERE id = $1 FOR UPDATE',
      [id],
    );
    const row = r.rows[0];
    if (!row) return 'not-found';
    if (!FROM[action].includes(row.state)) return 'wrong-state';
    await c.query('UPDATE supervision_items SET state = $1 WHERE id = $2', [TO[action], id]);
    return undefined;
  }

  private async step(c: pg.PoolClient, s: NewStep): Promise<number> {
    const r = await c.query<{ id: number }>(
      `INSERT INTO supervision_steps (item_id, action, state, "by", party, at, comment, reason, measures)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
      [...stepValues(s)],
    );
    return r.rows[0]!.id;
  }
}
