import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { expandEnv, loadCloudConfig, Registry } from '../cloud/index.js';
import { CENTRE, startCentreMosquitto, type CentreBroker } from './helpers/demo-centre.js';

const centre = fileURLToPath(CENTRE);
const read = (path: string) => readFile(join(centre, path), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] };
  volumes?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  profiles?: string[];
}

describe('deploy/centre/compose.yaml', () => {
  let services: Record<string, Service>;
  beforeAll(async () => {
    services = (parse(await read('compose.yaml'), { merge: true }) as { services: Record<string, Service> }).services;
  });

  it('runs InfluxDB (a retention), a broker (EMQX as a profile), PostgreSQL, two ingest processes, an LB', () => {
    expect(Object.keys(services).sort()).toEqual([
      'emqx',
      'influxdb',
      'ingest-1',
      'ingest-2',
      'lb',
      'mosquitto',
      'postgres',
    ]);
    expect(services.influxdb!.environment!.DOCKER_INFLUXDB_INIT_RETENTION).toMatch(/^\d+d$/);
    expect(services.emqx!.profiles).toEqual(['emqx']);
    expect(services.mosquitto!.ports).toEqual(['8883:8883']);
    expect(services.lb!.ports).toEqual(['9212:9212', '8443:8443']);
    // Each ingest process has its own name in the cluster.
    expect(services['ingest-1']!.environment!.MEMBER).toBe('ingest-1');
    expect(services['ingest-2']!.environment!.MEMBER).toBe('ingest-2');
  });

  it("PostgreSQL, the cluster's shared state: official Debian image, a volume, a healthcheck the ingest awaits", () => {
    const pg = services.postgres!;
    expect(pg.image).toMatch(/^postgres:\d+-bookworm$/);
    expect(pg.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    expect(pg.environment).toMatchObject({ POSTGRES_USER: 'hj212', POSTGRES_DB: 'hj212' });
    expect(pg.environment!.POSTGRES_PASSWORD).toBe('${POSTGRES_PASSWORD:?run ./init.sh}');
    expect(pg.healthcheck!.test).toEqual(expect.arrayContaining(['pg_isready']));
    expect(pg.ports).toBeUndefined(); // only the ingest processes reach it, on the compose network
    for (const n of ['ingest-1', 'ingest-2']) {
      expect(services[n]!.depends_on, n).toMatchObject({ postgres: { condition: 'service_healthy' } });
      expect(services[n]!.environment!.POSTGRES_PASSWORD, n).toBe('${POSTGRES_PASSWORD:?run ./init.sh}');
    }
  });

  it('every secret compose requires is one init.sh writes into .env', async () => {
    const init = await read('init.sh');
    const required = [...(await read('compose.yaml')).matchAll(/\$\{([A-Z_]+):\?run \.\/init\.sh\}/g)].map(
      (m) => m[1]!,
    );
    expect(new Set(required)).toEqual(
      new Set(['INFLUX_ADMIN_PASSWORD', 'INFLUX_TOKEN', 'INGEST_MQTT_PASSWORD', 'POSTGRES_PASSWORD']),
    );
    for (const name of required) expect(init, name).toContain(`${name}=%s`);
  });

  it('declares every named volume, and gives each ingest a writable one for its state and spill', async () => {
    const doc = parse(await read('compose.yaml'), { merge: true }) as { volumes: Record<string, unknown> };
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (!source.startsWith('.')) expect(Object.keys(doc.volumes), `${name}: ${source}`).toContain(source);
      }
    }
    for (const n of ['ingest-1', 'ingest-2']) expect(services[n]!.volumes).toContain(`${n}-state:/var/lib/hj212`);
  });

  it('references files that exist, or that init.sh creates (secrets, certificates, the password file)', async () => {
    const init = await read('init.sh');
    const generated = ['./certs', './mosquitto/hj212.passwd'];
    for (const generatedPath of generated) expect(init).toContain(generatedPath.slice(2));
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (!source.startsWith('.')) continue;
        const made = generated.some((g) => source === g || source.startsWith(`${g}/`));
        expect(made || existsSync(join(centre, source)), `${name}: ${source}`).toBe(true);
      }
      if (s.build) {
        const dockerfile = join(centre, s.build.context, s.build.dockerfile);
        expect(existsSync(dockerfile), `${name}: build`).toBe(true);
        // The secrets init.sh writes stay out of the image.
        expect(await readFile(`${dockerfile}.dockerignore`, 'utf8')).toContain('deploy/centre/.env');
      }
    }
  });

  it("the ingest's config loads with the environment compose gives it, and its registry parses", async () => {
    const env = {
      ...services['ingest-1']!.environment,
      INFLUX_TOKEN: 't',
      INGEST_MQTT_PASSWORD: 'p',
      POSTGRES_PASSWORD: 'pg',
      BROKER_HOST: 'mosquitto',
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const config = await loadCloudConfig(join(centre, 'config/cloud.yaml'));
      expect(config.store.type).toBe('influxdb');
      expect(config.mqtt).toMatchObject({
        mode: 'external',
        url: 'mqtts://mosquitto:8884', // the ingest listener
        username: 'ingest',
        password: 'p',
      });
      expect(config.cluster).toEqual({
        postgres: 'postgres://hj212:pg@postgres:5432/hj212', // the compose service, its user and database
        member: 'ingest-1',
        leaseSeconds: 10,
        renewSeconds: 2,
        poolSize: 10,
        // Both processes read the one stations.yaml compose mounts.
        registry: 'file',
        registryPollSeconds: 10,
      });
      Registry.parse(parse(await read('config/stations.yaml')), 'stations.yaml');
    } finally {
      for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    }
  });

  it('a secret missing from the environment is an error naming its line, not an empty password', () => {
    expect(() => expandEnv('a: 1\npassword: "${NOPE}"\n', {})).toThrow('line 2: ${NOPE} is not set');
    expect(expandEnv('# ${NOPE} in a comment\n', {})).toBe('# ${NOPE} in a comment\n');
  });
});

