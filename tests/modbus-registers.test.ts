import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ORDERS,
  REGISTER_TYPES,
  RegisterError,
  decodeRaw,
  decodeValue,
  encodeRaw,
  encodeValue,
  registerWidth,
} from '../modbus/registers.js';
import type { RegisterEncoding, RegisterLayout } from '../modbus/registers.js';

const enc = (over: Partial<RegisterEncoding>): RegisterEncoding => ({
  type: 'float32',
  byteOrder: 'big',
  wordOrder: 'big',
  scale: 1,
  offset: 0,
  ...over,
});

// The letter names of vendors' manuals as byte order / word order.
const LETTERS = {
  ABCD: { byteOrder: 'big', wordOrder: 'big' },
  CDAB: { byteOrder: 'big', wordOrder: 'little' },
  BADC: { byteOrder: 'little', wordOrder: 'big' },
  DCBA: { byteOrder: 'little', wordOrder: 'little' },
} as const;

describe('modbus/registers: float32 in the four vendor layouts', () => {
  it('writes 48.5 (0x42420000: 48.5 = 1.515625 × 2^5, exponent 132 = 0x84) in each order', () => {
    const expected = {
      ABCD: [0x4242, 0x0000],
      CDAB: [0x0000, 0x4242],
      BADC: [0x4242, 0x0000], // A=42 B=42: swapping equal bytes changes nothing
      DCBA: [0x0000, 0x4242],
    };
    for (const [name, orders] of Object.entries(LETTERS)) {
      const words = encodeValue(48.5, enc(orders));
      expect(words, name).toEqual(expected[name as keyof typeof LETTERS]);
      expect(decodeValue(words, enc(orders)), name).toBe(48.5);
    }
  });

  it('writes π (float32 0x40490FDB: A=40 B=49 C=0F D=DB) in each order', () => {
    expect(encodeValue(Math.PI, enc(LETTERS.ABCD))).toEqual([0x4049, 0x0fdb]);
    expect(encodeValue(Math.PI, enc(LETTERS.CDAB))).toEqual([0x0fdb, 0x4049]);
    expect(encodeValue(Math.PI, enc(LETTERS.BADC))).toEqual([0x4940, 0xdb0f]);
    expect(encodeValue(Math.PI, enc(LETTERS.DCBA))).toEqual([0xdb0f, 0x4940]);
    expect(decodeRaw([0xdb0f, 0x4940], { type: 'float32', ...LETTERS.DCBA })).toBe(Math.fround(Math.PI));
  });

  it('reads back every float32 in every order', () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true }), fc.constantFrom(...Object.values(LETTERS)), (x, orders) => {
        // + 0: raw × scale + offset turns a stored -0 into 0, as any reading of zero
        expect(decodeValue(encodeValue(x, enc(orders)), enc(orders))).toBe(Math.fround(x) + 0);
      }),
    );
  });
});

