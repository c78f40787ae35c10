import { writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startAgent } from '../edge/index.js';
import type { EdgeConfig, RunningAgent } from '../edge/index.js';
import { decodeFrame, encodeFrame, request, type Packet } from '../protocol/index.js';
import { downTopic } from '../protocol/wire.js';
import { startTestCloud, testHash, testStations } from './helpers/cloud-fixtures.js';
import { MN, PW, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { SIM_START, memoryLogger, startWaterSim, until } from './helpers/edge-sim.js';
import { mqttPackets, wireTap, type MqttPacket } from './helpers/wire-tap.js';

/**
 * HJ 212-2025 1002 (set MN) on an MQTT uplink, against the cloud's embedded broker (aedes, whose ACL binds a
 * login to its MN: user name = MN, hj212/<MN>/up and /down only) and the cloud's registry. A proxy in front of
 * the broker keeps each connection's MQTT packets, parsed below. The 9011/9012 go on the old MN's topic; then
 * the box ends the old session and logs in as the new MN (client id, user name, topics). The cloud cannot take
 * it until its registry has the new MN: the login is refused and the records wait in the outbox; once the new
 * MN is registered, they go out under it and are stored under it.
 */
const KEY = '0123456789ABCDEFFEDCBA9876543210';
const NEW_MN = '010000A8900016F000169DD1';
const SECRET = 'device-secret';
const QN = '20250601000500001';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const decode = (frame: string): Packet => {
  const r = decodeFrame(frame, { mode: 'strict', sm4Key: () => Buffer.from(KEY, 'hex') });
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.frame.packet;
};

describe('CN 1002 over MQTT, edge agent ↔ the cloud’s embedded broker', () => {
  it(
    'answers under the old MN, moves client id, login and topics to the ' +
      'new one; the cloud takes it once registered',
    async () => {
      const clock = warpedClock(60, SIM_START);
      const sim = await startWaterSim(clock);
      cleanups.push(() => sim.close());
      const [water] = await testStations();
      const old = {
        ...water!,
        mn: MN,
        version: '2025' as const,
        sm4Key: KEY,
        passwordHash: await testHash(PW),
        mqttSecretHash: await testHash(SECRET),
      };
      // Failed logins of the new MN must not lock it out before the test registers it.
      const c = await startTestCloud(
        {
          mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 },
          auth: { freeFailures: 1000, lockoutFailures: 1000 },
        },
        [old],
      );
      cleanups.push(() => c.stop());
      const tap = await wireTap(c.cloud.mqtt!.address!.port);
      cleanups.push(() => tap.close());

      const data = await tempDir();
      cleanups.push(data.remove);
      const base = waterOutlet(data.dir, sim.tcp!.port, 1, { clockTrusted: true });
      const config: EdgeConfig = {
        ...base,
        uplinks: [
          {
            ...base.uplinks[0]!,
            kind: 'mqtt',
            url: `mqtt://127.0.0.1:${tap.port}`,
            username: MN,
            password: SECRET,
            version: '2025',
            sm4Key: KEY,
            reconnectMinSeconds: 0.2,
            reconnectMaxSeconds: 0.4,
          } as EdgeConfig['uplinks'][number],
        ],
      };
      const agent: RunningAgent = await startAgent(config, { logger: memoryLogger().logger, clock, tickMs: 25 });
      cleanups.push(() => agent.close());
      const stored = async (mn: string) =>
        (await c.cloud.store.query({ mn, kind: 'rtd', factor: 'w01018', from: 0, to: 8.64e15 })).map((p) => p.time);
      await until(async () => (await stored(MN)).length >= 1, 'real-time data under the old MN', 20_000);

      // The platform's 1002, as the cloud's broker delivers it on the old MN's down topic.
      const setMn = request({ mn: MN, pw: PW, st: '32', version: '2025' }, '1002', { NewMN: NEW_MN }, { qn: QN });
      await c.cloud.mqtt!.publish(downTopic(MN), encodeFrame(setMn));

      // The new MN is not in the registry: its login is refused (the broker binds a login to a registered MN).
      await until(() => (c.cloud.ingest.stats.rejected['mqtt-unknown-mn'] ?? 0) >= 1, 'the new MN refused', 20_000);
      await until(
        () => agent.health().uplinks['province']!.outbox.records >= 2,
        'records waiting in the outbox',
        20_000,
      );
      expect(agent.health().uplinks['province']!.state).not.toBe('connected');
      const registeredAt = clock();
      await writeFile(c.registryFile, stringify({ stations: [old, { ...old, mn: NEW_MN }] }));
      await until(async () => (await stored(NEW_MN)).length >= 2, 'real-time data under the new MN', 30_000);
      await until(() => agent.health().uplinks['province']!.outbox.records <= 1, 'the outbox drained', 30_000);
      // A record that waited in the outbox through the refused logins went out, and was stored, under the new MN.
      expect((await stored(NEW_MN)).some((t) => t < registeredAt)).toBe(true);

      // The wire, connection by connection.
      const sessions = tap.conns.map((conn) => mqttPackets(conn.up));
      const first = sessions[0]!;
      expect(first[0]).toEqual({ type: 'connect', clientId: `hj212-edge-${MN}-province`, username: MN });
      expect(first.find((p) => p.type === 'subscribe')).toEqual({ type: 'subscribe', topics: [`hj212/${MN}/down`] });
      const published = (ps: MqttPacket[]) =>
        ps.flatMap((p) => (p.type === 'publish' ? [{ topic: p.topic, packet: decode(p.payload) }] : []));
      // On the first session: every frame on the old MN's topic carrying it, the 9011/9012 of the 1002 last.
      const before = published(first);
      expect(before.every((p) => p.topic === `hj212/${MN}/up` && p.packet.mn === MN)).toBe(true);
      expect(before.slice(-2).map((p) => [p.packet.cn, p.packet.qn, p.packet.cp.params])).toEqual([
        ['9011', QN, { QnRtn: '1' }],
        ['9012', QN, { ExeRtn: '1' }],
      ]);
      // Then the old session's down topic is given up, and nothing more is published on it.
      expect(first.at(-2)).toEqual({ type: 'unsubscribe', topics: [`hj212/${MN}/down`] });
      // Every later session logs in as the new MN; the one the cloud accepted subscribed to its down topic and
      // published everything on its up topic, under the new MN.
      const later = sessions.slice(1);
      expect(later.length).toBeGreaterThanOrEqual(2);
      for (const s of later)
        expect(s[0]).toEqual({ type: 'connect', clientId: `hj212-edge-${NEW_MN}-province`, username: NEW_MN });
      const accepted = later.filter((s) => s.some((p) => p.type === 'subscribe'));
      expect(accepted.length).toBe(1);
      expect(accepted[0]!.find((p) => p.type === 'subscribe')).toEqual({
        type: 'subscribe',
        topics: [`hj212/${NEW_MN}/down`],
      });
      const after = published(accepted[0]!);
      expect(after.length).toBeGreaterThan(0);
      expect(after.every((p) => p.topic === `hj212/${NEW_MN}/up` && p.packet.mn === NEW_MN)).toBe(true);
      // The refused ones published nothing.
      for (const s of later.filter((x) => x !== accepted[0])) expect(published(s)).toEqual([]);
    },
    90_000,
  );
});
