import type { Logger } from 'pino';
import { SerialPort } from 'serialport';
import { crc16Modbus } from '../../protocol/crc.js';
import type { Answer } from './modbus.js';
import type { GarbleMode } from './scenario.js';
import { AnalyzerConfigError } from './validation.js';

/**
 * Modbus RTU slave framing over `serialport`. modbus-serial's ServerSerial is not used: it overwrites
 * the request CRC with a freshly computed one before checking it (so corrupted requests are answered)
 * and delimits frames only by a 30 ms read pause, which can cut a frame delivered in pieces or merge
 * back-to-back ones.
 * Here a request is delimited by the length its function code implies and accepted only with a valid CRC.
 */

export interface RtuRequest {
  unit: number;
  pdu: Buffer;
}

const MIN_FRAME = 4; // unit + function code + CRC
const MAX_FRAME = 256;

function crcMatches(frame: Buffer): boolean {
  return frame.length >= MIN_FRAME && crc16Modbus(frame.subarray(0, -2)) === frame.readUInt16LE(frame.length - 2);
}

/** Length of the request at the head of `buffer`, or undefined until enough bytes have arrived to tell. */
function requestLength(buffer: Buffer): number | undefined {
  const fc = buffer[1];
  if (fc === undefined) return undefined;
  if (fc >= 1 && fc <= 6) return 8;
  if (fc === 15 || fc === 16) return buffer.length > 6 ? 9 + (buffer[6] ?? 0) : undefined;
  // Other functions (answered "illegal function") have no length we track: take the first CRC match.
  for (let length = MIN_FRAME; length <= buffer.length; length++) {
    if (crcMatches(buffer.subarray(0, length))) return length;
  }
  return buffer.length >= MAX_FRAME ? MAX_FRAME : undefined;
}

/** Splits a byte stream into CRC-checked requests, however the reads cut it; line noise is skipped. */
export class RtuRequestFramer {
  #buffer = Buffer.alloc(0);

  push(chunk: Buffer): RtuRequest[] {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    const requests: RtuRequest[] = [];
    for (;;) {
      const length = requestLength(this.#buffer);
      if (length === undefined) {
        // The head may be noise that never completes: skip to a complete request further on, if any.
        const next = this.#nextCompleteRequest();
        if (next === undefined) break;
        this.#buffer = this.#buffer.subarray(next);
        continue;
      }
      if (this.#buffer.length < length) break;
      const frame = this.#buffer.subarray(0, length);
      if (crcMatches(frame)) {
        requests.push({ unit: frame[0] ?? 0, pdu: Buffer.from(frame.subarray(1, -2)) });
        this.#buffer = this.#buffer.subarray(length);
      } else {
        this.#buffer = this.#buffer.subarray(1); // resynchronise one byte further on
      }
    }
    return requests;
  }

  #nextCompleteRequest(): number | undefined {
    for (let offset = 1; offset + MIN_FRAME <= this.#buffer.length; offset++) {
      const rest = this.#buffer.subarray(offset);
      const length = requestLength(rest);
      if (length !== undefined && length <= rest.length && crcMatches(rest.subarray(0, length))) return offset;
    }
    return undefined;
  }

  get pending(): boolean {
    return this.#buffer.length > 0;
  }

  /** Called after a silent interval: whatever is buffered can no longer become a frame. */
  reset(): void {
    this.#buffer = Buffer.alloc(0);
  }
}

/** An RTU reply frame; a garbled one has its CRC inverted or loses its last three bytes. */
export function rtuReply(unit: number, pdu: Buffer, garble?: GarbleMode): Buffer {
  const frame = Buffer.alloc(pdu.length + 3);
  frame[0] = unit;
  pdu.copy(frame, 1);
  const crc = crc16Modbus(frame.subarray(0, -2));
  frame.writeUInt16LE(garble === 'bad-crc' ? crc ^ 0xffff : crc, frame.length - 2);
  return garble === 'truncated' ? frame.subarray(0, -3) : frame;
}

export interface RtuOptions {
  path: string;
  baudRate: number;
  parity: 'none' | 'even' | 'odd';
  dataBits: 7 | 8;
  stopBits: 1 | 2;
}

/**
 * The Modbus 3.5-character silent interval, floored at 20 ms: OS, USB and pty scheduling pause
 * mid-frame far longer than the line itself would.
 */
export function silentIntervalMs(baudRate: number): number {
  return Math.max(20, (3.5 * 11 * 1000) / baudRate);
}

export interface RtuServer {
  close(): Promise<void>;
}

export async function serveRtu(
  options: RtuOptions,
  respond: (unit: number, pdu: Buffer) => Answer,
  logger: Logger,
): Promise<RtuServer> {
  const port = new SerialPort({ ...options, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((err) => {
      if (!err) return resolve();
      const fix = 'check the device name and that no other program holds it';
      reject(new AnalyzerConfigError(`rtu: cannot open ${options.path} (${err.message}); ${fix}`));
    }),
  );
  const framer = new RtuRequestFramer();
  let silence: NodeJS.Timeout | undefined;
  port.on('data', (chunk: Buffer) => {
    clearTimeout(silence);
    for (const { unit, pdu } of framer.push(chunk)) {
      const answer = respond(unit, pdu);
      if (answer.kind === 'reply') port.write(rtuReply(unit, answer.pdu, answer.garble));
    }
    if (framer.pending) silence = setTimeout(() => framer.reset(), silentIntervalMs(options.baudRate));
  });
  port.on('error', (err) => logger.error({ err, path: options.path }, 'serial port error'));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        clearTimeout(silence);
        if (!port.isOpen) return resolve();
        port.close(() => resolve());
      }),
  };
}
