import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { periodReport, reportCsv, reportSource, reportXlsx, type ReportDeps } from '../report.js';
import { PeriodReportSchema, ReportQuery } from '../schemas.js';
import { attachment } from '../sheets.js';
import type { Principal } from '../auth.js';

/** `GET /report`, `/report.csv` and `/report.xlsx`: the monitoring centre's day, month, quarter or year report. */
export const reportRoutes: FastifyPluginAsyncZod<ReportDeps> = async (app, deps) => {
  const report = (period: string, p: Principal | null) => periodReport(reportSource(deps, p), period);

  app.get(
    '/report',
    {
      config: { role: 'read' },
      schema: {
        summary:
          'report of a day, month, quarter or year per outlet and per enterprise: rates, ' +
          'hours missing, exceeding and back-filled, emission amounts',
        querystring: ReportQuery,
        response: { 200: PeriodReportSchema },
      },
    },
    async ({ query, principal }) => ({ [query.kind]: query.period, ...(await report(query.period, principal)) }),
  );

  app.get(
    '/report.csv',
    {
      config: { role: 'read' },
      schema: {
        summary: 'the report as CSV (UTF-8 with BOM), headers in Chinese or English',
        querystring: ReportQuery,
        // Sent as text: Fastify serializes only JSON answers, so this schema documents and does not encode.
        response: {
          200: {
            description: 'a line per outlet, then per enterprise',
            content: { 'text/csv': { schema: z.string() } },
          },
        },
      },
    },
    async ({ query, principal }, reply) => {
      const r = await report(query.period, principal);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', attachment(`hj212-report-${query.period}.csv`))
        .send(reportCsv(query.period, r.outlets, query.lang, r.enterprises));
    },
  );

  app.get(
    '/report.xlsx',
    {
      config: { role: 'read' },
      schema: {
        summary: 'the report as an Excel workbook (XLSX), headers in Chinese or English, rates in per cent',
        querystring: ReportQuery,
        response: {
          200: {
            description: 'one sheet: a line per outlet, then per enterprise',
            content: {
              'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
                schema: z.any().meta({ type: 'string', format: 'binary' }),
              },
            },
          },
        },
      },
    },
    async ({ query, principal }, reply) => {
      const r = await report(query.period, principal);
      return reply
        .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', attachment(`hj212-report-${query.period}.xlsx`))
        .send(
          await reportXlsx(query.period, r.outlets, query.lang, r.enterprises, {
            registry: deps.registry(),
            results: r.manual,
          }),
        );
    },
  );
};
