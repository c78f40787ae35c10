import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { freePort, launch, type Proc } from './common.js';

const run = promisify(execFile);
export const CENTRE = new URL('../../deploy/centre/', import.meta.url);

/** A private CA and a server certificate for 127.0.0.1, as deploy/centre/init.sh makes them. */
async function makeCerts(dir: string): Promise<void> {
  const ssl = (...args: string[]) => run('openssl', args, { cwd: dir });
  await ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  await ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=localhost',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  );
  await writeFile(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'san.ext',
    '-out',
    'server.crt',
  );
}

export interface CentreBroker extends Proc {
  /** The device listener (8883 as shipped: client id = user name). */
  url: string;
  /** The ingest listener (8884 as shipped), for the ingest processes that share one login. */
  ingestUrl: string;
  caFile: string;
  /** An MQTT 5 client over TLS with the test CA; `reconnectPeriod: 0` so a refused login rejects. */
  client(username: string, password: string, extra?: IClientOptions): Promise<MqttClient>;
}

/** The shipped files with their paths moved into `dir`; returns the config file. */
async function prepare(dir: string, port: number, ingestPort: number, users: Record<string, string>): Promise<string> {
  await makeCerts(dir);
  const passwd = join(dir, 'hj212.passwd');
  await writeFile(passwd, '');
  for (const [user, secret] of Object.entries(users)) await run('mosquitto_passwd', ['-b', passwd, user, secret]);
  await copyFile(new URL('mosquitto/hj212.acl', CENTRE), join(dir, 'hj212.acl'));
  const shipped = await readFile(new URL('mosquitto/mosquitto.conf', CENTRE), 'utf8');
  const conf = shipped
    .replace(/^listener 8883$/m, `listener ${port} 127.0.0.1`)
    .replace(/^listener 8884$/m, `listener ${ingestPort} 127.0.0.1`)
    .replaceAll('/mosquitto/config/', `${dir}/`)
    .replaceAll('/mosquitto/certs/', `${dir}/`)
    .replace(/^persistence true$/m, 'persistence false')
    .replace(/^persistence_location .*\n/m, '')
    .replace(/^log_dest stdout$/m, 'log_dest stderr');
  if (!conf.includes(`listener ${ingestPort} `))
    throw new Error('the shipped mosquitto.conf has no ingest listener 8884');
  if (conf.includes('/mosquitto/')) throw new Error(`a path in the shipped mosquitto.conf was not moved: ${conf}`);
  const file = join(dir, 'mosquitto.conf');
  await writeFile(file, `${conf}\nlog_type all\n`);
  // Started as root, Mosquitto drops to its own user, which must still read its files.
  await chmod(dir, 0o755);
  for (const f of ['hj212.passwd', 'hj212.acl', 'mosquitto.conf', 'ca.crt', 'server.crt', 'server.key'])
    await chmod(join(dir, f), 0o644);
  return file;
}

/**
 * Mosquitto with deploy/centre/mosquitto/mosquitto.conf and hj212.acl as shipped: only the paths
 * (certificates, password file, ACL, data) move into a temp dir and the TLS listener onto a loopback
 * port; the users are written with mosquitto_passwd as init.sh and add-device.sh do.
 */
export async function startCentreMosquitto(users: Record<string, string>): Promise<CentreBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-centre-mosq-'));
  const port = await freePort();
  const ingestPort = await freePort();
  let file: string;
  try {
    file = await prepare(dir, port, ingestPort, users);
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const proc = await launch(dir, port, '/usr/sbin/mosquitto', ['-c', file], 'mosquitto');
  const caFile = join(dir, 'ca.crt');
  const ca = await readFile(caFile);
  const url = `mqtts://localhost:${port}`;
  return {
    ...proc,
    url,
    ingestUrl: `mqtts://localhost:${ingestPort}`,
    caFile,
    client: (username, password, extra = {}) =>
      connectAsync(url, {
        username,
        password,
        ca,
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...extra,
      }),
  };
}
