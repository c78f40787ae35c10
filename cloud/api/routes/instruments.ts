import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { InstrumentBodySchema, mismatches, type InstrumentBook } from '../../instruments.js';
import type { Registry } from '../../registry.js';
import { ApiErrors } from '../errors.js';
import { InstrumentSchema, InstrumentStatusSchema, MnParams } from '../schemas.js';
import { stationOf } from './station.js';

export interface InstrumentsDeps {
  registry: () => Registry;
  instruments: Pick<InstrumentBook, 'put' | 'get' | 'history' | 'reported'>;
  /** After a registration: the analyzer's last reports checked again, so a registered change closes its alarm. */
  onRegistered: (mn: string, factor: string) => unknown;
  now: () => number;
}

const FactorParams = MnParams.extend({ factor: z.string().min(1).max(16) });

/**
 * The instrument register (仪器备案) and its dynamic control (动态管控): `GET /stations/:mn/instruments` (each
 * factor's registered analyzer beside what the logger last reported, and where they disagree),
 * `PUT /stations/:mn/instruments/:factor` (register a new version) and `…/:factor/history`.
 */
export const instrumentsRoutes: FastifyPluginAsyncZod<InstrumentsDeps> = async (
  app,
  { registry, instruments, onRegistered, now },
) => {
  app.get(
    '/stations/:mn/instruments',
    {
      config: { role: 'read' },
      schema: {
        summary: 'each factor’s registered analyzer, what the logger last reported (3019, 3020) and the differences',
        params: MnParams,
        response: { 200: z.array(InstrumentStatusSchema) },
      },
    },
    async ({ params }) => {
      const s = stationOf(registry, params.mn);
      return Promise.all(
        Object.keys(s.factors).map(async (factor) => {
          const [registered, reported] = await Promise.all([
            instruments.get(s.mn, factor),
            instruments.reported(s.mn, factor),
          ]);
          return { factor, registered: registered ?? null, reported, mismatches: mismatches(registered, reported) };
        }),
      );
    },
  );

  app.put(
    '/stations/:mn/instruments/:factor',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'register (备案) the analyzer of one factor: a new version of its entry, in force from now',
        params: FactorParams,
        body: InstrumentBodySchema,
        response: { 200: InstrumentSchema },
      },
    },
    async ({ params, body, principal }) => {
      const s = stationOf(registry, params.mn);
      if (!(params.factor in s.factors)) throw new ApiErrors.NoFactorParam(params.factor, s.mn);
      const put = await instruments.put(s.mn, params.factor, body, principal!.name, now());
      await onRegistered(s.mn, params.factor);
      return put;
    },
  );

  app.get(
    '/stations/:mn/instruments/:factor/history',
    {
      config: { role: 'read' },
      schema: {
        summary: 'every registered version of one factor’s analyzer, oldest first: who registered what, when',
        params: FactorParams,
        response: { 200: z.array(InstrumentSchema) },
      },
    },
    async ({ params }) => {
      const s = stationOf(registry, params.mn);
      if (!(params.factor in s.factors)) throw new ApiErrors.NoFactorParam(params.factor, s.mn);
      return instruments.history(s.mn, params.factor);
    },
  );
};
