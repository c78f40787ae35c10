import { O2_CODE as O2 } from '../../protocol/codes/factors.js';
import { isValidFlag } from '../../protocol/index.js';
import type { Station } from '../registry.js';
import {
  headlineField,
  headlineValue,
  isMeasureKind,
  type Kind,
  type MeasureKind,
  type Point,
} from '../store/types.js';

/** HJ 212-2025: sent where a converted value cannot be computed; never a concentration. */
const NOT_COMPUTABLE = 9999.99;

export type AlarmType =
  | 'exceedance'
  | 'warning'
  | 'negative'
  | 'zero'
  | 'constant'
  | 'offline'
  | 'missing-hour'
  /** Logins of one MN (or from one address) locked out after repeated wrong passwords (cloud/guessing.ts). */
  | 'password-guessing'
  /** 治污设施未运行: production runs while the treatment facility draws no power (cloud/rules/treatment.ts). */
  | 'treatment-stopped'
  /**
   * 动态管控: an analyzer's reported id, range, slope or intercept differs from its register
   * (cloud/instruments.ts).
   */
  | 'instrument-mismatch';
export const ALARM_TYPES: readonly AlarmType[] = [
  'exceedance',
  'warning',
  'negative',
  'zero',
  'constant',
  'offline',
  'missing-hour',
  'password-guessing',
  'treatment-stopped',
  'instrument-mismatch',
];

/** What one rule concludes about one factor at one time: the condition holds (open) or not (close). */
export interface Condition {
  type: AlarmType;
  mn: string;
  factor: string;
  kind: Point['kind'];
  time: number;
  active: boolean;
  value?: number;
  limit?: number;
  /** (C - limit) / limit for an upper limit, (limit - C) / limit for a lower one. */
  multiple?: number;
  detail?: string;
}

/** A flag-less value counts as valid: many loggers leave Flag out of uploads when the analyzer is fine. */
export const isValid = (p: Point): boolean => p.flag === undefined || isValidFlag(p.flag);

/**
 * The value limits are judged on: for a gas outlet with a reference O2, the converted value the
 * logger sent (ZsRtd/ZsAvg), else C x (21 - O2ref) / (21 - O2) from the O2 of the same upload;
 * undefined when it cannot be known (no value, 9999.99, O2 >= 21).
 */
export function judgedValue(
  station: Pick<Station, 'type' | 'o2Ref'>,
  p: Point,
  o2: Point | undefined,
): number | undefined {
  const measured = headlineValue(p);
  if (station.type !== 'gas' || station.o2Ref === undefined || p.factor === O2)
    return measured === NOT_COMPUTABLE ? undefined : measured;
  const zs = p.values[`Zs${headlineField(p.kind)}`];
  if (zs !== undefined) return zs === NOT_COMPUTABLE ? undefined : zs;
  const o2v = o2 && isValid(o2) ? headlineValue(o2) : undefined;
  if (measured === undefined || o2v === undefined || o2v >= 21 || measured === NOT_COMPUTABLE) return undefined;
  return (measured * (21 - station.o2Ref)) / (21 - o2v);
}

export type FactorRules = Station['factors'][string];
export interface Limit {
  upper?: number;
  lower?: number;
}

/** The limit values of one data kind are compared with: the kind's own, else the factor's. */
export function limitFor(f: FactorRules, kind: MeasureKind): Limit {
  const own = f.limits?.[kind];
  const l: Limit = {};
  const upper = own ? own.upper : f.upper;
  const lower = own ? own.lower : f.lower;
  if (upper !== undefined) l.upper = upper;
  if (lower !== undefined) l.lower = lower;
  return l;
}

/** judgedKinds of each factor's rules: asked twice for every point, and a registry's rules do not change in place. */
const judgedKindsOf = new WeakMap<FactorRules, ReadonlySet<Kind>>();

/** The data kinds 超标 is judged on: the basis, and each hour or day kind given a limit of its own. */
export function judgedKinds(f: FactorRules): ReadonlySet<Kind> {
  let kinds = judgedKindsOf.get(f);
  if (kinds !== undefined) return kinds;
  const set = new Set<Kind>([f.basis]);
  for (const k of ['hour', 'day'] as const) if (f.limits?.[k]) set.add(k);
  judgedKindsOf.set(f, (kinds = set));
  return kinds;
}

