import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { atLeast, RoleSchema, SESSION_COOKIE, type Role, type SessionBook, type UserBook } from '../accounts.js';
import { TokenBucket } from '../rate.js';
import { Registry, type Station } from '../registry.js';
import { reviews, scopeKind, scopeView, sees, type Scope } from '../scope.js';
import { pathOnly } from '../redact.js';
import { ApiErrors, rateLimited } from './errors.js';

export type { Role } from '../accounts.js';

export const ApiTokenSchema = z
  .strictObject({
    name: z.string().min(1),
    /** A token of an enterprise's own system sees only that enterprise (scope.ts); absent: the whole centre. */
    enterprise: z.string().min(1, 'name the enterprise as the registry spells it').optional(),
    /** A token of an authority's system sees only that region's stations. */
    region: z.string().min(1, 'name the region as the registry spells it').optional(),
    /** SHA-256 (hex) of the token: tokens are long random strings, so a fast hash is enough. */
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, 'sha256 is 64 hex digits: run `hj212 cloud token` and keep the token, store the hash'),
    role: RoleSchema,
  })
  .refine((t) => t.enterprise === undefined || t.region === undefined, {
    message: 'a token is an enterprise system or an authority of a region, not both: give enterprise or region',
    path: ['region'],
  });
export type ApiToken = z.output<typeof ApiTokenSchema>;

/** Who a request acts for: a machine's API token or a person's login session, and whose data it sees. */
export interface Principal extends Scope {
  name: string;
  role: Role;
  via: 'token' | 'session';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role a request needs for this route; absent: public (the dashboard's shell, /openapi.json, login). */
    role?: Role;
    /** A public route that is API nonetheless (the login): documented in /openapi.json with no security. */
    api?: boolean;
    /**
     * The route is the centre's or an authority's work (what, e.g. "acknowledging alarms"): an enterprise user is
     * refused (scopeGuard). An enterprise reads its own data; it does not judge it nor command its logger.
     */
    reviewer?: string;
    /** The route is the centre's alone (what, e.g. "this process's counters"): any scoped account is refused. */
    centre?: string;
  }
  interface FastifyRequest {
    /** Who the request was authenticated as (null before or without a token or session). */
    principal: Principal | null;
    /** The session id of the cookie the request was authenticated with, if it was. */
    sessionId: string | null;
  }
}

export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function find(tokens: readonly ApiToken[], presented: string): ApiToken | undefined {
  const h = Buffer.from(sha256(presented), 'hex');
  return tokens.find((t) => timingSafeEqual(Buffer.from(t.sha256, 'hex'), h));
}

/** The value of one cookie of a request's Cookie header. */
export function cookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why a state-changing request carried by a cookie may come from another site (CSRF), or undefined.
 * SameSite=Strict already keeps the cookie off cross-site requests; as a second wall such a request
 * must carry `X-Requested-With` (a header no form and no cross-origin fetch without a CORS
 * preflight, which this API never grants, can set), and an Origin, when sent, must be this host.
 */
export function csrfProblem(req: FastifyRequest): string | undefined {
  if (SAFE.has(req.method)) return undefined;
  if (!req.headers['x-requested-with']) return 'no-x-requested-with';
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  // `Origin: null` (a sandboxed frame, a redirect from elsewhere) does not parse, and is refused too.
  try {
    return new URL(origin).host === req.headers.host ? undefined : 'origin-mismatch';
  } catch {
    return 'origin-mismatch';
  }
}

export interface AuthDeps {
  tokens: readonly ApiToken[];
  rate: number;
  burst: number;
  /** Login sessions and the accounts they belong to (a user's role is read at each request). */
  sessions?: SessionBook;
  users?: Pick<UserBook, 'get'>;
}

/**
 * Bearer tokens (machines) and session cookies (people) with roles, and a request rate per token,
 * user or (before authentication) address; refusals go to the error handler. A bearer token wins
 * over a cookie, so a machine's requests never depend on a browser's state.
 */
