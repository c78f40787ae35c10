import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEdgeConfig } from '../edge/index.js';
import {
  RegisterError,
  decodeRaw,
  decodeValue,
  deviceReadings,
  encodeRegisters,
  planReads,
  statusFlag,
} from '../edge/registers.js';
import type { RegisterSpec } from '../edge/config.js';
import { minimalConfig } from './helpers/edge-config.js';

const spec = (over: Partial<RegisterSpec>): RegisterSpec => ({
  address: 0,
  type: 'float32',
  byteOrder: 'big',
  wordOrder: 'big',
  scale: 1,
  offset: 0,
  function: 'holding',
  ...over,
});

const ORDERS = {
  ABCD: ['big', 'big'],
  CDAB: ['big', 'little'],
  BADC: ['little', 'big'],
  DCBA: ['little', 'little'],
} as const;

describe('register encoding for parameter writes (3021)', () => {
  const TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'] as const;

  it('is the inverse of decoding, for every type, byte and word order, scale and offset', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TYPES),
        fc.constantFrom(...Object.values(ORDERS)),
        fc.constantFrom(1, 0.1, 0.01, 2),
        fc.constantFrom(0, -10, 5),
        fc.integer({ min: 0, max: 30000 }),
        (type, [byteOrder, wordOrder], scale, offset, n) => {
          const s = spec({ type, byteOrder, wordOrder, scale, offset, address: 7 });
          const value = n * scale + offset;
          const back = decodeValue(encodeRegisters(value, s), 7, s);
          expect(back).toBeCloseTo(value, type === 'float32' ? 1 : 6);
        },
      ),
    );
  });

  it('refuses a value the register cannot hold, naming the register', () => {
    expect(() => encodeRegisters(70_000, spec({ type: 'uint16', address: 20 }))).toThrow(
      /does not fit register 20 \(uint16/,
    );
    expect(() => encodeRegisters(-1, spec({ type: 'uint32' }))).toThrow(RegisterError);
    expect(() => encodeRegisters(Number.NaN, spec({ type: 'float32' }))).toThrow(RegisterError);
  });
});

describe('register decoding', () => {
  it('reads the four byte/word orders vendors use', () => {
    // 123.25 = 1.92578125 × 2^6 = float32 0x42F68000 (A=42 B=F6 C=80 D=00); 70000 = uint32 0x00011170
    const float = { ABCD: [0x42f6, 0x8000], CDAB: [0x8000, 0x42f6], BADC: [0xf642, 0x0080], DCBA: [0x0080, 0xf642] };
    const u32 = { ABCD: [0x0001, 0x1170], CDAB: [0x1170, 0x0001], BADC: [0x0100, 0x7011], DCBA: [0x7011, 0x0100] };
    for (const [order, [byteOrder, wordOrder]] of Object.entries(ORDERS)) {
      const key = order as keyof typeof ORDERS;
      expect(decodeValue(float[key], 0, spec({ byteOrder, wordOrder })), order).toBe(123.25);
      expect(decodeRaw(u32[key], 0, spec({ type: 'uint32', byteOrder, wordOrder })), order).toBe(70_000);
    }
  });

  it('decodes every type with scale and offset at an address inside a block', () => {
    expect(decodeValue([0, 0xfff6], 10, spec({ address: 11, type: 'int16', scale: 0.1 }))).toBeCloseTo(-1);
    expect(decodeValue([0xfff6], 0, spec({ type: 'uint16', scale: 2, offset: -4 }))).toBe(0xfff6 * 2 - 4);
    expect(decodeRaw([0xffff, 0xfffe], 0, spec({ type: 'int32' }))).toBe(-2);
    expect(decodeRaw([0xfffe, 0xffff], 0, spec({ type: 'int32', wordOrder: 'little' }))).toBe(-2);
    const f64 = Buffer.alloc(8);
    f64.writeDoubleBE(Math.PI);
    const words = [0, 2, 4, 6].map((i) => f64.readUInt16BE(i));
    expect(decodeRaw(words, 0, spec({ type: 'float64' }))).toBe(Math.PI);
    expect(decodeRaw([...words].reverse(), 0, spec({ type: 'float64', wordOrder: 'little' }))).toBe(Math.PI);
  });

  it('round-trips any float64 and int32 through any order', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(...Object.values(ORDERS)),
        (value, [byteOrder, wordOrder]) => {
          const b = Buffer.alloc(8);
          b.writeDoubleBE(value);
          let words = [0, 2, 4, 6].map((i) => b.readUInt16BE(i));
          if (byteOrder === 'little') words = words.map((w) => ((w & 0xff) << 8) | (w >> 8));
          if (wordOrder === 'little') words.reverse();
          expect(Object.is(decodeRaw(words, 0, spec({ type: 'float64', byteOrder, wordOrder })), value)).toBe(true);
        },
      ),
    );
  });

  it('rejects short replies and NaN readings by name instead of inventing values', () => {
    expect(() => decodeValue([1], 0, spec({}))).toThrow(RegisterError);
    expect(() => decodeValue([0x7fc0, 0], 0, spec({}))).toThrow(/holds NaN, not a reading/);
  });

  it('maps status codes to HJ 212 flags; an unknown code is D, never N', () => {
    const status = {
      address: 0,
      type: 'uint16' as const,
      byteOrder: 'big' as const,
      wordOrder: 'big' as const,
      function: 'holding' as const,
      flags: { 0: 'N', 7: 'M' } as Record<string, 'N' | 'M'>,
    };
    expect(statusFlag([7], 0, status)).toBe('M');
    expect(statusFlag([0], 0, status)).toBe('N');
    expect(statusFlag([9], 0, status)).toBe('D');
  });
});

