import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { applyMarks, type MarkStore } from '../../marks.js';
import type { Registry } from '../../registry.js';
import type { PlanBook } from '../../plans.js';
import type { MeasurementStore } from '../../store/types.js';
import { HISTORY_KIND_NAMES, historySheet, historyTable, manualPoint } from '../history.js';
import { HistoryExportQuery, HistoryPageSchema, HistoryQuery, MnParams } from '../schemas.js';
import { attachment, toCsv, toXlsx } from '../sheets.js';
import { stationOf } from './station.js';

export interface HistoryDeps {
  registry: () => Registry;
  store: Pick<MeasurementStore, 'query'>;
  marks: Pick<MarkStore, 'active'>;
  /** Manual results (手工监测), shown as the kind `manual`. */
  plans: Pick<PlanBook, 'results'>;
}

/** The most records one read returns (the store's largest page). */
const MAX_READ = 100_000;

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** `GET /stations/:mn/history` (a page of the table) and `.csv` / `.xlsx` (the whole range). */
export const historyRoutes: FastifyPluginAsyncZod<HistoryDeps> = async (app, { registry, store, marks, plans }) => {
  const read = async (mn: string, q: z.output<typeof HistoryExportQuery>) => {
    const s = stationOf(registry, mn);
    if (q.kind === 'manual') {
      const results = (await plans.results(s.mn, q.from, q.to)).slice(0, MAX_READ);
      return { s, table: historyTable(s, results.map(manualPoint), q.lang), truncated: results.length === MAX_READ };
    }
    const points = await store.query({ mn: s.mn, kind: q.kind, from: q.from, to: q.to, limit: MAX_READ });
    // Hours show the review marks in force, each with the flag the record came with.
    const marked = q.kind === 'hour' ? applyMarks(points, await marks.active(s.mn, q.from, q.to)) : points;
    return { s, table: historyTable(s, marked, q.lang), truncated: points.length === MAX_READ };
  };

  app.get(
    '/stations/:mn/history',
    {
      config: { role: 'read' },
      schema: {
        summary:
          'history table of one data kind over [from, to) (or kind=manual: the manual results with their method): ' +
          'a row per DataTime, newest first, one page of them',
        params: MnParams,
        querystring: HistoryQuery,
        response: { 200: HistoryPageSchema },
      },
    },
    async ({ params, query }) => {
      const { s, table, truncated } = await read(params.mn, query);
      const start = (query.page - 1) * query.pageSize;
      return {
        mn: s.mn,
        kind: query.kind,
        from: query.from,
        to: query.to,
        page: query.page,
        pageSize: query.pageSize,
        total: table.rows.length,
        truncated,
        columns: table.columns,
        rows: table.rows.slice(start, start + query.pageSize),
      };
    },
  );

  const file = (ext: 'csv' | 'xlsx', type: string, summary: string) =>
    app.get(
      `/stations/:mn/history.${ext}`,
      {
        config: { role: 'read' },
        schema: {
          summary,
          params: MnParams,
          querystring: HistoryExportQuery,
          // Sent as a file: Fastify serializes only JSON answers, so this schema documents and does not encode.
          response: {
            200: {
              description: 'a line per DataTime, newest first',
              content: {
                [type]: { schema: ext === 'csv' ? z.string() : z.any().meta({ type: 'string', format: 'binary' }) },
              },
            },
          },
        },
      },
      async ({ params, query }, reply) => {
        const { s, table } = await read(params.mn, query);
        const sheet = historySheet(table, query.lang);
        const name = `hj212-history-${s.mn}-${query.kind}.${ext}`;
        const body =
          ext === 'csv'
            ? toCsv(sheet.header, sheet.lines)
            : await toXlsx([
                { name: `${s.outlet} ${HISTORY_KIND_NAMES[query.kind][query.lang === 'en' ? 1 : 0]}`, ...sheet },
              ]);
        return reply.header('content-type', type).header('content-disposition', attachment(name)).send(body);
      },
    );
  file(
    'csv',
    'text/csv; charset=utf-8',
    'history table as CSV (UTF-8 with BOM), China time, headers in Chinese or English',
  );
  file('xlsx', XLSX, 'history table as an Excel workbook (XLSX)');
};
