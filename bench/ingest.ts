/**
 * Ingest at scale into a real InfluxDB 1.x: `hj212 cloud` (its own process) with the InfluxDB store,
 * N concurrent loggers over TCP, then N devices over MQTT (embedded broker), each one connection
 * sending its next 2011 upload (10 factors) as soon as the previous one is answered. Per phase:
 * packets/s, points/s, p50/p99 send → 9014 (9014 goes out once the points are durable and
 * queryable), the time until InfluxDB itself holds every point, and the ingest's CPU and RSS per
 * 1,000 packets/s, its CPU per packet (`cpuUsPerPacket`: utime + stime from /proc, the counters
 * process.cpuUsage reads, taken of the ingest process from outside), and how many points it POSTed to
 * InfluxDB per point InfluxDB holds (`pointsSentPerStored`, counted by a pass-through proxy in front
 * of influxd; 1.0 when no batch is sent twice), and `rssMb`, its RSS at the end of the phase.
 * `--store sqlite` runs the same phases against the embedded SQLite store instead (no influxd).
 * With InfluxDB, `ratioToInfluxd` is the phase's points/s over the points/s of an ideal client into the same
 * influxd: line protocol built in advance, POSTed in batches of the ingest's batch size, one at a time, for
 * as long as a phase (measured once per run, after the phases).
 * `--rate R` (0: the closed loop above) sends R uploads a second instead, each from the next logger with none in
 * flight, and adds `lagP99Ms`: InfluxDB polled every 100 ms during and after the phase, a packet's lag is the
 * time from its 9014 to the first poll that counts as many points as were answered up to it (InfluxDB is taken
 * to hold points in the order they were answered: the spill sends them so), and `ackP99Ms` (= `p99Ms`).
 * `--idle N` (0: none) ends with N loggers connected, each having sent one answered upload, then idle for
 * `--idle-seconds`: the ingest's RSS then (`idle.rssMb`). `--heap-mb M` runs the ingest under
 * `--max-old-space-size=M`. Linux only (/proc). One JSON line.
 *   node dist/bench/ingest.js [--connections 1000,10000] [--seconds 20] [--mqtt true] [--store influxdb|sqlite]
 *     [--rate 2000]
 *     [--idle 10000] [--idle-seconds 10] [--heap-mb 128]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { hashSecret } from '../cloud/index.js';
import { startInfluxd } from '../tests/helpers/cloud-procs.js';
import { median } from './stats.js';
import { mqttLoggers, tcpLoggers, type Fleet } from './ingest-load.js';

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '1000,10000' },
    seconds: { type: 'string', default: '20' },
    mqtt: { type: 'string', default: 'true' },
    /** The ingest process runs under `node --cpu-prof` and writes its profile to this directory on exit. */
    'cpu-prof': { type: 'string' },
    store: { type: 'string', default: 'influxdb' },
    idle: { type: 'string', default: '0' },
    rate: { type: 'string', default: '0' },
    'idle-seconds': { type: 'string', default: '10' },
    'heap-mb': { type: 'string' },
    /** More options for the ingest's node, space-separated (`--heapsnapshot-signal=SIGUSR2`). */
    'node-args': { type: 'string' },
  },
});
const STORE = values.store;
if (STORE !== 'influxdb' && STORE !== 'sqlite') throw new Error('--store is influxdb or sqlite');
const IDLE = Number(values.idle);
const RATE = Number(values.rate);
const SIZES = values.connections.split(',').map(Number);
const SECONDS = Number(values.seconds);
const MAX = Math.max(...SIZES, IDLE);
const BATCH = 5000;
const FACTORS = 10;
const CLK_TCK = 100;
const USER = { name: 'bench', password: 'b3nch' };
const PW = 'b3nch1';
const MQTT_SECRET = 'mqtt-secret';

const mnOf = (i: number): string => `0100000000A8900000${String(i).padStart(6, '0')}`;

async function proc(pid: number): Promise<{ cpuMs: number; rssMb: number }> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return {
    cpuMs: (Number(stat[11]) + Number(stat[12])) * (1000 / CLK_TCK),
    rssMb: Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024,
  };
}

/**
 * Per packet (in the order answered), the time from its 9014 to the first poll at which InfluxDB held as many
 * of the phase's points as were answered up to and with it; 0 if InfluxDB had them before the 9014 arrived.
 */
function packetLags(answeredAt: number[], polls: [at: number, points: number][]): number[] {
  const lags: number[] = [];
  let j = 0;
  for (const [k, at] of answeredAt.entries()) {
    while (j < polls.length && polls[j]![1] < (k + 1) * FACTORS) j++;
    if (j === polls.length) break;
    lags.push(Math.max(0, polls[j]![0] - at));
  }
  return lags;
}

