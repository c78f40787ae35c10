import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PgWebhookOutbox, type PgWebhookOptions } from '../cloud/alarms/pg-webhooks.js';
import { migrate } from '../cloud/state/pg-schema.js';
import { until } from './helpers/common.js';
import { FAST_WEBHOOK_RETRIES, memoryLogger } from './helpers/edge-sim.js';
import { freshDatabase, havePostgres, usePostgres } from './helpers/postgres.js';

/** What a receiver answers a request: a status, or `hold` (no answer until the test's end). */
type Answer = number | 'hold';

interface Receiver {
  url: string;
  /** Idempotency keys of the requests answered 200, in the order answered. */
  got: string[];
  /** Every request as it arrived: its key and the answer it got. */
  seen: { key: string; answer: Answer }[];
  /** The most requests it had open at once. */
  maxOpen: number;
}

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/**
 * A receiver on a loopback port answering each POST with `answer(key, n)` (n: how many requests came
 * before it), after a few milliseconds so that a second sender would overlap if it posted at once.
 */
async function receiver(answer: (key: string, n: number) => Answer = () => 200): Promise<Receiver> {
  const r: Receiver = { url: '', got: [], seen: [], maxOpen: 0 };
  let open = 0;
  const server: Server = createServer((req, res) => {
    open += 1;
    r.maxOpen = Math.max(r.maxOpen, open);
    req.resume();
    req.on('end', () => {
      const key = String(req.headers['idempotency-key']);
      const a = answer(key, r.seen.length);
      r.seen.push({ key, answer: a });
      if (a === 'hold') return;
      setTimeout(() => {
        open -= 1;
        if (a === 200) r.got.push(key);
        res.statusCode = a;
        res.end();
      }, 3);
    });
  }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(
    () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  );
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return r;
}

const MN = '88888880000001';
const body = (key: string): string => JSON.stringify({ event: 'opened', key });
const keys = (n: number, prefix = 'e'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe.runIf(havePostgres())('alarm webhooks of a cluster in PostgreSQL (a real server)', () => {
  const postgres = usePostgres();

  /** A migrated fresh database and a pool on it per simulated ingest process. */
  async function database(name: string, processes = 2): Promise<pg.Pool[]> {
    const url = await freshDatabase(postgres.server(), name);
    const ps = Array.from({ length: processes }, () => postgres.pool(url));
    await migrate(ps[0]!);
    return ps;
  }

  /** Two processes' outboxes on one fresh database, posting to one receiver, each with one event queued. */
  async function twoQueued(name: string, answer: Parameters<typeof receiver>[0]) {
    const [p1, p2] = await database(name);
    const hook = await receiver(answer);
    const a = outbox(p1!, [hook.url]);
    const b = outbox(p2!, [hook.url]);
    await queue(a.box, p1!, 'e1');
    await queue(b.box, p2!, 'e2');
    return { p1: p1!, hook, a, b };
  }

  /** An outbox as one ingest process has it, started. */
  function outbox(pool: pg.Pool, urls: string[], extra: Partial<PgWebhookOptions> = {}) {
    const mem = memoryLogger();
    const box = new PgWebhookOutbox(pool, {
      urls,
      log: mem.logger,
      ...FAST_WEBHOOK_RETRIES,
      timeoutMs: 5000,
      pollMs: 50,
      ...extra,
    });
    cleanup.push(() => box.stop());
    box.start();
    return { box, lines: mem.lines };
  }

  /** Queues `key` through `box` in a transaction of its own on `pool`, then kicks delivery. */
  async function queue(box: PgWebhookOutbox, pool: pg.Pool, key: string): Promise<void> {
    await box.enqueue(pool, key, MN, body(key));
    box.kick();
  }

  it('delivers each event once, in the order queued, to every URL, whichever of two processes queued it', async () => {
    const [p1, p2] = await database('wh_two');
    const hooks = [await receiver(), await receiver()];
    const urls = hooks.map((h) => h.url);
    const a = outbox(p1!, urls);
    const b = outbox(p2!, urls);
    const events = keys(30);
    for (const [i, key] of events.entries()) await (i % 2 ? queue(b.box, p2!, key) : queue(a.box, p1!, key));
    await until(async () => hooks.every((h) => h.got.length >= events.length) && (await a.box.pending()) === 0, 'all');
    for (const h of hooks) {
      expect(h.got).toEqual(events);
      expect(h.seen.map((s) => s.key)).toEqual(events);
      // Both processes deliver, but never to one receiver at the same time.
      expect(h.maxOpen).toBe(1);
    }
    expect(await b.box.pending()).toBe(0);
  });

  it('retries an event its receiver answered 503, with the same idempotency key, paced across processes', async () => {
    const { p1, hook, a, b } = await twoQueued('wh_retry', (_, n) => (n < 2 ? 503 : 200));
    await until(async () => hook.got.length === 2 && (await a.box.pending()) === 0, 'both events taken');
    expect(hook.seen).toEqual([
      { key: 'e1', answer: 503 },
      { key: 'e1', answer: 503 },
      { key: 'e1', answer: 200 },
      { key: 'e2', answer: 200 },
    ]);
    const warns = [...a.lines, ...b.lines].filter((l) => l['msg'] === 'alarm webhook failed; will retry');
    expect(warns.map((l) => l['reason'])).toEqual(['HTTP 503', 'HTTP 503']);
    const rows = await p1.query('SELECT count(*)::int AS n FROM webhook_outbox');
    expect(rows.rows[0]).toEqual({ n: 0 });
  });

  it('drops an event its receiver answered 400, not retried, and delivers the next', async () => {
    const { hook, a, b } = await twoQueued('wh_refused', (key) => (key === 'e1' ? 400 : 200));
    await until(async () => hook.got.length === 1 && (await b.box.pending()) === 0, 'queue drained');
    expect(hook.seen).toEqual([
      { key: 'e1', answer: 400 },
      { key: 'e2', answer: 200 },
    ]);
    const refused = [...a.lines, ...b.lines].filter(
      (l) => l['msg'] === 'alarm webhook refused the event; not retried (fix the receiver)',
    );
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ mn: MN, reason: 'HTTP 400', event: 'e1', url: hook.url });
  });

  it('delivers an event queued in a transaction once it commits, never one whose transaction rolled back', async () => {
    const [p1, p2] = await database('wh_rollback');
    const hook = await receiver();
    const a = outbox(p1!, [hook.url]);
    outbox(p2!, [hook.url]);
    const inTransaction = async (key: string, end: 'COMMIT' | 'ROLLBACK'): Promise<void> => {
      const c = await p1!.connect();
      try {
        await c.query('BEGIN');
        await c.query("INSERT INTO alarms (key, type, mn, opened_at) VALUES ($1, 'offline', $2, 0)", [key, MN]);
        await a.box.enqueue(c, key, MN, body(key));
        await c.query(end);
      } finally {
        c.release();
      }
      a.box.kick();
    };
    await inTransaction('committed', 'COMMIT');
    await inTransaction('rolled-back', 'ROLLBACK');
    await queue(a.box, p1!, 'after');
    await until(async () => hook.got.length === 2 && (await a.box.pending()) === 0, 'the committed events');
    // Had the rolled-back event been queued, it would have come before the one queued after it.
    expect(hook.seen.map((s) => s.key)).toEqual(['committed', 'after']);
    const alarms = await p1!.query<{ key: string }>('SELECT key FROM alarms');
    expect(alarms.rows).toEqual([{ key: 'committed' }]);
  });

  it('hands the rest over when the delivering process stops mid-POST: the cut-off event posted again', async () => {
    const [p1, p2] = await database('wh_handover');
    let held = false;
    const hook = await receiver((key) => {
      if (key !== 'e3' || held) return 200;
      held = true;
      return 'hold';
    });
    let handedOver = false;
    // A delivers; B (not holding the lease yet) only queues, until A goes.
    const a = outbox(p1!, [hook.url], { leader: () => true });
    const b = outbox(p2!, [hook.url], { leader: () => handedOver });
    const events = keys(6);
    for (const key of events) await queue(b.box, p2!, key);
    await until(() => held, 'the POST of e3 held by the receiver');
    expect(hook.got).toEqual(['e1', 'e2']);
    // Both lead for a moment (a lease handover): B finds the receiver locked by A until A has gone.
    handedOver = true;
    await a.box.stop();
    await until(async () => hook.got.length === 6 && (await b.box.pending()) === 0, 'B delivered the rest');
    expect(hook.got).toEqual(events);
    // e3 reached the receiver twice (A's cut off, B's answered): at least once, the key tells them apart.
    expect(hook.seen.map((s) => s.key)).toEqual(['e1', 'e2', 'e3', 'e3', 'e4', 'e5', 'e6']);
  });

  it('leaves the event of a process whose connection dies mid-POST to the next process', async () => {
    const [p1, p2] = await database('wh_died');
    let cut = false;
    const hook = await receiver((key) => (key === 'e2' && !cut ? 'hold' : 200));
    let aLeads = true;
    const a = outbox(p1!, [hook.url], { leader: () => aLeads });
    const b = outbox(p2!, [hook.url], { leader: () => !aLeads });
    for (const key of keys(4)) await queue(a.box, p1!, key);
    await until(() => hook.seen.some((s) => s.answer === 'hold'), 'the POST of e2 held by the receiver');
    cut = true;
    // What PostgreSQL sees of a process that died: its session ends, its transaction and lock with it.
    const killed = await p2!.query<{ n: number }>(
      "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_locks WHERE locktype = 'advisory' AND granted",
    );
    expect(killed.rows[0]).toEqual({ n: 1 });
    aLeads = false;
    await until(async () => hook.got.length === 4 && (await b.box.pending()) === 0, 'B delivered the rest');
    expect(hook.got).toEqual(keys(4));
    expect(hook.seen.map((s) => s.key)).toEqual(['e1', 'e2', 'e2', 'e3', 'e4']);
    expect(a.lines.some((l) => l['msg'] === 'PostgreSQL connection lost while posting a webhook')).toBe(true);
  });
});
