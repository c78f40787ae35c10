import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, StreamDecoder, type Packet } from '../protocol/index.js';
import {
  rawClient,
  startTestCloud,
  testStations,
  WATER_MN,
  WATER_PW,
  type TestCloud,
} from './helpers/cloud-fixtures.js';
import { frameBytes, mutate, mutationArb, uploadArb } from './helpers/fault-frames.js';
import { deafSender, sendInPieces, settled } from './helpers/fault-net.js';
import { FUZZ_AUTH, rssVerdict, sampleRss, startIngestChild } from './helpers/fuzz-ingest.js';
import { fuzzSeed, hourUpload as upload } from './helpers/fuzz-traffic.js';

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
  const c = await startTestCloud({
    tcp: {
      host: '127.0.0.1',
      port: 0,
      maxSegment: MAX_SEGMENT,
      rate: 100_000,
      burst: 100_000,
      maxConnectionsPerAddress: 1000,
    },
    auth: FUZZ_AUTH,
  });
  cleanup.push(() => c.stop());
  return c;
}
const port = (c: TestCloud): number => c.cloud.tcp!.address.port;

const hourUpload = (i: number): Packet => upload(WATER_MN, WATER_PW, i);

/** An honest logger's uploads over its own connection: all must be answered 9014 and stored. */
async function honestLogger(c: TestCloud, n: number): Promise<void> {
  const client = await rawClient(port(c));
  cleanup.push(async () => client.close());
  for (let i = 0; i < n; i++) client.socket.write(encodeFrame(hourUpload(i)));
  const answers = await client.received(n);
  expect(answers.map((a) => a.cn)).toEqual(Array(n).fill('9014'));
  const stored = await c.cloud.store.query({
    mn: WATER_MN,
    kind: 'hour',
    from: Date.parse('2026-11-01T00:00:00+08:00'),
    to: Date.parse('2026-12-01T00:00:00+08:00'),
  });
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

const MiB = 1024 * 1024;
/** MNs the partial frames of cut-off connections carry, so their log lines can be told apart. */
const HALF_OPEN_MN = 'DDDD0000A8900000000000EE';
const RESET_MN = 'CCCC0000A8900000000000EE';

/** The first bytes of a frame, no more: what a connection holds when its peer vanishes mid-frame. */
const partialFrame = (mn: string): Buffer => frameBytes({ ...hourUpload(0), mn }).subarray(0, 80);

/** Announces 9999 bytes and sends `junk` bytes with no end of frame: nothing may wait for or keep them. */
const hugeStream = (junk: number): Buffer =>
  Buffer.concat([
    Buffer.from('##9999QN=1;CP=&&'),
    Buffer.alloc(junk, 'x'),
    frameBytes({ ...hourUpload(0), mn: STRANGER }),
  ]);

async function connected(port: number): Promise<Socket> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await once(s, 'connect');
  return s;
}

/** Peers that send part of a frame and then nothing, never closing (a logger whose link died without a FIN). */
async function halfOpen(port: number, n: number): Promise<Socket[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const s = await connected(port);
      s.write(partialFrame(HALF_OPEN_MN));
      return s;
    }),
  );
}

/** Peers that send part of a frame and then reset the connection (RST, no FIN). */
async function resetMidFrame(port: number, n: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async () => {
      const s = await connected(port);
      s.write(partialFrame(RESET_MN));
      // Long enough for the listener to have read the bytes before the reset arrives.
      await new Promise((r) => setTimeout(r, 100));
      s.resetAndDestroy();
    }),
  );
}

const damagedStream = fc.array(
  fc.record({ p: uploadArb(fc.constant(STRANGER)), damage: fc.array(mutationArb, { maxLength: 3 }) }),
  { minLength: 5, maxLength: 30 },
);
const junk = fc.uint8Array({ minLength: 1, maxLength: 4000 });

/** `n` streams of a stranger's uploads, some damaged, and `m` of random bytes. */
function fuzzStreams(n: number, m: number, seed: number): { damaged: Buffer[]; random: Buffer[] } {
  return {
    damaged: fc
      .sample(damagedStream, { numRuns: n, seed })
      .map((items) => Buffer.concat(items.map(({ p, damage }) => damage.reduce(mutate, frameBytes(p))))),
    random: fc.sample(junk, { numRuns: m, seed: seed + 1 }).map((a) => Buffer.from(a)),
  };
}

/** A damaged frame and an intact one, for sending a byte at a time. */
function slowStream(): Buffer {
  const stranger = frameBytes({ ...hourUpload(0), mn: STRANGER });
  return Buffer.concat([mutate(stranger, { op: 'flip', at: 60, byte: 0x41 }), stranger]);
}

