import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { inTransaction } from './pg-schema.js';
import {
  sessionDigest,
  userView,
  type Role,
  type Row,
  type SessionBook,
  type SessionOptions,
  type User,
  type UserBook,
} from '../accounts.js';
import type { Scope } from '../scope.js';
import { hashSecret } from '../secrets.js';

/**
 * The dashboard's accounts and login sessions of a cluster, in PostgreSQL (tables `users` and `sessions`
 * of migration 4): one set for every process, so a person logged in through one process behind the
 * load balancer is logged in on all of them, and a password set, a role or scope changed or an account
 * removed through any process (or `hj212 cloud user` on the cluster's database) ends that person's
 * sessions on all of them. Same rules as UserStore and SessionTable (cloud/accounts.ts), asynchronous.
 */

/**
 * Epoch milliseconds on the database's clock. Sessions are timed on it, not on a process's clock: a
 * process's monotonic clock counts from an origin of its own (its start), so a session opened on one
 * process could not be aged on another, and the processes' wall clocks differ by their skew, so two
 * processes behind one load balancer would end an idle session at different times. The database's
 * clock is one clock for the whole cluster (as for the bucket leases, cloud/state/leases.ts); only a
 * step of the database server's own clock moves the sessions' ends. `now()` is the start of the
 * statement's transaction, so one statement sees one instant throughout.
 */
const NOW_MS = 'floor(extract(epoch from now()) * 1000)::bigint';

/** Serializes the opening of sessions (the `max` cap counts the rows), across the cluster. */
const OPEN_LOCK = 2_120_213;

/** Accounts: each password as `scrypt$N$salt$key` (secrets.ts), times on the database's clock. */
export class PgUserStore implements UserBook {
  constructor(private readonly db: Pick<pg.Pool, 'query'>) {}

  async list(): Promise<User[]> {
    return (await this.db.query<Row>('SELECT * FROM users ORDER BY name')).rows.map(userView);
  }

  async get(name: string): Promise<User | undefined> {
    const row = await this.row(name);
    return row && userView(row);
  }

  /** The stored hash of a user's password (for the login check only). */
  async hashOf(name: string): Promise<string | undefined> {
    return (await this.row(name))?.hash;
  }

  /** Adds a user; false if the name is taken (by any process). The password must pass passwordProblem first. */
  async add(name: string, role: Role, password: string, scope: Scope = {}): Promise<boolean> {
    const hash = await hashSecret(password);
    const r = await this.db.query(
      `INSERT INTO users (name, role, hash, created_at, password_changed_at, enterprise, region)
       VALUES ($1, $2, $3, ${NOW_MS}, ${NOW_MS}, $4, $5) ON CONFLICT (name) DO NOTHING`,
      [name, role, hash, scope.enterprise ?? null, scope.region ?? null],
    );
    return r.rowCount === 1;
  }

  async setScope(name: string, scope: Scope): Promise<boolean> {
    const r = await this.db.query('UPDATE users SET enterprise = $2, region = $3 WHERE name = $1', [
      name,
      scope.enterprise ?? null,
      scope.region ?? null,
    ]);
    return r.rowCount === 1;
  }

  /**
   * Sets a user's password; false if there is no such user. The change time only ever moves forward, by
   * at least 1 ms, so every change ends the sessions stamped with the one before (SessionBook.open),
   * also two changes within a millisecond.
   */
  async passwd(name: string, password: string): Promise<boolean> {
    const hash = await hashSecret(password);
    const r = await this.db.query(
      `UPDATE users SET hash = $2, password_changed_at = greatest(${NOW_MS}, password_changed_at + 1) WHERE name = $1`,
      [name, hash],
    );
    return r.rowCount === 1;
  }

  async setRole(name: string, role: Role): Promise<boolean> {
    return (await this.db.query('UPDATE users SET role = $2 WHERE name = $1', [name, role])).rowCount === 1;
  }

  /** Removes a user; its sessions go with it (the foreign key cascades). */
  async remove(name: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM users WHERE name = $1', [name])).rowCount === 1;
  }

  private async row(name: string): Promise<Row | undefined> {
    return (await this.db.query<Row>('SELECT * FROM users WHERE name = $1', [name])).rows[0];
  }
}

