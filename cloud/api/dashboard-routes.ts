import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AckBodySchema } from './acks.js';
import { eventsRoute } from './live.js';
import { dailyReport, reportCsv } from './report.js';
import { route, type OpenApiDoc } from './route.js';
import { DayQuery, isOnline, type ApiContext } from './routes.js';

const AlarmParams = z.object({ id: z.coerce.number().int().min(1) });
const ReportQuery = DayQuery.extend({ lang: z.enum(['zh', 'en']).default('zh') });

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

  const report = (day: string) =>
    dailyReport({
      registry: ctx.registry(),
      day,
      hoursOf: (s, from, to) => ctx.store.query({ mn: s.mn, kind: 'hour', from, to, limit: 100_000 }),
      shutdowns: (s) => ctx.shutdowns.windows(s),
      now: ctx.rules.now(),
    });

  route(
    app,
    doc,
    {
      method: 'GET',
      url: '/report',
      role: 'read',
      summary: 'daily report per outlet: rates, hours missing and exceeding',
      query: ReportQuery,
    },
    async ({ query }) => ({ day: query.day, outlets: await report(query.day) }),
  );

  route(
    app,
    doc,
    {
      method: 'GET',
      url: '/report.csv',
      role: 'read',
      summary: 'the daily report as CSV (UTF-8 with BOM), headers in Chinese or English',
      query: ReportQuery,
    },
    async ({ query }, _req, reply) =>
      reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="hj212-report-${query.day}.csv"`)
        .send(reportCsv(query.day, await report(query.day), query.lang)),
  );

  eventsRoute(app, doc, ctx.live);
}
