import ModbusSerial from 'modbus-serial';
import type { Logger } from 'pino';
import type { BusConfig, DeviceConfig } from './config.js';
import {
  RegisterError,
  deviceCycleMarker,
  deviceParameters,
  deviceReadings,
  encodeRegisters,
  planReads,
  readingRegisters,
} from './registers.js';
import type { FactorReading, ReadBlock, RegisterImage } from './registers.js';
import { DeviceReadError } from './modbus-errors.js';
import type { ModbusAction } from './control.js';

// modbus-serial's typings declare an ES default export; under NodeNext the CommonJS module itself is the class.
const ModbusRTU = ModbusSerial as unknown as typeof ModbusSerial.default;
export type ModbusClient = InstanceType<typeof ModbusRTU>;

/** One poll of a device: readings (B-flagged, value held, when the device did not answer). */
export interface DevicePoll {
  device: string;
  at: number;
  readings: FactorReading[];
  /** Why the device is B-flagged this poll. */
  error?: string;
  /** The cycle register of a non-continuous analyzer, as read this poll. */
  cycle?: number;
}

export interface DeviceHealth {
  bus: string;
  lastOkAt?: number;
  lastError?: string;
  failures: number;
}

export interface BusPollerOptions {
  logger: Logger;
  /** The agent's clock (ms since epoch), so readings are stamped in simulated time in tests. */
  now: () => number;
  onPoll: (poll: DevicePoll) => void;
  onParameters?: (device: string, parameters: Record<string, number>) => void;
}

interface DeviceState {
  config: DeviceConfig;
  readBlocks: ReadBlock[];
  parameterBlocks: ReadBlock[];
  nextPollAt: number;
  nextParametersAt: number;
  /**
   * A device that failed is not asked again before this instant (ms, real time): its silence costs the bus nothing
   * meanwhile.
   */
  retryAt: number;
  failures: number;
  /** When the first failure of the current run happened (agent clock), for the recovery line. */
  lostAt?: number | undefined;
  held: Map<string, number>;
  health: DeviceHealth;
}

const PORT_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ENOTCONN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EIO',
  'ENXIO',
  'ENOENT',
]);

function describe(err: unknown): string {
  return (err as { message?: string }).message ?? String(err);
}