const A = '0100000000A89000000000A1';
const B = '0100000000A89000000000B2';
const FRAME = '##0010QN=1;CN=1&&&&0000\r\n';

/** Resolves to the topics `client` receives within `ms`. */
async function received(client: MqttClient, ms: number): Promise<string[]> {
  const got: string[] = [];
  const on = (topic: string) => got.push(topic);
  client.on('message', on);
  await new Promise((r) => setTimeout(r, ms));
  client.off('message', on);
  return got;
}

describe('deploy/centre Mosquitto config and ACL, on a real mosquitto', () => {
  let broker: CentreBroker;
  const clients: MqttClient[] = [];
  const login = async (user: string, pass: string) => {
    const c = await broker.client(user, pass);
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    broker = await startCentreMosquitto({
      [A]: 'secret-a',
      [B]: 'secret-b',
      ingest: 'ingest-secret',
      alarms: 'alarms-secret',
    });
  }, 30_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker?.stop();
  });

  it('refuses anonymous logins, wrong secrets and clients that do not trust the CA', async () => {
    await expect(broker.client('', '')).rejects.toThrow();
    await expect(broker.client(A, 'secret-b')).rejects.toThrow();
    await expect(
      broker.client(A, 'secret-a', { ca: [] as unknown as Buffer, rejectUnauthorized: true }),
    ).rejects.toThrow();
  });

  // Mosquitto 2.0 grants any subscription and applies the ACL per delivered message, so what counts is what arrives.
  it('a device publishes only to its own up topic and reads only its own down topic', async () => {
    const ingest = await login('ingest', 'ingest-secret');
    await ingest.subscribeAsync('$share/ingest/hj212/+/up', { qos: 1 });
    const a = await login(A, 'secret-a');
    const b = await login(B, 'secret-b');
    await a.subscribeAsync([`hj212/${A}/down`, `hj212/${B}/down`, 'hj212/alarms/#', 'hj212/_cluster/#'], { qos: 1 });
    await b.subscribeAsync(`hj212/${B}/down`, { qos: 1 });

    const atIngest = received(ingest, 1500);
    await a.publishAsync(`hj212/${B}/up`, FRAME, { qos: 1 }).catch(() => undefined); // refused: B's topic
    // Refused: not a device topic (a device posing as an ingest process asking a logger for something).
    await a.publishAsync(`hj212/_cluster/send/${B}`, FRAME, { qos: 1 }).catch(() => undefined);
    await a.publishAsync(`hj212/${A}/up`, FRAME, { qos: 1 });
    expect(await atIngest).toEqual([`hj212/${A}/up`]);

    const atA = received(a, 1000);
    const atB = received(b, 1000);
    for (const topic of [`hj212/${A}/down`, `hj212/${B}/down`, `hj212/alarms/${A}`, `hj212/_cluster/send/${A}`])
      await ingest.publishAsync(topic, FRAME, { qos: 1 });
    expect(await atA).toEqual([`hj212/${A}/down`]);
    expect(await atB).toEqual([`hj212/${B}/down`]);
  });

  it("the ingest account has only the cluster's requests channel; the alarms account only reads alarms", async () => {
    const ingest = await login('ingest', 'ingest-secret');
    const alarms = await login('alarms', 'alarms-secret');
    const a = await login(A, 'secret-a');
    await ingest.subscribeAsync('hj212/_cluster/#', { qos: 1 });
    await alarms.subscribeAsync(['hj212/alarms/#', 'hj212/+/up', 'hj212/+/down', 'hj212/_cluster/#'], { qos: 1 });
    const atIngest = received(ingest, 1000);
    const atAlarms = received(alarms, 1000);
    await ingest.publishAsync(`hj212/_cluster/send/${A}`, '{}', { qos: 1 });
    // The topics of the MQTT replication that PostgreSQL replaced are no longer the ingest's.
    for (const gone of [
      'hj212/_cluster/1/x',
      'hj212/_cluster/alarms/1',
      'hj212/_cluster/acks/1',
      'hj212/_cluster/sync/1',
    ])
      await ingest.publishAsync(gone, '{}', { qos: 1 }).catch(() => undefined);
    await ingest.publishAsync(`hj212/alarms/${A}`, '{}', { qos: 1 });
    await ingest.publishAsync(`hj212/${A}/down`, FRAME, { qos: 1 });
    await a.publishAsync(`hj212/${A}/up`, FRAME, { qos: 1 });
    await alarms.publishAsync(`hj212/alarms/${A}`, 'forged', { qos: 1 }).catch(() => undefined);
    expect(await atIngest).toEqual([`hj212/_cluster/send/${A}`]);
    expect(await atAlarms).toEqual([`hj212/alarms/${A}`]);
  });
});

describe('deploy/centre EMQX ACL', () => {
  it('gives the ingest the same topics as the Mosquitto ACL: of the cluster, only the requests channel', async () => {
    const rules = (await read('emqx/acl.conf')).split('\n').filter((l) => l.includes('{username, "ingest"}'));
    expect(rules).toHaveLength(2);
    const cluster = rules.flatMap((l) => [...l.matchAll(/"(hj212\/_cluster\/[^"]*)"/g)].map((m) => m[1]));
    expect(cluster).toEqual(['hj212/_cluster/send/#', 'hj212/_cluster/send/#']);
    const mosquitto = await read('mosquitto/hj212.acl');
    expect(mosquitto.match(/^topic .*_cluster.*$/gm)).toEqual(['topic readwrite hj212/_cluster/send/#']);
  });
});
