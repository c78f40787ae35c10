import { factor } from '../protocol/index.js';
import type { EdgeConfig, HjFlag } from './config.js';
import { periodFlag, sampleFlag } from './validity.js';
import type { PeriodKind, StationKind } from './validity.js';
import { combineCycles, cycleMinuteStat, withCycleAmounts } from './cycles.js';

/**
 * HJ 212 data sets as pure functions of their inputs: readings → one-minute statistics → minute
 * (MinInterval), hour and day statistics, with emission amounts (Cou), converted concentrations (Zs)
 * and flags by HJ 212-2017 appendix D and the notes to tables C.16-C.18. Each rule, its clause and a
 * worked example are in docs/statistics.md.
 *
 * The one-minute statistic is the time slice of appendix D (D.1.1.1, D.1.2.1): its concentration is the
 * mean of the minute's valid readings (eq. 15, eq. 23) and its volume the minute's mean flow × 60 s.
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
  /** Emission amount of the valid sub-periods: appendix B's amount unit (or the factor's couUnit); m3 for flow. */
  cou?: number;
  /** Water pollutants: m3 discharged during the sub-periods `cou` covers, the D of C = G / D (D.1.2.3). */
  volume?: number;
  zsMin?: number;
  zsAvg?: number;
  zsMax?: number;
  /** Converted values were due but no valid O2 of the period exists: 2017 omits them, 2025 sends 9999.99. */
  zsUnavailable?: true;
  flag: HjFlag;
  /** A non-continuous analyzer's factor: the period holds its cycle values (edge/cycles.ts). */
  cyclic?: boolean;
  /** SampleTime of the (latest) cycle value, epoch ms. */
  sampleTime?: number;
  /** Valid (N) sub-periods, or valid samples for a one-minute statistic. */
  valid: number;
  count: number;
}

export type PeriodStats = Record<string, FactorStat>;

export const AMOUNT_UNITS = ['kg', 'g', 'mg'] as const;
export type AmountUnit = (typeof AMOUNT_UNITS)[number];

/** Per-factor options of the statistics (devices[].factors[] in the config). */
export interface FactorRule {
  /** false: no converted (Zs) values for this factor (e.g. NMHC where its limit is on the measured value). */
  converted?: boolean;
  /** Unit of Cou where a platform wants other than appendix B's amount unit (metals in g). */
  couUnit?: AmountUnit;
}

export type Station = EdgeConfig['station'] & { factorRules?: Readonly<Record<string, FactorRule>> };

/** The station with the per-factor options of its devices. */
export function statisticsStation(config: Pick<EdgeConfig, 'station' | 'devices'>): Station {
  const rules: Record<string, FactorRule> = {};
  for (const f of config.devices.flatMap((d) => d.factors)) {
    const rule: FactorRule = {
      ...(f.converted === false && { converted: false }),
      ...(f.couUnit !== undefined && { couUnit: f.couUnit }),
    };
    if (Object.keys(rule).length > 0) rules[f.code] = rule;
  }
  return { ...config.station, factorRules: rules };
}

const FLOW_TO_M3_PER_S = { 'L/s': 1e-3, 'm3/s': 1, 'm3/h': 1 / 3600 } as const;

/** Grams in one m3 at a concentration of 1 in this unit (appendix B concentration units). */
export const GRAMS_PER_M3: Readonly<Record<string, number>> = {
  'mg/L': 1,
  'μg/L': 1e-3,
  'ng/L': 1e-6,
  'mg/m3': 1e-3,
  'μg/m3': 1e-6,
  'ng/m3': 1e-9,
};
const GRAMS: Record<AmountUnit, number> = { kg: 1e3, g: 1, mg: 1e-3 };

/**
 * Cou per (concentration unit × m3) for a factor with an emission amount, undefined for the others:
 * mg/L × m3 = g, so kg is 1e-3 (D.1.2.1 eq. 8); mg/m3 × m3 = mg, so kg is 1e-6 (D.2.5 eq. 33);
 * μg/L × m3 = mg, so g is 1e-3 (appendix B: mercury, cadmium... in g).
 */
