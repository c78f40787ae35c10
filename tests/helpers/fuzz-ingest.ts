import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { sha256, SqliteStore, type IngestStats, type StationInput } from '../../cloud/index.js';
import { spawnCli } from './common.js';
const MiB = 1024 * 1024;

/** Which inputs to run; each listens on a loopback port the OS picks, read back from the startup log. */
export interface IngestInputs {
  tcp?: Record<string, unknown>;
  mqtt?: Record<string, unknown>;
  /** Extra `http` keys; an admin token is always made. */
  http?: Record<string, unknown>;
}

/**
 * `hj212 cloud` as its own process (the built binary, SQLite store), so a fuzz can watch it as an
 * operator would: its memory from /proc, its JSON log, and the counters it prints when stopped.
 */
export interface IngestChild {
  pid: number;
  ports: { tcp?: number; mqtt?: number; http?: number };
  /** An admin API token, when `http` was asked for. */
  token: string;
  /** Log lines so far, parsed. */
  lines(): Record<string, unknown>[];
  /** VmRSS in bytes right now (throws once the process is gone: a crash shows). */
  rss(): number;
  alive(): boolean;
  /** SIGTERM; resolves to the counters it prints on the way out (fails if it exits otherwise). */
  stop(): Promise<IngestStats>;
  /** The store, once stopped. */
  openStore(): SqliteStore;
  remove(): Promise<void>;
}

/**
 * Fuzz sends thousands of wrong PWs from the honest logger's own address (all is 127.0.0.1): the
 * guessing limits (tests/security-guessing.test.ts) would lock it out, so here they never trip.
 */
export const FUZZ_AUTH = { freeFailures: 1e9, lockoutFailures: 1e9 };

/** The startup log line of each input (an external broker has no port of ours). */
const READY: Record<string, keyof IngestChild['ports']> = {
  'HJ 212 TCP listening': 'tcp',
  'embedded MQTT broker listening': 'mqtt',
  'subscribed to the external MQTT broker': 'mqtt',
  'HTTP API listening': 'http',
};

export async function startIngestChild(inputs: IngestInputs, stations: StationInput[]): Promise<IngestChild> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-fuzz-ingest-'));
  const token = randomBytes(24).toString('base64url');
  const config: Record<string, unknown> = {
    registry: 'stations.yaml',
    store: { type: 'sqlite', path: 'store.db' },
    state: 'state.db',
    rules: { checkEverySeconds: 3600 },
    auth: FUZZ_AUTH,
  };
  if (inputs.tcp) config['tcp'] = { host: '127.0.0.1', port: 0, ...inputs.tcp };
  // An external broker has a URL, not a host and port of ours (a stray key is a config error).
  if (inputs.mqtt)
    config['mqtt'] =
      inputs.mqtt['mode'] === 'external'
        ? inputs.mqtt
        : { mode: 'embedded', host: '127.0.0.1', port: 0, ...inputs.mqtt };
  if (inputs.http)
    config['http'] = {
      host: '127.0.0.1',
      port: 0,
      tokens: [{ name: 'fuzz', role: 'admin', sha256: sha256(token) }],
      ...inputs.http,
    };
  await writeFile(join(dir, 'stations.yaml'), stringify({ stations }));
  await writeFile(join(dir, 'cloud.yaml'), stringify(config));

  const lines: Record<string, unknown>[] = [];
  const cli = spawnCli(['cloud', '--config', join(dir, 'cloud.yaml')], {
    onStdoutLine: (l) => void (l.startsWith('{') && lines.push(JSON.parse(l) as Record<string, unknown>)),
  });
  const child = cli.child;
  const kill = async (): Promise<void> => void (await cli.signal('SIGKILL'));

  const wanted = (['tcp', 'mqtt', 'http'] as const).filter((k) => inputs[k] !== undefined);
  const ready = new Set<string>();
  const ports: IngestChild['ports'] = {};
  const until = Date.now() + 20_000;
  while (wanted.some((k) => !ready.has(k))) {
    for (const l of lines) {
      const k = READY[String(l['msg'])];
      if (k === undefined) continue;
      ready.add(k);
      if (typeof l['port'] === 'number') ports[k] = l['port'];
    }
    if (child.exitCode !== null || Date.now() > until) {
      await kill();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`hj212 cloud did not start: ${cli.stderr()}${JSON.stringify(lines)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  return {
    pid: child.pid!,
    ports,
    token,
    lines: () => lines,
    rss: () => vmRss(child.pid!),
    alive: cli.alive,
    async stop() {
      const [code, signal] = await cli.signal('SIGTERM');
      if (code !== 0) throw new Error(`hj212 cloud exited with ${code ?? signal}: ${cli.stderr()}`);
      // The counters are the last line; they are not a log line (no "msg").
      const counters = lines.findLast((l) => 'packets' in l && !('msg' in l));
      if (!counters) throw new Error(`hj212 cloud printed no counters: ${cli.stderr()}`);
      return counters as unknown as IngestStats;
    },
    openStore: () => SqliteStore.open(join(dir, 'store.db')),
    async remove() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Resident memory of a process, bytes, as the kernel accounts it. */
export function vmRss(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

/**
 * Samples a process's RSS every `everyMs` until stopped; a failed read (the process died) is kept and rethrown at the
 * end.
 */
export function sampleRss(read: () => number, everyMs = 50): { stop(): number[] } {
  const samples: number[] = [];
  let failure: unknown;
  const timer = setInterval(() => {
    try {
      samples.push(read());
    } catch (e) {
      failure ??= e;
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      if (failure !== undefined) throw failure;
      return samples;
    },
  };
}

/**
 * What "bounded" means for a fuzz run: never above the warmed-up baseline plus `marginMiB`, and not
 * still climbing at the end (the last quarter of the samples no higher than the third, give or take
 * `driftMiB` of GC noise). A buffer that grows with what is sent fails one or the other.
 */
export function rssVerdict(
  baseline: number,
  samples: number[],
  marginMiB = 96,
  driftMiB = 24,
): { ok: boolean; why: string } {
  const peak = Math.max(...samples);
  const q = Math.floor(samples.length / 4);
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const third = median(samples.slice(2 * q, 3 * q));
  const last = median(samples.slice(3 * q));
  const mib = (n: number): string => `${(n / MiB).toFixed(1)} MiB`;
  const why =
    `baseline ${mib(baseline)}, peak ${mib(peak)}, 3rd-quarter median ${mib(third)}, last-quarter median ` +
    `${mib(last)} over ${samples.length} samples`;
  return { ok: samples.length >= 8 && peak <= baseline + marginMiB * MiB && last <= third + driftMiB * MiB, why };
}
