import type { FastifyInstance } from 'fastify';
import type { Clock } from '../clock.js';
import { z } from 'zod';
import { factor, StreamDecoder, encodeFrame, type Packet } from '../../protocol/index.js';
import { describeZodError, PacketSchema } from '../../protocol/schema.js';
import { O2_CODE as O2 } from '../../protocol/codes/factors.js';
import type { BackfillStore } from '../alarms/backfills.js';
import { AlarmFilterSchema, type AlarmStore } from '../alarms/store.js';
import type { Ingest, Verdict } from '../ingest/ingest.js';
import type { Keys } from '../ingest/tcp.js';
import type { Registry, Station } from '../registry.js';
import type { RuleEngine } from '../rules/engine.js';
import { judgeAll, type Judgement } from '../rules/judge.js';
import { periodBounds } from '../rules/rates.js';
import { ShutdownBodySchema, type ShutdownStore } from '../shutdowns.js';
import { KindSchema, type MeasurementStore, type Point } from '../store/types.js';
import type { AckStore } from './acks.js';
import type { LiveHub } from './live.js';
import { outletPeriod, periodReport, stationRates, type ReportSource } from './report.js';
import { route, type OpenApiDoc } from './route.js';

/** What the API reads and writes. */
export interface ApiContext {
  registry: () => Registry;
  store: MeasurementStore;
  alarms: AlarmStore;
  backfills: BackfillStore;
  rules: RuleEngine;
  ingest: Ingest;
  shutdowns: ShutdownStore;
  codec: Keys;
  live: LiveHub;
  acks: AckStore;
  /** Connections and queues of this process, for `GET /ingest/stats`. */
  gauges: () => IngestGauges;
  /** The service's clocks (rate limits run on `mono`); default the system's. */
  clock?: Clock;
}

export interface IngestGauges {
  tcpConnections?: number;
  mqttClients?: number;
  /** Points waiting for InfluxDB in the spill queue. */
  storePending?: number;
  /** Alarm events waiting for a webhook receiver. */
  webhookPending: number;
}

/** A stored point as the data API returns it: with how it is judged and whether it came late. */
export interface DataPoint extends Point {
  /** Against the factor's limit (converted for gas): the same judgement the alarms are raised on. */
  judged?: Judgement;
  /** An hour that arrived after it was due (补传), and whether its arrival closed a missing-hour alarm. */
  backfilled?: { arrivedAt: number; closedAlarm: boolean };
}

/** Heard from within the station's offline threshold. */
export function isOnline(ctx: Pick<ApiContext, 'rules'>, s: Station): boolean {
  const seen = ctx.rules.lastSeen(s.mn);
  // Last-seen times are on the rules' clock, which a demo runs warped: compare on the same clock.
  return seen !== undefined && ctx.rules.now() - seen.at <= s.offlineMinutes * 60_000;
}

/** Epoch milliseconds, or an ISO 8601 time with its zone. */
const Time = z.union([z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)), z.coerce.number().int()]);
const MnParams = z.object({ mn: z.string().min(1) });
const DataQuery = z.object({
  factor: z.string().optional(),
  kind: KindSchema.default('hour'),
  from: Time,
  to: Time,
  limit: z.coerce.number().int().min(1).max(100_000).default(10_000),
});
export const DayQuery = z.object({ day: z.iso.date('day is YYYY-MM-DD (local, UTC+8)') });
/** A local day or a local month: one of them (see PeriodQuery). */
export const PeriodFields = z.object({
  day: z.iso.date('day is YYYY-MM-DD (local, UTC+8)').optional(),
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'month is YYYY-MM (local, UTC+8)')
    .optional(),
});
type PeriodInput = { day?: string | undefined; month?: string | undefined };
export const onePeriod: [(q: PeriodInput) => boolean, { message: string; path: string[] }] = [
  (q) => (q.day === undefined) !== (q.month === undefined),
  { message: 'give day=YYYY-MM-DD or month=YYYY-MM, not both', path: ['day'] },
];
export const periodOf = (q: PeriodInput): { period: string; kind: 'day' | 'month' } => ({
  period: (q.day ?? q.month)!,
  kind: q.day !== undefined ? 'day' : 'month',
});
export const PeriodQuery = PeriodFields.refine(...onePeriod).transform((q) => ({ ...q, ...periodOf(q) }));

