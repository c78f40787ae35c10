import type { FastifyInstance } from 'fastify';
import type { Clock } from '../clock.js';
import { z } from 'zod';
import {
  describeZodError,
  factor,
  PacketSchema,
  StreamDecoder,
  encodeFrame,
  type Packet,
} from '../../protocol/index.js';
import { AlarmFilterSchema, type AlarmStore } from '../alarms/store.js';
import type { Ingest, Verdict } from '../ingest/ingest.js';
import type { Keys } from '../ingest/tcp.js';
import type { Registry, Station } from '../registry.js';
import type { RuleEngine } from '../rules/engine.js';
import { dailyRates } from '../rules/rates.js';
import { ShutdownBodySchema, type ShutdownStore } from '../shutdowns.js';
import { KindSchema, type MeasurementStore, type Point } from '../store/types.js';
import type { AckStore } from './acks.js';
import type { LiveHub } from './live.js';
import { route, type OpenApiDoc } from './route.js';

/** What the API reads and writes. */
export interface ApiContext {
  registry: () => Registry;
  store: MeasurementStore;
  alarms: AlarmStore;
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
      station(ctx, params.mn);
      const q: Parameters<MeasurementStore['query']>[0] = {
        mn: params.mn,
        kind: query.kind,
        from: query.from,
        to: query.to,
        limit: query.limit,
      };
      if (query.factor !== undefined) q.factor = query.factor;
      return ctx.store.query(q);
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
      summary: 'daily transmission, validity and effectiveness rates per factor',
      params: MnParams,
      query: DayQuery,
    },
    async ({ params, query }) => {
      const s = station(ctx, params.mn);
      const dayStart = Date.parse(`${query.day}T00:00:00+08:00`);
      const hours = await ctx.store.query({
        mn: s.mn,
        kind: 'hour',
        from: dayStart,
        to: dayStart + 86_400_000,
        limit: 100_000,
      });
      return {
        mn: s.mn,
        outlet: s.outlet,
        day: query.day,
        factors: dailyRates({ dayStart, factors: Object.keys(s.factors), hours, shutdowns: ctx.shutdowns.windows(s) }),
      };
    },
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
