import { CHINA_UTC_OFFSET_MINUTES, formatHjTime, type Cp, type FactorFields } from '../../protocol/index.js';
import { hashSeed, mulberry32 } from '../hj212-link/prng.js';

export type Outlet = 'water' | 'gas';

/** How one factor moves: a daily swing around a base with seeded noise, and how its Cou is computed. */
export interface FactorProfile {
  code: string;
  base: number;
  swing: number;
  noise: number;
  decimals: number;
  /** flow: Cou is the volume; mass: Cou is concentration × volume in kg; none: no Cou (pH, O2). */
  cou: 'flow' | 'mass' | 'none';
}

const WATER: readonly FactorProfile[] = [
  { code: 'w01018', base: 38, swing: 8, noise: 3, decimals: 1, cou: 'mass' }, // COD mg/L
  { code: 'w21003', base: 2.4, swing: 0.6, noise: 0.3, decimals: 2, cou: 'mass' }, // NH3-N mg/L
  { code: 'w00000', base: 12, swing: 4, noise: 1, decimals: 2, cou: 'flow' }, // flow L/s
  { code: 'w01001', base: 7.3, swing: 0.3, noise: 0.1, decimals: 2, cou: 'none' }, // pH
];

const GAS: readonly FactorProfile[] = [
  { code: 'a21026', base: 22, swing: 6, noise: 3, decimals: 1, cou: 'mass' }, // SO2 mg/m3
  { code: 'a21002', base: 58, swing: 12, noise: 5, decimals: 1, cou: 'mass' }, // NOx mg/m3
  { code: 'a34013', base: 5.2, swing: 1.5, noise: 0.8, decimals: 2, cou: 'mass' }, // particulate mg/m3
  { code: 'a19001', base: 10.5, swing: 1, noise: 0.4, decimals: 2, cou: 'none' }, // O2 %
  { code: 'a00000', base: 42, swing: 8, noise: 2, decimals: 2, cou: 'flow' }, // flue gas m3/s
];

export const OUTLET_FACTORS: Record<Outlet, readonly FactorProfile[]> = { water: WATER, gas: GAS };

/** System code of the outlet (table 5): 32 water, 31 air pollution source. */
export const OUTLET_ST: Record<Outlet, string> = { water: '32', gas: '31' };

const DAY_MS = 86_400_000;
export const LOCAL_OFFSET_MS = CHINA_UTC_OFFSET_MINUTES * 60_000;

/**
 * A scripted stretch of an analyzer's life over [from, to) (epoch ms): its value held (an exceedance,
 * a spike) and/or its flag set (F stopped, D fault...), for the factors named (all when none).
 */
export interface ScriptedEvent {
  from: number;
  to: number;
  factors?: readonly string[];
  value?: number;
  flag?: string;
}
export type Script = readonly ScriptedEvent[];

const covering = (script: Script, code: string, t: number): ScriptedEvent[] =>
  script.filter((e) => e.from <= t && t < e.to && (e.factors === undefined || e.factors.includes(code)));

/** The flag of a record whose samples were taken at `instants`: the first scripted flag over any of them, else N. */
export function flagAt(script: Script, code: string, instants: readonly number[]): string {
  for (const t of instants) {
    const e = covering(script, code, t).find((x) => x.flag !== undefined);
    if (e) return e.flag!;
  }
  return 'N';
}

/**
 * One sample, a pure function of (seed, MN, factor, instant, script): history re-generated later
 * matches. A scripted value holds the sample at that value.
 */
export function sampleAt(seed: number, mn: string, p: FactorProfile, t: number, script: Script = []): number {
  const held = covering(script, p.code, t).find((e) => e.value !== undefined);
  if (held) return held.value!;
  const rng = mulberry32(hashSeed(seed, mn, p.code, t));
  const phase = (((t + LOCAL_OFFSET_MS) % DAY_MS) / DAY_MS) * 2 * Math.PI;
  const v = p.base + p.swing * Math.sin(phase) + p.noise * (rng() * 2 - 1);
  return Math.max(0, v);
}

export const fixed = (v: number, d: number): string => v.toFixed(d);

