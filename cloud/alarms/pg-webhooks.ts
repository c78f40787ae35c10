import type pg from 'pg';
import { loggable } from '../redact.js';
import { WebhookDelivery, type QueuedEvent, type WebhookClaim, type WebhookOptions } from './webhooks.js';

/** What runs a query: the pool, or the one connection of a transaction. */
type Queryable = Pick<pg.Pool, 'query'> | Pick<pg.PoolClient, 'query'>;

export interface PgWebhookOptions extends WebhookOptions {
  /**
   * Whether this process delivers now (the service passes "holds lease bucket 0"); every process when
   * omitted. Whoever delivers, the receiver lock below keeps it to one process per URL at a time.
   */
  leader?: () => boolean;
  /** How often the queue is looked at for events other processes queued (or left); default 1000. */
  pollMs?: number;
}

/**
 * The first key of the advisory lock that a process holds on a receiver while it posts its head event
 * (the second is `hashtext(url)`). Locks on two int4 keys are a key space apart from those on one
 * bigint, such as the migration lock, so they never meet it; two URLs whose hashes collide merely
 * take turns.
 */
export const WEBHOOK_LOCK = 2120;

/**
 * The webhook queue of an ingest cluster in PostgreSQL (`webhook_outbox`, migration 2): what a process
 * queues in the transaction that changed the alarm is delivered by whichever process gets to it, with
 * the delivery of the SQLite WebhookOutbox (WebhookDelivery: order per URL, retries and backoff,
 * Idempotency-Key, give-up after `retryHours`).
 *
 * One process at a time posts a receiver's events, and in order, because posting the head event of a
 * URL happens inside one transaction on a connection of its own that holds
 * `pg_try_advisory_xact_lock(WEBHOOK_LOCK, hashtext(url))` from reading the head, through the POST,
 * to deleting the row (taken, refused, given up) or counting the attempt (failed). Chosen over
 *  - locking only while the head row is read: the lock would be gone during the POST, and a second
 *    process would post the same head at the same time;
 *  - `SELECT ... FOR UPDATE SKIP LOCKED` on the head: a second process skips the locked head and takes
 *    the next event, so a `closed` would overtake its `opened`; without SKIP LOCKED it waits on it,
 *    a connection blocked per process per receiver;
 *  - `leader()` alone: a lease is judged on each process's clock, so a stalled process may still post
 *    as leader while its successor does. The advisory lock is the database's, held exactly as long as
 *    the connection lives.
 * `leader()` still narrows who tries (no connections taken by processes that would find the lock held).
 * A process that dies mid-POST loses its connection: PostgreSQL rolls the transaction back and frees
 * the lock, the row is as it was, and the next process posts it again (at least once; the receiver
 * tells a repeat by its Idempotency-Key). The lock costs one pool connection per receiver being posted
 * to, for at most `timeoutMs`; a server `idle_in_transaction_session_timeout` must be longer than that.
 *
 * Order is the `id` order of the rows, that is the order the events were queued in. Two events of one
 * station are queued in that order across processes because the rules hold the station's row lock
 * (rule_state) until the transaction that queued the first commits.
 */
