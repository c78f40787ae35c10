import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AlarmFilterSchema, type AlarmReader } from '../../alarms/store.js';
import { AckBodySchema, FollowUpBodySchema, type AckBook, type FollowUpBook } from '../acks.js';
import { alarmEvents } from '../alarm-events.js';
import { assertSees, visibleMns, type Principal } from '../auth.js';
import { ApiErrors } from '../errors.js';
import type { LiveHub } from '../live.js';
import type { Registry } from '../../registry.js';
import { AckedAlarmSchema, AlarmEventSchema, AlarmParams, AlarmViewSchema, FollowUpSchema } from '../schemas.js';

export interface AlarmsDeps {
  registry: () => Registry;
  alarms: AlarmReader;
  acks: AckBook;
  followUps: FollowUpBook;
  live: Pick<LiveHub, 'publish'>;
}

/**
 * `GET /alarms` (episodes) and `GET /alarm-events` (one row per event) with their acknowledgements,
 * `POST /alarms/:id/ack`, and the follow-up trail: `POST` and `GET /alarms/:id/follow-ups`.
 */
export const alarmsRoutes: FastifyPluginAsyncZod<AlarmsDeps> = async (
  app,
  { registry, alarms, acks, followUps, live },
) => {
  /** The alarm of a route's `:id`, if the principal sees its station. */
  const alarmOf = async (id: number, p: Principal | null) => {
    const alarm = await alarms.get(id);
    if (!alarm) throw new ApiErrors.NoAlarm(id);
    const station = registry().get(alarm.mn);
    if (p && station) assertSees(p, station);
    return alarm;
  };

  app.get(
    '/alarm-events',
    {
      config: { role: 'read' },
      schema: {
        summary: 'alarm events, newest first: a missing hour is one event listing its factors; with ack and follow-ups',
        querystring: AlarmFilterSchema,
        response: { 200: z.array(AlarmEventSchema) },
      },
    },
    // The state is an event's (open while any of its factors is), so episodes are read without it.
    async ({ query: { state, ...filter }, principal }) => {
      const list = await alarms.list(filter, visibleMns(principal, registry()));
      const ids = list.map((a) => a.id);
      const [given, trails] = await Promise.all([acks.of(ids), followUps.of(ids)]);
      return alarmEvents(
        list,
        () => given,
        () => trails,
        state,
      );
    },
  );

  app.post(
    '/alarms/:id/follow-ups',
    {
      config: { role: 'operator', reviewer: 'following up an alarm' },
      schema: {
        summary: 'set the follow-up state of an alarm (notified: 已通知企业, handled: 已处理) with a comment',
        params: AlarmParams,
        body: FollowUpBodySchema,
        response: { 201: z.array(FollowUpSchema) },
      },
    },
    async ({ params, body, principal }, reply) => {
      const alarm = await alarmOf(params.id, principal);
      await followUps.add(alarm.id, { by: principal!.name, at: Date.now(), state: body.state, comment: body.comment });
      live.publish({ type: 'alarm', event: 'followed-up', alarm });
      return reply.code(201).send((await followUps.of([alarm.id])).get(alarm.id) ?? []);
    },
  );

  app.get(
    '/alarms/:id/follow-ups',
    {
      config: { role: 'read' },
      schema: {
        summary: 'the follow-up trail of an alarm, oldest change first: who, when, state, comment',
        params: AlarmParams,
        response: { 200: z.array(FollowUpSchema) },
      },
    },
    async ({ params, principal }) => {
      await alarmOf(params.id, principal);
      return (await followUps.of([params.id])).get(params.id) ?? [];
    },
  );

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
    async ({ query, principal }) => {
      const list = await alarms.list(query, visibleMns(principal, registry()));
      const given = await acks.of(list.map((a) => a.id));
      return list.map((a) => ({ ...a, ack: given.get(a.id) ?? null }));
    },
  );

  app.post(
    '/alarms/:id/ack',
    {
      config: { role: 'operator', reviewer: 'acknowledging an alarm' },
      schema: {
        summary: 'acknowledge an alarm with a comment',
        params: AlarmParams,
        body: AckBodySchema,
        response: { 201: AckedAlarmSchema },
      },
    },
    async ({ params, body, principal }, reply) => {
      const alarm = await alarmOf(params.id, principal);
      const ack = { by: principal!.name, at: Date.now(), comment: body.comment };
      await acks.add(alarm.id, ack);
      live.publish({ type: 'alarm', event: 'acknowledged', alarm });
      return reply.code(201).send({ ...alarm, ack });
    },
  );
};
