import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { Shutdown } from './registry.js';
import type { Awaitable } from './rules/state.js';
import type { Point } from './store/types.js';

/**
 * Operation and maintenance records (运维记录) of an outlet's monitoring equipment, as the O&M company
 * files them (the forms of the provincial O&M supervision systems: 日常巡检, 维修, 标样核查及校准,
 * 易耗品更换, 标准样品更换, 实际水样比对, 定期校验, 校准). A record says what was done to which
 * analyzer (one factor, or the whole outlet) over which period, and, for a standard check, the standard's
 * value and the reading.
 *
 * The records explain the flags the logger put on the data (HJ 212-2017 table 8): an hour flagged C or M
 * with no record covering it is listed for review (`unexplained`), as are D and F hours outside a
 * registered stop. Which record explains which flag is a choice the standards leave open; ours is
 * EXPLAINED_BY below (docs/cloud.md "O&M records").
 */
export const OM_TYPES = {
  /** 日常巡检: routine inspection. */
  inspection: '日常巡检',
  /** 仪器维修维保 / 故障维修: repair. */
  repair: '维修',
  /** 标样核查: a standard sample measured and compared (reading against the standard's value). */
  standardCheck: '标样核查',
  /** 校准: zero and span calibration. */
  calibration: '校准',
  /** 易耗品更换: consumables replaced. */
  consumables: '易耗品更换',
  /** 标准样品更换 / 标气更换: standard solutions or gases replaced. */
  standardReplacement: '标准样品更换',
  /** 实际水样比对 / 定期校验: comparison with a manual (laboratory) measurement. */
  comparison: '比对监测',
} as const;
export type OmType = keyof typeof OM_TYPES;
const OmTypeSchema = z.enum(Object.keys(OM_TYPES) as [OmType, ...OmType[]], {
  message: `type is one of ${Object.keys(OM_TYPES).join(', ')}`,
});

/**
 * Which records explain an hour of each flag. C (校准状态): a calibration or a standard check. M (维护期间):
 * any O&M work. D (故障): a repair. F (停运) and, beside the records, D and M: a shutdown window in force
 * (a registered or approved abnormal-operation period). Other flags (N, S, T, B) need no record.
 */