/** What the rates and the report read, on the rules' clock. */
export function reportSource(ctx: ApiContext): ReportSource {
  const now = ctx.rules.now();
  return {
    registry: ctx.registry(),
    hoursOf: (s, from, to) => ctx.store.query({ mn: s.mn, kind: 'hour', from, to, limit: 100_000 }),
    shutdowns: (s) => ctx.shutdowns.windows(s),
    since: (s) => ctx.rules.monitoredSince(s, now),
    backfills: (s, from, to) => ctx.backfills.list(s.mn, from, to),
    rules: { manualCountsValid: ctx.rules.options.manualCountsValid },
    now,
  };
}
const ManualBody = z.object({
  kind: KindSchema,
  time: z.iso.datetime({ offset: true }),
  factors: z.record(
    z.string().regex(/^[a-z]\d{5}$|^[a-z]\d{2}[a-z0-9]{3}$/),
    z.record(z.string().regex(/^[A-Za-z]+$/), z.number()),
  ),
});
const RecordsBody = z.object({ packets: z.array(z.unknown()).min(1).max(1000) });

function station(ctx: ApiContext, mn: string): Station {
  const s = ctx.registry().get(mn);
  if (!s) throw Object.assign(new Error(`no station with MN ${mn} in the registry`), { statusCode: 404 });
  return s;
}

function verdictJson(packet: Pick<Packet, 'mn' | 'cn' | 'qn'>, v: Verdict, codec: Keys): Record<string, unknown> {
  const out: Record<string, unknown> = { ok: v.ok, mn: packet.mn, cn: packet.cn, qn: packet.qn };
  if (v.ok) out['points'] = v.points.length;
  else out['reason'] = v.reason;
  if (v.answer) out['answer'] = encodeFrame(v.answer, codec).trimEnd();
  return out;
}

