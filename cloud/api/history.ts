import type { Station } from '../registry.js';
import type { Kind } from '../store/types.js';
import type { ManualResult } from '../plans.js';
import type { MarkedPoint, MarkParty, MarkReason } from '../marks.js';
import {
  amountUnit,
  chinaTime,
  factorName,
  flagLabel,
  markReasonName,
  shownUnit,
  shownValue,
  type Lang,
} from './labels.js';
import type { Cell } from './sheets.js';

/**
 * The fields a history table shows, in this order, where the data has them: Rtd for real-time data,
 * Avg/Min/Max/Cou for minute, hour and day statistics, each with its converted (Zs) value for gas
 * (HJ 212-2017 table 4, 6.3.2).
 */
const FIELD_ORDER = [
  'Rtd',
  'ZsRtd',
  'Avg',
  'ZsAvg',
  'Min',
  'ZsMin',
  'Max',
  'ZsMax',
  'Cou',
  'Data',
  'DayData',
  'NightData',
];
const FIELD_NAMES: Record<string, [string, string]> = {
  Rtd: ['实时值', 'Rtd'],
  ZsRtd: ['折算实时值', 'ZsRtd'],
  Avg: ['均值', 'Avg'],
  ZsAvg: ['折算均值', 'ZsAvg'],
  Min: ['最小值', 'Min'],
  ZsMin: ['折算最小值', 'ZsMin'],
  Max: ['最大值', 'Max'],
  ZsMax: ['折算最大值', 'ZsMax'],
  Cou: ['排放量', 'Cou'],
  // Table 4: noise (2052) fields.
  Data: ['噪声监测时间段内数据', 'Data'],
  DayData: ['噪声昼间数据', 'DayData'],
  NightData: ['噪声夜间数据', 'NightData'],
  // A manual result (手工监测): the laboratory's value.
  Value: ['监测值', 'value'],
};

export interface HistoryColumn {
  factor: string;
  name: string;
  /** Unit of the concentration (or flow) fields as shown. */
  unit: string;
  /** Unit of Cou (排放量): kg, or m3 for a flow (appendix B). */
  amountUnit?: string;
  fields: string[];
}

export interface HistoryCell {
  values: Record<string, number>;
  /** The flag in force: a review mark's, else the one sent. */
  flag?: string;
  flagName?: string;
  /** The review mark deciding this hour, with the flag the record came with. */
  mark?: {
    id: number;
    reason: MarkReason;
    reasonName: string;
    by: string;
    byParty?: MarkParty;
    note: string;
    originalFlag?: string;
    originalFlagName?: string;
  };
  /** A manual result (手工监测): how it was measured and by whom, in place of a flag. */
  manual?: { method: string; methodSource: string; lab: string; note: string };
}

/** A point as the history table takes it: an automatic record, maybe marked, or a manual result. */
export interface HistoryPoint extends MarkedPoint {
  manual?: HistoryCell['manual'];
}

/** A manual result (cloud/plans.ts) as a history point: its value under `Value`, its method beside it. */
export function manualPoint(r: ManualResult): HistoryPoint {
  return {
    mn: r.mn,
    factor: r.factor,
    kind: 'hour',
    time: r.time,
    values: { Value: r.value },
    manual: { method: r.method, methodSource: r.methodSource, lab: r.lab, note: r.note },
  };
}

const MANUAL = { zh: '手工监测', en: 'manual' } as const;

export interface HistoryRow {
  time: number;
  cells: Record<string, HistoryCell>;
}

export interface HistoryTable {
  columns: HistoryColumn[];
  /** One row per DataTime, newest first. */
  rows: HistoryRow[];
}

/**
 * The records of one station and data kind as a table: a row per DataTime, per factor its fields and
 * flag. Values are in the units the columns name (flue gas flow in m3/h, see labels.ts); Cou as sent.
 */
