import type { Logger } from 'pino';
import type { SettingEffect } from '../commands.js';
import { dataSetDecimals } from '../conditions.js';
import { clockPolicyOf } from '../config-values.js';
import type { EdgeConfig } from '../config.js';
import { controlDevice } from '../control.js';
import { periodStart } from '../datasets.js';
import { startHealthServer } from '../health.js';
import type { HealthServer } from '../health.js';
import type { UplinkDeps, UplinkHealth } from '../link.js';
import type { DeviceHealth, DevicePoll } from '../modbus.js';
import { EdgeStore, type DiskFullStats } from '../store/index.js';
import { AgentClock } from './clock.js';
import { Committer } from './committer.js';
import { initialSettings, reduceEffect } from './effects.js';
import type { AgentSettings } from './effects.js';
import { Inputs } from './inputs.js';
import { Outputs } from './outputs.js';
import { RecordPipeline } from './pipeline.js';

export interface AgentOptions {
  logger: Logger;
  /** The agent's clock (ms since epoch); tests pass a warped one so an hour takes seconds. */
  clock?: () => number;
  /** Real milliseconds between ticks that close minutes and move records to the outboxes. */
  tickMs?: number;
  /** Real milliseconds between the info lines that sum up each uplink (default a minute). */
  summaryMs?: number;
}

export interface DeviceStatus extends DeviceHealth {
  lastReadings?: DevicePoll['readings'];
}

export interface AgentHealth {
  mn: string;
  now: number;
  /** Whether platforms may rely on the box clock (it follows NTP/GPS), and how far 1012 has moved it. */
  clock: { trusted: boolean; offsetMs: number };
  uplinks: Record<string, UplinkHealth>;
  devices: Record<string, DeviceStatus>;
  /** Full-disk drops so far, whether the reserve is back, and records held in memory because the store refused them. */
  storage: DiskFullStats & { unsavedRecords: number };
}

export interface RunningAgent {
  health(): AgentHealth;
  /** The port of the health endpoint, when configured (port 0 picks a free one). */
  healthPort?: number;
  close(): Promise<void>;
}

/**
 * The edge agent, in the stages Telegraf runs: inputs (bus pollers, edge/agent/inputs.ts) → pipeline
 * (statistics, run time, parameter changes: the only producer of records) → committer (one transaction
 * a tick into history and every outbox) → outputs (uplinks). All share one clock; what a platform's
 * command changes goes through one reducer (edge/agent/effects.ts) and is applied in `apply` below.
 * Outputs start before inputs and stop after them, so nothing read is left without a way out.
 */
