import { once } from 'node:events';
import { connect } from 'node:net';
import fc from 'fast-check';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { downTopic, upTopic, type StationInput } from '../cloud/index.js';
import { decodeFrame, encodeFrame, type Packet } from '../protocol/index.js';
import { GAS_MN, GAS_PW, testHash, testStations, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';
import type { Proc } from './helpers/cloud-procs.js';
import { uploader } from './helpers/demo-cluster.js';
import { startDeployedMosquitto } from './helpers/fault-mosquitto.js';
import { settled } from './helpers/fault-net.js';
import { TOOLS } from './helpers/common.js';
import { rssVerdict, sampleRss, startIngestChild, type IngestChild } from './helpers/fuzz-ingest.js';
import { frameBytes } from './helpers/fault-frames.js';
import {
  fuzzSeed,
  HOUR_0,
  hourUpload,
  mqttOutcome,
  mqttPayloadArb,
  tally,
  withBreakIn,
} from './helpers/fuzz-traffic.js';

// tests/cloud-mqtt.test.ts checks one refusal of each kind; this throws fuzzed payloads at the MQTT
// and HTTP inputs of a real `hj212 cloud` process while an honest station uploads next to them.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const MiB = 1024 * 1024;
const MAX_PAYLOAD = 4096;
const HONEST = 60;
const FUZZ = 250;
/** Refusals that come after a frame reached the ingest path (its PW, its data). */
const INGEST_REASONS = ['unknown-mn', 'bad-password', 'default-password', 'bad-data'];
const SECRETS = { water: 'water-secret', gas: 'gas-secret', ingest: 'ingest-secret' };

/** The fixtures' stations, the gas one also allowed an MQTT login: it is the honest device. */
async function stations(): Promise<StationInput[]> {
  const [water, gas] = await testStations();
  return [water!, { ...gas!, mqttSecretHash: await testHash(SECRETS.gas) }];
}

async function ingestChild(inputs: Parameters<typeof startIngestChild>[0]): Promise<IngestChild> {
  const child = await startIngestChild(inputs, await stations());
  cleanup.push(() => child.remove());
  return child;
}

async function mqttClient(url: string, username: string, password: string, clientId: string): Promise<MqttClient> {
  const client = await connectAsync(url, { username, password, clientId, reconnectPeriod: 0 });
  cleanup.push(() => client.endAsync(true));
  return client;
}

/**
 * The honest station: uploads number `from` to `to` one after another, each waiting for its 9014; counts every 9014 it
 * gets by QN.
 */
async function honestDevice(
  url: string,
): Promise<{ send(from: number, to: number): Promise<void>; answers: Map<string, number> }> {
  const client = await mqttClient(url, GAS_MN, SECRETS.gas, `honest-${GAS_MN}`);
  const answers = new Map<string, number>();
  client.on('message', (_t, payload) => {
    const r = decodeFrame(payload);
    if (r.ok && r.frame.packet.cn === '9014')
      answers.set(r.frame.packet.qn!, (answers.get(r.frame.packet.qn!) ?? 0) + 1);
  });
  const up = await uploader(client, GAS_MN, GAS_PW);
  return {
    answers,
    async send(from, to) {
      for (let i = from; i < to; i++) await up('2061', HOUR_0 + i * 3_600_000, i);
    },
  };
}

/** Publishes each payload at QoS 1, one after another, so the broker has taken each before the next. */
async function publishAll(client: MqttClient, topic: string, payloads: Buffer[]): Promise<void> {
  for (const p of payloads) await client.publishAsync(topic, p, { qos: 1 });
}

/** Publishes to topics the device may not use, each over its own connection (the broker may drop a device for it). */
async function publishWhereDenied(url: string, topics: string[]): Promise<void> {
  for (const [i, topic] of topics.entries()) {
    const c = await connectAsync(url, {
      username: WATER_MN,
      password: SECRETS.water,
      clientId: `stray-${WATER_MN}-${i}`,
      reconnectPeriod: 0,
    });
    c.on('error', () => undefined);
    // QoS 0: a broker that refuses the publish may never acknowledge it.
    await c.publishAsync(topic, encodeFrame(hourUpload(GAS_MN, GAS_PW, 24 * 40 + i)), { qos: 0 });
    await new Promise((r) => setTimeout(r, 100));
    await c.endAsync(true);
  }
}

/**
 * A device that publishes one huge payload over its own connection: the broker may answer it or drop the connection.
 */
async function publishHuge(url: string, payload: Buffer): Promise<void> {
  const c = await connectAsync(url, {
    username: WATER_MN,
    password: SECRETS.water,
    clientId: `huge-${WATER_MN}`,
    reconnectPeriod: 0,
  });
  c.on('error', () => undefined);
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  await Promise.race([c.publishAsync(upTopic(WATER_MN), payload, { qos: 1 }).catch(() => undefined), closed]);
  await c.endAsync(true).catch(() => undefined);
}

/**
 * A peer that never logs in: a CONNECT announcing 200 MB, of which it sends 40 MB (or as much as it can before being
 * cut off).
 */
async function hugeConnect(port: number): Promise<void> {
  const s = connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await once(s, 'connect');
  const announced = 200 * MiB;
  const varint = [0, 1, 2, 3].map((k) => Math.floor(announced / 128 ** k) % 128).map((b, k) => (k < 3 ? b | 0x80 : b));
  s.write(Buffer.from([0x10, ...varint]));
  // Not events.once: it would reject on the EPIPE that being cut off causes.
  const closed = new Promise<void>((r) => s.once('close', () => r()));
  for (let i = 0; i < 40 && !s.destroyed; i++) {
    if (s.write(Buffer.alloc(MiB, 0x41))) continue;
    const drained = new Promise((r) => s.once('drain', r));
    await Promise.race([drained, closed]);
  }
  s.destroy();
}

interface BrokerSetup {
  url: string;
  child: IngestChild;
  /**
   * The embedded broker is the ingest: it sees wrong topics and huge packets. Mosquitto refuses the first and keeps the
   * second from us.
   */
  ingestIsBroker: boolean;
  broker?: Proc;
}

async function embedded(): Promise<BrokerSetup> {
  const child = await ingestChild({ mqtt: { maxPayload: MAX_PAYLOAD } });
  return { url: `mqtt://127.0.0.1:${child.ports.mqtt}`, child, ingestIsBroker: true };
}

async function mosquitto(): Promise<BrokerSetup> {
  const broker = await startDeployedMosquitto({
    [WATER_MN]: SECRETS.water,
    [GAS_MN]: SECRETS.gas,
    ingest: SECRETS.ingest,
  });
  cleanup.push(() => broker.stop());
  const url = `mqtt://127.0.0.1:${broker.port}`;
  const child = await ingestChild({
    mqtt: {
      mode: 'external',
      url: `mqtt://127.0.0.1:${broker.ingestPort}`,
      username: 'ingest',
      password: SECRETS.ingest,
      maxPayload: MAX_PAYLOAD,
    },
  });
  return { url, child, ingestIsBroker: false, broker };
}

describe('fuzzing the MQTT input of a running ingest', () => {
  for (const [name, setup, available] of [
    ['embedded broker (aedes)', embedded, true],
    ['external broker (Mosquitto as deployed)', mosquitto, TOOLS.mosquitto()],
  ] as const) {
    it.skipIf(!available)(
      `${name}: random, damaged, oversize, non-UTF-8, multi-frame and wrong-MN payloads and wrong topics next to an ` +
        'honest device; nothing lost, every refusal counted and logged by reason and MN, memory bounded',
      async () => {
        const seed = fuzzSeed(`MQTT fuzz, ${name}`);
        const { url, child, ingestIsBroker, broker } = await setup();
        const payloads = fc.sample(mqttPayloadArb(WATER_MN, WATER_PW, GAS_MN), { numRuns: FUZZ, seed });
        const justOver = Buffer.alloc(MAX_PAYLOAD + 1, '#');
        // Far over the limit: not to be held even briefly in full.
        const huge = Buffer.concat([
          Buffer.from(encodeFrame(hourUpload(WATER_MN, WATER_PW, 0))),
          Buffer.alloc(48 * MiB, 'x'),
        ]);
        const denied = [upTopic(GAS_MN), downTopic(WATER_MN), 'hj212/alarms/x', `hj212/${WATER_MN}/up/more`];

        const honest = await honestDevice(url);
        const fuzzer = await mqttClient(url, WATER_MN, SECRETS.water, `fuzzer-${WATER_MN}`);
        // Warm up on honest traffic and some fuzz, so the baseline includes what a running ingest holds anyway.
        await honest.send(0, 10);
        await publishAll(fuzzer, upTopic(WATER_MN), payloads.slice(0, 20));
        await settled(() => child.lines().length);
        const baseline = child.rss();
        const rss = sampleRss(() => child.rss());
        await Promise.all([
          honest.send(10, HONEST),
          (async () => {
            await publishAll(fuzzer, upTopic(WATER_MN), payloads.slice(20, 120));
            await publishAll(fuzzer, upTopic(WATER_MN), [justOver]);
            await publishAll(fuzzer, upTopic(WATER_MN), payloads.slice(120));
            // Last, over connections of their own: Mosquitto gives every connection of one device the
            // same client id (its MN), so each of these takes the fuzzer's place.
            await publishHuge(url, huge);
            if (ingestIsBroker) await hugeConnect(child.ports.mqtt!);
            await publishWhereDenied(url, denied);
          })(),
        ]);
        await settled(() => child.lines().length, 1000);
        const samples = rss.stop();
        expect(child.alive()).toBe(true);
        const stats = await child.stop();

        const outcomes = tally([...payloads, justOver].map((p) => mqttOutcome(p, WATER_MN, MAX_PAYLOAD)));
        const accepted = outcomes['accept'] ?? 0;
        const want: Record<string, number> = { ...outcomes };
        delete want['accept'];
        if (ingestIsBroker) {
          want['mqtt-publish-denied'] = denied.length;
          want['oversize'] = (want['oversize'] ?? 0) + 2;
        }
        const got = { ...stats.rejected };
        const afterAuth = INGEST_REASONS.reduce((n, r) => n + (got[r] ?? 0), 0);
        for (const r of INGEST_REASONS) delete got[r];
        const context = `seed ${seed}`;
        // Refusals before authentication exactly as the decoder predicts them; nothing else (no internal-error).
        expect(got, context).toEqual(want);
        // Every frame that decoded and named its topic's MN reached the ingest path once, the honest ones too.
        expect(stats.packets, context).toBe(HONEST + accepted);
        expect(afterAuth, context).toBeLessThanOrEqual(accepted);

        const logged = child.lines().filter((l) => l['msg'] === 'packet rejected');
        expect(logged, context).toHaveLength(Object.values(stats.rejected).reduce((a, b) => a + b, 0));
        for (const l of logged) expect([typeof l['reason'], l['via']], JSON.stringify(l)).toEqual(['string', 'mqtt']);
        // Each names the station, but for the peer that never logged in.
        expect(logged.filter((l) => typeof l['mn'] !== 'string').map((l) => l['reason'])).toEqual(
          ingestIsBroker ? ['oversize'] : [],
        );
        if (!ingestIsBroker)
          expect(
            broker!.output().match(/Denied PUBLISH/g)?.length ?? 0,
            broker!.output().slice(-3000),
          ).toBeGreaterThanOrEqual(denied.length);

        // The honest station: each upload answered once and stored once; nothing of anyone else's under its MN.
        expect([...honest.answers.values()]).toEqual(Array(HONEST).fill(1));
        const store = child.openStore();
        try {
          const rows = await store.query({
            mn: GAS_MN,
            kind: 'hour',
            from: 0,
            to: Number.MAX_SAFE_INTEGER,
            limit: 10_000,
          });
          expect(rows.map((r) => [r.time, r.values['Avg']])).toEqual(
            Array.from({ length: HONEST }, (_, i) => [HOUR_0 + i * 3_600_000, i]),
          );
        } finally {
          await store.close();
        }

        const v = rssVerdict(baseline, samples);
        expect(v.ok, v.why).toBe(true);
      },
      90_000,
    );
  }
});

const BODY_LIMIT = 256 * 1024;

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** POSTs as the admin token; every reply must be JSON. */
async function post(child: IngestChild, path: string, body: string | Uint8Array, type: string): Promise<Reply> {
  const res = await fetch(`http://127.0.0.1:${child.ports.http}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${child.token}`, 'content-type': type },
    body: typeof body === 'string' ? body : new Blob([new Uint8Array(body)]),
  });
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${path}: ${res.status} is not JSON: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body: json };
}

