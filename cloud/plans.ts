import type Database from 'better-sqlite3';
import { z } from 'zod';
import { factor as factorDef } from '../protocol/index.js';
import { CHINA_ISO_OFFSET } from '../protocol/time.js';
import type { Awaitable } from './rules/state.js';
import { listFilter } from './state/sqlite-filter.js';

/**
 * Monitoring plans (自行监测方案) per outlet, as the enterprise keeps it on the provincial self-monitoring
 * platform: each item is a factor monitored automatically (continuously, by the analyzer the logger reads)
 * or manually (手工监测, by a laboratory, at the permit's frequency, with a method and its source standard).
 * The enterprise submits a plan; the authority (or the centre) approves or rejects it; only an approved plan
 * takes effect, from its approval, and the newest approved one is in force. Manual results are entered against
 * the plan in force, and the plan's completion (手工监测完成率) counts them per due period.
 */
export const PERIODS = { month: '月', quarter: '季度', halfYear: '半年', year: '年' } as const;
export type PlanPeriod = keyof typeof PERIODS;

const ItemSchema = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({
      factor: z.string().min(1).max(16),
      /** 自动监测: continuous, by the outlet's analyzer; the registry lists it among the outlet's factors. */
      mode: z.literal('automatic'),
    }),
    z.strictObject({
      factor: z.string().min(1).max(16),
      /** 手工监测: sampled and analysed by hand, `times` per `per` (e.g. 1 per quarter: 1次/季度). */
      mode: z.literal('manual'),
      times: z.number().int().min(1).max(31),
      per: z.enum(Object.keys(PERIODS) as [PlanPeriod, ...PlanPeriod[]], {
        message: `per is one of ${Object.keys(PERIODS).join(', ')}`,
      }),
      /** 监测方法, e.g. 重量法. */
      method: z.string().trim().min(1, 'give the method (监测方法)').max(100),
      /** 方法来源: the standard the method is from, e.g. GB 11901-1989. */
      methodSource: z.string().trim().min(1, 'give the method’s source standard (方法来源)').max(100),
    }),
  ],
  { error: 'mode is automatic or manual' },
);
export type PlanItem = z.output<typeof ItemSchema>;

export const PlanBodySchema = z
  .strictObject({ items: z.array(ItemSchema).min(1, 'a plan lists at least one item').max(100) })
  .refine((p) => new Set(p.items.map((i) => i.factor)).size === p.items.length, {
    message: 'each factor is one item of the plan',
    path: ['items'],
  });
export type PlanBody = z.output<typeof PlanBodySchema>;

/** Why a plan's items do not fit the outlet, or undefined: unknown factor codes, automatic ones with no analyzer. */
export function planProblem(body: PlanBody, stationFactors: readonly string[]): string | undefined {
  for (const [i, item] of body.items.entries()) {
    if (!factorDef(item.factor)) return `items.${i}.factor: ${item.factor} is no factor code of HJ 212-2017 appendix B`;
    if (item.mode === 'automatic' && !stationFactors.includes(item.factor))
      return (
        `items.${i}.factor: ${item.factor} is monitored automatically only where the registry lists it ` +
        'for the outlet; make it manual or add it to the registry'
      );
  }
  return undefined;
}

export const PLAN_STATES = ['submitted', 'approved', 'rejected'] as const;
export type PlanState = (typeof PLAN_STATES)[number];

export interface Plan {
  id: number;
  mn: string;
  items: PlanItem[];
  state: PlanState;
  by: string;
  at: number;
  review?: { by: string; at: number; comment: string };
  /** The signed plan's scan (an attachment), if uploaded: its name and size. */
  attachment?: { name: string; bytes: number };
}

export const ManualResultBodySchema = z.strictObject({
  factor: z.string().min(1).max(16),
  /** When the sample was taken. */
  time: z.iso.datetime({
    offset: true,
    message: 'time is an ISO 8601 time with its zone, e.g. 2026-11-20T09:30:00+08:00',
  }),
  value: z.number({ error: 'value is a number (监测值), e.g. 12.5' }),
  /** The laboratory (监测机构) that analysed it. */
  lab: z.string().trim().min(1, 'name the laboratory (监测机构)').max(100),
  note: z.string().trim().max(500).default(''),
});
export type ManualResultBody = z.output<typeof ManualResultBodySchema>;

