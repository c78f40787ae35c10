import { O2_CODE as O2 } from '../protocol/codes/factors.js';
import { chinaDay } from '../protocol/time.js';
import { factorName, shownUnit, shownValue, type Lang } from './api/labels.js';
import { PERIODS, type ManualResult, type Plan } from './plans.js';
import type { Station } from './registry.js';
import { exceedance, isValid, judgeAll } from './rules/judge.js';
import type { Point } from './store/types.js';

/**
 * Public disclosure (信息公开) of an enterprise's self-monitoring, as the provincial platforms publish it:
 * per outlet whose monitoring plan was approved, the plan in force and the results — the automatic
 * factors' day values with the hours over their limit, and the manual results with their method. Only
 * approved plans are disclosed (an outlet without one is not listed); nothing here needs a login, so it
 * holds no MN, password or person's name.
 */
export interface DisclosedPlanItem {
  factor: string;
  name: string;
  mode: 'automatic' | 'manual';
  /** 监测频次: 连续监测 for automatic items, e.g. 1次/季度 for manual ones. */
  frequency: string;
  method?: string;
  methodSource?: string;
}

export interface DisclosedDay {
  /** China day, YYYY-MM-DD. */
  day: string;
  factor: string;
  /**
   * The day record's Avg in the unit shown (the converted ZsAvg for gas where the logger sent it); null without a
   * valid one.
   */
  value: number | null;
  /** Whether the value is the converted (折算) one. */
  converted: boolean;
  /** Hours of the day with a valid record of the factor. */
  hoursValid: number;
  /** Hours of the day whose value was over (or under) the limit where the registry judges hours (超标). */
  hoursExceeding: number;
  /**
   * false (超标) if an hour exceeded, or the day where the registry judges days; true (达标) with valid judged
   * data and no exceedance; null (不评价) with nothing judged (no valid hour, and days not judged).
   */
  compliant: boolean | null;
}

export interface DisclosedManual {
  time: number;
  factor: string;
  value: number;
  /** Within the outlet's registered limits of the factor (upper, lower: pH 6-9); null where none is registered. */
  compliant: boolean | null;
  method: string;
  methodSource: string;
  lab: string;
}

export interface DisclosedFactor {
  name: string;
  unit: string;
  upper?: number;
  lower?: number;
}

export interface DisclosedOutlet {
  outlet: string;
  type: Station['type'];
  plan: { approvedAt: number; items: DisclosedPlanItem[] };
  /** Names, units and registered limits (in the unit shown) of the factors shown, by code. */
  factors: Record<string, DisclosedFactor>;
  days: DisclosedDay[];
  manual: DisclosedManual[];
}

export interface Disclosure {
  enterprise: string;
  region?: string;
  outlets: DisclosedOutlet[];
}

/** Everything disclosed of one outlet with an approved plan. */
export function disclosedOutlet(opts: {
  station: Station;
  plan: Plan;
  hours: readonly Point[];
  days: readonly Point[];
  manual: readonly ManualResult[];
  lang: Lang;
}): DisclosedOutlet {
  const { station: s, plan, lang } = opts;
  const automatic = plan.items.filter((i) => i.mode === 'automatic').map((i) => i.factor);
  const codes = [...new Set([...plan.items.map((i) => i.factor), ...opts.manual.map((r) => r.factor)])];
  return {
    outlet: s.outlet,
    type: s.type,
    plan: { approvedAt: plan.review!.at, items: disclosedItems(plan, lang) },
    factors: Object.fromEntries(codes.map((c) => [c, disclosedFactor(s, c, lang)])),
    days: disclosedDays(s, automatic, opts.hours, opts.days, lang),
    manual: disclosedManual(s, opts.manual, lang),
  };
}

const FREQUENCY = {
  zh: (n: number, per: string) => `${n}次/${per}`,
  en: (n: number, per: string) => `${n} per ${per}`,
};
const PER_EN = { month: 'month', quarter: 'quarter', halfYear: 'half-year', year: 'year' } as const;
const CONTINUOUS = { zh: '连续监测', en: 'continuous' } as const;