describe('fuzzing the TCP listener over real sockets', () => {
  it(
    'survives random, damaged, oversize and byte-at-a-time traffic on many connections; an honest logger ' +
      'next to it loses nothing; every rejection is counted and logged with its reason',
    async () => {
      const c = await cloud();
      const { damaged, random } = fuzzStreams(12, 6, 212);
      const huge = hugeStream(2_000_000);
      const slow = slowStream();
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
    },
  );

  it(
    'stops reading a logger that never reads its answers, instead of ' +
      'buffering them without bound; others are unaffected',
    async () => {
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
    },
  );

  it(
    'as its own process: rounds of fuzz, huge announced lengths, slow senders, half-open and reset connections ' +
      'keep its memory bounded; an honest logger loses nothing; every refusal is counted and logged',
    async () => {
      const seed = fuzzSeed('TCP fuzz, ingest process');
      const child = await startIngestChild(
        { tcp: { maxSegment: MAX_SEGMENT, rate: 100_000, burst: 100_000, maxConnectionsPerAddress: 1000 } },
        await testStations(),
      );
      cleanup.push(() => child.remove());
      const tcp = child.ports.tcp!;
      const honest = await rawClient(tcp);
      cleanup.push(async () => honest.close());
      let sent = 0;
      /** `n` more honest uploads, all answered before it resolves. */
      const honestUploads = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i++) honest.socket.write(encodeFrame(hourUpload(sent++)));
        await honest.received(sent);
      };

      await honestUploads(20);
      const baseline = child.rss();
      const rss = sampleRss(() => child.rss());
      const streams: Buffer[] = [];
      const idle: Socket[] = [];
      const ROUNDS = 4;
      const RESETS = 10;
      // 4 x 48 MiB: a listener that kept what it was sent would go well past the bound.
      const huge = hugeStream(48 * MiB);
      const slow = slowStream();
      for (let round = 0; round < ROUNDS; round++) {
        const { damaged, random } = fuzzStreams(6, 4, seed + 2 * round);
        streams.push(...damaged, ...random, huge, slow);
        idle.push(...(await halfOpen(tcp, 50)));
        await Promise.all([
          ...damaged.map((s, i) => sendInPieces(tcp, s, [1 + i * 37, 3, 500])),
          ...random.map((s) => sendInPieces(tcp, s, [4096])),
          sendInPieces(tcp, huge, [65536]),
          sendInPieces(tcp, slow, [1], 1),
          resetMidFrame(tcp, RESETS),
          honestUploads(20),
        ]);
      }
      // The half-open peers finally hang up: what they held is a truncated frame each, reported.
      for (const s of idle) s.end();
      await settled(() => child.lines().length, 1000);
      const samples = rss.stop();
      expect(child.alive()).toBe(true);
      const counters = await child.stop();

      const context = `seed ${seed}`;
      const want = expectedOf(streams);
      for (const reason of want.decoderReasons)
        expect(counters.rejected, `${reason}, ${context}`).toHaveProperty(reason);
      expect(
        AUTH_REASONS.reduce((n, r) => n + (counters.rejected[r] ?? 0), 0),
        context,
      ).toBe(want.frames);
      expect(counters.rejected['internal-error'], context).toBeUndefined();
      const logged = child.lines().filter((l) => l['msg'] === 'packet rejected');
      expect(logged).toHaveLength(Object.values(counters.rejected).reduce((a, b) => a + b, 0));
      expect(logged.every((l) => typeof l['reason'] === 'string' && l['via'] === 'tcp')).toBe(true);
      const cutOff = (mn: string): number => logged.filter((l) => l['mn'] === mn && l['reason'] === 'truncated').length;
      expect([cutOff(HALF_OPEN_MN), cutOff(RESET_MN)]).toEqual([idle.length, ROUNDS * RESETS]);

      expect(honest.packets.map((p) => p.cn)).toEqual(Array(sent).fill('9014'));
      const store = child.openStore();
      try {
        const rows = await store.query({
          mn: WATER_MN,
          kind: 'hour',
          from: 0,
          to: Number.MAX_SAFE_INTEGER,
          limit: 10_000,
        });
        expect(rows.map((r) => r.values['Avg'])).toEqual(Array.from({ length: sent }, (_, i) => i));
        expect(await store.query({ mn: STRANGER, kind: 'hour', from: 0, to: Number.MAX_SAFE_INTEGER })).toEqual([]);
      } finally {
        await store.close();
      }
      const v = rssVerdict(baseline, samples);
      expect(v.ok, v.why).toBe(true);
    },
    90_000,
  );
});