/** Whether the error means the port (socket, serial device) is unusable, rather than one slave being silent. */
function isPortError(err: unknown, client: ModbusClient | undefined): boolean {
  const e = err as { code?: string; errno?: string; message?: string };
  return !client?.isOpen || PORT_ERRORS.has(e.code ?? e.errno ?? '') || /Port Not Open/.test(e.message ?? '');
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${what}: no answer within ${ms} ms`), { errno: 'ETIMEDOUT' })),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Opens the port of a bus (TCP socket or serial device); `onError` hears port errors after opening. */
export async function openModbusClient(bus: BusConfig, onError: (err: unknown) => void): Promise<ModbusClient> {
  const client = new ModbusRTU();
  const opening =
    bus.kind === 'tcp'
      ? client.connectTCP(bus.host, { port: bus.port, timeout: bus.timeoutMs })
      : client.connectRTUBuffered(bus.path, {
          baudRate: bus.baudRate,
          parity: bus.parity,
          dataBits: bus.dataBits,
          stopBits: bus.stopBits,
        });
  // Without a listener a port error after opening would be an uncaught exception.
  client.on('error', onError);
  try {
    await withTimeout(opening, bus.timeoutMs * 2, `open bus ${bus.id}`);
  } catch (err) {
    await closeModbusClient(client, bus.id);
    throw err;
  }
  client.setTimeout(bus.timeoutMs);
  return client;
}

export async function closeModbusClient(client: ModbusClient, busId: string): Promise<void> {
  // A port that died mid-open may never call back; closing must not hang the caller.
  const closed = new Promise<void>((resolve) =>
    client.isOpen ? client.close(() => resolve()) : client.destroy(() => resolve()),
  );
  await withTimeout(closed, 1000, `close bus ${busId}`).catch(() => undefined);
}

/**
 * Reads `blocks` of a device's registers, one request each. A failure is a DeviceReadError naming the
 * unit, the registers, what they stand for and what went wrong (timeout, exception code, CRC).
 */
export async function readRegisterBlocks(
  client: ModbusClient,
  device: DeviceConfig,
  blocks: readonly ReadBlock[],
  timeoutMs: number,
): Promise<RegisterImage> {
  client.setID(device.unit);
  const image: RegisterImage = new Map();
  for (const block of blocks) {
    const what = `unit ${device.unit} ${block.function} ${block.address}+${block.count}`;
    let data: number[];
    try {
      const read =
        block.function === 'holding'
          ? client.readHoldingRegisters(block.address, block.count)
          : client.readInputRegisters(block.address, block.count);
      // modbus-serial times requests out itself; the race also bounds a reply that never completes.
      ({ data } = await withTimeout(read, timeoutMs + 200, what));
    } catch (err) {
      throw new DeviceReadError(device, block, err, timeoutMs);
    }
    if (data.length !== block.count) throw new RegisterError(`${what}: the reply carried ${data.length} registers`);
    const list = image.get(block.function) ?? [];
    list.push({ base: block.address, words: data });
    image.set(block.function, list);
  }
  return image;
}

/**
 * Polls the devices of one bus, one request at a time (a serial line carries one transaction at a
 * time, and TCP gateways to RS-485 behave the same). A device that stops answering backs off
 * exponentially so the others keep their schedule, and still yields B-flagged readings on its own.
 */
export class BusPoller {
  private client: ModbusClient | undefined;
  private readonly devices: DeviceState[];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private line: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly bus: BusConfig,
    devices: readonly DeviceConfig[],
    private readonly options: BusPollerOptions,
  ) {
    this.devices = devices.map((config) => ({
      config,
      readBlocks: planReads(readingRegisters(config), bus.maxGap, bus.maxRegisters),
      parameterBlocks: planReads(config.parameters, bus.maxGap, bus.maxRegisters),
      nextPollAt: 0,
      nextParametersAt: 0,
      retryAt: 0,
      failures: 0,
      held: new Map(),
      health: { bus: bus.id, failures: 0 },
    }));
  }

  get health(): Record<string, DeviceHealth> {
    return Object.fromEntries(this.devices.map((d) => [d.config.id, { ...d.health }]));
  }

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.closeClient();
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.exclusive(() => this.cycle()).finally(() => {
        const next = Math.min(...this.devices.map((d) => d.nextPollAt));
        this.schedule(Math.max(0, next - Date.now()));
      });
    }, delayMs);
  }

  /** Polls and writes queue behind each other: the line carries one transaction at a time. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.line.then(fn, fn);
    this.line = run.catch(() => undefined);
    return run;
  }

  /**
   * Writes an analyzer parameter (3021) with FC16 and has it read back on the next poll, so the 3020
   * upload that follows reports what the analyzer now holds.
   */
  async writeParameter(deviceId: string, info: string, value: number): Promise<void> {
    const device = this.devices.find((d) => d.config.id === deviceId);
    const spec = device?.config.parameters.find((p) => p.info === info);
    if (!device || !spec) throw new RegisterError(`device ${deviceId} has no parameter ${info}`);
    if (spec.function !== 'holding') throw new RegisterError(`${info} is an input register of ${deviceId}: read-only`);
    const words = encodeRegisters(value, spec);
    await this.exclusive(async () => {
      const client = await this.connected();
      client.setID(device.config.unit);
      await withTimeout(
        client.writeRegisters(spec.address, words),
        this.bus.timeoutMs + 200,
        `unit ${device.config.unit} write ${spec.address}+${words.length}`,
      );
    });
    device.nextParametersAt = 0;
  }

  /**
   * One Modbus request of an analyzer control command (3011-3019, edge/control.ts), queued with the
   * polls; resolves to the registers read (none for a write).
   */
  async control(deviceId: string, action: ModbusAction): Promise<number[]> {
    const device = this.devices.find((d) => d.config.id === deviceId);
    if (!device) throw new RegisterError(`no device ${deviceId} on bus ${this.bus.id}`);
    return this.exclusive(async () => {
      const client = await this.connected();
      client.setID(device.config.unit);
      const what = `unit ${device.config.unit} ${action.op} ${action.address}`;
      const ms = this.bus.timeoutMs + 200;
      if (action.op === 'write-coil') {
        await withTimeout(client.writeCoil(action.address, action.on), ms, what);
        return [];
      }
      if (action.op === 'write-registers') {
        await withTimeout(client.writeRegisters(action.address, action.words), ms, what);
        return [];
      }
      const read =
        action.function === 'holding'
          ? client.readHoldingRegisters(action.address, action.count)
          : client.readInputRegisters(action.address, action.count);
      const { data } = await withTimeout(read, ms, what);
      if (data.length !== action.count) throw new RegisterError(`${what}: the reply carried ${data.length} registers`);
      return data;
    });
  }

  private async cycle(): Promise<void> {
    const due = this.devices.filter((d) => d.nextPollAt <= Date.now()).sort((a, b) => a.nextPollAt - b.nextPollAt);
    for (const device of due) {
      if (this.stopped) return;
      device.nextPollAt = Math.max(device.nextPollAt + device.config.pollSeconds * 1000, Date.now());
      await this.pollDevice(device);
    }
  }

  private async pollDevice(device: DeviceState): Promise<void> {
    const at = this.options.now();
    if (Date.now() < device.retryAt) {
      this.emitFailure(device, at, device.health.lastError ?? 'backing off');
      return;
    }
    try {
      const image = await this.readBlocks(device, device.readBlocks);
      const readings = deviceReadings(device.config, image);
      const cycle = deviceCycleMarker(device.config, image);
      for (const r of readings) device.held.set(r.code, r.value);
      if (device.failures > 0) {
        this.options.logger.info(
          {
            bus: this.bus.id,
            device: device.config.id,
            unit: device.config.unit,
            reason: 'answering',
            failures: device.failures,
            lostSince: device.lostAt === undefined ? undefined : new Date(device.lostAt).toISOString(),
          },
          'device answering again',
        );
      }
      device.lostAt = undefined;
      device.failures = 0;
      device.retryAt = 0;
      device.health = { bus: this.bus.id, lastOkAt: at, failures: 0 };
      this.options.onPoll({ device: device.config.id, at, readings, ...(cycle !== undefined && { cycle }) });
    } catch (err) {
      await this.failed(device, at, err);
      return;
    }
    if (device.parameterBlocks.length > 0 && Date.now() >= device.nextParametersAt) await this.pollParameters(device);
  }

  /** Analyzer parameters change rarely and only feed 3020: a failed read is logged, the readings stand. */
  private async pollParameters(device: DeviceState): Promise<void> {
    device.nextParametersAt = Date.now() + device.config.parametersPollSeconds * 1000;
    try {
      this.options.onParameters?.(
        device.config.id,
        deviceParameters(device.config, await this.readBlocks(device, device.parameterBlocks)),
      );
    } catch (err) {
      this.options.logger.warn(
        { bus: this.bus.id, device: device.config.id, reason: describe(err) },
        'analyzer parameters not read',
      );
      await this.reopenIfBroken(err);
    }
  }

  private async failed(device: DeviceState, at: number, err: unknown): Promise<void> {
    device.failures += 1;
    const backoff = Math.min(
      this.bus.backoffMaxSeconds * 1000,
      device.config.pollSeconds * 1000 * 2 ** (device.failures - 1),
    );
    device.retryAt = Date.now() + backoff;
    const reason = describe(err);
    if (device.failures === 1) device.lostAt = at;
    if (device.failures === 1 || device.failures % 10 === 0) {
      this.options.logger.warn(
        {
          bus: this.bus.id,
          device: device.config.id,
          unit: device.config.unit,
          reason,
          failures: device.failures,
          backoffMs: backoff,
        },
        device.failures === 1 ? 'device lost; its data is B-flagged' : 'device still lost; its data is B-flagged',
      );
    }
    this.emitFailure(device, at, reason);
    await this.reopenIfBroken(err);
  }

  /**
   * A silent slave leaves the port alone; a broken port (socket reset, adapter unplugged) is reopened on the next poll.
   */
  private async reopenIfBroken(err: unknown): Promise<void> {
    if (!(err instanceof RegisterError) && isPortError(err, this.client)) await this.closeClient();
  }

  private emitFailure(device: DeviceState, at: number, reason: string): void {
    device.health = { ...device.health, bus: this.bus.id, lastError: reason, failures: device.failures };
    const readings = device.config.factors.map((f) => ({
      code: f.code,
      value: device.held.get(f.code) ?? Number.NaN,
      flag: 'B' as const,
    }));
    this.options.onPoll({ device: device.config.id, at, readings, error: reason });
  }

  private async readBlocks(device: DeviceState, blocks: readonly ReadBlock[]): Promise<RegisterImage> {
    return readRegisterBlocks(await this.connected(), device.config, blocks, this.bus.timeoutMs);
  }

  private async connected(): Promise<ModbusClient> {
    if (this.client?.isOpen) return this.client;
    await this.closeClient();
    const bus = this.bus;
    this.client = await openModbusClient(bus, (err) =>
      this.options.logger.warn({ bus: bus.id, reason: describe(err) }, 'bus port error; reopening'),
    );
    this.options.logger.info({ bus: bus.id, kind: bus.kind }, 'bus open');
    return this.client;
  }

  private async closeClient(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await closeModbusClient(client, this.bus.id);
  }
}
