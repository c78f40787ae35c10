import type { Logger } from 'pino';
import { ExeRtn, to2005Code } from '../protocol/index.js';
import { DEFAULT_PASSWORD } from '../protocol/wire.js';
import { Aggregator } from './aggregator.js';
import type { CommandEffect } from './commands.js';
import { clockPolicyOf } from './config.js';
import type { EdgeConfig } from './config.js';
import { controlDevice, isControlCn, runControl } from './control.js';
import type { ControlResult } from './control.js';
import { periodStart } from './datasets.js';
import type { UplinkDeps, Uplink, UplinkHealth } from './link.js';
import { RunTimeTracker, facilityDevice, facilityDeviceId } from './facilities.js';
import { BusPoller } from './modbus.js';
import { ReadingPipeline, dataStation } from './readings.js';
import { RegisterError } from './registers.js';
import type { DeviceHealth, DevicePoll } from './modbus.js';
import { startHealthServer } from './health.js';
import type { HealthServer } from './health.js';
import { uplinkSummary } from './report.js';
import type { UplinkTotals } from './report.js';
import { EdgeStore, type DiskFullStats } from './store/index.js';
import { trimUnsaved, type Unsaved } from './unsaved.js';
import { MqttUplink } from './uplink-mqtt.js';
import { TcpUplink } from './uplink-tcp.js';

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

const DAY_MS = 86_400_000;

/**
 * The edge agent: bus pollers feed the aggregator; each tick commits closed minutes and new
 * records to history and the outboxes in one transaction and wakes the uplinks.
 */
