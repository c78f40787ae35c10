import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Registry } from '../../registry.js';
import { scopeKind, sees } from '../../scope.js';
import type { LiveEvent, LiveHub } from '../live.js';

export interface EventsDeps {
  registry: () => Registry;
  live: Pick<LiveHub, 'subscribe'>;
  keepAliveMs?: number;
}

/**
 * `GET /events`: server-sent events over a plain response, so the browser reads it with fetch and
 * its Authorization header (EventSource cannot send one, and a token in the URL would end up in logs).
 */
export const eventsRoutes: FastifyPluginAsyncZod<EventsDeps> = async (
  app,
  { registry, live, keepAliveMs = 15_000 },
) => {
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
      // A scoped account hears its own stations only; the set is read per event, so a registry reload applies.
      const p = req.principal;
      const hears = (e: LiveEvent): boolean => {
        if (!p || scopeKind(p) === 'centre') return true;
        const station = registry().get(e.type === 'alarm' ? e.alarm.mn : e.mn);
        return station !== undefined && sees(p, station);
      };
      const unsubscribe = live.subscribe((e) => {
        if (hears(e)) res.write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      });
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
