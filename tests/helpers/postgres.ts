/**
 * A real PostgreSQL server for a test: Debian's `postgresql` binaries (/usr/lib/postgresql/<major>/bin),
 * a fresh cluster made by initdb in a temp dir, `postgres` on a loopback port, trust auth for one
 * superuser. Like the mosquitto and influxd helpers in common.ts; `stop` kills it by its pid and removes
 * the dir. PostgreSQL refuses to run as root: when the tests do, the server runs as the `postgres`
 * account the Debian package makes.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, mkdtemp, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openPg } from '../../cloud/state/pg-schema.js';
import { freePort, launch, toolAvailable, type Proc } from './common.js';

const BASE = '/usr/lib/postgresql';

/** The bin dir of the newest installed major version, if any. */
export function postgresBin(): string | undefined {
  if (!existsSync(BASE)) return undefined;
  const majors = spawnSync('ls', [BASE], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  const bin = majors.map((m) => join(BASE, m, 'bin')).find((b) => existsSync(join(b, 'postgres')));
  return bin;
}

/** The gate for a test that needs PostgreSQL (fails under CI=true when missing). */
export const havePostgres = (): boolean =>
  toolAvailable(`${BASE}/*/bin/postgres`, () => postgresBin() !== undefined, 'apt-get install -y postgresql');

export interface Postgres extends Proc {
  /** A connection URL for database `hj212` as the superuser `hj212`. */
  url: string;
  /** A client connected to `url`; the caller ends it. */
  client(): Promise<pg.Client>;
}

/** Which account the server runs as: this one, or `postgres` when this one is root. */
function account(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * A client on `url` once the server takes sessions: its port opens while it is still starting up, and
 * a connection then is refused with 57P03 (cannot_connect_now).
 */
async function accepting(url: string, deadlineMs: number): Promise<pg.Client> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const c = new pg.Client({ connectionString: url });
    try {
      await c.connect();
      return c;
    } catch (e) {
      await c.end().catch(() => undefined);
      if ((e as { code?: string }).code !== '57P03' || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Starts a fresh PostgreSQL cluster on a loopback port with database `hj212`. */
export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBin();
  if (!bin) throw new Error('no PostgreSQL server in /usr/lib/postgresql/*/bin (apt-get install -y postgresql)');
  const dir = await mkdtemp(join(tmpdir(), 'hj212-pg-'));
  const data = join(dir, 'data');
  const as = account();
  if (as) {
    await chown(dir, as.uid, as.gid);
    await chmod(dir, 0o700);
  }
  const run = (cmd: string, args: string[]): void => {
    const r = spawnSync(join(bin, cmd), args, { cwd: dir, encoding: 'utf8', ...as });
    if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.stdout}`);
  };
  run('initdb', ['-D', data, '-U', 'hj212', '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const port = await freePort();
  const args = [
    ...['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'],
    // A test server: no durability cost, nothing left running on another's port.
    ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200'],
  ];
  const proc = await launch(dir, port, join(bin, 'postgres'), args, 'postgres', 30_000, as);
  const url = `postgres://hj212@127.0.0.1:${port}/hj212`;
  const admin = await accepting(`postgres://hj212@127.0.0.1:${port}/postgres`, 30_000);
  try {
    await admin.query('CREATE DATABASE hj212');
  } finally {
    await admin.end();
  }
  // SIGTERM is PostgreSQL's smart shutdown, which waits for every client to leave; a test wants the
  // fast one (SIGINT), which ends their sessions.
  const kill = async (): Promise<void> => {
    const child = proc.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    await exited;
  };
  return {
    ...proc,
    kill,
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
    url,
    async client() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      return c;
    },
  };
}

/** A fresh database on a running server, for one test's isolation; returns its URL. */
export async function freshDatabase(server: Postgres, name: string): Promise<string> {
  const c = await server.client();
  try {
    await c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await c.end();
  }
  return server.url.replace(/\/hj212$/, `/${name}`);
}

/**
 * One PostgreSQL server for a test file's suite, started before its tests and stopped after, with the
 * pools the tests open ended first. Call inside the `describe`.
 */
export function usePostgres(): {
  server: () => Postgres;
  /** A pool on `url` (bigint as number, as the ingest opens it), ended after the suite. */
  pool: (url: string, max?: number) => pg.Pool;
} {
  let server: Postgres | undefined;
  const pools: pg.Pool[] = [];
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    await server?.stop();
  });
  return {
    server: () => server!,
    pool: (url, max = 4) => {
      const p = openPg(url, max);
      pools.push(p);
      return p;
    },
  };
}