/** Finer data (real-time, minute) warns ahead of the basis it is averaged into. */
const FINENESS: Record<MeasureKind, number> = { rtd: 0, minute: 1, hour: 2, day: 3 };

const hasLimit = (l: Limit | undefined): boolean => l !== undefined && (l.upper !== undefined || l.lower !== undefined);

/** Counted in the rates: as configured, else whether the factor has any limit. */
export const isAssessed = (f: FactorRules): boolean =>
  f.assessed ?? (hasLimit(f) || Object.values(f.limits ?? {}).some(hasLimit));

/** How one value stands against its factor's limit, as the API, the dashboard, the report and the alarms show it. */
export interface Judgement {
  /** The judged value: converted for gas (see judgedValue). */
  value: number;
  state: 'exceedance' | 'warning' | 'normal';
  /** The limit crossed or approached (upper unless the lower one is crossed). */
  limit?: number;
  multiple?: number;
  /** The 预警 threshold where it is below the limit (warnAt x upper). */
  threshold?: number;
}

/**
 * Judges one point: undefined when there is nothing to judge (no limit for its kind, an invalid flag,
 * no value, 9999.99, no valid O2). On a kind 超标 is judged on, a value above the upper limit (or below
 * the lower) is an exceedance, one above warnAt x upper a warning; on finer kinds (real-time, minute,
 * and hour where the basis is the day) a value past warnAt x upper or below the lower limit is a
 * warning, never an exceedance; coarser kinds without a limit of their own are not judged.
 */
export function judgePoint(
  station: Pick<Station, 'type' | 'o2Ref' | 'factors'>,
  p: Point,
  o2: Point | undefined,
): Judgement | undefined {
  const f = station.factors[p.factor];
  // The HJ 212-2025 record kinds (standard checks, noise runs...) are no emissions: never judged.
  if (!f || !isValid(p) || !isMeasureKind(p.kind)) return undefined;
  // Most factors have no limit at all: known without building the limit or the judged kinds.
  const own = f.limits?.[p.kind];
  if (own ? own.upper === undefined && own.lower === undefined : f.upper === undefined && f.lower === undefined)
    return undefined;
  const judged = judgedKinds(f).has(p.kind);
  // Data coarser than the basis and without a limit of its own (day data on an hour basis) is not judged.
  if (!judged && FINENESS[p.kind] >= FINENESS[f.basis]) return undefined;
  // The limit as limitFor gives it, without building it: every judged value passes here.
  const upper = own ? own.upper : f.upper;
  const lower = own ? own.lower : f.lower;
  const value = judgedValue(station, p, o2);
  if (value === undefined) return undefined;
  const threshold = upper !== undefined ? f.warnAt * upper : undefined;
  // The 预警 threshold is shown where it lies below the upper limit, and only with the upper limit.
  const shown = threshold !== undefined && f.warnAt < 1;
  let j: Judgement;
  if (upper !== undefined && value > upper)
    j = { value, limit: upper, multiple: (value - upper) / upper, state: judged ? 'exceedance' : 'warning' };
  else if (lower !== undefined && value < lower)
    return { value, limit: lower, multiple: (lower - value) / lower, state: judged ? 'exceedance' : 'warning' };
  else if (upper !== undefined && threshold !== undefined && value > threshold)
    j = { value, limit: upper, multiple: (value - upper) / upper, state: 'warning' };
  else if (upper !== undefined) j = { value, limit: upper, multiple: (value - upper) / upper, state: 'normal' };
  else return { value, limit: lower!, multiple: (lower! - value) / lower!, state: 'normal' };
  if (shown) j.threshold = threshold;
  return j;
}

