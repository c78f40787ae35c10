import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  REGISTRATION_REASONS,
  REGISTRATION_STATES,
  RegistrationBodySchema,
  ReviewBodySchema,
  type Registration,
  type RegistrationBook,
} from '../../registrations.js';
import type { Registry } from '../../registry.js';
import { assertSees, visibleMns } from '../auth.js';
import { ApiErrors } from '../errors.js';
import type { LiveHub } from '../live.js';
import { AlarmParams, MnParams, RegistrationSchema, type RegistrationView } from '../schemas.js';
import { stationOf } from './station.js';

export interface RegistrationsDeps {
  registry: () => Registry;
  registrations: Pick<RegistrationBook, 'submit' | 'get' | 'list' | 'review'>;
  live: Pick<LiveHub, 'publish'>;
  now: () => number;
}

const ListQuery = z.object({ state: z.enum(REGISTRATION_STATES).optional() });

/**
 * Abnormal-operation registration (不正常运行登记): `POST /stations/:mn/registrations` (an enterprise, or the
 * centre on its behalf, submits a period and a reason), `GET /stations/:mn/registrations`, `GET /registrations`
 * (the review queue of what the account sees) and `POST /registrations/:id/review` (the authority or the
 * centre approves or rejects; an approved one becomes a shutdown window the missing hours and rates honour).
 */
export const registrationsRoutes: FastifyPluginAsyncZod<RegistrationsDeps> = async (
  app,
  { registry, registrations, live, now },
) => {
  const view = (r: Registration): RegistrationView => {
    const s = registry().get(r.mn);
    return {
      ...r,
      enterprise: s?.enterprise ?? '',
      outlet: s?.outlet ?? '',
      reasonName: REGISTRATION_REASONS[r.reason],
    };
  };

  app.post(
    '/stations/:mn/registrations',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'register abnormal operation of an outlet (a period and a reason), for the authority to review',
        params: MnParams,
        body: RegistrationBodySchema,
        response: { 201: RegistrationSchema },
      },
    },
    async ({ params, body, principal }, reply) => {
      const s = stationOf(registry, params.mn);
      return reply.code(201).send(view(await registrations.submit(s.mn, body, principal!.name, now())));
    },
  );

  app.get(
    '/stations/:mn/registrations',
    {
      config: { role: 'read' },
      schema: {
        summary: 'an outlet’s registrations, oldest period first, each submitted, approved or rejected',
        params: MnParams,
        querystring: ListQuery,
        response: { 200: z.array(RegistrationSchema) },
      },
    },
    async ({ params, query }) => {
      const s = stationOf(registry, params.mn);
      return (await registrations.list({ mns: [s.mn], ...(query.state && { state: query.state }) })).map(view);
    },
  );

  app.get(
    '/registrations',
    {
      config: { role: 'read' },
      schema: {
        summary: 'registrations of the stations the account sees (state=submitted: the review queue)',
        querystring: ListQuery,
        response: { 200: z.array(RegistrationSchema) },
      },
    },
    async ({ query, principal }) => {
      const mns = visibleMns(principal, registry());
      return (await registrations.list({ ...(mns && { mns }), ...(query.state && { state: query.state }) })).map(view);
    },
  );

  app.post(
    '/registrations/:id/review',
    {
      config: { role: 'operator', reviewer: 'reviewing a registration' },
      schema: {
        summary: 'approve or reject a submitted registration (a comment is required to reject)',
        params: AlarmParams,
        body: ReviewBodySchema,
        response: { 200: RegistrationSchema },
      },
    },
    async ({ params, body, principal }) => {
      const r = await registrations.get(params.id);
      if (!r) throw new ApiErrors.NoRegistration(params.id);
      const station = registry().get(r.mn);
      if (station) assertSees(principal!, station);
      const out = await registrations.review(params.id, body, principal!.name, now());
      if (out === 'not-found') throw new ApiErrors.NoRegistration(params.id);
      if (out === 'already-reviewed') throw new ApiErrors.Reviewed(r.id, r.state, r.review?.by ?? '');
      if (out === 'no-comment') throw new ApiErrors.BadRequest('body.comment: say why it is rejected');
      // An approved period changes the outlet's missing hours and rates: its pages re-read them.
      if (out.state === 'approved') live.publish({ type: 'data', mn: out.mn, time: Date.parse(out.to) });
      return view(out);
    },
  );
};
