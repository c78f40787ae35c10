import type { Logger } from 'pino';
import { LoggerConfigSchema, startLoggers, type LoggerFleet } from '../simulators/logger/index.js';
import type { SimClock } from '../simulators/analyzer/index.js';

export interface OutageOptions {
  port: number;
  mn: string;
  pw: string;
  clock: SimClock;
  /** Simulated instant the `away` offsets count from. */
  start: number;
  /** Simulated offsets from `start` between which the logger is disconnected. */
  away: { from: number; to: number };
  log: Logger;
  /**
   * Hours before `start` the logger uploads at its first connection (its memory), so the demo opens on a day
   * of data.
   */
  backlogHours: number;
}

/**
 * A third-party data logger over raw HJ 212 TCP that loses its line once: the fleet is stopped when
 * the window opens and a new one started when it closes. A restarted logger does not send the
 * periods it slept through, as a real one that lost power would not, until the platform asks (2061).
 */
export async function keepLoggerAway(o: OutageOptions): Promise<() => Promise<void>> {
  const config = (backlogHours: number) =>
    LoggerConfigSchema.parse({
      port: o.port,
      stations: [{ mn: o.mn, pw: o.pw }],
      intervals: { rtd: 30, minute: 10, hour: true, day: true },
      tick: 100,
      backlogHours,
    });
  const connect = (backlogHours = 0) => startLoggers(config(backlogHours), { clock: o.clock, log: o.log });
  // Only the first connection sends the backlog: after the outage the hour it slept through waits for a 2061.
  let fleet: LoggerFleet | undefined = await connect(o.backlogHours);
  let phase: 'before' | 'away' | 'back' = 'before';
  let busy: Promise<void> = Promise.resolve();
  const step = async () => {
    const t = o.clock.now() - o.start;
    if (phase === 'before' && t >= o.away.from) {
      phase = 'away';
      o.log.warn({ mn: o.mn }, 'demo: the third-party logger loses its line for an hour');
      await fleet?.stop();
      fleet = undefined;
    } else if (phase === 'away' && t >= o.away.to) {
      phase = 'back';
      o.log.warn({ mn: o.mn }, 'demo: the third-party logger is back');
      fleet = await connect();
    }
  };
  const timer = setInterval(() => {
    busy = busy.then(step).catch((e: Error) => o.log.error({ reason: e.message }, 'demo: logger outage step failed'));
  }, 200);
  return async () => {
    clearInterval(timer);
    await busy;
    await fleet?.stop();
  };
}
