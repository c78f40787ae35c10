import fc from 'fast-check';
import { connectAsync } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AgentHealth } from '../edge/index.js';
import { downTopic } from '../protocol/wire.js';

/** /health as served: the agent's health with times as local ISO 8601 strings (edge/report.ts). */
type HealthView = Omit<AgentHealth, 'devices'> & { devices: Record<string, { lastOkAt?: string }> };

/** The analyzer answered a poll after `simAt` (epoch ms). */
function polledSince(h: HealthView, simAt: number): boolean {
  const at = h.devices['cod']?.lastOkAt;
  return at !== undefined && Date.parse(at) > simAt;
}
import { freePort } from './helpers/cloud-procs.js';
import { MN, PW, tempDir, wallWarpedClock, waterOutlet } from './helpers/edge-agent.js';
import { cloudPeer, startAedes } from './helpers/edge-broker.js';
import { compileChild, spawnAgent, type AgentProcess } from './helpers/edge-process.js';
import { SIM_START, startWaterSim, until } from './helpers/edge-sim.js';
import { hostileBytesArb, rawPlatform, requestBytes } from './helpers/fuzz-edge.js';
import { fuzzSeed } from './helpers/fuzz-traffic.js';

/**
 * The edge agent as its own process, polling the analyzer simulator and uploading to a platform over
 * HJ 212 TCP and to a cloud over MQTT, while both links throw hostile and broken requests at it. It
 * must answer what it can, refuse the rest, and keep polling and uploading: a throw it does not catch
 * ends the process, which the test sees.
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const WARP = 600;
const CLOUD = { user: 'cloud', password: 'cloud-secret' };
const CREDENTIALS = { [MN]: 'edge-secret', [CLOUD.user]: CLOUD.password, fuzzer: 'fuzzer-secret' };

let build: Awaited<ReturnType<typeof compileChild>>;
beforeAll(async () => {
  build = await compileChild();
}, 60_000);
afterAll(async () => build?.remove());

/** The chain: analyzers → agent (child) → raw platform (TCP) and broker + cloud peer (MQTT). */
async function chain() {
  const realStart = Date.now();
  const clock = wallWarpedClock(WARP, SIM_START, realStart);
  const sim = await startWaterSim(clock);
  cleanups.push(() => sim.close());
  const platform = await rawPlatform();
  cleanups.push(platform.close);
  const broker = await startAedes(CREDENTIALS);
  cleanups.push(() => broker.close());
  const cloud = await cloudPeer(broker.url, CLOUD.user, CLOUD.password);
  cleanups.push(cloud.close);
  const fuzzer = await connectAsync(broker.url, {
    username: 'fuzzer',
    password: CREDENTIALS['fuzzer'],
    clientId: `fuzzer-${Date.now()}`,
    reconnectPeriod: 0,
  });
  cleanups.push(() => fuzzer.endAsync(true));
  const data = await tempDir();
  cleanups.push(data.remove);
  const healthPort = await freePort();
  const base = waterOutlet(data.dir, sim.tcp!.port, platform.port, { clockTrusted: true });
  const {
    host: _host,
    port: _port,
    ...common
  } = base.uplinks[0] as Extract<(typeof base.uplinks)[number], { kind: 'hj212-tcp' }>;
  const config = {
    ...base,
    health: { host: '127.0.0.1', port: healthPort },
    uplinks: [
      base.uplinks[0]!,
      { ...common, id: 'cloud', kind: 'mqtt' as const, url: broker.url, username: MN, password: CREDENTIALS[MN] },
    ],
  };
  const agent: AgentProcess = await spawnAgent(build.entry, config, data.dir, {
    warp: WARP,
    realStart,
    simStart: SIM_START,
  });
  cleanups.push(async () => {
    if (agent.child.exitCode === null && agent.child.signalCode === null) {
      agent.child.kill('SIGTERM');
      await agent.exited;
    }
  });
  const health = async (): Promise<HealthView> =>
    (await (await fetch(`http://127.0.0.1:${healthPort}/health`)).json()) as HealthView;
  const alive = () => agent.child.exitCode === null && agent.child.signalCode === null;
  const logLines = () =>
    agent
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  await until(() => !alive() || (platform.connected() && cloud.received.length > 0), 'both links up', 20_000);
  expect(alive(), agent.output().slice(-2000)).toBe(true);
  return { agent, alive, health, logLines, platform, cloud, fuzzer, clock };
}

type Chain = Awaited<ReturnType<typeof chain>>;

/**
 * After the fuzz: the process is alive, the analyzer was read after the fuzz ended, and both links
 * delivered new uploads that the platform and the cloud confirmed (9014) and the outboxes let go.
 */
