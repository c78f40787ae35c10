import { once } from 'node:events';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { downTopic, sha256, upTopic } from '../cloud/index.js';
import { decodeFrame, encodeFrame, type Packet } from '../protocol/index.js';
import {
  GAS_MN,
  rawClient,
  startTestCloud,
  testHash,
  testStations,
  WATER_MN,
  WATER_PW,
  type TestCloud,
} from './helpers/cloud-fixtures.js';
import { startDeployedMosquitto } from './helpers/fault-mosquitto.js';
import { settled } from './helpers/fault-net.js';

// The refusals themselves are covered one by one in tests/cloud-*.test.ts; this proves each is also
// logged with the MN (or address, or token) and the reason, and covers the Mosquitto ACL as shipped.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const T0 = Date.parse('2026-11-20T10:00:00+08:00');
const STRANGER = '0100000000A890000000FFFF';
let qn = 0;
const hour = (mn: string, pw: string, avg = '1'): string =>
  encodeFrame({
    version: '2017',
    qn: `20261120100000${String(++qn % 1000).padStart(3, '0')}`,
    st: '32',
    cn: '2061',
    pw,
    mn,
    flag: 5,
    cp: { params: { DataTime: '20261120100000' }, factors: { w01018: { Avg: avg, Flag: 'N' } } },
  } satisfies Packet);
const stored = (c: TestCloud, mn: string): Promise<unknown[]> =>
  c.cloud.store.query({ mn, kind: 'hour', from: T0, to: T0 + 1 });

/** The log lines of refusals, as [reason, MN] pairs. */
const refusals = (c: TestCloud, msg = 'packet rejected'): unknown[][] =>
  c.lines.filter((l) => l['msg'] === msg).map((l) => [l['reason'], l['mn']]);

async function cloud(...args: Parameters<typeof startTestCloud>): Promise<TestCloud> {
  const c = await startTestCloud(...args);
  cleanup.push(() => c.stop());
  return c;
}

describe('HJ 212 over TCP', () => {
  it(
    'refuses a wrong PW, an unknown MN and the default 123456 with 9011, logging each with ' +
      'its MN; a station allowed 123456 is answered and warned about once',
    async () => {
      const [water, gas] = await testStations();
      const c = await cloud({}, [
        water!,
        { ...gas!, allowDefaultPassword: true, passwordHash: await testHash('123456') },
      ]);
      const client = await rawClient(c.cloud.tcp!.address.port);
      cleanup.push(async () => client.close());
      client.socket.write(
        [
          hour(WATER_MN, 'zzzzzz'),
          hour(STRANGER, WATER_PW),
          hour(WATER_MN, '123456'),
          hour(GAS_MN, '123456'),
          hour(GAS_MN, '123456', '2'),
        ].join(''),
      );
      const answers = await client.received(5);
      expect(answers.map((a) => [a.cn, a.cp.params['QnRtn'], a.mn])).toEqual([
        ['9011', '3', WATER_MN],
        ['9011', '4', STRANGER],
        ['9011', '3', WATER_MN],
        ['9014', undefined, GAS_MN],
        ['9014', undefined, GAS_MN],
      ]);
      expect(refusals(c)).toEqual([
        ['bad-password', WATER_MN],
        ['unknown-mn', STRANGER],
        ['default-password', WATER_MN],
      ]);
      const warned = c.lines.filter((l) => l['reason'] === 'default-password' && l['mn'] === GAS_MN);
      expect(warned).toHaveLength(1);
      expect(warned[0]!['level']).toBe(40);
      expect(await stored(c, WATER_MN)).toEqual([]);
      expect(await stored(c, GAS_MN)).toHaveLength(1);
    },
  );

  it('closes a connection past the per-address limit at once and logs the address', async () => {
    const c = await cloud({ tcp: { host: '127.0.0.1', port: 0, maxConnectionsPerAddress: 1 } });
    const first = await rawClient(c.cloud.tcp!.address.port);
    const second = await rawClient(c.cloud.tcp!.address.port);
    cleanup.push(async () => [first, second].forEach((k) => k.close()));
    await once(second.socket, 'close');
    expect(
      c.lines.filter((l) => l['reason'] === 'too-many-connections').map((l) => [l['addr'], l['limit'], l['msg']]),
    ).toEqual([['127.0.0.1', 1, 'packet rejected']]);
    // The first is still served.
    first.socket.write(hour(WATER_MN, WATER_PW));
    expect((await first.received(1))[0]!.cn).toBe('9014');
  });
});

/** An MQTT device logged in as its MN, collecting what arrives on its down topic. */
async function device(url: string, mn: string, secret: string): Promise<{ client: MqttClient; answers: Packet[] }> {
  const client = await connectAsync(url, {
    username: mn,
    password: secret,
    reconnectPeriod: 0,
    clientId: `sec-${mn}-${qn++}`,
  });
  cleanup.push(() => client.endAsync(true));
  const answers: Packet[] = [];
  client.on('message', (_t, payload) => {
    const r = decodeFrame(payload);
    if (r.ok) answers.push(r.frame.packet);
  });
  await client.subscribeAsync(downTopic(mn), { qos: 1 });
  return { client, answers };
}

