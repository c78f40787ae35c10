/**
 * Protocol benchmark: decode throughput over a realistic mix of uploads (2011 real-time, 2051 minute,
 * 2061 hour data with 5-15 factors), against a CRC-only pass over the same bytes, the floor any
 * decoder must pay. Prints one JSON object; the ratio is what to compare across machines.
 * A third pass has V8's native JSON.parse build the same CP objects from their JSON text: no decoder
 * written in JavaScript materialises them for less, so CRC + that pass bounds any decode from below.
 *   node dist/bench/protocol.js [--frames N] [--rounds R]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { encodeFrame, makeFlag, StreamDecoder, type Packet } from '../protocol/index.js';
import { crc16 } from '../protocol/crc.js';
import { LENGTH_FIELD_MAX } from '../protocol/frame.js';
import { interleaved, median } from './stats.js';

const WATER = ['w01018', 'w21003', 'w21011', 'w21001', 'w01001', 'w01010', 'w00000'];
const AIR = [
  'a21026',
  'a21002',
  'a34013',
  'a19001',
  'a01011',
  'a01012',
  'a01013',
  'a01014',
  'a00000',
  'a21024',
  'a21005',
  'a24088',
  'a01016',
  'a01017',
  'a01015',
];

/** A deterministic PRNG so every run decodes the same bytes. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function packets(n: number): Packet[] {
  const rand = prng(212);
  const out: Packet[] = [];
  for (let i = 0; i < n; i++) {
    const cn = ['2011', '2051', '2061'][i % 3]!;
    const gas = rand() < 0.5;
    const codes = (gas ? AIR : WATER.concat(AIR)).slice(0, 5 + Math.floor(rand() * 11));
    const factors: Packet['cp']['factors'] = {};
    for (const code of codes) {
      const v = (rand() * 200).toFixed(2);
      factors[code] =
        cn === '2011'
          ? { Rtd: v, Flag: 'N' }
          : {
              Min: (Number(v) * 0.8).toFixed(2),
              Avg: v,
              Max: (Number(v) * 1.2).toFixed(2),
              ...(gas ? { ZsAvg: (Number(v) * 1.1).toFixed(2) } : { Cou: (Number(v) * 3.6).toFixed(3) }),
              Flag: 'N',
            };
    }
    out.push({
      version: '2017',
      qn: `20260101${String(100000000 + i).slice(1)}`,
      st: gas ? '31' : '32',
      cn,
      pw: '8K3x9Q',
      mn: `0100${String(i % 1000).padStart(4, '0')}A8900016F000169DC0`.slice(0, 24),
      flag: makeFlag('2017', { ack: true }),
      cp: { params: { DataTime: '20260101120000' }, factors },
    });
  }
  return out;
}

function chunks(buf: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

const { values } = parseArgs({
  options: { frames: { type: 'string', default: '20000' }, rounds: { type: 'string', default: '9' } },
});
const sample = packets(Number(values.frames));
// The mix runs past 1024 bytes at 15 factors, as vendor loggers do; the lenient decoder takes up to 9999.
const frames = sample.map((p) => encodeFrame(p, { maxSegment: LENGTH_FIELD_MAX }));
const cpJson = sample.map((p) => JSON.stringify(p.cp));
const bytes = Buffer.from(frames.join(''));
// TCP reads arrive in chunks; 64 KiB is a typical socket read.
const reads = chunks(bytes, 65536);
let decoded = 0;
let sink = 0;

const times = interleaved(
  {
    decode: () => {
      const d = new StreamDecoder({ mode: 'lenient' });
      decoded = 0;
      for (const r of reads) for (const res of d.push(r)) if (res.ok) decoded++;
    },
    crc: () => {
      for (const r of reads) sink ^= crc16(r);
    },
    materialize: () => {
      for (const j of cpJson) sink ^= (JSON.parse(j) as Packet['cp']).params['DataTime']!.length;
    },
  },
  Number(values.rounds),
);
if (decoded !== frames.length) throw new Error(`decoded ${decoded} of ${frames.length} frames`);

const figure = (ms: number) => ({
  medianMs: Number(ms.toFixed(2)),
  packetsPerSec: Math.round(frames.length / (ms / 1000)),
  mbPerSec: Number((bytes.length / 1e6 / (ms / 1000)).toFixed(1)),
});
const decodeMs = median(times['decode']!);
const crcMs = median(times['crc']!);
const ratio = decodeMs / crcMs;
const materializeMs = median(times['materialize']!);
console.log(
  JSON.stringify({
    bench: 'protocol-decode',
    frames: frames.length,
    bytes: bytes.length,
    rounds: Number(values.rounds),
    decode: figure(decodeMs),
    crcOnly: figure(crcMs),
    ratio: Number(ratio.toFixed(2)),
    goalRatio: 3,
    withinGoal: ratio <= 3,
    materializeOnly: { medianMs: Number(materializeMs.toFixed(2)), ratio: Number((materializeMs / crcMs).toFixed(2)) },
    // CRC plus building the CP objects at native speed, before any header or validation work.
    lowestReachableRatio: Number((1 + materializeMs / crcMs).toFixed(2)),
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    sink,
  }),
);
