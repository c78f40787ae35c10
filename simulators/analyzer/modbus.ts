import type { Comms } from './signal.js';
import type { GarbleMode } from './scenario.js';

/** Modbus exception codes (Modbus Application Protocol v1.1b3 §7). */
export const MODBUS_EXCEPTIONS = {
  illegalFunction: 0x01,
  illegalDataAddress: 0x02,
  illegalDataValue: 0x03,
  slaveDeviceBusy: 0x06,
  gatewayTargetFailed: 0x0b,
} as const;

export type WriteOutcome = 'ok' | 'illegal-address' | 'illegal-value' | 'busy';

/** One unit id's registers; FC03 and FC04 read the same map, as on most analyzers. */
export interface ModbusSlave {
  comms(): Comms;
  /** undefined when any address in the range is not mapped. */
  read(address: number, count: number): number[] | undefined;
  write(address: number, words: readonly number[]): WriteOutcome;
  /** FC01 and FC05, where the slave has coils (the analyzers' control coils). */
  readCoils?(address: number, count: number): boolean[] | undefined;
  writeCoil?(address: number, on: boolean): WriteOutcome;
}

export type Answer =
  { kind: 'silent'; reason: 'unknown-unit' | 'dropout' } | { kind: 'reply'; pdu: Buffer; garble?: GarbleMode };

// Limits from the spec: a read fits 125 registers in a 253-byte PDU, a write 123.
const MAX_READ = 125;
const MAX_WRITE = 123;

export function exceptionPdu(functionCode: number, code: number): Buffer {
  return Buffer.from([functionCode | 0x80, code]);
}

function writeException(functionCode: number, outcome: Exclude<WriteOutcome, 'ok'>): Buffer {
  const code =
    outcome === 'illegal-address'
      ? MODBUS_EXCEPTIONS.illegalDataAddress
      : outcome === 'busy'
        ? MODBUS_EXCEPTIONS.slaveDeviceBusy
        : MODBUS_EXCEPTIONS.illegalDataValue;
  return exceptionPdu(functionCode, code);
}

/** Answers one request PDU (function code + data) from a slave's registers. */
export function handlePdu(slave: ModbusSlave, pdu: Buffer): Buffer {
  const fc = pdu[0] ?? 0;
  const { illegalFunction, illegalDataAddress, illegalDataValue } = MODBUS_EXCEPTIONS;
  const coils = fc === 1 || fc === 5;
  if (![3, 4, 6, 16].includes(fc) && !(coils && slave.readCoils && slave.writeCoil))
    return exceptionPdu(fc, illegalFunction);
  if (pdu.length < 5) return exceptionPdu(fc, illegalDataValue);
  const address = pdu.readUInt16BE(1);
  if (fc === 5) {
    const value = pdu.readUInt16BE(3);
    // Modbus v1.1b3 §6.5: 0xFF00 is ON, 0x0000 OFF, anything else illegal.
    if (pdu.length !== 5 || (value !== 0xff00 && value !== 0)) return exceptionPdu(fc, illegalDataValue);
    const outcome = slave.writeCoil!(address, value === 0xff00);
    return outcome === 'ok' ? Buffer.from(pdu) : writeException(fc, outcome);
  }
  if (fc === 1) {
    const count = pdu.readUInt16BE(3);
    if (pdu.length !== 5 || count < 1 || count > 2000) return exceptionPdu(fc, illegalDataValue);
    const bits = slave.readCoils!(address, count);
    if (!bits) return exceptionPdu(fc, illegalDataAddress);
    const reply = Buffer.alloc(2 + Math.ceil(count / 8));
    reply[0] = fc;
    reply[1] = Math.ceil(count / 8);
    bits.forEach((on, i) => {
      if (on) reply[2 + (i >> 3)]! |= 1 << (i & 7);
    });
    return reply;
  }
  if (fc === 6) {
    if (pdu.length !== 5) return exceptionPdu(fc, illegalDataValue);
    const outcome = slave.write(address, [pdu.readUInt16BE(3)]);
    return outcome === 'ok' ? Buffer.from(pdu) : writeException(fc, outcome);
  }
  const count = pdu.readUInt16BE(3);
  if (fc === 16) {
    const byteCount = pdu[5];
    if (count < 1 || count > MAX_WRITE || byteCount !== count * 2 || pdu.length !== 6 + count * 2) {
      return exceptionPdu(fc, illegalDataValue);
    }
    if (address + count > 0x10000) return exceptionPdu(fc, illegalDataAddress);
    const words = Array.from({ length: count }, (_, i) => pdu.readUInt16BE(6 + i * 2));
    const outcome = slave.write(address, words);
    return outcome === 'ok' ? Buffer.from(pdu.subarray(0, 5)) : writeException(fc, outcome);
  }
  if (pdu.length !== 5 || count < 1 || count > MAX_READ) return exceptionPdu(fc, illegalDataValue);
  const words = address + count > 0x10000 ? undefined : slave.read(address, count);
  if (!words) return exceptionPdu(fc, illegalDataAddress);
  const reply = Buffer.alloc(2 + count * 2);
  reply[0] = fc;
  reply[1] = count * 2;
  words.forEach((word, i) => reply.writeUInt16BE(word, 2 + i * 2));
  return reply;
}

/** Routes a request to its unit and applies the unit's scripted communication faults. */
export function answerRequest(slaves: ReadonlyMap<number, ModbusSlave>, unit: number, pdu: Buffer): Answer {
  const slave = slaves.get(unit);
  if (!slave) return { kind: 'silent', reason: 'unknown-unit' };
  const comms = slave.comms();
  if (comms.kind === 'dropout') return { kind: 'silent', reason: 'dropout' };
  const reply = handlePdu(slave, pdu);
  return comms.kind === 'garbled' ? { kind: 'reply', pdu: reply, garble: comms.mode } : { kind: 'reply', pdu: reply };
}
