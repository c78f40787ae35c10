import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AlarmReader } from '../../alarms/store.js';
import type { Registry } from '../../registry.js';
import { scopeKind } from '../../scope.js';
import {
  overdue,
  STEP_NEEDS,
  SUPERVISION_ACTIONS,
  SUPERVISION_KINDS,
  SUPERVISION_STATES,
  SupervisionAnswerSchema,
  SupervisionReviewSchema,
  SupervisionSendSchema,
  type SupervisionItem,
  type SupervisionKind,
  type SupervisionBook,
  type SupervisionSubject,
} from '../../supervision.js';
import { assertSees, visibleMns, type Principal } from '../auth.js';
import { ApiErrors } from '../errors.js';
import type { LiveHub } from '../live.js';
import { AlarmParams } from '../schemas.js';
import { stationOf } from './station.js';
import { AttachmentResponse, sendAttachment } from '../attachments.js';

export interface SupervisionDeps {
  registry: () => Registry;
  supervision: SupervisionBook;
  alarms: Pick<AlarmReader, 'get'>;
  live: Pick<LiveHub, 'publish'>;
  now: () => number;
}

const Party = z.enum(['centre', 'authority', 'enterprise']);
const StepSchema = z.object({
  action: z.enum(SUPERVISION_ACTIONS),
  state: z.enum(SUPERVISION_STATES),
  by: z.string(),
  party: Party,
  at: z.number(),
  comment: z.string(),
  reason: z.string().optional(),
  measures: z.string().optional(),
  attachments: z.array(z.object({ id: z.number().int(), name: z.string(), bytes: z.number().int() })).optional(),
});
export const SupervisionItemSchema = z.object({
  id: z.number().int(),
  mn: z.string(),
  enterprise: z.string(),
  outlet: z.string(),
  kind: z.enum(Object.keys(SUPERVISION_KINDS) as [SupervisionKind, ...SupervisionKind[]]),
  /** 超标 or 数据缺失. */
  kindName: z.string(),
  alarmId: z.number().int().optional(),
  factor: z.string().optional(),
  from: z.number(),
  to: z.number().optional(),
  deadline: z.number(),
  request: z.string(),
  state: z.enum(SUPERVISION_STATES),
  /** Not accepted by its deadline (at the time of the answer). */
  overdue: z.boolean(),
  by: z.string(),
  at: z.number(),
  /** Every change of state, oldest first: who, from which side, when, and what was said. */
  steps: z.array(StepSchema),
});
type ItemView = z.output<typeof SupervisionItemSchema>;

const ListQuery = z.object({
  state: z.enum(SUPERVISION_STATES).optional(),
  /** true: only the items past their deadline and not accepted. */
  overdue: z.enum(['true', 'false']).optional(),
  mn: z.string().min(1).optional(),
});
const AttachmentParams = AlarmParams.extend({ n: z.coerce.number().int().min(1) });

/** Which alarms become which kind of item. */
const ALARM_KINDS: Partial<Record<string, SupervisionKind>> = {
  exceedance: 'exceedance',
  'missing-hour': 'dataGap',
  offline: 'dataGap',
};

const scopeText = (p: Principal): string =>
  p.enterprise !== undefined
    ? `enterprise ${p.enterprise}`
    : p.region !== undefined
      ? `region ${p.region}`
      : 'the centre';

/**
 * Electronic supervision (电子督办): `POST /supervision` (the centre or the station's authority sends an
 * exceedance or a data gap with a deadline), `GET /supervision` (what the account sees; `overdue=true`: the
 * overdue list), `GET /supervision/:id` (the item with its steps), `POST /supervision/:id/answer` (the
 * station's enterprise: reason, measures, attachments), `POST /supervision/:id/review` (accept: closed;
 * return: answered again), `GET /supervision/:id/attachments/:n`.
 */