describe('read planning', () => {
  it('coalesces neighbours within the gap, splits by function code and size', () => {
    const blocks = planReads(
      [
        spec({ address: 0 }),
        spec({ address: 2, type: 'uint16' }),
        spec({ address: 12 }),
        spec({ address: 40 }),
        spec({ address: 0, type: 'uint16', function: 'input' }),
      ],
      9,
      125,
    );
    expect(blocks).toEqual([
      { function: 'holding', address: 0, count: 14 },
      { function: 'holding', address: 40, count: 2 },
      { function: 'input', address: 0, count: 1 },
    ]);
    // registers 3..11 are the gap: one fewer allowed and the read splits
    expect(planReads([spec({ address: 2, type: 'uint16' }), spec({ address: 12 })], 8, 125)).toHaveLength(2);
    expect(planReads([spec({ address: 0 }), spec({ address: 2 })], 0, 3)).toEqual([
      { function: 'holding', address: 0, count: 2 },
      { function: 'holding', address: 2, count: 2 },
    ]);
  });

  it('covers every wanted register, never exceeding maxRegisters', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            address: fc.nat(500),
            type: fc.constantFrom('int16', 'float32', 'float64') as fc.Arbitrary<RegisterSpec['type']>,
          }),
          { minLength: 1 },
        ),
        fc.nat(20),
        fc.integer({ min: 4, max: 125 }),
        (regs, gap, max) => {
          const blocks = planReads(
            regs.map((r) => spec(r)),
            gap,
            max,
          );
          for (const b of blocks) expect(b.count).toBeLessThanOrEqual(max);
          for (const r of regs) {
            const width = r.type === 'int16' ? 1 : r.type === 'float32' ? 2 : 4;
            expect(blocks.some((b) => b.address <= r.address && r.address + width <= b.address + b.count)).toBe(true);
          }
        },
      ),
    );
  });

  it("turns a device's blocks into readings with flags", () => {
    const device = parseEdgeConfig(minimalConfig()).devices[0]!;
    const image = new Map([['holding', [{ base: 0, words: [0x4242, 0x0000, 2] }]]]);
    expect(deviceReadings(device, image)).toEqual([{ code: 'w01018', value: 48.5, flag: 'C' }]);
  });
});
