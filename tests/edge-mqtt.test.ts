import { afterEach, describe, expect, it } from 'vitest';
import { startAgent } from '../edge/index.js';
import { request } from '../protocol/index.js';
import { cloudPeer, startAedes, startMosquittoBroker, testCertificates } from './helpers/edge-broker.js';
import type { Broker, Credentials } from './helpers/edge-broker.js';
import { MN, PW, tempDir, warpedClock, waterOutlet } from './helpers/edge-agent.js';
import { memoryLogger, startWaterSim, until } from './helpers/edge-sim.js';
import { TOOLS } from './helpers/common.js';

/** The MQTT uplink against our embedded broker (aedes) and Debian's mosquitto, each with per-device credentials. */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const CREDENTIALS: Credentials = { [MN]: 'device-secret', cloud: 'cloud-secret' };

async function run(startBroker: (c: Credentials) => Promise<Broker>, ca?: string) {
  const clock = warpedClock(1200);
  const sim = await startWaterSim(clock);
  cleanups.push(() => sim.close());
  const broker = await startBroker(CREDENTIALS);
  cleanups.push(() => broker.close());
  const cloud = await cloudPeer(broker.url, 'cloud', CREDENTIALS['cloud']!, ca);
  cleanups.push(cloud.close);
  const data = await tempDir();
  cleanups.push(data.remove);
  const mqtt = (id: string, password: string) => ({
    id,
    kind: 'mqtt' as const,
    url: broker.url,
    username: MN,
    password,
    pw: PW,
    timeoutSeconds: 1,
    reconnectMinSeconds: 0.2,
    ...(ca && { ca }),
  });
  const config = waterOutlet(data.dir, sim.tcp!.port, 1, {
    uplinks: [mqtt('cloud', CREDENTIALS[MN]!), mqtt('impostor', 'wrong')],
  });
  const { logger } = memoryLogger();
  const start = async () => {
    const agent = await startAgent(config, { logger, clock, tickMs: 25 });
    let closed = false;
    cleanups.push(async () => void (closed || (await agent.close())));
    return { agent, stop: async () => void (closed || ((closed = true), await agent.close())) };
  };
  const { agent, stop } = await start();
  return { agent, stop, start, cloud };
}

const brokers: [string, (c: Credentials) => Promise<Broker>, boolean][] = [
  ['aedes (embedded)', startAedes, true],
  ['mosquitto', startMosquittoBroker, TOOLS.mosquitto()],
];

describe.each(brokers)('MQTT uplink via %s', (_name, startBroker, available) => {
  it.skipIf(!available)(
    'publishes each record as an HJ 212 frame on hj212/{MN}/up until the cloud answers 9014, ' +
      'and takes commands on /down',
    async () => {
      const { agent, cloud } = await run(startBroker);
      await until(() => cloud.received.some((p) => p.cn === '2061'), 'an hour record over MQTT', 15_000);
      expect(cloud.received.every((p) => p.mn === MN && p.pw === PW)).toBe(true);
      await until(() => agent.health().uplinks['cloud']!.outbox.records <= 4, 'the cloud outbox to drain');
      // wrong per-device credentials: refused, and the records wait in that uplink's outbox
      expect(agent.health().uplinks['impostor']).toMatchObject({
        state: expect.stringMatching(/connecting|waiting/),
        lastError: expect.stringMatching(/Not authorized|Bad user ?name or password/i),
      });
      expect(agent.health().uplinks['impostor']!.outbox.records).toBeGreaterThan(10);

      await cloud.send(MN, request({ mn: MN, pw: PW, st: '32' }, '1061', {}, { qn: '20250601120000000' }));
      await until(
        () => cloud.received.some((p) => p.cn === '9012' && p.qn === '20250601120000000'),
        'the answer to 1061',
      );
      const answer = cloud.received
        .filter((p) => p.qn === '20250601120000000')
        .map((p) => `${p.cn} ${JSON.stringify(p.cp.params)}`);
      expect(answer).toEqual(['9011 {"QnRtn":"1"}', '1061 {"RtdInterval":"60"}', '9012 {"ExeRtn":"1"}']);
      expect(cloud.failures).toEqual([]);
    },
  );

  it.skipIf(!available)('keeps records while the cloud does not answer and sends them once it does', async () => {
    const { agent, cloud } = await run(startBroker);
    cloud.state.answering = false;
    await until(() => agent.health().uplinks['cloud']!.outbox.records >= 20, '20 unanswered records', 15_000);
    // Every record that went out unanswered is still held: the outbox has at least as many as were sent.
    const unanswered = new Set(cloud.received.filter((p) => p.cn !== '9011').map((p) => `${p.cn} ${p.qn}`));
    expect(unanswered.size).toBeGreaterThan(0);
    expect(agent.health().uplinks['cloud']!.outbox.records).toBeGreaterThanOrEqual(20);
    const seenBefore = cloud.received.length;
    cloud.state.answering = true;
    await until(() => agent.health().uplinks['cloud']!.outbox.records <= 4, 'the backlog to drain', 15_000);
    // Each unanswered record was sent again, with the same QN, once the cloud answered.
    const resent = new Set(cloud.received.slice(seenBefore).map((p) => `${p.cn} ${p.qn}`));
    expect([...unanswered].filter((k) => !resent.has(k))).toEqual([]);
  });

  it.skipIf(!available)('gets commands the cloud sent while the box was offline (persistent session)', async () => {
    const { agent, stop, start, cloud } = await run(startBroker);
    await until(() => agent.health().uplinks['cloud']!.state === 'connected', 'the first connection');
    await stop();
    await cloud.send(MN, request({ mn: MN, pw: PW, st: '32' }, '1063', {}, { qn: '20250601130000000' }));
    await start();
    await until(
      () => cloud.received.some((p) => p.cn === '9012' && p.qn === '20250601130000000'),
      'the answer to the queued 1063',
    );
    expect(cloud.received.find((p) => p.cn === '1063')?.cp.params).toEqual({ MinInterval: '10' });
  });
});

describe.skipIf(!TOOLS.openssl())('MQTT uplink over TLS', () => {
  it('verifies the broker against the configured CA and delivers over mqtts://', async () => {
    const certs = await tempDir();
    cleanups.push(certs.remove);
    const { ca, key, cert } = await testCertificates(certs.dir);
    const { agent, cloud } = await run((c) => startAedes(c, { key, cert }), ca);
    await until(() => cloud.received.some((p) => p.cn === '2051'), 'minute data over TLS', 15_000);
    expect(agent.health().uplinks['cloud']).toMatchObject({ state: 'connected' });
  });
});
