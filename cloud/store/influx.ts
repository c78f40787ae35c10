import type { Logger } from 'pino';
import { z } from 'zod';
import { fromLine, lineRuns, quote } from './line-protocol.js';
import { loggable } from '../redact.js';
import { SpillIndex } from './spill-index.js';
import { legacySpillLines, removeLegacySpill } from './spill-legacy.js';
import { firstLines, SpillLog } from './spill-log.js';
import { SpillWriter } from './spill-writer.js';
import { PointQuerySchema, type MeasurementStore, type Point, type PointQuery } from './types.js';

export const InfluxOptionsSchema = z
  .strictObject({
    type: z.literal('influxdb'),
    url: z.url('url is the InfluxDB HTTP address, e.g. http://127.0.0.1:8086'),
    /** 1.x database; with 2.x/3.x, the database name mapped to the bucket (DBRP) of the v1 API. */
    database: z.string().min(1),
    /** 1.x authentication. */
    username: z.string().optional(),
    password: z.string().optional(),
    /** 2.x/3.x token authentication. */
    token: z.string().optional(),
    /**
     * Where points wait until InfluxDB has them: the spill log, in the directory `<spillPath>.log`. A SQLite
     * spill queue an earlier version left at `spillPath` itself is moved into the log at start.
     */
    spillPath: z.string().default('hj212-spill.db'),
    /** Points the spill queue may hold; past it uploads go unanswered so loggers keep and resend them. */
    maxSpill: z.number().int().min(1).default(1_000_000),
    batchSize: z.number().int().min(1).max(50_000).default(5000),
    flushIntervalMs: z.number().int().min(10).default(200),
    timeoutMs: z.number().int().min(100).default(10_000),
  })
  .refine((o) => o.token === undefined || o.username === undefined, {
    message: 'give either token (2.x/3.x) or username/password (1.x), not both',
    path: ['token'],
  });
export type InfluxOptions = z.output<typeof InfluxOptionsSchema>;

type Series = { name: string; columns: string[]; values: unknown[][] };
type QueryResponse = { results?: { series?: Series[]; error?: string }[]; error?: string };

const TAGS = new Set(['time', 'mn', 'factor', 'outlet', 'flag']);

/** Test hooks: a small segment size shows rotation without writing 8 MB. */
export interface InfluxTuning {
  segmentBytes?: number;
}

/**
 * InfluxDB behind the store interface, over the v1 HTTP API (`/write`, `/query`) that 1.x serves
 * natively and 2.x/3.x serve for compatibility, so one code path covers all three. A write is
 * durable once its lines are fsynced in the local spill log (`spill-log.ts`); one flusher sends the
 * log's bytes to InfluxDB in order, as they are in the file, and the log drops a segment once
 * InfluxDB has acknowledged all of it, so an outage delays points and loses none. After a crash the
 * unsent tail of the log is sent again (InfluxDB keeps one point per series and time).
 */
export class InfluxStore implements MeasurementStore {
  private readonly log: SpillLog;
  private readonly index = new SpillIndex();
  private readonly writer: SpillWriter;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Batches are sent one at a time: they are the log's bytes in order, and each starts where the last ended. */
  private sending: Promise<unknown> = Promise.resolve();
  private failures = 0;
  private closed = false;
  private spilled = 0;
  /** Bytes a batch reads: about batchSize lines, learnt from the lines seen. */
  private lineBytes = 128;

  constructor(
    private readonly o: InfluxOptions,
    private readonly logger: Logger,
    tuning: InfluxTuning = {},
  ) {
    this.log = new SpillLog(`${o.spillPath}.log`, {
      ...(tuning.segmentBytes !== undefined && { segmentBytes: tuning.segmentBytes }),
      onDrop: (seq) => this.index.drop(seq),
    });
    // What an earlier run left unsent: counted and indexed line by line (a run of one line each).
    for (const { seq, offset, bytes } of this.log.unsent()) this.indexLines(seq, offset, bytes);
    this.writer = new SpillWriter(this.log, this.index, (n) => (this.spilled += n));
    const legacy = legacySpillLines(o.spillPath);
    if (legacy !== undefined) {
      if (legacy !== '') {
        const at = this.log.append(legacy);
        this.log.syncNow();
        this.indexLines(at.seq, at.offset, Buffer.from(legacy));
      }
      removeLegacySpill(o.spillPath);
    }
    // A spill left by the last run goes out at once; an empty one arms nothing until the first write.
    if (this.spilled > 0) this.schedule(0);
  }

