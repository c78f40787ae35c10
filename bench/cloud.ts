/**
 * Cloud ingest benchmark: sustained ingest over TCP and over MQTT (embedded broker) into the SQLite
 * store, with the latency from send to the 9014 answer (the ingest answers only once the data is
 * stored, so that is send-to-queryable) and the ingest process's CPU per 1,000 packets. The ingest
 * runs as its own process (`hj212 cloud`), so the load generator's CPU is not counted. Linux only
 * (CPU from /proc). Prints one JSON line.
 *   node dist/bench/cloud.js [--stations N] [--packets P] [--window W] [--cpu-prof DIR]
 * `--cpu-prof DIR`: the ingest process runs under `node --cpu-prof` and writes its profile to DIR on exit.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectAsync, type MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { downTopic, hashSecret, sha256, upTopic } from '../cloud/index.js';
import { encodeFrame, formatHjTime, makeQn, StreamDecoder, type Packet } from '../protocol/index.js';

const FACTORS = ['w01018', 'w21003', 'w21011', 'w21001', 'w01001', 'w01010', 'w00000', 'w00001', 'w00002', 'w00003'];
const CLK_TCK = 100;

const { values } = parseArgs({
  options: {
    stations: { type: 'string', default: '20' },
    packets: { type: 'string', default: '500' },
    window: { type: 'string', default: '8' },
    'cpu-prof': { type: 'string' },
  },
});
const STATIONS = Number(values.stations);
const PACKETS = Number(values.packets);
const WINDOW = Number(values.window);

const mnOf = (i: number): string => `0100000000A8900000${String(i).padStart(6, '0')}`;
const PW = 'b3nch1';

/** One upload: 2011 with ten factors, a distinct DataTime per packet so nothing overwrites. */
function frame(mn: string, n: number): { qn: string; text: string } {
  const t = new Date(Date.UTC(2026, 0, 1) + n * 1000);
  const qn = makeQn(t);
  const factors = Object.fromEntries(
    FACTORS.map((f, i) => [f, { Rtd: (10 + i + (n % 7) / 10).toFixed(2), Flag: 'N' }]),
  );
  const p: Packet = {
    version: '2017',
    qn,
    st: '32',
    cn: '2011',
    pw: PW,
    mn,
    flag: 5,
    cp: { params: { DataTime: formatHjTime(t) }, factors },
  };
  return { qn, text: encodeFrame(p) };
}

async function cpuTicks(pid: number): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return Number(stat[11]) + Number(stat[12]);
}

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** Drives every station with up to WINDOW unanswered uploads each; resolves with the latencies. */
async function drive(
  send: (station: number, text: string) => void,
  onAnswer: (cb: (station: number, qn: string) => void) => void,
): Promise<number[]> {
  const latencies: number[] = [];
  const sentAt = new Map<string, number>();
  const next = new Array<number>(STATIONS).fill(0);
  let done = 0;
  return new Promise((resolve) => {
    const pump = (s: number): void => {
      if (next[s]! >= PACKETS) return;
      const f = frame(mnOf(s), next[s]!++);
      sentAt.set(`${s}|${f.qn}`, performance.now());
      send(s, f.text);
    };
    onAnswer((s, qn) => {
      const t = sentAt.get(`${s}|${qn}`);
      if (t === undefined) return;
      sentAt.delete(`${s}|${qn}`);
      latencies.push(performance.now() - t);
      if (++done === STATIONS * PACKETS) resolve(latencies);
      else pump(s);
    });
    for (let s = 0; s < STATIONS; s++) for (let w = 0; w < WINDOW; w++) pump(s);
  });
}

async function phase(
  name: string,
  pid: number,
  run: () => Promise<number[]>,
): Promise<Record<string, number | string>> {
  const cpu0 = await cpuTicks(pid);
  const t0 = performance.now();
  const lat = await run();
  const seconds = (performance.now() - t0) / 1000;
  const cpuMs = ((await cpuTicks(pid)) - cpu0) * (1000 / CLK_TCK);
  const packets = lat.length;
  return {
    path: name,
    packets,
    packetsPerS: Math.round(packets / seconds),
    pointsPerS: Math.round((packets * FACTORS.length) / seconds),
    p50Ms: +percentile(lat, 50).toFixed(2),
    p99Ms: +percentile(lat, 99).toFixed(2),
    cpuMsPer1000Packets: +((cpuMs * 1000) / packets).toFixed(1),
  };
}

