import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, StreamDecoder, type Packet } from '../protocol/index.js';
import { rawClient, startTestCloud, WATER_MN, WATER_PW, type TestCloud } from './helpers/cloud-fixtures.js';
import { frameBytes, mutate, mutationArb, uploadArb } from './helpers/fault-frames.js';
import { deafSender, sendInPieces, settled } from './helpers/fault-net.js';

// tests/cloud-tcp.test.ts covers one frame of each kind of damage and the per-connection limits; this
// throws fuzzed traffic at a real listener on many connections at once, next to an honest logger.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const MAX_SEGMENT = 1024;
const STRANGER = 'FFFF0000A8900000000000EE';
const AUTH_REASONS = ['unknown-mn', 'bad-password', 'default-password'];

async function cloud(): Promise<TestCloud> {
  // A generous rate: the fuzz must reach the decoder rather than wait behind the token bucket.
  const c = await startTestCloud({ tcp: { host: '127.0.0.1', port: 0, maxSegment: MAX_SEGMENT, rate: 100_000, burst: 100_000, maxConnectionsPerAddress: 1000 } });
  cleanup.push(() => c.stop());
  return c;
}
const port = (c: TestCloud): number => c.cloud.tcp!.address.port;

function hourUpload(i: number): Packet {
  const hh = String(i % 24).padStart(2, '0');
  const dd = String(1 + Math.floor(i / 24)).padStart(2, '0');
  return { version: '2017', qn: `202611${dd}${hh}0000000`, st: '32', cn: '2061', pw: WATER_PW, mn: WATER_MN, flag: 5, cp: { params: { DataTime: `202611${dd}${hh}0000` }, factors: { w01018: { Avg: String(i), Flag: 'N' } } } };
}

/** An honest logger's uploads over its own connection: all must be answered 9014 and stored. */
async function honestLogger(c: TestCloud, n: number): Promise<void> {
  const client = await rawClient(port(c));
  cleanup.push(async () => client.close());
  for (let i = 0; i < n; i++) client.socket.write(encodeFrame(hourUpload(i)));
  const answers = await client.received(n);
  expect(answers.map((a) => a.cn)).toEqual(Array(n).fill('9014'));
  const stored = await c.cloud.store.query({ mn: WATER_MN, kind: 'hour', from: Date.parse('2026-11-01T00:00:00+08:00'), to: Date.parse('2026-12-01T00:00:00+08:00') });
  expect(stored).toHaveLength(n);
}

/** What the listener must report for these bytes: the decoder's rejections, and one refusal per frame that decodes. */
function expectedOf(streams: Buffer[]): { decoderReasons: Set<string>; frames: number } {
  const decoderReasons = new Set<string>();
  let frames = 0;
  for (const s of streams) {
    const d = new StreamDecoder({ mode: 'lenient', maxSegment: MAX_SEGMENT });
    frames += [...d.push(s), ...d.end()].filter((r) => r.ok).length;
    for (const code of Object.keys(d.stats.reasons)) decoderReasons.add(code);
  }
  return { decoderReasons, frames };
}

const damagedStream = fc.array(fc.record({ p: uploadArb(fc.constant(STRANGER)), damage: fc.array(mutationArb, { maxLength: 3 }) }), { minLength: 5, maxLength: 30 });
const junk = fc.uint8Array({ minLength: 1, maxLength: 4000 });

describe('fuzzing the TCP listener over real sockets', () => {
  it('survives random, damaged, oversize and byte-at-a-time traffic on many connections; an honest logger next to it loses nothing; every rejection is counted and logged with its reason', async () => {
    const c = await cloud();
    const damaged = fc.sample(damagedStream, { numRuns: 12, seed: 212 }).map((items) => Buffer.concat(items.map(({ p, damage }) => damage.reduce(mutate, frameBytes(p)))));
    const random = fc.sample(junk, { numRuns: 6, seed: 8 }).map((a) => Buffer.from(a));
    const stranger = frameBytes({ ...hourUpload(0), mn: STRANGER });
    // Announces 9999 bytes and sends megabytes with no end of frame: nothing may wait for or keep them.
    const huge = Buffer.concat([Buffer.from('##9999QN=1;CP=&&'), Buffer.alloc(2_000_000, 'x'), stranger]);
    const slow = Buffer.concat([mutate(stranger, { op: 'flip', at: 60, byte: 0x41 }), stranger]);
    const streams = [...damaged, ...random, huge, slow];
    const rssBefore = process.memoryUsage().rss;
    await Promise.all([
      ...damaged.map((s, i) => sendInPieces(port(c), s, [1 + i * 37, 3, 500])),
      ...random.map((s) => sendInPieces(port(c), s, [4096])),
      sendInPieces(port(c), huge, [65536]),
      // A slow sender: one byte at a time.
      sendInPieces(port(c), slow, [1], 1),
      honestLogger(c, 60),
    ]);
    const rejected = await settled(() => ({ ...c.cloud.ingest.stats.rejected }));
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    const want = expectedOf(streams);
    for (const reason of want.decoderReasons) expect(rejected, reason).toHaveProperty(reason);
    // Every frame that decoded was a stranger's: each refused once, none stored.
    expect(AUTH_REASONS.reduce((n, r) => n + (rejected[r] ?? 0), 0)).toBe(want.frames);
    expect(rejected['oversize']).toBeGreaterThanOrEqual(1);
    expect(await c.cloud.store.query({ mn: STRANGER, kind: 'hour', from: 0, to: Date.now() })).toEqual([]);
    // Every rejection counted is a log line naming its reason and the transport.
    const logged = c.lines.filter((l) => l['msg'] === 'packet rejected');
    expect(logged).toHaveLength(Object.values(rejected).reduce((a, b) => a + b, 0));
    expect(logged.every((l) => typeof l['reason'] === 'string' && l['via'] === 'tcp')).toBe(true);
    // 2 MB went through one connection; a listener that kept it would show it (the test process is the listener).
    expect(rssGrowth).toBeLessThan(64 * 1024 * 1024);
  });

  it('stops reading a logger that never reads its answers, instead of buffering them without bound; others are unaffected', async () => {
    const c = await cloud();
    // Each is answered 9011 (unknown MN): 40,000 answers, far more than the socket buffers hold.
    const frames = 40_000;
    const one = frameBytes({ ...hourUpload(0), mn: STRANGER });
    const deaf = await deafSender(port(c), Buffer.concat(Array(frames).fill(one) as Buffer[]));
    cleanup.push(() => deaf.stop());
    const handled = await settled(() => c.cloud.ingest.stats.rejected['unknown-mn'] ?? 0, 1000);
    expect(handled).toBeGreaterThan(0);
    expect(handled).toBeLessThan(frames);
    await honestLogger(c, 20);
  });
});