export async function startAgent(config: EdgeConfig, options: AgentOptions): Promise<RunningAgent> {
  const logger = options.logger.child({ mn: config.station.mn });
  const utc = config.station.utcOffsetMinutes;
  const clock = new AgentClock(options.clock);
  const store = new EdgeStore(config.dataDir, {
    logger,
    utcOffsetMinutes: utc,
    outboxBytes: new Map(config.uplinks.map((u) => [u.id, u.outboxBytes])),
  });
  const saved = store.readSettings();
  let settings: AgentSettings = initialSettings(config, saved, clock.now());
  const restored = store.restore(
    (t) => periodStart(t, 'hour', utc),
    (t) => periodStart(t, 'day', utc),
  );
  const pipeline = new RecordPipeline(config, clock, { ...settings, restored, runTime: saved.runTime });
  if (restored)
    logger.info(
      { resumeAt: restored.cursor, minutes: restored.minutes.length, hours: restored.hours.length },
      'resumed the open hour and day from disk',
    );
  const inputs = new Inputs(config, logger, clock, pipeline);

  const keyGraceMs = new Map(config.uplinks.map((u) => [u.id, u.keyGraceSeconds * 1000]));
  /** The one place a command's setting takes hold: next settings from the reducer, then what they drive. */
  const apply = (uplink: string, effect: SettingEffect) => {
    settings = reduceEffect(settings, effect, { uplink, now: clock.now(), keyGraceMs: keyGraceMs.get(uplink) });
    switch (effect.kind) {
      case 'clock-kept':
        // Positive: the platform's clock is ahead of the box's.
        logger.info(
          { uplink, differenceMs: effect.differenceMs, reason: 'clock policy keep-ntp' },
          '1012 answered: the box keeps its NTP time',
        );
        return;
      case 'set-time':
        clock.setOffset(settings.clockOffsetMs);
        break;
      case 'set-timeout-retry':
        outputs.setTimeoutRetry(effect.overTimeSeconds, effect.reCount);
        store.saveSettings({ overTimeSeconds: effect.overTimeSeconds, reCount: effect.reCount });
        break;
      case 'set-rtd-interval':
      case 'set-min-interval':
        pipeline.setIntervals(settings.rtdIntervalSeconds, settings.minIntervalMinutes);
        store.saveSettings({
          rtdIntervalSeconds: settings.rtdIntervalSeconds,
          minIntervalMinutes: settings.minIntervalMinutes,
        });
        break;
      case 'set-mn':
        // The 9011/9012 went out under the old MN (the request's); every packet after them carries the new one.
        store.saveSettings({ mns: { [uplink]: effect.mn } });
        break;
      case 'set-password':
        store.saveSettings({ passwords: { [uplink]: effect.pw } });
        // The password itself stays out of the log.
        logger.info({ uplink, effect: { kind: effect.kind } }, 'platform command applied');
        return;
      case 'set-key': {
        const keys = settings.uplinks[uplink]?.keys;
        if (keys) store.saveSettings({ sm4Keys: { [uplink]: keys } });
        // The key itself stays out of the log.
        logger.info({ uplink, effect: { kind: effect.kind } }, 'platform command applied');
        return;
      }
      case 'realtime':
      case 'run-state':
        break;
    }
    logger.info({ uplink, effect }, 'platform command applied');
  };

  const clockPolicy = clockPolicyOf(config);
  const deps: UplinkDeps = {
    store,
    logger,
    station: config.station,
    decimals: new Map([
      ...config.devices.flatMap((d) => d.factors.map((f) => [f.code, f.decimals] as const)),
      ...dataSetDecimals(config),
    ]),
    context: () => ({
      now: clock.now(),
      utcOffsetMinutes: utc,
      rtdIntervalSeconds: settings.rtdIntervalSeconds,
      minIntervalMinutes: settings.minIntervalMinutes,
      clockTrusted: config.clockTrusted,
      clockPolicy,
      parameters: (polId) => pipeline.parametersOf(polId),
      controlled: (cn, polId) => controlDevice(config.devices, cn, polId) !== undefined,
    }),
    settings: (uplink) => settings.uplinks[uplink],
    history: store,
    onEffect: apply,
    setParameters: (polId, values) => inputs.setParameters(polId, values),
    control: async (cn, polId, params) => {
      const result = await inputs.control(cn, polId, params);
      if (!result.check) return result;
      // 3024's result as 2062, committed to the outboxes now (durable before the 9012 says it was done).
      const record = pipeline.standardCheck(result.check);
      committer.tick();
      return { ...result, record };
    },
  };
  const outputs = new Outputs(config, deps, logger, options.summaryMs ?? 60_000);
  // A platform's 1000 outlives a restart: it replaces every uplink's configured timeout and retries.
  if (settings.timeoutRetry)
    outputs.setTimeoutRetry(settings.timeoutRetry.overTimeSeconds, settings.timeoutRetry.reCount);
  const committer = new Committer({ store, pipeline, outputs, clock, logger, historyDays: config.historyDays });

  const health = (): AgentHealth => {
    const disk = store.diskFullStats();
    const memory = committer.stats();
    return {
      mn: config.station.mn,
      now: clock.now(),
      clock: { trusted: config.clockTrusted, offsetMs: clock.offset },
      uplinks: outputs.health(),
      storage: { ...disk, dropped: disk.dropped + memory.droppedInMemory, unsavedRecords: memory.unsavedRecords },
      devices: inputs.devices(),
    };
  };
  let server: HealthServer | undefined;
  try {
    server =
      config.health &&
      (await startHealthServer(health, config.health.host, config.health.port, {
        utcOffsetMinutes: utc,
        decimals: deps.decimals,
      }));
  } catch (err) {
    store.close();
    throw err;
  }

  // The 2081 is committed before anything is polled, so it is the first record of this run in every
  // outbox; uplinks send it once connected.
  pipeline.started();
  committer.tick();
  outputs.start();
  inputs.start();
  // Each tick the uplinks first (a 2025 link's heartbeat and key rotation), then the commit.
  const timer = setInterval(() => {
    outputs.tick(clock.now());
    committer.tick();
  }, options.tickMs ?? 1000);
  logger.info(
    {
      buses: config.buses.length,
      devices: config.devices.length,
      uplinks: outputs.uplinks.map((u) => u.id),
      health: server?.port,
    },
    'edge agent started',
  );

  return {
    health,
    ...(server && { healthPort: server.port }),
    close: async () => {
      // No last tick: what the last tick did not commit (under a second of readings) is not half-kept;
      // the store's open hour and day resume the statistics on the next start.
      clearInterval(timer);
      await server?.close();
      await inputs.stop();
      await outputs.stop();
      store.close();
      logger.info('edge agent stopped');
    },
  };
}
