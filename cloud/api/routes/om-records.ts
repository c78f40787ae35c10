import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { dataFlag } from '../../../protocol/index.js';
import { OM_TYPES, OmRecordBodySchema, unexplained, type OmRecord, type OmRecordBook } from '../../om-records.js';
import type { Registry } from '../../registry.js';
import type { ShutdownBook } from '../../shutdowns.js';
import type { MeasurementStore } from '../../store/types.js';
import { ApiErrors } from '../errors.js';
import { MnParams, OmRecordSchema, TimeSchema, UnexplainedSchema, type OmRecordView } from '../schemas.js';
import { stationOf } from './station.js';

export interface OmRecordsDeps {
  registry: () => Registry;
  omRecords: Pick<OmRecordBook, 'add' | 'list'>;
  store: Pick<MeasurementStore, 'query'>;
  shutdowns: Pick<ShutdownBook, 'windows'>;
  now: () => number;
}

const RangeQuery = z
  .object({ from: TimeSchema, to: TimeSchema })
  .refine((q) => q.from < q.to, { message: 'to is after from', path: ['to'] })
  .refine((q) => q.to - q.from <= 366 * 86_400_000, { message: 'ask for at most 366 days', path: ['to'] });

/** The most hour records one check reads: a year of hours of 10 factors. */
const MAX_READ = 100_000;

/**
 * O&M records (运维记录): `POST` and `GET /stations/:mn/om-records`, and `GET /stations/:mn/unexplained`, the
 * flagged hours (C, M, D, F) no record and no shutdown window explains, for review. The O&M company files
 * records with the enterprise's account (it works for the enterprise); the centre may too.
 */
export const omRecordsRoutes: FastifyPluginAsyncZod<OmRecordsDeps> = async (
  app,
  { registry, omRecords, store, shutdowns, now },
) => {
  const view = (r: OmRecord): OmRecordView => ({ ...r, typeName: OM_TYPES[r.type] });

  app.post(
    '/stations/:mn/om-records',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'file an O&M record (inspection, repair, standard check with its reading, calibration …)',
        params: MnParams,
        body: OmRecordBodySchema,
        response: { 201: OmRecordSchema },
      },
    },
    async ({ params, body, principal }, reply) => {
      const s = stationOf(registry, params.mn);
      if (body.factor !== undefined && !(body.factor in s.factors)) throw new ApiErrors.NoFactor(body.factor, s.mn);
      return reply.code(201).send(view(await omRecords.add(s.mn, body, principal!.name, now())));
    },
  );

  app.get(
    '/stations/:mn/om-records',
    {
      config: { role: 'read' },
      schema: {
        summary: 'O&M records overlapping [from, to), oldest first',
        params: MnParams,
        querystring: RangeQuery,
        response: { 200: z.array(OmRecordSchema) },
      },
    },
    async ({ params, query }) =>
      (await omRecords.list(stationOf(registry, params.mn).mn, query.from, query.to)).map(view),
  );

  app.get(
    '/stations/:mn/unexplained',
    {
      config: { role: 'read' },
      schema: {
        summary:
          'hours of [from, to) flagged C, M, D or F that no O&M record and no shutdown window explains, oldest first',
        params: MnParams,
        querystring: RangeQuery,
        response: { 200: z.array(UnexplainedSchema) },
      },
    },
    async ({ params, query }) => {
      const s = stationOf(registry, params.mn);
      const hours = await store.query({ mn: s.mn, kind: 'hour', from: query.from, to: query.to, limit: MAX_READ });
      return unexplained(hours, await omRecords.list(s.mn, query.from, query.to), await shutdowns.windows(s)).map(
        (u) => ({
          ...u,
          flagName: dataFlag(u.flag)?.name ?? u.flag,
        }),
      );
    },
  );
};
