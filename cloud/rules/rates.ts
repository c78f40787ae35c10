import type { Shutdown } from '../registry.js';
import type { Point } from '../store/types.js';
import { isValid } from './judge.js';
import { HOUR, hoursBetween, overlaps } from './missing.js';

export interface FactorRates {
  factor: string;
  /** Hours of the day outside registered shutdown windows. */
  expected: number;
  received: number;
  valid: number;
  /** received / expected. */
  transmissionRate: number;
  /** valid / received. */
  validityRate: number;
  /** transmission x validity: the transmission effectiveness rate regulators publish. */
  effectivenessRate: number;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** Daily rates of one station from its hour records of the day [dayStart, dayStart + 24 h). */
export function dailyRates(opts: {
  dayStart: number;
  factors: readonly string[];
  hours: readonly Point[];
  shutdowns: readonly Shutdown[];
}): FactorRates[] {
  const expectedHours = new Set(
    hoursBetween(opts.dayStart, opts.dayStart + 24 * HOUR).filter((h) => !opts.shutdowns.some((w) => overlaps(h, w))),
  );
  return opts.factors.map((factor) => {
    const got = opts.hours.filter((p) => p.factor === factor && expectedHours.has(p.time));
    const received = got.length;
    const valid = got.filter(isValid).length;
    const transmissionRate = ratio(received, expectedHours.size);
    const validityRate = ratio(valid, received);
    return {
      factor,
      expected: expectedHours.size,
      received,
      valid,
      transmissionRate,
      validityRate,
      effectivenessRate: transmissionRate * validityRate,
    };
  });
}