describe('MQTT', () => {
  it(
    'embedded broker: a wrong secret and a publish to another ' + 'device’s topic are refused and logged with the MN',
    async () => {
      const c = await cloud({ mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 }, tcp: undefined });
      const url = `mqtt://127.0.0.1:${c.cloud.mqtt!.address!.port}`;
      await expect(connectAsync(url, { username: WATER_MN, password: 'guess', reconnectPeriod: 0 })).rejects.toThrow(
        /Bad username or password/i,
      );
      const d = await device(url, WATER_MN, 'water-secret');
      await d.client.publishAsync(upTopic(GAS_MN), hour(GAS_MN, WATER_PW), { qos: 0 }).catch(() => undefined);
      await settled(() => c.lines.length);
      expect(
        c.lines.filter((l) => l['msg'] === 'packet rejected').map((l) => [l['reason'], l['mn'], l['topic']]),
      ).toEqual([
        ['mqtt-bad-password', WATER_MN, undefined],
        ['mqtt-publish-denied', WATER_MN, upTopic(GAS_MN)],
      ]);
      expect(await stored(c, GAS_MN)).toEqual([]);
    },
  );

  it(
    'Mosquitto with deploy/cloud’s ACL: a device’s publish to another ' +
      'device’s topic is denied and logged; its own gets through',
    async () => {
      const users = { [WATER_MN]: 'water-mqtt', [GAS_MN]: 'gas-mqtt', ingest: 'ingest-secret' };
      const mosq = await startDeployedMosquitto(users);
      cleanup.push(() => mosq.stop());
      const url = `mqtt://127.0.0.1:${mosq.port}`;
      const c = await cloud({
        mqtt: {
          mode: 'external',
          url: `mqtt://127.0.0.1:${mosq.ingestPort}`,
          username: 'ingest',
          password: users.ingest,
        },
        tcp: undefined,
      });
      await expect(connectAsync(url, { username: WATER_MN, password: 'guess', reconnectPeriod: 0 })).rejects.toThrow(
        /not authorized|bad user/i,
      );
      const d = await device(url, WATER_MN, users[WATER_MN]);
      await d.client.publishAsync(upTopic(GAS_MN), hour(GAS_MN, WATER_PW, '66'), { qos: 1 });
      await d.client.publishAsync(upTopic(WATER_MN), hour(WATER_MN, WATER_PW, '7'), { qos: 1 });
      await settled(() => d.answers.length);
      expect(d.answers.map((a) => [a.cn, a.mn])).toEqual([['9014', WATER_MN]]);
      expect(await stored(c, GAS_MN)).toEqual([]);
      expect(await stored(c, WATER_MN)).toHaveLength(1);
      expect(mosq.output()).toMatch(new RegExp(`Denied PUBLISH from ${WATER_MN} .*'${upTopic(GAS_MN)}'`));
    },
  );
});

describe('HTTP API', () => {
  const READ = 'read-token-0123456789abcdef';
  const ADMIN = 'admin-token-0123456789abcdef';

  const start = async (): Promise<{
    c: TestCloud;
    call: (path: string, token?: string, body?: string) => Promise<number>;
  }> => {
    const c = await cloud({
      http: {
        host: '127.0.0.1',
        port: 0,
        bodyLimit: 2048,
        tokens: [
          { name: 'viewer', sha256: sha256(READ), role: 'read' },
          { name: 'ops', sha256: sha256(ADMIN), role: 'admin' },
        ],
      },
    });
    const base = `http://127.0.0.1:${c.cloud.http!.address.port}`;
    const call = async (path: string, token?: string, body?: string): Promise<number> => {
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
      return (await fetch(base + path, { method: body === undefined ? 'GET' : 'POST', headers, body })).status;
    };
    return { c, call };
  };

  it(
    'answers 401 without or with an unknown token, 403 to a read token on admin ' +
      'routes, 413 to an oversized body; the token refusals logged',
    async () => {
      const { c, call } = await start();
      expect(await call('/stations')).toBe(401);
      expect(await call('/stations', 'guess')).toBe(401);
      expect(await call('/ingest/frames', READ, hour(WATER_MN, WATER_PW))).toBe(403);
      expect(await call('/ingest/frames', ADMIN, 'x'.repeat(4096))).toBe(413);
      const refused = c.lines.filter((l) => l['msg'] === 'request refused').map((l) => [l['reason'], l['who']]);
      expect(refused).toEqual([
        ['no-token', 'addr:127.0.0.1'],
        ['unknown-token', 'addr:127.0.0.1'],
        ['role', 'token:viewer'],
        ['body-too-large', 'addr:127.0.0.1'],
      ]);
      expect(await stored(c, WATER_MN)).toEqual([]);
    },
  );

  it('logs an oversized body refused with 413', async () => {
    const { c, call } = await start();
    expect(await call('/ingest/frames', ADMIN, 'x'.repeat(4096))).toBe(413);
    expect(
      c.lines
        .filter((l) => l['msg'] === 'request refused' && l['reason'] === 'body-too-large')
        .map((l) => [l['level'], l['who']]),
    ).toEqual([[40, 'addr:127.0.0.1']]);
  });
});
