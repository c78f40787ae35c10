import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MarkBodySchema, type Mark, type MarkStore } from '../../marks.js';
import type { Registry } from '../../registry.js';
import { ApiErrors } from '../errors.js';
import { chinaTime, factorName, flagLabel, markReasonName, type Lang } from '../labels.js';
import type { LiveHub } from '../live.js';
import { LangQuery, MarkAuditSchema, MarkParams, MarkSchema, MarksQuery, MnParams } from '../schemas.js';
import { stationOf } from './station.js';

export interface MarksDeps {
  registry: () => Registry;
  marks: MarkStore;
  live: Pick<LiveHub, 'publish'>;
  now: () => number;
}

const HOUR = 3_600_000;

/** A mark as the API shows it: with the names of its factor, reason and flag. */
const view = (m: Mark, lang: Lang): z.output<typeof MarkSchema> => ({
  ...m,
  factorName: m.factor === null ? null : factorName(m.factor, lang),
  reasonName: markReasonName(m.reason, lang),
  flagName: flagLabel(m.flag, lang),
});

/**
 * `/stations/:mn/marks`: review marks (数据审核/标记) and their audit trail. Marking is an operator's
 * (the duty operator reviews the data of the shift; admins may too) of the centre or an authority,
 * never an enterprise user (its own marks are issue 17's workflow); reading is anyone's who sees the station.
 */
export const marksRoutes: FastifyPluginAsyncZod<MarksDeps> = async (app, { registry, marks, live, now }) => {
  app.get(
    '/stations/:mn/marks',
    {
      config: { role: 'read' },
      schema: {
        summary: 'review marks in force overlapping [from, to) (all of them without a range), oldest first',
        params: MnParams,
        querystring: MarksQuery,
        response: { 200: z.array(MarkSchema) },
      },
    },
    async ({ params, query }) => {
      const s = stationOf(registry, params.mn);
      const got = await marks.active(s.mn, query.from ?? -8.64e15, query.to ?? 8.64e15);
      return got.map((m) => view(m, query.lang));
    },
  );

  app.get(
    '/stations/:mn/marks/audit',
    {
      config: { role: 'read' },
      schema: {
        summary: 'the audit trail of an outlet’s review marks, oldest first: who marked or withdrew what, when and why',
        params: MnParams,
        querystring: LangQuery,
        response: { 200: z.array(MarkAuditSchema) },
      },
    },
    async ({ params, query }) => {
      const s = stationOf(registry, params.mn);
      return (await marks.audit(s.mn)).map((a) => ({ ...a, mark: view(a.mark, query.lang) }));
    },
  );

  app.post(
    '/stations/:mn/marks',
    {
      // An enterprise's own marks go through its workflow (submitted, then reviewed): not this route.
      config: { role: 'operator', reviewer: 'marking data' },
      schema: {
        summary: 'mark hours of an outlet (one factor or all) with a reason: the records keep their value and flag',
        params: MnParams,
        querystring: LangQuery,
        body: MarkBodySchema,
        response: { 201: MarkSchema },
      },
    },
    async ({ params, query, body, principal }, reply) => {
      const s = stationOf(registry, params.mn);
      if (body.factor !== undefined && !(body.factor in s.factors)) throw new ApiErrors.NoFactor(body.factor, s.mn);
      const mark = await marks.add(s.mn, body, principal!.name, now());
      // What the outlet's pages show changed: they re-read it.
      live.publish({ type: 'data', mn: s.mn, time: mark.to - HOUR });
      return reply.code(201).send(view(mark, query.lang));
    },
  );

  app.delete(
    '/stations/:mn/marks/:id',
    {
      config: { role: 'operator', reviewer: 'withdrawing a mark' },
      schema: {
        summary: 'withdraw a review mark (it stays in the audit trail)',
        params: MarkParams,
        querystring: LangQuery,
        response: { 200: MarkSchema },
      },
    },
    async ({ params, query, principal }) => {
      const s = stationOf(registry, params.mn);
      const at = now();
      const mark = await marks.revoke(s.mn, params.id, principal!.name, at);
      if (!mark) throw new ApiErrors.NoMark(params.id, chinaTime(at));
      live.publish({ type: 'data', mn: s.mn, time: mark.to - HOUR });
      return view(mark, query.lang);
    },
  );
};
