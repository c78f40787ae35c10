import fc from 'fast-check';
import { decodeFrame, encodeFrame, formatHjTime, type Packet } from '../../protocol/index.js';
import { crc16, crcHex } from '../../protocol/crc.js';
import { frameBytes, mutate, mutationArb, uploadArb } from './fault-frames.js';

/**
 * The seed of a fuzz run: FUZZ_SEED to replay one, otherwise a fresh one. Printed, so a failure in
 * CI can be run again exactly.
 */
export function fuzzSeed(what: string): number {
  const seed =
    process.env['FUZZ_SEED'] !== undefined ? Number(process.env['FUZZ_SEED']) : Math.floor(Math.random() * 2 ** 31);
  console.log(`${what}: fast-check seed ${seed} (FUZZ_SEED=${seed} to replay)`);
  return seed;
}

/** The hour of an honest logger's first upload. */
export const HOUR_0 = Date.parse('2026-11-01T00:00:00+08:00');

/** Upload number `i` of an honest logger: the `i`th hour from HOUR_0, so every upload is its own stored key. */
export function hourUpload(mn: string, pw: string, i: number, factor = 'w01018'): Packet {
  const time = formatHjTime(new Date(HOUR_0 + i * 3_600_000));
  return {
    version: '2017',
    qn: `${time}000`,
    st: '32',
    cn: '2061',
    pw,
    mn,
    flag: 5,
    cp: { params: { DataTime: time }, factors: { [factor]: { Avg: String(i), Flag: 'N' } } },
  };
}

/** A frame around arbitrary segment bytes with the right length and CRC: damage the decoder must find past the CRC. */
export function reframe(segment: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from(`##${String(segment.length).padStart(4, '0')}`),
    segment,
    Buffer.from(`${crcHex(crc16(segment))}\r\n`),
  ]);
}

/** A packet's frame with `raw` bytes inserted `skip` bytes after `marker`, CRC still right. */
function withInserted(p: Packet, marker: string, skip: number, raw: readonly number[]): Buffer {
  const seg = Buffer.from(/^##\d{4}(.*)[0-9A-F]{4}\r\n$/s.exec(encodeFrame(p))![1]!);
  const at = seg.indexOf(marker) + marker.length + skip;
  return reframe(Buffer.concat([seg.subarray(0, at), Buffer.from(raw), seg.subarray(at)]));
}

/** A frame with one value holding raw bytes (GBK text, stray high bytes). */
const withRawValue = (p: Packet, raw: readonly number[]): Buffer => withInserted(p, 'Avg=', 0, raw);

/** A frame with a line break inside a header value: the lenient decoder takes it, but no answer can echo it. */
export const withBreakIn = (p: Packet, field: 'QN' | 'PW' | 'MN'): Buffer => withInserted(p, `${field}=`, 2, [0x0d]);

/**
 * MQTT payloads a device with valid credentials might publish on its own up topic: random bytes,
 * damaged frames, several frames in one payload, bytes that are not UTF-8, line breaks in header
 * values, frames naming another MN, and some intact ones.
 */
export function mqttPayloadArb(ownMn: string, ownPw: string, foreignMn: string): fc.Arbitrary<Buffer> {
  const own = uploadArb(fc.constant(ownMn), fc.constant(ownPw));
  const damaged = fc
    .tuple(own, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
    .map(([p, ms]) => ms.reduce(mutate, frameBytes(p)));
  const several = fc
    .array(fc.oneof(own.map(frameBytes), damaged), { minLength: 2, maxLength: 3 })
    .map((fs) => Buffer.concat(fs));
  const gbkOrJunk = fc.constantFrom([0xd6, 0xd0, 0xce, 0xc4], [0xff, 0xfe], [0xe4, 0xb8], [0x80]);
  return fc.oneof(
    fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
    damaged,
    several,
    fc.tuple(own, gbkOrJunk).map(([p, raw]) => withRawValue(p, raw)),
    fc.tuple(own, fc.constantFrom('QN' as const, 'PW' as const, 'MN' as const)).map(([p, f]) => withBreakIn(p, f)),
    uploadArb(fc.constant(foreignMn), fc.constant(ownPw)).map(frameBytes),
    own.map(frameBytes),
  );
}

/**
 * What the MQTT ingest must make of a payload on `hj212/{topicMn}/up`: the reason it is rejected
 * before authentication, or 'accept' for a frame that reaches the ingest path (where it is stored
 * or refused for its PW or data).
 */
export function mqttOutcome(payload: Buffer, topicMn: string, maxPayload: number): string {
  if (payload.length > maxPayload) return 'oversize';
  const r = decodeFrame(payload, { mode: 'lenient', maxSegment: maxPayload });
  if (!r.ok) return r.error.code;
  return r.frame.packet.mn === topicMn ? 'accept' : 'topic-mismatch';
}

/** Counts of each value. */
export function tally(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}
