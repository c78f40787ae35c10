import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ENTERPRISE_MARK_REASONS,
  enterpriseMarkDeadline,
  MarkBodySchema,
  type Mark,
  type MarkReason,
  type MarkStore,
} from '../../marks.js';
import type { Registry } from '../../registry.js';
import { scopeKind } from '../../scope.js';
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
  /** How long after an hour ends its enterprise may still mark it (config `http.enterpriseMarkHours`). */
  enterpriseMarkHours: number;
}

const HOUR = 3_600_000;

/** A mark as the API shows it: with the names of its factor, reason and flag. */
const view = (m: Mark, lang: Lang): z.output<typeof MarkSchema> => ({
  ...m,
  factorName: m.factor === null ? null : factorName(m.factor, lang),
  reasonName: markReasonName(m.reason, lang),
  flagName: flagLabel(m.flag, lang),
});

const enterpriseReasons: ReadonlySet<MarkReason> = new Set(ENTERPRISE_MARK_REASONS);

/**
 * `/stations/:mn/marks`: review marks (数据审核/标记) and their audit trail. Marking is an operator's
 * (the duty operator reviews the data of the shift; admins may too): the centre and an authority mark any
 * hour with any reason; an enterprise user (数据标记) marks its own outlets' hours with a reason of its list,
 * from the hour's start until `enterpriseMarkHours` after its end. Withdrawing is the centre's and the
 * authority's. Each mark says whose account made it. Reading is anyone's who sees the station.
 */
export const marksRoutes: FastifyPluginAsyncZod<MarksDeps> = async (
  app,
  { registry, marks, live, now, enterpriseMarkHours },
) => {
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
        // prettier-ignore
        summary:
          'the audit trail of an outlet’s review marks, oldest first: who marked or withdrew what, when and why',
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
      config: { role: 'operator' },
      schema: {
        summary:
          'mark hours of an outlet (one factor or all) with a reason: the records keep their value and flag ' +
          '(an enterprise: its own hours, within the window after each)',
        params: MnParams,
        querystring: LangQuery,
        body: MarkBodySchema,
        response: { 201: MarkSchema },
      },
    },
    async ({ params, query, body, principal }, reply) => {
      const s = stationOf(registry, params.mn);
      if (body.factor !== undefined && !(body.factor in s.factors)) throw new ApiErrors.NoFactor(body.factor, s.mn);
      const at = now();
      const party = scopeKind(principal!);
      if (party === 'enterprise') {
        if (!enterpriseReasons.has(body.reason))
          throw new ApiErrors.BadRequest(
            `body.reason: an enterprise marks with ${ENTERPRISE_MARK_REASONS.join(', ')}; ` +
              `${body.reason} is the centre's or the authority's to mark`,
          );
        const from = Date.parse(body.from);
        const to = Date.parse(body.to);
        // Hours that have not begun are a planned stop: that is a registration, reviewed before it counts.
        const begun = Math.floor(at / HOUR) * HOUR + HOUR;
        if (to > begun)
          throw new ApiErrors.BadRequest(
            `body.to: an enterprise marks hours that have begun (up to ${chinaTime(begun)}); ` +
              'register a planned stop (POST /stations/:mn/registrations)',
          );
        const deadline = enterpriseMarkDeadline(from, to, enterpriseMarkHours);
        // Marks apply to the hours starting in [from, to): one that covers none would change nothing.
        if (deadline === undefined)
          throw new ApiErrors.BadRequest(
            'body.from: the mark covers no hour (it marks the hours that start in [from, to)): give whole hours',
          );
        if (at > deadline)
          throw new ApiErrors.MarkLate(
            enterpriseMarkHours,
            chinaTime(Math.ceil(from / HOUR) * HOUR),
            chinaTime(deadline),
          );
      }
      const mark = await marks.add(s.mn, body, principal!.name, at, party);
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
