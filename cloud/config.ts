import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HttpOptionsSchema } from './api/server.js';
import { ClusterOptionsSchema } from './cluster.js';
import { AuthOptionsSchema } from './guessing.js';
import { IngestOptionsSchema } from './ingest/ingest.js';
import { MqttOptionsSchema } from './ingest/mqtt.js';
import { TcpOptionsSchema } from './ingest/tcp.js';
import { RulesOptionsSchema } from './rules/engine.js';
import { InfluxOptionsSchema } from './store/influx.js';
import { describeIssues } from '../protocol/zod-issues.js';
import { ConfigError } from './registry.js';

const SqliteStoreSchema = z.strictObject({ type: z.literal('sqlite'), path: z.string().default('hj212-cloud.db') });

export const CloudConfigSchema = z
  .strictObject({
    /** The station registry (YAML), reloaded when it changes. */
    registry: z.string().min(1, 'give the station registry file, e.g. registry: stations.yaml'),
    store: z
      .discriminatedUnion('type', [SqliteStoreSchema, InfluxOptionsSchema], 'store.type is sqlite or influxdb')
      .default({ type: 'sqlite', path: 'hj212-cloud.db' }),
    /** Raw HJ 212 over TCP; leave out to disable. */
    tcp: TcpOptionsSchema.optional(),
    /** HJ 212 frames over MQTT: the embedded broker, or an external one by URL; leave out to disable. */
    mqtt: MqttOptionsSchema.optional(),
    /** The HTTP API (and HTTP ingestion); leave out to disable. */
    http: HttpOptionsSchema.optional(),
    /** Alarms and registered shutdown windows (SQLite), whichever store holds the measurements. */
    state: z.string().default('hj212-state.db'),
    /**
     * HJ 212-2025: after a 1014 key change, frames under the replaced SM4 key are still decoded for
     * this long; also the grace of a PW a 1072 replaced.
     */
    keyGraceSeconds: z.number().int().min(0).default(600),
    /** Limits on guessing passwords and MQTT secrets (cloud/guessing.ts). */
    auth: AuthOptionsSchema.prefault({}),
    /** Checks of what uploads carry (DataTime against this server's clock). */
    ingest: IngestOptionsSchema.prefault({}),
    rules: RulesOptionsSchema,
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    /** One of several ingest processes sharing an external broker, one PostgreSQL and one store (cloud/cluster.ts). */
    cluster: ClusterOptionsSchema.optional(),
  })
  .refine((c) => c.cluster === undefined || c.mqtt?.mode === 'external', {
    path: ['cluster'],
    message: 'a cluster needs mqtt: { mode: external }: its processes talk through the broker',
  });
export type CloudConfig = z.output<typeof CloudConfigSchema>;
export type CloudConfigInput = z.input<typeof CloudConfigSchema>;

/**
 * `${NAME}` in a config file is the environment variable NAME, so containers and systemd can keep
 * secrets (InfluxDB token, broker password) and per-node values out of the file. An unset one is
 * an error naming the line: a secret silently replaced by "" would be a login with an empty password.
 * Comment lines are left alone, so examples may show the syntax.
 */
export function expandEnv(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text
    .split('\n')
    .map((line, i) =>
      line.trimStart().startsWith('#')
        ? line
        : line.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
            const value = env[name];
            if (value === undefined) throw new Error(`line ${i + 1}: \${${name}} is not set in the environment`);
            return value;
          }),
    )
    .join('\n');
}

/** Reads and validates a config file; relative paths in it are taken from the file's folder. */
export async function loadCloudConfig(file: string): Promise<CloudConfig> {
  let doc: unknown;
  try {
    doc = parseYaml(expandEnv(await readFile(file, 'utf8')));
  } catch (e) {
    throw new ConfigError(`${file}: ${(e as Error).message}`);
  }
  const r = CloudConfigSchema.safeParse(doc);
  if (!r.success) throw new ConfigError(describeIssues(r.error, { source: file, docs: 'docs/cloud.md' }));
  const base = dirname(resolve(file));
  const c = r.data;
  const store =
    c.store.type === 'sqlite'
      ? { ...c.store, path: resolve(base, c.store.path) }
      : { ...c.store, spillPath: resolve(base, c.store.spillPath) };
  const mqtt =
    c.mqtt?.mode === 'external' && c.mqtt.ca !== undefined ? { ...c.mqtt, ca: resolve(base, c.mqtt.ca) } : c.mqtt;
  return { ...c, registry: resolve(base, c.registry), state: resolve(base, c.state), store, ...(mqtt && { mqtt }) };
}
