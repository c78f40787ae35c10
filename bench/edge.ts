/**
 * Edge agent benchmark, one JSON line:
 * - footprint: RSS and CPU of `hj212 edge` (its own process) for a typical outlet, 10 analyzers polled
 *   every second over Modbus TCP from the analyzer simulator, uploading to the platform simulator;
 * - replay: records/s an HJ 212 TCP uplink moves to the platform simulator from an outbox holding a
 *   7-day outage (real-time every 30 s, minute, hour and day data of the 10 factors), the simulator in this
 *   thread (CPU a record is then edge and simulator together);
 * - replayPlatformWorker: the same with the simulator in a worker thread, as a platform on another machine
 *   (each side's event-loop active time a record: `activeUsPerRecord` the edge's, `platformUsPerRecord`);
 * - platformFloor: the simulator alone, fed the same records framed beforehand by a sender that does nothing
 *   else, at the same window: the most the peer takes here, so a replay near it is limited by the simulator;
 * - replayCloud: an outbox of `--cloud-days` replayed into our cloud ingest (SQLite store, in this
 *   process), each record confirmed by 9014 once stored, over each path: HJ 212 TCP, MQTT through the
 *   ingest's embedded broker, and MQTT through Debian's Mosquitto as shipped and with set_tcp_nodelay.
 *   node dist/bench/edge.js [--seconds 30] [--days 7] [--cloud-days 1] [--paths tcp,mqttEmbedded,...] [--window 4]
 *     [--replays inline,worker,floor] [--node-args '--optimize-for-size']
 *   (--seconds 0 skips the footprint; --window sets the uplink's window in the replays, the config's default otherwise)
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { ExeRtn } from '../protocol/index.js';
import { CloudConfigSchema, hashSecret, startCloud, type Cloud, type CloudConfigInput } from '../cloud/index.js';
import { parseEdgeConfig } from '../edge/index.js';
import { EdgeStore } from '../edge/store/index.js';
import { MqttUplink } from '../edge/uplink-mqtt.js';
import { TcpUplink } from '../edge/uplink-tcp.js';
import { recordFrames } from '../edge/sender.js';
import { makeQn } from '../protocol/index.js';
import type { EdgeConfig } from '../edge/index.js';
import type { DataCn, DataRecord } from '../edge/aggregator.js';
import type { PeriodStats } from '../edge/datasets.js';
import type { Uplink, UplinkDeps } from '../edge/link.js';
import { parseAnalyzerConfig, startAnalyzerSimulator } from '../simulators/analyzer/index.js';
import { PlatformConfigSchema, PlatformServer } from '../simulators/platform/index.js';
import { startMosquitto, type Proc } from '../tests/helpers/cloud-procs.js';

const MN = '010000A8900016F000169DC0';
const PW = 'a1B2c3';
const MQTT_SECRET = 'bench-mqtt-secret';
const PROFILES = [
  'so2',
  'nox',
  'particulate',
  'o2',
  'flue-temp',
  'flue-pressure',
  'flue-velocity',
  'flue-humidity',
  'flue-flow',
  'cod',
];
const CODES = ['a21026', 'a21002', 'a34013', 'a19001', 'a01012', 'a01013', 'a01011', 'a01014', 'a00000', 'w01018'];
const silent = pino({ level: 'silent' });

async function platform(): Promise<PlatformServer> {
  const server = new PlatformServer(PlatformConfigSchema.parse({ port: 0, stations: [{ mn: MN, pw: PW, st: '31' }] }), {
    log: silent,
  });
  await server.listen();
  return server;
}

function outlet(dataDir: string, modbusPort: number, platformPort: number): EdgeConfig {
  return parseEdgeConfig({
    station: { mn: MN, st: '31', kind: 'gas', flow: { code: 'a00000', unit: 'm3/h' }, referenceO2: 6 },
    dataDir,
    buses: [{ id: 'cems', kind: 'tcp', host: '127.0.0.1', port: modbusPort }],
    devices: CODES.map((code, i) => ({
      id: `d${i + 1}`,
      bus: 'cems',
      unit: i + 1,
      pollSeconds: 1,
      status: { address: 2 },
      factors: [{ code, value: { address: 0 } }],
    })),
    uplinks: [{ id: 'province', kind: 'hj212-tcp', host: '127.0.0.1', port: platformPort, pw: PW }],
  });
}

/** utime + stime of a process, in seconds, from /proc (Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function rssMiB(pid: number): Promise<number> {
  const kb = /VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

async function footprint(dir: string, seconds: number) {
  const sim = await startAnalyzerSimulator(
    parseAnalyzerConfig({ tcp: { port: 0 }, devices: PROFILES.map((profile, i) => ({ unit: i + 1, profile })) }),
  );
  const server = await platform();
  const file = join(dir, 'edge.yaml');
  await writeFile(file, stringify(outlet(join(dir, 'footprint'), sim.tcp!.port, server.port)));
  const main = new URL('../cli/main.js', import.meta.url).pathname;
  const agent = spawn(process.execPath, [...nodeArgs, main, 'edge', '--config', file, '--log-level', 'warn'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    // Past start-up (module loading, JIT warm-up) before measuring.
    await new Promise((r) => setTimeout(r, 5000));
    const [cpu0, t0] = [await cpuSeconds(agent.pid!), Date.now()];
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const [cpu1, t1] = [await cpuSeconds(agent.pid!), Date.now()];
    return {
      seconds,
      factors: CODES.length,
      pollSeconds: 1,
      rssMiB: Number((await rssMiB(agent.pid!)).toFixed(1)),
      cpuPercent: Number(((100 * (cpu1 - cpu0)) / ((t1 - t0) / 1000)).toFixed(2)),
      uploads: server.conformance().totals.uploads,
    };
  } finally {
    agent.kill('SIGTERM');
    await once(agent, 'exit');
    await server.close();
    await sim.close();
  }
}

function outage(days: number): DataRecord[] {
  const t0 = Date.parse('2026-01-01T00:00:00+08:00');
  const stats = (avg: number): PeriodStats =>
    Object.fromEntries(
      CODES.map((c, i) => [
        c,
        { min: avg * 0.9 + i, avg: avg + i, max: avg * 1.1 + i, cou: 0.01 * i, flag: 'N', valid: 60, count: 60 },
      ]),
    );
  const every = (cn: DataCn, stepMs: number) =>
    Array.from({ length: (days * 86_400_000) / stepMs }, (_, i) => ({
      cn,
      at: t0 + i * stepMs,
      stats: stats(20 + (i % 7)),
    }));
  return [
    ...every('2011', 30_000),
    ...every('2051', 600_000),
    ...every('2061', 3_600_000),
    ...every('2031', 86_400_000),
  ].sort((a, b) => a.at - b.at);
}

type UplinkOf<K> = Extract<EdgeConfig['uplinks'][number], { kind: K }>;

/** Fills an outbox with `days` of outage, starts the uplink `make` builds on it and times the drain. */
async function drain(dataDir: string, days: number, make: (config: EdgeConfig, deps: UplinkDeps) => Uplink) {
  const config = outlet(dataDir, 1, 1);
  if (window !== undefined) config.uplinks[0]!.window = window;
  const store = new EdgeStore(config.dataDir, { logger: silent, utcOffsetMinutes: 480, outboxBytes: new Map() });
  const records = outage(days);
  store.commitTick(Date.now(), { minutes: [], state: { cursor: 0, minutes: [], hours: [] }, records }, [
    { uplink: 'province', accepts: () => true },
  ]);
  const uplink = make(config, {
    store,
    logger: silent,
    station: config.station,
    decimals: new Map(),
    context: () => ({
      now: Date.now(),
      utcOffsetMinutes: 480,
      rtdIntervalSeconds: 30,
      minIntervalMinutes: 10,
      clockTrusted: true,
      clockPolicy: 'keep-ntp',
      parameters: () => undefined,
    }),
    history: store,
    // No agent: the uplink keeps its configured password and switches, and commands change nothing.
    settings: () => undefined,
    onEffect: () => undefined,
    // The replay bench sends no 3021: a request would be refused as for a box without parameters.
    setParameters: async () => ExeRtn.BadCondition,
    control: async () => ({ exeRtn: ExeRtn.BadCondition, reason: 'not-mapped' }),
  });
  const [t0, cpu0, elu0] = [Date.now(), process.cpuUsage(), performance.eventLoopUtilization()];
  uplink.start();
  while (store.outboxDepth('province').records > 0) await new Promise((r) => setTimeout(r, 50));
  const seconds = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const activeMs = performance.eventLoopUtilization(elu0).active;
  await uplink.stop();
  store.close();
  return {
    days,
    records: records.length,
    window: config.uplinks[0]!.window,
    seconds: Number(seconds.toFixed(2)),
    recordsPerSecond: Math.round(records.length / seconds),
    // CPU of this process (the edge's uplink and store, and the receiver beside it) per record: on a
    // loaded machine the process gets a fraction of a core, so records/s alone says more about the load.
    cpuUsPerRecord: Math.round((cpu.user + cpu.system) / records.length),
    // This thread's event-loop active time a record: the edge's alone when the platform is in a worker.
    activeUsPerRecord: Math.round((1000 * activeMs) / records.length),
  };
}

