import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Registry } from '../../registry.js';
import { ShutdownBodySchema, type ShutdownBook } from '../../shutdowns.js';
import { MnParams, ShutdownSchema } from '../schemas.js';
import { stationOf } from './station.js';

export interface ShutdownsDeps {
  registry: () => Registry;
  shutdowns: Pick<ShutdownBook, 'windows' | 'add'>;
}

/** `GET/POST /stations/:mn/shutdowns`: windows the rates leave out (停产). */
export const shutdownsRoutes: FastifyPluginAsyncZod<ShutdownsDeps> = async (app, { registry, shutdowns }) => {
  app.get(
    '/stations/:mn/shutdowns',
    {
      config: { role: 'read' },
      schema: {
        summary: 'shutdown windows (registry and registered)',
        params: MnParams,
        response: { 200: z.array(ShutdownSchema) },
      },
    },
    async ({ params }) => shutdowns.windows(stationOf(registry, params.mn)),
  );

  app.post(
    '/stations/:mn/shutdowns',
    {
      // An enterprise registers abnormal operation for review; a window in force is the authority's decision.
      config: { role: 'admin', reviewer: 'registering a shutdown window' },
      schema: {
        summary: 'register a shutdown window',
        params: MnParams,
        body: ShutdownBodySchema,
        response: { 201: ShutdownSchema },
      },
    },
    async ({ params, body }, reply) => {
      await shutdowns.add(stationOf(registry, params.mn).mn, body);
      return reply.code(201).send(body);
    },
  );
};