  /** Points waiting for InfluxDB. */
  get pending(): number {
    return this.spilled;
  }

  async write(points: readonly Point[]): Promise<void> {
    if (this.pending + points.length > this.o.maxSpill) {
      throw new Error(`spill queue full (${this.o.maxSpill} points) while InfluxDB is unreachable`);
    }
    await this.writer.add(lineRuns(points));
    if (this.failures === 0) this.schedule(this.o.flushIntervalMs);
  }

  /** Moves everything spilled to InfluxDB now; rejects if InfluxDB refuses. */
  async flush(): Promise<void> {
    // Nothing on disk to send while lines are pending: their fsync failed; one more, or fail here.
    while (this.pending > 0) if ((await this.flushBatch()).lines === 0) this.log.syncNow();
  }

  async query(input: PointQuery): Promise<Point[]> {
    const q = PointQuerySchema.parse(input);
    // Read your writes: the spilled lines are read before InfluxDB is asked, so a segment the flusher
    // sends (and deletes) while InfluxDB answers is in one or the other, never in neither.
    const spilled = this.index
      .find(q.mn, q.kind, q.from, q.to)
      .map((r) => this.log.readNow(r.seq, r.offset, r.length).toString());
    const where = [`"mn" = ${quote(q.mn)}`, `time >= ${q.from}ms`, `time < ${q.to}ms`];
    if (q.factor !== undefined) where.push(`"factor" = ${quote(q.factor)}`);
    const res = await this.request('/query', {
      q: `SELECT * FROM "${q.kind}" WHERE ${where.join(' AND ')} LIMIT ${q.limit}`,
      epoch: 'ms',
    });
    const body = (await res.json()) as QueryResponse;
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (error !== undefined) throw new Error(`InfluxDB query failed: ${error}`);
    const byKey = new Map<string, Point>();
    for (const s of body.results?.[0]?.series ?? [])
      for (const row of s.values) {
        const p = fromRow(q.kind, s.columns, row);
        byKey.set(`${p.time}|${p.factor}`, p);
      }
    // The log is newer than InfluxDB, and its later lines newer than its earlier ones.
    for (const text of spilled)
      for (const line of text.split('\n')) {
        if (line === '') continue;
        const p = fromLine(line);
        if (q.factor === undefined || p.factor === q.factor) byKey.set(`${p.time}|${p.factor}`, p);
      }
    return [...byKey.values()]
      .sort((a, b) => a.time - b.time || (a.factor < b.factor ? -1 : a.factor > b.factor ? 1 : 0))
      .slice(0, q.limit);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.writer.flush();
    await this.flushing;
    await this.sending;
    this.log.close();
  }

  /** Counts and indexes the lines of `bytes`, read from segment `seq` at `offset`. */
  private indexLines(seq: number, offset: number, bytes: Buffer): void {
    for (let start = 0; start < bytes.length;) {
      const end = bytes.indexOf(10, start) + 1;
      const p = fromLine(bytes.toString('utf8', start, end - 1));
      this.index.add(seq, p.mn, p.kind, p.time, offset + start, end - start);
      this.spilled++;
      start = end;
    }
  }

