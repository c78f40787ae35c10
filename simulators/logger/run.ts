import type { Logger } from 'pino';
import { warpedClock, type SimClock } from '../shared/clock.js';
import { makeLog } from '../hj212-link/link.js';
import { DEFAULT_PASSWORD } from '../../protocol/wire.js';
import { stationsOf, type LoggerConfig } from './config.js';
import { SimLogger, type Data2025Options } from './station.js';
import { emptySummary, type RunSummary } from './summary.js';
import { OUTLET_FACTORS, type Outlet, type ScriptedEvent } from './values.js';

export interface RunOptions {
  /** Simulated clock; a warped real clock from the config by default. */
  clock?: SimClock;
  log?: Logger;
}

/** A started fleet of simulated loggers. */
export interface LoggerFleet {
  loggers: readonly SimLogger[];
  summary: RunSummary;
  /** Stops uploading, waits for outstanding answers (or their retries to run out), closes, and summarises. */
  stop(): Promise<RunSummary>;
}

/** The config's HJ 212-2025 schedules for a station of `outlet` (a standard check's factor defaults to its first). */
function data2025(config: LoggerConfig, outlet: Outlet): Data2025Options {
  const d = config.data2025;
  const out: Data2025Options = { furnace: d.furnace };
  if (d.raw !== undefined) out.rawS = d.raw;
  if (d.noise !== undefined) out.noiseMin = d.noise;
  if (d.standardCheck) {
    const { every, factor, standard, biasPercent, tolerancePercent } = d.standardCheck;
    out.standardCheck = {
      everyMin: every,
      factor: factor ?? OUTLET_FACTORS[outlet][0]!.code,
      standard,
      biasPercent,
      tolerancePercent,
    };
  }
  return out;
}

/** Connects every configured logger and starts their schedules. */
export async function startLoggers(config: LoggerConfig, opts: RunOptions = {}): Promise<LoggerFleet> {
  const log = opts.log ?? makeLog('hj212-sim-logger');
  const stations = stationsOf(config);
  const summary = emptySummary(stations.length);
  const clock =
    opts.clock ?? warpedClock(config.start !== undefined ? Date.parse(config.start) : Date.now(), config.warp);
  const rtdEveryMs = config.rate !== undefined ? (1000 * stations.length) / config.rate : undefined;
  const script = config.script.map((e) => {
    const out: ScriptedEvent = { from: Date.parse(e.from), to: Date.parse(e.to) };
    if (e.factors !== undefined) out.factors = e.factors;
    if (e.value !== undefined) out.value = e.value;
    if (e.flag !== undefined) out.flag = e.flag;
    return out;
  });
  const outages = config.outages.map((w) => ({ from: Date.parse(w.from), to: Date.parse(w.to) }));
  const loggers = stations.map((spec) => {
    if (spec.identity.pw === DEFAULT_PASSWORD)
      log.warn({ mn: spec.identity.mn, reason: 'field default password 123456 in use' }, 'default password');
    const o: ConstructorParameters<typeof SimLogger>[0] = {
      spec,
      host: config.host,
      port: config.port,
      clock,
      seed: config.seed,
      intervals: config.intervals,
      ackTimeoutMs: config.ackTimeout,
      retries: config.retries,
      reconnectMs: config.reconnect,
      // HJ/T 212-2005 has no 1013: a 2005 platform sets the clock with 1012 when it sees fit.
      timeCalibration: config.timeCalibration && spec.identity.version !== '2005',
      tickMs: config.tick,
      script,
      outages,
      summary,
      log,
    };
    if (rtdEveryMs !== undefined) o.rtdEveryMs = rtdEveryMs;
    if (config.mqtt) o.mqtt = config.mqtt;
    if (config.heartbeat !== undefined && spec.identity.version === '2025') o.heartbeatMs = config.heartbeat * 1000;
    if (config.backlogHours > 0) o.backlogHours = config.backlogHours;
    if (spec.identity.version === '2025') o.data2025 = data2025(config, spec.outlet);
    return new SimLogger(o);
  });
  const began = Date.now();
  const results = await Promise.allSettled(loggers.map((l) => l.connect()));
  const live: SimLogger[] = [];
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') live.push(loggers[i]!);
    else summary.errors.push(`${loggers[i]!.mn}: ${(r.reason as Error).message}`);
  });
  summary.connected = live.length;
  for (const l of live) l.start();
  return {
    loggers: live,
    summary,
    async stop() {
      await Promise.all(live.map((l) => l.stop()));
      summary.durationMs = Date.now() - began;
      return summary;
    },
  };
}

/** Runs the fleet for the configured duration (or until `signal` aborts) and returns the summary. */
export async function runLoggers(
  config: LoggerConfig,
  opts: RunOptions & { signal?: AbortSignal } = {},
): Promise<RunSummary> {
  const fleet = await startLoggers(config, opts);
  await new Promise<void>((resolve) => {
    const timer = config.duration !== undefined ? setTimeout(resolve, config.duration) : undefined;
    opts.signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  return fleet.stop();
}
