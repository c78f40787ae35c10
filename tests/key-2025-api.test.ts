import { connectAsync } from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { downTopic, sha256, upTopic } from '../cloud/index.js';
import {
  decodeFrame,
  encodeFrame,
  exeRtnAnswer,
  makeFlag,
  qnRtnAnswer,
  type Cp,
  type Packet,
} from '../protocol/index.js';
import { LoggerConfigSchema, startLoggers } from '../simulators/logger/index.js';
import { GAS_MN, startTestCloud, testStations, WATER_MN, WATER_PW, type TestCloud } from './helpers/cloud-fixtures.js';
import { until } from './helpers/common.js';
import { ADMIN, READ, type Json } from './helpers/dashboard-api.js';
import { warpedClock } from './helpers/edge-agent.js';

/**
 * HJ 212-2025 1014 key changes over MQTT (docs/protocol-2025.md): issued from the API's POST /stations/:mn/key
 * to the logger simulator on the embedded broker, and asked for by a logger on MQTT itself. With no grace
 * for the replaced key, data under the old key after the switch is refused: what is stored after it went
 * under the new key.
 */
const K0 = '0123456789ABCDEFFEDCBA9876543210';
const key = (hex: string) => Buffer.from(hex, 'hex');
const START = Date.parse('2026-11-20T09:59:00+08:00');

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function cloud(
  now?: () => number,
): Promise<{ c: TestCloud; mqttUrl: string; call: (m: string, p: string) => Promise<{ status: number; body: Json }> }> {
  const stations = (await testStations()).map((s) =>
    s.mn === WATER_MN ? { ...s, version: '2025' as const, sm4Key: K0 } : s,
  );
  const c = await startTestCloud(
    {
      http: {
        host: '127.0.0.1',
        port: 0,
        tokens: [
          { name: 'viewer', sha256: sha256(READ), role: 'read' },
          { name: 'ops', sha256: sha256(ADMIN), role: 'admin' },
        ],
      },
      mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 },
      keyGraceSeconds: 0,
    },
    stations,
    now ? { now, clock: { wall: now, mono: () => performance.now() } } : {},
  );
  cleanups.push(() => c.stop());
  const base = `http://127.0.0.1:${c.cloud.http!.address.port}`;
  const call = async (method: string, path: string) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${method === 'GET' ? READ : ADMIN}` },
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  return { c, mqttUrl: `mqtt://127.0.0.1:${c.cloud.mqtt!.address!.port}`, call };
}

/** The key in force for `mn` in the cloud's state database (table station_keys). */
function keyInForce(c: TestCloud, mn: string): string | undefined {
  const db = new Database(join(c.dir, 'state.db'), { readonly: true });
  try {
    const row = db.prepare('SELECT state FROM station_keys WHERE mn = ?').get(mn) as { state: string } | undefined;
    return row && (JSON.parse(row.state) as { key: string }).key;
  } finally {
    db.close();
  }
}

