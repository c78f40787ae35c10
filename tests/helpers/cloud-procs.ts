import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A loopback port free right now (the OS picks it); the server that found it is closed. */
export async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

async function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

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

export async function launch(
  dir: string,
  port: number,
  cmd: string,
  args: string[],
  what: string,
  deadlineMs = 20_000,
): Promise<Proc> {
  const child = spawn(cmd, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(child, 'exit');
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  const until = Date.now() + deadlineMs;
  while (!(await portOpen(port))) {
    if (child.exitCode !== null || Date.now() > until) {
      await kill();
      await rm(dir, { recursive: true, force: true });
      throw new Error(`${what} did not start on port ${port}: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
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

/** InfluxQL over HTTP as one user, against one database unless the statement names its own. */
export type InfluxQuery = (statement: string, db?: string) => Promise<unknown>;

/**
 * Makes the admin user of a fresh influxd (with auth on and no users yet, InfluxDB 1.x lets exactly
 * that first statement through) and a database, and returns InfluxQL as that user.
 */
export async function influxDatabase(
  influx: Pick<Proc, 'port'>,
  user: { name: string; password: string },
  database: string,
): Promise<InfluxQuery> {
  const query: InfluxQuery = async (statement, db) => {
    const url = new URL('/query', `http://127.0.0.1:${influx.port}`);
    url.search = new URLSearchParams({
      q: statement,
      u: user.name,
      p: user.password,
      epoch: 'ms',
      ...(db !== undefined && { db }),
    }).toString();
    const res = await fetch(url, { method: 'POST' });
    if (!res.ok) throw new Error(`InfluxDB ${res.status}: ${await res.text()}`);
    return res.json();
  };
  await query(`CREATE USER ${user.name} WITH PASSWORD '${user.password}' WITH ALL PRIVILEGES`);
  await query(`CREATE DATABASE ${database}`);
  return query;
}
