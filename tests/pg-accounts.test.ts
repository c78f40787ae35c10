import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { sessionDigest, type SessionOptions } from '../cloud/accounts.js';
import { sha256 } from '../cloud/index.js';
import { PgSessionStore, PgUserStore } from '../cloud/state/pg-accounts.js';
import { migrate } from '../cloud/state/pg-schema.js';
import { runCli } from '../cli/index.js';
import { startTestCloud, type TestCloud } from './helpers/cloud-fixtures.js';
import { startMosquitto, TOOLS, type Proc as Server } from './helpers/common.js';
import { ADMIN, type Json } from './helpers/dashboard-api.js';
import { freshDatabase, havePostgres, startPostgres, usePostgres, type Postgres } from './helpers/postgres.js';

const PASSWORD = 'correct horse battery';
const OPTIONS: Pick<SessionOptions, 'ttlSeconds' | 'idleSeconds' | 'max'> = {
  ttlSeconds: 120,
  idleSeconds: 60,
  max: 100,
};

/** What one ingest process holds: its own pool, accounts and sessions on the shared database. */
interface Proc {
  pool: pg.Pool;
  users: PgUserStore;
  sessions: PgSessionStore;
}

describe.runIf(havePostgres())('dashboard accounts and sessions of a cluster in PostgreSQL (a real server)', () => {
  const postgres = usePostgres();

  /** A migrated fresh database and two processes on it, with user `wang` (operator). */
  async function cluster(name: string, options = OPTIONS): Promise<[Proc, Proc]> {
    const url = await freshDatabase(postgres.server(), name);
    const procs = [0, 1].map(() => {
      const pool = postgres.pool(url);
      return { pool, users: new PgUserStore(pool), sessions: new PgSessionStore(pool, options) };
    }) as [Proc, Proc];
    await migrate(procs[0].pool);
    expect(await procs[0].users.add('wang', 'operator', PASSWORD)).toBe(true);
    return procs;
  }

  /** Logs `name` in on `p` as the login route does (the password is checked, the stamp taken). */
  async function login(p: Proc, name = 'wang'): Promise<string> {
    const user = (await p.users.get(name))!;
    return p.sessions.open(user.name, user.passwordChangedAt);
  }

  /**
   * Time passing, on the database's clock that the sessions are timed on: every session (or the one of
   * `id`) started and was last seen `ms` earlier than it was.
   */
  async function age(p: Proc, ms: number, id?: string): Promise<void> {
    await p.pool.query(
      'UPDATE sessions SET started_at = started_at - $1, seen_at = seen_at - $1 WHERE $2::text IS NULL OR digest = $2',
      [ms, id === undefined ? null : sessionDigest(id)],
    );
  }

  const rows = async (p: Proc): Promise<number> =>
    (await p.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sessions')).rows[0]!.n;

  it('keeps one set of accounts: added, changed and removed through either process, seen by both', async () => {
    const [a, b] = await cluster('acc_users');
    expect(await b.users.add('wang', 'read', PASSWORD)).toBe(false);
    expect(await b.users.add('li', 'read', PASSWORD, { enterprise: 'E1' })).toBe(true);
    expect((await a.users.list()).map((u) => [u.name, u.role, u.enterprise])).toEqual([
      ['li', 'read', 'E1'],
      ['wang', 'operator', undefined],
    ]);
    expect(await a.users.setRole('li', 'admin')).toBe(true);
    expect(await a.users.setScope('li', { region: 'R1' })).toBe(true);
    expect(await b.users.get('li')).toMatchObject({ role: 'admin', region: 'R1' });
    expect((await b.users.get('li'))!.enterprise).toBeUndefined();
    expect(await b.users.hashOf('li')).toMatch(/^scrypt\$/);
    expect(await a.users.setRole('nobody', 'admin')).toBe(false);
    expect(await a.users.passwd('nobody', PASSWORD)).toBe(false);
    expect(await b.users.remove('li')).toBe(true);
    expect(await a.users.get('li')).toBeUndefined();
    expect(await a.users.remove('li')).toBe(false);
  });

  it('a session opened through one process is used, timed and closed through the other', async () => {
    const [a, b] = await cluster('acc_shared');
    const id = await login(a);
    const stamp = (await a.users.get('wang'))!.passwordChangedAt;
    expect(await b.sessions.use(id)).toEqual({ user: 'wang', stamp });
    expect(await a.sessions.use(id)).toEqual({ user: 'wang', stamp });
    expect(await b.sessions.remainingSeconds(id)).toBeGreaterThan(OPTIONS.ttlSeconds - 5);
    expect(await b.sessions.remainingSeconds(id)).toBeLessThanOrEqual(OPTIONS.ttlSeconds);
    // Only the SHA-256 of the id is stored.
    const stored = (await a.pool.query<{ digest: string }>('SELECT digest FROM sessions')).rows;
    expect(stored).toEqual([{ digest: sessionDigest(id) }]);
    expect(await b.sessions.use('not-a-session')).toBeUndefined();
    await b.sessions.close(id);
    expect(await a.sessions.use(id)).toBeUndefined();
    expect(await a.sessions.remainingSeconds(id)).toBeUndefined();
  });

  it('ends a session idle too long, and one past its absolute end however busy, on either process', async () => {
    const [a, b] = await cluster('acc_expiry');
    const idle = await login(a);
    await age(a, OPTIONS.idleSeconds * 1000 - 1000, idle);
    expect(await b.sessions.use(idle)).toBeDefined();
    // That use counted (its last write was older than the throttle): another idle period nearly passes.
    await age(a, OPTIONS.idleSeconds * 1000 - 1000, idle);
    expect(await a.sessions.use(idle)).toBeDefined();
    expect(await b.sessions.remainingSeconds(idle)).toBeLessThanOrEqual(2);
    // ...but not its absolute end: 2 s more and the ttl is over, however recently it was used.
    await age(a, 2000, idle);
    expect(await b.sessions.use(idle)).toBeUndefined();
    expect(await a.sessions.use(idle)).toBeUndefined();

    const quiet = await login(b);
    await age(a, OPTIONS.idleSeconds * 1000, quiet);
    expect(await a.sessions.use(quiet)).toBeUndefined();
    // An expired session is removed when met.
    expect(await rows(a)).toBe(0);
  });

  it('writes the last use at most once per throttle interval (an idle end comes early by it, never late)', async () => {
    const [a, b] = await cluster('acc_touch');
    const id = await login(a);
    const seen = async (): Promise<number> =>
      (await a.pool.query<{ seen_at: number }>('SELECT seen_at FROM sessions')).rows[0]!.seen_at;
    const first = await seen();
    await age(a, 1000, id);
    expect(await b.sessions.use(id)).toBeDefined();
    expect(await seen()).toBe(first - 1000);
    await age(a, 5000, id);
    expect(await b.sessions.use(id)).toBeDefined();
    expect(await seen()).toBeGreaterThan(first - 1000);
  });

  it('a password set through one process ends the sessions on the other (closeUser, and the stamp alone)', async () => {
    const [a, b] = await cluster('acc_passwd');
    const before = await login(a);
    const other = await login(b);
    expect(await b.sessions.use(before)).toBeDefined();
    const stamp = (await a.users.get('wang'))!.passwordChangedAt;
    // As the routes do: the password, then the user's sessions.
    expect(await a.users.passwd('wang', 'another long password')).toBe(true);
    await a.sessions.closeUser('wang');
    expect(await b.sessions.use(before)).toBeUndefined();
    expect(await b.sessions.use(other)).toBeUndefined();

    // Without closeUser (e.g. `hj212 cloud user passwd` of an older hj212) the stamp no longer matches
    // the account, which the session hook refuses; two changes in one millisecond still move it.
    const again = await login(b);
    const live = (await a.sessions.use(again))!;
    await b.users.passwd('wang', 'yet another password');
    await b.users.passwd('wang', 'and one more password');
    const now = (await a.users.get('wang'))!.passwordChangedAt;
    expect(now).toBeGreaterThan(live.stamp);
    expect(live.stamp).toBeGreaterThan(stamp);
    // A login whose password check came before a change does not open a session.
    const late = await a.sessions.open('wang', live.stamp);
    expect(await b.sessions.use(late)).toBeUndefined();
  });

  it('removing a user through one process ends its sessions everywhere; a role change through closeUser', async () => {
    const [a, b] = await cluster('acc_remove');
    expect(await a.users.add('li', 'read', PASSWORD)).toBe(true);
    const wang = await login(a);
    const li = await login(b, 'li');
    expect(await a.users.remove('wang')).toBe(true);
    expect(await b.sessions.use(wang)).toBeUndefined();
    expect(await a.sessions.use(li)).toBeDefined();
    // A session opened for a user removed meanwhile is never usable.
    expect(await a.sessions.use(await b.sessions.open('wang', 1))).toBeUndefined();
    expect(await b.users.setRole('li', 'admin')).toBe(true);
    await b.sessions.closeUser('li');
    expect(await a.sessions.use(li)).toBeUndefined();
    expect(await rows(a)).toBe(0);
  });

  it('caps the sessions at max across the processes, ending those used longest ago', async () => {
    const [a, b] = await cluster('acc_max', { ...OPTIONS, max: 3 });
    const s1 = await login(a);
    const s2 = await login(b);
    const s3 = await login(a);
    await age(a, 10_000, s2);
    await age(a, 5_000, s1);
    await age(a, 1_000, s3);
    const s4 = await login(b);
    expect(await a.sessions.use(s2)).toBeUndefined();
    for (const s of [s1, s3, s4]) expect(await b.sessions.use(s)).toBeDefined();
    // s1 is used again (after the throttle), so s3 is the one used longest ago now.
    await age(a, 20_000, s1);
    expect(await a.sessions.use(s1)).toBeDefined();
    const s5 = await login(a);
    expect(await b.sessions.use(s3)).toBeUndefined();
    for (const s of [s1, s4, s5]) expect(await a.sessions.use(s)).toBeDefined();
    expect(await rows(a)).toBe(3);

    // Logins at once on both processes never leave more than max.
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => login(i % 2 ? a : b)));
    expect(await rows(a)).toBe(3);
    const usable = await Promise.all(ids.map((id) => a.sessions.use(id)));
    expect(usable.filter((u) => u !== undefined)).toHaveLength(3);
  });
});

