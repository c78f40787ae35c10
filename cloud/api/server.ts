import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ApiTokenSchema, apiAuth } from './auth.js';
import { newOpenApi } from './route.js';
import { apiRoutes, type ApiContext } from './routes.js';

export const HttpOptionsSchema = z.object({
  host: z.string().default('0.0.0.0'),
  port: z.number().int().min(0).max(65535).default(8212),
  /** Largest request body, bytes. */
  bodyLimit: z.number().int().min(1024).default(1024 * 1024),
  /** Requests per second per token (or address), and the burst above it. */
  rate: z.number().positive().default(20),
  burst: z.number().int().min(1).default(100),
  tokens: z.array(ApiTokenSchema).min(1, 'give at least one API token (run `hj212 cloud token`)'),
});
export type HttpOptions = z.output<typeof HttpOptionsSchema>;

/** The HTTP API as a fastify app; `/openapi.json` describes it and needs no token. */
async function buildApi(opts: HttpOptions, ctx: ApiContext, log: Logger): Promise<FastifyInstance> {
  // Per-request logs are at info; at the ingest's rates they would drown the rejections that matter.
  const app = Fastify({ loggerInstance: log.child({ part: 'api' }, { level: 'warn' }) as FastifyBaseLogger, bodyLimit: opts.bodyLimit });
  const doc = newOpenApi();
  apiAuth(app, opts);
  app.get('/openapi.json', async () => doc);
  apiRoutes(app, doc, ctx);
  await app.ready();
  return app;
}

export async function startApi(opts: HttpOptions, ctx: ApiContext, log: Logger): Promise<{ app: FastifyInstance; address: AddressInfo }> {
  const app = await buildApi(opts, ctx, log);
  await app.listen({ host: opts.host, port: opts.port });
  return { app, address: app.server.address() as AddressInfo };
}
