import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { parseCsv } from '../../csv-import.js';
import {
  CSV_HEADER,
  itemCompletion,
  parseManualCsv,
  type ManualResult,
  type ManualResultBody,
  type Plan,
  ManualResultBodySchema,
  PLAN_STATES,
  PlanBodySchema,
  planProblem,
  subPeriods,
  type PlanBook,
} from '../../plans.js';
import { ReviewBodySchema } from '../../registrations.js';
import type { Registry } from '../../registry.js';
import { assertSees, visibleMns } from '../auth.js';
import { ApiErrors } from '../errors.js';
import { pdfFont, planPdf } from '../plan-pdf.js';
import { attachment as disposition } from '../sheets.js';
import {
  AlarmParams,
  ManualImportSchema,
  ManualResultSchema,
  MnParams,
  PlanCompletionSchema,
  PlanSchema,
  TimeSchema,
} from '../schemas.js';
import { stationOf } from './station.js';
import { AttachmentSchema } from '../../attachments.js';
import { AttachmentResponse, sendAttachment } from '../attachments.js';

export interface PlansDeps {
  registry: () => Registry;
  plans: PlanBook;
  now: () => number;
  /** A CJK font file for the PDF export (config `http.pdfFont`); absent, the system's (plan-pdf.ts). */
  pdfFont?: string;
}

const ListQuery = z.object({ state: z.enum(PLAN_STATES).optional() });
const RangeQuery = z.object({ from: TimeSchema, to: TimeSchema });
const YearQuery = z.object({ year: z.coerce.number().int().min(2000).max(2100) });

/**
 * Monitoring plans (自行监测方案) and manual results: an enterprise submits a plan for an outlet, the authority
 * or the centre reviews it, the newest approved one is in force; manual results are entered against it and
 * counted per due period (手工监测完成率).
 */
