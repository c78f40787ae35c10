import { factor, O2_CODE as O2 } from '../../protocol/codes/factors.js';
import type { Backfill, BackfillReader } from '../alarms/backfills.js';
import type { Awaitable } from '../rules/state.js';
import type { Registry, Shutdown, Station } from '../registry.js';
import { visible, type Principal } from './auth.js';
import { exceedance, isAssessed, isValid } from '../rules/judge.js';
import { factorRates, periodBounds, pooled, type FactorRates, type RateRules, type Rates } from '../rules/rates.js';
import type { RuleEngine } from '../rules/engine.js';
import { applyMarks, stoppedByMarks, type MarkStore } from '../marks.js';
import type { ShutdownBook } from '../shutdowns.js';
import { chinaTime, emissionName, factorName, shownUnit, shownValue, type Lang } from './labels.js';
import type { ManualResult, PlanBook } from '../plans.js';
import { toCsv, toXlsx, type Cell } from './sheets.js';
import type { MeasurementStore, Point } from '../store/types.js';

/** One outlet over a day or a month, as a monitoring centre's report lists it. */
export interface OutletPeriod extends Rates {
  enterprise: string;
  outlet: string;
  mn: string;
  /** Expected hours (see rates) with no record for at least one assessed factor. */
  hoursMissing: number;
  /** Hours with at least one factor's hour value over (or under) its limit, where 超标 is judged on hours. */
  hoursExceeding: number;
  /** Hours at least one factor of which arrived after it was due (补传). */
  hoursBackfilled: number;
  /** Manual results (手工监测) of the period entered against the outlet's monitoring plan (cloud/plans.ts). */
  manualResults: number;
  /** 排放量 per pollutant over the period (see emissionAmounts). */
  emissions: Emission[];
}

/** The emission amount of one pollutant (or the volume of a flow) over a period. */
export interface Emission {
  factor: string;
  /** Sum of the Cou values taken, rounded to 6 decimals. */
  amount: number;
  /** Appendix B's unit of the amount: kg for pollutants, m3 for the water and flue gas flows. */
  unit: string;
  /** Hour records summed. */
  hours: number;
  /** Days taken from their day record, having no hour with a Cou. */
  days: number;
}

/** One enterprise over the period: its outlets' hour counts pooled, their emission amounts summed. */
export interface EnterprisePeriod extends Rates {
  enterprise: string;
  outlets: number;
  manualResults: number;
  emissions: Emission[];
}

const DAY = 24 * 3_600_000;
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/**
 * 排放量 of each factor appendix B gives an amount unit (kg for pollutants, m3 for the flows) over
 * [from, to): HJ 212-2017 appendix D sums the period's amounts, the day's from its hours (formulas (4)
 * for flow, (11) for pollutants: Dd = ΣDh, Gd = ΣGh over the hours validly measured) and longer
 * periods likewise from their days. The Cou of an hour record is that hour's amount (table 4:
 * 指定时间内累计值), so a period's amount is the sum of the Cou of its valid hours (flag N, or S where
 * manual data counts as valid); a China day with no hour record carrying a Cou is taken from its day
 * record's Cou instead (a logger that sends only days, or hours lost and the day kept), never both.
 */
export function emissionAmounts(opts: {
  station: Station;
  from: number;
  to: number;
  hours: readonly Point[];
  days: readonly Point[];
  rules: RateRules;
}): Emission[] {
  const counts = (p: Point): boolean => isValid(p) || (opts.rules.manualCountsValid && p.flag === 'S');
  const dayOf = (t: number): number => opts.from + Math.floor((t - opts.from) / DAY) * DAY;
  const out: Emission[] = [];
  for (const code of Object.keys(opts.station.factors)) {
    const unit = factor(code)?.amountUnit;
    if (unit === undefined) continue;
    const withCou = (p: Point): boolean =>
      p.factor === code && p.values['Cou'] !== undefined && p.time >= opts.from && p.time < opts.to;
    const hours = opts.hours.filter(withCou);
    const coveredDays = new Set(hours.map((p) => dayOf(p.time)));
    const taken = hours.filter(counts);
    const days = opts.days.filter((p) => withCou(p) && !coveredDays.has(dayOf(p.time)) && counts(p));
    if (hours.length === 0 && days.length === 0) continue;
    const amount = [...taken, ...days].reduce((a, p) => a + p.values['Cou']!, 0);
    out.push({ factor: code, amount: round6(amount), unit, hours: taken.length, days: days.length });
  }
  return out;
}