describe('HJ 212-2025 1014 over MQTT and from the API', () => {
  it(
    'POST /stations/:mn/key: 409 for a station without a key, 503 for one not heard, else a ' +
      'recorded 1014 the logger simulator on MQTT answers 9011/9012 and switches on',
    async () => {
      const clock = warpedClock(60, START);
      const { c, mqttUrl, call } = await cloud(clock);
      const noKey = await call('POST', `/stations/${GAS_MN}/key`);
      expect([noKey.status, noKey.body.code]).toEqual([409, 'API_NO_KEY']);
      const unheard = await call('POST', `/stations/${WATER_MN}/key`);
      expect([unheard.status, unheard.body.code]).toEqual([503, 'API_NOT_CONNECTED']);

      const config = LoggerConfigSchema.parse({
        port: 1,
        mqtt: { url: mqttUrl, secret: 'water-secret' },
        stations: [{ mn: WATER_MN, pw: WATER_PW, version: '2025', outlet: 'water', sm4Key: K0 }],
        intervals: { rtd: 3600, minute: 1, hour: false, day: false },
        tick: 20,
      });
      const fleet = await startLoggers(config, { clock: { now: clock }, log: pino({ level: 'silent' }) });
      cleanups.push(() => fleet.stop());
      const minutes = async () =>
        (await c.cloud.store.query({ mn: WATER_MN, kind: 'minute', factor: 'w01018', from: 0, to: 8.64e15 })).length;
      await until(async () => (await minutes()) >= 2, 'minutes under the configured key', 20_000);

      const issued = await call('POST', `/stations/${WATER_MN}/key`);
      expect(issued.status).toBe(201);
      // The record never shows the key itself.
      expect(issued.body).toMatchObject({
        cn: '1014',
        via: 'mqtt',
        state: 'sent',
        cp: { params: { NewKey: '(new key)' } },
      });
      let record: Json;
      await until(async () => {
        record = (await call('GET', `/commands/${issued.body.id}`)).body;
        return record.state === 'done';
      }, 'the 1014 answered');
      expect([record.result.code, record.answers.map((a: Json) => [a.cn, a.cp.params])]).toEqual([
        1,
        [
          ['9011', { QnRtn: '1' }],
          ['9012', { ExeRtn: '1' }],
        ],
      ]);
      const k1 = keyInForce(c, WATER_MN);
      expect(k1).toMatch(/^[0-9A-F]{32}$/);
      expect(k1).not.toBe(K0);
      // No grace for K0: minutes still stored after the switch went under k1.
      const before = await minutes();
      await until(async () => (await minutes()) >= before + 2, 'minutes under the new key', 20_000);
      expect(c.cloud.ingest.stats.rejected['decrypt-failed']).toBeUndefined();
      expect(c.lines.filter((l) => l['reason'] === 'key-request-not-over-tcp')).toEqual([]);
    },
  );

  it(
    'a logger on MQTT asking for a key (its own 1014) gets the centre’s 1014 with ' +
      'its QN on its down topic, and the key holds after its 9012',
    async () => {
      const { c, mqttUrl } = await cloud();
      const client = await connectAsync(mqttUrl, {
        username: WATER_MN,
        password: 'water-secret',
        reconnectPeriod: 0,
        clientId: `dev-${WATER_MN}-key`,
      });
      cleanups.push(() => client.endAsync(true));
      const keys = [K0];
      const down: Packet[] = [];
      client.on('message', (_t, payload) => {
        for (const k of keys) {
          const r = decodeFrame(payload.toString(), { mode: 'strict', sm4Key: () => key(k) });
          if (r.ok) return void down.push(r.frame.packet);
        }
      });
      await client.subscribeAsync(downTopic(WATER_MN), { qos: 1 });
      let seq = 0;
      const packet = (cn: string, cp: Cp): Packet => ({
        version: '2025',
        qn: `20261120100000${String(++seq).padStart(3, '0')}`,
        st: '32',
        cn,
        pw: WATER_PW,
        mn: WATER_MN,
        flag: makeFlag('2025', { ack: true }),
        cp,
      });
      const send = (p: Packet, k: string) =>
        client.publishAsync(upTopic(WATER_MN), encodeFrame(p, { sm4Key: () => key(k) }), { qos: 1 });

      const ask = packet('1014', { params: {}, factors: {} });
      await send(ask, K0);
      await until(() => down.some((p) => p.cn === '1014'), 'the centre’s 1014');
      const issued = down.find((p) => p.cn === '1014')!;
      expect(issued.qn).toBe(ask.qn);
      const k1 = issued.cp.params['NewKey']!;
      expect(k1).toMatch(/^[0-9A-F]{32}$/);
      expect(k1).not.toBe(K0);
      // As the logger would: 9011 QnRtn=1, 9012 ExeRtn=1 with the request's QN, then every frame under k1.
      await send(qnRtnAnswer(issued, 1), K0);
      await send(exeRtnAnswer(issued, 1), K0);
      await until(() => keyInForce(c, WATER_MN) === k1, 'k1 in force');
      keys.unshift(k1);

      const hour = (avg: string) =>
        packet('2061', { params: { DataTime: '20261120090000' }, factors: { w01018: { Avg: avg, Flag: 'N' } } });
      const underK1 = hour('31.5');
      await send(underK1, k1);
      await until(() => down.some((p) => p.cn === '9014' && p.qn === underK1.qn), 'the 9014 of the hour under k1');
      // K0 has no grace here: refused, and the hour keeps k1's value.
      await send(hour('99.9'), K0);
      await until(() => (c.cloud.ingest.stats.rejected['decrypt-failed'] ?? 0) >= 1, 'the hour under K0 refused');
      const stored = await c.cloud.store.query({ mn: WATER_MN, kind: 'hour', factor: 'w01018', from: 0, to: 8.64e15 });
      expect(stored.map((p) => p.values)).toEqual([{ Avg: 31.5 }]);
    },
  );
});
