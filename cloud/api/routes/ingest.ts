import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { encodeFrame, StreamDecoder, type Packet } from '../../../protocol/index.js';
import { describeZodError, PacketSchema } from '../../../protocol/schema.js';
import type { Ingest, Verdict } from '../../ingest/ingest.js';
import type { Keys } from '../../ingest/tcp.js';
import type { Registry } from '../../registry.js';
import { scopeKind, sees } from '../../scope.js';
import type { Principal } from '../auth.js';
import { FramesBody, IngestResultsSchema, IngestStatsSchema, RecordsBody, type IngestResult } from '../schemas.js';

/** Connections and queues of this process, for `GET /ingest/stats`. */
export interface IngestGauges {
  tcpConnections?: number;
  mqttClients?: number;
  /** Points waiting for InfluxDB in the spill queue. */
  storePending?: number;
  /** Alarm events waiting for a webhook receiver. */
  webhookPending: number;
}

export interface IngestDeps {
  registry: () => Registry;
  ingest: Pick<Ingest, 'accept' | 'reject' | 'stats'>;
  codec: Keys;
  gauges: () => IngestGauges | Promise<IngestGauges>;
}

function verdictJson(packet: Pick<Packet, 'mn' | 'cn' | 'qn'>, v: Verdict, codec: Keys): IngestResult {
  const out: IngestResult = { ok: v.ok, mn: packet.mn, cn: packet.cn, qn: packet.qn };
  if (v.ok) out.points = v.points.length;
  else out.reason = v.reason;
  if (v.answer) out.answer = encodeFrame(v.answer, codec).trimEnd();
  return out;
}

/** HTTP ingestion (`POST /ingest/frames`, `/ingest/records`) and the ingest's counters. */
export const ingestRoutes: FastifyPluginAsyncZod<IngestDeps> = async (app, { registry, ingest, codec, gauges }) => {
  /**
   * A scoped token (an enterprise's own system) posts its own stations' packets only: another's is refused
   * on its own, counted and logged, and the packets around it are taken. The MN and PW still authenticate each.
   */
  const accept = async (p: Principal | null, packet: Packet, ip: string): Promise<IngestResult> => {
    const station = registry().get(packet.mn);
    if (p && scopeKind(p) !== 'centre' && station && !sees(p, station)) {
      const detail = `station ${packet.mn} is not of ${p.enterprise ?? p.region}, which ${p.name} posts for`;
      ingest.reject('out-of-scope', { mn: packet.mn, qn: packet.qn, via: 'http', who: p.name, detail });
      return { ok: false, mn: packet.mn, cn: packet.cn, qn: packet.qn, reason: 'out-of-scope', detail };
    }
    return verdictJson(packet, await ingest.accept(packet, 'http', ip), codec);
  };

  app.get(
    '/ingest/stats',
    {
      config: { role: 'read', centre: "this process's counters" },
      schema: {
        summary:
          'counters of this process since it started: packets, stored, rejections by reason; connections and queues',
        response: { 200: IngestStatsSchema },
      },
    },
    async () => ({ ...ingest.stats, ...(await gauges()), uptimeSeconds: Math.round(process.uptime()) }),
  );

  app.post(
    '/ingest/frames',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'raw HJ 212 frames (text), each authenticated by its MN and PW',
        consumes: ['text/plain'],
        body: FramesBody,
        response: { 200: IngestResultsSchema },
      },
    },
    async ({ body, ip, principal }) => {
      const decoder = new StreamDecoder({ ...codec, mode: 'lenient' });
      const results: IngestResult[] = [];
      for (const r of [...decoder.push(Buffer.from(body)), ...decoder.end()]) {
        if (!r.ok) {
          ingest.reject(r.error.code, { via: 'http', detail: r.error.message, offset: r.offset });
          results.push({ ok: false, reason: r.error.code, detail: r.error.message });
          continue;
        }
        results.push(await accept(principal, r.frame.packet, ip));
      }
      return { results };
    },
  );

  app.post(
    '/ingest/records',
    {
      config: { role: 'admin' },
      schema: {
        summary: 'HJ 212 packets as JSON (as `hj212 decode` prints them)',
        body: RecordsBody,
        response: { 200: IngestResultsSchema },
      },
    },
    async ({ body, ip, principal }) => {
      const results: IngestResult[] = [];
      for (const [i, raw] of body.packets.entries()) {
        const p = PacketSchema.safeParse(raw);
        if (!p.success) {
          ingest.reject('bad-record', { via: 'http', index: i, detail: describeZodError(p.error) });
          results.push({ ok: false, reason: 'bad-record', detail: `packets.${i}: ${describeZodError(p.error)}` });
          continue;
        }
        const packet = p.data as Packet;
        results.push(await accept(principal, packet, ip));
      }
      return { results };
    },
  );
};
