import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { z } from 'zod';
import { fromLine, quote, toLine } from './line-protocol.js';
import { loggable } from '../redact.js';
import { GroupCommit } from './group-commit.js';
import { openSqlite } from './sqlite.js';
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
    /** The durable spill queue (SQLite) that holds points until InfluxDB has them. */
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

/**
 * A spill row: the points of one key (mn, kind, time: one upload's factors) as their lines joined by
 * newlines, built once when they are written, and how many they are. One row, one index entry and one
 * delete per upload rather than per point: the spill's SQLite work was a quarter of the ingest's CPU.
 */
type SpillRow = [mn: string, kind: string, time: number, lines: string, n: number];
type Series = { name: string; columns: string[]; values: unknown[][] };
type QueryResponse = { results?: { series?: Series[]; error?: string }[]; error?: string };

const TAGS = new Set(['time', 'mn', 'factor', 'outlet', 'flag']);

/**
 * InfluxDB behind the store interface, over the v1 HTTP API (`/write`, `/query`) that 1.x serves
 * natively and 2.x/3.x serve for compatibility, so one code path covers all three. A write is
 * durable once it is in the local spill queue; a flusher moves batches to InfluxDB and deletes them
 * only when InfluxDB has acknowledged them, so an outage delays points and loses none.
 */
export class InfluxStore implements MeasurementStore {
  private readonly db: Database.Database;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Batches are sent one at a time: two in flight would both read, and send, the same first spill rows. */
  private sending: Promise<unknown> = Promise.resolve();
  private failures = 0;
  private closed = false;
  private spilled: number;
  private readonly group: GroupCommit<SpillRow>;
  private readonly batch: Database.Statement<[number], [number, string, number]>;
  private readonly sent: Database.Statement<[number]>;
  private readonly spilledOf: Database.Statement<[string, string, number, number], string>;

  constructor(
    private readonly o: InfluxOptions,
    private readonly log: Logger,
  ) {
    this.db = openSqlite(o.spillPath, { durable: true });
    this.db.exec(`CREATE TABLE IF NOT EXISTS spill (id INTEGER PRIMARY KEY AUTOINCREMENT, mn TEXT NOT NULL,
      kind TEXT NOT NULL, time INTEGER NOT NULL, line TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 1);
      CREATE INDEX IF NOT EXISTS spill_key ON spill (mn, kind, time)`);
    migrateJsonSpill(this.db);
    migrateLineSpill(this.db);
    this.spilled = this.db.prepare('SELECT coalesce(sum(n), 0) FROM spill').pluck().get() as number;
    const insert = this.db.prepare('INSERT INTO spill (mn, kind, time, line, n) VALUES (?, ?, ?, ?, ?)');
    const spillGroups = this.db.transaction((groups: readonly (readonly SpillRow[])[]) => {
      for (const rows of groups) for (const r of rows) insert.run(r);
    });
    this.group = new GroupCommit((groups) => {
      spillGroups(groups);
      for (const rows of groups) for (const r of rows) this.spilled += r[4];
    });
    this.batch = this.db
      .prepare<[number], [number, string, number]>('SELECT id, line, n FROM spill ORDER BY id LIMIT ?')
      .raw();
    this.sent = this.db.prepare('DELETE FROM spill WHERE id <= ?');
    this.spilledOf = this.db
      .prepare<[string, string, number, number], string>(
        'SELECT line FROM spill WHERE mn = ? AND kind = ? AND time >= ? AND time < ? ORDER BY id',
      )
      .pluck();
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
    await this.group.add(spillRows(points));
    if (this.failures === 0) this.schedule(this.o.flushIntervalMs);
  }

  /** Moves everything spilled to InfluxDB now; rejects if InfluxDB refuses. */
  async flush(): Promise<void> {
    while (this.pending > 0) await this.flushBatch();
  }