/** Stations, data, rates, alarms, shutdown windows, manual entry and HTTP ingestion. */
export function apiRoutes(app: FastifyInstance, doc: OpenApiDoc, ctx: ApiContext): void {
  route(app, doc, { method: 'GET', url: '/stations', role: 'read', summary: 'stations with live status' }, async () =>
    ctx.registry().stations.map((s) => {
      const seen = ctx.rules.lastSeen(s.mn);
      return {
        mn: s.mn,
        enterprise: s.enterprise,
        outlet: s.outlet,
        type: s.type,
        factors: Object.keys(s.factors),
        limits: Object.fromEntries(
          Object.entries(s.factors).map(([code, f]) => [
            code,
            {
              name: factor(code)?.name ?? code,
              nameEn: factor(code)?.nameEn ?? code,
              unit: f.unit,
              upper: f.upper,
              lower: f.lower,
            },
          ]),
        ),
        lastSeen: seen ? new Date(seen.at).toISOString() : null,
        via: seen?.via ?? null,
        online: isOnline(ctx, s),
        offlineMinutes: s.offlineMinutes,
        openAlarms: ctx.alarms.list({ mn: s.mn, state: 'open' }).length,
        latest: ctx.live.values(s.mn),
      };
    }),
  );

  route(
    app,
    doc,
    {
      method: 'GET',
      url: '/stations/:mn/data',
      role: 'read',
      summary: 'measurements by factor, kind and time range [from, to)',
      params: MnParams,
      query: DataQuery,
    },
    async ({ params, query }) => {
      const s = station(ctx, params.mn);
      const range = { mn: params.mn, kind: query.kind, from: query.from, to: query.to };
      const points = await ctx.store.query({
        ...range,
        limit: query.limit,
        ...(query.factor !== undefined && { factor: query.factor }),
      });
      // A gas value is judged on the O2 of its own upload: read it too when only one factor is asked for.
      const needsO2 = query.factor !== undefined && query.factor !== O2 && s.type === 'gas' && s.o2Ref !== undefined;
      const o2 = needsO2 ? await ctx.store.query({ ...range, factor: O2, limit: query.limit }) : [];
      const judged = judgeAll(s, [...points, ...o2]);
      const late = new Map(
        query.kind === 'hour'
          ? ctx.backfills.list(s.mn, query.from, query.to).map((b) => [`${b.factor}|${b.time}`, b])
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

  route(
    app,
    doc,
    {
      method: 'POST',
      url: '/stations/:mn/data',
      role: 'admin',
      summary: 'manual data entry (stored with flag S)',
      params: MnParams,
      body: ManualBody,
    },
    async ({ params, body }, _req, reply) => {
      const s = station(ctx, params.mn);
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
      if (!(await ctx.ingest.store(s, points, undefined, 'http')))
        return reply.code(503).send({ error: 'the store refused the data; try again' });
      return reply.code(201).send({ stored: points.length });
    },
  );

  route(
    app,
    doc,
    {
      method: 'GET',
      url: '/stations/:mn/rates',
      role: 'read',
      summary:
        'transmission, validity and effectiveness rates of a day or a month, per assessed factor and for the outlet',
      params: MnParams,
      query: PeriodQuery,
    },
    async ({ params, query }) => {
      const s = station(ctx, params.mn);
      const src = reportSource(ctx);
      const { from, to } = periodBounds(query.period);
      const since = await src.since(s);
      const opts = {
        station: s,
        from,
        to,
        now: src.now,
        ...(since !== undefined && { since }),
        hours: await src.hoursOf(s, from, to),
        shutdowns: src.shutdowns(s),
        rules: src.rules,
      };
      return {
        mn: s.mn,
        enterprise: s.enterprise,
        outlet: s.outlet,
        [query.kind]: query.period,
        outletRates: outletPeriod({ ...opts, backfills: src.backfills(s, from, to) }),
        factors: stationRates(opts),
      };
    },
  );

  route(
    app,
    doc,
    {
      method: 'GET',
      url: '/rates',
      role: 'read',
      summary: 'rates of a day or a month per outlet and per enterprise',
      query: PeriodQuery,
    },
    async ({ query }) => ({ [query.kind]: query.period, ...(await periodReport(reportSource(ctx), query.period)) }),
  );

  route(
    app,
    doc,
    {
      method: 'GET',
      url: '/stations/:mn/shutdowns',
      role: 'read',
      summary: 'shutdown windows (registry and registered)',
      params: MnParams,
    },
    async ({ params }) => ctx.shutdowns.windows(station(ctx, params.mn)),
  );

  route(
    app,
    doc,
    {
      method: 'POST',
      url: '/stations/:mn/shutdowns',
      role: 'admin',
      summary: 'register a shutdown window',
      params: MnParams,
      body: ShutdownBodySchema,
    },
    async ({ params, body }, _req, reply) => {
      ctx.shutdowns.add(station(ctx, params.mn).mn, body);
      return reply.code(201).send(body);
    },
  );

  route(
    app,
    doc,
    {
      method: 'GET',
      url: '/ingest/stats',
      role: 'read',
      summary:
        'counters of this process since it started: packets, stored, rejections by reason; connections and queues',
    },
    async () => ({
      ...ctx.ingest.stats,
      ...ctx.gauges(),
      uptimeSeconds: Math.round(process.uptime()),
    }),
  );
  route(
    app,
    doc,
    {
      method: 'GET',
      url: '/alarms',
      role: 'read',
      summary: 'alarms by station, type, state and opening time',
      query: AlarmFilterSchema,
    },
    async ({ query }) => {
      const alarms = ctx.alarms.list(query);
      const acks = ctx.acks.of(alarms.map((a) => a.id));
      return alarms.map((a) => ({ ...a, ack: acks.get(a.id) ?? null }));
    },
  );

  route(
    app,
    doc,
    {
      method: 'POST',
      url: '/ingest/frames',
      role: 'admin',
      summary: 'raw HJ 212 frames (text), each authenticated by its MN and PW',
      body: z.string().min(1),
      bodyType: 'text/plain',
    },
    async ({ body }, req) => {
      const decoder = new StreamDecoder({ ...ctx.codec, mode: 'lenient' });
      const results: Record<string, unknown>[] = [];
      for (const r of [...decoder.push(Buffer.from(body)), ...decoder.end()]) {
        if (!r.ok) {
          ctx.ingest.reject(r.error.code, { via: 'http', detail: r.error.message, offset: r.offset });
          results.push({ ok: false, reason: r.error.code, detail: r.error.message });
          continue;
        }
        results.push(verdictJson(r.frame.packet, await ctx.ingest.accept(r.frame.packet, 'http', req.ip), ctx.codec));
      }
      return { results };
    },
  );

  route(
    app,
    doc,
    {
      method: 'POST',
      url: '/ingest/records',
      role: 'admin',
      summary: 'HJ 212 packets as JSON (as `hj212 decode` prints them)',
      body: RecordsBody,
    },
    async ({ body }, req) => {
      const results: Record<string, unknown>[] = [];
      for (const [i, raw] of body.packets.entries()) {
        const p = PacketSchema.safeParse(raw);
        if (!p.success) {
          ctx.ingest.reject('bad-record', { via: 'http', index: i, detail: describeZodError(p.error) });
          results.push({ ok: false, reason: 'bad-record', detail: `packets.${i}: ${describeZodError(p.error)}` });
          continue;
        }
        const packet = p.data as Packet;
        results.push(verdictJson(packet, await ctx.ingest.accept(packet, 'http', req.ip), ctx.codec));
      }
      return { results };
    },
  );
}
