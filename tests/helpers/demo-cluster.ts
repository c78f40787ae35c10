import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { stringify } from 'yaml';
import { decodeFrame, encodeFrame, formatHjTime, type Packet } from '../../protocol/index.js';
import { spawnCli } from './common.js';

/** One `hj212 cloud` process of a cluster; `stop` sends SIGTERM and returns the ingest counters it prints. */
export interface IngestNode {
  member: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<{ stored: number; packets: number }>;
  /** SIGKILL: the process ends at once, its leases left to expire. */
  kill(): Promise<void>;
  /** Runs its clock-driven rules now (SIGUSR2) and resolves once that round is done: the tests' hand-driven sweep. */
  checkRules(): Promise<void>;
}

export interface NodeSetup {
  dir: string;
  /** Its name in the cluster (cluster.member). */
  member: string;
  /** The cluster's PostgreSQL (cluster.postgres). */
  postgres: string;
  /** The measurement store; default one SQLite file shared by the nodes (`store.db`). */
  store?: Record<string, unknown>;
  /** Lease length and renewal; default 4 s and 1 s, so a takeover happens within a test's patience. */
  lease?: { leaseSeconds: number; renewSeconds: number };
  brokerUrl: string;
  caFile: string;
  password: string;
  /** Also listen for raw HJ 212 over TCP on this loopback port. */
  tcpPort?: number;
  /** Also serve the HTTP API on this loopback port, for CLUSTER_TOKEN (admin). */
  httpPort?: number;
  /** More `cluster` keys (e.g. registry: postgres). */
  cluster?: Record<string, unknown>;
  /** Alarm webhooks (rules.webhooks). */
  webhooks?: string[];
  /** State database file name, default `state-{member}.db`. */
  state?: string;
}

/** The admin API token of every node started with `httpPort`. */
export const CLUSTER_TOKEN = 'cluster-test-token-0123456789abcdef';

/** Writes node `member`'s config (its own state file) and starts it; resolves once it is ready. */
export async function startIngestNode(s: NodeSetup): Promise<IngestNode> {
  const config = join(s.dir, `cloud-${s.member}.yaml`);
  await writeFile(
    config,
    stringify({
      registry: 'stations.yaml',
      store: s.store ?? { type: 'sqlite', path: 'store.db' },
      state: s.state ?? `state-${s.member}.db`,
      mqtt: {
        mode: 'external',
        url: s.brokerUrl,
        username: 'ingest',
        password: s.password,
        group: 'ingest',
        ca: s.caFile,
      },
      cluster: {
        postgres: s.postgres,
        member: s.member,
        ...(s.lease ?? { leaseSeconds: 4, renewSeconds: 1 }),
        ...s.cluster,
      },
      ...(s.tcpPort !== undefined && { tcp: { host: '127.0.0.1', port: s.tcpPort } }),
      ...(s.httpPort !== undefined && {
        http: {
          host: '127.0.0.1',
          port: s.httpPort,
          tokens: [{ name: 'test', role: 'admin', sha256: createHash('sha256').update(CLUSTER_TOKEN).digest('hex') }],
        },
      }),
      // No sweep on a timer during a test: the test runs each one (checkRules) when it wants it.
      rules: { graceMinutes: 0, lookbackHours: 48, checkEverySeconds: 3600, webhooks: s.webhooks ?? [] },
    }),
  );
  const cli = spawnCli(['cloud', '--config', config]);
  try {
    await cli.printed('cloud ingest ready', 20_000);
  } catch (e) {
    await cli.signal('SIGKILL');
    throw new Error(`ingest node ${s.member} did not start: ${(e as Error).message}`);
  }
  const rounds = (): number => cli.output().split('clock-driven rules checked').length - 1;
  return {
    member: s.member,
    child: cli.child,
    output: cli.output,
    async kill() {
      await cli.signal('SIGKILL');
    },
    async checkRules() {
      const done = rounds();
      cli.child.kill('SIGUSR2');
      await cli.printed(() => rounds() > done, 15_000);
    },
    async stop() {
      await cli.signal('SIGTERM');
      const line = cli
        .output()
        .split('\n')
        .find((l) => l.startsWith('{"packets"'));
      if (!line) throw new Error(`ingest node ${s.member} printed no counters:\n${cli.output()}`);
      return JSON.parse(line) as { stored: number; packets: number };
    },
  };
}

/** GET `path` from a node's API with the cluster token. */
export async function nodeApi<T>(
  port: number,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${CLUSTER_TOKEN}`,
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
  });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path} on :${port}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A device uploading COD data over MQTT, one upload at a time: each waits for its 9014. */
export async function uploader(client: MqttClient, mn: string, pw: string) {
  const down = `hj212/${mn}/down`;
  await client.subscribeAsync(down, { qos: 1 });
  let qn = Date.now();
  return async (cn: '2011' | '2061', time: number, cod: number): Promise<void> => {
    const field = cn === '2011' ? 'Rtd' : 'Avg';
    const packet: Packet = {
      version: '2017',
      qn: String(qn++),
      st: '32',
      cn,
      pw,
      mn,
      flag: 5,
      cp: {
        params: { DataTime: formatHjTime(new Date(time)) },
        factors: { w01018: { [field]: String(cod), Flag: 'N' } },
      },
    };
    const answered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${mn}: no 9014 for ${packet.qn}`)), 10_000);
      const on = (topic: string, payload: Buffer) => {
        const r = decodeFrame(payload);
        if (topic !== down || !r.ok || r.frame.packet.cn !== '9014' || r.frame.packet.qn !== packet.qn) return;
        clearTimeout(timer);
        client.off('message', on);
        resolve();
      };
      client.on('message', on);
    });
    await client.publishAsync(`hj212/${mn}/up`, encodeFrame(packet), { qos: 1 });
    await answered;
  };
}
