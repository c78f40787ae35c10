import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { dashboard } from '../dashboard/plugin.js';
import { pathOnly } from '../redact.js';
import { ApiTokenSchema, apiAuth } from './auth.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { newOpenApi } from './route.js';
import { apiRoutes, type ApiContext } from './routes.js';

export const HttpOptionsSchema = z.strictObject({
  host: z.string().default('0.0.0.0'),
  port: z.number().int().min(0).max(65535).default(8212),
  /** Largest request body, bytes. */
  bodyLimit: z
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /** Requests per second per token (or address), and the burst above it. */
  rate: z.number().positive().default(20),
  burst: z.number().int().min(1).default(100),
  tokens: z.array(ApiTokenSchema).min(1, 'give at least one API token (run `hj212 cloud token`)'),
});
export type HttpOptions = z.output<typeof HttpOptionsSchema>;

/** The HTTP API as a fastify app; `/openapi.json` and the dashboard's static shell need no token. */
async function buildApi(opts: HttpOptions, ctx: ApiContext, log: Logger): Promise<FastifyInstance> {
  // Per-request logs are at info; at the ingest's rates they would drown the rejections that matter.
  // A request in a log line (fastify's own, e.g. of a 500) shows its path, never its query string.
  const serializers = {
    req: (req: { method: string; url: string; ip?: string }) => ({
      method: req.method,
      url: pathOnly(req.url),
      ip: req.ip,
    }),
  };
  const app = Fastify({
    loggerInstance: log.child({ part: 'api' }, { level: 'warn', serializers }) as FastifyBaseLogger,
    bodyLimit: opts.bodyLimit,
  });
  const doc = newOpenApi();
  // Fastify refuses an oversized body before any route runs and logs it at info: say it where operators look.
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode === 413)
      req.log.warn(
        { who: `addr:${req.ip}`, url: pathOnly(req.url), reason: 'body-too-large', limit: opts.bodyLimit },
        'request refused',
      );
  });
  // No browser may take an answer for something else than its declared type (JSON as a script, a CSV as HTML).
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });
  apiAuth(app, opts, ctx.clock?.mono);
  app.get('/openapi.json', async () => doc);
  apiRoutes(app, doc, ctx);
  dashboardRoutes(app, doc, ctx);
  await dashboard(app);
  await app.ready();
  return app;
}

export async function startApi(
  opts: HttpOptions,
  ctx: ApiContext,
  log: Logger,
): Promise<{ app: FastifyInstance; address: AddressInfo }> {
  const app = await buildApi(opts, ctx, log);
  await app.listen({ host: opts.host, port: opts.port });
  return { app, address: app.server.address() as AddressInfo };
}