/** Amounts of several outlets summed per factor, in the order the factors first appear. */
export function summedEmissions(parts: readonly (readonly Emission[])[]): Emission[] {
  const by = new Map<string, Emission>();
  for (const e of parts.flat()) {
    const got = by.get(e.factor);
    by.set(
      e.factor,
      got
        ? { ...got, amount: round6(got.amount + e.amount), hours: got.hours + e.hours, days: got.days + e.days }
        : { ...e },
    );
  }
  return [...by.values()];
}

/** The factors the rates count: assessed ones (those with a limit, unless the registry says otherwise). */
export const assessedFactors = (s: Station): string[] =>
  Object.entries(s.factors)
    .filter(([, f]) => isAssessed(f))
    .map(([code]) => code);

/** Per assessed factor, the rates of one station over [from, to). */
export function stationRates(opts: {
  station: Station;
  from: number;
  to: number;
  now: number;
  since?: number;
  hours: readonly Point[];
  shutdowns: readonly Shutdown[];
  rules: RateRules;
  stopped?: (factor: string, hour: number) => boolean;
}): FactorRates[] {
  return factorRates({ ...opts, factors: assessedFactors(opts.station) });
}

/** The report line of one outlet from its hour records of the period. */
export function outletPeriod(opts: {
  station: Station;
  from: number;
  to: number;
  now: number;
  since?: number;
  hours: readonly Point[];
  shutdowns: readonly Shutdown[];
  rules: RateRules;
  stopped?: (factor: string, hour: number) => boolean;
  backfills?: readonly Backfill[];
  /** Day records of the period, for the emission amounts of days without hours. */
  days?: readonly Point[];
  /** Manual results of the period (counted, not part of the rates: those are the automatic data's). */
  manual?: readonly ManualResult[];
}): OutletPeriod {
  const { station: s, hours } = opts;
  const factors = stationRates(opts);
  const missing = new Set(factors.flatMap((f) => f.missing));
  const byHour = new Map<number, Point[]>();
  for (const p of hours) byHour.set(p.time, [...(byHour.get(p.time) ?? []), p]);
  let hoursExceeding = 0;
  for (const got of byHour.values()) {
    const o2 = got.find((p) => p.factor === O2);
    if (got.some((p) => exceedance(s, p, o2)?.active)) hoursExceeding++;
  }
  return {
    enterprise: s.enterprise,
    outlet: s.outlet,
    mn: s.mn,
    ...pooled(factors),
    hoursMissing: missing.size,
    hoursExceeding,
    hoursBackfilled: new Set((opts.backfills ?? []).map((b) => b.time)).size,
    manualResults: (opts.manual ?? []).filter((r) => r.time >= opts.from && r.time < opts.to).length,
    emissions: emissionAmounts({ ...opts, days: opts.days ?? [] }),
  };
}

/** Enterprises in the order their first outlet appears, with their outlets' counts pooled. */
export function enterprisesOf(rows: readonly OutletPeriod[]): EnterprisePeriod[] {
  const by = new Map<string, OutletPeriod[]>();
  for (const r of rows) by.set(r.enterprise, [...(by.get(r.enterprise) ?? []), r]);
  return [...by].map(([enterprise, outlets]) => ({
    enterprise,
    outlets: outlets.length,
    ...pooled(outlets),
    manualResults: outlets.reduce((n, o) => n + o.manualResults, 0),
    emissions: summedEmissions(outlets.map((o) => o.emissions)),
  }));
}

/** What a report needs to read for one station. */
export interface ReportSource {
  registry: Registry;
  /** Hour records with the review marks applied (cloud/marks.ts). */
  hoursOf: (s: Station, from: number, to: number) => Promise<Point[]>;
  /** Which factor hours review marked 停运. */
  stoppedOf: (s: Station, from: number, to: number) => Promise<(factor: string, hour: number) => boolean>;
  daysOf: (s: Station, from: number, to: number) => Promise<Point[]>;
  shutdowns: (s: Station) => Awaitable<Shutdown[]>;
  since: (s: Station) => Promise<number | undefined>;
  backfills: (s: Station, from: number, to: number) => Awaitable<Backfill[]>;
  /** Manual results (手工监测) of [from, to). */
  manualOf: (s: Station, from: number, to: number) => Awaitable<ManualResult[]>;
  rules: RateRules;
  now: number;
}

