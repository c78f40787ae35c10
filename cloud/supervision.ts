import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { MarkParty } from './marks.js';
import type { Awaitable } from './rules/state.js';
import { listFilter } from './state/sqlite-filter.js';
import { AttachmentSchema } from './attachments.js';

/**
 * Electronic supervision (电子督办), as the Jiangsu pilot of data marking and electronic supervision
 * (苏环办〔2021〕2号, cited by seed 004) runs it: the centre or the authority of a station sends the enterprise
 * an exceedance or a data gap as an item with a deadline; the enterprise answers (the cause, the measures
 * taken, attachments); the authority accepts the answer, which closes the item, or returns it, and the
 * enterprise answers again. Every step is kept with who made it, from which side, and when.
 *
 * States: `sent` → answer → `answered` → accept → `accepted` (closed), or → return → `returned` →
 * answer → `answered` …. An item not accepted by its deadline is overdue (a returned answer does not stop
 * the clock: the deadline is for the matter to be settled, not for a first reply).
 */
export const SUPERVISION_KINDS = {
  /** 超标: hours or values above the limit. */
  exceedance: '超标',
  /** 数据缺失: hours not received (a missing-hour or offline alarm, or a period named by hand). */
  dataGap: '数据缺失',
} as const;
export type SupervisionKind = keyof typeof SUPERVISION_KINDS;
export const SUPERVISION_STATES = ['sent', 'answered', 'returned', 'accepted'] as const;
export type SupervisionState = (typeof SUPERVISION_STATES)[number];
export const SUPERVISION_ACTIONS = ['send', 'answer', 'return', 'accept'] as const;
export type SupervisionAction = (typeof SUPERVISION_ACTIONS)[number];

const IsoTime = (what: string) =>
  z.iso.datetime({
    offset: true,
    message: `${what} is an ISO 8601 time with its zone, e.g. 2026-11-21T18:00:00+08:00`,
  });

export const SupervisionSendSchema = z
  .strictObject({
    /** An exceedance, missing-hour or offline alarm (GET /alarms): it gives the station, the kind and the period. */
    alarmId: z.number().int().min(1).optional(),
    /** Or a station and a period named by hand. */
    mn: z.string().min(1).optional(),
    kind: z
      .enum(Object.keys(SUPERVISION_KINDS) as [SupervisionKind, ...SupervisionKind[]], {
        message: `kind is one of ${Object.keys(SUPERVISION_KINDS).join(', ')}`,
      })
      .optional(),
    factor: z.string().min(1).max(16).optional(),
    from: IsoTime('from').optional(),
    to: IsoTime('to').optional(),
    /** When the matter is to be settled (the answer accepted). */
    deadline: IsoTime('deadline'),
    /** What the enterprise is asked to explain or do. */
    request: z.string().trim().max(1000).default(''),
  })
  .refine((b) => (b.alarmId === undefined) !== (b.mn === undefined), {
    message: 'give alarmId (an exceedance or data-gap alarm) or mn with kind, from and to, not both',
    path: ['alarmId'],
  })
  .refine((b) => b.alarmId === undefined || (b.kind ?? b.from ?? b.to ?? b.factor) === undefined, {
    message: 'with alarmId the alarm gives the kind, factor and period: leave kind, factor, from and to out',
    path: ['alarmId'],
  })
  .refine((b) => b.mn === undefined || (b.kind !== undefined && b.from !== undefined && b.to !== undefined), {
    message: 'an item for a station names its kind, from and to',
    path: ['kind'],
  })
  .refine((b) => b.from === undefined || b.to === undefined || Date.parse(b.from) < Date.parse(b.to), {
    message: 'a period ends after it starts',
    path: ['to'],
  });
export type SupervisionSend = z.output<typeof SupervisionSendSchema>;

export const SupervisionAnswerSchema = z.strictObject({
  /** 原因: what caused the exceedance or the gap. */
  reason: z.string().trim().min(1, 'say what caused it (原因)').max(1000),
  /** 整改措施: what was done about it. */
  measures: z.string().trim().min(1, 'say what was done about it (整改措施)').max(1000),
  attachments: z.array(AttachmentSchema).max(5, 'at most 5 attachments an answer').default([]),
});
export type SupervisionAnswer = z.output<typeof SupervisionAnswerSchema>;

