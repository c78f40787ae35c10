import { readFile } from 'node:fs/promises';
import { connect, connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { downTopic, upTopic } from '../cloud/index.js';
import { decodeFrame, encodeFrame, historyRequest, type Packet } from '../protocol/index.js';
import {
  GAS_MN,
  GAS_PW,
  startTestCloud,
  testHash,
  testStations,
  WATER_MN,
  WATER_PW,
  type TestCloud,
} from './helpers/cloud-fixtures.js';
import { startCentreMosquitto } from './helpers/demo-centre.js';
import { startDeployedMosquitto } from './helpers/fault-mosquitto.js';
import { hourFrame, mqttDevice, refusals, storedHours } from './helpers/security.js';
import { untilValue } from './helpers/common.js';

// Attack 1 of the security review: a login that presents another device's (predictable) client id
// takes over its persistent session, receives the requests queued for it (which carry the station's
// HJ 212 PW) and kicks it off. Each broker we ship must refuse it.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const SECRETS = { water: 'water-secret', gas: 'gas-secret', scada: 'look-only', ingest: 'ingest-secret' };
const EDGE_ID = `hj212-edge-${WATER_MN}-cloud`;
const request = (): Packet =>
  historyRequest({ mn: WATER_MN, pw: WATER_PW, st: '32' }, '2061', '20261120000000', '20261120100000', {
    qn: '20261120110000123',
  });

/** A persistent session that collects what arrives from the moment it connects (queued messages included). */
async function session(url: string, username: string, password: string, clientId: string) {
  const client: MqttClient = connect(url, { username, password, clientId, clean: false, reconnectPeriod: 0 });
  cleanup.push(() => client.endAsync(true));
  const received: Packet[] = [];
  client.on('message', (_t, payload) => {
    const r = decodeFrame(payload);
    if (r.ok) received.push(r.frame.packet);
  });
  await new Promise<void>((resolve, reject) => client.once('connect', () => resolve()).once('error', reject));
  return { client, received };
}

describe('embedded broker (aedes)', () => {
  it(
    'refuses a client id another login owns (identifier rejected), logged with the MN, address and ' +
      'reason; the owner then gets its queued request and the other devices are stored',
    async () => {
      const [water, gas] = await testStations();
      const c: TestCloud = await startTestCloud(
        {
          tcp: undefined,
          mqtt: {
            mode: 'embedded',
            host: '127.0.0.1',
            port: 0,
            observers: [{ username: 'scada', secretHash: await testHash(SECRETS.scada) }],
          },
        },
        [water!, { ...gas!, mqttSecretHash: await testHash(SECRETS.gas) }],
      );
      cleanup.push(() => c.stop());
      const url = `mqtt://127.0.0.1:${c.cloud.mqtt!.address!.port}`;

      // The edge's session, with its QoS 1 down subscription; then it goes offline and a request is queued.
      const first = await session(url, WATER_MN, SECRETS.water, EDGE_ID);
      await first.client.subscribeAsync(downTopic(WATER_MN), { qos: 1 });
      await first.client.endAsync();
      await c.cloud.mqtt!.publish(downTopic(WATER_MN), encodeFrame(request()));

      // Another device and the observer present the edge's client id: both refused before any session is touched.
      for (const [user, secret] of [
        [GAS_MN, SECRETS.gas],
        ['scada', SECRETS.scada],
      ] as const)
        await expect(
          connectAsync(url, { username: user, password: secret, clientId: EDGE_ID, clean: false, reconnectPeriod: 0 }),
        ).rejects.toThrow(/Identifier rejected/i);
      // Nor may a device use an id that names no MN, or an observer one that names an MN.
      await expect(
        connectAsync(url, { username: GAS_MN, password: SECRETS.gas, clientId: 'mqttjs_1', reconnectPeriod: 0 }),
      ).rejects.toThrow(/Identifier rejected/i);
      expect(refusals(c)).toEqual([
        ['mqtt-client-id', GAS_MN, '127.0.0.1'],
        ['mqtt-client-id', 'scada', '127.0.0.1'],
        ['mqtt-client-id', GAS_MN, '127.0.0.1'],
      ]);
      expect(c.lines.filter((l) => l['reason'] === 'mqtt-client-id').map((l) => l['clientId'])).toEqual([
        EDGE_ID,
        EDGE_ID,
        'mqttjs_1',
      ]);

      // The owner comes back: its session and the request queued in it are intact.
      const back = await session(url, WATER_MN, SECRETS.water, EDGE_ID);
      await untilValue(
        () => back.received.length,
        (n) => n >= 1,
      );
      expect(back.received.map((p) => [p.cn, p.qn, p.mn])).toEqual([['2061', '20261120110000123', WATER_MN]]);
      // Honest traffic of the other device, under its own id, is answered and stored.
      const g = await mqttDevice(url, GAS_MN, SECRETS.gas, { clientId: `hj212-edge-${GAS_MN}-cloud` });
      cleanup.push(() => g.client.endAsync(true));
      await g.client.publishAsync(upTopic(GAS_MN), hourFrame(GAS_MN, GAS_PW), { qos: 1 });
      await back.client.publishAsync(upTopic(WATER_MN), hourFrame(WATER_MN, WATER_PW), { qos: 1 });
      await untilValue(
        () => g.received.length + back.received.length,
        (n) => n >= 3,
      );
      expect(g.received.map((p) => p.cn)).toEqual(['9014']);
      expect(back.received.map((p) => p.cn)).toEqual(['2061', '9014']);
      expect(await storedHours(c, GAS_MN)).toHaveLength(1);
      expect(await storedHours(c, WATER_MN)).toHaveLength(1);
      // A frame with a wrong PW over MQTT is refused by the ingest, logged with the address it came from.
      await back.client.publishAsync(upTopic(WATER_MN), hourFrame(WATER_MN, 'wrong1', { hours: 1 }), { qos: 1 });
      await untilValue(
        () => back.received.length,
        (n) => n >= 3,
      );
      expect(back.received.slice(2).map((p) => [p.cn, p.cp.params['QnRtn']])).toEqual([['9011', '3']]);
      expect(refusals(c).slice(3)).toEqual([['bad-password', WATER_MN, '127.0.0.1']]);
    },
  );
});

describe('Mosquitto as deploy/cloud ships it', () => {
  it(
    'gives devices their user name as client id: another login presenting the ' +
      'edge’s id neither kicks it nor gets its requests',
    async () => {
      const users = { [WATER_MN]: SECRETS.water, [GAS_MN]: SECRETS.gas, ingest: SECRETS.ingest };
      const mosq = await startDeployedMosquitto(users);
      cleanup.push(() => mosq.stop());
      const url = `mqtt://127.0.0.1:${mosq.port}`;
      const c = await startTestCloud({
        tcp: undefined,
        mqtt: {
          mode: 'external',
          url: `mqtt://127.0.0.1:${mosq.ingestPort}`,
          username: 'ingest',
          password: SECRETS.ingest,
        },
      });
      cleanup.push(() => c.stop());

      const first = await session(url, WATER_MN, SECRETS.water, EDGE_ID);
      await first.client.subscribeAsync(downTopic(WATER_MN), { qos: 1 });
      await first.client.endAsync();
      await c.cloud.mqtt!.publish(downTopic(WATER_MN), encodeFrame(request()));

      // The other device presents the edge's id: Mosquitto makes it GAS_MN, a session of its own, empty.
      const thief = await session(url, GAS_MN, SECRETS.gas, EDGE_ID);
      const owner = await session(url, WATER_MN, SECRETS.water, EDGE_ID);
      await untilValue(
        () => owner.received.length,
        (n) => n >= 1,
      );
      expect(owner.received.map((p) => [p.cn, p.qn])).toEqual([['2061', '20261120110000123']]);
      expect(thief.received).toEqual([]);
      // It tries again while the owner is online: the owner's connection stays (its upload is answered on it).
      const again = await session(url, GAS_MN, SECRETS.gas, EDGE_ID);
      await owner.client.publishAsync(upTopic(WATER_MN), hourFrame(WATER_MN, WATER_PW), { qos: 1 });
      await untilValue(
        () => owner.received.length,
        (n) => n >= 2,
      );
      expect(owner.received.map((p) => p.cn)).toEqual(['2061', '9014']);
      expect(owner.client.connected).toBe(true);
      expect(again.received).toEqual([]);
      expect(mosq.output()).toMatch(new RegExp(`as ${GAS_MN} \\(p2, c0, k60, u'${GAS_MN}'\\)`));
      expect(await storedHours(c, WATER_MN)).toHaveLength(1);
    },
  );
});

describe('Mosquitto as deploy/centre ships it (TLS)', () => {
  it(
    'the device listener gives devices their user name as client id: a takeover attempt neither kicks ' +
      'the edge nor reads its down topic; the ingest listener keeps its own ids',
    async () => {
      const broker = await startCentreMosquitto({
        [WATER_MN]: SECRETS.water,
        [GAS_MN]: SECRETS.gas,
        ingest: SECRETS.ingest,
      });
      cleanup.push(() => broker.stop());
      const edge = await broker.client(WATER_MN, SECRETS.water, { clientId: EDGE_ID, clean: false });
      cleanup.push(() => edge.endAsync(true));
      const atEdge: string[] = [];
      edge.on('message', (_t, payload) => atEdge.push(payload.toString()));
      await edge.subscribeAsync(downTopic(WATER_MN), { qos: 1 });
      const thief = await broker.client(GAS_MN, SECRETS.gas, { clientId: EDGE_ID, clean: false });
      cleanup.push(() => thief.endAsync(true));
      const atThief: string[] = [];
      thief.on('message', (_t, payload) => atThief.push(payload.toString()));
      // Two ingest connections with one login and their own ids, on the ingest listener: neither kicks the other.
      const ingest = await connectAsync(broker.ingestUrl, {
        username: 'ingest',
        password: SECRETS.ingest,
        clientId: 'hj212-ingest-0-a',
        ca: await readFile(broker.caFile),
        reconnectPeriod: 0,
      });
      cleanup.push(() => ingest.endAsync(true));
      const second = await connectAsync(broker.ingestUrl, {
        username: 'ingest',
        password: SECRETS.ingest,
        clientId: 'hj212-ingest-0-b',
        ca: await readFile(broker.caFile),
        reconnectPeriod: 0,
      });
      cleanup.push(() => second.endAsync(true));
      await ingest.publishAsync(downTopic(WATER_MN), 'request-1', { qos: 1 });
      await untilValue(
        () => atEdge.length,
        (n) => n >= 1,
      );
      expect(atEdge).toEqual(['request-1']);
      expect(atThief).toEqual([]);
      expect([edge.connected, thief.connected, ingest.connected, second.connected]).toEqual([true, true, true, true]);
    },
  );
});