export function historyTable(s: Station, points: readonly HistoryPoint[], lang: Lang): HistoryTable {
  const present = new Map<string, Set<string>>();
  const byTime = new Map<number, Record<string, HistoryCell>>();
  for (const p of points) {
    const fields = present.get(p.factor) ?? new Set<string>();
    present.set(p.factor, fields);
    for (const f of Object.keys(p.values)) fields.add(f);
    const values = Object.fromEntries(
      Object.entries(p.values).map(([f, v]) => [f, f === 'Cou' ? v : shownValue(p.factor, s, v, lang)]),
    );
    const row = byTime.get(p.time) ?? {};
    byTime.set(p.time, row);
    row[p.factor] = {
      values,
      ...(p.flag !== undefined && { flag: p.flag, flagName: flagLabel(p.flag, lang) }),
      ...(p.marked && {
        mark: {
          ...p.marked,
          reasonName: markReasonName(p.marked.reason, lang),
          ...(p.marked.originalFlag !== undefined && { originalFlagName: flagLabel(p.marked.originalFlag, lang) }),
        },
      }),
      ...(p.manual && { manual: p.manual, flagName: MANUAL[lang] }),
    };
  }
  // The registry's order first (how the centre lists an outlet's factors), then any others sent.
  const order = [...Object.keys(s.factors), ...[...present.keys()].filter((f) => !(f in s.factors))];
  const columns = order
    .filter((f) => present.has(f))
    .map((f): HistoryColumn => {
      // The amount unit heads a Cou column only: a table without one (manual results) names none.
      const au = present.get(f)!.has('Cou') ? amountUnit(f, lang) : undefined;
      return {
        factor: f,
        name: factorName(f, lang),
        unit: shownUnit(f, s, lang).unit,
        ...(au !== undefined && { amountUnit: au }),
        // Table 4's fields in their order, then any others (the HJ 212-2025 records') by name.
        fields: [
          ...FIELD_ORDER.filter((x) => present.get(f)!.has(x)),
          ...[...present.get(f)!].filter((x) => !FIELD_ORDER.includes(x)).sort(),
        ],
      };
    });
  const rows = [...byTime].sort(([a], [b]) => b - a).map(([time, cells]) => ({ time, cells }));
  return { columns, rows };
}

const ORIGINAL = { zh: '原', en: 'was' } as const;

/** A flag as a sheet writes it: "D 故障 (审核: 故障; 原 N 正常)" where review marked the hour. */
function sheetFlag(cell: HistoryCell, lang: Lang): string | null {
  if (cell.manual) {
    const m = cell.manual;
    return `${MANUAL[lang]}: ${m.method} (${m.methodSource}), ${m.lab}${m.note ? `; ${m.note}` : ''}`;
  }
  if (!cell.mark) return cell.flagName ?? null;
  const was = cell.mark.originalFlagName ?? '-';
  const review = lang === 'en' ? 'review' : '审核';
  return `${cell.flagName ?? ''} (${review}: ${cell.mark.reasonName}; ${ORIGINAL[lang]} ${was})`;
}

const TIME_HEAD = { zh: '数据时间', en: 'data time' } as const;
const FLAG_HEAD = { zh: '标记', en: 'flag' } as const;

/** The header and the lines of a table as they go into CSV and XLSX: time, then per factor its fields and flag. */
export function historySheet(t: HistoryTable, lang: Lang): { header: string[]; lines: Cell[][] } {
  const header: string[] = [TIME_HEAD[lang]];
  for (const c of t.columns) {
    for (const f of c.fields) {
      const unit = f === 'Cou' ? c.amountUnit : c.unit;
      header.push(`${c.name} ${FIELD_NAMES[f]?.[lang === 'en' ? 1 : 0] ?? f}${unit ? ` (${unit})` : ''}`);
    }
    header.push(`${c.name} ${FLAG_HEAD[lang]}`);
  }
  const lines = t.rows.map((r) => {
    const line: Cell[] = [chinaTime(r.time)];
    for (const c of t.columns) {
      const cell = r.cells[c.factor];
      for (const f of c.fields) line.push(cell?.values[f] ?? null);
      line.push(cell === undefined ? null : sheetFlag(cell, lang));
    }
    return line;
  });
  return { header, lines };
}

/** Names of the data kinds, for titles and file sheets. */
export const KIND_NAMES: Record<Kind, [string, string]> = {
  rtd: ['实时数据', 'real-time data'],
  minute: ['分钟数据', 'minute data'],
  hour: ['小时数据', 'hour data'],
  day: ['日数据', 'day data'],
  raw: ['VOCs 原始监测数据', 'VOC raw data'],
  noise: ['噪声单次测量数据', 'noise single measurements'],
  check: ['自动标样核查数据', 'automatic standard-check data'],
  furnace: ['炉膛温度 5 分钟均值', 'furnace temperature 5-minute averages'],
};

/** What a history table shows: a kind of stored data, or the manual results (手工监测数据) entered per plan. */
export type HistoryKind = Kind | 'manual';
export const HISTORY_KIND_NAMES: Record<HistoryKind, [string, string]> = {
  ...KIND_NAMES,
  manual: ['手工监测数据', 'manual monitoring results'],
};