/** CP of a 2011 real-time upload at instant t. */
export function realtimeCp(seed: number, mn: string, outlet: Outlet, t: number, script: Script = []): Cp {
  const factors: Record<string, FactorFields> = {};
  for (const p of OUTLET_FACTORS[outlet])
    factors[p.code] = { Rtd: fixed(sampleAt(seed, mn, p, t, script), p.decimals), Flag: flagAt(script, p.code, [t]) };
  return { params: { DataTime: formatHjTime(new Date(t)) }, factors };
}

const SAMPLES_PER_WINDOW = 6;

export function stats(
  seed: number,
  mn: string,
  p: FactorProfile,
  start: number,
  lengthMs: number,
  script: Script,
): { min: number; avg: number; max: number; instants: number[] } {
  const step = lengthMs / SAMPLES_PER_WINDOW;
  const instants = Array.from({ length: SAMPLES_PER_WINDOW }, (_, i) => start + Math.round(i * step));
  const xs = instants.map((t) => sampleAt(seed, mn, p, t, script));
  return { min: Math.min(...xs), avg: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs), instants };
}

/** Volume in m3 over the window: water flow is L/s, flue-gas flow m3/s. */
function volume(outlet: Outlet, avgFlow: number, lengthMs: number): number {
  const seconds = lengthMs / 1000;
  return outlet === 'water' ? (avgFlow * seconds) / 1000 : avgFlow * seconds;
}

/**
 * CP of a 2051/2061/2031 record for the window [start, start+lengthMs): Min/Avg/Max/Cou of six
 * samples at start + i x lengthMs / 6, and Flag (a scripted flag over any sample, else N).
 */
export function aggregateCp(
  seed: number,
  mn: string,
  outlet: Outlet,
  start: number,
  lengthMs: number,
  script: Script = [],
): Cp {
  const profiles = OUTLET_FACTORS[outlet];
  const flowProfile = profiles.find((p) => p.cou === 'flow')!;
  const m3 = volume(outlet, stats(seed, mn, flowProfile, start, lengthMs, script).avg, lengthMs);
  // Emission amount in kg: water mg/L × m3 × 1e-3, flue gas mg/m3 × m3 × 1e-6 (HJ 212-2017 D.1.2, D.2).
  const kgFactor = outlet === 'water' ? 1e-3 : 1e-6;
  const factors: Record<string, FactorFields> = {};
  for (const p of profiles) {
    const s = stats(seed, mn, p, start, lengthMs, script);
    const fields: FactorFields = {};
    if (p.cou === 'flow') fields['Cou'] = fixed(m3, 2);
    if (p.cou === 'mass') fields['Cou'] = fixed(s.avg * m3 * kgFactor, 4);
    fields['Min'] = fixed(s.min, p.decimals);
    fields['Avg'] = fixed(s.avg, p.decimals);
    fields['Max'] = fixed(s.max, p.decimals);
    fields['Flag'] = flagAt(script, p.code, s.instants);
    factors[p.code] = fields;
  }
  return { params: { DataTime: formatHjTime(new Date(start)) }, factors };
}

export type PeriodCn = '2051' | '2061' | '2031';

/** Length of one record of a history CN; minute records follow the logger's MinInterval. */
export function periodMs(cn: PeriodCn, minIntervalMin: number): number {
  return cn === '2051' ? minIntervalMin * 60_000 : cn === '2061' ? 3_600_000 : DAY_MS;
}

/** The first period boundary strictly after t, aligned in local time (days start at local midnight). */
export function nextBoundary(t: number, lengthMs: number): number {
  const local = t + LOCAL_OFFSET_MS;
  return (Math.floor(local / lengthMs) + 1) * lengthMs - LOCAL_OFFSET_MS;
}

/** Start times of the whole periods that begin in [begin, end] and are over by `now`, at most `limit`. */
export function periodStarts(begin: number, end: number, lengthMs: number, now: number, limit: number): number[] {
  const out: number[] = [];
  let s = nextBoundary(begin - 1, lengthMs);
  while (s <= end && s + lengthMs <= now && out.length < limit) {
    out.push(s);
    s += lengthMs;
  }
  return out;
}
