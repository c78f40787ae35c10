import type Database from 'better-sqlite3';
import type { Awaitable } from './rules/state.js';
import { z } from 'zod';
import type { Packet } from '../protocol/index.js';

/**
 * The instrument register (仪器备案) of an outlet: per factor, the analyzer as the enterprise declared it —
 * name, manufacturer, model, method principle, serial number, installer, O&M company (the fields of the
 * regulators' 自动监控设施信息 forms) — and the parameters that decide its readings: the measuring range
 * (i13001), slope (i13008) and intercept (i13007) of HJ 212-2017 table D.1's field information codes, and
 * the analyzer's unique id (设备唯一标识, the SN of 3019, HJ 212-2017 C.39).
 *
 * Dynamic control (动态管控): what the logger reports (3019's `w01018-SN`, 3020's `i13001-Info` …) is
 * checked against the register; a difference is a change nobody registered, an alarm until the
 * report and the register agree again (a later report, or the register updated).
 */
export const InstrumentBodySchema = z.strictObject({
  /** 设备名称, e.g. COD 在线自动监测仪. */
  name: z.string().trim().min(1, 'name the analyzer (设备名称)').max(100),
  /** 生产厂家 (brand). */
  manufacturer: z.string().trim().min(1, 'name the manufacturer (生产厂家)').max(100),
  /** 规格型号. */
  model: z.string().trim().min(1, 'give the model (规格型号)').max(100),
  /** 方法原理, e.g. 重铬酸钾法. */
  principle: z.string().trim().min(1, 'give the method principle (方法原理)').max(100),
  /** 出厂编号. */
  serial: z.string().trim().min(1, 'give the serial number (出厂编号)').max(100),
  /** 设备唯一标识 as 3019 reports it (C.39: an EPC-96 id, 24 hex digits). */
  sn: z
    .string()
    .regex(/^[0-9A-Fa-f]{24}$/, 'sn is the analyzer id 3019 reports: 24 hex digits (EPC-96)')
    .optional(),
  /** 测量量程 as i13001 reports it, e.g. 0-500. */
  range: z.string().trim().min(1).max(32).optional(),
  /** 斜率 (i13008) and 截距 (i13007) of the registered calibration curve. */
  slope: z.number().optional(),
  intercept: z.number().optional(),
  /** 安装单位 and 运维单位. */
  installer: z.string().trim().min(1, 'name the installer (安装单位)').max(100),
  omCompany: z.string().trim().min(1, 'name the O&M company (运维单位)').max(100),
});
export type InstrumentBody = z.output<typeof InstrumentBodySchema>;

export interface Instrument extends InstrumentBody {
  mn: string;
  factor: string;
  /** Who registered this version, and when. */
  by: string;
  at: number;
  version: number;
}

/** What the logger reported of one analyzer, each field when it last did. */
export interface Reported {
  sn?: string;
  range?: string;
  slope?: number;
  intercept?: number;
}
export type CheckedField = keyof Reported;

/** The info codes of 3020 the register holds (HJ 212-2017 table D.1). */
const INFO_FIELDS = { i13001: 'range', i13008: 'slope', i13007: 'intercept' } as const;

/**
 * The analyzer fields one upload reports, per factor: 3019's `<factor>-SN`, 3020's `i13001/i13007/i13008-Info`
 * in the group of the factor's PolId. Other packets, and values that do not parse, report nothing.
 */
export function reportedBy(packet: Pick<Packet, 'cn' | 'cp'>): Map<string, Reported> {
  const out = new Map<string, Reported>();
  const at = (factor: string): Reported => out.get(factor) ?? out.set(factor, {}).get(factor)!;
  if (packet.cn === '3019') {
    for (const [factor, fields] of Object.entries(packet.cp.factors))
      if (fields['SN'] !== undefined) at(factor).sn = fields['SN'];
  } else if (packet.cn === '3020') {
    // One 3020 may carry several analyzers, each group after its PolId (C.42-C.45); a group with no PolId is
    // the logger's own information, of no analyzer.
    for (const group of packet.cp.info ?? []) {
      if (group.polId === undefined) continue;
      for (const [code, field] of Object.entries(INFO_FIELDS) as [string, 'range' | 'slope' | 'intercept'][]) {
        const info = group.codes[code]?.['Info'];
        if (info === undefined) continue;
        if (field === 'range') at(group.polId).range = info;
        else {
          const n = Number(info);
          if (info.trim() !== '' && Number.isFinite(n)) at(group.polId)[field as 'slope' | 'intercept'] = n;
        }
      }
    }
  }
  return out;
}

/** A range as written by people and loggers alike: "0-500", "0～500", "0 ~ 500 mg/L" are one range. */
const normalRange = (r: string): string =>
  r
    .replace(/\s+/g, '')
    .replace(/[~～—–]/g, '-')
    .toLowerCase();

/** One field where the report and the register disagree (registered undefined: not in the register). */
export interface Mismatch {
  field: CheckedField | 'register';
  registered?: string | number;
  reported: string | number;
}