describe.runIf(havePostgres() && TOOLS.mosquitto())(
  'logins across two cloud processes of a cluster behind one load balancer (PostgreSQL, Mosquitto)',
  () => {
    let server: Postgres;
    let broker: Server;
    const clouds: TestCloud[] = [];
    beforeAll(async () => {
      [server, broker] = await Promise.all([startPostgres(), startMosquitto()]);
    }, 60_000);
    afterEach(async () => {
      for (const c of clouds.splice(0).reverse()) await c.stop();
    });
    afterAll(async () => {
      await Promise.all([server?.stop(), broker?.stop()]);
    });

    /** Two processes of one cluster with the HTTP API, and how to call either as a browser would. */
    async function twoProcesses(name: string) {
      const postgres = await freshDatabase(server, name);
      const mqtt = { mode: 'external' as const, url: `mqtt://127.0.0.1:${broker.port}`, group: name };
      const http = {
        host: '127.0.0.1',
        port: 0,
        tokens: [{ name: 'ops', sha256: sha256(ADMIN), role: 'admin' as const }],
      };
      for (const member of ['a', 'b']) clouds.push(await startTestCloud({ http, mqtt, cluster: { postgres, member } }));
      const bases = clouds.map((c) => `http://127.0.0.1:${c.cloud.http!.address.port}`);
      const call = async (
        on: 0 | 1,
        method: string,
        path: string,
        o: { cookie?: string; token?: string; json?: unknown } = {},
      ): Promise<{ status: number; body: Json; cookie: string | undefined }> => {
        const headers: Record<string, string> = { 'x-requested-with': 'test' };
        if (o.cookie !== undefined) headers['cookie'] = o.cookie;
        if (o.token !== undefined) headers['authorization'] = `Bearer ${o.token}`;
        if (o.json !== undefined) headers['content-type'] = 'application/json';
        const res = await fetch(bases[on] + path, {
          method,
          headers,
          body: o.json === undefined ? undefined : JSON.stringify(o.json),
        });
        const text = await res.text();
        const cookie = res.headers.get('set-cookie')?.split(';')[0];
        return { status: res.status, body: text === '' ? undefined : JSON.parse(text), cookie };
      };
      const login = async (on: 0 | 1, password = PASSWORD): Promise<string> => {
        const r = await call(on, 'POST', '/session/login', { json: { user: 'wang', password } });
        expect(r.status).toBe(200);
        return r.cookie!;
      };
      /** `hj212 cloud user …` on a config naming the cluster's database (its state file is another's). */
      const cli = async (args: string[], input = ''): Promise<{ code: number; err: string }> => {
        const file = join(clouds[0]!.dir, 'cli.yaml');
        const cluster = { postgres };
        await writeFile(file, stringify({ registry: clouds[0]!.registryFile, state: 'cli-state.db', mqtt, cluster }));
        const [stdin, stdout, stderr] = [new PassThrough(), new PassThrough(), new PassThrough()];
        const err: Buffer[] = [];
        stderr.on('data', (c: Buffer) => err.push(c));
        stdout.resume();
        stdin.end(input);
        const code = await runCli(['cloud', 'user', ...args, '--config', file], { stdin, stdout, stderr });
        return { code, err: Buffer.concat(err).toString() };
      };
      return { call, login, cli };
    }

    it('a login through one process holds on the other; a password set or removal on one ends it on both', async () => {
      const { call, login } = await twoProcesses('e2e_api');
      const added = await call(0, 'POST', '/users', {
        token: ADMIN,
        json: { name: 'wang', role: 'operator', password: PASSWORD },
      });
      expect(added.status).toBe(201);
      const cookie = await login(0);
      expect((await call(1, 'GET', '/whoami', { cookie })).body).toMatchObject({ name: 'wang', role: 'operator' });
      const session = (await call(1, 'GET', '/session', { cookie })).body;
      expect(session).toMatchObject({ via: 'session' });
      expect(session.expiresInSeconds).toBeGreaterThan(12 * 3600 - 10);
      // A role set through one process applies on the other, and ends the session there.
      expect((await call(1, 'PUT', '/users/wang/role', { token: ADMIN, json: { role: 'read' } })).status).toBe(200);
      expect((await call(0, 'GET', '/whoami', { cookie })).status).toBe(401);

      // The user sets their own password through one process: the other's session ends, the new one holds on both.
      const other = await login(1);
      const mine = await login(0);
      const set = await call(0, 'PUT', '/session/password', {
        cookie: mine,
        json: { current: PASSWORD, password: 'another long password' },
      });
      expect(set.status).toBe(200);
      expect((await call(1, 'GET', '/whoami', { cookie: other })).status).toBe(401);
      expect((await call(1, 'GET', '/whoami', { cookie: mine })).status).toBe(401);
      expect((await call(1, 'GET', '/whoami', { cookie: set.cookie })).body).toMatchObject({ name: 'wang' });
      expect((await call(1, 'POST', '/session/login', { json: { user: 'wang', password: PASSWORD } })).status).toBe(
        401,
      );

      // Logging out through one process ends it on the other.
      const out = await login(1, 'another long password');
      expect((await call(0, 'POST', '/session/logout', { cookie: out })).status).toBe(204);
      expect((await call(1, 'GET', '/whoami', { cookie: out })).status).toBe(401);

      // An admin's password change through one process ends the sessions on the other.
      const before = await login(0, 'another long password');
      const admin = { token: ADMIN, json: { password: 'a third long password' } };
      expect((await call(1, 'PUT', '/users/wang/password', admin)).status).toBe(200);
      expect((await call(0, 'GET', '/whoami', { cookie: before })).status).toBe(401);

      const last = await login(1, 'a third long password');
      expect((await call(0, 'DELETE', '/users/wang', { token: ADMIN })).status).toBe(204);
      expect((await call(1, 'GET', '/whoami', { cookie: last })).status).toBe(401);
      expect((await call(1, 'GET', '/users', { token: ADMIN })).body).toEqual([]);
    });

    it('`hj212 cloud user` with a cluster config manages the cluster’s accounts and ends their sessions', async () => {
      const { call, login, cli } = await twoProcesses('e2e_cli');
      expect(await cli(['add', 'wang', '--role', 'operator'], `${PASSWORD}\n`)).toEqual({
        code: 0,
        err: 'added wang (operator)\n',
      });
      const cookie = await login(1);
      expect((await call(0, 'GET', '/whoami', { cookie })).body).toMatchObject({ name: 'wang', role: 'operator' });
      expect((await cli(['role', 'wang', '--role', 'read'])).code).toBe(0);
      expect((await call(0, 'GET', '/whoami', { cookie })).status).toBe(401);
      const again = await login(0);
      expect((await call(1, 'GET', '/whoami', { cookie: again })).body).toMatchObject({ role: 'read' });
      expect((await cli(['passwd', 'wang'], 'another long password\n')).code).toBe(0);
      expect((await call(1, 'GET', '/whoami', { cookie: again })).status).toBe(401);
      const third = await login(1, 'another long password');
      expect((await cli(['remove', 'wang'])).code).toBe(0);
      expect((await call(0, 'GET', '/whoami', { cookie: third })).status).toBe(401);
      expect((await call(0, 'GET', '/users', { token: ADMIN })).body).toEqual([]);
      expect(await cli(['remove', 'wang'])).toEqual({ code: 1, err: 'hj212 cloud user: no user wang\n' });
    });
  },
);