export const supervisionRoutes: FastifyPluginAsyncZod<SupervisionDeps> = async (
  app,
  { registry, supervision, alarms, live, now },
) => {
  /** The item's pages re-read it. */
  const changed = (i: SupervisionItem): SupervisionItem => {
    live.publish({ type: 'supervision', mn: i.mn, id: i.id, state: i.state });
    return i;
  };
  const view = (i: SupervisionItem, at: number): ItemView => {
    const s = registry().get(i.mn);
    return {
      ...i,
      enterprise: s?.enterprise ?? '',
      outlet: s?.outlet ?? '',
      kindName: SUPERVISION_KINDS[i.kind],
      overdue: overdue(i, at),
    };
  };
  /** The item, refused when its station is not the principal's to see. */
  const itemOf = async (id: number, p: Principal): Promise<SupervisionItem> => {
    const item = await supervision.get(id);
    if (!item) throw new ApiErrors.NoSupervision(id);
    const station = registry().get(item.mn);
    if (station) assertSees(p, station);
    return item;
  };

  app.post(
    '/supervision',
    {
      config: { role: 'operator', reviewer: 'sending a supervision item' },
      schema: {
        summary:
          'send an exceedance or a data gap (an alarm, or a station and a period) to the enterprise ' +
          'as a supervision item (督办) with a deadline',
        body: SupervisionSendSchema,
        response: { 201: SupervisionItemSchema },
      },
    },
    async ({ body, principal }, reply) => {
      const at = now();
      let subject: SupervisionSubject;
      if (body.alarmId !== undefined) {
        const alarm = await alarms.get(body.alarmId);
        if (!alarm) throw new ApiErrors.NoAlarm(body.alarmId);
        const kind = ALARM_KINDS[alarm.type];
        if (!kind)
          throw new ApiErrors.BadRequest(
            `body.alarmId: alarm ${alarm.id} is of type ${alarm.type}: ` +
              'an item is sent for an exceedance, missing-hour or offline alarm',
          );
        const station = registry().get(alarm.mn);
        if (station) assertSees(principal!, station);
        const open = await supervision.openForAlarm(alarm.id);
        if (open !== undefined) throw new ApiErrors.SupervisionExists(alarm.id, open);
        subject = {
          mn: alarm.mn,
          kind,
          alarmId: alarm.id,
          ...(alarm.factor !== undefined && { factor: alarm.factor }),
          from: alarm.openedAt,
          ...(alarm.closedAt !== undefined && { to: alarm.closedAt }),
        };
      } else {
        const s = stationOf(registry, body.mn!);
        assertSees(principal!, s);
        if (body.factor !== undefined && !(body.factor in s.factors)) throw new ApiErrors.NoFactor(body.factor, s.mn);
        subject = {
          mn: s.mn,
          kind: body.kind!,
          ...(body.factor !== undefined && { factor: body.factor }),
          from: Date.parse(body.from!),
          to: Date.parse(body.to!),
        };
      }
      const deadline = Date.parse(body.deadline);
      if (deadline <= at) throw new ApiErrors.BadRequest('body.deadline: a deadline is later than now');
      const item = await supervision.send(subject, deadline, body.request, principal!.name, scopeKind(principal!), at);
      return reply.code(201).send(view(changed(item), at));
    },
  );

  app.get(
    '/supervision',
    {
      config: { role: 'read' },
      schema: {
        summary:
          'supervision items of the stations the account sees, oldest first ' +
          '(overdue=true: past the deadline and not accepted)',
        querystring: ListQuery,
        response: { 200: z.array(SupervisionItemSchema) },
      },
    },
    async ({ query, principal }) => {
      const at = now();
      const seen = visibleMns(principal, registry());
      const mns = query.mn === undefined ? seen : seen === undefined || seen.includes(query.mn) ? [query.mn] : [];
      return (await supervision.list({ ...(mns && { mns }), ...(query.state && { state: query.state }) }))
        .map((i) => view(i, at))
        .filter((i) => query.overdue === undefined || i.overdue === (query.overdue === 'true'));
    },
  );

  app.get(
    '/supervision/:id',
    {
      config: { role: 'read' },
      schema: {
        summary: 'a supervision item with every step: who sent, answered, returned or accepted it, and when',
        params: AlarmParams,
        response: { 200: SupervisionItemSchema },
      },
    },
    async ({ params, principal }) => view(await itemOf(params.id, principal!), now()),
  );

  app.post(
    '/supervision/:id/answer',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'the enterprise answers a sent or returned item: the cause, the measures, attachments (base64)',
        params: AlarmParams,
        body: SupervisionAnswerSchema,
        response: { 200: SupervisionItemSchema },
      },
    },
    async ({ params, body, principal }) => {
      const item = await itemOf(params.id, principal!);
      if (scopeKind(principal!) !== 'enterprise')
        throw new ApiErrors.EnterpriseOnly(
          `answering a supervision item is the enterprise's; ${principal!.name} is of ${scopeText(principal!)}`,
        );
      const at = now();
      const out = await supervision.answer(item.id, body, principal!.name, 'enterprise', at);
      if (out === 'not-found') throw new ApiErrors.NoSupervision(item.id);
      if (out === 'wrong-state')
        throw new ApiErrors.SupervisionState(item.id, (await supervision.get(item.id))!.state, STEP_NEEDS.answer);
      return view(changed(out), at);
    },
  );

  app.post(
    '/supervision/:id/review',
    {
      config: { role: 'operator', reviewer: 'reviewing a supervision answer' },
      schema: {
        summary:
          'accept an answered item (it is closed) or return it (the enterprise answers again; a comment says why)',
        params: AlarmParams,
        body: SupervisionReviewSchema,
        response: { 200: SupervisionItemSchema },
      },
    },
    async ({ params, body, principal }) => {
      const item = await itemOf(params.id, principal!);
      if (body.decision === 'return' && body.comment === '')
        throw new ApiErrors.BadRequest('body.comment: say why it is returned');
      const at = now();
      const out = await supervision.review(item.id, body, principal!.name, scopeKind(principal!), at);
      if (out === 'not-found') throw new ApiErrors.NoSupervision(item.id);
      if (out === 'wrong-state')
        throw new ApiErrors.SupervisionState(
          item.id,
          (await supervision.get(item.id))!.state,
          STEP_NEEDS[body.decision],
        );
      return view(changed(out), at);
    },
  );

  app.get(
    '/supervision/:id/attachments/:n',
    {
      config: { role: 'read' },
      schema: {
        summary: 'an attachment of an answer, as uploaded',
        params: AttachmentParams,
        response: AttachmentResponse,
      },
    },
    async ({ params, principal }, reply) => {
      const item = await itemOf(params.id, principal!);
      const file = await supervision.attachment(item.id, params.n);
      if (!file) throw new ApiErrors.NoSupervisionAttachment(item.id, params.n);
      return sendAttachment(reply, file);
    },
  );
};