/**
 * Where a report disagrees with the register: a field the register holds and the report says otherwise
 * (numbers compared as numbers, ranges as normalRange); an analyzer reported at all with no register entry
 * is one mismatch `register`. A field the register leaves out is not checked.
 */
export function mismatches(registered: InstrumentBody | undefined, reported: Reported): Mismatch[] {
  const fields = Object.entries(reported) as [CheckedField, string | number][];
  if (fields.length === 0) return [];
  if (!registered) return [{ field: 'register', reported: fields.map(([f, v]) => `${f}=${v}`).join(', ') }];
  const out: Mismatch[] = [];
  for (const [field, value] of fields) {
    const want = registered[field];
    if (want === undefined) continue;
    const same =
      field === 'range'
        ? normalRange(String(want)) === normalRange(String(value))
        : field === 'sn'
          ? String(want).toUpperCase() === String(value).toUpperCase()
          : want === value;
    if (!same) out.push({ field, registered: want, reported: value });
  }
  return out;
}

export type InstrumentRow = { mn: string; factor: string; version: number; body: string; by: string; at: number };
type Row = InstrumentRow;

/** The register as the API and the rules use it: in the state database, or a cluster's PostgreSQL. */
export interface InstrumentBook {
  put(mn: string, factor: string, body: InstrumentBody, by: string, at: number): Awaitable<Instrument>;
  current(mn: string): Awaitable<Instrument[]>;
  get(mn: string, factor: string): Awaitable<Instrument | undefined>;
  history(mn: string, factor: string): Awaitable<Instrument[]>;
  report(mn: string, factor: string, reported: Reported, at: number): Awaitable<void>;
  reported(mn: string, factor: string): Awaitable<Reported>;
}

/** The register in the state database: every version kept, the newest in force; the last reports beside it. */
export class InstrumentStore implements InstrumentBook {
  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS instruments (mn TEXT NOT NULL, factor TEXT NOT NULL, version INTEGER NOT NULL,
      body TEXT NOT NULL, "by" TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (mn, factor, version));
      CREATE TABLE IF NOT EXISTS instrument_reports (mn TEXT NOT NULL, factor TEXT NOT NULL, field TEXT NOT NULL,
      value TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (mn, factor, field))`);
  }

  /** Registers (or re-registers) one analyzer: a new version, in force from now. */
  put(mn: string, factor: string, body: InstrumentBody, by: string, at: number): Instrument {
    const { v } = this.db
      .prepare('SELECT COALESCE(MAX(version), 0) + 1 AS v FROM instruments WHERE mn = ? AND factor = ?')
      .get(mn, factor) as { v: number };
    this.db
      .prepare('INSERT INTO instruments (mn, factor, version, body, "by", at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(mn, factor, v, JSON.stringify(body), by, at);
    return { ...body, mn, factor, by, at, version: v };
  }

  /** The analyzers of a station in force (newest version of each), by factor. */
  current(mn: string): Instrument[] {
    const rows = this.db
      .prepare(
        `SELECT i.* FROM instruments i WHERE i.mn = ? AND i.version =
           (SELECT MAX(version) FROM instruments j WHERE j.mn = i.mn AND j.factor = i.factor) ORDER BY i.factor`,
      )
      .all(mn) as Row[];
    return rows.map(toInstrument);
  }

  get(mn: string, factor: string): Instrument | undefined {
    const r = this.db
      .prepare('SELECT * FROM instruments WHERE mn = ? AND factor = ? ORDER BY version DESC LIMIT 1')
      .get(mn, factor) as Row | undefined;
    return r && toInstrument(r);
  }

  /** Every version of one analyzer's registration, oldest first. */
  history(mn: string, factor: string): Instrument[] {
    return (
      this.db.prepare('SELECT * FROM instruments WHERE mn = ? AND factor = ? ORDER BY version').all(mn, factor) as Row[]
    ).map(toInstrument);
  }

  /** Keeps what a logger reported, field by field, so a later registration is checked against it. */
  report(mn: string, factor: string, reported: Reported, at: number): void {
    const put = this.db.prepare(
      'INSERT INTO instrument_reports (mn, factor, field, value, at) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (mn, factor, field) DO UPDATE SET value = excluded.value, at = excluded.at',
    );
    this.db.transaction(() => {
      for (const [field, value] of Object.entries(reported)) put.run(mn, factor, field, JSON.stringify(value), at);
    })();
  }

  /** The last reports of one analyzer. */
  reported(mn: string, factor: string): Reported {
    const rows = this.db
      .prepare('SELECT field, value FROM instrument_reports WHERE mn = ? AND factor = ?')
      .all(mn, factor) as { field: CheckedField; value: string }[];
    return Object.fromEntries(rows.map((r) => [r.field, JSON.parse(r.value) as string | number])) as Reported;
  }
}

export function toInstrument(r: Row): Instrument {
  return {
    ...(JSON.parse(r.body) as InstrumentBody),
    mn: r.mn,
    factor: r.factor,
    by: r.by,
    at: r.at,
    version: r.version,
  };
}
