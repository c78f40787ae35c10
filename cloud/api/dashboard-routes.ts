import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AckBodySchema } from './acks.js';
import { eventsRoute } from './live.js';
import { periodReport, reportCsv } from './report.js';
import { route, type OpenApiDoc } from './route.js';
import { isOnline, onePeriod, PeriodFields, periodOf, reportSource, type ApiContext } from './routes.js';

const AlarmParams = z.object({ id: z.coerce.number().int().min(1) });
const ReportQuery = PeriodFields.extend({ lang: z.enum(['zh', 'en']).default('zh') })
  .refine(...onePeriod)
  .transform((q) => ({ ...q, ...periodOf(q) }));

/** As the regulators' statistics count an enterprise: every outlet online, some, or none. */
export type Networking = 'full' | 'partial' | 'none';

/** What the monitoring-centre dashboard needs beyond the data API: who am I, summaries, acknowledgements, the report, live events. */
export function dashboardRoutes(app: FastifyInstance, doc: OpenApiDoc, ctx: ApiContext): void {
  route(
    app,
    doc,
    { method: 'GET', url: '/whoami', role: 'read', summary: 'the name and role of the token presented' },
    async (_input, req) => ({ name: req.apiToken!.name, role: req.apiToken!.role }),
  );

  route(
    app,
    doc,
    {
      method: 'GET',
      url: '/enterprises',
      role: 'read',
      summary: 'networking status per enterprise: full, partial or none of its outlets online',
    },
    async () => {
      const byName = new Map<string, { enterprise: string; outlets: number; online: number }>();
      for (const s of ctx.registry().stations) {
        const e = byName.get(s.enterprise) ?? { enterprise: s.enterprise, outlets: 0, online: 0 };
        byName.set(s.enterprise, e);
        e.outlets++;
        if (isOnline(ctx, s)) e.online++;
      }
      return [...byName.values()].map((e) => ({
        ...e,
        networking: (e.online === e.outlets ? 'full' : e.online === 0 ? 'none' : 'partial') satisfies Networking,
      }));
    },
  );

  route(
    app,
    doc,
    {
      method: 'POST',
      url: '/alarms/:id/ack',
      role: 'admin',
      summary: 'acknowledge an alarm with a comment',
      params: AlarmParams,
      body: AckBodySchema,
    },
    async ({ params, body }, req, reply) => {
      const alarm = ctx.alarms.get(params.id);
      if (!alarm) return reply.code(404).send({ error: `no alarm ${params.id}` });
      const ack = { by: req.apiToken!.name, at: Date.now(), comment: body.comment };
      ctx.acks.add(alarm.id, ack);
      ctx.live.publish({ type: 'alarm', event: 'acknowledged', alarm });
      return reply.code(201).send({ ...alarm, ack });
    },
  );

  const report = (period: string) => periodReport(reportSource(ctx), period);

  route(
    app,
    doc,
    {
      method: 'GET',
      url: '/report',
      role: 'read',
      summary:
        'report of a day or a month per outlet and per enterprise: rates, hours missing, exceeding and back-filled',
      query: ReportQuery,
    },
    async ({ query }) => ({ [query.kind]: query.period, ...(await report(query.period)) }),
  );

  route(
    app,
    doc,
    {
      method: 'GET',
      url: '/report.csv',
      role: 'read',
      summary: 'the report as CSV (UTF-8 with BOM), headers in Chinese or English',
      query: ReportQuery,
    },
    async ({ query }, _req, reply) => {
      const r = await report(query.period);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="hj212-report-${query.period}.csv"`)
        .send(reportCsv(query.period, r.outlets, query.lang, r.enterprises));
    },
  );

  eventsRoute(app, doc, ctx.live);
}