/** Every station of the registry, in its order, for one day, month, quarter or year (see periodBounds). */
export async function periodReport(
  src: ReportSource,
  period: string,
): Promise<{ outlets: OutletPeriod[]; enterprises: EnterprisePeriod[]; manual: ManualResult[] }> {
  const { from, to } = periodBounds(period);
  const manual: ManualResult[] = [];
  const outlets = await Promise.all(
    src.registry.stations.map(async (station) => {
      const since = await src.since(station);
      const results = await src.manualOf(station, from, to);
      manual.push(...results);
      return outletPeriod({
        station,
        from,
        to,
        now: src.now,
        ...(since !== undefined && { since }),
        hours: await src.hoursOf(station, from, to),
        stopped: await src.stoppedOf(station, from, to),
        shutdowns: await src.shutdowns(station),
        rules: src.rules,
        backfills: await src.backfills(station, from, to),
        days: await src.daysOf(station, from, to),
        manual: results,
      });
    }),
  );
  // In the registry's order, then by time, as the outlets are listed.
  const order = new Map(src.registry.stations.map((s, i) => [s.mn, i]));
  manual.sort((a, b) => order.get(a.mn)! - order.get(b.mn)! || a.time - b.time || a.factor.localeCompare(b.factor));
  return { outlets, enterprises: enterprisesOf(outlets), manual };
}

const HEADERS = {
  zh: [
    '企业名称',
    '排口名称',
    'MN',
    '传输率(%)',
    '有效率(%)',
    '传输有效率(%)',
    '缺失小时数',
    '超标小时数',
    '补传小时数',
    '手工监测数据(条)',
  ],
  en: [
    'enterprise',
    'outlet',
    'MN',
    'transmission rate (%)',
    'validity rate (%)',
    'effectiveness rate (%)',
    'hours missing',
    'hours exceeding',
    'hours back-filled',
    'manual results',
  ],
} as const;
const PERIOD_HEAD: Record<Lang, Record<PeriodKind, string>> = {
  zh: { day: '日期', month: '月份', quarter: '季度', year: '年度' },
  en: { day: 'day', month: 'month', quarter: 'quarter', year: 'year' },
};
const WHOLE = { zh: '(全部排口)', en: '(all outlets)' } as const;

/** Which kind of period a report covers, from how it is written (see periodBounds). */
export type PeriodKind = 'day' | 'month' | 'quarter' | 'year';
export const periodKind = (period: string): PeriodKind =>
  /^\d{4}-\d{2}-\d{2}$/.test(period) ? 'day' : /Q/.test(period) ? 'quarter' : /^\d{4}$/.test(period) ? 'year' : 'month';

/** Rates in per cent with one decimal, as the CSV writes them (50.0). */
const pct = (r: number): string => (r * 100).toFixed(1);

/**
 * The report as one table: a line per outlet, then a line per enterprise (its outlets pooled; no MN,
 * no hour counts), then a column per pollutant with an emission amount in the period (its 排放量 with
 * its unit, kg or m3), empty where an outlet has none. `rate` writes a rate (text for CSV, a number for XLSX).
 */
export function reportSheet(
  period: string,
  rows: readonly OutletPeriod[],
  lang: Lang,
  enterprises: readonly EnterprisePeriod[] = [],
  rate: (r: number) => Cell = pct,
): { header: string[]; lines: Cell[][] } {
  const amounts = summedEmissions(rows.map((r) => r.emissions));
  const header = [
    PERIOD_HEAD[lang][periodKind(period)],
    ...HEADERS[lang],
    ...amounts.map((e) => `${emissionName(e.factor, lang)} (${e.unit})`),
  ];
  const emitted = (list: readonly Emission[]): Cell[] =>
    amounts.map((a) => list.find((e) => e.factor === a.factor)?.amount ?? null);
  const lines: Cell[][] = [
    ...rows.map((r) => [
      period,
      r.enterprise,
      r.outlet,
      r.mn,
      rate(r.transmissionRate),
      rate(r.validityRate),
      rate(r.effectivenessRate),
      r.hoursMissing,
      r.hoursExceeding,
      r.hoursBackfilled,
      r.manualResults,
      ...emitted(r.emissions),
    ]),
    ...enterprises.map((e) => [
      period,
      e.enterprise,
      WHOLE[lang],
      null,
      rate(e.transmissionRate),
      rate(e.validityRate),
      rate(e.effectivenessRate),
      null,
      null,
      null,
      e.manualResults,
      ...emitted(e.emissions),
    ]),
  ];
  return { header, lines };
}

