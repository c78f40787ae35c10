import type { DeviceConfig } from './config.js';
import type { ReadBlock } from './registers.js';
import { registerWidth } from './registers.js';

/**
 * Exception codes a Modbus slave or gateway answers with (Modbus Application Protocol v1.1b3 §7),
 * with what they mean at an outlet.
 */
export const MODBUS_EXCEPTION_NAMES: Readonly<Record<number, string>> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'slave device failure',
  5: 'acknowledge',
  6: 'slave device busy',
  8: 'memory parity error',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** Why a Modbus request failed, as an integrator tells the cases apart. */
export type ModbusFailure =
  { kind: 'timeout' } | { kind: 'exception'; code: number } | { kind: 'crc' } | { kind: 'other'; message: string };

export function classifyModbusError(err: unknown): ModbusFailure {
  const e = err as { message?: string; modbusCode?: number; errno?: string; code?: string };
  if (typeof e.modbusCode === 'number') return { kind: 'exception', code: e.modbusCode };
  if (e.errno === 'ETIMEDOUT' || e.code === 'ETIMEDOUT') return { kind: 'timeout' };
  if (/CRC error/i.test(e.message ?? '')) return { kind: 'crc' };
  return { kind: 'other', message: e.message ?? String(err) };
}

export function exceptionText(code: number): string {
  return `exception ${code} (${MODBUS_EXCEPTION_NAMES[code] ?? 'not defined by the Modbus specification'})`;
}

/** What the registers of a device stand for: `w01018`, `w01018 status`, `status`, an i-code. */
function registerOwners(device: DeviceConfig, block: ReadBlock): string[] {
  const within = (spec: { address: number; type: Parameters<typeof registerWidth>[0]; function: string }) =>
    spec.function === block.function &&
    spec.address < block.address + block.count &&
    spec.address + registerWidth(spec.type) > block.address;
  const owners: string[] = [];
  for (const f of device.factors) {
    if (within(f.value)) owners.push(`factor ${f.code}`);
    if (f.status && within(f.status)) owners.push(`the status of ${f.code}`);
  }
  if (device.status && within(device.status)) owners.push('the device status');
  for (const p of device.parameters) if (within(p)) owners.push(`parameter ${p.info}`);
  return owners;
}

/** `register 0 (holding) of factor w01018`, or the range and every owner of a coalesced read. */
export function blockText(device: DeviceConfig, block: ReadBlock): string {
  const registers =
    block.count === 1 ? `register ${block.address}` : `registers ${block.address}-${block.address + block.count - 1}`;
  const owners = registerOwners(device, block);
  return `${registers} (${block.function})${owners.length > 0 ? ` of ${owners.join(', ')}` : ''}`;
}

/**
 * One line a person can act on: who answered what, for which registers, e.g. `unit 1 answered with
 * exception 2 (illegal data address) for register 0 (holding) of factor w01018`.
 */
export function failureText(device: DeviceConfig, block: ReadBlock, err: unknown, timeoutMs: number): string {
  const unit = `unit ${device.unit}`;
  const what = blockText(device, block);
  const failure = classifyModbusError(err);
  switch (failure.kind) {
    case 'exception':
      return `${unit} answered with ${exceptionText(failure.code)} for ${what}`;
    case 'timeout':
      return `no answer from ${unit} within ${timeoutMs} ms (timeout) reading ${what}`;
    case 'crc':
      return (
        `${unit}'s reply failed its CRC check reading ${what} ` +
        '(noise, wrong baud rate or parity, or two slaves with one id)'
      );
    case 'other':
      return `${unit} reading ${what}: ${failure.message}`;
  }
}

/**
 * A failed read of one block of a device's registers. The original error stays the cause and its
 * codes are kept, so a broken port is still told apart from a silent slave.
 */
export class DeviceReadError extends Error {
  override name = 'DeviceReadError';
  readonly failure: ModbusFailure;
  readonly code: string | undefined;
  readonly errno: string | undefined;
  readonly modbusCode: number | undefined;

  constructor(
    readonly device: DeviceConfig,
    readonly block: ReadBlock,
    cause: unknown,
    timeoutMs: number,
  ) {
    super(failureText(device, block, cause, timeoutMs), { cause });
    const e = cause as { code?: string; errno?: string; modbusCode?: number };
    this.failure = classifyModbusError(cause);
    this.code = e.code;
    this.errno = e.errno;
    this.modbusCode = e.modbusCode;
  }
}
