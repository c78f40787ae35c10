/**
 * The one shared test helper: loopback ports, temp dirs, waiting for a condition, the external tools a
 * test needs (strict under CI=true), real server processes (mosquitto, influxd) and the built CLI as a
 * child process. The other helpers in this folder build on it; a new test imports from here.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository root and the built CLI (`npm run build` makes it; `npm test` builds first). */
export const ROOT = new URL('../..', import.meta.url).pathname;
export const CLI_MAIN = join(ROOT, 'dist/cli/main.js');

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `check` holds, polling every 20 ms; rejects after `timeoutMs` saying what was awaited. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** A temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix = 'hj212-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A loopback port free right now (the OS picks it); the server that found it is closed. */
export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

/** Whether something accepts TCP connections on a loopback port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

// --- external tools -------------------------------------------------------------------------------

/** Whether an external program can be run, e.g. commandExists('socat') or commandExists('/usr/sbin/mosquitto'). */
export function commandExists(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Whether this run is CI's (`.ci/run` and every CI service set CI=true): there a missing tool is a failure. */
export const IN_CI = process.env['CI'] === 'true' || process.env['CI'] === '1';

/**
 * The one gate for a test that needs an external tool: true when `present`. When it is missing, a
 * developer's machine skips (with a warning saying how to install it); under CI=true this throws, so
 * the test file fails instead of passing with its real peer silently left out.
 */
export function toolAvailable(tool: string, present: boolean | (() => boolean), install: string): boolean {
  const ok = typeof present === 'function' ? present() : present;
  if (ok) return true;
  const why = `${tool} is missing (${install})`;
  if (IN_CI) throw new Error(`CI=true and ${why}: CI runs every real peer`);
  console.warn(`tests needing ${tool} skipped: ${why}`);
  return false;
}

/** {@link toolAvailable} for programs on the PATH (or absolute paths). */
export const haveCommand = (command: string, install: string): boolean =>
  toolAvailable(command, () => commandExists(command), install);

/** The tools the suite drives, each with its Debian package, checked once per test file that asks. */
export const TOOLS = {
  socat: () => haveCommand('socat', 'apt-get install -y socat'),
  mbpoll: () => haveCommand('mbpoll', 'apt-get install -y mbpoll'),
  mosquitto: () =>
    haveCommand('/usr/sbin/mosquitto', 'apt-get install -y mosquitto') &&
    haveCommand('mosquitto_passwd', 'apt-get install -y mosquitto'),
  influxd: () => haveCommand('/usr/bin/influxd', 'apt-get install -y influxdb'),
  openssl: () => haveCommand('openssl', 'apt-get install -y openssl'),
  chromium: () =>
    toolAvailable('/usr/bin/chromium', () => existsSync('/usr/bin/chromium'), 'apt-get install -y chromium'),
  psql: () => haveCommand('psql', 'apt-get install -y postgresql'),
  python3: () => haveCommand('python3', 'apt-get install -y python3'),
  // Reads a PDF's text back, independently of the library that wrote it; the CJK font the PDFs embed.
  pdftotext: () =>
    haveCommand('pdftotext', 'apt-get install -y poppler-utils') &&
    toolAvailable(
      'fonts-wqy-zenhei',
      () => existsSync('/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc'),
      'apt-get install -y fonts-wqy-zenhei',
    ),
} as const;

// --- real server processes ------------------------------------------------------------------------

/** A real server process in a temp dir; `stop` kills it (by its pid) and removes the dir. */
export interface Proc {
  port: number;
  dir: string;
  child: ChildProcess;
  stop(): Promise<void>;
  /** Kills the process but keeps its dir, to start it again on the same port and data. */
  kill(): Promise<void>;
  /** What it printed so far (stdout and stderr), e.g. a broker's log. */
  output(): string;
}

/** Starts `cmd` in `dir` and resolves once it accepts connections on `port` (or rejects past `deadlineMs`). */
export async function launch(
  dir: string,
  port: number,
  cmd: string,
  args: string[],
  what: string,
  deadlineMs = 20_000,
  /** Another account to run it as (PostgreSQL refuses root). */
  as?: { uid: number; gid: number },
): Promise<Proc> {
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], ...as });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit');
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + deadlineMs;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await kill();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`${what} did not start on port ${port}: ${output}`);
    }
    await sleep(50);
  }
  return {
    port,
    dir,
    child,
    kill,
    output: () => output,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Mosquitto on a loopback port, anonymous, no persistence, plus any `extra` lines of configuration. */
export async function startMosquitto(extra: string[] = []): Promise<Proc> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-mosq-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest stderr', ...extra, ''].join(
      '\n',
    ),
  );
  return launch(dir, port, '/usr/sbin/mosquitto', ['-c', conf], 'mosquitto');
}

