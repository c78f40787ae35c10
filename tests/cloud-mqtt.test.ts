import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { downTopic, upTopic, type CloudConfigInput } from '../cloud/index.js';
import { decodeFrame, encodeFrame, type Packet } from '../protocol/index.js';
import { GAS_MN, startTestCloud, testHash, WATER_MN, WATER_PW, type TestCloud } from './helpers/cloud-fixtures.js';
import { startMosquitto } from './helpers/cloud-procs.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const T0 = Date.parse('2026-11-20T10:00:00+08:00');
let qn = 0;
const hourFrame = (mn: string, pw: string, time: string, avg: string): string =>
  encodeFrame({
    version: '2017',
    qn: `20261120100000${String(++qn % 1000).padStart(3, '0')}`,
    st: '32',
    cn: '2061',
    pw,
    mn,
    flag: 5,
    cp: { params: { DataTime: time }, factors: { w01018: { Avg: avg, Flag: 'N' } } },
  } satisfies Packet);

/** A device: logged in, subscribed to its down topic, collecting the decoded answers. */
async function device(
  url: string,
  mn: string,
  secret?: string,
): Promise<{ client: MqttClient; answers: Packet[]; next(n: number): Promise<Packet[]> }> {
  const client = await connectAsync(url, {
    username: mn,
    password: secret,
    reconnectPeriod: 0,
    clientId: `dev-${mn}-${qn++}`,
  });
  cleanup.push(() => client.endAsync(true));
  const answers: Packet[] = [];
  const waiters: (() => void)[] = [];
  client.on('message', (_topic, payload) => {
    const r = decodeFrame(payload);
    if (r.ok) answers.push(r.frame.packet);
    for (const w of waiters.splice(0)) w();
  });
  const granted = await client.subscribeAsync(downTopic(mn), { qos: 1 });
  expect(granted[0]!.qos).toBe(1);
  const next = async (n: number): Promise<Packet[]> => {
    while (answers.length < n) await new Promise<void>((r) => waiters.push(r));
    return answers.slice(0, n);
  };
  return { client, answers, next };
}

async function cloud(mqtt: CloudConfigInput['mqtt']): Promise<TestCloud> {
  const c = await startTestCloud({ mqtt, tcp: undefined });
  cleanup.push(() => c.stop());
  return c;
}

