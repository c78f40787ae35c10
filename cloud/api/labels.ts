import { factor, FACTORS } from '../../protocol/index.js';
import type { Station } from '../registry.js';
import type { Role } from '../accounts.js';
import { JURISDICTION_COLUMNS } from '../jurisdictions.js';
import type { MarkReason } from '../marks.js';

/*
 * The one home of the names and units the centre shows: the exports (history and report CSV/XLSX)
 * print them from here, and the dashboard's pages read the same tables from `/ui/labels.js`, a module
 * the dashboard plugin renders from LABEL_TABLES (labelsModule) — the browser's format.js holds none.
 */

export type Lang = 'zh' | 'en';

/** Appendix B names the flows after the water or gas (w00000 污水); HJ 75-2017 and HJ 353-2019 call them flows. */
const FLOW_NAMES: Record<string, [string, string]> = {
  w00000: ['废水流量', 'Wastewater flow'],
  a00000: ['废气流量', 'Flue gas flow'],
};

export function factorName(code: string, lang: Lang): string {
  const flow = FLOW_NAMES[code];
  if (flow) return flow[lang === 'en' ? 1 : 0];
  const def = factor(code);
  return def ? (lang === 'en' ? def.nameEn : def.name) : code;
}

/** 排放量 of a factor: of a flow it is the volume discharged (废水排放量), of a pollutant its mass. */
export function emissionName(code: string, lang: Lang): string {
  if (code === 'w00000') return lang === 'en' ? 'wastewater discharged' : '废水排放量';
  if (code === 'a00000') return lang === 'en' ? 'flue gas emitted' : '废气排放量';
  return lang === 'en' ? `${factorName(code, lang)} emitted` : `${factorName(code, lang)}排放量`;
}

/** Chinese readings of appendix B symbols that differ from the symbol. */
const ZH_UNITS: Record<string, string> = {
  dimensionless: '无量纲',
  degree: '度',
  'count/L': '个/L',
  't/(km2·month)': '吨/(平方千米·月)',
};
const unitIn = (unit: string, lang: Lang): string => (lang === 'zh' ? (ZH_UNITS[unit] ?? unit) : unit);

/**
 * A concentration or flow as shown: flue gas flow travels in appendix B's m3/s (HJ 212-2017 table B.2)
 * and is reported in m3/h (HJ 75-2017), times 3600; every other unit as the registry gives it.
 */
export function shownUnit(code: string, s: Station, lang: Lang): { unit: string; times: number } {
  const unit = s.factors[code]?.unit ?? factor(code)?.unit ?? '';
  if (code === 'a00000' && unit === 'm3/s') return { unit: 'm3/h', times: 3600 };
  return { unit: unitIn(unit, lang), times: 1 };
}

/**
 * A value of `code` in the unit shown (shownUnit), to six decimals so the scaling adds no float noise; as given
 * where no station is known. The one scaling of the exports, the history table and the disclosure.
 */
export function shownValue(code: string, s: Station | undefined, value: number, lang: Lang): number {
  const times = s ? shownUnit(code, s, lang).times : 1;
  return Math.round(value * times * 1e6) / 1e6;
}

/** The unit of a factor's Cou (排放量): appendix B's 排放量 column, kg for pollutants, m3 for the flows. */
export function amountUnit(code: string, lang: Lang): string | undefined {
  const u = factor(code)?.amountUnit;
  return u === undefined ? undefined : unitIn(u, lang);
}

/** The data flags of HJ 212-2017 table 8, short names. */
export const FLAG_NAMES: Record<string, [string, string]> = {
  N: ['正常', 'normal'],
  F: ['停运', 'stopped'],
  M: ['维护', 'maintenance'],
  S: ['手工输入', 'entered by hand'],
  D: ['故障', 'fault'],
  C: ['校准', 'calibration'],
  T: ['超测上限', 'above range'],
  B: ['通讯异常', 'communication fault'],
};

/** "N 正常"; an unknown letter alone. */
export const flagLabel = (flag: string, lang: Lang): string => {
  const n = FLAG_NAMES[flag];
  return n ? `${flag} ${n[lang === 'en' ? 1 : 0]}` : flag;
};

const CHINA = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** 2026-11-20 08:00:00, 24-hour China time whatever the server's zone. */
export function chinaTime(ms: number): string {
  const p = Object.fromEntries(CHINA.formatToParts(ms).map((x) => [x.type, x.value]));
  return `${p['year']}-${p['month']}-${p['day']} ${p['hour']}:${p['minute']}:${p['second']}`;
}

/** The reasons a reviewer marks hours with (cloud/marks.ts), as the review page and the audit list name them. */
export const MARK_REASON_NAMES: Record<MarkReason, [string, string]> = {
  stopped: ['停运', 'stopped'],
  fault: ['故障', 'fault'],
  maintenance: ['检修', 'maintenance'],
  calibration: ['校准', 'calibration'],
  overRange: ['超量程', 'over range'],
  communication: ['通讯异常', 'communication fault'],
  normal: ['数据正常（更正标记）', 'normal (flag corrected)'],
  processAbnormal: ['工况异常', 'abnormal process conditions'],
};
export const markReasonName = (r: MarkReason, lang: Lang): string => MARK_REASON_NAMES[r][lang === 'en' ? 1 : 0];

/** The roles of the accounts (cloud/accounts.ts), as the header and the user page name them. */
export const ROLE_NAMES: Record<Role, [string, string]> = {
  read: ['只读', 'read'],
  operator: ['操作员', 'operator'],
  admin: ['管理员', 'admin'],
};

/**
 * Every table the dashboard's pages name things with, [Chinese, English] each; and the order of the
 * statistics per jurisdiction's columns (cloud/jurisdictions.ts), which the page's table shares with the export.
 */
export const LABEL_TABLES = {
  flows: FLOW_NAMES,
  /** Appendix B's pollutants by code: a plan's manual item may be a factor the outlet's registry does not list. */
  pollutants: Object.fromEntries(
    FACTORS.filter((f) => f.category === 'water' || f.category === 'air').map((f) => [f.code, [f.name, f.nameEn]]),
  ) as Record<string, [string, string]>,
  flags: FLAG_NAMES,
  zhUnits: ZH_UNITS,
  roles: ROLE_NAMES,
  markReasons: MARK_REASON_NAMES,
  jurisdictionColumns: JURISDICTION_COLUMNS.map(([path]) => path),
};

/** `/ui/labels.js`: LABEL_TABLES as a browser module (static/app.js hands it to format.js). */
export const labelsModule = (): string =>
  `// Rendered by the server from cloud/api/labels.ts: the one home of these names.\n` +
  `export const LABELS = ${JSON.stringify(LABEL_TABLES)};\n`;
