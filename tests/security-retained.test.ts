import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { upTopic } from '../cloud/index.js';
import { startTestCloud, testStations, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';
import { startMosquitto } from './helpers/cloud-procs.js';
import { startDeployedMosquitto } from './helpers/fault-mosquitto.js';
import { settled } from './helpers/fault-net.js';
import { hourFrame, mqttDevice, refusals, storedHours } from './helpers/security.js';
import { untilValue } from './helpers/common.js';

// Attack 5: with persistence on, a device's retained upload was delivered to the ingest again at
// every restart, overwriting corrections and re-running the rules. The embedded broker and the
// shipped Mosquitto refuse retained publishes; the ingest ignores any retained message it is given.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const EDGE_ID = `hj212-edge-${WATER_MN}-cloud`;

describe('retained uploads', () => {
  it(
    'embedded broker: a retained publish is refused and logged with the MN and ' +
      'address; the same device’s next upload is stored',
    async () => {
      const c = await startTestCloud({ tcp: undefined, mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 } });
      cleanup.push(() => c.stop());
      const url = `mqtt://127.0.0.1:${c.cloud.mqtt!.address!.port}`;
      const d = await mqttDevice(url, WATER_MN, 'water-secret', { clientId: EDGE_ID });
      cleanup.push(() => d.client.endAsync(true));
      // QoS 0: a refused publish gets no PUBACK (aedes closes the connection).
      await d.client.publishAsync(upTopic(WATER_MN), hourFrame(WATER_MN, WATER_PW, { avg: '66' }), {
        qos: 0,
        retain: true,
      });
      await untilValue(
        () => refusals(c).length,
        (n) => n >= 1,
      );
      expect(refusals(c)).toEqual([['mqtt-retained', WATER_MN, '127.0.0.1']]);
      expect(await storedHours(c, WATER_MN)).toEqual([]);
      const again = await mqttDevice(url, WATER_MN, 'water-secret', { clientId: EDGE_ID });
      cleanup.push(() => again.client.endAsync(true));
      await again.client.publishAsync(upTopic(WATER_MN), hourFrame(WATER_MN, WATER_PW, { avg: '7' }), { qos: 1 });
      await untilValue(
        () => again.received.length,
        (n) => n >= 1,
      );
      expect(again.received.map((p) => p.cn)).toEqual(['9014']);
      expect(await storedHours(c, WATER_MN)).toMatchObject([{ values: { Avg: 7 } }]);
    },
  );

  it(
    'Mosquitto as deploy/cloud ships it: a device publishing a retained ' +
      'upload is disconnected and nothing is retained',
    async () => {
      const users = { [WATER_MN]: 'water-mqtt', ingest: 'ingest-secret' };
      const mosq = await startDeployedMosquitto(users);
      cleanup.push(() => mosq.stop());
      const url = `mqtt://127.0.0.1:${mosq.port}`;
      const d = await mqttDevice(url, WATER_MN, users[WATER_MN]);
      cleanup.push(() => d.client.endAsync(true));
      const closed = new Promise<void>((r) => d.client.once('close', () => r()));
      await d.client.publishAsync(upTopic(WATER_MN), hourFrame(WATER_MN, WATER_PW), { qos: 0, retain: true });
      await closed;
      // The ingest starting now is given nothing.
      const c = await startTestCloud({
        tcp: undefined,
        mqtt: {
          mode: 'external',
          url: `mqtt://127.0.0.1:${mosq.ingestPort}`,
          username: 'ingest',
          password: users.ingest,
        },
      });
      cleanup.push(() => c.stop());
      await settled(() => c.lines.length);
      expect(refusals(c)).toEqual([]);
      expect(await storedHours(c, WATER_MN)).toEqual([]);
    },
  );

  it(
    'ingest on a broker that keeps retained messages: the replay at its ' +
      'restart is ignored and logged, live uploads are stored',
    async () => {
      const mosq = await startMosquitto();
      cleanup.push(() => mosq.stop());
      const url = `mqtt://127.0.0.1:${mosq.port}`;
      const stations = await testStations();
      const first = await startTestCloud({ tcp: undefined, mqtt: { mode: 'external', url } }, stations);
      const device = await connectAsync(url, { reconnectPeriod: 0, clientId: EDGE_ID });
      cleanup.push(() => device.endAsync(true));
      await device.publishAsync(upTopic(WATER_MN), hourFrame(WATER_MN, WATER_PW, { avg: '5' }), {
        qos: 1,
        retain: true,
      });
      await untilValue(
        async () => (await storedHours(first, WATER_MN)).length,
        (n) => n >= 1,
      );
      expect(await storedHours(first, WATER_MN)).toMatchObject([{ values: { Avg: 5 } }]);
      await first.stop();

      // Restarted: the broker hands it the retained upload again.
      const second = await startTestCloud({ tcp: undefined, mqtt: { mode: 'external', url } }, stations);
      cleanup.push(() => second.stop());
      await untilValue(
        () => refusals(second).length,
        (n) => n >= 1,
      );
      expect(refusals(second)).toEqual([['mqtt-retained', WATER_MN, undefined]]);
      await device.publishAsync(upTopic(WATER_MN), hourFrame(WATER_MN, WATER_PW, { avg: '6', hours: 1 }), { qos: 1 });
      await untilValue(
        async () => (await storedHours(second, WATER_MN, 2)).length,
        (n) => n >= 1,
      );
      expect(await storedHours(second, WATER_MN, 2)).toMatchObject([{ values: { Avg: 6 } }]);
    },
  );
});
