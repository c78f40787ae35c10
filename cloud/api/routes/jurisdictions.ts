import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  countOf,
  JURISDICTION_COLUMNS,
  jurisdictionRows,
  totalRow,
  type JurisdictionRow,
  type OutletFacts,
} from '../../jurisdictions.js';
import type { PlanBook } from '../../plans.js';
import type { RegistrationBook } from '../../registrations.js';
import type { Registry } from '../../registry.js';
import { periodBounds } from '../../rules/rates.js';
import type { MeasurementStore } from '../../store/types.js';
import { overdue, type SupervisionBook } from '../../supervision.js';
import { visible, type Principal } from '../auth.js';
import { ReportQuery } from '../schemas.js';
import { attachment, toCsv, type Cell } from '../sheets.js';

export interface JurisdictionsDeps {
  registry: () => Registry;
  store: Pick<MeasurementStore, 'query'>;
  plans: Pick<PlanBook, 'list'>;
  registrations: Pick<RegistrationBook, 'list'>;
  supervision: Pick<SupervisionBook, 'list'>;
  now: () => number;
}

const Counts = {
  enterprises: z.number().int(),
  stations: z.number().int(),
  registered: z.number().int(),
  uploaded: z.number().int(),
  registrationsReviewed: z.number().int(),
  plansReviewed: z.number().int(),
  networking: z.object({
    full: z.number().int(),
    partial: z.number().int(),
    none: z.number().int(),
    unregistered: z.number().int(),
  }),
  supervision: z.object({ open: z.number().int(), overdue: z.number().int(), closed: z.number().int() }),
};
const JurisdictionStatsSchema = z.object({
  period: z.string(),
  from: z.number(),
  to: z.number(),
  regions: z.array(z.object({ region: z.string().nullable(), ...Counts })),
  total: z.object(Counts),
});

const HEADERS = {
  zh: ['辖区', ...JURISDICTION_COLUMNS.map(([, zh]) => zh)],
  en: ['region', ...JURISDICTION_COLUMNS.map(([, , en]) => en)],
};
const line = (name: string, r: Omit<JurisdictionRow, 'region'>): Cell[] => [
  name,
  ...JURISDICTION_COLUMNS.map(([path]) => countOf(r, path)),
];

/**
 * `GET /jurisdictions` and `/jurisdictions.csv`: per region, for a day, month, quarter or year, the counts the
 * authority follows (enterprises, outlets, registered, uploaded, reviewed, networking, supervision items).
 * The centre sees every region; an authority its own; an enterprise user is refused.
 */
export const jurisdictionsRoutes: FastifyPluginAsyncZod<JurisdictionsDeps> = async (
  app,
  { registry, store, plans, registrations, supervision, now },
) => {
  const stats = async (period: string, p: Principal | null) => {
    const { from, to } = periodBounds(period);
    const at = now();
    const stations = visible(p, registry()).stations;
    const mns = stations.map((s) => s.mn);
    const inPeriod = (t: number | undefined) => t !== undefined && t >= from && t < to;
    const [allPlans, allRegistrations, items] = await Promise.all([
      plans.list({ mns }),
      registrations.list({ mns }),
      supervision.list({ mns }),
    ]);
    const facts: OutletFacts[] = await Promise.all(
      stations.map(async (station): Promise<OutletFacts> => {
        const own = items.filter((i) => i.mn === station.mn && inPeriod(i.at));
        const open = own.filter((i) => i.state !== 'accepted');
        const hours = await store.query({ mn: station.mn, kind: 'hour', from, to, limit: 1 });
        return {
          station,
          registered: allPlans.some((x) => x.mn === station.mn && x.state === 'approved' && x.review!.at < to),
          uploaded: hours.length > 0,
          registrationsReviewed: allRegistrations.filter((r) => r.mn === station.mn && inPeriod(r.review?.at)).length,
          plansReviewed: allPlans.filter((x) => x.mn === station.mn && inPeriod(x.review?.at)).length,
          supervision: {
            open: open.length,
            overdue: open.filter((i) => overdue(i, at)).length,
            closed: own.length - open.length,
          },
        };
      }),
    );
    const regions = jurisdictionRows(facts);
    return { period, from, to, regions, total: totalRow(regions) };
  };

  app.get(
    '/jurisdictions',
    {
      config: { role: 'read', reviewer: 'statistics per jurisdiction' },
      schema: {
        summary:
          'per region, for a day, month, quarter or year: enterprises, outlets, registered, uploaded, reviewed, ' +
          'networking, supervision items',
        querystring: ReportQuery,
        response: { 200: JurisdictionStatsSchema },
      },
    },
    async ({ query, principal }) => stats(query.period, principal),
  );

  app.get(
    '/jurisdictions.csv',
    {
      config: { role: 'read', reviewer: 'statistics per jurisdiction' },
      schema: {
        summary: 'the statistics per jurisdiction as CSV (UTF-8 with BOM), a line per region and the total',
        querystring: ReportQuery,
        response: {
          200: { description: 'a line per region, then the total', content: { 'text/csv': { schema: z.string() } } },
        },
      },
    },
    async ({ query, principal }, reply) => {
      const s = await stats(query.period, principal);
      const zh = query.lang === 'zh';
      const lines = [
        ...s.regions.map((r) => line(r.region ?? (zh ? '（未划分）' : '(none)'), r)),
        line(zh ? '合计' : 'total', s.total),
      ];
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', attachment(`hj212-jurisdictions-${query.period}.csv`))
        .send(toCsv(HEADERS[query.lang], lines));
    },
  );
};
