import type { Logger } from 'pino';

/**
 * The one clock of the cloud, injected: `wall` (ms since epoch) dates data and alarms; `mono` (ms from
 * an arbitrary origin, never stepped) measures every rate, delay, lockout and timeout, so setting the
 * system clock back (NTP, an operator) neither stalls a limiter nor lifts a lockout.
 */
export interface Clock {
  wall(): number;
  mono(): number;
}

export const systemClock: Clock = { wall: () => Date.now(), mono: () => performance.now() };

/** How far the wall clock may drift from the monotonic one between two checks before it counts as a step. */
const STEP_MS = 2000;

/**
 * Logs a step of the wall clock (the difference of the two clocks moving by more than STEP_MS between
 * checks), once per step, so a gap or a jump in the data can be explained. Returns the stop function.
 */
export function watchClockSteps(clock: Clock, log: Logger, everyMs = 1000): () => void {
  let offset = clock.wall() - clock.mono();
  const check = (): void => {
    const now = clock.wall() - clock.mono();
    const stepMs = Math.round(now - offset);
    if (Math.abs(stepMs) > STEP_MS) {
      log.warn(
        { reason: 'clock-step', stepMs, wall: new Date(clock.wall()).toISOString() },
        'the system clock was stepped; rates and timeouts run on the monotonic clock and are not affected',
      );
    }
    offset = now;
  };
  const timer = setInterval(check, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
