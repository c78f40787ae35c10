import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { periodBounds } from '../../rules/rates.js';
import { outletPeriod, periodReport, reportSource, stationRates, type ReportDeps } from '../report.js';
import { MnParams, PeriodQuery, PeriodReportSchema, StationRatesSchema } from '../schemas.js';
import { stationOf } from './station.js';

/**
 * `GET /stations/:mn/rates` and `GET /rates`: transmission, validity and effectiveness rates
 * (HJ 75-2017, HJ 355-2019).
 */
export const ratesRoutes: FastifyPluginAsyncZod<ReportDeps> = async (app, deps) => {
  app.get(
    '/stations/:mn/rates',
    {
      config: { role: 'read' },
      schema: {
        summary:
          'transmission, validity and effectiveness rates of a day or a month, per assessed factor and for the outlet',
        params: MnParams,
        querystring: PeriodQuery,
        response: { 200: StationRatesSchema },
      },
    },
    async ({ params, query }) => {
      const s = stationOf(deps.registry, params.mn);
      const src = reportSource(deps);
      const { from, to } = periodBounds(query.period);
      const since = await src.since(s);
      const opts = {
        station: s,
        from,
        to,
        now: src.now,
        ...(since !== undefined && { since }),
        hours: await src.hoursOf(s, from, to),
        stopped: await src.stoppedOf(s, from, to),
        shutdowns: await src.shutdowns(s),
        rules: src.rules,
      };
      return {
        mn: s.mn,
        enterprise: s.enterprise,
        outlet: s.outlet,
        [query.kind]: query.period,
        outletRates: outletPeriod({ ...opts, backfills: await src.backfills(s, from, to) }),
        factors: stationRates(opts),
      };
    },
  );

  app.get(
    '/rates',
    {
      config: { role: 'read' },
      schema: {
        summary: 'rates of a day or a month per outlet and per enterprise',
        querystring: PeriodQuery,
        response: { 200: PeriodReportSchema },
      },
    },
    async ({ query, principal }) => ({
      [query.kind]: query.period,
      ...(await periodReport(reportSource(deps, principal), query.period)),
    }),
  );
};
