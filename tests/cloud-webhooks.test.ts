import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventKey, makeNotifier, WebhookOutbox, type Alarm } from '../cloud/index.js';
import { openSqlite } from '../cloud/store/sqlite.js';
import { freePort } from './helpers/cloud-procs.js';
import { FAST_WEBHOOK_RETRIES, memoryLogger, until } from './helpers/edge-sim.js';

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Received {
  body: { event: string; key: string; alarm: Alarm };
  headers: IncomingHttpHeaders;
}

/** A receiver on `port` that answers each POST with the next status of `script` (then 200). */
async function receiver(
  port: number,
  script: number[] = [],
): Promise<{ url: string; got: Received[]; answered: number[]; close(): Promise<void> }> {
  const got: Received[] = [];
  const answered: number[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const status = script.shift() ?? 200;
      answered.push(status);
      if (status === 200) got.push({ body: JSON.parse(body) as Received['body'], headers: req.headers });
      res.statusCode = status;
      res.end();
    });
  }).listen(port, '127.0.0.1');
  await once(server, 'listening');
  const close = (): Promise<void> => new Promise((r) => server.close(() => r()));
  cleanup.push(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, answered, close };
}

async function stateDb() {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-webhooks-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'state.db');
  const open = () => {
    const db = openSqlite(file);
    cleanup.push(() => db.open && db.close());
    return db;
  };
  return { open };
}

const MN = '88888880000001';
const alarm = (id: number, closedAt?: number): Alarm => ({
  id,
  type: 'exceedance',
  mn: MN,
  factor: 'w01018',
  kind: 'hour',
  openedAt: 1_790_000_000_000 + id,
  value: 80,
  limit: 50,
  multiple: 0.6,
  ...(closedAt !== undefined && { closedAt }),
});

function outbox(
  db: ReturnType<typeof openSqlite>,
  urls: string[],
  extra: Partial<ConstructorParameters<typeof WebhookOutbox>[1]> = {},
) {
  const mem = memoryLogger();
  const box = new WebhookOutbox(db, {
    urls,
    log: mem.logger,
    ...FAST_WEBHOOK_RETRIES,
    timeoutMs: 2000,
    ...extra,
  });
  cleanup.push(() => box.stop());
  const notify = makeNotifier({ webhooks: box, topic: 'hj212/alarms', log: mem.logger });
  return { box, notify, lines: mem.lines };
}

describe('alarm webhooks', () => {
  it('retries a failing receiver until it takes each event, in order, with a stable idempotency key', async () => {
    const hook = await receiver(0, [503, 500]);
    const { box, notify, lines } = outbox((await stateDb()).open(), [hook.url]);
    notify('opened', alarm(1));
    notify('closed', alarm(1, 1_790_000_360_000));
    await until(() => hook.got.length === 2 && box.pending() === 0, 'both events taken');
    expect(hook.answered).toEqual([503, 500, 200, 200]);
    expect(hook.got.map((r) => r.body.event)).toEqual(['opened', 'closed']);
    expect(hook.got.map((r) => r.headers['idempotency-key'])).toEqual([
      eventKey('opened', alarm(1)),
      eventKey('closed', alarm(1)),
    ]);
    expect(hook.got[1]!.body.key).toBe(eventKey('closed', alarm(1)));
    const warns = lines.filter((l) => l['msg'] === 'alarm webhook failed; will retry');
    expect(warns.map((l) => l['reason'])).toEqual(['HTTP 503', 'HTTP 500']);
    expect(warns.every((l) => l['mn'] === MN && l['url'] === hook.url)).toBe(true);
  });

  it(
    'keeps events while the receiver is down, across a restart of the ' + 'ingest, and delivers them when it is back',
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}/hook`;
      const state = await stateDb();
      const db1 = state.open();
      const first = outbox(db1, [url]);
      first.notify('opened', alarm(2));
      first.notify('closed', alarm(2, 1_790_000_720_000));
      await until(() => first.lines.some((l) => l['msg'] === 'alarm webhook failed; will retry'), 'a failed attempt');
      expect(String(first.lines.find((l) => l['msg'] === 'alarm webhook failed; will retry')!['reason'])).toMatch(
        /ECONNREFUSED|fetch failed/,
      );
      await first.box.stop();
      db1.close();

      const hook = await receiver(port);
      const second = outbox(state.open(), [url]);
      second.box.start();
      await until(() => hook.got.length === 2 && second.box.pending() === 0, 'events queued before the restart');
      expect(hook.got.map((r) => [r.body.event, r.body.alarm.id])).toEqual([
        ['opened', 2],
        ['closed', 2],
      ]);
    },
  );

  it(
    'drops an event the receiver rejects as a bad request (logged as ' + 'an error) without blocking the ones after it',
    async () => {
      const hook = await receiver(0, [400]);
      const { box, notify, lines } = outbox((await stateDb()).open(), [hook.url]);
      notify('opened', alarm(3));
      notify('opened', alarm(4));
      await until(() => box.pending() === 0, 'queue drained');
      expect(hook.got.map((r) => r.body.alarm.id)).toEqual([4]);
      const refused = lines.find((l) => l['msg'] === 'alarm webhook refused the event; not retried (fix the receiver)');
      expect(refused).toMatchObject({ mn: MN, reason: 'HTTP 400', event: eventKey('opened', alarm(3)) });
    },
  );

  it(
    'gives an event up after the retry window, with an error naming the ' +
      'receiver; a dead receiver does not hold up a live one',
    async () => {
      const dead = `http://127.0.0.1:${await freePort()}/hook`;
      const live = await receiver(0);
      let clock = 1_000_000;
      const { box, notify, lines } = outbox((await stateDb()).open(), [dead, live.url], {
        retryHours: 1,
        now: () => clock,
      });
      notify('opened', alarm(5));
      await until(() => live.got.length === 1, 'the live receiver served');
      expect(box.pending(dead)).toBe(1);
      clock += 2 * 3_600_000;
      await until(() => box.pending() === 0, 'the dead receiver given up');
      expect(lines.find((l) => l['msg'] === 'alarm webhook given up after 1 h of retries')).toMatchObject({
        mn: MN,
        url: dead,
      });
    },
  );
});
