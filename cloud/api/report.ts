import { O2_CODE as O2 } from '../../protocol/codes/factors.js';
import type { Backfill, BackfillStore } from '../alarms/backfills.js';
import type { Registry, Shutdown, Station } from '../registry.js';
import { exceedance, isAssessed } from '../rules/judge.js';
import { factorRates, periodBounds, pooled, type FactorRates, type RateRules, type Rates } from '../rules/rates.js';
import type { RuleEngine } from '../rules/engine.js';
import type { ShutdownStore } from '../shutdowns.js';
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
}

/** One enterprise over the period: its outlets' hour counts pooled. */
export interface EnterprisePeriod extends Rates {
  enterprise: string;
  outlets: number;
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
  backfills?: readonly Backfill[];
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
  };
}

/** Enterprises in the order their first outlet appears, with their outlets' counts pooled. */
export function enterprisesOf(rows: readonly OutletPeriod[]): EnterprisePeriod[] {
  const by = new Map<string, OutletPeriod[]>();
  for (const r of rows) by.set(r.enterprise, [...(by.get(r.enterprise) ?? []), r]);
  return [...by].map(([enterprise, outlets]) => ({ enterprise, outlets: outlets.length, ...pooled(outlets) }));
}

/** What a report needs to read for one station. */
export interface ReportSource {
  registry: Registry;
  hoursOf: (s: Station, from: number, to: number) => Promise<Point[]>;
  shutdowns: (s: Station) => Shutdown[];
  since: (s: Station) => Promise<number | undefined>;
  backfills: (s: Station, from: number, to: number) => Backfill[];
  rules: RateRules;
  now: number;
}

/** Every station of the registry, in its order, for one day (YYYY-MM-DD) or month (YYYY-MM). */
export async function periodReport(
  src: ReportSource,
  period: string,
): Promise<{ outlets: OutletPeriod[]; enterprises: EnterprisePeriod[] }> {
  const { from, to } = periodBounds(period);
  const outlets = await Promise.all(
    src.registry.stations.map(async (station) => {
      const since = await src.since(station);
      return outletPeriod({
        station,
        from,
        to,
        now: src.now,
        ...(since !== undefined && { since }),
        hours: await src.hoursOf(station, from, to),
        shutdowns: src.shutdowns(station),
        rules: src.rules,
        backfills: src.backfills(station, from, to),
      });
    }),
  );
  return { outlets, enterprises: enterprisesOf(outlets) };
}

const HEADERS = {
  zh: [
    '日期',
    '企业名称',
    '排口名称',
    'MN',
    '传输率(%)',
    '有效率(%)',
    '传输有效率(%)',
    '缺失小时数',
    '超标小时数',
    '补传小时数',
  ],
  en: [
    'day',
    'enterprise',
    'outlet',
    'MN',
    'transmission rate (%)',
    'validity rate (%)',
    'effectiveness rate (%)',
    'hours missing',
    'hours exceeding',
    'hours back-filled',
  ],
} as const;
const WHOLE = { zh: '(全部排口)', en: '(all outlets)' } as const;

/**
 * A text cell a spreadsheet would run as a formula (=, +, -, @, or a tab or CR before one: an
 * enterprise named `=HYPERLINK(...)` or `+cmd|...`) gets a leading apostrophe, which the spreadsheet
 * shows as text and does not display (OWASP "CSV injection"). Rates and counts we format ourselves never start so.
 */
export const neutralise = (s: string): string => (/^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

/** RFC 4180: quote a field only when it needs it. */
const field = (v: string | number): string => {
  const s = typeof v === 'number' ? String(v) : neutralise(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
const pct = (r: number): string => (r * 100).toFixed(1);

/**
 * The report as CSV with a BOM, so that spreadsheet programs in China open the Chinese names right:
 * a line per outlet, then a line per enterprise (its outlets pooled; no MN, no hour counts).
 */
export function reportCsv(
  period: string,
  rows: readonly OutletPeriod[],
  lang: keyof typeof HEADERS,
  enterprises: readonly EnterprisePeriod[] = [],
): string {
  const lines = [
    HEADERS[lang],
    ...rows.map((r) => [
      period,
      r.enterprise,
      r.outlet,
      r.mn,
      pct(r.transmissionRate),
      pct(r.validityRate),
      pct(r.effectivenessRate),
      r.hoursMissing,
      r.hoursExceeding,
      r.hoursBackfilled,
    ]),
    ...enterprises.map((e) => [
      period,
      e.enterprise,
      WHOLE[lang],
      '',
      pct(e.transmissionRate),
      pct(e.validityRate),
      pct(e.effectivenessRate),
      '',
      '',
      '',
    ]),
  ];
  return '\uFEFF' + lines.map((l) => l.map(field).join(',')).join('\r\n') + '\r\n';
}

/** What the rates and the report routes read. */
export interface ReportDeps {
  registry: () => Registry;
  store: Pick<MeasurementStore, 'query'>;
  shutdowns: Pick<ShutdownStore, 'windows'>;
  backfills: Pick<BackfillStore, 'list'>;
  rules: Pick<RuleEngine, 'now' | 'monitoredSince' | 'options'>;
}

/** A report's source as of now, on the rules' clock (a demo runs it warped). */
export function reportSource(d: ReportDeps): ReportSource {
  const now = d.rules.now();
  return {
    registry: d.registry(),
    hoursOf: (s, from, to) => d.store.query({ mn: s.mn, kind: 'hour', from, to, limit: 100_000 }),
    shutdowns: (s) => d.shutdowns.windows(s),
    since: (s) => d.rules.monitoredSince(s, now),
    backfills: (s, from, to) => d.backfills.list(s.mn, from, to),
    rules: { manualCountsValid: d.rules.options.manualCountsValid },
    now,
  };
}
