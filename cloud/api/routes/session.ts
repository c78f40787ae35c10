import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  passwordProblem,
  SESSION_COOKIE,
  type SessionOptions,
  type SessionBook,
  type UserBook,
} from '../../accounts.js';
import { GuessingGuard, Limiter, type AuthOptions } from '../../guessing.js';
import { scopeView } from '../../scope.js';
import { hashSecret, verifySecret } from '../../secrets.js';
import { csrfProblem } from '../auth.js';
import { ApiErrors } from '../errors.js';
import { SessionViewSchema, WhoamiSchema } from '../schemas.js';

export interface SessionDeps {
  users: Pick<UserBook, 'get' | 'hashOf' | 'passwd'>;
  sessions: SessionBook;
  options: SessionOptions;
  /** The guessing limits of station logins (config `auth`), applied per user and per address. */
  guessing: AuthOptions;
  mono: () => number;
  /** Called once when a user or address becomes locked out (the "password guessing" alarm hangs here). */
  onLockout?: (l: { key: string; addr: string; failures: number }) => void;
}

const PasswordBodySchema = z.strictObject({
  current: z.string().min(1).max(1024),
  password: z.string().max(1024),
});

const LoginBodySchema = z.strictObject({
  user: z.string().min(1).max(64),
  password: z.string().min(1).max(1024),
});

