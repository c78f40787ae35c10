import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { hashSecret, importCsv, loadCloudConfig, ConfigError, sha256, startCloud } from '../cloud/index.js';
import { Lifecycle } from '../runtime/lifecycle.js';
import { Registry } from '../cloud/registry.js';
import { saveRegistry } from '../cloud/state/pg-registry.js';
import { migrate, openPg } from '../cloud/state/pg-schema.js';
import { USER_HELP, userCommand } from './cloud-users.js';
import type { CliIo } from './index.js';

const HELP = `Usage: hj212 cloud --config FILE.yaml        run the cloud ingest until SIGINT/SIGTERM
       hj212 cloud hash SECRET                  print the scrypt hash of a password or MQTT secret for the registry
       hj212 cloud token                        print a new API token and the sha256 the config stores for it
       hj212 cloud import-csv FILE [--allow-default-password]
                                                turn a regulator's CSV export into a registry (YAML on stdout)
       hj212 cloud registry-push --config FILE.yaml
                                                a cluster with registry: postgres: check the config's registry
                                                file and make it the one every process reads
${USER_HELP}
See docs/cloud.md for the config, the registry and the CSV columns.
`;

async function serve(file: string, io: CliIo): Promise<number> {
  const config = await loadCloudConfig(file);
  const log = pino({ name: 'hj212-cloud', level: config.logLevel });
  const cloud = await startCloud(config, log);
  log.info({ ...(config.cluster && { cluster: true }) }, 'cloud ingest ready');
  const life = new Lifecycle({ log });
  life.add('cloud', () => cloud.stop());
  // SIGUSR2: run the clock-driven rules now (e.g. after a backfill) instead of at the next check.
  life.onSignal(
    'SIGUSR2',
    () => void cloud.rules.check().then(() => log.info({ reason: 'SIGUSR2' }, 'clock-driven rules checked')),
  );
  await life.untilSignal();
  await life.close();
  io.stdout.write(`${JSON.stringify(cloud.ingest.stats)}\n`);
  return 0;
}

/** The config's registry file into its cluster's PostgreSQL, checked whole first (cloud/state/pg-registry.ts). */
async function pushRegistry(file: string, io: CliIo): Promise<number> {
  const config = await loadCloudConfig(file);
  if (!config.cluster) throw new ConfigError(`${file}: registry-push needs a cluster: { postgres: ... } to push to`);
  const doc = await Registry.readDocument(config.registry);
  Registry.parse(doc, config.registry);
  const pool = openPg(config.cluster.postgres, 2);
  try {
    await migrate(pool);
    const n = await saveRegistry(pool, doc, Date.now());
    io.stdout.write(`${JSON.stringify({ stations: n, registry: config.registry })}\n`);
  } finally {
    await pool.end();
  }
  return 0;
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      'allow-default-password': { type: 'boolean' },
      role: { type: 'string' },
      enterprise: { type: 'string' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [sub, arg] = positionals;
  try {
    if (values.help) {
      io.stdout.write(HELP);
      return 0;
    }
    if (sub === 'hash' && arg !== undefined) {
      io.stdout.write(`${await hashSecret(arg)}\n`);
      return 0;
    }
    if (sub === 'token') {
      const token = randomBytes(24).toString('base64url');
      io.stdout.write(`${JSON.stringify({ token, sha256: sha256(token) })}\n`);
      return 0;
    }
    if (sub === 'user') return await userCommand(positionals.slice(1), values, io);
    if (sub === 'import-csv' && arg !== undefined) {
      const { registry, warnings } = await importCsv(await readFile(arg, 'utf8'), {
        allowDefaultPassword: values['allow-default-password'] === true,
        source: arg,
      });
      for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
      io.stdout.write(stringify(registry));
      return 0;
    }
    if (sub === 'registry-push' && values.config !== undefined) return await pushRegistry(values.config, io);
    if (sub === undefined && values.config !== undefined) return await serve(values.config, io);
    io.stderr.write(HELP);
    return 2;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.stderr.write(`hj212 cloud: ${e.message}\n`);
    return 1;
  }
}