export async function startAgent(config: EdgeConfig, options: AgentOptions): Promise<RunningAgent> {
  const logger = options.logger.child({ mn: config.station.mn });
  const utc = config.station.utcOffsetMinutes;
  const baseClock = options.clock ?? Date.now;
  let clockOffset = 0;
  const now = () => baseClock() + clockOffset;
  const store = new EdgeStore(config.dataDir, {
    logger,
    utcOffsetMinutes: utc,
    outboxBytes: new Map(config.uplinks.map((u) => [u.id, u.outboxBytes])),
  });
  const saved = store.readSettings();
  const settings = {
    rtdIntervalSeconds: saved.rtdIntervalSeconds ?? config.rtdIntervalSeconds,
    minIntervalMinutes: saved.minIntervalMinutes ?? config.minIntervalMinutes,
  };
  const restored = store.restore(
    (t) => periodStart(t, 'hour', utc),
    (t) => periodStart(t, 'day', utc),
  );
  // Readings reach the aggregator in appendix B's units (edge/readings.ts), so does the flow of Cou.
  const aggregator = new Aggregator(
    { station: dataStation(config.station), devices: config.devices, ...settings },
    now(),
    restored,
  );
  const pipeline = new ReadingPipeline(config);
  const runTime = new RunTimeTracker(config.facilities, utc, now(), saved.runTime);
  const facilityIds = new Set(config.facilities.map((f) => facilityDeviceId(f.code)));
  if (restored)
    logger.info(
      { resumeAt: restored.cursor, minutes: restored.minutes.length, hours: restored.hours.length },
      'resumed the open hour and day from disk',
    );

  for (const u of config.uplinks) {
    if (u.pw === DEFAULT_PASSWORD)
      logger.warn(
        { uplink: u.id, reason: 'default password' },
        `uplink ${u.id} uses the field default password ${DEFAULT_PASSWORD}; ask the platform for the station's own`,
      );
  }
  // HJ/T 212-2005 appendix B has no code for many 2017 factors: they go out under their 2017 code.
  const without2005 = config.devices.flatMap((d) => d.factors.map((f) => f.code)).filter((c) => !to2005Code(c));
  for (const u of config.uplinks.filter((u) => u.version === '2005' && without2005.length > 0))
    logger.warn(
      { uplink: u.id, reason: 'no 2005 code', factors: without2005 },
      'factors without an HJ/T 212-2005 code go out under their 2017 code; ask the platform whether it takes them',
    );
  // What the next tick commits: closed minutes and new records, kept here while the disk refuses them.
  const unsaved: Unsaved = { minutes: [], records: [] };
  let droppedInMemory = 0;
  let lastStoreError = 0;
  const lastReadings = new Map<string, DevicePoll['readings']>();
  const parametersByFactor = new Map<string, Record<string, number>>();
  const factorsOf = new Map(config.devices.map((d) => [d.id, d.factors.map((f) => f.code)]));
  const pollers = config.buses.map(
    (bus) =>
      new BusPoller(
        bus,
        [
          ...config.devices.filter((d) => d.bus === bus.id),
          ...config.facilities.filter((f) => f.bus === bus.id).map(facilityDevice),
        ],
        {
          logger,
          now,
          onPoll: (poll) => {
            lastReadings.set(poll.device, poll.readings);
            if (facilityIds.has(poll.device)) {
              for (const r of poll.readings) runTime.add(poll.at, r);
              return;
            }
            aggregator.add(poll.at, pipeline.accept(poll.at, poll.readings, poll));
          },
          onParameters: (device, values) => {
            const codes = factorsOf.get(device) ?? [];
            const changed = codes.some(
              (code) => JSON.stringify(parametersByFactor.get(code)) !== JSON.stringify(values),
            );
            for (const code of codes) parametersByFactor.set(code, values);
            // Dynamic control: parameters go up (3020) when they change; the first read after start counts.
            if (changed)
              unsaved.records.push({
                cn: '3020',
                at: now(),
                stats: {},
                info: Object.fromEntries(codes.map((code) => [code, values])),
              });
          },
        },
      ),
  );

  const clockPolicy = clockPolicyOf(config);
  const onEffect = (uplink: string, effect: CommandEffect) => {
    if (effect.kind === 'clock-kept') {
      // Positive: the platform's clock is ahead of the box's.
      logger.info(
        { uplink, differenceMs: effect.differenceMs, reason: 'clock policy keep-ntp' },
        '1012 answered: the box keeps its NTP time',
      );
      return;
    }
    logger.info({ uplink, effect }, 'platform command applied');
    if (effect.kind === 'set-time') clockOffset += effect.at - now();
    if (effect.kind === 'set-timeout-retry') {
      // C.1 names no uplink: the box has one timeout and resend count, so every uplink takes it.
      for (const u of uplinks) u.setTimeoutRetry(effect.overTimeSeconds, effect.reCount);
      store.saveSettings({ overTimeSeconds: effect.overTimeSeconds, reCount: effect.reCount });
    }
    if (effect.kind === 'set-rtd-interval') settings.rtdIntervalSeconds = effect.seconds;
    if (effect.kind === 'set-min-interval') settings.minIntervalMinutes = effect.minutes;
    if (effect.kind === 'set-rtd-interval' || effect.kind === 'set-min-interval') {
      aggregator.setIntervals(settings.rtdIntervalSeconds, settings.minIntervalMinutes);
      store.saveSettings(settings);
    }
  };
  /** 3021: every value checked against the device's parameters first, so a bad request writes nothing. */
  const setParameters = async (polId: string, values: Record<string, number>): Promise<number> => {
    const device = config.devices.find((d) => d.factors.some((f) => f.code === polId));
    const poller = device && pollers[config.buses.findIndex((b) => b.id === device.bus)];
    const unknown = Object.keys(values).filter(
      (info) => !device?.parameters.some((p) => p.info === info && p.function === 'holding'),
    );
    if (!device || !poller || unknown.length > 0) {
      logger.warn(
        {
          polId,
          values,
          reason: device ? `no writable parameter ${unknown.join(', ')}` : `no device measures ${polId}`,
        },
        'analyzer parameters refused (3021)',
      );
      return ExeRtn.BadCondition;
    }
    try {
      for (const [info, value] of Object.entries(values)) await poller.writeParameter(device.id, info, value);
      logger.info({ device: device.id, polId, values }, 'analyzer parameters written (3021)');
      return ExeRtn.Success;
    } catch (err) {
      logger.warn(
        { device: device.id, polId, values, reason: (err as Error).message },
        'analyzer parameters not written (3021)',
      );
      // A value the register cannot hold, or one the analyzer refuses (Modbus exception 03), is the request's fault.
      const refused = err instanceof RegisterError || (err as { modbusCode?: number }).modbusCode === 3;
      return refused ? ExeRtn.BadCondition : ExeRtn.Failed;
    }
  };
  /** 3011-3019 on the device whose control maps the command for the PolId (edge/control.ts). */
  const controlling = new Set<string>();
  const control = async (
    cn: string,
    polId: string | undefined,
    params: Record<string, string>,
  ): Promise<ControlResult> => {
    const device = controlDevice(config.devices, cn, polId);
    const poller = device && pollers[config.buses.findIndex((b) => b.id === device.bus)];
    if (!device?.control || !poller || !isControlCn(cn)) return { exeRtn: ExeRtn.BadCondition, reason: 'not-mapped' };
    // One action per analyzer at a time: a platform repeating 3011 gets ExeRtn 5 (busy, table 6), not a queue.
    if (controlling.has(device.id)) return { exeRtn: ExeRtn.Busy, reason: 'control-busy' };
    controlling.add(device.id);
    const result = await runControl(cn, polId ?? device.factors[0]!.code, device.control, params, {
      run: (action) => poller.control(device.id, action),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      // Verdict timeouts run on elapsed time, not on the station clock a 1012 may move.
      now: () => performance.now(),
    }).finally(() => controlling.delete(device.id));
    logger.info({ device: device.id, cn, polId, exeRtn: result.exeRtn, reason: result.reason }, 'analyzer control');
    return result;
  };
  const deps: UplinkDeps = {
    store,
    logger,
    station: config.station,
    decimals: new Map(config.devices.flatMap((d) => d.factors.map((f) => [f.code, f.decimals] as const))),
    context: () => ({
      now: now(),
      utcOffsetMinutes: utc,
      ...settings,
      clockTrusted: config.clockTrusted,
      clockPolicy,
      parameters: (polId) => parametersByFactor.get(polId),
      controlled: (cn, polId) => controlDevice(config.devices, cn, polId) !== undefined,
    }),
    history: store,
    onEffect,
    setParameters,
    control,
  };
  const uplinks: Uplink[] = config.uplinks.map((u) =>
    u.kind === 'hj212-tcp' ? new TcpUplink(u, deps) : new MqttUplink(u, deps),
  );
  // A platform's 1000 outlives a restart: it replaces every uplink's configured timeout and retries.
  if (saved.overTimeSeconds !== undefined && saved.reCount !== undefined)
    for (const u of uplinks) u.setTimeoutRetry(saved.overTimeSeconds, saved.reCount);

  let lastPrune = 0;
  const tick = () => {
    const at = now();
    for (const u of uplinks) u.tick(at);
    const result = aggregator.tick(at);
    unsaved.minutes.push(...result.closedMinutes);
    unsaved.records.push(...result.records, ...runTime.tick(at));
    // Facility run states go up with each real-time record, stamped alike.
    const realtime = result.records.find((r) => r.cn === '2011');
    const states = realtime && runTime.realtime(realtime.at);
    if (states) unsaved.records.push(states);
    if (unsaved.minutes.length === 0 && unsaved.records.length === 0) return;
    // The facilities' open day in the same transaction as the records it produced: a crash neither repeats nor loses a 2041.
    store.commitTick(
      at,
      {
        minutes: unsaved.minutes,
        state: aggregator.state(),
        records: unsaved.records,
        ...(config.facilities.length > 0 && { settings: { runTime: runTime.snapshot() } }),
      },
      uplinks.map((u) => ({ uplink: u.id, accepts: (r) => u.accepts(r) })),
    );
    unsaved.minutes = [];
    unsaved.records = [];
    lastStoreError = 0;
    if (at - lastPrune > DAY_MS / 24) {
      store.prune(at - config.historyDays * DAY_MS, at);
      lastPrune = at;
    }
    for (const u of uplinks) u.notify();
  };

  const health = (): AgentHealth => ({
    mn: config.station.mn,
    now: now(),
    clock: { trusted: config.clockTrusted, offsetMs: clockOffset },
    uplinks: Object.fromEntries(uplinks.map((u) => [u.id, u.health()])),
    storage: {
      ...store.diskFullStats(),
      dropped: store.diskFullStats().dropped + droppedInMemory,
      unsavedRecords: unsaved.records.length,
    },
    devices: Object.fromEntries(
      pollers
        .flatMap((p) => Object.entries(p.health))
        .map(([id, h]) => {
          const readings = lastReadings.get(id);
          return [id, readings ? { ...h, lastReadings: readings } : h];
        }),
    ),
  });
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

  /** A tick; what the store refuses waits in memory (bounded) and is retried on the next. */
  const safeTick = () => {
    try {
      tick();
    } catch (err) {
      const dropped = trimUnsaved(unsaved);
      if (dropped.length > 0) {
        droppedInMemory += dropped.length;
        logger.warn(
          {
            reason: 'store-refuses',
            dropped: dropped.length,
            cns: [...new Set(dropped.map((r) => r.cn))],
            from: dropped[0]!.at,
            to: dropped.at(-1)!.at,
          },
          'records held in memory reached their bound: dropped the oldest real-time and minute data',
        );
      }
      // Once a minute: a tick a second against a full disk would bury everything else in the log.
      if (Date.now() - lastStoreError >= 60_000) {
        lastStoreError = Date.now();
        logger.error(
          { reason: (err as Error).message, unsaved: unsaved.records.length },
          'cannot store records; retrying every tick',
        );
      }
    }
  };
  // 2081 (HJ 212-2017 C.24): the logger's boot time, DataTime and RestartTime alike, kept like hour data
  // (edge/store/retention.ts). Committed now, before anything is polled, so it is the first record of
  // this run in every outbox; uplinks send it once connected.
  unsaved.records.push({ cn: '2081', at: now(), stats: {} });
  safeTick();
  for (const p of pollers) p.start();
  for (const u of uplinks) u.start();
  const timer = setInterval(safeTick, options.tickMs ?? 1000);
  // Once a minute per uplink, so a person reading the log sees that uploads are being confirmed.
  const totals = new Map<string, UplinkTotals>();
  const summary = setInterval(() => {
    for (const u of uplinks) {
      const h = u.health();
      logger.info({ uplink: u.id, reason: 'summary', ...uplinkSummary(h, totals.get(u.id), utc) }, 'uplink summary');
      totals.set(u.id, { sent: h.sent, confirmed: h.confirmed });
    }
  }, options.summaryMs ?? 60_000);
  logger.info(
    {
      buses: config.buses.length,
      devices: config.devices.length,
      uplinks: uplinks.map((u) => u.id),
      health: server?.port,
    },
    'edge agent started',
  );

  return {
    health,
    ...(server && { healthPort: server.port }),
    close: async () => {
      clearInterval(timer);
      clearInterval(summary);
      await server?.close();
      await Promise.all([...pollers.map((p) => p.stop()), ...uplinks.map((u) => u.stop())]);
      store.close();
      logger.info('edge agent stopped');
    },
  };
}
