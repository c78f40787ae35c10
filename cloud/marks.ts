import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { Point } from './store/types.js';

const HOUR = 3_600_000;

/**
 * Review marks (数据审核/标记): a person says what an outlet's hours really were — the analyzer was
 * stopped, faulty, under maintenance, being calibrated — or corrects a flag the logger sent. A mark
 * never changes a stored record: it is an overlay read beside the data, so the original value and
 * flag stay, and every mark and every withdrawal is kept in an audit trail (who, when, why).
 *
 * Each reason stands for one flag of HJ 212-2017 table 8 (6.6.4), and that flag decides how a marked
 * hour counts in the rates (cloud/rules/rates.ts, docs/statistics.md "Review marks").
 */
export const MARK_REASONS = {
  /** 停运: 仪器仪表停运 (F) — the hour is not owed, even with no record. */
  stopped: 'F',
  /** 故障: 仪器仪表故障 (D). */
  fault: 'D',
  /** 检修: 维护期间产生的数据 (M). */
  maintenance: 'M',
  /** 校准: 处于校准状态 (C). */
  calibration: 'C',
  /** 超量程: 采样数值超过测量上限 (T). */
  overRange: 'T',
  /** 通讯异常: 仪器仪表与数采仪通讯异常 (B). */
  communication: 'B',
  /** 数据正常: a flag the reviewer found wrong, corrected to N (工作正常). */
  normal: 'N',
  /**
   * 工况异常: the process or the treatment facility ran abnormally (start-up, shut-down, an upset), so the
   * hour does not show normal operation. Table 8 has no flag for the process, only for the analyzer; *choice:*
   * M, the flag of data not produced under normal conditions that still counts as received and not valid.
   * The reason stays on the mark, so the overlay says 工况异常, not 维护.
   */
  processAbnormal: 'M',
} as const;
export type MarkReason = keyof typeof MARK_REASONS;
export const MarkReasonSchema = z.enum(Object.keys(MARK_REASONS) as [MarkReason, ...MarkReason[]]);

/**
 * The reasons an enterprise marks its own hours with (数据标记, the Jiangsu pilot's list as issue 17 gives
 * it: 停运, 检修, 故障, 工况异常 …). Not `normal` (an enterprise does not clear the flag its own logger
 * sent) nor `overRange` (the analyzer says it): those stay the centre's and the authority's.
 */
export const ENTERPRISE_MARK_REASONS = [
  'stopped',
  'maintenance',
  'fault',
  'calibration',
  'communication',
  'processAbnormal',
] as const satisfies readonly MarkReason[];

/** Who made a mark: the centre, an authority, or the enterprise itself (scope.ts). */
export type MarkParty = 'centre' | 'authority' | 'enterprise';

/** The default of `http.enterpriseMarkHours`: an enterprise marks an hour until 24 h after its end. */
export const ENTERPRISE_MARK_HOURS = 24;

/**
 * Until when an enterprise may mark the hours of [from, to): `hours` after the end of the first hour the mark
 * covers (an hour is marked once it is over or under way; its record is due at its end). Undefined when the
 * mark covers no hour start.
 */
export function enterpriseMarkDeadline(from: number, to: number, hours: number): number | undefined {
  const first = Math.ceil(from / HOUR) * HOUR;
  return first < to ? first + HOUR + hours * HOUR : undefined;
}

/** The longest span one mark covers: a year of hours (a longer stop is registered as a shutdown). */
const MAX_SPAN = 366 * 24 * HOUR;

