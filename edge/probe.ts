import { factor as factorDef } from '../protocol/index.js';
import type { BusConfig, DeviceConfig, EdgeConfig, HjFlag, RegisterSpec, StatusSpec } from './config.js';
import { facilityDevice } from './facilities.js';
import { closeModbusClient, openModbusClient, readRegisterBlocks } from './modbus.js';
import type { ModbusClient } from './modbus.js';
import { DeviceReadError } from './modbus-errors.js';
import {
  RegisterError,
  decodeRaw,
  decodeValue,
  deviceReadings,
  planReads,
  readingRegisters,
  registerWidth,
} from './registers.js';
import type { ReadBlock, RegisterImage } from './registers.js';
import { conversionFor, readingUnit, toAppendixB } from './units.js';
import type { Conversion } from './units.js';

/**
 * `hj212 edge probe`: every device polled once, live, with the agent's own reads and decoding, and
 * each factor shown the way an integrator checks it against the analyzer's display: the registers as
 * read, the value decoded, what the agent would send, the status and flag, or the exact error.
 */

export interface ProbeFactor {
  code: string;
  /** `holding 0 float32`, with the byte and word order when they are not big-endian. */
  register: string;
  /** The value register's words as read, in hex. */
  raw?: string[];
  /** raw × scale + offset: the value in the analyzer's own unit (`readUnit`, where it is not appendix B's). */
  value?: number;
  readUnit?: string;
  /** What the agent sends for it (the value in the unit of HJ 212-2017 appendix B), and that unit. */
  sent?: number;
  unit?: string;
  /** The status register's code and the flag it maps to (N without a status register). */
  status?: number;
  flag?: HjFlag;
  error?: string;
  /** A likely fix, such as another word order that reads a plausible value. */
  hint?: string;
}

export interface ProbeDevice {
  device: string;
  bus: string;
  unit: number;
  /** A failure of the device as a whole (its bus would not open, or the agent's coalesced read fails). */
  error?: string;
  factors: ProbeFactor[];
}

/** Whether every device answered and every factor decoded to a plausible value. */
export function probeOk(devices: readonly ProbeDevice[]): boolean {
  return devices.every(
    (d) => d.error === undefined && d.factors.every((f) => f.error === undefined && f.hint === undefined),
  );
}

const hex = (word: number) => word.toString(16).toUpperCase().padStart(4, '0');

function registerLabel(spec: RegisterSpec): string {
  const orders = [
    spec.byteOrder === 'little' ? 'byteOrder little' : '',
    spec.wordOrder === 'little' && registerWidth(spec.type) > 1 ? 'wordOrder little' : '',
  ].filter(Boolean);
  return [spec.function, String(spec.address), spec.type, ...orders].join(' ');
}

/** Readings no analyzer gives: denormal, huge or non-finite floats are the sign of a wrong byte or word order. */
function plausible(value: number): boolean {
  return Number.isFinite(value) && (value === 0 || (Math.abs(value) >= 1e-4 && Math.abs(value) < 1e9));
}

/** For a float that reads implausibly, the byte/word order that reads a plausible value, fewest changes first. */
function orderHint(words: readonly number[], base: number, spec: RegisterSpec): string | undefined {
  if (spec.type !== 'float32' && spec.type !== 'float64') return undefined;
  if (plausible(decodeRaw(words, base, spec))) return undefined;
  const flip = (o: 'big' | 'little') => (o === 'big' ? 'little' : 'big');
  const candidates: Pick<RegisterSpec, 'byteOrder' | 'wordOrder'>[] = [
    { byteOrder: spec.byteOrder, wordOrder: flip(spec.wordOrder) },
    { byteOrder: flip(spec.byteOrder), wordOrder: spec.wordOrder },
    { byteOrder: flip(spec.byteOrder), wordOrder: flip(spec.wordOrder) },
  ];
  for (const orders of candidates) {
    const raw = decodeRaw(words, base, { ...spec, ...orders });
    if (!plausible(raw)) continue;
    const changes = (['byteOrder', 'wordOrder'] as const).filter((k) => orders[k] !== spec[k]);
    const value = formatNumber(raw * spec.scale + spec.offset, spec.type);
    return `${changes.map((k) => `${k}: ${orders[k]}`).join(', ')} reads ${value}`;
  }
  return undefined;
}

