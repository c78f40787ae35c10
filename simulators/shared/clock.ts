/** Simulated time in epoch milliseconds; injected so tests can stand at any instant. */
export interface SimClock {
  now(): number;
}

/**
 * Simulated clock = start + warp × real time elapsed since this call. Real time is monotonic by
 * default: a wall-clock step (NTP) would otherwise be multiplied by the warp.
 */
export function warpedClock(start: number, warp: number, realNow: () => number = () => performance.now()): SimClock {
  const realStart = realNow();
  return { now: () => start + warp * (realNow() - realStart) };
}