/**
 * Logged-in sessions shared by the processes of a cluster, timed on the database's clock (NOW_MS above;
 * the single process's SessionTable keeps its monotonic clock). Only the SHA-256 of a session id is
 * stored, so a dump of the table gives no usable cookie. A session ends `ttlSeconds` after login, and
 * `idleSeconds` after its last use; opening one beyond `max` ends those used longest ago.
 *
 * The last use (`seen_at`) is written at most every `touchMs` per session (default a tenth of the idle
 * limit, at most a minute), not at every request: a busy dashboard's polling does not write a row per
 * request. So an idle session may end up to `touchMs` early, never late, and the `max` cap's "used
 * longest ago" is to that precision too.
 */
export class PgSessionStore implements SessionBook {
  private readonly ttlMs: number;
  private readonly idleMs: number;
  private readonly touchMs: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly o: Pick<SessionOptions, 'ttlSeconds' | 'idleSeconds' | 'max'>,
    touchMs?: number,
  ) {
    this.ttlMs = o.ttlSeconds * 1000;
    this.idleMs = o.idleSeconds * 1000;
    this.touchMs = touchMs ?? Math.min(60_000, this.idleMs / 10);
  }

  /**
   * A new session of `user`; its id (32 random bytes, base64url) goes into the cookie. It is stored only
   * while the account still has this `stamp` (its passwordChangedAt): a password set or the account
   * removed by another process between the password check and now leaves the id unusable.
   */
  async open(user: string, stamp: number): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await inTransaction(this.pool, async (c) => {
      // One opening at a time in the cluster, so two logins at once do not both find room under the cap.
      await c.query('SELECT pg_advisory_xact_lock($1)', [OPEN_LOCK]);
      await c.query(`DELETE FROM sessions WHERE started_at <= ${NOW_MS} - $1 OR seen_at <= ${NOW_MS} - $2`, [
        this.ttlMs,
        this.idleMs,
      ]);
      // Room for the new one: the max - 1 used last stay.
      await c.query(
        `DELETE FROM sessions WHERE digest IN
         (SELECT digest FROM sessions ORDER BY seen_at DESC, started_at DESC OFFSET $1)`,
        [this.o.max - 1],
      );
      await c.query(
        `INSERT INTO sessions (digest, user_name, stamp, started_at, seen_at)
       SELECT $1, name, password_changed_at, ${NOW_MS}, ${NOW_MS} FROM users
       WHERE name = $2 AND password_changed_at = $3`,
        [sessionDigest(id), user, stamp],
      );
    });
    return id;
  }

  /**
   * The user of a live session, which counts as used now (written if the last write is `touchMs` old);
   * undefined if unknown, expired or idle too long (and then removed). One statement, one round trip.
   */
  async use(id: string): Promise<{ user: string; stamp: number } | undefined> {
    const r = await this.pool.query<{ user_name: string; stamp: number }>(
      `WITH s AS (SELECT digest, user_name, stamp, started_at, seen_at, ${NOW_MS} AS now
                  FROM sessions WHERE digest = $1),
            live AS (SELECT * FROM s WHERE now - started_at < $2 AND now - seen_at < $3),
            touched AS (UPDATE sessions SET seen_at = live.now FROM live
                        WHERE sessions.digest = live.digest AND live.now - live.seen_at >= $4),
            gone AS (DELETE FROM sessions WHERE digest IN (SELECT digest FROM s EXCEPT SELECT digest FROM live))
       SELECT user_name, stamp FROM live`,
      [sessionDigest(id), this.ttlMs, this.idleMs, this.touchMs],
    );
    const row = r.rows[0];
    return row && { user: row.user_name, stamp: row.stamp };
  }

  /** Seconds the session has left before its absolute end (for GET /session). */
  async remainingSeconds(id: string): Promise<number | undefined> {
    const r = await this.pool.query<{ left: number }>(
      `SELECT greatest(0, floor((started_at + $2 - ${NOW_MS}) / 1000.0))::integer AS left
       FROM sessions WHERE digest = $1`,
      [sessionDigest(id), this.ttlMs],
    );
    return r.rows[0]?.left;
  }

  async close(id: string): Promise<void> {
    await this.pool.query('DELETE FROM sessions WHERE digest = $1', [sessionDigest(id)]);
  }

  /** Ends every session of a user, on every process (password changed, user removed, role or scope changed). */
  async closeUser(user: string): Promise<void> {
    await this.pool.query('DELETE FROM sessions WHERE user_name = $1', [user]);
  }
}
