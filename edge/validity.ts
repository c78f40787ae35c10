import type { HjFlag } from './config.js';

/**
 * The flag of a period from the flags of its sub-periods, by the notes to HJ 212-2017 tables C.16-C.18,
 * which keep water and flue gas apart:
 * - water: one abnormal sub-period makes the period abnormal;
 * - flue gas: N with at least 75 % normal sub-periods, otherwise "instrument fault" (D). A day needs
 *   20 valid hours (appendix D eq. 25, HJ 75-2017), stricter than 75 % of 24 (18): the stricter wins.
 * A sub-period that never came counts as B (no data from the analyzer). See docs/statistics.md.
 */

export type StationKind = 'water' | 'gas';
export type PeriodKind = 'minute' | 'hour' | 'day';

/** Flue gas: share of normal sub-periods a period needs to be N (notes to C.16-C.18; HJ 75-2017). */
export const VALID_SHARE = 0.75;
/** Flue gas: valid hours a day needs (HJ 212-2017 D.2.2 eq. 25, m ≥ 20; HJ 75-2017). */
export const VALID_HOURS_PER_DAY = 20;

/** Which flag wins a tie between equally frequent abnormal flags: the one that says most about why. */
const PRECEDENCE: readonly HjFlag[] = ['F', 'D', 'B', 'T', 'C', 'M', 'S'];

/** The most frequent non-N flag (ties broken by PRECEDENCE); B when there is none. */
export function dominantInvalidFlag(flags: readonly HjFlag[]): HjFlag {
  const counts = new Map<HjFlag, number>();
  for (const f of flags) if (f !== 'N') counts.set(f, (counts.get(f) ?? 0) + 1);
  let best: HjFlag = 'B';
  let bestCount = 0;
  for (const f of PRECEDENCE) {
    const n = counts.get(f) ?? 0;
    if (n > bestCount) [best, bestCount] = [f, n];
  }
  return best;
}

/** Normal sub-periods a flue-gas period of `expected` sub-periods needs. */
export function gasMinValid(period: PeriodKind, expected: number): number {
  return period === 'day' ? Math.min(VALID_HOURS_PER_DAY, expected) : Math.ceil(VALID_SHARE * expected);
}

/**
 * The flag of a period of `expected` sub-periods whose present ones carry `flags`.
 * Water: N only when every sub-period came and is N; otherwise the most frequent abnormal flag (C.17
 * says "abnormal" without a letter, so the letter the sub-periods carry is kept: M for maintenance,
 * C for calibration, F for a stopped source).
 * Flue gas: N with enough normal sub-periods; otherwise D as C.17 says, or F when the source was mostly
 * stopped (a stop is not an instrument fault, and the rates leave F hours out).
 */
export function periodFlag(kind: StationKind, period: PeriodKind, flags: readonly HjFlag[], expected: number): HjFlag {
  const missing = Math.max(0, expected - flags.length);
  const all = [...flags, ...Array.from({ length: missing }, (): HjFlag => 'B')];
  const valid = flags.filter((f) => f === 'N').length;
  if (kind === 'water') return valid === all.length && valid > 0 ? 'N' : dominantInvalidFlag(all);
  if (valid > 0 && valid >= gasMinValid(period, expected)) return 'N';
  return dominantInvalidFlag(all) === 'F' ? 'F' : 'D';
}

/**
 * The flag of one minute from its real-time samples (an internal building block; reported periods take
 * their flag from periodFlag). Water: one abnormal sample makes it abnormal (note to C.16); flue gas:
 * N with at least 75 % normal samples.
 */
export function sampleFlag(kind: StationKind, flags: readonly HjFlag[]): HjFlag {
  const valid = flags.filter((f) => f === 'N').length;
  const isValid = kind === 'water' ? valid === flags.length : valid >= VALID_SHARE * flags.length;
  return isValid && valid > 0 ? 'N' : dominantInvalidFlag(flags);
}