/** Header names accepted for each column of a manual-results CSV, as laboratories' sheets (Chinese) or by hand. */
const CSV_COLUMNS = {
  factor: ['监测项目编码', '因子编码', '污染物编码', 'factor'],
  time: ['采样时间', '监测时间', 'time'],
  value: ['监测值', '监测结果', 'value'],
  lab: ['监测机构', '检测机构', 'lab'],
  note: ['备注', 'note'],
} as const;
type CsvColumn = keyof typeof CSV_COLUMNS;
const CSV_REQUIRED: readonly CsvColumn[] = ['factor', 'time', 'value', 'lab'];
/** The header line of a CSV of manual results in Chinese: each column's first name (监测项目编码,…). */
export const CSV_HEADER = Object.values(CSV_COLUMNS)
  .map((names) => names[0])
  .join(',');

/** A China wall time as laboratories write it (2026-11-20 09:30[:00]) as ISO 8601 with +08:00; others as given. */
function isoTime(t: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(:\d{2})?$/.exec(t.trim());
  return m ? `${m[1]}T${m[2]}${m[3] ?? ':00'}${CHINA_ISO_OFFSET}` : t.trim();
}

/**
 * The lines of a manual-results CSV (a header line, then a result a line: factor code, sampling time in China
 * time or ISO 8601, value, laboratory, optional note) as request bodies, each checked as one entered by hand;
 * a line that does not check is rejected with its number (the header is line 1) and the fields at fault,
 * and the others are kept. Undefined lines and columns: a header missing a required column is one error.
 */
export function parseManualCsv(
  rows: readonly string[][],
): { bodies: { line: number; body: ManualResultBody }[]; rejected: { line: number; message: string }[] } | string {
  const [header, ...lines] = rows;
  if (!header) return `the CSV is empty: give a header line (${CSV_HEADER}) and a line per result`;
  const index = {} as Partial<Record<CsvColumn, number>>;
  header.forEach((h, i) => {
    const name = h.trim();
    for (const [col, names] of Object.entries(CSV_COLUMNS) as [CsvColumn, readonly string[]][])
      if (names.includes(name)) index[col] = i;
  });
  const missing = CSV_REQUIRED.filter((c) => index[c] === undefined);
  if (missing.length) {
    const names = missing.map((c) => `${CSV_COLUMNS[c][0]} (${c})`).join(', ');
    return `the header lacks ${names}: name the columns in the first line`;
  }
  const bodies: { line: number; body: ManualResultBody }[] = [];
  const rejected: { line: number; message: string }[] = [];
  lines.forEach((cells, i) => {
    const line = i + 2;
    const cell = (c: CsvColumn) => (index[c] === undefined ? undefined : (cells[index[c]] ?? '').trim());
    const raw = cell('value');
    const value = raw === undefined || raw === '' ? NaN : Number(raw);
    const r = ManualResultBodySchema.safeParse({
      factor: cell('factor'),
      time: isoTime(cell('time') ?? ''),
      value: Number.isFinite(value) ? value : raw,
      lab: cell('lab'),
      note: cell('note') ?? '',
    });
    if (r.success) bodies.push({ line, body: r.data });
    else
      rejected.push({
        line,
        message: r.error.issues.map((e) => `${e.path.join('.')}: ${e.message}`).join('; '),
      });
  });
  return { bodies, rejected };
}

export interface ManualResult {
  id: number;
  mn: string;
  factor: string;
  time: number;
  value: number;
  /** The plan's method and its source at entry: the result keeps them if the plan changes. */
  method: string;
  methodSource: string;
  lab: string;
  note: string;
  planId: number;
  by: string;
  at: number;
}

/** The start of each `per` sub-period of a China year, and the year's end: 12 months, 4 quarters, 2 halves, 1. */
export function subPeriods(year: number, per: PlanPeriod): number[] {
  const months = { month: 1, quarter: 3, halfYear: 6, year: 12 }[per];
  const starts: number[] = [];
  for (let m = 1; m <= 13; m += months) {
    const y = m === 13 ? year + 1 : year;
    const mm = m === 13 ? 1 : m;
    starts.push(Date.parse(`${y}-${String(mm).padStart(2, '0')}-01T00:00:00${CHINA_ISO_OFFSET}`));
  }
  return starts;
}

