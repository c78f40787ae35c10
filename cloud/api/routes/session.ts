import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { WhoamiSchema } from '../schemas.js';

/** `GET /whoami`: the dashboard asks it after login to know which buttons to show. */
export const sessionRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/whoami',
    {
      config: { role: 'read' },
      schema: { summary: 'the name and role of the token presented', response: { 200: WhoamiSchema } },
    },
    async ({ apiToken }) => ({ name: apiToken!.name, role: apiToken!.role }),
  );
};