export const MarkBodySchema = z
  .strictObject({
    /** One factor's hours; absent: every factor of the outlet. */
    factor: z.string().min(1).max(16).optional(),
    from: z.iso.datetime({
      offset: true,
      message: 'from is an ISO 8601 time with its zone, e.g. 2026-11-20T08:00:00+08:00 (the first hour marked)',
    }),
    to: z.iso.datetime({ offset: true, message: 'to is an ISO 8601 time with its zone (the hour after the last one)' }),
    reason: MarkReasonSchema,
    note: z.string().max(500).default(''),
  })
  .refine((m) => Date.parse(m.from) < Date.parse(m.to), { message: 'a mark ends after it starts', path: ['to'] })
  .refine((m) => Date.parse(m.to) - Date.parse(m.from) <= MAX_SPAN, {
    message: 'a mark covers at most 366 days: register a longer stop as a shutdown window',
    path: ['to'],
  });
export type MarkBody = z.output<typeof MarkBodySchema>;

/** A mark as stored: hour starts in [from, to) (epoch ms) of one station, one factor or all. */
export interface Mark {
  id: number;
  mn: string;
  factor: string | null;
  from: number;
  to: number;
  reason: MarkReason;
  /** The flag the marked hours take (MARK_REASONS). */
  flag: string;
  note: string;
  by: string;
  /** Whose account made it; absent on marks made before it was recorded (the centre's or an authority's). */
  byParty?: MarkParty;
  at: number;
  /** Set once withdrawn: the mark no longer applies (it stays in the audit trail). */
  revoked?: { by: string; at: number };
}

/** One line of an outlet's audit trail, oldest first. */
export interface MarkAudit {
  action: 'mark' | 'revoke';
  by: string;
  at: number;
  mark: Mark;
}

/**
 * Where marks are kept. Asynchronous so that a database server can stand behind it; the SQLite one
 * answers at once. The enterprise side (its own marks, to be confirmed by the centre) reuses it.
 */
export interface MarkStore {
  add(mn: string, body: MarkBody, by: string, at: number, party?: MarkParty): Promise<Mark>;
  /** Withdraws a mark of that station; undefined when there is none with that id (or it is withdrawn already). */
  revoke(mn: string, id: number, by: string, at: number): Promise<Mark | undefined>;
  /** Marks in force overlapping [from, to), oldest first (a later mark wins over an earlier one). */
  active(mn: string, from: number, to: number): Promise<Mark[]>;
  audit(mn: string): Promise<MarkAudit[]>;
}

/** A row of the marks table (SQLite and a cluster's PostgreSQL). */
export interface MarkRow {
  id: number;
  mn: string;
  factor: string | null;
  from_ms: number;
  to_ms: number;
  reason: MarkReason;
  flag: string;
  note: string;
  by: string;
  by_party: MarkParty | null;
  at: number;
  revoked_by: string | null;
  revoked_at: number | null;
}

export const toMark = (r: MarkRow): Mark => ({
  id: r.id,
  mn: r.mn,
  factor: r.factor,
  from: r.from_ms,
  to: r.to_ms,
  reason: r.reason,
  flag: r.flag,
  note: r.note,
  by: r.by,
  ...(r.by_party !== null && { byParty: r.by_party }),
  at: r.at,
  ...(r.revoked_at !== null && { revoked: { by: r.revoked_by!, at: r.revoked_at } }),
});

/** The audit trail of an outlet's marks (in id order): each mark and each withdrawal a line, oldest first. */
export function auditOf(marks: readonly Mark[]): MarkAudit[] {
  const lines: MarkAudit[] = marks.flatMap((m) => [
    { action: 'mark' as const, by: m.by, at: m.at, mark: m },
    ...(m.revoked ? [{ action: 'revoke' as const, by: m.revoked.by, at: m.revoked.at, mark: m }] : []),
  ]);
  return lines.sort((a, b) => a.at - b.at);
}

/** A new mark's columns, in the order both stores insert them (mn, factor … by_party). */
export function markValues(mn: string, body: MarkBody, by: string, at: number, party?: MarkParty) {
  return [
    mn,
    body.factor ?? null,
    Date.parse(body.from),
    Date.parse(body.to),
    body.reason,
    MARK_REASONS[body.reason],
    body.note,
    by,
    at,
    party ?? null,
  ] as const;
}

