import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionDigest, type SessionOptions } from '../cloud/accounts.js';
import { PgSessionStore, PgUserStore } from '../cloud/state/pg-accounts.js';
import { migrate, openPg } from '../cloud/state/pg-schema.js';
import { freshDatabase, havePostgres, startPostgres, type Postgres } from './helpers/postgres.js';

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
  let server: Postgres;
  const pools: pg.Pool[] = [];
  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    await server?.stop();
  });

  /** A migrated fresh database and two processes on it, with user `wang` (operator). */
  async function cluster(name: string, options = OPTIONS): Promise<[Proc, Proc]> {
    const url = await freshDatabase(server, name);
    const procs = [0, 1].map(() => {
      const pool = openPg(url, 4);
      pools.push(pool);
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

  it('writes the last use at most once per throttle interval (an idle end comes early by that, never late)', async () => {
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