export const SupervisionReviewSchema = z.strictObject({
  decision: z.enum(['accept', 'return'], { message: 'decision is accept or return' }),
  /** Why; required to return, so the enterprise knows what to answer. */
  comment: z.string().trim().max(1000).default(''),
});
export type SupervisionReview = z.output<typeof SupervisionReviewSchema>;

/** What an item is about, resolved from an alarm or given by hand. */
export interface SupervisionSubject {
  mn: string;
  kind: SupervisionKind;
  alarmId?: number;
  factor?: string;
  from: number;
  /** Absent for an alarm still open when sent. */
  to?: number;
}

export interface SupervisionStep {
  action: SupervisionAction;
  /** The item's state after the step. */
  state: SupervisionState;
  by: string;
  party: MarkParty;
  at: number;
  comment: string;
  reason?: string;
  measures?: string;
  attachments?: { id: number; name: string; bytes: number }[];
}

export interface SupervisionItem extends SupervisionSubject {
  id: number;
  deadline: number;
  request: string;
  state: SupervisionState;
  by: string;
  at: number;
  steps: SupervisionStep[];
}

/** A row of the supervision_items table (SQLite and a cluster's PostgreSQL). */
export type ItemRow = {
  id: number;
  mn: string;
  kind: SupervisionKind;
  alarm_id: number | null;
  factor: string | null;
  from_ms: number;
  to_ms: number | null;
  deadline: number;
  request: string;
  state: SupervisionState;
  by: string;
  at: number;
};
/** A row of the supervision_steps table. */
export type StepRow = {
  id: number;
  item_id: number;
  action: SupervisionAction;
  state: SupervisionState;
  by: string;
  party: MarkParty;
  at: number;
  comment: string;
  reason: string | null;
  measures: string | null;
};

/** Why a step cannot be made: no such item, or its state does not allow it. */
export type StepRefusal = 'not-found' | 'wrong-state';

/** Which states a step may be taken from. */
export const FROM: Record<Exclude<SupervisionAction, 'send'>, readonly SupervisionState[]> = {
  answer: ['sent', 'returned'],
  return: ['answered'],
  accept: ['answered'],
};
export const TO: Record<Exclude<SupervisionAction, 'send'>, SupervisionState> = {
  answer: 'answered',
  return: 'returned',
  accept: 'accepted',
};
/** What a step needs the item to be, said in a refusal. */
export const STEP_NEEDS: Record<Exclude<SupervisionAction, 'send'>, string> = {
  answer: 'an item is answered when sent or returned',
  return: 'an answered item is returned',
  accept: 'an answered item is accepted',
};

/** Whether an item is overdue at `now`: not accepted by its deadline. */
export const overdue = (i: Pick<SupervisionItem, 'state' | 'deadline'>, now: number): boolean =>
  i.state !== 'accepted' && now > i.deadline;

/** One step of an item's trail, as both stores record it (its attachments go in after it). */
export type NewStep = Omit<SupervisionStep, 'attachments'> & { item: number };

/** A step's columns, in the order both stores insert them (item_id, action … measures). */
export const stepValues = (s: NewStep) =>
  [s.item, s.action, s.state, s.by, s.party, s.at, s.comment, s.reason ?? null, s.measures ?? null] as const;

/** A new item's columns, in the order both stores insert them (mn, kind … by, at). */
export function itemValues(subject: SupervisionSubject, deadline: number, request: string, by: string, at: number) {
  return [
    subject.mn,
    subject.kind,
    subject.alarmId ?? null,
    subject.factor ?? null,
    subject.from,
    subject.to ?? null,
    deadline,
    request,
    by,
    at,
  ] as const;
}

/**
 * Where supervision items are kept: the state database (SupervisionStore) or a cluster's PostgreSQL
 * (PgSupervisionStore, cloud/state/pg-enterprise.ts); callers await.
 */
