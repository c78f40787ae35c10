import type { Logger } from 'pino';
import { ExeRtn } from '../../protocol/index.js';
import type { EdgeConfig } from '../config.js';
import { controlDevice, isControlCn, runControl } from '../control.js';
import type { ControlResult } from '../control.js';
import { dataSetDevices } from '../conditions.js';
import { facilityDevice } from '../facilities.js';
import { BusPoller } from '../modbus.js';
import type { DevicePoll } from '../modbus.js';
import { RegisterError } from '../registers.js';
import type { AgentClock } from './clock.js';
import type { DeviceStatus } from './index.js';

/** Where the inputs send what they read: the pipeline (edge/agent/pipeline.ts). */
export interface InputSink {
  poll(poll: DevicePoll): void;
  parameters(device: string, values: Record<string, number>): void;
}

/**
 * The first stage: one poller per bus reads its analyzers and facilities (edge/modbus.ts) and hands
 * each poll to the pipeline. The pollers are also the only way to the bus for writes: analyzer
 * parameters (3021) and control (3011-3019).
 */
export class Inputs {
  private readonly pollers: BusPoller[];
  private readonly lastReadings = new Map<string, DevicePoll['readings']>();
  /** Devices with a control action under way. */
  private readonly controlling = new Set<string>();

  constructor(
    private readonly config: EdgeConfig,
    private readonly logger: Logger,
    private readonly clock: AgentClock,
    sink: InputSink,
  ) {
    this.pollers = config.buses.map(
      (bus) =>
        new BusPoller(
          bus,
          [
            ...config.devices.filter((d) => d.bus === bus.id),
            ...config.facilities.filter((f) => f.bus === bus.id).map(facilityDevice),
            ...dataSetDevices(config).filter((d) => d.bus === bus.id),
          ],
          {
            logger,
            now: () => clock.now(),
            onPoll: (poll) => {
              this.lastReadings.set(poll.device, poll.readings);
              sink.poll(poll);
            },
            onParameters: (device, values) => sink.parameters(device, values),
          },
        ),
    );
  }

  start(): void {
    for (const p of this.pollers) p.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.pollers.map((p) => p.stop()));
  }

  /** Every device's bus health and its last readings, for the health endpoint. */
  devices(): Record<string, DeviceStatus> {
    return Object.fromEntries(
      this.pollers
        .flatMap((p) => Object.entries(p.health))
        .map(([id, h]) => {
          const readings = this.lastReadings.get(id);
          return [id, readings ? { ...h, lastReadings: readings } : h];
        }),
    );
  }

  /** 3021: every value checked against the device's parameters first, so a bad request writes nothing. */
  async setParameters(polId: string, values: Record<string, number>): Promise<number> {
    const device = this.config.devices.find((d) => d.factors.some((f) => f.code === polId));
    const poller = device && this.pollerOf(device.bus);
    const unknown = Object.keys(values).filter(
      (info) => !device?.parameters.some((p) => p.info === info && p.function === 'holding'),
    );
    if (!device || !poller || unknown.length > 0) {
      this.logger.warn(
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
      this.logger.info({ device: device.id, polId, values }, 'analyzer parameters written (3021)');
      return ExeRtn.Success;
    } catch (err) {
      this.logger.warn(
        { device: device.id, polId, values, reason: (err as Error).message },
        'analyzer parameters not written (3021)',
      );
      // A value the register cannot hold, or one the analyzer refuses (Modbus exception 03), is the request's fault.
      const refused = err instanceof RegisterError || (err as { modbusCode?: number }).modbusCode === 3;
      return refused ? ExeRtn.BadCondition : ExeRtn.Failed;
    }
  }

  /** 3011-3019 on the device whose control maps the command for the PolId (edge/control.ts). */
  async control(cn: string, polId: string | undefined, params: Record<string, string>): Promise<ControlResult> {
    const device = controlDevice(this.config.devices, cn, polId);
    const poller = device && this.pollerOf(device.bus);
    if (!device?.control || !poller || !isControlCn(cn)) return { exeRtn: ExeRtn.BadCondition, reason: 'not-mapped' };
    // One action per analyzer at a time: a platform repeating 3011 gets ExeRtn 5 (busy, table 6), not a queue.
    if (this.controlling.has(device.id)) return { exeRtn: ExeRtn.Busy, reason: 'control-busy' };
    this.controlling.add(device.id);
    const result = await runControl(cn, polId ?? device.factors[0]!.code, device.control, params, {
      run: (action) => poller.control(device.id, action),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      // Verdict timeouts run on elapsed time, not on the station clock a 1012 may move.
      now: this.clock.elapsed,
    }).finally(() => this.controlling.delete(device.id));
    this.logger.info(
      { device: device.id, cn, polId, exeRtn: result.exeRtn, reason: result.reason },
      'analyzer control',
    );
    return result;
  }

  private pollerOf(bus: string): BusPoller | undefined {
    return this.pollers[this.config.buses.findIndex((b) => b.id === bus)];
  }
}