/** One condition of a judged point (object literals, not spreads: built for every judged value). */
function limitCondition(p: Point, j: Judgement, f: FactorRules, active: boolean, type: AlarmType): Condition {
  const c: Condition = { mn: p.mn, factor: p.factor, kind: p.kind, time: p.time, value: j.value, type, active };
  if (!active) return c;
  if (j.limit !== undefined) c.limit = j.limit;
  if (j.multiple !== undefined) c.multiple = j.multiple;
  if (type === 'warning' && j.threshold !== undefined && j.value <= (j.limit ?? Infinity))
    c.detail = `above the 预警 threshold ${+j.threshold.toFixed(6)} (${Math.round(f.warnAt * 100)} % of ${j.limit})`;
  return c;
}

/** The exceedance and 预警 conditions of one point; none when it is not judged (see judgePoint). */
export function limitConditions(
  station: Pick<Station, 'type' | 'o2Ref' | 'factors'>,
  p: Point,
  o2: Point | undefined,
): Condition[] {
  const j = judgePoint(station, p, o2);
  const f = station.factors[p.factor];
  if (!j || !f) return [];
  const judged = judgedKinds(f).has(p.kind);
  const out: Condition[] = [];
  if (judged) out.push(limitCondition(p, j, f, j.state === 'exceedance', 'exceedance'));
  // On a judged kind the warning band exists only below the limit, when warnAt < 1.
  if (!judged || j.threshold !== undefined) out.push(limitCondition(p, j, f, j.state === 'warning', 'warning'));
  return out;
}

/**
 * Each point's judgement, with the O2 of the same kind and time (the same upload) for conversion:
 * what the data API, the dashboard and the report show beside the raw values.
 */
export function judgeAll(
  station: Pick<Station, 'type' | 'o2Ref' | 'factors'>,
  points: readonly Point[],
): (Judgement | undefined)[] {
  const o2s = points.filter((p) => p.factor === O2);
  // Most uploads (every water outlet's) carry no O2: nothing to pair.
  if (o2s.length === 0) return points.map((p) => judgePoint(station, p, undefined));
  const o2 = new Map(o2s.map((p) => [`${p.kind}|${p.time}`, p]));
  return points.map((p) => judgePoint(station, p, o2.get(`${p.kind}|${p.time}`)));
}

/** Exceedance of the factor's limits, on valid data of a judged kind only; undefined when there is nothing to judge. */
export function exceedance(
  station: Pick<Station, 'type' | 'o2Ref' | 'factors'>,
  p: Point,
  o2: Point | undefined,
): Condition | undefined {
  return limitConditions(station, p, o2).find((c) => c.type === 'exceedance');
}

/** A run of equal values over consecutive periods of one factor and kind. */
export interface Run {
  value: number;
  count: number;
  /** Data time of the latest period counted. */
  time: number;
}

/** The run after a value at `time`; a resent or late period does not lengthen it. */
export function nextRun(run: Run | undefined, value: number, time: number): Run {
  if (run && time <= run.time) return run;
  return run && run.value === value ? { value, count: run.count + 1, time } : { value, count: 1, time };
}

/** Negative, zero and constant-value conditions of one valid value, as the factor's thresholds ask. */
export function valueConditions(station: Pick<Station, 'factors'>, p: Point, run: Run | undefined): Condition[] {
  const f = station.factors[p.factor];
  const value = headlineValue(p);
  if (!f || value === undefined || value === NOT_COMPUTABLE || !isValid(p)) return [];
  const { mn, factor, kind, time } = p;
  const out: Condition[] = [];
  // Object literals rather than spreads of a shared base: every valid value passes here.
  if (f.negativeAlarm) out.push({ mn, factor, kind, time, value, type: 'negative', active: value < 0 });
  if (f.zeroAlarm) out.push({ mn, factor, kind, time, value, type: 'zero', active: value === 0 });
  if (f.constantPeriods !== undefined && run !== undefined)
    out.push({ mn, factor, kind, time, value, type: 'constant', active: run.count >= f.constantPeriods });
  return out;
}

/** Every condition the points of one upload raise or clear. */
export function judge(station: Station, points: readonly Point[], runs: (p: Point) => Run | undefined): Condition[] {
  const o2 = points.find((p) => p.factor === O2);
  const out: Condition[] = [];
  for (const p of points) {
    for (const c of limitConditions(station, p, o2)) out.push(c);
    for (const c of valueConditions(station, p, runs(p))) out.push(c);
  }
  return out;
}
