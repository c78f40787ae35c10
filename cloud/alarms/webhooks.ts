import type Database from 'better-sqlite3';
import { performance } from 'node:perf_hooks';
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

/** One queued event for one receiver, as the queue's table holds it. */
export interface QueuedEvent {
  id: number;
  url: string;
  event_key: string;
  mn: string;
  body: string;
  attempts: number;
  created_at: number;
}

/** The head event of one receiver's queue, taken by this process until it is settled one of three ways. */
export interface WebhookClaim {
  readonly event: QueuedEvent;
  /** Taken by the receiver, refused by it, or given up: off the queue. */
  remove(): Promise<void>;
  /** Failed: one more attempt counted, still the head. */
  retry(): Promise<void>;
  /** Not attempted, or cut off by stop(): left exactly as it was taken. */
  release(): Promise<void>;
}

/** Where a WebhookDelivery keeps its events: the SQLite state database or PostgreSQL (pg-webhooks.ts). */
export interface WebhookQueue {
  /**
   * The oldest event queued for `url`, for this process to post now; nothing when there is none or
   * another process is posting that receiver's head (a queue shared by several processes).
   */
  take(url: string): Promise<WebhookClaim | undefined>;
}

type Outcome = 'delivered' | 'retry' | 'refused';

/**
 * Delivers the events of a WebhookQueue: each URL gets its events one at a time in queue order (an
 * `opened` never overtakes its `closed`), retried with a doubling delay until the receiver takes them,
 * refuses them (a 4xx other than 408/429) or `retryHours` have passed since they were queued; a
 * receiver that is down only delays its own queue. Every POST carries an `Idempotency-Key`: a retry
 * after a lost answer may deliver twice, and the key lets the receiver tell.
 *
 * With a `shared` queue other processes attempt the same events, so the delay is paced on what the
 * queue shows rather than on this process's own failures alone: a head event that has failed
 * (`attempts` > 0) is posted only once this process has seen it unchanged (same id, same attempts) for
 * the delay its attempts call for. Whoever failed it last, the receiver is not tried again sooner.
 */
export class WebhookDelivery {
  private readonly busy = new Set<string>();
  /** URLs pumped while busy: their run looks again when it ends, so an event queued meanwhile is not left. */
  private readonly again = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  private readonly runs = new Set<Promise<void>>();
  private readonly seen = new Map<string, { id: number; attempts: number; readyAt: number }>();
  private halted = false;
  private readonly now: () => number;

  constructor(
    private readonly queue: WebhookQueue,
    private readonly o: WebhookOptions,
    private readonly shared = false,
  ) {
    this.now = o.now ?? Date.now;
  }

  get stopped(): boolean {
    return this.halted;
  }

  /** Starts delivering `url`'s queue unless it is already being delivered or waits for a retry. */
  pump(url: string): void {
    if (this.halted || this.timers.has(url)) return;
    if (this.busy.has(url)) {
      this.again.add(url);
      return;
    }
    this.busy.add(url);
    this.again.delete(url);
    const run: Promise<void> = this.deliverHead(url)
      .catch((e: Error) => {
        if (this.halted) return false;
        this.o.log.warn({ url: loggable(url), reason: e.message }, 'alarm webhook queue unavailable; will retry');
        this.later(url, this.o.baseDelayMs ?? 1000);
        return false;
      })
      .then((more) => {
        this.busy.delete(url);
        this.runs.delete(run);
        if ((more || this.again.has(url)) && !this.timers.has(url)) this.pump(url);
      });
    this.runs.add(run);
  }