const dir = await mkdtemp(join(tmpdir(), 'hj212-bench-cloud-'));
const hash = await hashSecret(PW);
const secretHash = await hashSecret('mqtt-secret');
await writeFile(
  join(dir, 'stations.yaml'),
  stringify({
    stations: Array.from({ length: STATIONS }, (_, i) => ({
      mn: mnOf(i),
      enterprise: `E${i}`,
      outlet: `WS-${i}`,
      type: 'water',
      passwordHash: hash,
      mqttSecretHash: secretHash,
      factors: Object.fromEntries(FACTORS.map((f) => [f, { unit: 'mg/L' }])),
    })),
  }),
);
await writeFile(
  join(dir, 'cloud.yaml'),
  stringify({
    registry: 'stations.yaml',
    store: { type: 'sqlite', path: 'data.db' },
    tcp: { host: '127.0.0.1', port: 0, rate: 100_000, burst: 100_000 },
    mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'bench', sha256: sha256('unused'), role: 'read' }] },
    logLevel: 'info',
  }),
);
const child = spawn(
  process.execPath,
  [
    ...(values['cpu-prof'] !== undefined ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []),
    join(import.meta.dirname, '..', 'cli', 'main.js'),
    'cloud',
    '--config',
    join(dir, 'cloud.yaml'),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
try {
  // The OS picks the ports; the ingest logs which.
  const ports = await new Promise<{ tcp: number; mqtt: number }>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const tcp = /"port":(\d+)[^\n]*HJ 212 TCP listening/.exec(out)?.[1];
      const mqtt = /"port":(\d+)[^\n]*embedded MQTT broker listening/.exec(out)?.[1];
      if (tcp && mqtt) resolve({ tcp: Number(tcp), mqtt: Number(mqtt) });
    });
    child.once('exit', () => reject(new Error(`hj212 cloud exited: ${out}`)));
  });
  const tcp = await phase('tcp', child.pid!, async () => {
    const sockets: Socket[] = await Promise.all(
      Array.from(
        { length: STATIONS },
        () =>
          new Promise<Socket>((resolve) => {
            const s = connect(ports.tcp, '127.0.0.1', () => resolve(s));
          }),
      ),
    );
    const lat = await drive(
      (s, text) => sockets[s]!.write(text),
      (cb) =>
        sockets.forEach((sock, s) => {
          const d = new StreamDecoder();
          sock.on('data', (c: Buffer) => {
            for (const r of d.push(c)) if (r.ok && r.frame.packet.qn) cb(s, r.frame.packet.qn);
          });
        }),
    );
    sockets.forEach((s) => s.destroy());
    return lat;
  });
  const mqtt = await phase('mqtt', child.pid!, async () => {
    const clients: MqttClient[] = await Promise.all(
      Array.from({ length: STATIONS }, (_, s) =>
        connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, {
          username: mnOf(s),
          password: 'mqtt-secret',
          clientId: mnOf(s),
          reconnectPeriod: 0,
        }),
      ),
    );
    await Promise.all(clients.map((c, s) => c.subscribeAsync(downTopic(mnOf(s)), { qos: 1 })));
    const lat = await drive(
      (s, text) => void clients[s]!.publish(upTopic(mnOf(s)), text, { qos: 1 }),
      (cb) =>
        clients.forEach((c, s) =>
          c.on('message', (_t, payload) => {
            const qn = /QN=(\d+)/.exec(payload.toString())?.[1];
            if (qn) cb(s, qn);
          }),
        ),
    );
    await Promise.all(clients.map((c) => c.endAsync()));
    return lat;
  });
  console.log(
    JSON.stringify({
      stations: STATIONS,
      packetsPerStation: PACKETS,
      window: WINDOW,
      factorsPerPacket: FACTORS.length,
      store: 'sqlite',
      results: [tcp, mqtt],
    }),
  );
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await rm(dir, { recursive: true, force: true });
}
