import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { Awaitable } from './rules/state.js';
import { scopeView, type Scope } from './scope.js';
import { DEFAULT_PASSWORD, hashSecret } from './secrets.js';

/**
 * What a person or a machine may do: read < operator (acknowledge, follow up, send commands) < admin
 * (docs/security.md).
 */
export const ROLES = ['read', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = z.enum(ROLES);
const RANK: Record<Role, number> = { read: 1, operator: 2, admin: 3 };
export const atLeast = (has: Role, needs: Role): boolean => RANK[has] >= RANK[needs];

export const UserNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/,
    'a user name is 1 to 64 letters, digits, . _ @ - (starting with one of the first two)',
  );

/** Shortest password accepted: a login is guarded against guessing, but a stolen state file is not. */
export const MIN_PASSWORD = 10;

/**
 * Why a password is refused, or undefined if it is acceptable: too short, the HJ 212 factory
 * default (123456) or the user's own name. No account is ever created with a default password.
 */
export function passwordProblem(name: string, password: string): string | undefined {
  if (password === DEFAULT_PASSWORD) return 'the factory default password 123456 is not accepted';
  if (password.length < MIN_PASSWORD) return `a password has at least ${MIN_PASSWORD} characters`;
  if (password.toLowerCase() === name.toLowerCase()) return 'a password is not the user name';
  return undefined;
}

export interface User extends Scope {
  name: string;
  role: Role;
  /** ms since epoch. */
  createdAt: number;
  passwordChangedAt: number;
}

/**
 * The accounts as the API and the CLI use them: the SQLite UserStore here (sync) or, in cluster mode, the
 * PgUserStore (cloud/state/pg-accounts.ts, async) that every process shares; callers `await` each read.
 */
export interface UserBook {
  list(): Awaitable<User[]>;
  get(name: string): Awaitable<User | undefined>;
  hashOf(name: string): Awaitable<string | undefined>;
  add(name: string, role: Role, password: string, scope?: Scope): Promise<boolean>;
  setScope(name: string, scope: Scope): Awaitable<boolean>;
  passwd(name: string, password: string): Promise<boolean>;
  setRole(name: string, role: Role): Awaitable<boolean>;
  remove(name: string): Awaitable<boolean>;
}

export interface Row {
  name: string;
  role: Role;
  hash: string;
  created_at: number;
  password_changed_at: number;
  enterprise: string | null;
  region: string | null;
}

export const userView = (r: Row): User => ({
  name: r.name,
  role: r.role,
  ...scopeView({ enterprise: r.enterprise ?? undefined, region: r.region ?? undefined }),
  createdAt: r.created_at,
  passwordChangedAt: r.password_changed_at,
});

/**
 * The operators' accounts, in the state database: each password as `scrypt$N$salt$key` (secrets.ts),
 * so the salt (16 random bytes per user) and the cost are stored with the hash and a later cost
 * applies to passwords set after it.
 */
export class UserStore implements UserBook {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    db.exec(
      'CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, ' +
        'created_at INTEGER NOT NULL, password_changed_at INTEGER NOT NULL)',
    );
    // The scope columns came with the enterprise side; a state database made before gains them empty (centre accounts).
    const columns = new Set((db.prepare('PRAGMA table_info(users)').all() as { name: string }[]).map((c) => c.name));
    for (const c of ['enterprise', 'region']) if (!columns.has(c)) db.exec(`ALTER TABLE users ADD COLUMN ${c} TEXT`);
  }

  list(): User[] {
    return (this.db.prepare('SELECT * FROM users ORDER BY name').all() as Row[]).map(userView);
  }

  get(name: string): User | undefined {
    const row = this.row(name);
    return row && userView(row);
  }

  /** The stored hash of a user's password (for the login check only). */
  hashOf(name: string): string | undefined {
    return this.row(name)?.hash;
  }

  /**
   * Adds a user (of the centre, or scoped to an enterprise or a region: scope.ts); false if the name is
   * taken. The password must pass passwordProblem first.
   */
  async add(name: string, role: Role, password: string, scope: Scope = {}): Promise<boolean> {
    const hash = await hashSecret(password);
    const at = this.now();
    const r = this.db
      .prepare(
        'INSERT INTO users (name, role, hash, created_at, password_changed_at, enterprise, region) ' +
          'VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING',
      )
      .run(name, role, hash, at, at, scope.enterprise ?? null, scope.region ?? null);
    return r.changes === 1;
  }

  /** Sets whose data a user sees (an empty scope: the whole centre); false if there is no such user. */
  setScope(name: string, scope: Scope): boolean {
    return (
      this.db
        .prepare('UPDATE users SET enterprise = ?, region = ? WHERE name = ?')
        .run(scope.enterprise ?? null, scope.region ?? null, name).changes === 1
    );
  }

  /** Sets a user's password; false if there is no such user. */
  async passwd(name: string, password: string): Promise<boolean> {
    const hash = await hashSecret(password);
    const r = this.db
      .prepare('UPDATE users SET hash = ?, password_changed_at = ? WHERE name = ?')
      .run(hash, this.now(), name);
    return r.changes === 1;
  }

  setRole(name: string, role: Role): boolean {
    return this.db.prepare('UPDATE users SET role = ? WHERE name = ?').run(role, name).changes === 1;
  }

  remove(name: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE name = ?').run(name).changes === 1;
  }

  private row(name: string): Row | undefined {
    return this.db.prepare('SELECT * FROM users WHERE name = ?').get(name) as Row | undefined;
  }
}

