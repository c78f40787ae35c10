import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maxSegmentOf } from '../protocol/frame.js';
import { encodeFrame, StreamDecoder, type CodecOptions, type DecodeResult, type Packet } from '../protocol/index.js';
import { frameBytes, mutate, mutationArb, uploadArb } from './helpers/fault-frames.js';

// tests/protocol-property.test.ts covers clean frames with garbage between them and three fixed kinds of
// damage; this fuzzes damaged frames themselves (any byte flipped, dropped or inserted, truncation, any
// declared length) mixed with intact ones, fed in arbitrary pieces down to one byte at a time.

/** Slack over the largest acceptable segment: header, CRC, trailer and a lone '#' awaiting its pair. */
const FRAME_OVERHEAD = 32;

interface Fed {
  results: DecodeResult[];
  decoder: StreamDecoder;
  maxPending: number;
}

function feed(bytes: Buffer, sizes: number[], opts: CodecOptions): Fed {
  const decoder = new StreamDecoder(opts);
  const results: DecodeResult[] = [];
  let maxPending = 0;
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes.length === 0 ? bytes.length : 1 + (sizes[i % sizes.length]! % 64);
    results.push(...decoder.push(bytes.subarray(at, at + n)));
    maxPending = Math.max(maxPending, decoder.pending);
    at += n;
  }
  results.push(...decoder.end());
  return { results, decoder, maxPending };
}

const okPackets = (results: DecodeResult[]): Packet[] => results.flatMap((r) => (r.ok ? [r.frame.packet] : []));

/** True if `want` appears in `got` in order (other frames, e.g. a damage that left a frame valid, may sit between). */
function isSubsequence(want: Packet[], got: Packet[]): boolean {
  // Compared as frames: the same packet encodes to the same bytes, whatever its objects' key order.
  // A damaged frame the lenient decoder accepted may hold what the (strict) encoder refuses: not one of ours.
  const asFrame = (p: Packet): string | undefined => {
    try {
      return encodeFrame(p);
    } catch {
      return undefined;
    }
  };
  const w = want.map((p) => encodeFrame(p));
  let j = 0;
  for (const p of got) if (j < w.length && asFrame(p) === w[j]) j++;
  return j === w.length;
}

/** Every rejection is in the results, counted once, under its own reason. */
function expectAccounted({ results, decoder }: Fed): void {
  const rejected = results.filter((r) => !r.ok);
  const byCode: Record<string, number> = {};
  for (const r of rejected) if (!r.ok) byCode[r.error.code] = (byCode[r.error.code] ?? 0) + 1;
  expect(decoder.stats.reasons).toEqual(byCode);
  expect(decoder.stats.rejected).toBe(rejected.length);
  expect(decoder.stats.frames).toBe(results.length - rejected.length);
}

const item = fc.record({
  packet: uploadArb(),
  damage: fc.option(fc.array(mutationArb, { minLength: 1, maxLength: 3 }), { freq: 2, nil: undefined }),
});
const optsArb = fc.record({
  mode: fc.constantFrom('strict' as const, 'lenient' as const),
  maxSegment: fc.constantFrom(256, 1024, 4096, 9999),
});

describe('fuzzing the streaming decoder', () => {
  it('never throws, stays bounded, counts every rejection, and decodes every intact frame among damaged ones', () => {
    fc.assert(
      fc.property(
        fc.array(item, { minLength: 1, maxLength: 8 }),
        optsArb,
        fc.array(fc.nat(), { maxLength: 10 }),
        (items, opts, sizes) => {
          const bytes = Buffer.concat(
            items.map(({ packet, damage }) => (damage ?? []).reduce(mutate, frameBytes(packet))),
          );
          const fed = feed(bytes, sizes, opts);
          expect(fed.maxPending).toBeLessThanOrEqual(maxSegmentOf(opts) + FRAME_OVERHEAD);
          expectAccounted(fed);
          const intact = items
            .filter((i) => i.damage === undefined && frameBytes(i.packet).length - 12 <= opts.maxSegment)
            .map((i) => i.packet);
          expect(isSubsequence(intact, okPackets(fed.results))).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('decodes the same frames one byte at a time as in one read', () => {
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 5 }), optsArb, (items, opts) => {
        const bytes = Buffer.concat(
          items.map(({ packet, damage }) => (damage ?? []).reduce(mutate, frameBytes(packet))),
        );
        const whole = feed(bytes, [], opts);
        const bytewise = feed(bytes, [0], opts);
        expect(okPackets(bytewise.results)).toEqual(okPackets(whole.results));
        expectAccounted(bytewise);
        expect(bytewise.maxPending).toBeLessThanOrEqual(maxSegmentOf(opts) + FRAME_OVERHEAD);
      }),
      { numRuns: 150 },
    );
  });

  it('does not wait for or hold what a huge declared length announces: the frames after it still decode', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1025, max: 9999 }),
        fc.array(uploadArb(), { minLength: 1, maxLength: 4 }),
        fc.constantFrom('strict' as const, 'lenient' as const),
        (len, packets, mode) => {
          // A header announcing far more than ever follows, then random filler, then good frames.
          const bytes = Buffer.concat([
            Buffer.from(`##${len}QN=1;CP=&&x`),
            Buffer.alloc(300, 'z'),
            ...packets.map(frameBytes),
          ]);
          const fed = feed(bytes, [7, 300, 1], { mode, maxSegment: 1024 });
          expect(okPackets(fed.results)).toEqual(packets);
          expect(fed.decoder.stats.rejected).toBeGreaterThan(0);
          expect(fed.maxPending).toBeLessThanOrEqual(1024 + FRAME_OVERHEAD);
          expectAccounted(fed);
        },
      ),
      { numRuns: 100 },
    );
  });

  describe(
    'strict: a damaged frame whose length reaches over the next frames ' +
      'does not swallow them (found by the fuzzer)',
    () => {
      const next = (mn: string): Buffer =>
        frameBytes({
          version: '2017',
          qn: '20261120100000000',
          st: '32',
          cn: '2061',
          pw: '123abc',
          mn,
          flag: 5,
          cp: { params: { DataTime: '20261120000000' }, factors: { w01018: { Avg: '0.0', Flag: 'N' } } },
        });
      const v = next('0AAA0AAA000A0AAA00AA0A0A');
      const w = next('A0AA0000A000AAAA00AA00AA');
      const cases: [string, Buffer, Buffer[]][] = [
        // Four bytes lost after the length, then cut off: its declared end falls on a lower-case hex digit of the next
        // frame.
        [
          'lower-case hex where its CRC should be',
          Buffer.from('##01420261120100000000;ST=32;CN=2061;PW=123abc;MN=A0A0'),
          [v],
        ],
        ['a CR LF ## before its declared end', Buffer.from('##1025'), [v, w]],
        ['the stream ending before its declared end', Buffer.from('##9999'), [v]],
      ];
      for (const [name, damaged, frames] of cases) {
        it(name, () => {
          const fed = feed(Buffer.concat([damaged, ...frames]), [], { mode: 'strict', maxSegment: 9999 });
          expect(okPackets(fed.results).map((p) => encodeFrame(p))).toEqual(frames.map(String));
          expectAccounted(fed);
        });
      }
    },
  );
});
