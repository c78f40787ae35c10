import type pg from 'pg';
import type { Logger } from 'pino';
import { ConfigError, Registry, RegistrySchema } from '../registry.js';
import { inTransaction } from './pg-schema.js';

/**
 * The station registry kept in PostgreSQL (`stations`, one document per MN, as the YAML file writes
 * it), for a cluster whose processes should all read one registry without sharing a file. The YAML
 * file stays the default; this is the other source, checked by the same schema.
 */

/** Every station in the database as a Registry; an invalid document is a ConfigError naming the field. */
export async function loadRegistry(db: Pick<pg.Pool, 'query'>): Promise<Registry> {
  const r = await db.query<{ doc: unknown }>('SELECT doc FROM stations ORDER BY mn');
  return Registry.parse({ stations: r.rows.map((x) => x.doc) }, 'postgres table stations');
}

/**
 * Replaces the stations in the database with those of a registry document (what the YAML file
 * holds), in one transaction, after checking the whole of it: an invalid document changes nothing.
 * Returns how many stations it holds.
 */
export async function saveRegistry(pool: pg.Pool, doc: unknown, now: number): Promise<number> {
  const checked = RegistrySchema.safeParse(doc);
  if (!checked.success) Registry.parse(doc, 'registry to import');
  const stations = (doc as { stations: { mn: string }[] }).stations;
  try {
    await inTransaction(pool, async (client) => {
      await client.query('DELETE FROM stations WHERE mn <> ALL($1::text[])', [stations.map((s) => s.mn)]);
      for (const s of stations)
        await client.query(
          `INSERT INTO stations (mn, doc, updated_at) VALUES ($1, $2, $3)
           ON CONFLICT (mn) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at
           WHERE stations.doc IS DISTINCT FROM excluded.doc`,
          [s.mn, JSON.stringify(s), now],
        );
    });
  } catch (e) {
    throw e instanceof ConfigError ? e : new Error(`registry not saved: ${(e as Error).message}`);
  }
  return stations.length;
}

/** A stamp that changes whenever the stations do (count and latest change): what a reload polls. */
export async function registryStamp(db: Pick<pg.Pool, 'query'>): Promise<string> {
  const r = await db.query<{ n: number; at: number | null }>(
    'SELECT count(*)::int AS n, max(updated_at) AS at FROM stations',
  );
  return `${r.rows[0]!.n}:${r.rows[0]!.at ?? 0}`;
}

/**
 * Polls the stations table every `everyMs` and hands a changed registry to `onLoad`; one that does
 * not pass the schema (or a database that does not answer) is logged and the last good one kept.
 * Returns the stop function.
 */
export function watchPgRegistry(
  db: Pick<pg.Pool, 'query'>,
  everyMs: number,
  onLoad: (r: Registry) => void,
  log: Logger,
): () => void {
  let last: string | undefined;
  let busy = false;
  const poll = async (): Promise<void> => {
    const stamp = await registryStamp(db);
    if (last === undefined) last = stamp;
    if (stamp === last) return;
    const r = await loadRegistry(db);
    last = stamp;
    log.info({ source: 'postgres', stations: r.stations.length }, 'registry reloaded');
    onLoad(r);
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    poll()
      .catch((e: Error) =>
        log.error({ source: 'postgres', reason: e.message }, 'registry not reloaded; keeping the last good one'),
      )
      .finally(() => (busy = false));
  }, everyMs);
  // The stamp of what was loaded at start: a change from then on is a reload.
  void registryStamp(db).then(
    (s) => (last ??= s),
    () => undefined,
  );
  return () => clearInterval(timer);
}
