import pg from 'pg';
import type { Logger } from 'pino';

/**
 * The shared state of an ingest cluster in PostgreSQL, as numbered migrations: each runs once, in
 * order, in its own transaction, and is recorded in `schema_migrations`. A migration once released is
 * never edited; a change is a new one. Times are epoch milliseconds (bigint), as in the SQLite state
 * database, so both stores hand the rules the same numbers.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'alarm episodes, acknowledgements and follow-ups',
    sql: `
      CREATE TABLE alarms (
        id bigserial PRIMARY KEY, key text NOT NULL, type text NOT NULL, mn text NOT NULL, factor text, kind text,
        opened_at bigint NOT NULL, raised_at bigint, closed_at bigint, closed_by text,
        value double precision, lim double precision, multiple double precision, peak double precision, detail text);
      -- At most one open episode per condition, and a condition that started at one instant is raised
      -- once whichever process evaluates it (the last guard of exactly-once after a failover).
      CREATE UNIQUE INDEX alarms_open ON alarms (key) WHERE closed_at IS NULL;
      CREATE UNIQUE INDEX alarms_once ON alarms (key, opened_at);
      CREATE INDEX alarms_mn ON alarms (mn, opened_at);
      CREATE INDEX alarms_opened ON alarms (opened_at, id);
      CREATE TABLE alarm_acks (alarm_id bigint PRIMARY KEY REFERENCES alarms (id), by text NOT NULL,
        at bigint NOT NULL, comment text NOT NULL);
      CREATE TABLE alarm_follow_ups (id bigserial PRIMARY KEY, alarm_id bigint NOT NULL REFERENCES alarms (id),
        by text NOT NULL, at bigint NOT NULL, state text NOT NULL, comment text NOT NULL,
        UNIQUE (alarm_id, at, by, state, comment));`,
  },
  {
    version: 2,
    name: 'webhook queue, shutdown windows, back-filled hours',
    sql: `
      CREATE TABLE webhook_outbox (id bigserial PRIMARY KEY, url text NOT NULL, event_key text NOT NULL,
        mn text NOT NULL, body text NOT NULL, attempts integer NOT NULL DEFAULT 0, created_at bigint NOT NULL);
      CREATE INDEX webhook_outbox_url ON webhook_outbox (url, id);
      CREATE TABLE shutdowns (id bigserial PRIMARY KEY, mn text NOT NULL, "from" text NOT NULL, "to" text NOT NULL,
        reason text NOT NULL);
      CREATE INDEX shutdowns_mn ON shutdowns (mn);
      CREATE TABLE backfills (mn text NOT NULL, factor text NOT NULL, time bigint NOT NULL, arrived_at bigint NOT NULL,
        closed_alarm boolean NOT NULL, PRIMARY KEY (mn, time, factor));`,
  },
  {
    version: 3,
    name: 'rule state per station: value runs, treatment runs, last heard',
    sql: `
      -- One row per station: its rules' state between packets, locked (SELECT ... FOR UPDATE) by the
      -- process evaluating a packet of it, so two processes never interleave one station's rules.
      CREATE TABLE rule_state (mn text PRIMARY KEY, runs jsonb NOT NULL DEFAULT '{}', treatment jsonb,
        seen jsonb, since bigint, requested_at bigint);`,
  },
  {
    version: 4,
    name: 'dashboard accounts, sessions, station keys, commands',
    sql: `
      CREATE TABLE users (name text PRIMARY KEY, role text NOT NULL, hash text NOT NULL, created_at bigint NOT NULL,
        password_changed_at bigint NOT NULL, enterprise text, region text);
      CREATE TABLE sessions (digest text PRIMARY KEY, user_name text NOT NULL REFERENCES users (name) ON DELETE CASCADE,
        stamp bigint NOT NULL, started_at bigint NOT NULL, seen_at bigint NOT NULL);
      CREATE TABLE station_keys (mn text PRIMARY KEY, state text NOT NULL);
      CREATE TABLE commands (id bigserial PRIMARY KEY, mn text NOT NULL, cn text NOT NULL, cp text NOT NULL,
        qn text NOT NULL, sent_at bigint NOT NULL, by text NOT NULL, via text, deadline bigint NOT NULL,
        state text NOT NULL, code integer, meaning text, UNIQUE (mn, qn));
      CREATE TABLE command_answers (seq bigserial PRIMARY KEY, command_id bigint NOT NULL REFERENCES commands (id),
        cn text NOT NULL, at bigint NOT NULL, cp text NOT NULL);
      CREATE INDEX command_answers_by_command ON command_answers (command_id, seq);`,
  },
  {
    version: 5,
    name: 'station registry (optional source), cluster members and bucket leases',
    sql: `
      -- The registry as the YAML file holds it, one document per station; read when registry.source is postgres.
      CREATE TABLE stations (mn text PRIMARY KEY, doc jsonb NOT NULL, updated_at bigint NOT NULL);
      -- Every live ingest process, by its heartbeat on the database's clock.
      CREATE TABLE cluster_members (id text PRIMARY KEY, joined_at timestamptz NOT NULL DEFAULT now(),
        heartbeat_at timestamptz NOT NULL DEFAULT now());
      -- Stations hash into buckets; the holder of a bucket's unexpired lease runs its stations' clock-driven
      -- rules. Expiry is on the database's clock, so no process clock decides who holds what.
      CREATE TABLE bucket_leases (bucket integer PRIMARY KEY, holder text,
        expires_at timestamptz NOT NULL DEFAULT now(),
        epoch bigint NOT NULL DEFAULT 0);`,
  },
  {
    version: 6,
    name: 'review marks',
    sql: `
      -- An overlay on hour records (cloud/marks.ts): withdrawn marks stay, for the audit trail.
      CREATE TABLE marks (id bigserial PRIMARY KEY, mn text NOT NULL, factor text, from_ms bigint NOT NULL,
        to_ms bigint NOT NULL, reason text NOT NULL, flag text NOT NULL, note text NOT NULL, "by" text NOT NULL,
        by_party text, at bigint NOT NULL, revoked_by text, revoked_at bigint);
      CREATE INDEX marks_mn ON marks (mn, from_ms);`,
  },
  {
    version: 7,
    name: 'abnormal-operation registrations',
    sql: `
      -- Periods as given (ISO 8601 with zone), like the shutdown windows an approval writes.
      CREATE TABLE registrations (id bigserial PRIMARY KEY, mn text NOT NULL, "from" text NOT NULL, "to" text NOT NULL,
        reason text NOT NULL, detail text NOT NULL, state text NOT NULL, "by" text NOT NULL, at bigint NOT NULL,
        reviewed_by text, reviewed_at bigint, review_comment text);
      CREATE INDEX registrations_mn ON registrations (mn, "from");`,
  },
  {
    version: 8,
    name: 'O&M records',
    sql: `
      CREATE TABLE om_records (id bigserial PRIMARY KEY, mn text NOT NULL, factor text, type text NOT NULL,
        from_ms bigint NOT NULL, to_ms bigint NOT NULL, company text NOT NULL, standard_value double precision,
        reading double precision, note text NOT NULL, "by" text NOT NULL, at bigint NOT NULL);
      CREATE INDEX om_records_mn ON om_records (mn, from_ms);`,
  },
  {
    version: 9,
    name: 'monitoring plans and manual results',
    sql: `
      -- items: the plan's items as JSON text, kept as submitted (key order included).
      CREATE TABLE plans (id bigserial PRIMARY KEY, mn text NOT NULL, items text NOT NULL, state text NOT NULL,
        "by" text NOT NULL, at bigint NOT NULL, reviewed_by text, reviewed_at bigint, review_comment text,
        attachment_name text, attachment_bytes integer, attachment bytea);
      CREATE INDEX plans_mn ON plans (mn, id);
      CREATE TABLE manual_results (id bigserial PRIMARY KEY, mn text NOT NULL, factor text NOT NULL,
        time bigint NOT NULL, value double precision NOT NULL, method text NOT NULL, method_source text NOT NULL,
        lab text NOT NULL, note text NOT NULL, plan_id bigint NOT NULL REFERENCES plans (id), "by" text NOT NULL,
        at bigint NOT NULL, UNIQUE (mn, factor, time));`,
  },
  {
    version: 10,
    name: 'electronic supervision',
    sql: `
      CREATE TABLE supervision_items (id bigserial PRIMARY KEY, mn text NOT NULL, kind text NOT NULL, alarm_id bigint,
        factor text, from_ms bigint NOT NULL, to_ms bigint, deadline bigint NOT NULL, request text NOT NULL,
        state text NOT NULL, "by" text NOT NULL, at bigint NOT NULL);
      CREATE INDEX supervision_items_mn ON supervision_items (mn, id);
      CREATE INDEX supervision_items_alarm ON supervision_items (alarm_id) WHERE alarm_id IS NOT NULL;
      CREATE TABLE supervision_steps (id bigserial PRIMARY KEY,
        item_id bigint NOT NULL REFERENCES supervision_items (id), action text NOT NULL, state text NOT NULL,
        "by" text NOT NULL, party text NOT NULL, at bigint NOT NULL, comment text NOT NULL, reason text, measures text);
      CREATE INDEX supervision_steps_item ON supervision_steps (item_id, id);
      CREATE TABLE supervision_attachments (id bigserial PRIMARY KEY,
        item_id bigint NOT NULL REFERENCES supervision_items (id),
        step_id bigint NOT NULL REFERENCES supervision_steps (id), name text NOT NULL, bytes integer NOT NULL,
        data bytea NOT NULL);`,
  },
  {
    version: 11,
    name: 'station PWs set by 1072',
    sql: `
      -- The PW in force after a 1072 and a pending one, per station (JSON, as the state SQLite keeps it).
      CREATE TABLE station_passwords (mn text PRIMARY KEY, state text NOT NULL);`,
  },
  {
    version: 12,
    name: "instrument register and the analyzers' last reports",
    sql: `
      CREATE TABLE instruments (mn text NOT NULL, factor text NOT NULL, version integer NOT NULL, body text NOT NULL,
        "by" text NOT NULL, at bigint NOT NULL, PRIMARY KEY (mn, factor, version));
      CREATE TABLE instrument_reports (mn text NOT NULL, factor text NOT NULL, field text NOT NULL,
        value text NOT NULL, at bigint NOT NULL, PRIMARY KEY (mn, factor, field));`,
  },
];

/** Any 64-bit number the cluster agrees on: the advisory lock that serializes concurrent migrations. */
const MIGRATION_LOCK = 2_120_212;

