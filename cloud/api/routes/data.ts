import { O2_CODE } from '../../../protocol/codes/factors.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BackfillReader } from '../../alarms/backfills.js';
import type { Ingest } from '../../ingest/ingest.js';
import type { Registry } from '../../registry.js';
import { judgeAll } from '../../rules/judge.js';
import type { MeasurementStore, Point } from '../../store/types.js';
import { ApiErrors } from '../errors.js';
import { DataPointSchema, DataQuery, ManualBody, MnParams, StoredSchema, type DataPoint } from '../schemas.js';
import { stationOf } from './station.js';

/** Oxygen content (HJ 212-2017 table B.2): a gas value is judged on the O2 of its own upload. */
const O2 = O2_CODE;

export interface DataDeps {
  registry: () => Registry;
  store: Pick<MeasurementStore, 'query'>;
  backfills: BackfillReader;
  ingest: Pick<Ingest, 'store'>;
}

/** `GET /stations/:mn/data` (stored points, judged) and `POST` (manual entry, flag S). */
export const dataRoutes: FastifyPluginAsyncZod<DataDeps> = async (app, { registry, store, backfills, ingest }) => {
  app.get(
    '/stations/:mn/data',
    {
      config: { role: 'read' },
      schema: {
        summary: 'measurements by factor, kind and time range [from, to)',
        params: MnParams,
        querystring: DataQuery,
        response: { 200: z.array(DataPointSchema) },
      },
    },
    async ({ params, query }) => {
      const s = stationOf(registry, params.mn);
      const range = { mn: params.mn, kind: query.kind, from: query.from, to: query.to };
      const points = await store.query({
        ...range,
        limit: query.limit,
        ...(query.factor !== undefined && { factor: query.factor }),
      });
      // A gas value is judged on the O2 of its own upload: read it too when only one factor is asked for.
      const needsO2 = query.factor !== undefined && query.factor !== O2 && s.type === 'gas' && s.o2Ref !== undefined;
      const o2 = needsO2 ? await store.query({ ...range, factor: O2, limit: query.limit }) : [];
      const judged = judgeAll(s, [...points, ...o2]);
      const late = new Map(
        query.kind === 'hour'
          ? (await backfills.list(s.mn, query.from, query.to)).map((b) => [`${b.factor}|${b.time}`, b])
          : [],
      );
      return points.map((p, i): DataPoint => {
        const d: DataPoint = { ...p };
        const j = judged[i];
        if (j) d.judged = j;
        const b = late.get(`${p.factor}|${p.time}`);
        if (b) d.backfilled = { arrivedAt: b.arrivedAt, closedAlarm: b.closedAlarm };
        return d;
      });
    },
  );

  app.post(
    '/stations/:mn/data',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'manual data entry (stored with flag S)',
        params: MnParams,
        body: ManualBody,
        response: { 201: StoredSchema },
      },
    },
    async ({ params, body }, reply) => {
      const s = stationOf(registry, params.mn);
      const time = Date.parse(body.time);
      const points: Point[] = Object.entries(body.factors).map(([factor, values]) => ({
        mn: s.mn,
        factor,
        kind: body.kind,
        time,
        values,
        flag: 'S',
        outlet: s.outlet,
      }));
      if (!(await ingest.store(s, points, undefined, 'http'))) throw new ApiErrors.StoreRefused();
      return reply.code(201).send({ stored: points.length });
    },
  );
};
