import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { encodeFrame, StreamDecoder, type Packet } from '../../../protocol/index.js';
import { describeZodError, PacketSchema } from '../../../protocol/schema.js';
import type { Ingest, Verdict } from '../../ingest/ingest.js';
import type { Keys } from '../../ingest/tcp.js';
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
  ingest: Pick<Ingest, 'accept' | 'reject' | 'stats'>;
  codec: Keys;
  gauges: () => IngestGauges;
}

function verdictJson(packet: Pick<Packet, 'mn' | 'cn' | 'qn'>, v: Verdict, codec: Keys): IngestResult {
  const out: IngestResult = { ok: v.ok, mn: packet.mn, cn: packet.cn, qn: packet.qn };
  if (v.ok) out.points = v.points.length;
  else out.reason = v.reason;
  if (v.answer) out.answer = encodeFrame(v.answer, codec).trimEnd();
  return out;
}

/** HTTP ingestion (`POST /ingest/frames`, `/ingest/records`) and the ingest's counters. */
export const ingestRoutes: FastifyPluginAsyncZod<IngestDeps> = async (app, { ingest, codec, gauges }) => {
  app.get(
    '/ingest/stats',
    {
      config: { role: 'read' },
      schema: {
        summary:
          'counters of this process since it started: packets, stored, rejections by reason; connections and queues',
        response: { 200: IngestStatsSchema },
      },
    },
    async () => ({ ...ingest.stats, ...gauges(), uptimeSeconds: Math.round(process.uptime()) }),
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
    async ({ body, ip }) => {
      const decoder = new StreamDecoder({ ...codec, mode: 'lenient' });
      const results: IngestResult[] = [];
      for (const r of [...decoder.push(Buffer.from(body)), ...decoder.end()]) {
        if (!r.ok) {
          ingest.reject(r.error.code, { via: 'http', detail: r.error.message, offset: r.offset });
          results.push({ ok: false, reason: r.error.code, detail: r.error.message });
          continue;
        }
        results.push(verdictJson(r.frame.packet, await ingest.accept(r.frame.packet, 'http', ip), codec));
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
    async ({ body, ip }) => {
      const results: IngestResult[] = [];
      for (const [i, raw] of body.packets.entries()) {
        const p = PacketSchema.safeParse(raw);
        if (!p.success) {
          ingest.reject('bad-record', { via: 'http', index: i, detail: describeZodError(p.error) });
          results.push({ ok: false, reason: 'bad-record', detail: `packets.${i}: ${describeZodError(p.error)}` });
          continue;
        }
        const packet = p.data as Packet;
        results.push(verdictJson(packet, await ingest.accept(packet, 'http', ip), codec));
      }
      return { results };
    },
  );
};