/**
 * Brings the schema to the last version: what a process starting on an older database applies, the
 * others starting at the same time wait for (advisory lock) and then find done. Returns the versions
 * applied by this call.
 */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const c = await pool.connect();
  const applied: number[] = [];
  try {
    await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await c.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now())`);
      const done = new Set(
        (await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((r) => r.version),
      );
      const known = new Set(migrations.map((m) => m.version));
      const newer = [...done].filter((v) => !known.has(v));
      if (newer.length)
        throw new Error(
          `the database has schema version ${Math.max(...newer)}, ` +
            `newer than this hj212 knows (${Math.max(...known)}): upgrade hj212`,
        );
      for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
        if (done.has(m.version)) continue;
        await c.query('BEGIN');
        try {
          await c.query(m.sql);
          await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await c.query('COMMIT');
        } catch (e) {
          await c.query('ROLLBACK');
          throw new Error(`schema migration ${m.version} (${m.name}) failed: ${(e as Error).message}`);
        }
        applied.push(m.version);
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    c.release();
  }
  return applied;
}

/** A pool on `url` with bigint columns read as numbers (epoch ms and ids stay far below 2^53). */
export function openPg(url: string, max = 10, log?: Logger): pg.Pool {
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === pg.types.builtins.INT8
        ? (v: string) => Number(v)
        : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({ connectionString: url, max, types });
  // An idle connection the server ends (a restart, a failover of the database) is dropped and made
  // again on the next query; it does not end the process.
  pool.on('error', (e) =>
    log?.warn({ reason: 'postgres-connection-lost', detail: e.message }, 'PostgreSQL connection lost'),
  );
  return pool;
}

/** Runs `fn` in one transaction on a connection of its own: committed if it returns, rolled back if it throws. */
export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (e) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}