/** The report as CSV with a BOM, so that spreadsheet programs in China open the Chinese names right. */
export function reportCsv(
  period: string,
  rows: readonly OutletPeriod[],
  lang: Lang,
  enterprises: readonly EnterprisePeriod[] = [],
): string {
  const { header, lines } = reportSheet(period, rows, lang, enterprises);
  return toCsv(header, lines);
}

const MANUAL_HEADERS = {
  zh: [
    '企业名称',
    '排口名称',
    'MN',
    '采样时间',
    '监测项目',
    '监测值',
    '单位',
    '监测方法',
    '方法来源',
    '监测机构',
    '备注',
  ],
  en: [
    'enterprise',
    'outlet',
    'MN',
    'sampled',
    'item',
    'value',
    'unit',
    'method',
    'method source',
    'laboratory',
    'note',
  ],
} as const;

/** The manual results of a report's period, a line each, with how and by whom they were measured. */
export function manualSheet(
  registry: Registry,
  results: readonly ManualResult[],
  lang: Lang,
): { header: string[]; lines: Cell[][] } {
  const lines = results.map((r): Cell[] => {
    const s = registry.get(r.mn);
    const unit = s ? shownUnit(r.factor, s, lang).unit : '';
    return [
      s?.enterprise ?? null,
      s?.outlet ?? null,
      r.mn,
      chinaTime(r.time),
      factorName(r.factor, lang),
      shownValue(r.factor, s, r.value, lang),
      unit,
      r.method,
      r.methodSource,
      r.lab,
      r.note,
    ];
  });
  return { header: [...MANUAL_HEADERS[lang]], lines };
}

/**
 * The report as XLSX: the same table, rates as numbers (per cent, one decimal); given the registry and the
 * period's manual results, a second sheet lists those (手工监测数据).
 */
export function reportXlsx(
  period: string,
  rows: readonly OutletPeriod[],
  lang: Lang,
  enterprises: readonly EnterprisePeriod[] = [],
  manual?: { registry: Registry; results: readonly ManualResult[] },
): Promise<Buffer> {
  const sheet = reportSheet(period, rows, lang, enterprises, (r) => Math.round(r * 1000) / 10);
  return toXlsx([
    { name: lang === 'zh' ? `报表 ${period}` : `report ${period}`, ...sheet },
    ...(manual
      ? [
          {
            name: lang === 'zh' ? '手工监测数据' : 'manual results',
            ...manualSheet(manual.registry, manual.results, lang),
          },
        ]
      : []),
  ]);
}

/** What the rates and the report routes read. */
export interface ReportDeps {
  registry: () => Registry;
  store: Pick<MeasurementStore, 'query'>;
  shutdowns: Pick<ShutdownBook, 'windows'>;
  backfills: BackfillReader;
  rules: Pick<RuleEngine, 'now' | 'monitoredSince' | 'options'>;
  marks: Pick<MarkStore, 'active'>;
  plans: Pick<PlanBook, 'results'>;
}

/**
 * A kind's records of [from, to), read 31 days at a time: a year of hours of a station with many
 * factors is more than one query may return (100,000 points), a month is far less.
 */
async function readAll(
  store: Pick<MeasurementStore, 'query'>,
  mn: string,
  kind: 'hour' | 'day',
  from: number,
  to: number,
): Promise<Point[]> {
  const out: Point[] = [];
  for (let t = from; t < to; t += 31 * DAY)
    out.push(...(await store.query({ mn, kind, from: t, to: Math.min(to, t + 31 * DAY), limit: 100_000 })));
  return out;
}

/** A report's source as of now, on the rules' clock (a demo runs it warped). */
export function reportSource(d: ReportDeps, principal: Principal | null = null): ReportSource {
  const now = d.rules.now();
  return {
    // A scoped account's report is over its own stations: its totals and its enterprises only.
    registry: visible(principal, d.registry()),
    hoursOf: async (s, from, to) =>
      applyMarks(await readAll(d.store, s.mn, 'hour', from, to), await d.marks.active(s.mn, from, to)),
    stoppedOf: async (s, from, to) => stoppedByMarks(await d.marks.active(s.mn, from, to)),
    daysOf: (s, from, to) => readAll(d.store, s.mn, 'day', from, to),
    shutdowns: (s) => d.shutdowns.windows(s),
    since: (s) => d.rules.monitoredSince(s, now),
    backfills: (s, from, to) => d.backfills.list(s.mn, from, to),
    manualOf: (s, from, to) => d.plans.results(s.mn, from, to),
    rules: { manualCountsValid: d.rules.options.manualCountsValid },
    now,
  };
}
