import type { FastifyInstance } from 'fastify';
import type { AgentHealth } from './agent/index.js';
import { presentHealth } from './report.js';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Whether the box is doing its job: every uplink connected, every device answering, every record stored. */
export function healthy(h: AgentHealth): boolean {
  return (
    Object.values(h.uplinks).every((u) => u.state === 'connected') &&
    Object.values(h.devices).every((d) => d.failures === 0) &&
    h.storage.unsavedRecords === 0
  );
}

/**
 * A small local HTTP endpoint for the integrator's laptop and monitoring: GET /health answers 200
 * when all is well and 503 otherwise, with uplink states, outbox depths and the last read per device.
 */
export async function startHealthServer(
  health: () => AgentHealth,
  host: string,
  port: number,
  /** Local times and readings at their decimals, for people; without it, epoch milliseconds and raw values. */
  view?: { utcOffsetMinutes: number; decimals: ReadonlyMap<string, number> },
): Promise<HealthServer> {
  // Fastify (about 5 MB resident) is loaded only by a box whose configuration asks for the endpoint.
  const { default: Fastify } = await import('fastify');
  const app: FastifyInstance = Fastify({ logger: false });
  app.get('/health', async (_req, reply) => {
    const h = health();
    const body = view ? presentHealth(h, view.utcOffsetMinutes, view.decimals) : h;
    return reply.code(healthy(h) ? 200 : 503).send({ ok: healthy(h), ...body });
  });
  await app.listen({ host, port });
  const address = app.server.address();
  return { port: typeof address === 'object' && address ? address.port : port, close: () => app.close() };
}
