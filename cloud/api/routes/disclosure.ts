import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { chinaDay } from '../../../protocol/time.js';
import { disclosedOutlet } from '../../disclosure.js';
import { applyMarks, type MarkStore } from '../../marks.js';
import type { PlanBook } from '../../plans.js';
import type { Registry } from '../../registry.js';
import { periodBounds } from '../../rules/rates.js';
import type { MeasurementStore } from '../../store/types.js';
import { disclosureListPage, disclosurePage, notDisclosedPage } from '../disclosure-page.js';
import { ApiErrors } from '../errors.js';
import {
  DisclosedEnterpriseSchema,
  DisclosureQuery,
  DisclosureSchema,
  EnterpriseParams,
  type DisclosureView,
} from '../schemas.js';

export interface DisclosureDeps {
  registry: () => Registry;
  store: Pick<MeasurementStore, 'query'>;
  plans: Pick<PlanBook, 'inForce' | 'results'>;
  marks: Pick<MarkStore, 'active'>;
  now: () => number;
}

/** The most records one read returns (the store's largest page): a month of one outlet's hours is far less. */
const MAX_READ = 100_000;

/**
 * Public disclosure (信息公开): per enterprise with an approved monitoring plan, the plan and the month's
 * results, as JSON (`/public/...`) and as a page for the public (`/disclosure/...`). No login: these routes
 * have no role (the rate limit per address still holds) and are registered only with `http.disclosure: true`.
 */
export const disclosureRoutes: FastifyPluginAsyncZod<DisclosureDeps> = async (
  app,
  { registry, store, plans, marks, now },
) => {
  const disclosed = async () => {
    const by = new Map<string, { enterprise: string; region?: string; outlets: number }>();
    for (const s of registry().stations) {
      if (!(await plans.inForce(s.mn))) continue;
      const e = by.get(s.enterprise) ?? { enterprise: s.enterprise, ...(s.region && { region: s.region }), outlets: 0 };
      e.outlets++;
      by.set(s.enterprise, e);
    }
    return [...by.values()];
  };

  const disclosure = async (enterprise: string, q: z.output<typeof DisclosureQuery>): Promise<DisclosureView> => {
    const month = q.month ?? chinaDay(now()).slice(0, 7);
    const { from, to } = periodBounds(month);
    // Manual results of the year up to the month's end: most manual items are due quarterly or yearly.
    const yearFrom = periodBounds(month.slice(0, 4)).from;
    const stations = registry().stations.filter((s) => s.enterprise === enterprise);
    const outlets = [];
    for (const s of stations) {
      const plan = await plans.inForce(s.mn);
      if (!plan) continue;
      const hours = applyMarks(
        await store.query({ mn: s.mn, kind: 'hour', from, to, limit: MAX_READ }),
        await marks.active(s.mn, from, to),
      );
      const days = await store.query({ mn: s.mn, kind: 'day', from, to, limit: MAX_READ });
      outlets.push(
        disclosedOutlet({
          station: s,
          plan,
          hours,
          days,
          manual: await plans.results(s.mn, yearFrom, to),
          lang: q.lang,
        }),
      );
    }
    if (outlets.length === 0) throw new ApiErrors.NotDisclosed(enterprise);
    const region = stations[0]?.region;
    return { enterprise, ...(region && { region }), month, outlets };
  };

  app.get(
    '/public/enterprises',
    {
      config: { api: true },
      schema: {
        summary: 'public (no login): the enterprises that disclose, those with an approved monitoring plan',
        response: { 200: z.array(DisclosedEnterpriseSchema) },
      },
    },
    async () => disclosed(),
  );

  app.get(
    '/public/enterprises/:enterprise',
    {
      config: { api: true },
      schema: {
        summary:
          'public (no login): an enterprise’s disclosure for a month: per outlet its approved plan, ' +
          'day values with the hours over the limit, the year’s manual results',
        params: EnterpriseParams,
        querystring: DisclosureQuery,
        response: { 200: DisclosureSchema },
      },
    },
    async ({ params, query }) => disclosure(params.enterprise, query),
  );

  // The pages for the public: server-rendered, no script, the stylesheet the dashboard serves.
  app.get('/disclosure', { schema: { querystring: DisclosureQuery.pick({ lang: true }) } }, async ({ query }, reply) =>
    page(reply, disclosureListPage(await disclosed(), query.lang)),
  );
  app.get(
    '/disclosure/:enterprise',
    { schema: { params: EnterpriseParams, querystring: DisclosureQuery } },
    async ({ params, query }, reply) => {
      let d: DisclosureView;
      try {
        d = await disclosure(params.enterprise, query);
      } catch (e) {
        if (!(e instanceof ApiErrors.NotDisclosed)) throw e;
        return page(reply.code(404), notDisclosedPage(params.enterprise, query.lang));
      }
      return page(reply, disclosurePage(d, query.lang));
    },
  );
};

function page(reply: FastifyReply, html: string): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', "default-src 'none'; style-src 'self'; frame-ancestors 'none'")
    .header('x-content-type-options', 'nosniff')
    .send(html);
}
