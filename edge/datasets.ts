import { factor } from '../protocol/index.js';
import type { EdgeConfig, HjFlag } from './config.js';
import { combineCycles, cycleMinuteStat, withCycleAmounts } from './cycles.js';

/**
 * HJ 212 data sets as pure functions of their inputs: readings → one-minute statistics → minute
 * (MinInterval), hour and day statistics, with emission amounts (Cou), converted concentrations (Zs)
 * and flags by the validity rules of HJ 75/76-2017 and HJ 356-2019 (DOMAIN.md).
 */

export interface Sample {
  at: number;
  value: number;
  flag: HjFlag;
  /** A cycle value of a non-continuous analyzer (edge/cycles.ts), with its sample time. */
  cyclic?: boolean;
  sampleTime?: number;
}

/** Statistics of one factor over one period; value fields are absent when nothing was measured. */
export interface FactorStat {
  min?: number;
  avg?: number;
  max?: number;
  /** Emission amount over the period: kg for pollutants, m3 for the flow factor. */
  cou?: number;
  zsMin?: number;
  zsAvg?: number;
  zsMax?: number;
  flag: HjFlag;
  /** A non-continuous analyzer's factor: the period holds its cycle values (edge/cycles.ts). */
  cyclic?: boolean;
  /** SampleTime of the (latest) cycle value, epoch ms. */
  sampleTime?: number;
  /** Valid (N) one-minute children, or valid samples for a one-minute period. */
  valid: number;
  count: number;
}

export type PeriodStats = Record<string, FactorStat>;

export type Station = EdgeConfig['station'];

/** Share of valid children a period needs to be N: 45 of 60 minutes for an hour (HJ 76-2017 app. B). */
export const VALID_SHARE = 45 / 60;
/** A day needs 20 valid hours (HJ 356-2019). */
export const VALID_HOURS_PER_DAY = 20;

// Seconds per unit of flow, to get m3 from a flow rate × seconds.
const FLOW_TO_M3_PER_S = { 'L/s': 1e-3, 'm3/s': 1, 'm3/h': 1 / 3600 } as const;

/** The flag of an invalid period: the most frequent non-N flag among its children (B when nothing came). */
function dominantInvalidFlag(flags: readonly HjFlag[]): HjFlag {
  const counts = new Map<HjFlag, number>();
  for (const f of flags) if (f !== 'N') counts.set(f, (counts.get(f) ?? 0) + 1);
  let best: HjFlag = 'B';
  let bestCount = 0;
  for (const [f, n] of counts) {
    if (n > bestCount) [best, bestCount] = [f, n];
  }
  return best;
}

function meanMinMax(values: readonly number[]): Pick<FactorStat, 'min' | 'avg' | 'max'> {
  if (values.length === 0) return {};
  return { min: Math.min(...values), avg: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values) };
}

/**
 * One factor over one minute from its samples. Valid values are averaged when the minute is valid;
 * otherwise every measured value is, so a maintenance minute still shows what the analyzer read.
 */
export function minuteStat(samples: readonly Sample[]): FactorStat {
  const measured = samples.filter((s) => Number.isFinite(s.value));
  const valid = measured.filter((s) => s.flag === 'N');
  const isValid = samples.length > 0 && valid.length >= VALID_SHARE * samples.length;
  const values = (isValid ? valid : measured).map((s) => s.value);
  return {
    ...meanMinMax(values),
    flag: isValid ? 'N' : dominantInvalidFlag(samples.map((s) => s.flag)),
    valid: valid.length,
    count: samples.length,
  };
}

/**
 * A period from its children (minutes of an interval or an hour, hours of a day): the mean of the
 * valid children, N only when at least `minValid` of them are. Cou adds up over every child, since
 * the outlet discharged whatever the analyzer's state.
 */
export function combineStats(children: readonly FactorStat[], minValid: number): FactorStat {
  const valid = children.filter((c) => c.flag === 'N' && c.avg !== undefined);
  const isValid = valid.length >= minValid && valid.length > 0;
  const used = isValid ? valid : children.filter((c) => c.avg !== undefined);
  const avgs = used.map((c) => c.avg as number);
  const cous = children.map((c) => c.cou).filter((c): c is number => c !== undefined);
  return {
    ...(used.length > 0 && {
      min: Math.min(...used.map((c) => c.min ?? (c.avg as number))),
      avg: avgs.reduce((a, b) => a + b, 0) / avgs.length,
      max: Math.max(...used.map((c) => c.max ?? (c.avg as number))),
    }),
    ...(cous.length > 0 && { cou: cous.reduce((a, b) => a + b, 0) }),
    flag: isValid ? 'N' : dominantInvalidFlag(children.map((c) => c.flag)),
    valid: valid.length,
    count: children.length,
  };
}

