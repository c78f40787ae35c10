import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { LiveHub, LiveMessage, LiveRelay } from '../api/live.js';
import { listen } from './pg-listen.js';

const CHANNEL = 'hj212_live';
/** PostgreSQL's limit on a NOTIFY payload is 8000 bytes; a message over it goes without its values. */
const MAX_PAYLOAD = 7_900;

/**
 * The live views of a cluster's processes kept in step through PostgreSQL's LISTEN/NOTIFY: every
 * event (data stored, an alarm changed, a request answered, a supervision step) and the newest values
 * one process learns reach the dashboards connected to the others. Best effort, as the events are on
 * one process: a dashboard re-reads what it shows on each event, and a notification lost while a
 * connection is down only delays that.
 */
export class PgLiveRelay implements LiveRelay {
  private readonly self = randomUUID();

  private unlisten: () => void = () => undefined;

  private constructor(
    private readonly pool: pg.Pool,
    private readonly log: Logger,
  ) {}

  /** Listens for the others' messages and hands them to `hub`; `hub` sends its own through the result. */
  static async open(pool: pg.Pool, hub: LiveHub, log: Logger): Promise<PgLiveRelay> {
    const relay = new PgLiveRelay(pool, log);
    relay.unlisten = await listen(pool, CHANNEL, log, 'live events of the cluster', (payload) => {
      const { from, message } = JSON.parse(payload) as { from: string; message: LiveMessage };
      if (from !== relay.self) hub.receive(message);
    });
    return relay;
  }

  send(message: LiveMessage): void {
    let payload = JSON.stringify({ from: this.self, message });
    if (Buffer.byteLength(payload) > MAX_PAYLOAD)
      payload = JSON.stringify({ from: this.self, message: { event: message.event } });
    this.pool
      .query('SELECT pg_notify($1, $2)', [CHANNEL, payload])
      .catch((e: Error) => this.log.warn({ reason: e.message }, 'live event not sent to the cluster'));
  }

  close(): void {
    this.unlisten();
  }
}
