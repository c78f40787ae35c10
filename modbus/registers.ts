/**
 * How a number sits in 16-bit Modbus registers: the one codec the edge (reading analyzers, writing their
 * parameters) and the analyzer simulator (serving readings, taking written parameters) both use.
 *
 * The value is written big-endian as bytes A B C D (E F G H for 64 bits) and then reordered, because
 * vendors disagree: `wordOrder: little` puts the low register first (CDAB), `byteOrder: little` swaps
 * the two bytes inside every register (BADC; both little is DCBA). Scale and offset follow vendors'
 * manuals ("scale 0.1": an int16 holding 485 reads 48.5): value = raw × scale + offset.
 */
export const REGISTER_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

export const ORDERS = ['big', 'little'] as const;
export type Order = (typeof ORDERS)[number];

/** The layout of one value in registers. */
export interface RegisterLayout {
  type: RegisterType;
  byteOrder: Order;
  wordOrder: Order;
}

/** A layout with its engineering scaling: value = raw × scale + offset. */
export interface RegisterEncoding extends RegisterLayout {
  scale: number;
  offset: number;
}

/** What an integer raw value outside its type's range becomes when encoded. */
export type Overflow =
  /** An error (the edge writing a parameter: a value the analyzer cannot hold is refused, not altered). */
  | 'error'
  /** The nearest limit, as analyzers show a reading beyond their register's range (the simulator). */
  | 'saturate';

/** Registers a value of `type` spans. */
export function registerWidth(type: RegisterType): 1 | 2 | 4 {
  if (type === 'int16' || type === 'uint16') return 1;
  return type === 'float64' ? 4 : 2;
}

/** Words that do not hold a value of the layout, or a value the layout cannot hold. */
export class RegisterError extends Error {
  override name = 'RegisterError';
}

const INTEGER_RANGES: Partial<Record<RegisterType, readonly [number, number]>> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
};

/** How each type is read from and written to its big-endian bytes (A B C D …). */
const BUFFER_ACCESS: Record<RegisterType, { read(b: Buffer): number; write(b: Buffer, v: number): void }> = {
  int16: { read: (b) => b.readInt16BE(0), write: (b, v) => b.writeInt16BE(v, 0) },
  uint16: { read: (b) => b.readUInt16BE(0), write: (b, v) => b.writeUInt16BE(v, 0) },
  int32: { read: (b) => b.readInt32BE(0), write: (b, v) => b.writeInt32BE(v, 0) },
  uint32: { read: (b) => b.readUInt32BE(0), write: (b, v) => b.writeUInt32BE(v, 0) },
  float32: { read: (b) => b.readFloatBE(0), write: (b, v) => b.writeFloatBE(v, 0) },
  float64: { read: (b) => b.readDoubleBE(0), write: (b, v) => b.writeDoubleBE(v, 0) },
};

const swapBytes = (word: number): number => ((word & 0xff) << 8) | ((word >> 8) & 0xff);

/** The raw number in `words` (exactly the registers of one value, in wire order). */
export function decodeRaw(words: readonly number[], layout: RegisterLayout): number {
  const width = registerWidth(layout.type);
  if (words.length !== width) {
    throw new RegisterError(`a ${layout.type} spans ${width} registers, got ${words.length}`);
  }
  const ordered = layout.wordOrder === 'little' ? [...words].reverse() : words;
  const bytes = Buffer.alloc(width * 2);
  ordered.forEach((word, i) => {
    bytes.writeUInt16BE((layout.byteOrder === 'little' ? swapBytes(word) : word) & 0xffff, i * 2);
  });
  return BUFFER_ACCESS[layout.type].read(bytes);
}

/** The registers (wire order) holding `raw`; integers are rounded, floats stored as the type holds them. */
export function encodeRaw(raw: number, layout: RegisterLayout, overflow: Overflow = 'error'): number[] {
  const range = INTEGER_RANGES[layout.type];
  let stored = raw;
  if (range) {
    if (Number.isNaN(raw)) {
      if (overflow === 'error') throw new RegisterError(`NaN does not fit a ${layout.type}`);
      stored = 0;
    } else {
      stored = Math.round(raw);
      if (stored < range[0] || stored > range[1]) {
        if (overflow === 'error') throw new RegisterError(`${raw} does not fit a ${layout.type}`);
        stored = Math.min(range[1], Math.max(range[0], stored));
      }
    }
  }
  const width = registerWidth(layout.type);
  const bytes = Buffer.alloc(width * 2);
  BUFFER_ACCESS[layout.type].write(bytes, stored);
  const words = Array.from({ length: width }, (_, i) => {
    const word = bytes.readUInt16BE(i * 2);
    return layout.byteOrder === 'little' ? swapBytes(word) : word;
  });
  return layout.wordOrder === 'little' ? words.reverse() : words;
}

/**
 * The engineering value in `words`: raw × scale + offset (NaN and infinities pass through for the caller to
 * judge).
 */
export function decodeValue(words: readonly number[], encoding: RegisterEncoding): number {
  return decodeRaw(words, encoding) * encoding.scale + encoding.offset;
}

/** The registers that read back as `value` through `encoding`: raw = (value − offset) / scale. */
export function encodeValue(value: number, encoding: RegisterEncoding, overflow: Overflow = 'error'): number[] {
  const raw = (value - encoding.offset) / encoding.scale;
  try {
    return encodeRaw(raw, encoding, overflow);
  } catch (err) {
    if (!(err instanceof RegisterError)) throw err;
    const { type, scale, offset } = encoding;
    throw new RegisterError(`${value} does not fit a ${type} with scale ${scale}, offset ${offset}`);
  }
}