export function amountFactor(code: string, station: Station): number | undefined {
  const def = factor(code);
  const unit = (station.factorRules?.[code]?.couUnit ?? def?.amountUnit) as AmountUnit | undefined;
  const perM3 = def?.unit === undefined ? undefined : GRAMS_PER_M3[def.unit];
  if (unit === undefined || !(unit in GRAMS) || perM3 === undefined) return undefined;
  return perM3 / GRAMS[unit];
}

/** A factor whose converted values are due: gas, reference O2 set, a mass concentration, not exempt. */
export function isConverted(code: string, station: Station): boolean {
  if (station.kind !== 'gas' || station.referenceO2 === undefined || code === station.o2Code) return false;
  if (station.factorRules?.[code]?.converted === false) return false;
  const unit = factor(code)?.unit;
  return unit === 'mg/m3' || unit === 'μg/m3' || unit === 'ng/m3';
}

function meanMinMax(values: readonly number[]): Pick<FactorStat, 'min' | 'avg' | 'max'> {
  if (values.length === 0) return {};
  return { min: Math.min(...values), avg: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values) };
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/**
 * One factor over one minute from its samples. Its values are those of the valid samples (eq. 15,
 * eq. 23: n valid readings) when there are any; otherwise of every measured one, so a maintenance
 * minute still shows what the analyzer read.
 */
export function minuteStat(samples: readonly Sample[], kind: StationKind = 'gas'): FactorStat {
  const measured = samples.filter((s) => Number.isFinite(s.value));
  const valid = measured.filter((s) => s.flag === 'N');
  const values = (valid.length > 0 ? valid : measured).map((s) => s.value);
  return {
    ...meanMinMax(values),
    flag: sampleFlag(
      kind,
      samples.map((s) => s.flag),
    ),
    valid: valid.length,
    count: samples.length,
  };
}

/**
 * Water, flow-weighted mean C = G / D (D.1.2.3 eqs. 12-14) over sub-periods carrying their volume D_i:
 * Σ C_i D_i / Σ D_i, which is Σ G_i / Σ D_i since G_i = C_i D_i k. Computed about the first C so that
 * equal concentrations give that concentration exactly, free of rounding noise.
 */
function weightedMean(children: readonly FactorStat[]): number {
  const base = children[0]!.avg as number;
  const d = sum(children.map((c) => c.volume as number));
  return base + sum(children.map((c) => ((c.avg as number) - base) * (c.volume as number))) / d;
}

/**
 * The values of a period from its sub-periods: those of the valid (N) sub-periods, as appendix D
 * counts only valid ones (eqs. 2-4, 9-11, 16-17, 24-25); with none valid, those of every measured one
 * (flagged as such). Cou sums the valid sub-periods only (D.1.2.2, D.2.4 eq. 32, D.2.5 eq. 34). A water
 * pollutant's Avg is flow-weighted over the same sub-periods as its Cou, so Avg × their volume = Cou.
 */
export function combineStats(
  children: readonly FactorStat[],
  rule: { kind: StationKind; period: PeriodKind; expected: number },
): FactorStat {
  const valid = children.filter((c) => c.flag === 'N' && c.avg !== undefined);
  const used = valid.length > 0 ? valid : children.filter((c) => c.avg !== undefined);
  const cous = valid.map((c) => c.cou).filter((c): c is number => c !== undefined);
  const weighted = valid.filter((c) => c.volume !== undefined && c.volume > 0);
  const volumes = weighted.map((c) => c.volume as number);
  return {
    ...(used.length > 0 && {
      min: Math.min(...used.map((c) => c.min ?? (c.avg as number))),
      // Weighted only when every valid sub-period has its volume: one without a valid flow has no D,
      // and dropping its concentration would misstate the period, so the mean is then arithmetic (D.1.3).
      avg:
        weighted.length > 0 && weighted.length === used.length
          ? weightedMean(weighted)
          : sum(used.map((c) => c.avg as number)) / used.length,
      max: Math.max(...used.map((c) => c.max ?? (c.avg as number))),
    }),
    ...(cous.length > 0 && { cou: sum(cous) }),
    ...(volumes.length > 0 && { volume: sum(volumes) }),
    flag: periodFlag(
      rule.kind,
      rule.period,
      children.map((c) => c.flag),
      rule.expected,
    ),
    valid: valid.length,
    count: children.length,
  };
}