describe('embedded MQTT broker', () => {
  const start = async (): Promise<{ c: TestCloud; url: string }> => {
    const c = await cloud({ mode: 'embedded', host: '127.0.0.1', port: 0 });
    return { c, url: `mqtt://127.0.0.1:${c.cloud.mqtt!.address!.port}` };
  };

  it('stores a device’s upload and answers 9014 on its down topic', async () => {
    const { c, url } = await start();
    const d = await device(url, WATER_MN, 'water-secret');
    const frame = hourFrame(WATER_MN, WATER_PW, '20261120100000', '21.5');
    await d.client.publishAsync(upTopic(WATER_MN), frame, { qos: 1 });
    const [answer] = await d.next(1);
    expect(answer).toMatchObject({ cn: '9014', mn: WATER_MN, qn: /QN=(\d+)/.exec(frame)![1] });
    const stored = await c.cloud.store.query({ mn: WATER_MN, kind: 'hour', from: T0, to: T0 + 1 });
    expect(stored.map((p) => p.values['Avg'])).toEqual([21.5]);
  });

  it('asks a device for its missing hours (2061) on its down topic', async () => {
    const c = await startTestCloud({
      mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 },
      rules: { lookbackHours: 2 },
    });
    cleanup.push(() => c.stop());
    const d = await device(`mqtt://127.0.0.1:${c.cloud.mqtt!.address!.port}`, WATER_MN, 'water-secret');
    await d.client.publishAsync(upTopic(WATER_MN), hourFrame(WATER_MN, WATER_PW, '20261120120000', '20'), { qos: 1 });
    await d.next(1);
    // Only COD came for 12:00, so the other factors of that hour are asked for.
    await c.cloud.rules.checkMissing(T0 + 3.5 * 3_600_000);
    const [, request] = await d.next(2);
    expect(request).toMatchObject({
      cn: '2061',
      mn: WATER_MN,
      pw: WATER_PW,
      cp: { params: { BeginTime: '20261120120000', EndTime: '20261120120000' } },
    });
  });

  it('refuses a wrong secret and a station without an MQTT secret', async () => {
    const { c, url } = await start();
    await expect(connectAsync(url, { username: WATER_MN, password: 'wrong', reconnectPeriod: 0 })).rejects.toThrow(
      /Bad username or password/i,
    );
    await expect(connectAsync(url, { username: GAS_MN, password: 'x', reconnectPeriod: 0 })).rejects.toThrow(
      /Bad username or password/i,
    );
    expect(c.cloud.ingest.stats.rejected).toEqual({ 'mqtt-bad-password': 2 });
  });

  it('holds a device to its own topics, and answers a frame for another MN with 9011 QnRtn 4', async () => {
    const { c, url } = await start();
    const d = await device(url, WATER_MN, 'water-secret');
    // SUBACK 0x80, which mqtt.js reports as an error; the connection stays up.
    await expect(d.client.subscribeAsync(downTopic(GAS_MN), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    // Its own up topic, but a frame that claims another MN.
    await d.client.publishAsync(upTopic(WATER_MN), hourFrame(GAS_MN, WATER_PW, '20261120100000', '1'), { qos: 1 });
    const [answer] = await d.next(1);
    expect(answer).toMatchObject({ cn: '9011', mn: WATER_MN, cp: { params: { QnRtn: '4' } } });
    // Another station's up topic: aedes drops the publish (and the connection).
    await d.client
      .publishAsync(upTopic(GAS_MN), hourFrame(GAS_MN, WATER_PW, '20261120100000', '2'), { qos: 0 })
      .catch(() => undefined);
    while (c.cloud.ingest.stats.rejected['mqtt-publish-denied'] === undefined)
      await new Promise((r) => setTimeout(r, 20));
    expect(await c.cloud.store.query({ mn: GAS_MN, kind: 'hour', from: T0, to: T0 + 1 })).toEqual([]);
    expect(c.cloud.ingest.stats.rejected).toMatchObject({
      'mqtt-subscribe-denied': 1,
      'topic-mismatch': 1,
      'mqtt-publish-denied': 1,
    });
  });
});

describe('embedded broker observers', () => {
  it('lets an observer read the alarm topics and nothing else', async () => {
    const c = await cloud({
      mode: 'embedded',
      host: '127.0.0.1',
      port: 0,
      observers: [{ username: 'scada', secretHash: await testHash('look-only') }],
    });
    const url = `mqtt://127.0.0.1:${c.cloud.mqtt!.address!.port}`;
    await expect(connectAsync(url, { username: 'scada', password: 'guess', reconnectPeriod: 0 })).rejects.toThrow(
      /Bad username or password/i,
    );
    const observer = await connectAsync(url, {
      username: 'scada',
      password: 'look-only',
      clientId: 'scada-1',
      reconnectPeriod: 0,
    });
    cleanup.push(() => observer.endAsync(true));
    await expect(observer.subscribeAsync('hj212/+/up', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    const alarms: string[] = [];
    observer.on('message', (topic, payload) =>
      alarms.push(`${topic} ${(JSON.parse(payload.toString()) as { alarm: { type: string } }).alarm.type}`),
    );
    await observer.subscribeAsync('hj212/alarms/#', { qos: 1 });
    c.cloud.rules.checkOffline(Date.now() + 20 * 60_000);
    while (alarms.length < 2) await new Promise((r) => setTimeout(r, 20));
    expect(alarms.sort()).toEqual([`hj212/alarms/${WATER_MN} offline`, `hj212/alarms/${GAS_MN} offline`].sort());
  });
});

describe('external broker (mosquitto)', () => {
  it('two ingest processes share the up topics: every upload stored once and answered', async () => {
    const mosq = await startMosquitto();
    cleanup.push(() => mosq.stop());
    const url = `mqtt://127.0.0.1:${mosq.port}`;
    const a = await cloud({ mode: 'external', url });
    const b = await cloud({ mode: 'external', url });
    const d = await device(url, WATER_MN);
    const n = 20;
    for (let i = 0; i < n; i++) {
      const time = `202611201${String(i).padStart(3, '0')}00`.slice(0, 14);
      await d.client.publishAsync(upTopic(WATER_MN), hourFrame(WATER_MN, WATER_PW, time, String(i)), { qos: 1 });
    }
    const answers = await d.next(n);
    expect(answers.every((x) => x.cn === '9014')).toBe(true);
    const range = { mn: WATER_MN, kind: 'hour' as const, from: T0, to: T0 + 3_600_000 };
    const [inA, inB] = await Promise.all([a.cloud.store.query(range), b.cloud.store.query(range)]);
    expect(inA.length + inB.length).toBe(n);
    expect(inA.length).toBeGreaterThan(0);
    expect(inB.length).toBeGreaterThan(0);
    expect(new Set([...inA, ...inB].map((p) => p.time)).size).toBe(n);
  });
});
