import {
  RegisterError,
  decodeRaw as decodeWords,
  decodeValue as decodeScaled,
  encodeValue,
  registerWidth,
} from '../modbus/registers.js';
import type { DeviceConfig, HjFlag, RegisterSpec, StatusSpec } from './config.js';

// The register codec is modbus/registers.ts (shared with the analyzer simulator); this file places values in
// the blocks one poll read and applies the edge's rules (non-finite readings are errors, not data).
export { RegisterError, registerWidth };

/** The registers of `spec` among `words` (16-bit registers starting at `base`). */
function registersOf(
  words: readonly number[],
  base: number,
  spec: Pick<RegisterSpec, 'address' | 'type'>,
): readonly number[] {
  const width = registerWidth(spec.type);
  const start = spec.address - base;
  const slice = words.slice(start, start + width);
  if (start < 0 || slice.length !== width) {
    throw new RegisterError(
      `register ${spec.address} (${spec.type}) is outside the ${words.length} registers read from ${base}`,
    );
  }
  return slice;
}

/** The raw value of `spec` in `words` (16-bit registers starting at `base`). */
export function decodeRaw(
  words: readonly number[],
  base: number,
  spec: Pick<RegisterSpec, 'address' | 'type' | 'byteOrder' | 'wordOrder'>,
): number {
  return decodeWords(registersOf(words, base, spec), spec);
}

/** The engineering value (raw × scale + offset); non-finite readings are errors, not data. */
export function decodeValue(words: readonly number[], base: number, spec: RegisterSpec): number {
  const registers = registersOf(words, base, spec);
  const value = decodeScaled(registers, spec);
  if (!Number.isFinite(value)) {
    throw new RegisterError(`register ${spec.address} holds ${decodeWords(registers, spec)}, not a reading`);
  }
  return value;
}

/**
 * The registers that make `value` read back as `value` through `spec` (the inverse of decodeValue),
 * for writing analyzer parameters (3021). Integers are rounded; a value the type cannot hold is an error.
 */
export function encodeRegisters(value: number, spec: RegisterSpec): number[] {
  if (!Number.isFinite((value - spec.offset) / spec.scale))
    throw new RegisterError(`${value} is not a value register ${spec.address} can hold`);
  try {
    return encodeValue(value, spec, 'error');
  } catch (err) {
    if (!(err instanceof RegisterError)) throw err;
    throw new RegisterError(
      `${value} does not fit register ${spec.address} (${spec.type}, scale ${spec.scale}, offset ${spec.offset})`,
    );
  }
}

/** The HJ 212 data flag a status register value stands for; unknown codes are faults (D), never N. */
export function statusFlag(words: readonly number[], base: number, spec: StatusSpec): HjFlag {
  const code = decodeRaw(words, base, spec);
  return spec.flags[String(code)] ?? 'D';
}

/** One Modbus read: `count` registers from `address` with one function code. */
export interface ReadBlock {
  function: RegisterSpec['function'];
  address: number;
  count: number;
}

interface Wanted {
  function: RegisterSpec['function'];
  from: number;
  to: number;
}

/**
 * The order of Modbus function names (ASCII): `localeCompare` would give the same for them, but its first
 * call loads ICU's collation data (about 2.5 MB of the box's memory, for the whole run).
 */
const byFunction = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Coalesces the registers a device needs into as few reads as possible: ranges closer than
 * `maxGap` registers share one read (bytes on a 9600 baud line cost less than a request round trip),
 * no read exceeds `maxRegisters`.
 */
export function planReads(
  specs: readonly Pick<RegisterSpec, 'address' | 'type' | 'function'>[],
  maxGap: number,
  maxRegisters: number,
): ReadBlock[] {
  const wanted: Wanted[] = specs
    .map((s) => ({ function: s.function, from: s.address, to: s.address + registerWidth(s.type) }))
    .sort((a, b) => byFunction(a.function, b.function) || a.from - b.from);
  const blocks: ReadBlock[] = [];
  let current: Wanted | undefined;
  for (const w of wanted) {
    const joins =
      current &&
      current.function === w.function &&
      w.from - current.to <= maxGap &&
      Math.max(current.to, w.to) - current.from <= maxRegisters;
    if (current && joins) {
      current.to = Math.max(current.to, w.to);
      continue;
    }
    if (current) blocks.push({ function: current.function, address: current.from, count: current.to - current.from });
    current = { ...w };
  }
  if (current) blocks.push({ function: current.function, address: current.from, count: current.to - current.from });
  return blocks;
}

/** Every register a device's readings need (values and statuses), for `planReads`. */
export function readingRegisters(device: DeviceConfig): Pick<RegisterSpec, 'address' | 'type' | 'function'>[] {
  const statuses = [device.status, ...device.factors.map((f) => f.status), device.cycle].filter((s) => s !== undefined);
  return [...device.factors.map((f) => f.value), ...statuses];
}

/** What one poll read, by function code: blocks of consecutive registers from `base`. */
export type RegisterImage = Map<string, { base: number; words: number[] }[]>;

function blockFor(
  image: RegisterImage,
  spec: Pick<RegisterSpec, 'address' | 'type' | 'function'>,
): { base: number; words: number[] } {
  const end = spec.address + registerWidth(spec.type);
  const found = image.get(spec.function)?.find((b) => b.base <= spec.address && end <= b.base + b.words.length);
  if (!found) throw new RegisterError(`register ${spec.address} was not read`);
  return found;
}

export interface FactorReading {
  code: string;
  value: number;
  flag: HjFlag;
  /** A cycle value of a non-continuous analyzer (edge/readings.ts): the aggregator keeps it apart. */
  cyclic?: boolean;
  /** When its sample was taken (epoch ms), sent as SampleTime (HJ 212-2017 table 4, C.14). */
  sampleTime?: number;
}

/** The readings of a device from the blocks read this poll (pure: the caller did the I/O). */
export function deviceReadings(device: DeviceConfig, image: RegisterImage): FactorReading[] {
  return device.factors.map((factor) => {
    const block = blockFor(image, factor.value);
    const value = decodeValue(block.words, block.base, factor.value);
    const status = factor.status ?? device.status;
    const statusBlock = status && blockFor(image, status);
    const flag = status && statusBlock ? statusFlag(statusBlock.words, statusBlock.base, status) : 'N';
    return { code: factor.code, value, flag };
  });
}

/** The cycle register of a non-continuous analyzer (undefined for a continuous one). */
export function deviceCycleMarker(device: DeviceConfig, image: RegisterImage): number | undefined {
  if (!device.cycle) return undefined;
  const block = blockFor(image, device.cycle);
  return decodeRaw(block.words, block.base, device.cycle);
}

/** A device's analyzer parameters (3020 i-codes) from the blocks read. */
export function deviceParameters(device: DeviceConfig, image: RegisterImage): Record<string, number> {
  return Object.fromEntries(
    device.parameters.map((p) => {
      const block = blockFor(image, p);
      return [p.info, decodeValue(block.words, block.base, p)];
    }),
  );
}