/** `drain` against the platform simulator in a worker thread; each thread's active time a record. */
async function replayWorker(dir: string, days: number) {
  const worker = new Worker(new URL('./edge-platform.js', import.meta.url), { workerData: { mn: MN, pw: PW } });
  try {
    const [{ port }] = (await once(worker, 'message')) as [{ port: number }];
    const result = await drain(
      join(dir, 'replay-worker'),
      days,
      (config, deps) => new TcpUplink({ ...(config.uplinks[0] as UplinkOf<'hj212-tcp'>), port }, deps),
    );
    worker.postMessage('close');
    const [{ activeMs }] = (await once(worker, 'message')) as [{ activeMs: number }];
    return {
      ...result,
      platformUsPerRecord: Math.round((1000 * activeMs) / result.records),
    };
  } finally {
    await worker.terminate();
  }
}

/**
 * The platform simulator's floor: the outage's records framed beforehand (as the uplink frames them), sent
 * `window` at a time on one connection, the next one for each 9014 (counted in the bytes, not decoded).
 */
async function platformFloor(days: number) {
  const server = await platform();
  const to = { mn: MN, pw: PW, st: '31', version: '2017' as const };
  const t0 = Date.parse('2026-01-01T00:00:00+08:00');
  const frames = outage(days).flatMap((r, i) =>
    recordFrames(r, makeQn(new Date(t0 + i * 10), 480), to, new Map(), 480).map((f) => f.frame),
  );
  const w = window ?? outlet('', 1, 1).uplinks[0]!.window;
  const socket = connect({ host: '127.0.0.1', port: server.port });
  socket.setNoDelay(true);
  await once(socket, 'connect');
  try {
    const [start, cpu0] = [Date.now(), process.cpuUsage()];
    let [sent, answered, tail] = [0, 0, ''];
    const done = new Promise<void>((resolve) => {
      const more = (n: number) => {
        socket.cork();
        for (let k = 0; k < n && sent < frames.length; k++) socket.write(frames[sent++]!);
        socket.uncork();
      };
      socket.on('data', (chunk: Buffer) => {
        const text = tail + chunk.toString('latin1');
        let found = 0;
        for (let at = text.indexOf('CN=9014'); at >= 0; at = text.indexOf('CN=9014', at + 7)) found++;
        tail = text.slice(-6);
        answered += found;
        if (answered >= frames.length) resolve();
        else more(found);
      });
      more(w);
    });
    await done;
    const seconds = (Date.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      records: frames.length,
      window: w,
      seconds: Number(seconds.toFixed(2)),
      recordsPerSecond: Math.round(frames.length / seconds),
      cpuUsPerRecord: Math.round((cpu.user + cpu.system) / frames.length),
    };
  } finally {
    socket.destroy();
    await server.close();
  }
}