/** One manual item's completion in a year: due periods, results that count (at most `times` in each), the rate. */
export interface ItemCompletion {
  factor: string;
  times: number;
  per: PlanPeriod;
  /** Sub-periods that ended by now and after the plan took effect. */
  periodsDue: number;
  required: number;
  done: number;
  /** done / required, or null when nothing is due yet. */
  rate: number | null;
}

/**
 * 手工监测完成率 of one manual item over a China year: each sub-period of its frequency that has ended by `now`
 * and ends after the plan took effect is due and needs `times` results taken within it; a sub-period counts at
 * most `times` (a second sample in one quarter does not make up a missed one). Our reading of "按方案频次": the
 * permit states the frequency, not how a short year is prorated; a period the plan took effect in is due whole.
 */
export function itemCompletion(
  item: Extract<PlanItem, { mode: 'manual' }>,
  year: number,
  effectiveAt: number,
  now: number,
  resultTimes: readonly number[],
): ItemCompletion {
  const starts = subPeriods(year, item.per);
  let periodsDue = 0;
  let done = 0;
  for (let i = 0; i + 1 < starts.length; i++) {
    const [from, to] = [starts[i]!, starts[i + 1]!];
    if (to > now || to <= effectiveAt) continue;
    periodsDue++;
    done += Math.min(item.times, resultTimes.filter((t) => t >= from && t < to).length);
  }
  const required = periodsDue * item.times;
  return {
    factor: item.factor,
    times: item.times,
    per: item.per,
    periodsDue,
    required,
    done,
    rate: required ? done / required : null,
  };
}

/** A row of the plans table (SQLite and a cluster's PostgreSQL), without the attachment's bytes. */
export type PlanRow = {
  id: number;
  mn: string;
  items: string;
  state: PlanState;
  by: string;
  at: number;
  reviewed_by: string | null;
  reviewed_at: number | null;
  review_comment: string | null;
  attachment_name: string | null;
  attachment_bytes: number | null;
};

export function toPlan(r: PlanRow): Plan {
  const p: Plan = { id: r.id, mn: r.mn, items: JSON.parse(r.items) as PlanItem[], state: r.state, by: r.by, at: r.at };
  if (r.reviewed_by !== null) p.review = { by: r.reviewed_by, at: r.reviewed_at!, comment: r.review_comment ?? '' };
  if (r.attachment_name !== null) p.attachment = { name: r.attachment_name, bytes: r.attachment_bytes! };
  return p;
}

export const PLAN_COLUMNS =
  'id, mn, items, state, "by", at, reviewed_by, reviewed_at, review_comment, attachment_name, attachment_bytes';

/**
 * Where plans and manual results are kept: the state database (PlanStore) or a cluster's PostgreSQL
 * (PgPlanStore, cloud/state/pg-enterprise.ts); callers await.
 */
export interface PlanBook {
  submit(mn: string, body: PlanBody, by: string, at: number): Awaitable<Plan>;
  get(id: number): Awaitable<Plan | undefined>;
  list(filter?: { mns?: readonly string[]; state?: PlanState }): Awaitable<Plan[]>;
  /** The plan in force at an outlet: the last one approved (by approval time), if any. */
  inForce(mn: string): Awaitable<Plan | undefined>;
  /** Approves or rejects a submitted plan once; 'not-submitted' if it was reviewed already. */
  review(
    id: number,
    state: 'approved' | 'rejected',
    by: string,
    at: number,
    comment: string,
  ): Awaitable<Plan | 'not-submitted'>;
  attach(id: number, name: string, bytes: Buffer): Awaitable<void>;
  attachment(id: number): Awaitable<{ name: string; bytes: Buffer } | undefined>;
  /** Enters a manual result; 'duplicate' if the outlet has one of the factor at that time already. */
  addResult(r: Omit<ManualResult, 'id'>): Awaitable<ManualResult | 'duplicate'>;
  /** An outlet's manual results taken in [from, to), by time then factor. */
  results(mn: string, from: number, to: number): Awaitable<ManualResult[]>;
}