export const SessionOptionsSchema = z.strictObject({
  /** A session ends this long after login however busy it is (the cookie's Max-Age). */
  ttlSeconds: z
    .number()
    .int()
    .min(60)
    .default(12 * 3600),
  /** …and this long after its last request. */
  idleSeconds: z
    .number()
    .int()
    .min(60)
    .default(30 * 60),
  /** Send the cookie with Secure also when the request did not come over TLS (behind a TLS-terminating proxy). */
  secureCookie: z.boolean().default(false),
  /** Sessions at once; beyond it the one used longest ago ends. */
  max: z.number().int().min(1).default(10_000),
});
export type SessionOptions = z.output<typeof SessionOptionsSchema>;

export const SESSION_COOKIE = 'hj212_session';

/**
 * Login sessions as the API uses them: the SessionTable here (in memory, sync, one process's) or, in
 * cluster mode, the PgSessionStore (cloud/state/pg-accounts.ts, async) that every process shares.
 */
export interface SessionBook {
  /** A new session of `user` (whose passwordChangedAt is `stamp`); its id goes into the cookie. */
  open(user: string, stamp: number): Awaitable<string>;
  /** The user of a live session, which counts as used now; undefined if unknown, expired or idle too long. */
  use(id: string): Awaitable<{ user: string; stamp: number } | undefined>;
  /** Seconds the session has left before its absolute end. */
  remainingSeconds(id: string): Awaitable<number | undefined>;
  close(id: string): Awaitable<void>;
  /** Ends every session of a user (password changed, user removed or role changed). */
  closeUser(user: string): Awaitable<void>;
}

interface Session {
  user: string;
  /** The user's passwordChangedAt at login: a password set since (by any process) ends the session. */
  stamp: number;
  /** Monotonic ms. */
  started: number;
  seen: number;
}

export const sessionDigest = (id: string): string => createHash('sha256').update(id).digest('hex');

/**
 * Logged-in sessions, in memory, on the monotonic clock: a step of the wall clock neither ends nor
 * prolongs one. Only the SHA-256 of a session id is kept, so a heap dump gives no usable cookie.
 * A restart ends every session (people log in again; machines use API tokens).
 */
export class SessionTable implements SessionBook {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly o: SessionOptions,
    private readonly mono: () => number,
  ) {}

  /** A new session of `user`; its id (32 random bytes, base64url) goes into the cookie. */
  open(user: string, stamp: number): string {
    this.sweep();
    if (this.sessions.size >= this.o.max) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    const now = this.mono();
    this.sessions.set(sessionDigest(id), { user, stamp, started: now, seen: now });
    return id;
  }

  /** The user of a live session, which counts as used now; undefined if unknown, expired or idle too long. */
  use(id: string): { user: string; stamp: number } | undefined {
    const key = sessionDigest(id);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    const now = this.mono();
    if (this.expired(s, now)) {
      this.sessions.delete(key);
      return undefined;
    }
    s.seen = now;
    // Map order is the order of use, so the first entry is the one used longest ago.
    this.sessions.delete(key);
    this.sessions.set(key, s);
    return { user: s.user, stamp: s.stamp };
  }

  /** Seconds the session has left before its absolute end (for GET /session). */
  remainingSeconds(id: string): number | undefined {
    const s = this.sessions.get(sessionDigest(id));
    if (!s) return undefined;
    return Math.max(0, Math.floor((s.started + this.o.ttlSeconds * 1000 - this.mono()) / 1000));
  }

  close(id: string): void {
    this.sessions.delete(sessionDigest(id));
  }

  /** Ends every session of a user (password changed, user removed or role changed). */
  closeUser(user: string): void {
    for (const [k, s] of this.sessions) if (s.user === user) this.sessions.delete(k);
  }

  private expired(s: Session, now: number): boolean {
    return now - s.started >= this.o.ttlSeconds * 1000 || now - s.seen >= this.o.idleSeconds * 1000;
  }

  private sweep(): void {
    const now = this.mono();
    for (const [k, s] of this.sessions) if (this.expired(s, now)) this.sessions.delete(k);
  }
}
