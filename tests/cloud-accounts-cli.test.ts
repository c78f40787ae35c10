import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { UserStore } from '../cloud/accounts.js';
import { openSqlite, sha256, verifySecret } from '../cloud/index.js';
import { runCli } from '../cli/index.js';
import { startTestCloud, testStations } from './helpers/cloud-fixtures.js';
import { ADMIN } from './helpers/dashboard-api.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

/** Runs `hj212 …` in this process with `input` piped to its stdin (as `echo "$PW" | hj212 …` would). */
async function cli(argv: string[], input = ''): Promise<{ code: number; out: string; err: string }> {
  const [stdout, stderr] = [sink(), sink()];
  const stdin = new PassThrough();
  stdin.end(input);
  const code = await runCli(argv, { stdin, stdout: stdout.stream, stderr: stderr.stream });
  return { code, out: stdout.text(), err: stderr.text() };
}

async function cloudConfig(): Promise<{ dir: string; file: string; state: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-accounts-cli-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'stations.yaml'), stringify({ stations: await testStations() }));
  const file = join(dir, 'cloud.yaml');
  await writeFile(file, stringify({ registry: 'stations.yaml', state: 'state.db' }));
  return { dir, file, state: join(dir, 'state.db') };
}

describe('hj212 cloud user', () => {
  it('adds an account with the password from stdin, lists, changes and removes it; the cloud logs it in', async () => {
    const { file, state } = await cloudConfig();
    const add = await cli(
      ['cloud', 'user', 'add', 'wang', '--role', 'operator', '--config', file],
      'wang shift 2026\n',
    );
    expect(add).toEqual({ code: 0, out: '', err: 'added wang (operator)\n' });
    const db = openSqlite(state);
    const hash = new UserStore(db).hashOf('wang')!;
    db.close();
    // scrypt, N = 2^14, 16 bytes of salt, 32 of key, as secrets.ts stores every secret.
    expect(hash).toMatch(/^scrypt\$16384\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    expect(await verifySecret('wang shift 2026', hash)).toBe(true);

    const listed = await cli(['cloud', 'user', 'list', '--config', file]);
    expect(listed.code).toBe(0);
    expect(
      listed.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).name + ':' + JSON.parse(l).role),
    ).toEqual(['wang:operator']);
    expect(listed.out).not.toContain('scrypt');

    // A cloud on that state database logs wang in with that password.
    const c = await startTestCloud({
      state,
      http: { host: '127.0.0.1', port: 0, tokens: [{ name: 'ops', sha256: sha256(ADMIN), role: 'admin' }] },
    });
    cleanup.push(() => c.stop());
    const login = (password: string) =>
      fetch(`http://127.0.0.1:${c.cloud.http!.address.port}/session/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-requested-with': 'test' },
        body: JSON.stringify({ user: 'wang', password }),
      });
    const first = await login('wang shift 2026');
    expect(first.status).toBe(200);
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!;
    const session = async () =>
      (await fetch(`http://127.0.0.1:${c.cloud.http!.address.port}/session`, { headers: { cookie } })).status;
    expect(await session()).toBe(200);

    expect((await cli(['cloud', 'user', 'passwd', 'wang', '--config', file], 'wang night shift\n')).code).toBe(0);
    // The running cloud sees the new password at the session's next request, and ends it.
    expect(await session()).toBe(401);
    expect((await login('wang shift 2026')).status).toBe(401);
    expect((await login('wang night shift')).status).toBe(200);

    expect((await cli(['cloud', 'user', 'remove', 'wang', '--config', file])).code).toBe(0);
    expect((await cli(['cloud', 'user', 'list', '--config', file])).out).toBe('');
    expect(await cli(['cloud', 'user', 'remove', 'wang', '--config', file])).toMatchObject({
      code: 1,
      err: 'hj212 cloud user: no user wang\n',
    });
  });

  it('refuses a default, short or missing password, a taken name, and a missing role', async () => {
    const { file } = await cloudConfig();
    const add = (input: string, name = 'li') =>
      cli(['cloud', 'user', 'add', name, '--role', 'read', '--config', file], input);
    expect(await add('123456\n')).toMatchObject({
      code: 1,
      err: 'hj212 cloud user: the factory default password 123456 is not accepted\n',
    });
    expect((await add('short\n')).err).toBe('hj212 cloud user: a password has at least 10 characters\n');
    expect((await add('')).err).toBe('hj212 cloud user: a password has at least 10 characters\n');
    expect((await add('li li li li\n')).code).toBe(0);
    expect((await add('another password\n')).err).toBe(
      'hj212 cloud user: a user li exists already (user passwd li sets its password)\n',
    );
    expect(await cli(['cloud', 'user', 'add', 'zhao', '--config', file], 'zhao password 1\n')).toMatchObject({
      code: 2,
      err: 'hj212 cloud user: --role read|operator|admin is required\n',
    });
    expect((await cli(['cloud', 'user', 'add', 'zhao', '--role', 'root', '--config', file])).err).toBe(
      'hj212 cloud user: --role is read, operator or admin, not root\n',
    );
    expect((await cli(['cloud', 'user', 'list'])).code).toBe(2);
  });
});