  /**
   * Arms the one flusher. While a drain runs, nothing more is armed: its loop takes whatever is written
   * meanwhile, and when it ends it re-arms itself (at once, or after a back-off if InfluxDB failed).
   */
  private schedule(ms: number): void {
    if (this.closed || this.timer !== undefined || this.flushing !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.drain().then((full) => {
        this.flushing = undefined;
        // After a short batch the next waits flushIntervalMs for more lines: a POST (and an InfluxDB WAL
        // fsync) per fsync of ours would share the disk with the fsyncs the 9014s wait for.
        if (this.pending > 0)
          this.schedule(this.failures > 0 ? backoffMs(this.failures) : full ? 0 : this.o.flushIntervalMs);
      });
    }, ms);
  }

  /** Sends full batches while there are; whether the last one was full (more may be waiting). */
  private async drain(): Promise<boolean> {
    try {
      let full = true;
      while (!this.closed && full) full = (await this.flushBatch()).full;
      if (this.failures > 0)
        this.logger.info(
          { store: 'influxdb', url: loggable(this.o.url) },
          'InfluxDB reachable again; spill queue drained',
        );
      this.failures = 0;
      return full;
    } catch (e) {
      this.failures++;
      if (this.failures === 1)
        this.logger.warn(
          { store: 'influxdb', url: loggable(this.o.url), reason: (e as Error).message, pending: this.pending },
          'InfluxDB write failed; spilling until it is back',
        );
      return false;
    }
  }

  /**
   * One batch, after the one before it: the lines it sent, and whether it was full (batchSize lines, or as
   * many bytes as it read: more lines may wait).
   */
  private flushBatch(): Promise<{ lines: number; full: boolean }> {
    const next = this.sending.then(() => this.sendBatch());
    this.sending = next.catch(() => undefined);
    return next;
  }

  private async sendBatch(): Promise<{ lines: number; full: boolean }> {
    const range = this.log.next();
    if (range === undefined) return { lines: 0, full: false };
    // The bytes of about batchSize lines, as they are in the file: nothing is parsed or rebuilt on the way
    // out. A batch ends at a line's end; a line longer than the bytes read has them read again, doubled.
    let want = this.o.batchSize * this.lineBytes;
    let body: Buffer;
    let cut: { bytes: number; lines: number };
    for (;;) {
      body = this.log.readNow(range.seq, range.offset, Math.min(want, range.end - range.offset));
      cut = firstLines(body, this.o.batchSize);
      if (cut.lines > 0) break;
      want *= 2;
    }
    const full = cut.lines === this.o.batchSize || body.length === want;
    if (full) this.lineBytes = Math.max(16, Math.ceil((cut.bytes / cut.lines) * 1.25));
    const res = await this.request('/write', { db: this.o.database, precision: 'ms' }, body.subarray(0, cut.bytes));
    await res.arrayBuffer();
    this.log.sent(range.seq, range.offset + cut.bytes);
    this.spilled -= cut.lines;
    return { lines: cut.lines, full };
  }

  private async request(path: string, params: Record<string, string>, body?: Buffer): Promise<Response> {
    const url = new URL(path, this.o.url);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    if (path === '/query') url.searchParams.set('db', this.o.database);
    const headers: Record<string, string> = {};
    if (this.o.token !== undefined) headers['Authorization'] = `Token ${this.o.token}`;
    else if (this.o.username !== undefined)
      headers['Authorization'] =
        `Basic ${Buffer.from(`${this.o.username}:${this.o.password ?? ''}`).toString('base64')}`;
    const init: RequestInit = {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      signal: AbortSignal.timeout(this.o.timeoutMs),
    };
    // A Buffer is a Uint8Array, which fetch sends as it is.
    if (body !== undefined) init.body = body as Uint8Array<ArrayBuffer>;
    const res = await fetch(url, init);
    if (!res.ok) throw new Error(`InfluxDB ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return res;
  }
}

/** Back off to at most 5 s between attempts during an outage. */
function backoffMs(failures: number): number {
  return Math.min(5000, 100 * 2 ** Math.min(failures, 6));
}

function fromRow(kind: Point['kind'], columns: string[], row: unknown[]): Point {
  const at = (name: string): unknown => row[columns.indexOf(name)];
  const p: Point = { mn: String(at('mn')), factor: String(at('factor')), kind, time: Number(at('time')), values: {} };
  columns.forEach((c, i) => {
    if (!TAGS.has(c) && typeof row[i] === 'number') p.values[c] = row[i];
  });
  const flag = at('flag');
  if (typeof flag === 'string' && flag !== '') p.flag = flag;
  const outlet = at('outlet');
  if (typeof outlet === 'string') p.outlet = outlet;
  return p;
}