const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

const influx = STORE === 'influxdb' ? await startInfluxd() : undefined;

/**
 * Points POSTed to InfluxDB: the ingest talks to this pass-through proxy, which counts the lines of
 * each /write body (one point a line), repeats included, before handing it to influxd.
 */
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
let linesPosted = 0;
const proxy = createServer((req, res) => {
  const counting = req.method === 'POST' && req.url?.startsWith('/write') === true;
  let last = 10;
  const up = request(
    { host: '127.0.0.1', port: influx!.port, method: req.method, path: req.url, headers: req.headers, agent },
    (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    },
  );
  up.on('error', (e) => {
    res.writeHead(502);
    res.end(e.message);
  });
  req.on('data', (chunk: Buffer) => {
    if (counting) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) linesPosted++;
      if (chunk.length > 0) last = chunk[chunk.length - 1]!;
    }
    up.write(chunk);
  });
  req.on('end', () => {
    // The last line of a body has no newline after it.
    if (counting && last !== 10) linesPosted++;
    up.end();
  });
});
proxy.listen(0, '127.0.0.1');
await once(proxy, 'listening');
const proxyPort = (proxy.address() as AddressInfo).port;
const dir = await mkdtemp(join(tmpdir(), 'hj212-bench-ingest-'));
let child: ReturnType<typeof spawn> | undefined;
try {
  const query = async (q: string, db?: string): Promise<unknown> => {
    const params = new URLSearchParams({ q, u: USER.name, p: USER.password, ...(db && { db }) });
    const res = await fetch(`http://127.0.0.1:${influx!.port}/query?${params}`, { method: 'POST' });
    if (!res.ok) throw new Error(await res.text());
    return res.json();
  };
  if (influx) {
    await query(`CREATE USER ${USER.name} WITH PASSWORD '${USER.password}' WITH ALL PRIVILEGES`);
    await query('CREATE DATABASE bench');
  }
  /** Points InfluxDB itself holds (not the ingest's spill queue); with SQLite, every point answered is there. */
  let answeredPoints = 0;
  const inInflux = async (): Promise<number> => {
    if (!influx) return answeredPoints;
    const r = (await query('SELECT count(Rtd) FROM rtd', 'bench')) as {
      results: { series?: { values: [string, number][] }[] }[];
    };
    return r.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
  };

  // A low scrypt cost: the ingest verifies each station's secret once, and 10k default-cost checks would time the KDF,
  // not the ingest.
  const hash = await hashSecret(PW, 1024);
  const secretHash = await hashSecret(MQTT_SECRET, 1024);
  const factors = Object.fromEntries(
    ['w01018', 'w21003', 'w21011', 'w21001', 'w01001', 'w01010', 'w00000', 'w00001', 'w00002', 'w00003'].map((f) => [
      f,
      { unit: 'mg/L' },
    ]),
  );
  const stations = Array.from({ length: MAX }, (_, i) => ({
    mn: mnOf(i),
    enterprise: `E${i}`,
    outlet: `WS-${i}`,
    type: 'water',
    passwordHash: hash,
    mqttSecretHash: secretHash,
    factors,
  }));
  await writeFile(join(dir, 'stations.yaml'), stringify({ stations }, { aliasDuplicateObjects: false }));
  await writeFile(
    join(dir, 'cloud.yaml'),
    stringify({
      registry: 'stations.yaml',
      state: 'state.db',
      store:
        STORE === 'influxdb'
          ? {
              type: 'influxdb',
              url: `http://127.0.0.1:${proxyPort}`,
              database: 'bench',
              username: USER.name,
              password: USER.password,
              spillPath: 'spill.db',
              maxSpill: 10_000_000,
              batchSize: BATCH,
            }
          : { type: 'sqlite', path: 'data.db' },
      tcp: { host: '127.0.0.1', port: 0, rate: 100_000, burst: 100_000, maxConnectionsPerAddress: MAX + 100 },
      mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 },
      rules: { checkEverySeconds: 3600 },
      // Every logger logs in at once at the start of a phase, and these loggers do not retry a login refused as busy.
      auth: { queue: MAX + 100 },
      logLevel: 'info',
    }),
  );
  const c = spawn(
    process.execPath,
    [
      ...(values['cpu-prof'] !== undefined ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []),
      ...(values['heap-mb'] !== undefined ? [`--max-old-space-size=${values['heap-mb']}`] : []),
      ...(values['node-args']?.split(' ').filter((a) => a !== '') ?? []),
      join(import.meta.dirname, '..', 'cli', 'main.js'),
      'cloud',
      '--config',
      join(dir, 'cloud.yaml'),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  child = c;
  // The OS picks the ports; the ingest logs which (at info it logs nothing per packet).
  const ports = await new Promise<{ tcp: number; mqtt: number }>((resolve, reject) => {
    let out = '';
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const tcp = /"port":(\d+)[^\n]*HJ 212 TCP listening/.exec(out)?.[1];
      const mqtt = /"port":(\d+)[^\n]*embedded MQTT broker listening/.exec(out)?.[1];
      if (tcp && mqtt) resolve({ tcp: Number(tcp), mqtt: Number(mqtt) });
    });
    c.once('exit', () => reject(new Error(`hj212 cloud exited: ${out}`)));
  });

  // If the ingest dies under load, that is the phase's result: recorded, and the bench stops there.
  const died = new Promise<never>((_, reject) =>
    c.once('exit', (code, signal) => reject(new Error(`the ingest process exited (${signal ?? code}) under load`))),
  );
  died.catch(() => undefined);
  const phases: Record<string, number | string>[] = [];
  let sent = 0;
  outer: for (const n of SIZES) {
    for (const transport of values.mqtt === 'true' ? (['tcp', 'mqtt'] as const) : (['tcp'] as const)) {
      try {
        await Promise.race([died, phase(n, transport)]);
      } catch (e) {
        phases.push({ transport, connections: n, error: (e as Error).message });
        break outer;
      }
    }
  }
  let idle: Record<string, number | string> | undefined;
  if (IDLE > 0 && !phases.some((p) => p.error !== undefined))
    try {
      idle = await Promise.race([died, idlePhase(IDLE)]);
    } catch (e) {
      idle = { connections: IDLE, error: (e as Error).message };
    }
  const ideal = influx ? await idealClient() : undefined;
  if (ideal)
    for (const p of phases) if (typeof p.pointsPerS === 'number') p.ratioToInfluxd = +(p.pointsPerS / ideal).toFixed(2);

  /** N loggers connected over TCP, each with one upload answered, then nothing for a while: the ingest's RSS. */
  async function idlePhase(n: number): Promise<Record<string, number | string>> {
    const fleet = await tcpLoggers(ports.tcp, n, mnOf, PW);
    await fleet.round();
    sent += n;
    answeredPoints += n * FACTORS;
    process.stderr.write(`idle ${n}: connected and answered, idling\n`);
    await new Promise((r) => setTimeout(r, Number(values['idle-seconds']) * 1000));
    const m = await proc(c.pid!);
    const r = { connections: fleet.connected, idleSeconds: Number(values['idle-seconds']), rssMb: Math.round(m.rssMb) };
    await fleet.close();
    return r;
  }

  /**
   * The ideal client's points/s into the same influxd: the lines of 10-factor uploads (as the ingest writes
   * them) built beforehand, POSTed in batches of BATCH, one at a time, for SECONDS, into a database of its own.
   */
  async function idealClient(): Promise<number> {
    await query('CREATE DATABASE ideal');
    const bodies: string[] = [];
    for (let b = 0; b < 200; b++) {
      const lines: string[] = [];
      for (let k = 0; k < BATCH / FACTORS; k++) {
        const i = (b * (BATCH / FACTORS) + k) % MAX;
        const t = Date.UTC(2026, 0, 1) + (b * (BATCH / FACTORS) + k) * 1000;
        for (const [j, f] of Object.keys(factors).entries())
          lines.push(`rtd,factor=${f},mn=${mnOf(i)},outlet=WS-${i} Rtd=${10 + j + (k % 7) / 10},flag="N" ${t}`);
      }
      bodies.push(lines.join('\n'));
    }
    const auth = `Basic ${Buffer.from(`${USER.name}:${USER.password}`).toString('base64')}`;
    const url = `http://127.0.0.1:${influx!.port}/write?db=ideal&precision=ms`;
    let points = 0;
    const t0 = performance.now();
    for (let b = 0; performance.now() - t0 < SECONDS * 1000; b++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { Authorization: auth },
        body: bodies[b % bodies.length],
      });
      if (res.status !== 204) throw new Error(`ideal client: influxd answered ${res.status}`);
      await res.arrayBuffer();
      points += BATCH;
    }
    return Math.round(points / ((performance.now() - t0) / 1000));
  }

  /** Waits (up to 2 minutes) until InfluxDB holds the points of `packets` packets. */
  async function drain(packets: number): Promise<void> {
    // SQLite: what was answered is stored.
    if (!influx) return;
    const t0 = performance.now();
    while ((await inInflux()) < packets * FACTORS && performance.now() - t0 < 120_000)
      await new Promise((r) => setTimeout(r, 100));
  }
  async function phase(n: number, transport: 'tcp' | 'mqtt'): Promise<void> {
    const fleet: Fleet =
      transport === 'tcp'
        ? await tcpLoggers(ports.tcp, n, mnOf, PW)
        : await mqttLoggers(ports.mqtt, n, mnOf, PW, MQTT_SECRET);
    process.stderr.write(`${transport} ${n}: connected\n`);
    // Warm-up: one answered upload per logger (each station's secret is verified once, then remembered).
    await fleet.round();
    process.stderr.write(`${transport} ${n}: warmed up\n`);
    // The phase starts with InfluxDB holding everything sent so far, warm-up included.
    await drain(sent + n);
    const postedBefore = linesPosted;
    const storedBefore = await inInflux();
    const before = await proc(c.pid!);
    const t0 = performance.now();
    // Paced: InfluxDB's count every 100 ms (one poll at a time), from the start until it holds the phase's points.
    const polls: [at: number, points: number][] = [];
    let polling = RATE > 0 && influx !== undefined;
    const poller = (async () => {
      while (polling) {
        const stored = (await inInflux()) - storedBefore;
        polls.push([performance.now(), stored]);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const paced = RATE > 0 ? await fleet.paced(SECONDS * 1000, RATE) : undefined;
    const latencies = paced?.latencies ?? (await fleet.run(SECONDS * 1000));
    const wall = (performance.now() - t0) / 1000;
    const after = await proc(c.pid!);
    sent += latencies.length + n;
    answeredPoints += (latencies.length + n) * FACTORS;
    process.stderr.write(`${transport} ${n}: ran, ${fleet.unanswered()} unanswered\n`);
    const drained = performance.now();
    await drain(sent);
    const influxLagMs = Math.round(performance.now() - drained);
    polling = false;
    await poller;
    const lags = paced && influx ? packetLags(paced.answeredAt, polls) : undefined;
    // Every point of the phase held by InfluxDB: what was POSTed for them, per point.
    const stored = (await inInflux()) - storedBefore;
    const pointsSentPerStored = influx ? +((linesPosted - postedBefore) / stored).toFixed(3) : '-';
    const pps = latencies.length / wall;
    const cores = (after.cpuMs - before.cpuMs) / 1000 / wall;
    phases.push({
      transport,
      connections: fleet.connected,
      packets: latencies.length,
      unanswered: fleet.unanswered(),
      packetsPerS: Math.round(pps),
      pointsPerS: Math.round(pps * FACTORS),
      p50Ms: +percentile(latencies, 50).toFixed(1),
      p99Ms: +percentile(latencies, 99).toFixed(1),
      medianMs: +median(latencies).toFixed(1),
      influxLagMs,
      ...(RATE > 0 && {
        ratePerS: RATE,
        ackP99Ms: +percentile(latencies, 99).toFixed(1),
        lagP50Ms: lags ? Math.round(percentile(lags, 50)) : '-',
        lagP99Ms: lags ? Math.round(percentile(lags, 99)) : '-',
      }),
      cpuUsPerPacket: Math.round(((after.cpuMs - before.cpuMs) * 1000) / latencies.length),
      pointsSentPerStored,
      ingestCores: +cores.toFixed(2),
      rssMb: Math.round(after.rssMb),
      cpuCoresPer1000PacketsPerS: +(cores / (pps / 1000)).toFixed(3),
      rssMbPer1000PacketsPerS: +(after.rssMb / (pps / 1000)).toFixed(1),
    });
    await fleet.close();
  }
  const ratio = (t: 'tcp' | 'mqtt'): number | undefined => {
    const [a, b] = [
      phases.find((p) => p.transport === t && p.connections === SIZES[0]),
      phases.find((p) => p.transport === t && p.connections === SIZES.at(-1)),
    ];
    return a && b ? +((b.packetsPerS as number) / (a.packetsPerS as number)).toFixed(2) : undefined;
  };
  console.log(
    JSON.stringify({
      machine: { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version },
      store: STORE === 'influxdb' ? 'influxdb 1.x (real influxd)' : 'sqlite',
      ...(values['heap-mb'] !== undefined && { maxOldSpaceMb: Number(values['heap-mb']) }),
      factorsPerPacket: FACTORS,
      secondsPerPhase: SECONDS,
      phases,
      ...(ideal !== undefined && { idealPointsPerS: ideal }),
      ...(idle && { idle }),
      ratios: { tcpThroughputLargestVsSmallest: ratio('tcp'), mqttThroughputLargestVsSmallest: ratio('mqtt') },
    }),
  );
} finally {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
  }
  proxy.close();
  agent.destroy();
  await influx?.stop();
  await rm(dir, { recursive: true, force: true });
}
// Connections of a phase cut short by a dead ingest may still be open: do not wait for them.
process.exit(0);