/** A plan's items as disclosed: names and frequencies in words. */
export function disclosedItems(plan: Plan, lang: Lang): DisclosedPlanItem[] {
  return plan.items.map((i) =>
    i.mode === 'automatic'
      ? { factor: i.factor, name: factorName(i.factor, lang), mode: i.mode, frequency: CONTINUOUS[lang] }
      : {
          factor: i.factor,
          name: factorName(i.factor, lang),
          mode: i.mode,
          frequency: FREQUENCY[lang](i.times, lang === 'en' ? PER_EN[i.per] : PERIODS[i.per]),
          method: i.method,
          methodSource: i.methodSource,
        },
  );
}

/**
 * The day lines of one outlet's automatic plan items over the days of `hours` and `days`: per China day and
 * factor, the day record's value and the hours exceeding (exceedance() on each valid hour, with the O2 of the
 * same hour for a gas outlet's conversion). A day the registry judges (its own day limit) counts as 超标 too.
 */
export function disclosedDays(
  s: Station,
  factors: readonly string[],
  hours: readonly Point[],
  days: readonly Point[],
  lang: Lang,
): DisclosedDay[] {
  const o2 = new Map(hours.filter((p) => p.factor === O2).map((p) => [p.time, p]));
  const lines = new Map<string, DisclosedDay>();
  const judged = new Set<DisclosedDay>();
  const line = (day: string, factor: string): DisclosedDay => {
    const key = `${day}|${factor}`;
    let l = lines.get(key);
    if (!l) {
      l = { day, factor, value: null, converted: false, hoursValid: 0, hoursExceeding: 0, compliant: null };
      lines.set(key, l);
    }
    return l;
  };
  for (const p of hours) {
    if (!factors.includes(p.factor) || !isValid(p)) continue;
    const l = line(chinaDay(p.time), p.factor);
    l.hoursValid++;
    const c = exceedance(s, p, o2.get(p.time));
    // A factor without a limit (a flow) is not judged: its hours make no 达标.
    if (c) judged.add(l);
    if (c?.active) l.hoursExceeding++;
  }
  const dayJudgements = judgeAll(s, days);
  for (const [i, p] of days.entries()) {
    if (!factors.includes(p.factor)) continue;
    const l = line(chinaDay(p.time), p.factor);
    const zs = p.values['ZsAvg'];
    const avg = zs ?? p.values['Avg'];
    if (avg === undefined || !isValid(p)) continue;
    l.value = shownValue(p.factor, s, avg, lang);
    l.converted = zs !== undefined;
    const j = dayJudgements[i];
    if (j) l.compliant = j.state !== 'exceedance' && l.compliant !== false;
  }
  for (const l of lines.values()) {
    if (l.hoursExceeding > 0) l.compliant = false;
    else if (judged.has(l) && l.compliant === null) l.compliant = true;
  }
  const order = new Map(factors.map((f, i) => [f, i]));
  return [...lines.values()].sort((a, b) => a.day.localeCompare(b.day) || order.get(a.factor)! - order.get(b.factor)!);
}

/** A factor's name, unit and registered limits as disclosed. */
export function disclosedFactor(s: Station, code: string, lang: Lang): DisclosedFactor {
  const f = s.factors[code];
  return {
    name: factorName(code, lang),
    unit: shownUnit(code, s, lang).unit,
    ...(f?.upper !== undefined && { upper: shownValue(code, s, f.upper, lang) }),
    ...(f?.lower !== undefined && { lower: shownValue(code, s, f.lower, lang) }),
  };
}

/**
 * Manual results as disclosed, judged against the outlet's registered limits of the factor (its `upper` and
 * `lower`) where it has them; a manual result is taken as reported, converted already where a standard asks.
 */
export function disclosedManual(s: Station, results: readonly ManualResult[], lang: Lang): DisclosedManual[] {
  return results.map((r) => {
    const f = s.factors[r.factor];
    const judged = f?.upper !== undefined || f?.lower !== undefined;
    const within = (f?.upper === undefined || r.value <= f.upper) && (f?.lower === undefined || r.value >= f.lower);
    return {
      time: r.time,
      factor: r.factor,
      value: shownValue(r.factor, s, r.value, lang),
      compliant: judged ? within : null,
      method: r.method,
      methodSource: r.methodSource,
      lab: r.lab,
    };
  });
}
