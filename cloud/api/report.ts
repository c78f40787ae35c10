import type { Registry, Shutdown, Station } from '../registry.js';
import { exceedance } from '../rules/judge.js';
import { HOUR, hoursBetween, overlaps } from '../rules/missing.js';
import { dailyRates } from '../rules/rates.js';
import type { Point } from '../store/types.js';

/** One outlet's day, as a monitoring centre's daily report lists it. */
export interface OutletDay {
  enterprise: string;
  outlet: string;
  mn: string;
  /** Over all its factors: received / expected hours. */
  transmissionRate: number;
  /** valid / received. */
  validityRate: number;
  effectivenessRate: number;
  /** Hours due (over, outside shutdowns) with no record for at least one factor. */
  hoursMissing: number;
  /** Hours with at least one factor over (or under) its limit. */
  hoursExceeding: number;
}

const dayStartOf = (day: string): number => Date.parse(`${day}T00:00:00+08:00`);

const O2 = 'a19001';

/** The report line of one outlet from its hour records of the day. */
export function outletDay(opts: {
  station: Station;
  dayStart: number;
  hours: readonly Point[];
  shutdowns: readonly Shutdown[];
  now: number;
}): OutletDay {
  const { station: s, dayStart, hours } = opts;
  const factors = Object.keys(s.factors);
  const rates = dailyRates({ dayStart, factors, hours, shutdowns: opts.shutdowns });
  const sum = (f: (r: (typeof rates)[number]) => number): number => rates.reduce((a, r) => a + f(r), 0);
  const [expected, received, valid] = [sum((r) => r.expected), sum((r) => r.received), sum((r) => r.valid)];
  const transmissionRate = expected === 0 ? 0 : received / expected;
  const validityRate = received === 0 ? 0 : valid / received;
  let hoursMissing = 0;
  let hoursExceeding = 0;
  for (const h of hoursBetween(dayStart, dayStart + 24 * HOUR)) {
    const got = hours.filter((p) => p.time === h);
    const o2 = got.find((p) => p.factor === O2);
    if (got.some((p) => exceedance(s, p, o2)?.active)) hoursExceeding++;
    const due = h + HOUR <= opts.now && !opts.shutdowns.some((w) => overlaps(h, w));
    if (due && factors.some((f) => !got.some((p) => p.factor === f))) hoursMissing++;
  }
  return {
    enterprise: s.enterprise,
    outlet: s.outlet,
    mn: s.mn,
    transmissionRate,
    validityRate,
    effectivenessRate: transmissionRate * validityRate,
    hoursMissing,
    hoursExceeding,
  };
}

/** Every station of the registry, in its order, for one day. */
export async function dailyReport(opts: {
  registry: Registry;
  day: string;
  hoursOf: (s: Station, from: number, to: number) => Promise<Point[]>;
  shutdowns: (s: Station) => Shutdown[];
  now: number;
}): Promise<OutletDay[]> {
  const dayStart = dayStartOf(opts.day);
  return Promise.all(
    opts.registry.stations.map(async (station) =>
      outletDay({
        station,
        dayStart,
        hours: await opts.hoursOf(station, dayStart, dayStart + 24 * HOUR),
        shutdowns: opts.shutdowns(station),
        now: opts.now,
      }),
    ),
  );
}

const HEADERS = {
  zh: ['日期', '企业名称', '排口名称', 'MN', '传输率(%)', '有效率(%)', '传输有效率(%)', '缺失小时数', '超标小时数'],
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
  ],
} as const;

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

/** The report as CSV with a BOM, so that spreadsheet programs in China open the Chinese names right. */
export function reportCsv(day: string, rows: readonly OutletDay[], lang: keyof typeof HEADERS): string {
  const lines = [
    HEADERS[lang],
    ...rows.map((r) => [
      day,
      r.enterprise,
      r.outlet,
      r.mn,
      pct(r.transmissionRate),
      pct(r.validityRate),
      pct(r.effectivenessRate),
      r.hoursMissing,
      r.hoursExceeding,
    ]),
  ];
  return '\uFEFF' + lines.map((l) => l.map(field).join(',')).join('\r\n') + '\r\n';
}