export interface SupervisionBook {
  /** Sends an item: its row and its first step in one transaction. */
  send(
    subject: SupervisionSubject,
    deadline: number,
    request: string,
    by: string,
    party: MarkParty,
    at: number,
  ): Awaitable<SupervisionItem>;
  get(id: number): Awaitable<SupervisionItem | undefined>;
  /** Items of a set of stations (undefined: every station), oldest first. */
  list(filter?: { mns?: readonly string[]; state?: SupervisionState }): Awaitable<SupervisionItem[]>;
  /** The open (not accepted) item sent for an alarm, if any. */
  openForAlarm(alarmId: number): Awaitable<number | undefined>;
  /** The enterprise answers: the step, its attachments and the new state in one transaction. */
  answer(
    id: number,
    body: SupervisionAnswer,
    by: string,
    party: MarkParty,
    at: number,
  ): Awaitable<SupervisionItem | StepRefusal>;
  /** The authority (or the centre) accepts or returns an answered item. */
  review(
    id: number,
    body: SupervisionReview,
    by: string,
    party: MarkParty,
    at: number,
  ): Awaitable<SupervisionItem | StepRefusal>;
  attachment(itemId: number, attachmentId: number): Awaitable<{ name: string; bytes: Buffer } | undefined>;
}

/** Supervision items, their steps and their answers' attachments, in the state database. */
export class SupervisionStore implements SupervisionBook {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS supervision_items (id INTEGER PRIMARY KEY AUTOINCREMENT, mn TEXT NOT NULL,
      kind TEXT NOT NULL, alarm_id INTEGER, factor TEXT, from_ms INTEGER NOT NULL, to_ms INTEGER,
      deadline INTEGER NOT NULL, request TEXT NOT NULL, state TEXT NOT NULL, "by" TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS supervision_items_mn ON supervision_items (mn, id);
      CREATE TABLE IF NOT EXISTS supervision_steps (id INTEGER PRIMARY KEY AUTOINCREMENT, item_id INTEGER NOT NULL,
      action TEXT NOT NULL, state TEXT NOT NULL, "by" TEXT NOT NULL, party TEXT NOT NULL, at INTEGER NOT NULL,
      comment TEXT NOT NULL, reason TEXT, measures TEXT);
      CREATE INDEX IF NOT EXISTS supervision_steps_item ON supervision_steps (item_id, id);
      CREATE TABLE IF NOT EXISTS supervision_attachments (id INTEGER PRIMARY KEY AUTOINCREMENT,
      item_id INTEGER NOT NULL, step_id INTEGER NOT NULL, name TEXT NOT NULL, bytes INTEGER NOT NULL,
      data BLOB NOT NULL);`);
  }

  /** Sends an item: its row and its first step in one transaction. */
  send(
    subject: SupervisionSubject,
    deadline: number,
    request: string,
    by: string,
    party: MarkParty,
    at: number,
  ): SupervisionItem {
    return this.db.transaction(() => {
      const { id } = this.db
        .prepare(
          `INSERT INTO supervision_items
           (mn, kind, alarm_id, factor, from_ms, to_ms, deadline, request, state, "by", at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'sent', ?, ?) RETURNING id`,
        )
        .get(...itemValues(subject, deadline, request, by, at)) as { id: number };
      this.step({ item: id, action: 'send', state: 'sent', by, party, at, comment: request });
      return this.get(id)!;
    })();
  }

  get(id: number): SupervisionItem | undefined {
    const r = this.db.prepare('SELECT * FROM supervision_items WHERE id = ?').get(id) as ItemRow | undefined;
    return r && this.toItem(r);
  }

  /** Items of a set of stations (undefined: every station), oldest first. */
  list(filter: { mns?: readonly string[]; state?: SupervisionState } = {}): SupervisionItem[] {
    const { cond, args } = listFilter(filter);
    const rows = this.db.prepare(`SELECT * FROM supervision_items ${cond} ORDER BY id`).all(...args) as ItemRow[];
    return rows.map((r) => this.toItem(r));
  }

  /** The open (not accepted) item sent for an alarm, if any. */
  openForAlarm(alarmId: number): number | undefined {
    const r = this.db
      .prepare(`SELECT id FROM supervision_items WHERE alarm_id = ? AND state != 'accepted' ORDER BY id LIMIT 1`)
      .get(alarmId) as { id: number } | undefined;
    return r?.id;
  }

  /** The enterprise answers: the step, its attachments and the new state in one transaction. */
  answer(id: number, body: SupervisionAnswer, by: string, party: MarkParty, at: number): SupervisionItem | StepRefusal {
    return this.db.transaction((): SupervisionItem | StepRefusal => {
      const moved = this.move(id, 'answer');
      if (moved !== undefined) return moved;
      const stepId = this.step({
        item: id,
        action: 'answer',
        state: TO.answer,
        ...{ by, party, at, comment: '', reason: body.reason, measures: body.measures },
      });
      const put = this.db.prepare(
        'INSERT INTO supervision_attachments (item_id, step_id, name, bytes, data) VALUES (?, ?, ?, ?, ?)',
      );
      for (const a of body.attachments) {
        const data = Buffer.from(a.base64, 'base64');
        put.run(id, stepId, a.name, data.length, data);
      }
      return this.get(id)!;
    })();
  }

  /** The authority (or the centre) accepts or returns an answered item. */
  review(id: number, body: SupervisionReview, by: string, party: MarkParty, at: number): SupervisionItem | StepRefusal {
    const action = body.decision === 'accept' ? 'accept' : 'return';
    return this.db.transaction((): SupervisionItem | StepRefusal => {
      const moved = this.move(id, action);
      if (moved !== undefined) return moved;
      this.step({ item: id, action, state: TO[action], by, party, at, comment: body.comment });
      return this.get(id)!;
    })();
  }

  attachment(itemId: number, attachmentId: number): { name: string; bytes: Buffer } | undefined {
    const r = this.db
      .prepare('SELECT name, data FROM supervision_attachments WHERE id = ? AND item_id = ?')
      .get(attachmentId, itemId) as { name: string; data: Buffer } | undefined;
    return r && { name: r.name, bytes: r.data };
  }

  /** Moves an item to the state after `action`, or says why not. */
  private move(id: number, action: Exclude<SupervisionAction, 'send'>): StepRefusal | undefined {
    const r = this.db.prepare('SELECT state FROM supervision_items WHERE id = ?').get(id) as
      { state: SupervisionState } | undefined;
    if (!r) return 'not-found';
    if (!FROM[action].includes(r.state)) return 'wrong-state';
    this.db.prepare('UPDATE supervision_items SET state = ? WHERE id = ?').run(TO[action], id);
    return undefined;
  }

  private step(s: NewStep): number {
    const { id } = this.db
      .prepare(
        `INSERT INTO supervision_steps (item_id, action, state, "by", party, at, comment, reason, measures)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      )
      .get(...stepValues(s)) as { id: number };
    return id;
  }

  private toItem(r: ItemRow): SupervisionItem {
    const steps = this.db
      .prepare('SELECT * FROM supervision_steps WHERE item_id = ? ORDER BY id')
      .all(r.id) as StepRow[];
    const files = this.db
      .prepare('SELECT id, step_id, name, bytes FROM supervision_attachments WHERE item_id = ? ORDER BY id')
      .all(r.id) as AttachmentRow[];
    return toItem(r, steps, files);
  }
}

/** An attachment's row without its bytes. */
export type AttachmentRow = { id: number; step_id: number; name: string; bytes: number };

/** An item from its row, its steps' rows and its attachments' rows (each in id order). */
export function toItem(r: ItemRow, steps: readonly StepRow[], files: readonly AttachmentRow[]): SupervisionItem {
  return {
    id: r.id,
    mn: r.mn,
    kind: r.kind,
    ...(r.alarm_id !== null && { alarmId: r.alarm_id }),
    ...(r.factor !== null && { factor: r.factor }),
    from: r.from_ms,
    ...(r.to_ms !== null && { to: r.to_ms }),
    deadline: r.deadline,
    request: r.request,
    state: r.state,
    by: r.by,
    at: r.at,
    steps: steps.map((s) => ({
      action: s.action,
      state: s.state,
      by: s.by,
      party: s.party,
      at: s.at,
      comment: s.comment,
      ...(s.reason !== null && { reason: s.reason }),
      ...(s.measures !== null && { measures: s.measures }),
      ...(s.action === 'answer' && {
        attachments: files.filter((f) => f.step_id === s.id).map((f) => ({ id: f.id, name: f.name, bytes: f.bytes })),
      }),
    })),
  };
}