/** A refusal says what is wrong and where: the body field at fault, the body itself, or its media type. */
function expectNamedRefusal(r: Reply, what: string): void {
  expect([400, 413, 415], `${what}: ${JSON.stringify(r.body)}`).toContain(r.status);
  expect(String(r.body['message']), what).toMatch(r.status === 415 ? /media type/i : /body/i);
}

type Result = { ok: boolean; reason?: string; qn?: string; detail?: string };
const resultsOf = (r: Reply): Result[] => r.body['results'] as Result[];

/** Records a station may not get stored: wrong types, bad values, someone else's or no credentials, no usable time. */
const badRecordArb = (valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.anything({ maxDepth: 3 }),
    fc
      .tuple(
        valid,
        fc.constantFrom('cn', 'mn', 'pw', 'qn', 'cp', 'flag'),
        fc.oneof(fc.integer(), fc.constant(null), fc.array(fc.string()), fc.constant('a;b')),
      )
      .map(([r, k, v]) => ({ ...r, [k]: v })),
    valid.map((r) => ({ ...r, pw: 'wrong1' })),
    valid.map((r) => ({ ...r, mn: 'FFFF0000A8900000000000EE' })),
    valid.map((r) => ({ ...r, cp: { params: { DataTime: '2026-13-45' }, factors: { w01018: { Avg: '1' } } } })),
    valid.map((r) => ({
      ...r,
      cp: { params: { DataTime: '20261101000000' }, factors: { w01018: { Avg: '1;CN=9014' } } },
    })),
  );