describe('modbus/registers: integers with value = raw × scale + offset', () => {
  const int16 = (scale: number, offset = 0) => enc({ type: 'int16', scale, offset });

  it('reads an int16 holding 485 with scale 0.1 as 48.5, and writes 48.5 back as 485', () => {
    expect(decodeValue([485], int16(0.1))).toBeCloseTo(48.5, 12);
    expect(encodeValue(48.5, int16(0.1))).toEqual([485]);
    // 16.5 with scale 0.1: raw 165; -0.35 with scale 0.001: raw -350 = 0x10000 - 350 = 65186
    expect(encodeValue(16.5, int16(0.1))).toEqual([165]);
    expect(encodeValue(-0.35, int16(0.001))).toEqual([65186]);
    expect(decodeValue([65186], int16(0.001))).toBeCloseTo(-0.35, 12);
  });

  it('applies the offset after the scale: raw 100 × 0.5 − 20 = 30', () => {
    expect(decodeValue([100], int16(0.5, -20))).toBe(30);
    expect(encodeValue(30, int16(0.5, -20))).toEqual([100]);
  });

  it('writes -1 as int16 0xFFFF and reads 0xFFFF as -1 (int16) or 65535 (uint16)', () => {
    expect(encodeValue(-1, int16(1))).toEqual([0xffff]);
    expect(decodeRaw([0xffff], { type: 'int16', byteOrder: 'big', wordOrder: 'big' })).toBe(-1);
    expect(decodeRaw([0xffff], { type: 'uint16', byteOrder: 'big', wordOrder: 'big' })).toBe(65535);
  });

  it('swaps the bytes of a 16-bit register with byteOrder little: 485 = 0x01E5 is sent E5 01', () => {
    expect(encodeValue(48.5, enc({ type: 'int16', scale: 0.1, byteOrder: 'little' }))).toEqual([0xe501]);
    expect(decodeRaw([0xe501], { type: 'uint16', byteOrder: 'little', wordOrder: 'big' })).toBe(485);
  });

  it('writes uint32 totals with scale 0.1 in both word orders: 123456.7 → raw 1234567 = 0x0012D687', () => {
    const uint32 = (wordOrder: 'big' | 'little') => enc({ type: 'uint32', scale: 0.1, wordOrder });
    expect(encodeValue(123456.7, uint32('big'))).toEqual([0x0012, 0xd687]);
    expect(encodeValue(123456.7, uint32('little'))).toEqual([0xd687, 0x0012]);
    expect(decodeValue([0xd687, 0x0012], uint32('little'))).toBeCloseTo(123456.7, 6);
  });

  it('reads int32 -2 = 0xFFFFFFFE in both word orders', () => {
    const layout = (wordOrder: 'big' | 'little'): RegisterLayout => ({ type: 'int32', byteOrder: 'big', wordOrder });
    expect(decodeRaw([0xffff, 0xfffe], layout('big'))).toBe(-2);
    expect(decodeRaw([0xfffe, 0xffff], layout('little'))).toBe(-2);
  });

  it('round-trips every integer raw value of every type, order and scale', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...REGISTER_TYPES),
        fc.constantFrom(...ORDERS),
        fc.constantFrom(...ORDERS),
        fc.constantFrom(1, 0.1, 0.01, 2),
        fc.integer({ min: 0, max: 30000 }),
        (type, byteOrder, wordOrder, scale, n) => {
          const e = enc({ type, byteOrder, wordOrder, scale });
          const words = encodeValue(n * scale, e);
          expect(words).toHaveLength(registerWidth(type));
          expect(decodeValue(words, e)).toBeCloseTo(n * scale, type === 'float32' ? 2 : 9);
        },
      ),
    );
  });
});

describe('modbus/registers: values the type cannot hold', () => {
  it('refuses them by default (a parameter write must not be altered)', () => {
    expect(() => encodeValue(70_000, enc({ type: 'uint16' }))).toThrow(RegisterError);
    expect(() => encodeValue(-1, enc({ type: 'uint32' }))).toThrow(/-1 does not fit a uint32 with scale 1, offset 0/);
    expect(() => encodeRaw(Number.NaN, { type: 'int16', byteOrder: 'big', wordOrder: 'big' })).toThrow(RegisterError);
  });

  it('saturates them on request (an analyzer showing a reading beyond its register)', () => {
    // 4000 with scale 0.1 is raw 40000, above int16's 32767
    expect(encodeValue(4000, enc({ type: 'int16', scale: 0.1 }), 'saturate')).toEqual([0x7fff]);
    expect(encodeValue(-4000, enc({ type: 'int16', scale: 0.1 }), 'saturate')).toEqual([0x8000]);
    expect(encodeValue(-5, enc({ type: 'uint32' }), 'saturate')).toEqual([0, 0]);
    expect(encodeValue(Number.NaN, enc({ type: 'uint16' }), 'saturate')).toEqual([0]);
  });

  it('refuses words that are not one value of the type', () => {
    expect(() => decodeRaw([1], { type: 'float32', byteOrder: 'big', wordOrder: 'big' })).toThrow(
      /a float32 spans 2 registers, got 1/,
    );
  });
});
