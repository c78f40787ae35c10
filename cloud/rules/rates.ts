import { CHINA_ISO_OFFSET } from '../../protocol/time.js';
import type { Shutdown } from '../registry.js';
import type { Point } from '../store/types.js';
import { isValid } from './judge.js';
import { HOUR, hoursBetween, overlaps } from './missing.js';

/** Hour counts of one factor, outlet or enterprise over a period, and the rates regulators publish from them. */
export interface Rates {
  /** Hours that should have a record (see expectedHours). */
  expected: number;
  /** Of those, hours with a record. */
  received: number;
  /** Of those, records that are valid (flag N; S where the regulator accepts manual data). */
  valid: number;
  /** 传输率 = received / expected. */
  transmissionRate: number;
  /** 有效率 = valid / received. */
  validityRate: number;
  /** 传输有效率 = transmission x validity (= valid / expected). */
  effectivenessRate: number;
}

export interface FactorRates extends Rates {
  factor: string;
  /** Expected hours with no record, hour starts (epoch ms). */
  missing: number[];
  /** Hours left out because the record is flagged F (停运): the analyzer was stopped. */
  stopped: number;
}

export interface RateRules {
  /** S (manually entered) hour records count as valid, not only as received (docs/statistics.md). */
  manualCountsValid: boolean;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** Rates from counts; a period with nothing expected has rates 0 (nothing was due, nothing is claimed). */
export function ratesOf(expected: number, received: number, valid: number): Rates {
  const transmissionRate = ratio(received, expected);
  const validityRate = ratio(valid, received);
  return {
    expected,
    received,
    valid,
    transmissionRate,
    validityRate,
    effectivenessRate: transmissionRate * validityRate,
  };
}

/** Rates pooled over factors, outlets or days: counts summed, rates from the sums. */
export function pooled(parts: readonly Rates[]): Rates {
  const sum = (f: (r: Rates) => number): number => parts.reduce((a, r) => a + f(r), 0);
  return ratesOf(
    sum((r) => r.expected),
    sum((r) => r.received),
    sum((r) => r.valid),
  );
}

/**
 * Hour starts in [from, to) a station owes records for, before F hours are taken out per factor:
 * hours that have ended by `now`, began at or after the start of monitoring, and overlap no
 * registered shutdown window (停产).
 */
export function expectedHours(opts: {
  from: number;
  to: number;
  now: number;
  since?: number;
  shutdowns: readonly Shutdown[];
}): number[] {
  return hoursBetween(Math.max(opts.from, opts.since ?? -Infinity), Math.min(opts.to, opts.now - HOUR + 1)).filter(
    (h) => !opts.shutdowns.some((w) => overlaps(h, w)),
  );
}

/** Per factor, the rates of a period [from, to) from the station's hour records in it. */
export function factorRates(opts: {
  from: number;
  to: number;
  now: number;
  since?: number;
  factors: readonly string[];
  hours: readonly Point[];
  shutdowns: readonly Shutdown[];
  rules: RateRules;
  /**
   * Hours a reviewer marked 停运 (cloud/marks.ts): left out like an F record (HJ 212-2017 table 8),
   * and also where no record came (the marked hour was not owed).
   */
  stopped?: (factor: string, hour: number) => boolean;
}): FactorRates[] {
  const due = expectedHours(opts);
  const counts = (p: Point): boolean => isValid(p) || (opts.rules.manualCountsValid && p.flag === 'S');
  return opts.factors.map((factor) => {
    const byHour = new Map(opts.hours.filter((p) => p.factor === factor).map((p) => [p.time, p]));
    let stopped = 0;
    let received = 0;
    let valid = 0;
    const missing: number[] = [];
    for (const h of due) {
      const p = byHour.get(h);
      if (p?.flag === 'F' || opts.stopped?.(factor, h)) stopped++;
      else if (!p) missing.push(h);
      else {
        received++;
        if (counts(p)) valid++;
      }
    }
    return { factor, ...ratesOf(due.length - stopped, received, valid), missing, stopped };
  });
}

/**
 * [start, end) of a local (UTC+8) day `YYYY-MM-DD`, month `YYYY-MM`, quarter `YYYY-Qn` (months
 * 3n-2 to 3n) or year `YYYY`: the periods the centres' reports cover.
 */
export function periodBounds(period: string): { from: number; to: number } {
  if (/^\d{4}-\d{2}-\d{2}$/.test(period)) {
    const from = Date.parse(`${period}T00:00:00${CHINA_ISO_OFFSET}`);
    return { from, to: from + 24 * HOUR };
  }
  const monthStart = (y: number, m: number): number =>
    Date.parse(
      `${y + Math.floor((m - 1) / 12)}-${String(((m - 1) % 12) + 1).padStart(2, '0')}-01T00:00:00${CHINA_ISO_OFFSET}`,
    );
  const quarter = /^(\d{4})-Q([1-4])$/.exec(period);
  if (quarter) {
    const [y, q] = [Number(quarter[1]), Number(quarter[2])];
    return { from: monthStart(y, 3 * q - 2), to: monthStart(y, 3 * q + 1) };
  }
  if (/^\d{4}$/.test(period)) return { from: monthStart(Number(period), 1), to: monthStart(Number(period), 13) };
  const [y, m] = period.split('-').map(Number) as [number, number];
  return { from: monthStart(y, m), to: monthStart(y, m + 1) };
}
