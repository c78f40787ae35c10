import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFrame,
  encodeFrame,
  makeFlag,
  Reassembler,
  splitPacket,
  StreamDecoder,
  type CodecOptions,
  type DecodeResult,
  type Packet,
  type Version,
} from '../protocol/index.js';

const KEY = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');
const sm4Key = (): Buffer => KEY;
const FACTORS = [
  'w01018',
  'w21003',
  'w21011',
  'w21001',
  'w01001',
  'w00000',
  'a21026',
  'a21002',
  'a34013',
  'a19001',
  'a01011',
  'a01012',
  'a00000',
  'SB1',
  'e12001',
];
const digits = (n: number): fc.Arbitrary<string> => fc.stringMatching(new RegExp(`^\\d{${n}}$`));
const time14 = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true })
  .map((d) => d.toISOString().replace(/\D/g, '').slice(0, 14));
const number = fc.oneof(
  fc.integer({ min: -99999, max: 999999 }).map(String),
  fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }).map((x) => x.toFixed(3)),
);
const fields = fc.record(
  {
    Rtd: number,
    Min: number,
    Avg: number,
    Max: number,
    Cou: number,
    ZsAvg: number,
    Flag: fc.constantFrom('N', 'F', 'M', 'S', 'D', 'C', 'T', 'B'),
    EFlag: fc.stringMatching(/^[A-Z0-9]{1,4}$/),
    SampleTime: time14,
  },
  { requiredKeys: ['Flag'] },
);
const info = fc.array(
  fc.record({
    polId: fc.constantFrom('w01018', 'w21003', 'a21026'),
    codes: fc.dictionary(
      fc.constantFrom('i12001', 'i12003', 'i13004', 'i11001'),
      fc.record({ Info: fc.oneof(number, fc.constantFrom('//清洗管路//', '//校准; 完成//')) }),
      { minKeys: 1, maxKeys: 3 },
    ),
  }),
  { maxLength: 2 },
);

function packetArb(version: Version): fc.Arbitrary<Packet> {
  return fc
    .record({
      qn: fc.tuple(time14, digits(3)).map(([t, ms]) => t + ms),
      st: fc.constantFrom('31', '32', '51', '91'),
      cn: fc.constantFrom('2011', '2051', '2061', '2031', '3020', '1011', '9014'),
      pw: fc.stringMatching(/^[0-9A-Za-z]{1,6}$/),
      mn: version === '2005' ? fc.stringMatching(/^\d{14}$/) : fc.stringMatching(/^[0-9A-F]{24}$/),
      ack: fc.boolean(),
      dataTime: fc.option(time14, { nil: undefined }),
      // At most five factors keep a frame within the standard's 1024-byte data segment.
      factors: fc.dictionary(fc.constantFrom(...FACTORS), fields, { maxKeys: 5 }),
      info,
    })
    .map(({ ack, dataTime, factors, info: groups, cn, ...h }) => {
      const p: Packet = {
        version,
        ...h,
        cn,
        flag: makeFlag(version, { ack }),
        cp: { params: {}, factors: cn === '3020' ? {} : factors },
      };
      if (dataTime) p.cp.params['DataTime'] = dataTime;
      if (cn === '3020' && groups.length > 0) p.cp.info = groups;
      return p;
    });
}

const anyPacket = fc.oneof(packetArb('2017'), packetArb('2025'), packetArb('2005'));

function okPackets(results: DecodeResult[]): Packet[] {
  return results.flatMap((r) => (r.ok ? [r.frame.packet] : []));
}

describe('round trips', () => {
  it('decode(encode(x)) = x for 2005, 2017 and 2025 packets, strictly', () => {
    fc.assert(
      fc.property(anyPacket, (p) => {
        const r = decodeFrame(encodeFrame(p), { mode: 'strict' });
        expect(r.ok && r.frame.packet).toEqual(p);
      }),
      { numRuns: 400 },
    );
  });

  it('decode(encode(x)) = x with SM4-encrypted 2025 data', () => {
    fc.assert(
      fc.property(packetArb('2025'), (p) => {
        // Hex doubles the CP, so encrypted frames may pass 1024 bytes.
        const r = decodeFrame(encodeFrame(p, { sm4Key, maxSegment: 9999 }), {
          mode: 'strict',
          sm4Key,
          maxSegment: 9999,
        });
        expect(r.ok && r.frame.packet).toEqual(p);
      }),
      { numRuns: 200 },
    );
  });
});

