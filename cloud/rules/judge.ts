import { isValidFlag } from '../../protocol/index.js';
import type { Station } from '../registry.js';
import type { Point } from '../store/types.js';

/** HJ 212-2025: sent where a converted value cannot be computed; never a concentration. */
const NOT_COMPUTABLE = 9999.99;
const O2 = 'a19001';

export type AlarmType =
  | 'exceedance'
  | 'negative'
  | 'zero'
  | 'constant'
  | 'offline'
  | 'missing-hour'
  /** Logins of one MN (or from one address) locked out after repeated wrong passwords (cloud/guessing.ts). */
  | 'password-guessing';

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
}

const field = (p: Point): string => (p.kind === 'rtd' ? 'Rtd' : 'Avg');

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
  const measured = p.values[field(p)];
  if (station.type !== 'gas' || station.o2Ref === undefined || p.factor === O2)
    return measured === NOT_COMPUTABLE ? undefined : measured;
  const zs = p.values[`Zs${field(p)}`];
  if (zs !== undefined) return zs === NOT_COMPUTABLE ? undefined : zs;
  const o2v = o2 && isValid(o2) ? o2.values[field(o2)] : undefined;
  if (measured === undefined || o2v === undefined || o2v >= 21) return undefined;
  return (measured * (21 - station.o2Ref)) / (21 - o2v);
}

/** Exceedance of the factor's limits, on valid data only; undefined when there is nothing to judge. */
export function exceedance(
  station: Pick<Station, 'type' | 'o2Ref' | 'factors'>,
  p: Point,
  o2: Point | undefined,
): Condition | undefined {
  const limits = station.factors[p.factor];
  if (!limits || (limits.upper === undefined && limits.lower === undefined) || !isValid(p)) return undefined;
  const value = judgedValue(station, p, o2);
  if (value === undefined) return undefined;
  const base = { type: 'exceedance' as const, mn: p.mn, factor: p.factor, kind: p.kind, time: p.time, value };
  if (limits.upper !== undefined && value > limits.upper)
    return { ...base, active: true, limit: limits.upper, multiple: (value - limits.upper) / limits.upper };
  if (limits.lower !== undefined && value < limits.lower)
    return { ...base, active: true, limit: limits.lower, multiple: (limits.lower - value) / limits.lower };
  return { ...base, active: false };
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
  const value = p.values[field(p)];
  if (!f || value === undefined || value === NOT_COMPUTABLE || !isValid(p)) return [];
  const base = { mn: p.mn, factor: p.factor, kind: p.kind, time: p.time, value };
  const out: Condition[] = [];
  if (f.negativeAlarm) out.push({ ...base, type: 'negative', active: value < 0 });
  if (f.zeroAlarm) out.push({ ...base, type: 'zero', active: value === 0 });
  if (f.constantPeriods !== undefined && run !== undefined)
    out.push({ ...base, type: 'constant', active: run.count >= f.constantPeriods });
  return out;
}

/** Every condition the points of one upload raise or clear. */
export function judge(station: Station, points: readonly Point[], runs: (p: Point) => Run | undefined): Condition[] {
  const o2 = points.find((p) => p.factor === O2);
  return points.flatMap((p) => {
    const e = exceedance(station, p, o2);
    return [...(e ? [e] : []), ...valueConditions(station, p, runs(p))];
  });
}
