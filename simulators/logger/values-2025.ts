import { formatHjTime, standardCheckFields, type Cp, type FactorFields } from '../../protocol/index.js';
import { standardCheckReading } from '../analyzer/control.js';
import {
  fixed,
  flagAt,
  LOCAL_OFFSET_MS,
  OUTLET_FACTORS,
  realtimeCp,
  sampleAt,
  stats,
  type FactorProfile,
  type Outlet,
  type Script,
} from './values.js';

/**
 * What the simulated logger uploads with the commands HJ 212-2025 adds (docs/protocol-2025.md, "2013, 2052,
 * 2062, 2111"): pure functions of (seed, MN, time, config), as the 2017 uploads are, so a test can recompute them.
 */

/** A noise meter (table B.3 LA, A-weighted sound level, dB): about 55 dB by day. */
export const NOISE: FactorProfile = { code: 'LA', base: 55, swing: 6, noise: 3, decimals: 1, cou: 'none' };
/** An incinerator's furnace mean temperature (a01901, °C); HJ 212-2017 table B.2 gives it N4.1. */
export const FURNACE: FactorProfile = { code: 'a01901', base: 900, swing: 25, noise: 15, decimals: 1, cou: 'none' };
/** 2111 is a 5-minute average. */
export const FURNACE_PERIOD_MS = 5 * 60_000;

/**
 * CP of a 2013 raw-data upload at instant t: the analyzers' readings (Rtd and Flag per factor of the outlet)
 * before any processing, the same readings the 2011 at that instant carries.
 */
export function rawCp(seed: number, mn: string, outlet: Outlet, t: number, script: Script = []): Cp {
  return realtimeCp(seed, mn, outlet, t, script);
}

/** Local 06:00-22:00 is day time for noise (GB 3096 昼间), the rest night time. */
export function isNoiseDay(t: number): boolean {
  const hour = Math.floor(((((t + LOCAL_OFFSET_MS) % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000);
  return hour >= 6 && hour < 22;
}

/** The equivalent continuous level (Leq) of sound levels in dB: 10 lg of the mean of 10^(L/10). */
export function leq(levels: readonly number[]): number {
  return 10 * Math.log10(levels.reduce((a, l) => a + 10 ** (l / 10), 0) / levels.length);
}

/**
 * CP of a 2052 noise single measurement over [start, start+lengthMs): six LA samples as for a minute record,
 * `Data` their Leq, `DayData` and `NightData` the Leq of the samples by day and by night (each only when the
 * run had such samples), `Flag`; DataTime is the run's start, as for 2051.
 */
export function noiseCp(seed: number, mn: string, start: number, lengthMs: number, script: Script = []): Cp {
  const { instants } = stats(seed, mn, NOISE, start, lengthMs, script);
  const levels = instants.map((t) => ({ t, l: sampleAt(seed, mn, NOISE, t, script) }));
  const day = levels.filter((s) => isNoiseDay(s.t)).map((s) => s.l);
  const night = levels.filter((s) => !isNoiseDay(s.t)).map((s) => s.l);
  const fields: FactorFields = { Data: fixed(leq(levels.map((s) => s.l)), NOISE.decimals) };
  if (day.length > 0) fields['DayData'] = fixed(leq(day), NOISE.decimals);
  if (night.length > 0) fields['NightData'] = fixed(leq(night), NOISE.decimals);
  fields['Flag'] = flagAt(script, NOISE.code, instants);
  return { params: { DataTime: formatHjTime(new Date(start)) }, factors: { [NOISE.code]: fields } };
}

/** CP of a 2111 furnace temperature 5-minute average over [start, start+5 min): Min, Avg, Max and Flag of a01901. */
export function furnaceCp(seed: number, mn: string, start: number, script: Script = []): Cp {
  const s = stats(seed, mn, FURNACE, start, FURNACE_PERIOD_MS, script);
  const d = FURNACE.decimals;
  return {
    params: { DataTime: formatHjTime(new Date(start)) },
    factors: {
      [FURNACE.code]: {
        Min: fixed(s.min, d),
        Avg: fixed(s.avg, d),
        Max: fixed(s.max, d),
        Flag: flagAt(script, FURNACE.code, s.instants),
      },
    },
  };
}

/** The logger's automatic standard check (标样核查) of one factor, read as the analyzer simulator reads one. */
export interface StandardCheckConfig {
  factor: string;
  standard: number;
  biasPercent: number;
  tolerancePercent: number;
}

/**
 * CP of a 2062 standard-check upload of a check that ended at t (DataTime): the reading
 * standard × (1 + biasPercent/100) as Check, the standard as StandardValue, Pass 1 when |biasPercent| ≤
 * tolerancePercent, with the factor's decimals (2 for a factor not of the outlet).
 */
export function standardCheckCp(outlet: Outlet, t: number, c: StandardCheckConfig): Cp {
  const r = standardCheckReading(c);
  const d = OUTLET_FACTORS[outlet].find((p) => p.code === c.factor)?.decimals ?? 2;
  return {
    params: { DataTime: formatHjTime(new Date(t)) },
    factors: {
      [c.factor]: standardCheckFields({
        check: fixed(r.measured, d),
        standard: fixed(r.standard, d),
        passed: r.passed,
      }),
    },
  };
}
