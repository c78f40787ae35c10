import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AlarmFilterSchema, type AlarmStore } from '../../alarms/store.js';
import { AckBodySchema, type AckStore } from '../acks.js';
import { ApiErrors } from '../errors.js';
import type { LiveHub } from '../live.js';
import { AckedAlarmSchema, AlarmParams, AlarmViewSchema } from '../schemas.js';

export interface AlarmsDeps {
  alarms: Pick<AlarmStore, 'list' | 'get'>;
  acks: Pick<AckStore, 'of' | 'add'>;
  live: Pick<LiveHub, 'publish'>;
}

/** `GET /alarms` with their acknowledgements, `POST /alarms/:id/ack`. */
export const alarmsRoutes: FastifyPluginAsyncZod<AlarmsDeps> = async (app, { alarms, acks, live }) => {
  app.get(
    '/alarms',
    {
      config: { role: 'read' },
      schema: {
        summary: 'alarms by station, type, state and opening time',
        querystring: AlarmFilterSchema,
        response: { 200: z.array(AlarmViewSchema) },
      },
    },
    async ({ query }) => {
      const list = alarms.list(query);
      const given = acks.of(list.map((a) => a.id));
      return list.map((a) => ({ ...a, ack: given.get(a.id) ?? null }));
    },
  );

  app.post(
    '/alarms/:id/ack',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'acknowledge an alarm with a comment',
        params: AlarmParams,
        body: AckBodySchema,
        response: { 201: AckedAlarmSchema },
      },
    },
    async ({ params, body, apiToken }, reply) => {
      const alarm = alarms.get(params.id);
      if (!alarm) throw new ApiErrors.NoAlarm(params.id);
      const ack = { by: apiToken!.name, at: Date.now(), comment: body.comment };
      acks.add(alarm.id, ack);
      live.publish({ type: 'alarm', event: 'acknowledged', alarm });
      return reply.code(201).send({ ...alarm, ack });
    },
  );
};