/** Emission amounts over `seconds`: volume for the flow factor, concentration × volume for pollutants. */
export function withAmounts(stats: PeriodStats, station: Station, seconds: number): PeriodStats {
  const flow = station.flow;
  const flowAvg = flow && stats[flow.code]?.avg;
  if (!flow || flowAvg === undefined) return stats;
  const volume = flowAvg * FLOW_TO_M3_PER_S[flow.unit] * seconds;
  // mg/L × m3 = g → kg is 1e-3; mg/m3 × m3 = mg → kg is 1e-6.
  const perKg = station.kind === 'water' ? 1e-3 : 1e-6;
  return Object.fromEntries(
    Object.entries(stats).map(([code, stat]) => {
      if (code === flow.code) return [code, { ...stat, cou: volume }];
      if (factor(code)?.amountUnit !== 'kg' || stat.avg === undefined) return [code, stat];
      return [code, { ...stat, cou: stat.avg * volume * perKg }];
    }),
  );
}

/** C_zs = C × (21 − O2_ref) / (21 − O2); undefined where it cannot be computed (no O2, O2 ≥ 21). */
export function converted(value: number | undefined, o2: number | undefined, referenceO2: number): number | undefined {
  if (value === undefined || o2 === undefined || !Number.isFinite(o2) || o2 >= 21) return undefined;
  return (value * (21 - referenceO2)) / (21 - o2);
}

/** Converted concentrations of the gas pollutants (mg/m3) with the period's mean O2. */
export function withConverted(stats: PeriodStats, station: Station): PeriodStats {
  const ref = station.referenceO2;
  if (station.kind !== 'gas' || ref === undefined) return stats;
  const o2 = stats[station.o2Code]?.avg;
  return Object.fromEntries(
    Object.entries(stats).map(([code, stat]) => {
      if (factor(code)?.unit !== 'mg/m3') return [code, stat];
      const zs = {
        zsMin: converted(stat.min, o2, ref),
        zsAvg: converted(stat.avg, o2, ref),
        zsMax: converted(stat.max, o2, ref),
      };
      return [code, zs.zsAvg === undefined ? stat : { ...stat, ...zs }];
    }),
  );
}

/** Groups per-factor statistics of several children by factor. */
function byFactor(children: readonly PeriodStats[]): Map<string, FactorStat[]> {
  const out = new Map<string, FactorStat[]>();
  for (const child of children) {
    for (const [code, stat] of Object.entries(child)) out.set(code, [...(out.get(code) ?? []), stat]);
  }
  return out;
}

/** One minute of every factor, with its amounts (Zs are computed per reported period). */
export function minuteStats(samples: ReadonlyMap<string, readonly Sample[]>, station: Station): PeriodStats {
  const stats = Object.fromEntries(
    [...samples].map(([code, list]) => [code, list.some((s) => s.cyclic) ? cycleMinuteStat(list) : minuteStat(list)]),
  );
  return withAmounts(stats, station, 60);
}

export type PeriodKind = 'minute' | 'hour' | 'day';

/**
 * A reported period from its children: one-minute stats for minute data (MinInterval minutes) and
 * hour data (60), hour stats for day data. `expected` is how many children the period has, present or
 * not: a minute with no reading still counts against validity.
 */
export function periodStats(
  kind: PeriodKind,
  children: readonly PeriodStats[],
  expected: number,
  station: Station,
): PeriodStats {
  const minValid = kind === 'day' ? VALID_HOURS_PER_DAY : Math.ceil(VALID_SHARE * expected);
  const stats = Object.fromEntries(
    [...byFactor(children)].map(([code, list]) => {
      if (list.some((c) => c.cyclic)) return [code, combineCycles(list, kind, expected)];
      const combined = combineStats(list, minValid);
      return [code, { ...combined, count: expected }];
    }),
  );
  return withConverted(withCycleAmounts(stats, station, kind), station);
}

/** A real-time record: the latest reading of each factor, with Zs from the latest O2. */
export function realtimeStats(latest: ReadonlyMap<string, Sample>, station: Station): PeriodStats {
  const stats: PeriodStats = {};
  for (const [code, s] of latest) {
    const value = Number.isFinite(s.value) ? s.value : undefined;
    stats[code] = {
      ...(value !== undefined && { avg: value }),
      ...(s.sampleTime !== undefined && { sampleTime: s.sampleTime }),
      flag: s.flag,
      valid: s.flag === 'N' ? 1 : 0,
      count: 1,
    };
  }
  return withConverted(stats, station);
}

/** Start of the local period containing `at` (HJ 212 periods follow the outlet's local clock). */
export function periodStart(
  at: number,
  kind: PeriodKind | 'interval',
  utcOffsetMinutes: number,
  intervalMinutes = 1,
): number {
  const offset = utcOffsetMinutes * 60_000;
  const length = { minute: 60_000, interval: intervalMinutes * 60_000, hour: 3_600_000, day: 86_400_000 }[kind];
  return Math.floor((at + offset) / length) * length - offset;
}
