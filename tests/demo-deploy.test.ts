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
  build?: { context: string; dockerfile: string };
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

  it(
    'runs InfluxDB with a retention, a broker (Mosquitto, EMQX as a ' +
      'profile), two ingest processes and a load balancer',
    () => {
      expect(Object.keys(services).sort()).toEqual(['emqx', 'influxdb', 'ingest-1', 'ingest-2', 'lb', 'mosquitto']);
      expect(services.influxdb!.environment!.DOCKER_INFLUXDB_INIT_RETENTION).toMatch(/^\d+d$/);
      expect(services.emqx!.profiles).toEqual(['emqx']);
      expect(services.mosquitto!.ports).toEqual(['8883:8883']);
      expect(services.lb!.ports).toEqual(['9212:9212', '8443:8443']);
      expect(services['ingest-1']!.environment!.NODE_INDEX).toBe('0');
      expect(services['ingest-2']!.environment!.NODE_INDEX).toBe('1');
    },
  );

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
      expect(config.cluster).toEqual({ nodeIndex: 0, nodeCount: 2 });
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
    await a.publishAsync('hj212/_cluster/0/x', FRAME, { qos: 1 }).catch(() => undefined); // refused: not a device topic
    await a.publishAsync(`hj212/${A}/up`, FRAME, { qos: 1 });
    expect(await atIngest).toEqual([`hj212/${A}/up`]);

    const atA = received(a, 1000);
    const atB = received(b, 1000);
    for (const topic of [`hj212/${A}/down`, `hj212/${B}/down`, `hj212/alarms/${A}`, 'hj212/_cluster/0/x'])
      await ingest.publishAsync(topic, FRAME, { qos: 1 });
    expect(await atA).toEqual([`hj212/${A}/down`]);
    expect(await atB).toEqual([`hj212/${B}/down`]);
  });

  it('the ingest account has the cluster channel; the alarms account only reads alarms', async () => {
    const ingest = await login('ingest', 'ingest-secret');
    const alarms = await login('alarms', 'alarms-secret');
    const a = await login(A, 'secret-a');
    await ingest.subscribeAsync('hj212/_cluster/#', { qos: 1 });
    await alarms.subscribeAsync(['hj212/alarms/#', 'hj212/+/up', 'hj212/+/down'], { qos: 1 });
    const atIngest = received(ingest, 1000);
    const atAlarms = received(alarms, 1000);
    await ingest.publishAsync('hj212/_cluster/1/x', '{}', { qos: 1 });
    await ingest.publishAsync(`hj212/alarms/${A}`, '{}', { qos: 1 });
    await ingest.publishAsync(`hj212/${A}/down`, FRAME, { qos: 1 });
    await a.publishAsync(`hj212/${A}/up`, FRAME, { qos: 1 });
    await alarms.publishAsync(`hj212/alarms/${A}`, 'forged', { qos: 1 }).catch(() => undefined);
    expect(await atIngest).toEqual(['hj212/_cluster/1/x']);
    expect(await atAlarms).toEqual([`hj212/alarms/${A}`]);
  });
});