/**
 * Records the schema takes, with the odd values a vendor's JSON may hold (any CN, version and flag;
 * odd factor codes, field names and numbers; impossible times), for the gas station so they stay
 * apart from the water station's bookkeeping.
 */
const oddRecordArb = (() => {
  const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_]{0,8}$/);
  const value = fc.oneof(
    fc.stringMatching(/^[^;,=&\r\n]{1,12}$/),
    fc.double().map(String),
    fc.constantFrom('1e308', '-0', 'NaN', 'Infinity', '9999.99', '0x1F', '//free text//'),
  );
  const time = fc.oneof(fc.constant('20261120100000'), fc.stringMatching(/^\d{14}$/), fc.stringMatching(/^\d{1,20}$/));
  return fc.record({
    version: fc.constantFrom('2005', '2017', '2025'),
    qn: fc.stringMatching(/^\d{1,20}$/),
    st: fc.constantFrom('32', '31', '91'),
    cn: fc.constantFrom('2011', '2051', '2061', '2031', '1011', '9014', '3020', '2081'),
    pw: fc.constant(GAS_PW),
    mn: fc.constant(GAS_MN),
    flag: fc.integer({ min: 0, max: 255 }),
    cp: fc.record({
      params: fc.record({ DataTime: time }),
      factors: fc.dictionary(name, fc.dictionary(name, value, { maxKeys: 4 }), { maxKeys: 4 }),
    }),
  });
})();