async function expectStillWorking(c: Chain, fuzzEnd: { simAt: number; tcp: number; mqtt: number }): Promise<void> {
  expect(c.alive(), c.agent.output().slice(-3000)).toBe(true);
  // The fuzz may have switched real-time data off (2012) and set MinInterval to 60 (1064): then the
  // next upload is the hour's, 6 s away at this warp.
  const uploadCns = new Set(['2011', '2051', '2061']);
  await until(
    () => c.platform.received.slice(fuzzEnd.tcp).some((r) => uploadCns.has(r.packet.cn)),
    'an upload over TCP after the fuzz',
    30_000,
  );
  await until(
    () => c.cloud.received.slice(fuzzEnd.mqtt).some((p) => uploadCns.has(p.cn)),
    'an upload over MQTT after the fuzz',
    30_000,
  );
  let h = await c.health();
  const deadline = Date.now() + 20_000;
  while (
    Date.now() < deadline &&
    !(
      polledSince(h, fuzzEnd.simAt) &&
      h.uplinks['province']!.state === 'connected' &&
      h.uplinks['cloud']!.state === 'connected' &&
      h.uplinks['province']!.outbox.records <= 8 &&
      h.uplinks['cloud']!.outbox.records <= 8
    )
  ) {
    await new Promise((r) => setTimeout(r, 100));
    h = await c.health();
  }
  expect(c.alive(), c.agent.output().slice(-3000)).toBe(true);
  expect(polledSince(h, fuzzEnd.simAt), 'the analyzer polled after the fuzz').toBe(true);
  expect(h.uplinks['province']).toMatchObject({ state: 'connected' });
  expect(h.uplinks['cloud']).toMatchObject({ state: 'connected' });
  // What the window (8 by default) may hold in flight; the rest was confirmed and left the outbox.
  expect(h.uplinks['province']!.outbox.records).toBeLessThanOrEqual(8);
  expect(h.uplinks['cloud']!.outbox.records).toBeLessThanOrEqual(8);
  // Nothing fatal, and nothing the safety net in the uplink had to catch: each refusal has its own reason.
  expect(c.logLines().filter((l) => l['level'] === 60)).toEqual([]);
  expect(
    c.logLines().filter((l) => ['answer-failed', 'encode-failed', 'decoder-failed'].includes(String(l['reason']))),
  ).toEqual([]);
}

const fuzzEndOf = (c: Chain) => ({ simAt: c.clock(), tcp: c.platform.received.length, mqtt: c.cloud.received.length });

describe('the edge agent under hostile platform links', () => {
  it('answers the request of issue 19 (an empty PW) with 9011 QnRtn=3 on both links and carries on', async () => {
    const c = await chain();
    const header = { qn: '20250601000000777', st: '32', cn: '1011', pw: '', mn: MN, flag: '5' };
    await c.platform.write(requestBytes(header, ''));
    await c.fuzzer.publishAsync(downTopic(MN), requestBytes({ ...header, qn: '20250601000000778' }, ''), { qos: 1 });
    await until(() => c.platform.received.some((r) => r.packet.qn === header.qn), 'the TCP answer');
    await until(() => c.cloud.received.some((p) => p.qn === '20250601000000778'), 'the MQTT answer');
    const answers = [
      c.platform.received.find((r) => r.packet.qn === header.qn)!.packet,
      c.cloud.received.find((p) => p.qn === '20250601000000778')!,
    ];
    for (const a of answers) {
      expect([a.cn, a.st, a.mn, a.pw, a.cp.params]).toEqual(['9011', '91', MN, undefined, { QnRtn: '3' }]);
    }
    // The agent logs before it answers, but its log reaches us through a pipe of its own: wait for both lines.
    const refusalLines = () => c.logLines().filter((l) => l['reason'] === 'no-password');
    await until(() => refusalLines().length >= 2, 'both refusals in the log');
    const refusals = refusalLines();
    expect(refusals.map((l) => [l['mn'], l['uplink']]).sort()).toEqual([
      [MN, 'cloud'],
      [MN, 'province'],
    ]);
    await expectStillWorking(c, fuzzEndOf(c));
  }, 90_000);

  it('keeps polling and uploading through fuzzed requests on the HJ 212 TCP link, split anywhere', async () => {
    const c = await chain();
    const seed = fuzzSeed('edge TCP platform link');
    const streams = fc.sample(
      fc.tuple(
        fc.array(hostileBytesArb(MN, PW), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 5 }),
      ),
      { numRuns: 150, seed },
    );
    for (const [frames, sizes] of streams) {
      const bytes = Buffer.concat(frames);
      // Split at arbitrary points: a frame may arrive a byte at a time or several in one read.
      for (let at = 0, i = 0; at < bytes.length; i++) {
        const n = sizes[i % sizes.length]!;
        await c.platform.write(bytes.subarray(at, at + n));
        at += n;
      }
      if (!c.alive()) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    // A frame cut off by the last stream is completed by what follows, or dropped as garbage.
    await c.platform.write('\r\n');
    await expectStillWorking(c, fuzzEndOf(c));
    const refused = (await c.health()).uplinks['province']!.refused;
    console.info(JSON.stringify({ fuzz: 'edge tcp', seed, streams: streams.length, refused }));
    expect(Object.keys(refused).length).toBeGreaterThan(3);
  }, 180_000);

  it('keeps polling and uploading through fuzzed messages on the MQTT down topic', async () => {
    const c = await chain();
    const seed = fuzzSeed('edge MQTT down topic');
    const payloads = fc.sample(
      fc.oneof(
        { arbitrary: hostileBytesArb(MN, PW), weight: 8 },
        {
          arbitrary: fc.array(hostileBytesArb(MN, PW), { minLength: 2, maxLength: 4 }).map((fs) => Buffer.concat(fs)),
          weight: 2,
        },
        { arbitrary: fc.constant(Buffer.alloc(0)), weight: 1 },
      ),
      { numRuns: 200, seed },
    );
    for (const payload of payloads) {
      await c.fuzzer.publishAsync(downTopic(MN), payload, { qos: 1 });
      if (!c.alive()) break;
    }
    await expectStillWorking(c, fuzzEndOf(c));
    const refused = (await c.health()).uplinks['cloud']!.refused;
    console.info(JSON.stringify({ fuzz: 'edge mqtt', seed, payloads: payloads.length, refused }));
    expect(Object.keys(refused).length).toBeGreaterThan(3);
  }, 180_000);
});