/** The Set-Cookie of a session: never readable by scripts, never sent cross-site, gone after the session's life. */
export function sessionCookie(id: string, maxAgeSeconds: number, secure: boolean): string {
  const attributes = `Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
  return `${SESSION_COOKIE}=${id}; ${attributes}`;
}

/**
 * `POST /session/login` (user name and password → a session cookie), `POST /session/logout`,
 * `GET /session` (who am I, how long the session has left), `PUT /session/password` (a person sets
 * their own password, giving the current one) and `GET /whoami` (tokens and sessions alike).
 * Failed logins are counted per user and per address on the monotonic clock like station logins
 * (cloud/guessing.ts): after `freeFailures` each answer waits longer, after `lockoutFailures` the
 * user or address is refused without a check for `lockoutSeconds`.
 */
export const sessionRoutes: FastifyPluginAsyncZod<SessionDeps> = async (app, deps) => {
  const { users, sessions, options } = deps;
  const guard = new GuessingGuard(deps.guessing, deps.mono);
  const limiter = new Limiter(deps.guessing.concurrency, deps.guessing.queue);
  // An unknown user is checked against a hash too, so the answer's time does not tell which names exist.
  const dummy = hashSecret('not a password of anyone');
  const secure = (req: FastifyRequest): boolean => options.secureCookie || req.protocol === 'https';

  app.get(
    '/whoami',
    {
      config: { role: 'read' },
      schema: { summary: 'the name and role of the token or session presented', response: { 200: WhoamiSchema } },
    },
    async ({ principal }) => ({ name: principal!.name, role: principal!.role, ...scopeView(principal!) }),
  );

  app.get(
    '/session',
    {
      config: { role: 'read' },
      schema: {
        summary: 'who the request is authenticated as, by token or session, and the seconds the session has left',
        response: { 200: SessionViewSchema },
      },
    },
    async ({ principal, sessionId }) => ({
      name: principal!.name,
      role: principal!.role,
      ...scopeView(principal!),
      via: principal!.via,
      expiresInSeconds: sessionId === null ? null : ((await sessions.remainingSeconds(sessionId)) ?? 0),
    }),
  );

  app.post(
    '/session/login',
    {
      config: { api: true },
      schema: {
        summary: 'log in with a user name and password: sets the session cookie (needs X-Requested-With)',
        body: LoginBodySchema,
        response: { 200: SessionViewSchema },
      },
    },
    async (req, reply) => {
      const { user, password } = req.body;
      const addr = req.ip;
      const log = (reason: string, extra: object = {}): void =>
        req.log.warn({ who: `user:${user}`, addr, reason, ...extra }, 'login refused');
      // A login form on another site must not log the browser in under the attacker's account either.
      const csrf = csrfProblem(req);
      if (csrf !== undefined) {
        log(csrf);
        throw new ApiErrors.Csrf();
      }
      const keys = [`user:${user}`, ...(deps.guessing.perAddress ? [`addr:${addr}`] : [])];
      if (guard.locked(keys) !== undefined) {
        const ms = guard.lockedForMs(keys);
        guard.fail(keys);
        log('locked-out');
        throw Object.assign(new ApiErrors.LockedOut(Math.ceil(ms / 1000)), { retryAfterMs: ms });
      }
      const hash = await users.hashOf(user);
      const ok = await limiter.run(async () => verifySecret(password, hash ?? (await dummy)));
      if (ok === undefined) {
        log('busy');
        throw new ApiErrors.LoginBusy();
      }
      const account = hash === undefined ? undefined : await users.get(user);
      if (!ok || !account) {
        const { delayMs, lockedNow } = guard.fail(keys);
        log(account ? 'bad-password' : 'unknown-user');
        for (const key of lockedNow) {
          const failures = deps.guessing.lockoutFailures;
          req.log.warn({ who: `user:${user}`, addr, key, failures, reason: 'login-guessing' }, 'login locked out');
          deps.onLockout?.({ key, addr, failures });
        }
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        throw new ApiErrors.BadLogin();
      }
      guard.succeed(`user:${user}`);
      const id = await sessions.open(account.name, account.passwordChangedAt);
      reply.header('set-cookie', sessionCookie(id, options.ttlSeconds, secure(req)));
      req.log.info({ who: `user:${account.name}`, addr }, 'logged in');
      return { name: account.name, role: account.role, via: 'session' as const, expiresInSeconds: options.ttlSeconds };
    },
  );

  app.put(
    '/session/password',
    {
      config: { role: 'read' },
      schema: {
        summary: 'set the password of the user logged in, giving the current one; the other sessions end',
        body: PasswordBodySchema,
        response: { 200: SessionViewSchema },
      },
    },
    async (req, reply) => {
      const { name, via } = req.principal!;
      // A token has no password; its holder manages accounts through /users.
      if (via !== 'session') throw new ApiErrors.NoSession();
      const addr = req.ip;
      const keys = [`user:${name}`, ...(deps.guessing.perAddress ? [`addr:${addr}`] : [])];
      const refuse = (reason: string): void =>
        req.log.warn({ who: `user:${name}`, addr, reason }, 'password change refused');
      if (guard.locked(keys) !== undefined) {
        const ms = guard.lockedForMs(keys);
        refuse('locked-out');
        throw Object.assign(new ApiErrors.LockedOut(Math.ceil(ms / 1000)), { retryAfterMs: ms });
      }
      const hash = await users.hashOf(name);
      const ok = hash !== undefined && (await limiter.run(() => verifySecret(req.body.current, hash)));
      if (ok === undefined) throw new ApiErrors.LoginBusy();
      if (!ok) {
        // A stolen session must not become a way to guess the password: counted like a login.
        const { lockedNow } = guard.fail(keys);
        refuse('bad-password');
        for (const key of lockedNow) deps.onLockout?.({ key, addr, failures: deps.guessing.lockoutFailures });
        throw new ApiErrors.BadLogin();
      }
      const problem = passwordProblem(name, req.body.password);
      if (problem !== undefined) throw new ApiErrors.WeakPassword(problem);
      await users.passwd(name, req.body.password);
      await sessions.closeUser(name);
      const account = (await users.get(name))!;
      const id = await sessions.open(name, account.passwordChangedAt);
      reply.header('set-cookie', sessionCookie(id, options.ttlSeconds, secure(req)));
      req.log.warn({ who: `user:${name}`, addr, reason: 'password-set' }, 'password changed');
      return { name, role: account.role, via: 'session' as const, expiresInSeconds: options.ttlSeconds };
    },
  );

  app.post(
    '/session/logout',
    {
      config: { role: 'read' },
      schema: { summary: 'end the session of the cookie presented and clear the cookie', response: { 204: z.null() } },
    },
    async (req: FastifyRequest, reply: FastifyReply) => {
      if (req.sessionId !== null) await sessions.close(req.sessionId);
      reply.header('set-cookie', sessionCookie('', 0, secure(req)));
      return reply.code(204).send();
    },
  );
};