async function replay(dir: string, days: number) {
  const server = await platform();
  try {
    return await drain(
      join(dir, 'replay'),
      days,
      (config, deps) => new TcpUplink({ ...(config.uplinks[0] as UplinkOf<'hj212-tcp'>), port: server.port }, deps),
    );
  } finally {
    await server.close();
  }
}

/**
 * The cloud ingest on loopback (SQLite store; its embedded MQTT broker unless given one), the outlet registered with
 * both secrets.
 */
async function cloud(dir: string, mqtt: CloudConfigInput['mqtt'] = { mode: 'embedded', host: '127.0.0.1', port: 0 }) {
  const registry = join(dir, 'stations.yaml');
  const [passwordHash, mqttSecretHash] = await Promise.all([hashSecret(PW, 1024), hashSecret(MQTT_SECRET, 1024)]);
  await writeFile(
    registry,
    stringify({
      stations: [
        {
          mn: MN,
          enterprise: 'bench',
          outlet: 'DA-01',
          type: 'gas',
          passwordHash,
          mqttSecretHash,
          factors: Object.fromEntries(CODES.map((c) => [c, {}])),
        },
      ],
    }),
  );
  // No rate limit on the TCP connection: the bench measures the uplink, not the ingest's flood guard.
  const tcp = { host: '127.0.0.1', port: 0, rate: 1_000_000, burst: 1_000_000 };
  return startCloud(
    CloudConfigSchema.parse({
      registry,
      state: join(dir, 'state.db'),
      store: { type: 'sqlite', path: join(dir, 'store.db') },
      tcp,
      mqtt,
      rules: { checkEverySeconds: 3600 },
    }),
    silent,
  );
}