/** Marks in the state database (SQLite). */
export class SqliteMarkStore implements MarkStore {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS marks (id INTEGER PRIMARY KEY AUTOINCREMENT, mn TEXT NOT NULL,
      factor TEXT, from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, reason TEXT NOT NULL, flag TEXT NOT NULL,
      note TEXT NOT NULL, by TEXT NOT NULL, at INTEGER NOT NULL, revoked_by TEXT, revoked_at INTEGER);
      CREATE INDEX IF NOT EXISTS marks_mn ON marks (mn, from_ms)`);
    // Who made a mark (centre, authority, enterprise), added with enterprise marking: older rows have none.
    const columns = db.prepare('PRAGMA table_info(marks)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'by_party')) db.exec('ALTER TABLE marks ADD COLUMN by_party TEXT');
  }

  async add(mn: string, body: MarkBody, by: string, at: number, party?: MarkParty): Promise<Mark> {
    const { lastInsertRowid } = this.db
      .prepare(
        'INSERT INTO marks (mn, factor, from_ms, to_ms, reason, flag, note, by, at, by_party) ' +
          'VALUES (?,?,?,?,?,?,?,?,?,?)',
      )
      .run(...markValues(mn, body, by, at, party));
    return this.get(Number(lastInsertRowid))!;
  }

  async revoke(mn: string, id: number, by: string, at: number): Promise<Mark | undefined> {
    const { changes } = this.db
      .prepare('UPDATE marks SET revoked_by = ?, revoked_at = ? WHERE id = ? AND mn = ? AND revoked_at IS NULL')
      .run(by, at, id, mn);
    return changes === 0 ? undefined : this.get(id);
  }

  async active(mn: string, from: number, to: number): Promise<Mark[]> {
    const rows = this.db
      .prepare('SELECT * FROM marks WHERE mn = ? AND revoked_at IS NULL AND from_ms < ? AND to_ms > ? ORDER BY at, id')
      .all(mn, to, from) as MarkRow[];
    return rows.map(toMark);
  }

  async audit(mn: string): Promise<MarkAudit[]> {
    return auditOf((this.db.prepare('SELECT * FROM marks WHERE mn = ? ORDER BY id').all(mn) as MarkRow[]).map(toMark));
  }

  private get(id: number): Mark | undefined {
    const row = this.db.prepare('SELECT * FROM marks WHERE id = ?').get(id) as MarkRow | undefined;
    return row && toMark(row);
  }
}

/** The mark deciding an hour of a factor: the latest in force that covers it. */
export function markOf(marks: readonly Mark[], factor: string, hour: number): Mark | undefined {
  let found: Mark | undefined;
  for (const m of marks) if ((m.factor === null || m.factor === factor) && m.from <= hour && hour < m.to) found = m;
  return found;
}

/** A record as review shows it: its flag the mark's, the one it came with kept beside. */
export interface MarkedPoint extends Point {
  marked?: { id: number; reason: MarkReason; by: string; byParty?: MarkParty; note: string; originalFlag?: string };
}

/** Hour records with the marks applied (other kinds are left as sent: marks are on hours). */
export function applyMarks(points: readonly Point[], marks: readonly Mark[]): MarkedPoint[] {
  if (marks.length === 0) return [...points];
  return points.map((p) => {
    const m = p.kind === 'hour' ? markOf(marks, p.factor, p.time) : undefined;
    if (!m) return p;
    return {
      ...p,
      flag: m.flag,
      marked: {
        id: m.id,
        reason: m.reason,
        by: m.by,
        ...(m.byParty !== undefined && { byParty: m.byParty }),
        note: m.note,
        ...(p.flag !== undefined && { originalFlag: p.flag }),
      },
    };
  });
}

/** Whether a factor's hour is marked 停运 (not owed, record or not). */
export const stoppedByMarks =
  (marks: readonly Mark[]) =>
  (factor: string, hour: number): boolean =>
    markOf(marks, factor, hour)?.flag === 'F';