/**
 * Emission amounts of one minute (the time slice of D.1.1.1, D.1.2.1): the flow's volume D = Q × T,
 * and for each pollutant G = D × C × k, only where the flow and the pollutant are both valid (an
 * invalid minute carries no amount; D.1.2.2 sums valid slices only). The pollutant also keeps D, the
 * denominator of its flow-weighted mean.
 */
export function withAmounts(stats: PeriodStats, station: Station, seconds: number): PeriodStats {
  const flow = station.flow;
  const flowStat = flow && stats[flow.code];
  if (!flow || flowStat?.avg === undefined || flowStat.flag !== 'N') return stats;
  const volume = flowStat.avg * FLOW_TO_M3_PER_S[flow.unit] * seconds;
  return Object.fromEntries(
    Object.entries(stats).map(([code, stat]) => {
      if (code === flow.code) return [code, { ...stat, cou: volume }];
      const k = amountFactor(code, station);
      if (k === undefined || stat.avg === undefined || stat.flag !== 'N') return [code, stat];
      const cou = stat.avg * volume * k;
      // Water keeps D, the weight of this minute in the flow-weighted mean; flue gas means are arithmetic.
      return [code, station.kind === 'water' ? { ...stat, cou, volume } : { ...stat, cou }];
    }),
  );
}

/**
 * C_zs = C × (21 − O2_ref) / (21 − O2) (D.2.3 eq. 28); undefined where it cannot be computed (no O2, O2 ≥ 21).
 */
export function converted(value: number | undefined, o2: number | undefined, referenceO2: number): number | undefined {
  if (value === undefined || o2 === undefined || !Number.isFinite(o2) || o2 >= 21) return undefined;
  return (value * (21 - referenceO2)) / (21 - o2);
}

function withoutZs(stat: FactorStat): FactorStat {
  const { zsMin: _min, zsAvg: _avg, zsMax: _max, zsUnavailable: _u, ...rest } = stat;
  return rest;
}

/** A stat with converted values, or marked as lacking them when its value is there but no valid O2 is. */
function zsOrUnavailable(stat: FactorStat, zs: Pick<FactorStat, 'zsMin' | 'zsAvg' | 'zsMax'> | undefined): FactorStat {
  const base = withoutZs(stat);
  if (zs && zs.zsAvg !== undefined) return { ...base, ...zs };
  return stat.avg === undefined ? base : { ...base, zsUnavailable: true };
}

/**
 * Converted values of one minute or of a real-time record, from the O2 of the same instant: only when
 * that O2 is valid (N) and below 21 %. Within one minute the O2 is its one-minute mean (eq. 23), so
 * ZsMin and ZsMax are the minute's extremes converted with it.
 */
export function withConverted(stats: PeriodStats, station: Station): PeriodStats {
  const ref = station.referenceO2;
  if (station.kind !== 'gas' || ref === undefined) return stats;
  const o2 = stats[station.o2Code];
  const o2Value = o2?.flag === 'N' ? o2.avg : undefined;
  return Object.fromEntries(
    Object.entries(stats).map(([code, stat]) => {
      if (!isConverted(code, station)) return [code, stat];
      const zs = {
        zsMin: converted(stat.min ?? stat.avg, o2Value, ref),
        zsAvg: converted(stat.avg, o2Value, ref),
        zsMax: converted(stat.max ?? stat.avg, o2Value, ref),
      };
      return [code, zsOrUnavailable(stat, zs)];
    }),
  );
}

/**
 * Converted values of a period from its sub-periods, only when the period's O2 is valid (N). They come
 * from the sub-periods where the pollutant and the O2 are both valid: ZsMin and ZsMax are the extremes
 * of their converted values; ZsAvg is eq. 28 applied to the means of C and O2 over those sub-periods
 * (appendix D builds the hour from the minute means of each factor, eq. 24 and its note for O2, then
 * converts), i.e. Σ C_i / Σ (21 − O2_i) × (21 − O2_ref). It lies between ZsMin and ZsMax.
 */