/** What the store holds for the water station, hour data, as upload numbers (hourUpload's Avg). */
async function storedUploads(child: IngestChild): Promise<number[]> {
  const res = await fetch(
    `http://127.0.0.1:${child.ports.http}/stations/${WATER_MN}/data?kind=hour&from=0&to=${Number.MAX_SAFE_INTEGER}&` +
      'limit=100000',
    { headers: { authorization: `Bearer ${child.token}` } },
  );
  const rows = (await res.json()) as { values: { Avg: number } }[];
  return rows.map((r) => r.values.Avg).sort((a, b) => a - b);
}

describe('fuzzing the HTTP ingestion routes of a running ingest', () => {
  it(
    'answers random, mistyped, huge and deeply nested bodies with a 4xx naming the body, or per-record ' +
      'results; stores every valid record among invalid ones; never a 500; memory bounded',
    async () => {
      const seed = fuzzSeed('HTTP fuzz');
      const child = await ingestChild({ http: { bodyLimit: BODY_LIMIT, rate: 100_000, burst: 100_000 } });
      let next = 0;
      const sent: number[] = [];
      /** A valid record (as `hj212 decode` prints it), each its own hour, remembered to be looked for in the store. */
      const validRecord = (): Record<string, unknown> => {
        sent.push(next);
        return { ...hourUpload(WATER_MN, WATER_PW, next++) };
      };
      const template = fc.constant(hourUpload(WATER_MN, WATER_PW, 9000) as unknown as Record<string, unknown>);
      const stats = { badRecords: 0 };
      // Warm up on valid records, so the baseline includes what a running API holds anyway.
      for (let i = 0; i < 5; i++)
        expect(
          (
            await post(
              child,
              '/ingest/records',
              JSON.stringify({ packets: [validRecord(), validRecord()] }),
              'application/json',
            )
          ).status,
        ).toBe(200);
      const baseline = child.rss();
      const rss = sampleRss(() => child.rss());

      // Not even the shape: random JSON, the wrong types for `packets`, too few or too many.
      const shapes = [
        ...fc.sample(fc.json({ maxDepth: 4 }), { numRuns: 80, seed }),
        '{"packets":"x"}',
        '{"packets":{}}',
        '{"packets":[]}',
        '{"packets":null}',
        JSON.stringify({ packets: Array(1001).fill({}) }),
      ];
      for (const body of shapes) {
        const r = await post(child, '/ingest/records', body, 'application/json');
        if (r.status === 200) stats.badRecords += resultsOf(r).filter((x) => x.reason === 'bad-record').length;
        else expectNamedRefusal(r, body.slice(0, 80));
      }

      // Valid records mixed with invalid ones: each gets its own result, in order; the valid ones are stored.
      const mixes = fc.sample(
        fc.array(fc.oneof(fc.constant(undefined), badRecordArb(template)), { minLength: 1, maxLength: 30 }),
        { numRuns: 60, seed: seed + 1 },
      );
      for (const mix of mixes) {
        const packets = mix.map((m) => (m === undefined ? validRecord() : m));
        const r = await post(child, '/ingest/records', JSON.stringify({ packets }), 'application/json');
        expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
        const results = resultsOf(r);
        expect(results).toHaveLength(packets.length);
        results.forEach((res, i) => {
          expect(res.ok, `packets.${i}: ${JSON.stringify(packets[i])} → ${JSON.stringify(res)}`).toBe(
            mix[i] === undefined,
          );
          if (!res.ok) expect(typeof res.reason).toBe('string');
          if (res.reason === 'bad-record') expect(res.detail).toMatch(new RegExp(`^packets\\.${i}: `));
        });
        stats.badRecords += results.filter((x) => x.reason === 'bad-record').length;
      }

      // Records the schema takes but the ingest may not: each gets a result, none a 500.
      for (const packets of fc.sample(fc.array(oddRecordArb, { minLength: 1, maxLength: 20 }), {
        numRuns: 40,
        seed: seed + 3,
      })) {
        const r = await post(child, '/ingest/records', JSON.stringify({ packets }), 'application/json');
        expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(200);
        const results = resultsOf(r);
        expect(results).toHaveLength(packets.length);
        for (const res of results) expect(res.ok || typeof res.reason === 'string', JSON.stringify(res)).toBe(true);
      }

      // Raw frames: intact ones among damaged ones and junk, in one body.
      const frameBodies = fc.sample(
        fc.array(fc.oneof(fc.constant(undefined), mqttPayloadArb(WATER_MN, 'wrong1', GAS_MN)), {
          minLength: 1,
          maxLength: 20,
        }),
        { numRuns: 50, seed: seed + 2 },
      );
      for (const items of frameBodies) {
        const qns: string[] = [];
        const body = Buffer.concat(
          items.map((b) => {
            if (b !== undefined) return b;
            const record = validRecord();
            qns.push(record['qn'] as string);
            return Buffer.from(encodeFrame(record as unknown as Parameters<typeof encodeFrame>[0]));
          }),
        );
        const r = await post(child, '/ingest/frames', body, 'text/plain');
        if (body.length === 0 || r.status !== 200) {
          expectNamedRefusal(r, 'frames');
          expect(qns).toEqual([]);
          continue;
        }
        const okQns = resultsOf(r)
          .filter((x) => x.ok)
          .map((x) => x.qn);
        expect(okQns, body.toString('latin1').slice(0, 300)).toEqual(qns);
      }

      // Line breaks in header values: once taken by the lenient decoder, whose answer then threw, a 500
      // that dropped the frames after it (found by the TCP fuzz). Now refused alone, the others stored.
      const around = [validRecord(), validRecord()] as unknown as Packet[];
      const breaks = Buffer.concat([
        frameBytes(around[0]!),
        withBreakIn(hourUpload(WATER_MN, WATER_PW, 9001), 'QN'),
        withBreakIn(hourUpload(WATER_MN, WATER_PW, 9002), 'PW'),
        withBreakIn(hourUpload(WATER_MN, WATER_PW, 9003), 'MN'),
        frameBytes(around[1]!),
      ]);
      const broken = await post(child, '/ingest/frames', breaks, 'text/plain');
      expect(broken.status, JSON.stringify(broken.body)).toBe(200);
      expect(resultsOf(broken).map((x) => [x.ok, x.reason])).toEqual([
        [true, undefined],
        [false, 'bad-field'],
        [false, 'bad-field'],
        [false, 'bad-field'],
        [true, undefined],
      ]);

      // Over the body limit (with and without a length up front), deeply nested, not JSON, not a type we take.
      const nested = (depth: number): string => `{"packets":[${'['.repeat(depth)}${']'.repeat(depth)}]}`;
      const nestedObjects = (depth: number): string =>
        `{"packets":[${'{"__proto__":'.repeat(depth)}1${'}'.repeat(depth)}]}`;
      const huge = JSON.stringify({
        packets: [{ ...hourUpload(WATER_MN, WATER_PW, 9001), pad: 'x'.repeat(BODY_LIMIT) }],
      });
      const hugeStream = new Blob([huge]).stream();
      for (const [what, path, body, type] of [
        ['huge JSON', '/ingest/records', huge, 'application/json'],
        ['huge text', '/ingest/frames', Buffer.alloc(BODY_LIMIT + 1, '#'), 'text/plain'],
        ['nested arrays', '/ingest/records', nested(50_000), 'application/json'],
        ['nested objects', '/ingest/records', nestedObjects(15_000), 'application/json'],
        ['broken JSON', '/ingest/records', '{"packets":[{"cn":"2061"', 'application/json'],
        ['XML', '/ingest/records', '<packets/>', 'application/xml'],
      ] as const) {
        const r = await post(child, path, body, type);
        if (r.status === 200) stats.badRecords += resultsOf(r).filter((x) => x.reason === 'bad-record').length;
        else expectNamedRefusal(r, what);
      }
      const chunked = await fetch(`http://127.0.0.1:${child.ports.http}/ingest/records`, {
        method: 'POST',
        headers: { authorization: `Bearer ${child.token}`, 'content-type': 'application/json' },
        body: hugeStream,
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status).toBe(413);

      expect(await storedUploads(child)).toEqual(sent);
      const samples = rss.stop();
      const v = rssVerdict(baseline, samples);
      expect(v.ok, v.why).toBe(true);
      expect(child.alive()).toBe(true);
      const counters = await child.stop();
      expect(counters.rejected['bad-record'] ?? 0).toBe(stats.badRecords);
      expect(counters.rejected['internal-error']).toBeUndefined();
      const logged = child.lines().filter((l) => l['msg'] === 'packet rejected');
      expect(logged).toHaveLength(Object.values(counters.rejected).reduce((a, b) => a + b, 0));
      expect(logged.every((l) => typeof l['reason'] === 'string' && l['via'] === 'http')).toBe(true);
      expect(
        child
          .lines()
          .filter(
            (l) => Number(l['level']) >= 50 || (l['res'] as { statusCode?: number } | undefined)?.statusCode === 500,
          ),
      ).toEqual([]);
    },
    90_000,
  );
});