/** Plans and manual results in the state database. */
export class PlanStore implements PlanBook {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS plans (id INTEGER PRIMARY KEY AUTOINCREMENT, mn TEXT NOT NULL,
      items TEXT NOT NULL, state TEXT NOT NULL, "by" TEXT NOT NULL, at INTEGER NOT NULL, reviewed_by TEXT,
      reviewed_at INTEGER, review_comment TEXT, attachment_name TEXT, attachment_bytes INTEGER, attachment BLOB);
      CREATE INDEX IF NOT EXISTS plans_mn ON plans (mn, id);
      CREATE TABLE IF NOT EXISTS manual_results (id INTEGER PRIMARY KEY AUTOINCREMENT, mn TEXT NOT NULL,
      factor TEXT NOT NULL, time INTEGER NOT NULL, value REAL NOT NULL, method TEXT NOT NULL,
      method_source TEXT NOT NULL, lab TEXT NOT NULL, note TEXT NOT NULL, plan_id INTEGER NOT NULL,
      "by" TEXT NOT NULL, at INTEGER NOT NULL, UNIQUE (mn, factor, time));`);
  }

  submit(mn: string, body: PlanBody, by: string, at: number): Plan {
    const r = this.db
      .prepare(
        `INSERT INTO plans (mn, items, state, "by", at) VALUES (?, ?, 'submitted', ?, ?) RETURNING ${PLAN_COLUMNS}`,
      )
      .get(mn, JSON.stringify(body.items), by, at) as PlanRow;
    return toPlan(r);
  }

  get(id: number): Plan | undefined {
    const r = this.db.prepare(`SELECT ${PLAN_COLUMNS} FROM plans WHERE id = ?`).get(id) as PlanRow | undefined;
    return r && toPlan(r);
  }

  list(filter: { mns?: readonly string[]; state?: PlanState } = {}): Plan[] {
    const { cond, args } = listFilter(filter);
    return (this.db.prepare(`SELECT ${PLAN_COLUMNS} FROM plans ${cond} ORDER BY id`).all(...args) as PlanRow[]).map(
      toPlan,
    );
  }

  /** The plan in force at an outlet: the last one approved (by approval time), if any. */
  inForce(mn: string): Plan | undefined {
    const r = this.db
      .prepare(
        `SELECT ${PLAN_COLUMNS} FROM plans WHERE mn = ? AND state = 'approved' ` +
          'ORDER BY reviewed_at DESC, id DESC LIMIT 1',
      )
      .get(mn) as PlanRow | undefined;
    return r && toPlan(r);
  }

  /** Approves or rejects a submitted plan once; 'not-submitted' if it was reviewed already. */
  review(id: number, state: 'approved' | 'rejected', by: string, at: number, comment: string): Plan | 'not-submitted' {
    const done = this.db
      .prepare(
        `UPDATE plans SET state = ?, reviewed_by = ?, reviewed_at = ?, review_comment = ?
           WHERE id = ? AND state = 'submitted'`,
      )
      .run(state, by, at, comment, id);
    return done.changes === 1 ? this.get(id)! : 'not-submitted';
  }

  attach(id: number, name: string, bytes: Buffer): void {
    this.db
      .prepare('UPDATE plans SET attachment_name = ?, attachment_bytes = ?, attachment = ? WHERE id = ?')
      .run(name, bytes.length, bytes, id);
  }

  attachment(id: number): { name: string; bytes: Buffer } | undefined {
    const r = this.db.prepare('SELECT attachment_name AS name, attachment AS bytes FROM plans WHERE id = ?').get(id) as
      { name: string | null; bytes: Buffer | null } | undefined;
    return r?.name != null && r.bytes != null ? { name: r.name, bytes: r.bytes } : undefined;
  }

  /** Enters a manual result; 'duplicate' if the outlet has one of the factor at that time already. */
  addResult(r: Omit<ManualResult, 'id'>): ManualResult | 'duplicate' {
    const got = this.db
      .prepare(
        `INSERT INTO manual_results (mn, factor, time, value, method, method_source, lab, note, plan_id, "by", at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (mn, factor, time) DO NOTHING RETURNING id`,
      )
      .get(r.mn, r.factor, r.time, r.value, r.method, r.methodSource, r.lab, r.note, r.planId, r.by, r.at) as
      { id: number } | undefined;
    return got ? { ...r, id: got.id } : 'duplicate';
  }

  results(mn: string, from: number, to: number): ManualResult[] {
    return this.db
      .prepare(
        `SELECT id, mn, factor, time, value, method, method_source AS methodSource, lab, note, plan_id AS planId,
           "by", at FROM manual_results WHERE mn = ? AND time >= ? AND time < ? ORDER BY time, factor`,
      )
      .all(mn, from, to) as ManualResult[];
  }
}