export const EXPLAINED_BY: Readonly<Record<string, { records: readonly OmType[]; shutdown: boolean }>> = {
  C: { records: ['calibration', 'standardCheck'], shutdown: false },
  M: { records: Object.keys(OM_TYPES) as OmType[], shutdown: true },
  D: { records: ['repair'], shutdown: true },
  F: { records: [], shutdown: true },
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const IsoTime = (what: string) =>
  z.iso.datetime({
    offset: true,
    message: `${what} is an ISO 8601 time with its zone, e.g. 2026-11-20T09:00:00+08:00`,
  });

export const OmRecordBodySchema = z
  .strictObject({
    /** The analyzer's factor; absent: the outlet's whole monitoring system. */
    factor: z.string().min(1).max(16).optional(),
    type: OmTypeSchema,
    from: IsoTime('from'),
    to: IsoTime('to'),
    /** The O&M company (运维单位) that did the work. */
    company: z.string().trim().min(1, 'name the O&M company (运维单位)').max(100),
    /** Standard check: the standard sample's value and the analyzer's reading, in the factor's unit. */
    standardValue: z.number().positive('standardValue is the standard sample’s value, above 0').optional(),
    reading: z.number().optional(),
    note: z.string().trim().max(500).default(''),
  })
  .refine((r) => Date.parse(r.from) < Date.parse(r.to), { message: 'the work ends after it starts', path: ['to'] })
  .refine((r) => Date.parse(r.to) - Date.parse(r.from) <= 31 * DAY, {
    message: 'one record covers at most 31 days of work',
    path: ['to'],
  })
  .refine((r) => r.type !== 'standardCheck' || (r.standardValue !== undefined && r.reading !== undefined), {
    message: 'a standard check gives standardValue and reading',
    path: ['standardValue'],
  })
  .refine((r) => r.type !== 'standardCheck' || r.factor !== undefined, {
    message: 'a standard check is of one analyzer: give its factor',
    path: ['factor'],
  });
export type OmRecordBody = z.output<typeof OmRecordBodySchema>;

/** A record as kept: its period in epoch ms. */
export interface OmRecord {
  id: number;
  mn: string;
  factor: string | null;
  type: OmType;
  from: number;
  to: number;
  company: string;
  standardValue: number | null;
  reading: number | null;
  /**
   * A standard check's relative error, (reading − standard) / standard, rounded to 4 places (0.0425 is
   * 4.25 %). The pass limit is the analyzer's (HJ 355-2019 and HJ 75-2017 set it per factor): not judged here.
   */
  relativeError: number | null;
  note: string;
  by: string;
  at: number;
}

export function relativeError(standard: number, reading: number): number {
  return Math.round(((reading - standard) / standard) * 10_000) / 10_000;
}

/** An hour whose flag no record explains. */
export interface Unexplained {
  time: number;
  factor: string;
  flag: string;
}

/**
 * The flagged hours no record explains (EXPLAINED_BY): a record covers an hour [t, t + 1 h) when their
 * periods overlap and it is of the hour's factor or of the whole outlet; a shutdown window when they overlap.
 * Pure: the points, records and windows are read by the caller.
 */
export function unexplained(
  hours: readonly Pick<Point, 'time' | 'factor' | 'flag'>[],
  records: readonly Pick<OmRecord, 'factor' | 'type' | 'from' | 'to'>[],
  shutdowns: readonly Shutdown[],
): Unexplained[] {
  const windows = shutdowns.map((w) => [Date.parse(w.from), Date.parse(w.to)] as const);
  const overlaps = (t: number, from: number, to: number) => from < t + HOUR && to > t;
  const out: Unexplained[] = [];
  for (const p of hours) {
    const rule = p.flag === undefined ? undefined : EXPLAINED_BY[p.flag];
    if (!rule) continue;
    const byRecord = records.some(
      (r) =>
        rule.records.includes(r.type) && (r.factor === null || r.factor === p.factor) && overlaps(p.time, r.from, r.to),
    );
    const byWindow = rule.shutdown && windows.some(([from, to]) => overlaps(p.time, from, to));
    if (!byRecord && !byWindow) out.push({ time: p.time, factor: p.factor, flag: p.flag! });
  }
  return out.sort((a, b) => a.time - b.time || a.factor.localeCompare(b.factor));
}

/** A row of the om_records table (SQLite and a cluster's PostgreSQL). */
export type OmRecordRow = {
  id: number;
  mn: string;
  factor: string | null;
  type: OmType;
  from_ms: number;
  to_ms: number;
  company: string;
  standard_value: number | null;
  reading: number | null;
  note: string;
  by: string;
  at: number;
};

export const toOmRecord = (r: OmRecordRow): OmRecord => ({
  id: r.id,
  mn: r.mn,
  factor: r.factor,
  type: r.type,
  from: r.from_ms,
  to: r.to_ms,
  company: r.company,
  standardValue: r.standard_value,
  reading: r.reading,
  relativeError: r.standard_value !== null && r.reading !== null ? relativeError(r.standard_value, r.reading) : null,
  note: r.note,
  by: r.by,
  at: r.at,
});

/** The values an O&M record is inserted with, in column order (mn … at), from its body. */
export function omRecordValues(mn: string, body: OmRecordBody, by: string, at: number): unknown[] {
  return [
    mn,
    body.factor ?? null,
    body.type,
    Date.parse(body.from),
    Date.parse(body.to),
    body.company,
    body.standardValue ?? null,
    body.reading ?? null,
    body.note,
    by,
    at,
  ];
}

/**
 * Where O&M records are kept: the state database (OmRecordStore) or a cluster's PostgreSQL
 * (PgOmRecordStore, cloud/state/pg-enterprise.ts); callers await.
 */
export interface OmRecordBook {
  add(mn: string, body: OmRecordBody, by: string, at: number): Awaitable<OmRecord>;
  /** A station's records overlapping [from, to), oldest first. */
  list(mn: string, from: number, to: number): Awaitable<OmRecord[]>;
}

/** O&M records in the state database. */
export class OmRecordStore implements OmRecordBook {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS om_records (id INTEGER PRIMARY KEY AUTOINCREMENT, mn TEXT NOT NULL,
      factor TEXT, type TEXT NOT NULL, from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, company TEXT NOT NULL,
      standard_value REAL, reading REAL, note TEXT NOT NULL, "by" TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS om_records_mn ON om_records (mn, from_ms)`);
  }

  add(mn: string, body: OmRecordBody, by: string, at: number): OmRecord {
    const r = this.db
      .prepare(
        `INSERT INTO om_records (mn, factor, type, from_ms, to_ms, company, standard_value, reading, note, "by", at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(...omRecordValues(mn, body, by, at)) as OmRecordRow;
    return toOmRecord(r);
  }

  /** A station's records overlapping [from, to), oldest first. */
  list(mn: string, from: number, to: number): OmRecord[] {
    return (
      this.db
        .prepare('SELECT * FROM om_records WHERE mn = ? AND from_ms < ? AND to_ms > ? ORDER BY from_ms, id')
        .all(mn, to, from) as OmRecordRow[]
    ).map(toOmRecord);
  }
}
