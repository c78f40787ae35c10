import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { createServer as createTlsServer } from 'node:tls';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connectAsync } from 'mqtt';
import { dataAnswer, decodeFrame, encodeFrame, needsAck } from '../../protocol/index.js';
import type { Packet } from '../../protocol/index.js';
import { freePort, launch } from './common.js';

export interface Broker {
  url: string;
  close(): Promise<void>;
}

/** Per-device credentials: MQTT user name → password. */
export type Credentials = Record<string, string>;

/** A throw-away CA and a server certificate for 127.0.0.1 (openssl, EC keys: quick to make). */
export async function testCertificates(dir: string): Promise<{ ca: string; key: Buffer; cert: Buffer }> {
  const file = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      file('ca.key'),
      '-out',
      file('ca.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=hj212 test CA',
    ],
    { stdio: 'ignore' },
  );
  execFileSync(
    'openssl',
    ['req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1'],
    { stdio: 'ignore' },
  );
  await writeFile(file('san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  execFileSync(
    'openssl',
    [
      'x509',
      '-req',
      '-in',
      file('server.csr'),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-out',
      file('server.pem'),
      '-days',
      '1',
      '-extfile',
      file('san.cnf'),
    ],
    { stdio: 'ignore' },
  );
  return { ca: file('ca.pem'), key: await readFile(file('server.key')), cert: await readFile(file('server.pem')) };
}

/**
 * Our embedded broker (aedes) on a loopback port, refusing unknown users; over TLS when given a key and certificate.
 */
export async function startAedes(credentials: Credentials, tls?: { key: Buffer; cert: Buffer }): Promise<Broker> {
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => {
      const ok =
        username !== undefined && credentials[username] !== undefined && password?.toString() === credentials[username];
      done(ok ? null : Object.assign(new Error('bad credentials'), { returnCode: 4 }), ok);
    },
  });
  const server = tls ? createTlsServer(tls, broker.handle) : createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Debian's mosquitto on a loopback port with a password file; stopped by pid, its dir removed. */
export async function startMosquittoBroker(credentials: Credentials): Promise<Broker> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-edge-mosq-'));
  const passwords = join(dir, 'passwords');
  await writeFile(passwords, '');
  for (const [user, password] of Object.entries(credentials))
    execFileSync('mosquitto_passwd', ['-b', passwords, user, password]);
  // Started as root, mosquitto drops to its own user, which must still read the password file.
  await chmod(dir, 0o755);
  await chmod(passwords, 0o644);
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwords}`,
      'log_dest stderr',
      'log_type all',
      '',
    ].join('\n'),
  );
  const proc = await launch(dir, port, '/usr/sbin/mosquitto', ['-c', conf], 'mosquitto', 10_000);
  return { url: `mqtt://127.0.0.1:${port}`, close: proc.stop };
}

/**
 * A stand-in for the cloud: reads every station's up topic, answers 9014 to frames that ask for it
 * (unless `answering` is off), and sends commands down.
 */
export async function cloudPeer(url: string, username: string, password: string, caFile?: string) {
  const ca = caFile === undefined ? {} : { ca: await readFile(caFile) };
  const client = await connectAsync(url, {
    username,
    password,
    clientId: `cloud-${Date.now()}`,
    reconnectPeriod: 0,
    ...ca,
  });
  const received: Packet[] = [];
  const state = { answering: true };
  const failures: Error[] = [];
  client.on('message', (topic, payload) => {
    const result = decodeFrame(payload);
    if (!result.ok) return;
    const packet = result.frame.packet;
    received.push(packet);
    if (!state.answering || !needsAck(packet.flag)) return;
    // An answer still in flight when the test closes the peer fails, as it would for a real cloud.
    client.publish(topic.replace(/\/up$/, '/down'), encodeFrame(dataAnswer(packet)), { qos: 1 }, (err) => {
      if (err && !client.disconnecting) failures.push(err);
    });
  });
  await client.subscribeAsync('hj212/+/up', { qos: 1 });
  return {
    received,
    state,
    failures,
    send: (mn: string, packet: Packet) => client.publishAsync(`hj212/${mn}/down`, encodeFrame(packet), { qos: 1 }),
    close: () => client.endAsync(true),
  };
}