export const plansRoutes: FastifyPluginAsyncZod<PlansDeps> = async (
  app,
  { registry, plans, now, pdfFont: configuredFont },
) => {
  const planOf = async (id: number, p: Parameters<typeof assertSees>[0]): Promise<Plan> => {
    const plan = await plans.get(id);
    if (!plan) throw new ApiErrors.NoPlan(id);
    const station = registry().get(plan.mn);
    if (station) assertSees(p, station);
    return plan;
  };

  /** Enters one result of a manual item of the plan in force, or throws the API error saying why not. */
  const enter = async (mn: string, plan: Plan, body: ManualResultBody, by: string): Promise<ManualResult> => {
    const item = plan.items.find((i) => i.factor === body.factor);
    if (!item || item.mode !== 'manual') throw new ApiErrors.NotManual(body.factor, plan.id);
    const time = Date.parse(body.time);
    if (time > now())
      throw new ApiErrors.BadRequest('body.time: a sample is taken before it is entered, not in the future');
    const r = await plans.addResult({
      mn,
      factor: body.factor,
      time,
      value: body.value,
      method: item.method,
      methodSource: item.methodSource,
      lab: body.lab,
      note: body.note,
      planId: plan.id,
      by,
      at: now(),
    });
    if (r === 'duplicate') throw new ApiErrors.ResultExists(body.factor, body.time);
    return r;
  };

  app.post(
    '/stations/:mn/plans',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'submit a monitoring plan for an outlet: automatic and manual items, for the authority to review',
        params: MnParams,
        body: PlanBodySchema,
        response: { 201: PlanSchema },
      },
    },
    async ({ params, body, principal }, reply) => {
      const s = stationOf(registry, params.mn);
      const problem = planProblem(body, Object.keys(s.factors));
      if (problem) throw new ApiErrors.BadRequest(`body.${problem}`);
      return reply.code(201).send(await plans.submit(s.mn, body, principal!.name, now()));
    },
  );

  app.get(
    '/stations/:mn/plans',
    {
      config: { role: 'read' },
      schema: {
        summary: 'an outlet’s plans, oldest first',
        params: MnParams,
        querystring: ListQuery,
        response: { 200: z.array(PlanSchema) },
      },
    },
    async ({ params, query }) =>
      await plans.list({ mns: [stationOf(registry, params.mn).mn], ...(query.state && { state: query.state }) }),
  );

  app.get(
    '/stations/:mn/plan',
    {
      config: { role: 'read' },
      schema: {
        summary: 'the plan in force at an outlet (the newest approved)',
        params: MnParams,
        response: { 200: PlanSchema },
      },
    },
    async ({ params }) => {
      const s = stationOf(registry, params.mn);
      const plan = await plans.inForce(s.mn);
      if (!plan) throw new ApiErrors.NoPlanInForce(s.mn);
      return plan;
    },
  );

  app.get(
    '/plans',
    {
      config: { role: 'read' },
      schema: {
        summary: 'plans of the stations the account sees (state=submitted: the review queue)',
        querystring: ListQuery,
        response: { 200: z.array(PlanSchema) },
      },
    },
    async ({ query, principal }) => {
      const mns = visibleMns(principal, registry());
      return await plans.list({ ...(mns && { mns }), ...(query.state && { state: query.state }) });
    },
  );

  app.post(
    '/plans/:id/review',
    {
      config: { role: 'operator', reviewer: 'reviewing a monitoring plan' },
      schema: {
        summary: 'approve or reject a submitted plan (a comment is required to reject)',
        params: AlarmParams,
        body: ReviewBodySchema,
        response: { 200: PlanSchema },
      },
    },
    async ({ params, body, principal }) => {
      const plan = await planOf(params.id, principal!);
      if (body.decision === 'reject' && body.comment === '')
        throw new ApiErrors.BadRequest('body.comment: say why it is rejected');
      const out = await plans.review(
        plan.id,
        body.decision === 'approve' ? 'approved' : 'rejected',
        principal!.name,
        now(),
        body.comment,
      );
      if (out === 'not-submitted') throw new ApiErrors.PlanReviewed(plan.id, plan.state);
      return out;
    },
  );

  app.put(
    '/plans/:id/attachment',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'attach the signed plan (a scan, PDF or image, base64)',
        params: AlarmParams,
        body: AttachmentSchema,
        response: { 200: PlanSchema },
      },
    },
    async ({ params, body, principal }) => {
      const plan = await planOf(params.id, principal!);
      await plans.attach(plan.id, body.name, Buffer.from(body.base64, 'base64'));
      return (await plans.get(plan.id))!;
    },
  );

  app.get(
    '/plans/:id/attachment',
    {
      config: { role: 'read' },
      schema: {
        summary: 'the signed plan as uploaded',
        params: AlarmParams,
        response: AttachmentResponse,
      },
    },
    async ({ params, principal }, reply) => {
      const plan = await planOf(params.id, principal!);
      const file = await plans.attachment(plan.id);
      if (!file) throw new ApiErrors.NoAttachment(plan.id);
      return sendAttachment(reply, file);
    },
  );

  app.get(
    '/plans/:id/pdf',
    {
      config: { role: 'read' },
      schema: {
        summary: 'the plan as a printable PDF, to sign, stamp and upload back as its attachment',
        params: AlarmParams,
        querystring: z.object({ lang: z.enum(['zh', 'en']).default('zh') }),
        response: {
          200: {
            description: 'the plan, A4',
            content: { 'application/pdf': { schema: z.any().meta({ type: 'string', format: 'binary' }) } },
          },
        },
      },
    },
    async ({ params, query, principal }, reply) => {
      const plan = await planOf(params.id, principal!);
      const station = stationOf(registry, plan.mn);
      const font = pdfFont(configuredFont);
      if (font === undefined) throw new ApiErrors.NoPdfFont();
      const pdf = await planPdf({ plan, station, lang: query.lang, font, now: now() });
      return reply
        .header('content-type', 'application/pdf')
        .header('content-disposition', disposition(`hj212-plan-${plan.id}-${plan.mn}.pdf`))
        .send(pdf);
    },
  );

  app.post(
    '/stations/:mn/manual-results',
    {
      config: { role: 'operator' },
      schema: {
        summary: 'enter a manual monitoring result (手工监测) of a manual item of the plan in force',
        params: MnParams,
        body: ManualResultBodySchema,
        response: { 201: ManualResultSchema },
      },
    },
    async ({ params, body, principal }, reply) => {
      const s = stationOf(registry, params.mn);
      const plan = await plans.inForce(s.mn);
      if (!plan) throw new ApiErrors.NoPlanInForce(s.mn);
      return reply.code(201).send(await enter(s.mn, plan, body, principal!.name));
    },
  );

  // A laboratory's sheet of results, a line each; the lines that check are entered, the others listed.
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.post(
    '/stations/:mn/manual-results.csv',
    {
      config: { role: 'operator' },
      schema: {
        summary:
          `import manual results from CSV (UTF-8; header ${CSV_HEADER} or factor,time,value,lab,note): ` +
          'each line entered as one by hand, those refused listed by line',
        params: MnParams,
        consumes: ['text/csv', 'text/plain'],
        body: z.string().min(1, 'give the CSV text, a header line then a line per result'),
        response: { 200: ManualImportSchema },
      },
    },
    async ({ params, body, principal }) => {
      const s = stationOf(registry, params.mn);
      const plan = await plans.inForce(s.mn);
      if (!plan) throw new ApiErrors.NoPlanInForce(s.mn);
      const parsed = parseManualCsv(parseCsv(body));
      if (typeof parsed === 'string') throw new ApiErrors.BadRequest(`body: ${parsed}`);
      const imported: ManualResult[] = [];
      const rejected = parsed.rejected.map((r) => ({ ...r, code: 'API_BAD_REQUEST' }));
      for (const { line, body: row } of parsed.bodies) {
        try {
          imported.push(await enter(s.mn, plan, row, principal!.name));
        } catch (e) {
          const err = e as { code?: string; message: string };
          // The single entry's message names body.FIELD; in a sheet the field is a column of the line.
          rejected.push({ line, code: err.code ?? 'API_BAD_REQUEST', message: err.message.replace(/^body\./, '') });
        }
      }
      rejected.sort((a, b) => a.line - b.line);
      return { imported, rejected };
    },
  );

  app.get(
    '/stations/:mn/manual-results',
    {
      config: { role: 'read' },
      schema: {
        summary: 'manual results sampled in [from, to), oldest first, with their method',
        params: MnParams,
        querystring: RangeQuery,
        response: { 200: z.array(ManualResultSchema) },
      },
    },
    async ({ params, query }) => await plans.results(stationOf(registry, params.mn).mn, query.from, query.to),
  );

  app.get(
    '/stations/:mn/plan/completion',
    {
      config: { role: 'read' },
      schema: {
        // prettier-ignore
        summary:
          'manual monitoring completion (手工监测完成率) of the plan in force over a year, per manual item',
        params: MnParams,
        querystring: YearQuery,
        response: { 200: PlanCompletionSchema },
      },
    },
    async ({ params, query }) => {
      const s = stationOf(registry, params.mn);
      const plan = await plans.inForce(s.mn);
      if (!plan) throw new ApiErrors.NoPlanInForce(s.mn);
      const [from, to] = subPeriods(query.year, 'year') as [number, number];
      const results = await plans.results(s.mn, from, to);
      const items = plan.items.flatMap((i) =>
        i.mode === 'manual'
          ? [
              itemCompletion(
                i,
                query.year,
                plan.review!.at,
                now(),
                results.filter((r) => r.factor === i.factor).map((r) => r.time),
              ),
            ]
          : [],
      );
      const required = items.reduce((n, i) => n + i.required, 0);
      const done = items.reduce((n, i) => n + i.done, 0);
      return {
        mn: s.mn,
        year: query.year,
        planId: plan.id,
        items,
        required,
        done,
        rate: required ? done / required : null,
      };
    },
  );
};
