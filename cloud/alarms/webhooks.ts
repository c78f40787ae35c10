import type Database from 'better-sqlite3';
import { loggable } from '../redact.js';
import type { Logger } from 'pino';

export interface WebhookOptions {
  urls: readonly string[];
  log: Logger;
  /** How long an event is retried before it is given up, logged as an error. */
  retryHours: number;
  timeoutMs?: number;
  /** First retry delay; it doubles per failure up to `maxDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

interface Row {
  id: number;
  url: string;
  event_key: string;
  mn: string;
  body: string;
  attempts: number;
  created_at: number;
}

type Outcome = 'delivered' | 'retry' | 'refused';

/**
 * Alarm events for webhooks, kept in the state database until each receiver took them, so an event
 * outlives a receiver that is down and a restart of the ingest. Each URL gets its events one at a
 * time in the order they happened (an `opened` never overtakes its `closed`); a receiver that is
 * down only delays its own queue. Every POST carries an `Idempotency-Key`: a retry after a lost
 * answer may deliver twice, and the key lets the receiver tell.
 */
export class WebhookOutbox {
  private readonly busy = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  private stopped = false;
  private readonly now: () => number;
  private readonly insert: Database.Statement<[string, string, string, string, number]>;
  private readonly head: Database.Statement<[string], Row>;

  constructor(
    private readonly db: Database.Database,
    private readonly o: WebhookOptions,
  ) {
    this.now = o.now ?? Date.now;
    db.exec(`CREATE TABLE IF NOT EXISTS webhook_outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL, event_key TEXT NOT NULL, mn TEXT NOT NULL,
      body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS webhook_outbox_url ON webhook_outbox (url, id)`);
    this.insert = db.prepare(
      'INSERT INTO webhook_outbox (url, event_key, mn, body, created_at) VALUES (?, ?, ?, ?, ?)',
    );
    this.head = db.prepare('SELECT * FROM webhook_outbox WHERE url = ? ORDER BY id LIMIT 1');
  }

  /** Queues one event for every receiver, then starts delivering. */
  enqueue(eventKey: string, mn: string, body: string): void {
    if (this.o.urls.length === 0) return;
    const at = this.now();
    this.db.transaction(() => {
      for (const url of this.o.urls) this.insert.run(url, eventKey, mn, body, at);
    })();
    for (const url of this.o.urls) this.pump(url);
  }

  /** Resumes what a previous run left, including receivers since removed from the config. */
  start(): void {
    const urls = this.db.prepare('SELECT DISTINCT url FROM webhook_outbox').pluck().all() as string[];
    for (const url of urls) {
      if (this.o.urls.includes(url)) this.pump(url);
      else
        this.o.log.warn(
          { url, pending: this.pending(url) },
          'webhook no longer configured; its queued alarm events are kept until it is again',
        );
    }
  }

  /** Events not yet taken by `url` (all receivers when omitted). */
  pending(url?: string): number {
    const sql =
      url === undefined ? 'SELECT count(*) FROM webhook_outbox' : 'SELECT count(*) FROM webhook_outbox WHERE url = ?';
    return (url === undefined ? this.db.prepare(sql).pluck().get() : this.db.prepare(sql).pluck().get(url)) as number;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const a of this.aborts) a.abort();
  }

  private pump(url: string): void {
    if (this.stopped || this.busy.has(url) || this.timers.has(url)) return;
    const row = this.head.get(url);
    if (!row) return;
    this.busy.add(url);
    void this.post(row)
      .then((outcome) => this.settle(row, outcome))
      .finally(() => {
        this.busy.delete(url);
        if (!this.timers.has(url)) this.pump(url);
      });
  }

  private async post(row: Row): Promise<{ outcome: Outcome; reason?: string }> {
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(
      () => abort.abort(new Error(`no answer in ${this.o.timeoutMs ?? 5000} ms`)),
      this.o.timeoutMs ?? 5000,
    );
    try {
      const res = await fetch(row.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': row.event_key },
        body: row.body,
        signal: abort.signal,
      });
      await res.arrayBuffer();
      if (res.ok) return { outcome: 'delivered' };
      // A receiver that rejects the request itself will reject it again; overload and timeouts pass.
      const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
      return { outcome: permanent ? 'refused' : 'retry', reason: `HTTP ${res.status}` };
    } catch (e) {
      const err = e as Error;
      return {
        outcome: 'retry',
        reason: err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message,
      };
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
  }

  private settle(row: Row, { outcome, reason }: { outcome: Outcome; reason?: string }): void {
    if (this.stopped) return;
    const ctx = { mn: row.mn, url: loggable(row.url), event: row.event_key, attempts: row.attempts + 1 };
    if (outcome === 'delivered') {
      this.drop(row);
      if (row.attempts > 0) this.o.log.info(ctx, 'alarm webhook delivered after retries');
      return;
    }
    if (outcome === 'refused') {
      this.drop(row);
      this.o.log.error({ ...ctx, reason }, 'alarm webhook refused the event; not retried (fix the receiver)');
      return;
    }
    if (this.now() - row.created_at > this.o.retryHours * 3_600_000) {
      this.drop(row);
      this.o.log.error({ ...ctx, reason }, `alarm webhook given up after ${this.o.retryHours} h of retries`);
      return;
    }
    this.db.prepare('UPDATE webhook_outbox SET attempts = attempts + 1 WHERE id = ?').run(row.id);
    const delay = Math.min((this.o.baseDelayMs ?? 1000) * 2 ** row.attempts, this.o.maxDelayMs ?? 300_000);
    this.o.log.warn({ ...ctx, reason, retryInMs: delay }, 'alarm webhook failed; will retry');
    const t = setTimeout(() => {
      this.timers.delete(row.url);
      this.pump(row.url);
    }, delay);
    t.unref();
    this.timers.set(row.url, t);
  }

  private drop(row: Row): void {
    this.db.prepare('DELETE FROM webhook_outbox WHERE id = ?').run(row.id);
  }
}
