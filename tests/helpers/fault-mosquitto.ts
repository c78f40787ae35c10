import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, launch, type Proc } from './common.js';

const run = promisify(execFile);
const DEPLOY = new URL('../../deploy/cloud/', import.meta.url);

/**
 * Mosquitto as deploy/cloud/ configures it for a centre (no anonymous logins, the shipped ACL file
 * as is), its device listener on `port` and its ingest listener on `ingestPort` (loopback), logging everything to
 * stderr so refusals can be asserted.
 */
export async function startDeployedMosquitto(users: Record<string, string>): Promise<Proc & { ingestPort: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-mosq-acl-'));
  const port = await freePort();
  const ingestPort = await freePort();
  const acl = join(dir, 'hj212.acl');
  const passwd = join(dir, 'hj212.passwd');
  await copyFile(new URL('mosquitto.acl', DEPLOY), acl);
  await writeFile(passwd, '');
  for (const [user, secret] of Object.entries(users)) await run('mosquitto_passwd', ['-b', passwd, user, secret]);
  // The shipped config, with the paths and the listener moved into the temp dir and onto loopback.
  const shipped = await readFile(new URL('mosquitto.conf', DEPLOY), 'utf8');
  const conf = shipped
    .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
    .replace(/^listener 1884 127.0.0.1$/m, `listener ${ingestPort} 127.0.0.1`)
    .replace(/^password_file .*$/m, `password_file ${passwd}`)
    .replace(/^acl_file .*$/m, `acl_file ${acl}`)
    .replace(/^persistence .*$/m, 'persistence false');
  const file = join(dir, 'mosquitto.conf');
  await writeFile(file, `${conf}\nlog_dest stderr\nlog_type all\n`);
  // Started as root, Mosquitto drops to its own user, which must still read its files.
  await Promise.all([chmod(dir, 0o755), chmod(acl, 0o644), chmod(passwd, 0o644), chmod(file, 0o644)]);
  if (!conf.includes(`listener ${ingestPort} `)) throw new Error('the shipped mosquitto.conf has no ingest listener');
  return { ...(await launch(dir, port, '/usr/sbin/mosquitto', ['-c', file], 'mosquitto')), ingestPort };
}
