import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TokenBucket } from '../rate.js';
import { pathOnly } from '../redact.js';
import { ApiErrors, rateLimited } from './errors.js';

export type Role = 'read' | 'admin';

export const ApiTokenSchema = z.strictObject({
  name: z.string().min(1),
  /** SHA-256 (hex) of the token: tokens are long random strings, so a fast hash is enough. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'sha256 is 64 hex digits: run `hj212 cloud token` and keep the token, store the hash'),
  role: z.enum(['read', 'admin']),
});
export type ApiToken = z.output<typeof ApiTokenSchema>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The least role a token needs for this route; absent: public (the dashboard's shell, /openapi.json). */
    role?: Role;
  }
  interface FastifyRequest {
    /** The token the request was authenticated with (null before or without one). */
    apiToken: ApiToken | null;
  }
}

const RANK: Record<Role, number> = { read: 1, admin: 2 };
export const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

function find(tokens: readonly ApiToken[], presented: string): ApiToken | undefined {
  const h = Buffer.from(sha256(presented), 'hex');
  return tokens.find((t) => timingSafeEqual(Buffer.from(t.sha256, 'hex'), h));
}

/** Bearer tokens with roles, and a request rate per token (per address before authentication); refusals go to the error handler. */
export function apiAuth(
  app: FastifyInstance,
  opts: { tokens: readonly ApiToken[]; rate: number; burst: number },
  mono: () => number = () => performance.now(),
): void {
  const buckets = new Map<string, TokenBucket>();
  app.decorateRequest('apiToken', null);
  app.addHook('onRequest', async (req) => {
    const needs = req.routeOptions.config.role;
    const bearer = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer !== undefined ? find(opts.tokens, bearer) : undefined;
    const who = token ? `token:${token.name}` : `addr:${req.ip}`;
    // Addresses are unbounded; forgetting them all now and then only resets their allowance.
    if (buckets.size > 10_000) buckets.clear();
    let bucket = buckets.get(who);
    if (!bucket) buckets.set(who, (bucket = new TokenBucket(opts.rate, opts.burst, mono)));
    const wait = bucket.take();
    if (wait > 0) {
      req.log.warn({ who, reason: 'rate-limited' }, 'request refused');
      throw rateLimited(wait);
    }
    req.apiToken = token ?? null;
    if (needs === undefined) return;
    if (!token) {
      req.log.warn(
        { who, reason: bearer === undefined ? 'no-token' : 'unknown-token', url: pathOnly(req.url) },
        'request refused',
      );
      throw new ApiErrors.NoToken();
    }
    if (RANK[token.role] < RANK[needs]) {
      req.log.warn({ who, reason: 'role', needs, url: pathOnly(req.url) }, 'request refused');
      throw new ApiErrors.Role(needs, token.name, token.role);
    }
  });
}
