import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { LiveHub } from '../live.js';

export interface EventsDeps {
  live: Pick<LiveHub, 'subscribe'>;
  keepAliveMs?: number;
}

/**
 * `GET /events`: server-sent events over a plain response, so the browser reads it with fetch and
 * its Authorization header (EventSource cannot send one, and a token in the URL would end up in logs).
 */
export const eventsRoutes: FastifyPluginAsyncZod<EventsDeps> = async (app, { live, keepAliveMs = 15_000 }) => {
  const open = new Set<() => void>();
  // Streams never end on their own; without this, closing the server would wait for every browser.
  app.addHook('preClose', async () => {
    for (const end of open) end();
  });
  app.get(
    '/events',
    {
      config: { role: 'read' },
      schema: {
        summary: 'server-sent events: data stored, alarms opened, closed, acknowledged, followed up',
        response: {
          200: {
            description: 'a stream of `event: data|alarm` with a JSON `data:` line each, and keep-alive comments',
            content: { 'text/event-stream': { schema: z.string() } },
          },
        },
      },
    },
    async (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(': connected\n\n');
      const unsubscribe = live.subscribe((e) => res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`));
      // Proxies drop connections that stay silent.
      const timer = setInterval(() => res.write(': keep-alive\n\n'), keepAliveMs);
      const end = (): void => {
        clearInterval(timer);
        unsubscribe();
        open.delete(end);
        res.end();
      };
      open.add(end);
      req.raw.on('close', end);
    },
  );
};