/** How the edge reaches the cloud ingest in a replay: the broker in between, if any, and the uplink. */
interface Path {
  broker?: () => Promise<Proc>;
  uplink(base: EdgeConfig['uplinks'][number], c: Cloud, broker?: Proc): EdgeConfig['uplinks'][number];
}

const PATHS: Record<string, Path> = {
  tcp: { uplink: (base, c) => ({ ...(base as UplinkOf<'hj212-tcp'>), port: c.tcp!.address.port }) },
  mqttEmbedded: {
    uplink: (base, c) => ({
      ...base,
      kind: 'mqtt',
      url: `mqtt://127.0.0.1:${c.mqtt!.address!.port}`,
      username: MN,
      password: MQTT_SECRET,
    }),
  },
  // Debian's Mosquitto as shipped (Nagle on), and with set_tcp_nodelay: what a centre's broker adds.
  mqttMosquitto: {
    broker: () => startMosquitto(),
    uplink: (base, _c, b) => ({ ...base, kind: 'mqtt', url: `mqtt://127.0.0.1:${b!.port}` }),
  },
  mqttMosquittoNoDelay: {
    broker: () => startMosquitto(['set_tcp_nodelay true']),
    uplink: (base, _c, b) => ({ ...base, kind: 'mqtt', url: `mqtt://127.0.0.1:${b!.port}` }),
  },
};

/** The outage replayed into the cloud ingest over each path, so TCP and MQTT compare like for like. */
async function replayCloud(dir: string, days: number, paths: string[]) {
  const out: Record<string, Awaited<ReturnType<typeof drain>>> = {};
  for (const name of paths) {
    const path = PATHS[name];
    if (!path) throw new Error(`unknown replay path ${name}; one of ${Object.keys(PATHS).join(', ')}`);
    const broker = await path.broker?.();
    const c = await cloud(
      await mkdtemp(join(dir, 'cloud-')),
      broker && { mode: 'external', url: `mqtt://127.0.0.1:${broker.port}` },
    );
    try {
      out[name] = await drain(join(dir, `replay-${name}`), days, (config, deps) => {
        const u = path.uplink(config.uplinks[0]!, c, broker);
        return u.kind === 'mqtt' ? new MqttUplink(u, deps) : new TcpUplink(u, deps);
      });
    } finally {
      await c.stop();
      await broker?.stop();
    }
  }
  return out;
}

// The Mosquitto paths need Debian's mosquitto; without it they are left out unless asked for.
const paths = existsSync('/usr/sbin/mosquitto') ? Object.keys(PATHS) : ['tcp', 'mqttEmbedded'];
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    days: { type: 'string', default: '7' },
    'cloud-days': { type: 'string', default: '1' },
    paths: { type: 'string', default: paths.join(',') },
    window: { type: 'string' },
    replays: { type: 'string', default: 'inline,worker,floor' },
    'node-args': { type: 'string' },
  },
});
const replays = values.replays.split(',');
/** Node's own flags for the footprint's agent (`--node-args '--optimize-for-size'`: flags NODE_OPTIONS refuses). */
const nodeArgs = values['node-args']?.split(' ').filter((a) => a !== '') ?? [];
const window = values.window === undefined ? undefined : Number(values.window);
const dir = await mkdtemp(join(tmpdir(), 'hj212-edge-bench-'));
try {
  const result = {
    bench: 'edge',
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    footprint: Number(values.seconds) > 0 ? await footprint(dir, Number(values.seconds)) : undefined,
    replay: replays.includes('inline') ? await replay(dir, Number(values.days)) : undefined,
    replayPlatformWorker: replays.includes('worker') ? await replayWorker(dir, Number(values.days)) : undefined,
    platformFloor: replays.includes('floor') ? await platformFloor(Number(values.days)) : undefined,
    replayCloud: await replayCloud(dir, Number(values['cloud-days']), values.paths.split(',')),
  };
  console.log(JSON.stringify(result));
} finally {
  await rm(dir, { recursive: true, force: true });
}