/** InfluxDB 1.x on loopback ports, auth on with an admin user made by the caller, reporting off. */
export async function startInfluxd(dir?: string, port?: number): Promise<Proc> {
  const d = dir ?? (await mkdtemp(join(tmpdir(), 'hj212-influx-')));
  const http = port ?? (await freePort());
  const rpc = await freePort();
  const conf = join(d, 'influxdb.conf');
  await writeFile(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpc}"`,
      '[meta]',
      `  dir = "${join(d, 'meta')}"`,
      '[data]',
      `  dir = "${join(d, 'data')}"`,
      `  wal-dir = "${join(d, 'wal')}"`,
      '  query-log-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${http}"`,
      '  auth-enabled = true',
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '',
    ].join('\n'),
  );
  return launch(d, http, '/usr/bin/influxd', ['run', '-config', conf], 'influxd');
}

// --- the CLI as a child process -------------------------------------------------------------------

/** `hj212 …` (the built dist/cli/main.js) as a child process, with what it printed so far. */
export interface CliChild {
  child: ChildProcess;
  /** stdout and stderr as they arrived. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Resolves once `text` was printed (or `check(output)` holds); rejects if the process exits first or past `ms`. */
  printed(text: string | ((output: string) => boolean), ms?: number): Promise<void>;
  /** Resolves with the exit code and signal once it has exited. */
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  /** Whether it has not exited yet. */
  alive(): boolean;
  /** Sends `signal` (unless it already exited) and resolves with its exit code and signal. */
  signal(signal: NodeJS.Signals): Promise<[number | null, NodeJS.Signals | null]>;
}

export function spawnCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; onStdoutLine?: (line: string) => void } = {},
): CliChild {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run npm run build first`);
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd !== undefined && { cwd: opts.cwd }),
    ...(opts.env !== undefined && { env: opts.env }),
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let out = '';
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const text = d.toString();
    out += text;
    stdout += text;
    if (!opts.onStdoutLine) return;
    const parts = (partial + text).split('\n');
    partial = parts.pop()!;
    for (const line of parts) opts.onStdoutLine(line);
  });
  child.stderr!.on('data', (d: Buffer) => {
    const text = d.toString();
    out += text;
    stderr += text;
  });
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => out,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    alive,
    async printed(text, ms = 15_000) {
      const seen = typeof text === 'string' ? (o: string) => o.includes(text) : text;
      const what = typeof text === 'string' ? JSON.stringify(text) : 'what was awaited';
      const deadline = Date.now() + ms;
      while (!seen(out)) {
        if (!alive()) throw new Error(`hj212 ${args[0] ?? ''} exited before printing ${what}:\n${out}`);
        if (Date.now() > deadline)
          throw new Error(`hj212 ${args[0] ?? ''} printed no ${what} within ${ms} ms:\n${out}`);
        await sleep(20);
      }
    },
    async signal(signal) {
      if (alive()) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Polls `read` every 50 ms until `done` holds, or 20 s pass; returns the last value, for the assertion after it to
 * show (where `until` would throw a timeout, this lets `expect` print what was there).
 */
export async function untilValue<T>(read: () => T | Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 20_000;
  let v = await read();
  while (!done(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  return v;
}