/** A float32 carries about 7 significant digits; more would show noise, not the reading. */
export function formatNumber(value: number, type: RegisterSpec['type'] = 'float64'): string {
  return String(Number(value.toPrecision(type === 'float32' ? 7 : 12)));
}

function wordsOf(image: RegisterImage, spec: Pick<RegisterSpec, 'address' | 'type' | 'function'>): number[] {
  const width = registerWidth(spec.type);
  const block = image
    .get(spec.function)
    ?.find((b) => b.base <= spec.address && spec.address + width <= b.base + b.words.length);
  if (!block) throw new RegisterError(`register ${spec.address} was not read`);
  return block.words.slice(spec.address - block.base, spec.address - block.base + width);
}

/** One factor from what was read, through the agent's own decoding (deviceReadings). */
/** The analyzer's unit of a factor and the conversion to appendix B's, where the config states another. */
type UnitOf = (f: DeviceConfig['factors'][number]) => { unit: string; conversion: Conversion } | undefined;

function unitsOf(station: EdgeConfig['station']): UnitOf {
  return (f) => {
    const unit = readingUnit(f, station);
    if (unit === undefined) return undefined;
    const conversion = conversionFor(f.code, unit, f.molarMass);
    // parseEdgeConfig refused a unit that does not convert; a hand-built config shows it unconverted.
    return typeof conversion === 'string' ? undefined : { unit, conversion };
  };
}

function factorRow(
  device: DeviceConfig,
  f: DeviceConfig['factors'][number],
  image: RegisterImage,
  unitOf: UnitOf,
): ProbeFactor {
  const def = factorDef(f.code);
  const row: ProbeFactor = { code: f.code, register: registerLabel(f.value) };
  if (def?.unit !== undefined) row.unit = def.unit;
  const read = unitOf(f);
  if (read && read.unit !== def?.unit) row.readUnit = read.unit;
  try {
    const words = wordsOf(image, f.value);
    row.raw = words.map(hex);
    row.hint = orderHint(words, f.value.address, f.value);
    if (row.hint === undefined) delete row.hint;
    const status: StatusSpec | undefined = f.status ?? device.status;
    if (status) row.status = decodeRaw(wordsOf(image, status), status.address, status);
    // A float32 carries about 7 significant digits: more would show noise, not the reading.
    row.value = Number(formatNumber(decodeValue(words, f.value.address, f.value), f.value.type));
    const [reading] = deviceReadings({ ...device, factors: [f] }, image);
    // What the agent sends: the reading converted to appendix B's unit, as edge/readings.ts does it.
    const sent = read ? toAppendixB(reading!.value, read.conversion) : reading!.value;
    row.sent = Number(sent.toFixed(f.decimals));
    row.flag = reading!.flag;
  } catch (err) {
    row.error = (err as Error).message;
  }
  return row;
}

/** The one-register reads of a factor (value and status), to tell which register an error belongs to. */
function factorBlocks(device: DeviceConfig, f: DeviceConfig['factors'][number]): ReadBlock[] {
  const status = f.status ?? device.status;
  return [f.value, ...(status ? [status] : [])].map((spec) => ({
    function: spec.function,
    address: spec.address,
    count: registerWidth(spec.type),
  }));
}

async function probeDevice(
  client: ModbusClient,
  bus: BusConfig,
  device: DeviceConfig,
  unitOf: UnitOf,
): Promise<ProbeDevice> {
  const result: ProbeDevice = { device: device.id, bus: bus.id, unit: device.unit, factors: [] };
  const blocks = planReads(readingRegisters(device), bus.maxGap, bus.maxRegisters);
  try {
    const image = await readRegisterBlocks(client, device, blocks, bus.timeoutMs);
    result.factors = device.factors.map((f) => factorRow(device, f, image, unitOf));
    return result;
  } catch (err) {
    const gateway = err instanceof DeviceReadError && err.failure.kind === 'exception' && err.failure.code >= 10;
    if (!(err instanceof DeviceReadError) || err.failure.kind === 'timeout' || gateway) {
      // A silent unit would time out once per register, and a gateway that cannot reach it (exceptions
      // 10 and 11) says so for every register: one answer says it all.
      result.factors = device.factors.map((f) => ({
        code: f.code,
        register: registerLabel(f.value),
        error: (err as Error).message,
      }));
      return result;
    }
    // An exception or a garbled reply: each factor's registers alone, so the error names its register.
    for (const f of device.factors) {
      try {
        const image = await readRegisterBlocks(client, device, factorBlocks(device, f), bus.timeoutMs);
        result.factors.push(factorRow(device, f, image, unitOf));
      } catch (one) {
        result.factors.push({ code: f.code, register: registerLabel(f.value), error: (one as Error).message });
      }
    }
    if (result.factors.every((f) => f.error === undefined)) {
      result.error =
        err.failure.kind === 'exception'
          ? `${err.message}, although each register answers alone: the agent reads them in one request; lower the ` +
            `bus's maxGap below the gap between them`
          : `${err.message}; read again, each register answered: the line is noisy ` +
            '(check shielding, termination and earthing)';
    }
    return result;
  }
}

