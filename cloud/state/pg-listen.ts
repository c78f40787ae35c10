import type pg from 'pg';
import type { Logger } from 'pino';

/** The first wait before listening again after the connection is lost, and the longest. */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 30_000;

export interface ListenOptions {
  /**
   * Called once listening again after a lost connection: a notification sent in the gap is gone
   * (PostgreSQL queues them per session), so the caller reads again what they would have told it.
   */
  resync?: () => Promise<void>;
}

/**
 * A connection of its own LISTENing on `channel`, each payload handed to `on` (attached before the
 * LISTEN, so nothing delivered from then on is missed). A connection lost (the server restarted, the
 * backend terminated, the network cut) is logged and made again with a doubling wait up to 30 s, and
 * `resync` is then called. Returns the function that releases the connection and stops retrying.
 */
export async function listen(
  pool: pg.Pool,
  channel: string,
  log: Logger,
  what: string,
  on: (payload: string) => void,
  options: ListenOptions = {},
): Promise<() => void> {
  let closed = false;
  /** Releases the connection listening now, if any, without counting it as lost. */
  let current: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let waitMs = RETRY_FIRST_MS;

  const attach = async (): Promise<void> => {
    const client = await pool.connect();
    let gone = false;
    const drop = (e?: Error): void => {
      if (gone) return;
      gone = true;
      if (current === drop) current = undefined;
      client.release(e ?? true);
    };
    const lost = (e?: Error): void => {
      if (gone) return;
      drop(e);
      if (closed) return;
      log.warn({ reason: 'postgres-listen-lost', channel, detail: e?.message ?? 'ended' }, `${what} lost`);
      retry();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (n) => {
      if (n.channel === channel && n.payload) on(n.payload);
    });
    try {
      await client.query(`LISTEN ${channel}`);
    } catch (e) {
      drop();
      throw e;
    }
    if (closed) drop();
    else current = drop;
  };

  const retry = (): void => {
    if (timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (closed) return;
      attach().then(
        () => {
          if (closed) return;
          waitMs = RETRY_FIRST_MS;
          log.info({ reason: 'postgres-listen-back', channel }, `${what} listened to again`);
          // A read that fails here fails because the server went again: the next loss reads again.
          options
            .resync?.()
            .catch((e: Error) =>
              log.warn({ reason: 'postgres-resync-failed', channel, detail: e.message }, `${what} not read again`),
            );
        },
        (e: Error) => {
          if (closed) return;
          log.warn({ reason: 'postgres-listen-retry', channel, detail: e.message, waitMs }, `${what} not back yet`);
          waitMs = Math.min(RETRY_MAX_MS, waitMs * 2);
          retry();
        },
      );
    }, waitMs);
    // The process's own servers keep it alive; a retry alone must not.
    timer.unref();
  };

  await attach();
  return () => {
    closed = true;
    clearTimeout(timer);
    current?.();
  };
}