function periodConverted(
  code: string,
  children: readonly PeriodStats[],
  period: PeriodStats,
  station: Station,
): Pick<FactorStat, 'zsMin' | 'zsAvg' | 'zsMax'> | undefined {
  const ref = station.referenceO2 as number;
  if (period[station.o2Code]?.flag !== 'N') return undefined;
  const pairs = children.flatMap((child) => {
    const c = child[code];
    const o2 = child[station.o2Code];
    if (c?.flag !== 'N' || o2?.flag !== 'N' || c.avg === undefined || o2.avg === undefined || o2.avg >= 21) return [];
    if (c.zsMin === undefined || c.zsMax === undefined) return [];
    return [{ c: c.avg, o2: o2.avg, zsMin: c.zsMin, zsMax: c.zsMax }];
  });
  if (pairs.length === 0) return undefined;
  return {
    zsMin: Math.min(...pairs.map((p) => p.zsMin)),
    zsAvg: (sum(pairs.map((p) => p.c)) * (21 - ref)) / sum(pairs.map((p) => 21 - p.o2)),
    zsMax: Math.max(...pairs.map((p) => p.zsMax)),
  };
}

/** Groups per-factor statistics of several children by factor. */
function byFactor(children: readonly PeriodStats[]): Map<string, FactorStat[]> {
  const out = new Map<string, FactorStat[]>();
  for (const child of children) {
    for (const [code, stat] of Object.entries(child)) out.set(code, [...(out.get(code) ?? []), stat]);
  }
  return out;
}

/** One minute of every factor, with its amounts and converted values. */
export function minuteStats(samples: ReadonlyMap<string, readonly Sample[]>, station: Station): PeriodStats {
  const stats = Object.fromEntries(
    [...samples].map(([code, list]) => [
      code,
      list.some((s) => s.cyclic) ? cycleMinuteStat(list) : minuteStat(list, station.kind),
    ]),
  );
  return withConverted(withAmounts(stats, station, 60), station);
}

/** Seconds of a period of `expected` children. */
const CHILD_SECONDS: Record<PeriodKind, number> = { minute: 60, hour: 60, day: 3600 };

/**
 * Flue gas: the amount of an hour is G = C × Q × 1e-6 from the hour's mean concentration and flow
 * (D.2.5 eq. 33, D.2.4 eqs. 30-31), and the same for a MinInterval period; a day sums its valid hours
 * (eqs. 32, 34), as combineStats does. Both means must come from valid minutes: a concentration or a
 * flow without any valid minute (what the analyzer read during a calibration) gives no amount.
 */
function gasAmounts(stats: PeriodStats, station: Station, seconds: number): PeriodStats {
  const flow = station.flow;
  const flowStat = flow && stats[flow.code];
  const flowAvg = flowStat && flowStat.valid > 0 ? flowStat.avg : undefined;
  const volume = flow && flowAvg !== undefined ? flowAvg * FLOW_TO_M3_PER_S[flow.unit] * seconds : undefined;
  return Object.fromEntries(
    Object.entries(stats).map(([code, stat]) => {
      const { cou: _cou, volume: _volume, ...rest } = stat;
      if (volume === undefined) return [code, rest];
      if (code === flow?.code) return [code, { ...rest, cou: volume }];
      const k = amountFactor(code, station);
      if (k === undefined || stat.avg === undefined || stat.valid === 0) return [code, rest];
      return [code, { ...rest, cou: stat.avg * volume * k }];
    }),
  );
}

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
  let stats: PeriodStats = Object.fromEntries(
    [...byFactor(children)].map(([code, list]) => {
      if (list.some((c) => c.cyclic)) return [code, combineCycles(list, kind, expected)];
      const combined = combineStats(list, { kind: station.kind, period: kind, expected });
      return [code, { ...withoutZs(combined), count: expected }];
    }),
  );
  if (station.kind === 'gas' && kind !== 'day') stats = gasAmounts(stats, station, expected * CHILD_SECONDS[kind]);
  stats = withCycleAmounts(stats, station, kind);
  if (station.kind !== 'gas' || station.referenceO2 === undefined) return stats;
  return Object.fromEntries(
    Object.entries(stats).map(([code, stat]) => [
      code,
      isConverted(code, station) ? zsOrUnavailable(stat, periodConverted(code, children, stats, station)) : stat,
    ]),
  );
}

/** A real-time record: the latest reading of each factor, with Zs from the latest O2 when it is valid. */
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