/** Polls every device of the configuration once, bus after bus, device after device. */
export async function probeDevices(config: EdgeConfig): Promise<ProbeDevice[]> {
  const out: ProbeDevice[] = [];
  const unitOf = unitsOf(config.station);
  for (const bus of config.buses) {
    // Treatment facilities' run-state registers are read like a device's, one factor each (SBxxx).
    const devices = [...config.devices, ...config.facilities.map(facilityDevice)].filter((d) => d.bus === bus.id);
    if (devices.length === 0) continue;
    let client: ModbusClient | undefined;
    let openError: string | undefined;
    for (const device of devices) {
      if (!client?.isOpen && openError === undefined) {
        // A connection the previous device's failure broke is closed before a new one is opened.
        if (client) await closeModbusClient(client, bus.id);
        try {
          // A port error after opening shows in the next read's error; nothing more to do with it here.
          client = await openModbusClient(bus, () => undefined);
        } catch (err) {
          openError =
            `cannot open bus ${bus.id} (${bus.kind === 'tcp' ? `${bus.host}:${bus.port}` : bus.path}): ` +
            `${(err as Error).message}`;
        }
      }
      if (openError !== undefined || !client) {
        out.push({ device: device.id, bus: bus.id, unit: device.unit, error: openError, factors: [] });
        continue;
      }
      out.push(await probeDevice(client, bus, device, unitOf));
    }
    if (client) await closeModbusClient(client, bus.id);
  }
  return out;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}

const HEADER = ['factor', 'register', 'raw', 'value', 'sent (appendix B)', 'status', 'flag', 'error / hint'];

/** The probe as text: a table per device, one row per factor. */
export function formatProbe(devices: readonly ProbeDevice[]): string {
  const lines: string[] = [];
  for (const d of devices) {
    const failed = d.factors.filter((f) => f.error !== undefined).length;
    const hinted = d.factors.filter((f) => f.error === undefined && f.hint !== undefined).length;
    const verdict =
      d.factors.length === 0 || failed === d.factors.length
        ? 'FAILED'
        : failed > 0
          ? `${failed} of ${d.factors.length} factors FAILED`
          : hinted > 0
            ? `answers; CHECK ${hinted === 1 ? '1 factor that reads' : `${hinted} factors that read`}` +
              ' an implausible value'
            : d.error === undefined
              ? 'ok'
              : 'CHECK the read plan';
    lines.push(`device ${d.device} (bus ${d.bus}, unit ${d.unit}): ${verdict}`);
    if (d.error !== undefined) lines.push(`  ${d.error}`);
    if (d.factors.length > 0) {
      const rows = d.factors.map((f) => [
        f.code,
        f.register,
        f.raw?.join(' ') ?? '-',
        f.value === undefined ? '-' : `${formatNumber(f.value)}${f.readUnit === undefined ? '' : ` ${f.readUnit}`}`,
        f.sent === undefined ? '-' : `${f.sent}${f.unit && f.unit !== 'dimensionless' ? ` ${f.unit}` : ''}`,
        f.status === undefined ? '-' : String(f.status),
        f.flag ?? '-',
        [f.error, f.hint === undefined ? undefined : `hint: ${f.hint}`].filter((t) => t !== undefined).join('; '),
      ]);
      lines.push(...table([HEADER, ...rows]).map((l) => `  ${l}`));
    }
    lines.push('');
  }
  return lines.join('\n');
}