  async query(input: PointQuery): Promise<Point[]> {
    const q = PointQuerySchema.parse(input);
    // Read your writes: the spill is read before InfluxDB, so a batch the flusher moves (and deletes)
    // while InfluxDB answers is in one or the other, never in neither.
    const spilled = this.spilledOf.all(q.mn, q.kind, q.from, q.to);
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
    // What still waited in the spill queue is newer than what InfluxDB has.
    for (const lines of spilled)
      for (const line of lines.split('\n')) {
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
    this.group.flush();
    await this.flushing;
    this.db.close();
  }

  /**
   * Arms the one flusher. While a drain runs, nothing more is armed: its loop takes whatever is written
   * meanwhile, and when it ends it re-arms itself (at once, or after a back-off if InfluxDB failed).
   */
  private schedule(ms: number): void {
    if (this.closed || this.timer !== undefined || this.flushing !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushing = this.drain().finally(() => {
        this.flushing = undefined;
        if (this.pending > 0) this.schedule(this.failures > 0 ? backoffMs(this.failures) : 0);
      });
    }, ms);
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed && this.pending > 0) await this.flushBatch();
      if (this.failures > 0)
        this.log.info(
          { store: 'influxdb', url: loggable(this.o.url) },
          'InfluxDB reachable again; spill queue drained',
        );
      this.failures = 0;
    } catch (e) {
      this.failures++;
      if (this.failures === 1)
        this.log.warn(
          { store: 'influxdb', url: loggable(this.o.url), reason: (e as Error).message, pending: this.pending },
          'InfluxDB write failed; spilling until it is back',
        );
    }
  }

  private flushBatch(): Promise<void> {
    const next = this.sending.then(() => this.sendBatch());
    this.sending = next.catch(() => undefined);
    return next;
  }

  private async sendBatch(): Promise<void> {
    // The lines as they were spilled: nothing is parsed or rebuilt on the way out. Rows up to batchSize
    // points (always one, however many it holds); every row holds at least one point.
    let body = '';
    let points = 0;
    let last: number | undefined;
    for (const [id, lines, n] of this.batch.iterate(this.o.batchSize)) {
      if (last !== undefined && points + n > this.o.batchSize) break;
      body += last === undefined ? lines : `\n${lines}`;
      points += n;
      last = id;
    }
    if (last === undefined) return;
    const res = await this.request('/write', { db: this.o.database, precision: 'ms' }, body);
    await res.arrayBuffer();
    // Batches are sent one at a time and ids only grow, so the rows up to `last` are the ones just sent.
    this.sent.run(last);
    this.spilled -= points;
  }

  private async request(path: string, params: Record<string, string>, body?: string): Promise<Response> {
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
    if (body !== undefined) init.body = body;
    const res = await fetch(url, init);
    if (!res.ok) throw new Error(`InfluxDB ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return res;
  }
}

/**
 * A spill queue written before lines were stored (each point as JSON in a `point` column) becomes one
 * of lines, in one transaction and in its order, so an upgrade in the middle of an outage loses nothing.
 */
function migrateJsonSpill(db: Database.Database): void {
  const columns = db.prepare('PRAGMA table_info(spill)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'point')) return;
  db.function('hj212_line', (point: unknown) => toLine(JSON.parse(String(point)) as Point));
  db.transaction(() => {
    db.exec(`ALTER TABLE spill RENAME TO spill_json;
      DROP INDEX IF EXISTS spill_key;
      CREATE TABLE spill (id INTEGER PRIMARY KEY AUTOINCREMENT, mn TEXT NOT NULL, kind TEXT NOT NULL,
        time INTEGER NOT NULL, line TEXT NOT NULL);
      CREATE INDEX spill_key ON spill (mn, kind, time);
      INSERT INTO spill (mn, kind, time, line) SELECT mn, kind, time, hj212_line(point) FROM spill_json ORDER BY id;
      DROP TABLE spill_json`);
  })();
}

/**
 * A spill queue of one line per row (written before a row held an upload's lines) gains the count
 * column: each of its rows is one point, and is sent and queried as before.
 */
function migrateLineSpill(db: Database.Database): void {
  const columns = db.prepare('PRAGMA table_info(spill)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'n')) db.exec('ALTER TABLE spill ADD COLUMN n INTEGER NOT NULL DEFAULT 1');
}

/** The spill rows of points: one per run of points sharing mn, kind and time (an upload's factors). */
function spillRows(points: readonly Point[]): SpillRow[] {
  const rows: SpillRow[] = [];
  let row: SpillRow | undefined;
  for (const p of points) {
    const line = toLine(p);
    if (row !== undefined && row[0] === p.mn && row[1] === p.kind && row[2] === p.time) {
      row[3] += `\n${line}`;
      row[4]++;
    } else rows.push((row = [p.mn, p.kind, p.time, line, 1]));
  }
  return rows;
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