export class PgWebhookOutbox {
  private readonly delivery: WebhookDelivery;
  private readonly leads: () => boolean;
  private readonly warned = new Set<string>();
  private poller: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private pollFailed = false;
  private started = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly o: PgWebhookOptions,
  ) {
    this.leads = o.leader ?? (() => true);
    this.delivery = new WebhookDelivery({ take: (url) => this.take(url) }, o, true);
  }

  /**
   * Queues one event for every configured URL on `db`: the pool, or the client of the transaction that
   * changed the alarm, so event and change commit together. Delivery starts after the caller's commit,
   * by kick() (or at the next poll of whichever process delivers).
   */
  async enqueue(db: Queryable, eventKey: string, mn: string, body: string): Promise<void> {
    if (this.o.urls.length === 0) return;
    await db.query(
      `INSERT INTO webhook_outbox (url, event_key, mn, body, created_at)
        SELECT url, $2, $3, $4, $5 FROM unnest($1::text[]) WITH ORDINALITY AS u (url, n) ORDER BY n`,
      [this.o.urls, eventKey, mn, body, (this.o.now ?? Date.now)()],
    );
  }

  /** Starts (or continues) delivering what is queued for the configured URLs, if this process delivers. */
  kick(): void {
    if (!this.leads()) return;
    for (const url of this.o.urls) this.delivery.pump(url);
  }

  /** Delivers what is queued now and then, every `pollMs`, what other processes queued or left. */
  start(): void {
    if (this.started || this.delivery.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.poller);
    this.poller = undefined;
    await this.delivery.stop();
    await this.polling;
  }

  /** Events not yet taken by `url` (all receivers when omitted), queued by any process. */
  async pending(url?: string): Promise<number> {
    const r = await this.pool.query<{ n: number }>(
      url === undefined
        ? 'SELECT count(*)::int AS n FROM webhook_outbox'
        : 'SELECT count(*)::int AS n FROM webhook_outbox WHERE url = $1',
      url === undefined ? [] : [url],
    );
    return r.rows[0]?.n ?? 0;
  }

  private schedule(ms: number): void {
    if (this.delivery.stopped) return;
    this.poller = setTimeout(() => {
      this.polling = this.poll().finally(() => {
        this.polling = undefined;
        this.schedule(this.o.pollMs ?? 1000);
      });
    }, ms);
    this.poller.unref();
  }

  /** Pumps every configured URL with events queued; names once each unconfigured one that has some. */
  private async poll(): Promise<void> {
    if (!this.leads()) return;
    try {
      const r = await this.pool.query<{ url: string; n: number }>(
        'SELECT url, count(*)::int AS n FROM webhook_outbox GROUP BY url',
      );
      if (this.pollFailed) this.o.log.info('alarm webhook queue readable again');
      this.pollFailed = false;
      for (const { url, n } of r.rows) {
        if (this.o.urls.includes(url)) this.delivery.pump(url);
        else if (!this.warned.has(url)) {
          this.warned.add(url);
          this.o.log.warn(
            { url: loggable(url), pending: n },
            'webhook not configured in this process; its queued alarm events are kept for a process that has it',
          );
        }
      }
    } catch (e) {
      if (!this.pollFailed)
        this.o.log.warn({ reason: (e as Error).message }, 'alarm webhook queue unreadable; polling on');
      this.pollFailed = true;
    }
  }

  /**
   * The head event of `url` with the receiver's lock held on a connection of its own until the claim
   * is settled; nothing when this process does not deliver, another holds the lock, or none is queued.
   */
  private async take(url: string): Promise<WebhookClaim | undefined> {
    if (!this.leads()) return undefined;
    const client = await this.pool.connect();
    // The pool hears a connection's errors only while it is idle; this one is held through a POST.
    const lost = (e: Error): void =>
      this.o.log.warn({ url: loggable(url), reason: e.message }, 'PostgreSQL connection lost while posting a webhook');
    client.on('error', lost);
    let open = true;
    const release = (e?: Error): void => {
      open = false;
      client.off('error', lost);
      // A connection that failed mid-transaction is not handed out again (its transaction is lost);
      // whatever more it reports on its way out is of no interest.
      if (e) client.on('error', () => undefined);
      client.release(e);
    };
    const end = async (sql?: string, args?: unknown[]): Promise<void> => {
      if (!open) return;
      try {
        if (sql) await client.query(sql, args);
        await client.query(sql ? 'COMMIT' : 'ROLLBACK');
        release();
      } catch (e) {
        release(e as Error);
        throw e;
      }
    };
    try {
      await client.query('BEGIN');
      const lock = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_xact_lock($1::int, hashtext($2)) AS locked',
        [WEBHOOK_LOCK, url],
      );
      // Read after the lock is held, so a row the previous holder deleted is gone from this snapshot.
      const head = lock.rows[0]?.locked
        ? await client.query<QueuedEvent>('SELECT * FROM webhook_outbox WHERE url = $1 ORDER BY id LIMIT 1', [url])
        : undefined;
      const row = head?.rows[0];
      if (!row) {
        await end();
        return undefined;
      }
      const event = { ...row, id: Number(row.id), created_at: Number(row.created_at) };
      return {
        event,
        remove: () => end('DELETE FROM webhook_outbox WHERE id = $1', [event.id]),
        retry: () => end('UPDATE webhook_outbox SET attempts = attempts + 1 WHERE id = $1', [event.id]),
        release: () => end(),
      };
    } catch (e) {
      if (open) release(e as Error);
      throw e;
    }
  }
}