describe('split packets', () => {
  const big = fc.record({ p: packetArb('2017'), n: fc.integer({ min: 20, max: 80 }) }).map(({ p, n }) => {
    const factors: Packet['cp']['factors'] = {};
    for (let i = 0; i < n; i++)
      factors[`w${String(10000 + i * 37).padStart(5, '0')}`] = {
        Min: '1.234',
        Avg: '2.345',
        Max: '3.456',
        Cou: '12.5',
        Flag: 'N',
      };
    return { ...p, cn: '2061', cp: { params: { DataTime: '20160801080000' }, factors } } as Packet;
  });

  it('every part fits in 1024 bytes, and the parts reassemble in any order into the original', () => {
    fc.assert(
      fc.property(big, fc.integer(), (p, seed) => {
        const parts = splitPacket(p);
        expect(parts.length).toBeGreaterThan(1);
        const frames = parts.map((part) => encodeFrame(part, { maxSegment: 1024 }));
        const decoded = frames.map((f) => {
          const r = decodeFrame(f, { mode: 'strict' });
          if (!r.ok) throw new Error(r.error.message);
          return r.frame.packet;
        });
        const order = decoded
          .map((d, i) => ({ d, k: (i * 7919 + seed) % 1009 }))
          .sort((a, b) => a.k - b.k)
          .map((x) => x.d);
        const r = new Reassembler();
        const done = order.map((d) => r.push(d).packet).filter((x) => x !== undefined);
        expect(done).toHaveLength(1);
        expect(done[0]!.cp).toEqual(p.cp);
        expect(done[0]!.pnum).toBeUndefined();
        expect(done[0]!.flag).toBe(p.flag);
        expect(r.size).toBe(0);
      }),
      { numRuns: 60 },
    );
  });

  it('holds at most maxPending incomplete messages and reports each one given up', () => {
    let now = 0;
    const r = new Reassembler({ maxPending: 10, timeoutMs: 1000, now: () => now });
    const dropped: string[] = [];
    for (let i = 0; i < 100; i++) {
      const part: Packet = {
        version: '2017',
        mn: `MN${i}`,
        cn: '2061',
        flag: 6,
        pnum: 3,
        pno: 1,
        cp: { params: { DataTime: '20160801080000' }, factors: {} },
      };
      dropped.push(...r.push(part).dropped.map((d) => d.code));
      expect(r.size).toBeLessThanOrEqual(10);
    }
    expect(dropped).toHaveLength(90);
    expect(new Set(dropped)).toEqual(new Set(['split-incomplete']));
    now = 5000;
    expect(r.expire()).toHaveLength(10);
    expect(r.size).toBe(0);
  });
});

describe('the streaming decoder', () => {
  // Garbage rich in the bytes that matter to framing: '#', '&', digits, CR, LF, hex, high bytes.
  const garbage = fc
    .array(fc.constantFrom(...'##&&0123456789ABCDEFabc;=\r\n \u00ff\u4e2d'.split('')), { maxLength: 40 })
    .map((a) => a.join(''));

  function feed(bytes: Buffer, cuts: number[], opts: CodecOptions): DecodeResult[] {
    const d = new StreamDecoder(opts);
    const out: DecodeResult[] = [];
    let at = 0;
    for (const cut of [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)) {
      out.push(...d.push(bytes.subarray(at, cut)));
      at = cut;
    }
    out.push(...d.push(bytes.subarray(at)), ...d.end());
    return out;
  }

  for (const mode of ['strict', 'lenient'] as const) {
    it(`${mode}: yields every valid packet, in order, whatever the read boundaries and the garbage between`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(garbage, anyPacket), { minLength: 1, maxLength: 6 }),
          garbage,
          fc.array(fc.nat(), { maxLength: 12 }),
          (items, tail, cuts) => {
            const text = items.map(([g, p]) => g + encodeFrame(p)).join('') + tail;
            const results = feed(Buffer.from(text), cuts, { mode });
            expect(okPackets(results)).toEqual(items.map(([, p]) => p));
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('reports a bad CRC, a wrong length and an oversize frame, and keeps the valid packets around them', () => {
    fc.assert(
      fc.property(
        fc.array(anyPacket, { minLength: 3, maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (ps, cuts) => {
          const [a, b, c] = ps.map((p) => encodeFrame(p)) as [string, string, string];
          const badCrc = a.slice(0, -6) + (a.slice(-6, -2) === 'FFFF' ? '0000' : 'FFFF') + '\r\n';
          const wrongLength = `##${String(Number(b.slice(2, 6)) + 7).padStart(4, '0')}${b.slice(6)}`;
          const oversize = `##1500${'x'.repeat(1500)}`;
          const stream = Buffer.from(badCrc + a + wrongLength + b + oversize + c);
          const results = feed(stream, cuts, { mode: 'strict' });
          expect(okPackets(results)).toEqual(ps);
          const codes = results.flatMap((r) => (r.ok ? [] : [r.error.code]));
          expect(codes).toContain('bad-crc');
          expect(codes).toContain('length-mismatch');
          expect(codes).toContain('oversize');
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps its buffer bounded by the largest frame, whatever it is fed', () => {
    const d = new StreamDecoder({ mode: 'lenient' });
    let maxPending = 0;
    let rejected = 0;
    const chunk = Buffer.alloc(4096, 'A');
    d.push(Buffer.from('##0100'));
    for (let i = 0; i < 200; i++) {
      rejected += d.push(chunk).filter((r) => !r.ok).length;
      maxPending = Math.max(maxPending, d.pending);
    }
    expect(maxPending).toBeLessThan(9999 + 2 * 4096);
    expect(rejected).toBeGreaterThan(0);
    expect(d.stats.reasons['oversize']).toBe(1);
  });

  it('counts rejections by reason', () => {
    const d = new StreamDecoder({ mode: 'strict' });
    d.push(Buffer.from('junk##00xx'));
    d.end();
    expect(d.stats.rejected).toBe(2);
    expect(d.stats.reasons).toEqual({ garbage: 1, 'bad-length': 1 });
  });
});