  /** Cuts off the POSTs under way (their events stay queued) and waits for their runs to end. */
  async stop(): Promise<void> {
    this.halted = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const a of this.aborts) a.abort();
    while (this.runs.size) await Promise.all([...this.runs]);
  }

  /** Posts the head event of `url` and settles it; whether to look for the next one at once. */
  private async deliverHead(url: string): Promise<boolean> {
    const claim = await this.queue.take(url);
    if (!claim) return false;
    const ev = claim.event;
    const wait = this.halted ? 0 : this.waitFor(ev);
    if (this.halted || wait > 0) {
      await claim.release();
      if (wait > 0) this.later(url, wait);
      return false;
    }
    const result = await this.post(ev);
    // Cut off by stop(): the event stays as it was for the next run (or process); one taken is settled.
    if (this.halted && result.outcome !== 'delivered') {
      await claim.release();
      return false;
    }
    return this.settle(claim, result);
  }

  /** How long this process should leave `ev` before posting it (0: now). */
  private waitFor(ev: QueuedEvent): number {
    if (ev.attempts === 0) return 0;
    const seen = this.seen.get(ev.url);
    if (seen?.id === ev.id && seen.attempts === ev.attempts) return Math.max(0, seen.readyAt - performance.now());
    // Failed before, not by this process (or before a restart): paced only when others may post it too.
    if (!this.shared) return 0;
    const delay = this.delay(ev.attempts - 1);
    this.seen.set(ev.url, { id: ev.id, attempts: ev.attempts, readyAt: performance.now() + delay });
    return delay;
  }

  private delay(failures: number): number {
    return Math.min((this.o.baseDelayMs ?? 1000) * 2 ** failures, this.o.maxDelayMs ?? 300_000);
  }

  private later(url: string, ms: number): void {
    if (this.halted || this.timers.has(url)) return;
    const t = setTimeout(() => {
      this.timers.delete(url);
      this.pump(url);
    }, ms);
    t.unref();
    this.timers.set(url, t);
  }

  private async post(row: QueuedEvent): Promise<{ outcome: Outcome; reason?: string }> {
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

  private async settle(claim: WebhookClaim, { outcome, reason }: { outcome: Outcome; reason?: string }) {
    const row = claim.event;
    const ctx = { mn: row.mn, url: loggable(row.url), event: row.event_key, attempts: row.attempts + 1 };
    if (outcome === 'delivered') {
      await claim.remove();
      if (row.attempts > 0) this.o.log.info(ctx, 'alarm webhook delivered after retries');
      return true;
    }
    if (outcome === 'refused') {
      await claim.remove();
      this.o.log.error({ ...ctx, reason }, 'alarm webhook refused the event; not retried (fix the receiver)');
      return true;
    }
    if (this.now() - row.created_at > this.o.retryHours * 3_600_000) {
      await claim.remove();
      this.o.log.error({ ...ctx, reason }, `alarm webhook given up after ${this.o.retryHours} h of retries`);
      return true;
    }
    await claim.retry();
    const delay = this.delay(row.attempts);
    this.seen.set(row.url, { id: row.id, attempts: row.attempts + 1, readyAt: performance.now() + delay });
    this.o.log.warn({ ...ctx, reason, retryInMs: delay }, 'alarm webhook failed; will retry');
    this.later(row.url, delay);
    return false;
  }
}

/**
 * Alarm events for webhooks, kept in the state database until each receiver took them, so an event
 * outlives a receiver that is down and a restart of the ingest; delivered by a WebhookDelivery.
 */
export class WebhookOutbox {
  private readonly delivery: WebhookDelivery;
  private readonly insert: Database.Statement<[string, string, string, string, number]>;
  private readonly now: () => number;

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
    this.delivery = new WebhookDelivery(sqliteQueue(db), o);
  }

  /** Queues one event for every receiver, then starts delivering. */
  enqueue(eventKey: string, mn: string, body: string): void {
    if (this.o.urls.length === 0) return;
    const at = this.now();
    this.db.transaction(() => {
      for (const url of this.o.urls) this.insert.run(url, eventKey, mn, body, at);
    })();
    for (const url of this.o.urls) this.delivery.pump(url);
  }

  /** Resumes what a previous run left, including receivers since removed from the config. */
  start(): void {
    const urls = this.db.prepare('SELECT DISTINCT url FROM webhook_outbox').pluck().all() as string[];
    for (const url of urls) {
      if (this.o.urls.includes(url)) this.delivery.pump(url);
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

  stop(): Promise<void> {
    return this.delivery.stop();
  }
}

/** The queue in the state database of one process: nobody else takes its events, so a claim locks nothing. */
function sqliteQueue(db: Database.Database): WebhookQueue {
  const head = db.prepare<[string], QueuedEvent>('SELECT * FROM webhook_outbox WHERE url = ? ORDER BY id LIMIT 1');
  const drop = db.prepare<[number]>('DELETE FROM webhook_outbox WHERE id = ?');
  const bump = db.prepare<[number]>('UPDATE webhook_outbox SET attempts = attempts + 1 WHERE id = ?');
  return {
    take(url) {
      const event = head.get(url);
      return Promise.resolve(
        event && {
          event,
          remove: () => Promise.resolve(void drop.run(event.id)),
          retry: () => Promise.resolve(void bump.run(event.id)),
          release: () => Promise.resolve(),
        },
      );
    },
  };
}
