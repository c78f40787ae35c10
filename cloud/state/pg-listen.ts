import type pg from 'pg';
import type { Logger } from 'pino';

/**
 * A connection of its own LISTENing on `channel`, each payload handed to `on` (attached before the
 * LISTEN, so nothing delivered from then on is missed). A connection the server ends is logged with
 * what its notifications carried (`what`); the caller's state is then only as fresh as its reads.
 * Returns the function that releases the connection.
 */
export async function listen(
  pool: pg.Pool,
  channel: string,
  log: Logger,
  what: string,
  on: (payload: string) => void,
): Promise<() => void> {
  const client = await pool.connect();
  client.on('error', (e) => log.warn({ reason: 'postgres-listen-lost', channel, detail: e.message }, `${what} lost`));
  client.on('notification', (n) => {
    if (n.channel === channel && n.payload) on(n.payload);
  });
  await client.query(`LISTEN ${channel}`);
  return () => client.release(true);
}
