import type { Shutdown } from '../registry.js';

export const HOUR = 3_600_000;

/** Hour starts in [from, to) (UTC+8 whole hours are UTC whole hours). */
export function hoursBetween(from: number, to: number): number[] {
  const out: number[] = [];
  for (let h = Math.ceil(from / HOUR) * HOUR; h < to; h += HOUR) out.push(h);
  return out;
}

export const overlaps = (h: number, w: Shutdown): boolean => Date.parse(w.from) < h + HOUR && h < Date.parse(w.to);

/**
 * The hours of each factor due by `now` (the hour over and the grace period gone) in the lookback
 * window that have no hour record and are not in a registered shutdown window. Hours that began
 * before `since` (the start of monitoring) are never due: a new station has no gap behind it.
 */
export function missingHours(opts: {
  factors: readonly string[];
  have: ReadonlySet<string>;
  shutdowns: readonly Shutdown[];
  now: number;
  graceMs: number;
  lookbackMs: number;
  since?: number;
}): { factor: string; hour: number }[] {
  const due = hoursBetween(
    Math.max(opts.now - opts.lookbackMs, opts.since ?? -Infinity),
    opts.now - opts.graceMs - HOUR + 1,
  ).filter((h) => !opts.shutdowns.some((w) => overlaps(h, w)));
  return due.flatMap((hour) =>
    opts.factors.filter((factor) => !opts.have.has(`${factor}|${hour}`)).map((factor) => ({ factor, hour })),
  );
}
