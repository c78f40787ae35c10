/**
 * Register encodings analyzers use. A 32-bit value is written big-endian as bytes A B C D and then
 * reordered: vendors disagree on the word order (ABCD vs CDAB is the usual split) and a few swap bytes.
 */
export const REGISTER_TYPES = ['float32', 'int16', 'uint16', 'uint32'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

export const WORD_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type WordOrder = (typeof WORD_ORDERS)[number];

export interface Encoding {
  type: RegisterType;
  /** raw = value × scale (e.g. scale 10 carries one decimal in an integer register). */
  scale: number;
  wordOrder: WordOrder;
}

export function registerCount(type: RegisterType): 1 | 2 {
  return type === 'int16' || type === 'uint16' ? 1 : 2;
}

// Integer registers saturate like real analyzers do instead of wrapping around.
const INTEGER_RANGE = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  uint32: [0, 0xffffffff],
} as const;

function clampedInteger(type: keyof typeof INTEGER_RANGE, raw: number): number {
  const [min, max] = INTEGER_RANGE[type];
  if (Number.isNaN(raw)) return 0;
  return Math.min(max, Math.max(min, Math.round(raw)));
}

function reorder(bytes: Uint8Array, order: WordOrder): Uint8Array {
  return Uint8Array.from(order, (letter) => bytes['ABCD'.indexOf(letter)] ?? 0);
}

function restore(bytes: Uint8Array, order: WordOrder): Uint8Array {
  const out = new Uint8Array(4);
  [...order].forEach((letter, i) => {
    out['ABCD'.indexOf(letter)] = bytes[i] ?? 0;
  });
  return out;
}

/** Engineering value → 16-bit register words, in the order they appear on the wire. */
export function encodeValue(value: number, { type, scale, wordOrder }: Encoding): number[] {
  const raw = value * scale;
  if (type === 'int16') return [clampedInteger('int16', raw) & 0xffff];
  if (type === 'uint16') return [clampedInteger('uint16', raw)];
  const view = new DataView(new ArrayBuffer(4));
  if (type === 'float32') view.setFloat32(0, raw);
  else view.setUint32(0, clampedInteger('uint32', raw));
  const bytes = reorder(new Uint8Array(view.buffer), wordOrder);
  return [((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0), ((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)];
}

/** Register words (wire order) → engineering value; the inverse of {@link encodeValue}. */
export function decodeValue(words: readonly number[], { type, scale, wordOrder }: Encoding): number {
  const [first = 0, second = 0] = words;
  if (type === 'int16') return ((first << 16) >> 16) / scale;
  if (type === 'uint16') return first / scale;
  const wire = Uint8Array.of(first >> 8, first & 0xff, second >> 8, second & 0xff);
  const view = new DataView(restore(wire, wordOrder).buffer);
  return (type === 'float32' ? view.getFloat32(0) : view.getUint32(0)) / scale;
}