export function apiAuth(app: FastifyInstance, opts: AuthDeps, mono: () => number = () => performance.now()): void {
  const buckets = new Map<string, TokenBucket>();
  app.decorateRequest('principal', null);
  app.decorateRequest('sessionId', null);
  app.addHook('onRequest', async (req) => {
    const needs = req.routeOptions.config.role;
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer !== undefined ? find(opts.tokens, bearer) : undefined;
    let principal: Principal | undefined = token && {
      name: token.name,
      role: token.role,
      via: 'token',
      ...scopeView(token),
    };
    const sid = bearer === undefined ? cookie(req, SESSION_COOKIE) : undefined;
    if (sid !== undefined && opts.sessions && opts.users) {
      const live = await opts.sessions.use(sid);
      // The account is read at every request: a removed user, or a password set since the login (by any
      // process of a cluster, or by `hj212 cloud user passwd` on the same database), ends the session; a new
      // role applies at once.
      const user = live === undefined ? undefined : await opts.users.get(live.user);
      if (user && user.passwordChangedAt === live!.stamp) {
        principal = { name: user.name, role: user.role, via: 'session', ...scopeView(user) };
        req.sessionId = sid;
      } else if (live !== undefined) await opts.sessions.close(sid);
    }
    const who = principal ? `${principal.via === 'token' ? 'token' : 'user'}:${principal.name}` : `addr:${req.ip}`;
    // Addresses are unbounded; forgetting them all now and then only resets their allowance.
    if (buckets.size > 10_000) buckets.clear();
    let bucket = buckets.get(who);
    if (!bucket) buckets.set(who, (bucket = new TokenBucket(opts.rate, opts.burst, mono)));
    const wait = bucket.take();
    if (wait > 0) {
      req.log.warn({ who, reason: 'rate-limited' }, 'request refused');
      throw rateLimited(wait);
    }
    req.principal = principal ?? null;
    if (needs === undefined) return;
    if (!principal) {
      if (sid !== undefined) {
        req.log.warn({ who, reason: 'session-expired', url: pathOnly(req.url) }, 'request refused');
        throw new ApiErrors.NoSession();
      }
      req.log.warn(
        { who, reason: bearer === undefined ? 'no-token' : 'unknown-token', url: pathOnly(req.url) },
        'request refused',
      );
      throw new ApiErrors.NoToken();
    }
    if (principal.via === 'session') {
      const csrf = csrfProblem(req);
      if (csrf !== undefined) {
        req.log.warn({ who, reason: csrf, url: pathOnly(req.url) }, 'request refused');
        throw new ApiErrors.Csrf();
      }
    }
    if (!atLeast(principal.role, needs)) {
      req.log.warn({ who, reason: 'role', needs, url: pathOnly(req.url) }, 'request refused');
      throw new ApiErrors.Role(
        needs,
        `${principal.via === 'token' ? 'token' : 'user'} ${principal.name}`,
        principal.role,
      );
    }
  });
}

const scopeText = (p: Principal): string =>
  p.enterprise !== undefined
    ? `enterprise ${p.enterprise}`
    : p.region !== undefined
      ? `region ${p.region}`
      : 'the centre';

/** Refuses a station outside what the principal sees (scope.ts): an enterprise user's own, an authority's region. */
export function assertSees(p: Principal, station: Pick<Station, 'mn' | 'enterprise' | 'region'>): void {
  if (!sees(p, station)) throw new ApiErrors.OutOfScope(`station ${station.mn}`, `${p.name} sees only ${scopeText(p)}`);
}

/** Refuses an enterprise (by name) outside what the principal sees. */
export function assertSeesEnterprise(p: Principal, enterprise: string, stations: Iterable<Station>): void {
  if (
    p.enterprise !== undefined
      ? p.enterprise !== enterprise
      : p.region !== undefined && ![...stations].some((s) => s.enterprise === enterprise && s.region === p.region)
  )
    throw new ApiErrors.OutOfScope(`enterprise ${enterprise}`, `${p.name} sees only ${scopeText(p)}`);
}

/** Refuses what only the centre (no scope) may do, e.g. managing accounts. */
export function assertCentre(p: Principal, what: string): void {
  if (scopeKind(p) !== 'centre')
    throw new ApiErrors.CentreOnly(`${what} is the centre's work; ${p.name} is of ${scopeText(p)}`);
}

/** Refuses review (审核) by an enterprise user: the centre and authorities review, enterprises submit. */
export function assertReviewer(p: Principal, what: string): void {
  if (!reviews(p))
    throw new ApiErrors.CentreOnly(`${what} is reviewed by the authority; ${p.name} is of ${scopeText(p)}`);
}

/**
 * Scopes on every route in one place, after authentication and validation: the route's `reviewer` or `centre`
 * config, and a `:mn` in its path that names a station outside what the principal sees (an unknown MN is left
 * to the route's own 404). Lists filter with `visible` instead, so a scoped account sees a shorter list, not a 403.
 */
export function scopeGuard(app: FastifyInstance, registry: () => Registry): void {
  app.addHook('preHandler', async (req) => {
    const p = req.principal;
    if (!p || scopeKind(p) === 'centre') return;
    const { reviewer, centre } = req.routeOptions.config;
    try {
      const mn = (req.params as { mn?: unknown } | undefined)?.mn;
      const station = typeof mn === 'string' ? registry().get(mn) : undefined;
      if (station) assertSees(p, station);
      if (centre !== undefined) assertCentre(p, centre);
      if (reviewer !== undefined) assertReviewer(p, reviewer);
    } catch (e) {
      const who = `${p.via === 'token' ? 'token' : 'user'}:${p.name}`;
      req.log.warn({ who, reason: 'out-of-scope', url: pathOnly(req.url) }, 'request refused');
      throw e;
    }
  });
}

/**
 * The registry as a principal sees it: all of it for the centre, its own or its region's stations otherwise.
 * Lists, reports and the overview are computed over this, so their totals are the principal's.
 */
export function visible(p: Principal | null, registry: Registry): Registry {
  if (!p || scopeKind(p) === 'centre') return registry;
  return new Registry(registry.stations.filter((s) => sees(p, s)));
}

/** The MNs a scoped principal may read alarms of, or undefined for the centre (every MN). */
export function visibleMns(p: Principal | null, registry: Registry): string[] | undefined {
  if (!p || scopeKind(p) === 'centre') return undefined;
  return registry.stations.filter((s) => sees(p, s)).map((s) => s.mn);
}
