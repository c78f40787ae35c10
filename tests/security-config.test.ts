import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { hashSecret, Registry, verifySecret } from '../cloud/index.js';
import { runCli } from '../cli/index.js';
import { testStations } from './helpers/cloud-fixtures.js';

// Attack 7 and the config items of 8: a typo (`hots:` under http) started the API on 0.0.0.0, stray
// keys were dropped, some bad configs ended in a stack trace, the registry took scrypt N=1 and N=2^30.
// Every one is now an error naming the field and the fix, and `hj212 cloud` exits 1 with it.

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function dir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'hj212-sec-config-'));
  cleanup.push(() => rm(d, { recursive: true, force: true }));
  return d;
}

/** `hj212 cloud --config` on a config (registry beside it); what it printed on stderr and its exit code. */
async function serve(config: Record<string, unknown>, registry?: unknown): Promise<{ code: number; err: string }> {
  const d = await dir();
  await writeFile(join(d, 'stations.yaml'), stringify(registry ?? { stations: await testStations() }));
  const file = join(d, 'cloud.yaml');
  await writeFile(
    file,
    stringify({ registry: 'stations.yaml', state: 'state.db', store: { type: 'sqlite', path: 'store.db' }, ...config }),
  );
  const err: Buffer[] = [];
  const stderr = new PassThrough().on('data', (c: Buffer) => err.push(c));
  const code = await runCli(['cloud', '--config', file], {
    stdin: new PassThrough(),
    stdout: new PassThrough(),
    stderr,
  });
  return { code, err: Buffer.concat(err).toString() };
}

const TOKENS = [{ name: 'ops', role: 'read', sha256: 'a'.repeat(64) }];

describe('config errors say field: reason', () => {
  it(
    'a stray key (hots: under http, one at the top, one in the ' + 'registry) is an error, not a silent default',
    async () => {
      expect(await serve({ http: { hots: '127.0.0.1', port: 0, tokens: TOKENS } })).toEqual({
        code: 1,
        err: expect.stringMatching(/cloud\.yaml: http\.hots: not a known key \(a typo\?\)/),
      });
      expect((await serve({ tcp: { host: '127.0.0.1', port: 0 }, logLevl: 'debug' })).err).toMatch(
        /: logLevl: not a known key/,
      );
      const [water] = await testStations();
      expect(
        (await serve({ tcp: { host: '127.0.0.1', port: 0 } }, { stations: [{ ...water!, pasword: 'x' }] })).err,
      ).toMatch(/stations\.yaml: stations\[0\]\.pasword: not a known key/);
    },
  );

  it('a missing state folder, a store path that is a directory, a port in use and an unknown host', async () => {
    const d = await dir();
    await mkdir(join(d, 'a-dir'));
    const missing = await serve({ state: join(d, 'no-such-folder', 'state.db'), tcp: { host: '127.0.0.1', port: 0 } });
    expect(missing).toEqual({
      code: 1,
      err:
        `hj212 cloud: state: the folder ${join(d, 'no-such-folder')} does not exist; create it or give another ` +
        'path\n',
    });
    const isDir = await serve({
      store: { type: 'sqlite', path: join(d, 'a-dir') },
      tcp: { host: '127.0.0.1', port: 0 },
    });
    expect(isDir.err).toBe(
      `hj212 cloud: store.path: ${join(d, 'a-dir')} is a directory; give a file in it, e.g. ` +
        `${join(d, 'a-dir')}/hj212.db\n`,
    );

    const taken: Server = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => taken.close(r)));
    const port = (taken.address() as { port: number }).port;
    expect((await serve({ tcp: { host: '127.0.0.1', port } })).err).toBe(
      `hj212 cloud: tcp.port: ${port} on 127.0.0.1 is in use by another process; stop it or choose another port\n`,
    );
    expect((await serve({ tcp: undefined, http: { host: 'no-such-host.invalid', port: 0, tokens: TOKENS } })).err).toBe(
      'hj212 cloud: http.host: unknown host no-such-host.invalid; give an address of this machine, e.g. 127.0.0.1 or ' +
        '0.0.0.0\n',
    );
  });
});

describe('scrypt cost in the registry', () => {
  it('accepts powers of two from 2^10 to 2^20 only; N=1 and N=2^30 are refused naming the field', async () => {
    const [water] = await testStations();
    const withN = (n: number): string => water!.passwordHash.replace(/^scrypt\$\d+\$/, `scrypt$${n}$`);
    for (const n of [1, 1000, 2 ** 21, 2 ** 30])
      expect(() => Registry.parse({ stations: [{ ...water!, passwordHash: withN(n) }] })).toThrow(
        /stations\[0\]\.passwordHash: scrypt N is a power of two from 2\^10 \(1024\) to 2\^20/,
      );
    expect(Registry.parse({ stations: [{ ...water!, passwordHash: withN(2 ** 14) }] }).stations).toHaveLength(1);
    // Nor is a hash with such an N checked at all (it would take seconds and a gigabyte, or nothing).
    expect(await verifySecret('x', withN(2 ** 30))).toBe(false);
    await expect(hashSecret('x', 2 ** 30)).rejects.toThrow(/not a power of two from 2\^10 to 2\^20/);
  });
});
