import fc from 'fast-check';
import { encodeFrame, type FactorFields, type Packet } from '../../protocol/index.js';

/** Valid 2017 uploads with the A bit, varied enough to exercise the CP parser. */
export function uploadArb(
  mn: fc.Arbitrary<string> = fc.stringMatching(/^[0-9A-F]{24}$/),
  pw: fc.Arbitrary<string> = fc.constant('123abc'),
): fc.Arbitrary<Packet> {
  const value = fc.integer({ min: -9999, max: 99999 }).map((n) => (n / 10).toFixed(1));
  const factors = fc.dictionary(
    fc.constantFrom('w01018', 'w21003', 'w01001', 'w00000', 'a21026'),
    fc.record({ Avg: value, Flag: fc.constantFrom('N', 'M', 'D') }),
    { minKeys: 1, maxKeys: 4 },
  );
  const time = fc.integer({ min: 0, max: 23 }).map((h) => `20261120${String(h).padStart(2, '0')}0000`);
  return fc
    .record({ mn, pw, time, factors, seq: fc.integer({ min: 0, max: 999 }) })
    .map(({ mn: m, pw: p, time: t, factors: f, seq }) => ({
      version: '2017',
      qn: `20261120100000${String(seq).padStart(3, '0')}`,
      st: '32',
      cn: '2061',
      pw: p,
      mn: m,
      flag: 5,
      cp: { params: { DataTime: t }, factors: f as Record<string, FactorFields> },
    }));
}

/** One way of damaging a frame, as it happens on a serial line or a flaky GPRS link. */
export type Mutation =
  | { op: 'flip'; at: number; byte: number }
  | { op: 'drop'; at: number; n: number }
  | { op: 'insert'; at: number; bytes: number[] }
  | { op: 'truncate'; at: number }
  | { op: 'length'; value: number };

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('drop' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.array(fc.constantFrom(0x23, 0x26, 0x0d, 0x0a, 0x30, 0x39, 0x3b, 0x00, 0xff, 0xe4), {
      minLength: 1,
      maxLength: 6,
    }),
  }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  // Huge and tiny declared lengths: the receiver must not wait for (or allocate) what is announced.
  fc.record({
    op: fc.constant('length' as const),
    value: fc.oneof(fc.constantFrom(0, 1, 1025, 4097, 9999), fc.integer({ min: 0, max: 9999 })),
  }),
);

/** Applies a mutation to a frame's bytes (never in place). */
export function mutate(frame: Buffer, m: Mutation): Buffer {
  const at = m.op === 'length' ? 0 : m.at % Math.max(1, frame.length);
  switch (m.op) {
    case 'flip': {
      const out = Buffer.from(frame);
      out[at] = m.byte;
      return out;
    }
    case 'drop':
      return Buffer.concat([frame.subarray(0, at), frame.subarray(at + m.n)]);
    case 'insert':
      return Buffer.concat([frame.subarray(0, at), Buffer.from(m.bytes), frame.subarray(at)]);
    case 'truncate':
      return frame.subarray(0, at);
    case 'length':
      return Buffer.concat([Buffer.from(`##${String(m.value).padStart(4, '0')}`), frame.subarray(6)]);
  }
}

/** Raw bytes as a frame would carry them. */
export const frameBytes = (p: Packet): Buffer => Buffer.from(encodeFrame(p));
