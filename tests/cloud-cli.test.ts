import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { loadCloudConfig, Registry, sha256, verifySecret } from '../cloud/index.js';
import { runCli } from '../cli/index.js';
import { encodeFrame } from '../protocol/index.js';
import { rawClient, testStations, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';
import { freePort } from './helpers/cloud-procs.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Everything written to a stream so far, as text. */
function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const [stdout, stderr] = [sink(), sink()];
  const code = await runCli(argv, { stdin: new PassThrough(), stdout: stdout.stream, stderr: stderr.stream });
  return { code, out: stdout.text(), err: stderr.text() };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-cloud-cli-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('hj212 cloud', () => {
  it('hashes a secret for the registry and makes API tokens', async () => {
    const hash = await cli(['cloud', 'hash', 'a1b2c3']);
    expect(hash.code).toBe(0);
    expect(await verifySecret('a1b2c3', hash.out.trim())).toBe(true);
    const token = JSON.parse((await cli(['cloud', 'token'])).out) as { token: string; sha256: string };
    expect(sha256(token.token)).toBe(token.sha256);
  });

  it('imports a CSV into a valid registry, and says what is wrong with a bad one', async () => {
    const dir = await tempDir();
    const csv = join(dir, 'export.csv');
    await writeFile(
      csv,
      `企业名称,排口名称,排口类型,MN,密码,因子编码,排放上限\n示例化工,WS-01,废水,${WATER_MN},${WATER_PW},w01018,50\n`,
    );
    const ok = await cli(['cloud', 'import-csv', csv]);
    expect(ok.code).toBe(0);
    expect(Registry.parse(parse(ok.out)).get(WATER_MN)!.factors['w01018']!.upper).toBe(50);
    await writeFile(
      csv,
      `企业名称,排口名称,排口类型,MN,密码,因子编码\n示例化工,WS-01,废水,${WATER_MN},123456,w01018\n`,
    );
    const bad = await cli(['cloud', 'import-csv', csv]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/line 2: .*default password 123456.*--allow-default-password/);
  });

  it('ships example configs that validate', async () => {
    const deploy = join(import.meta.dirname, '..', 'deploy', 'cloud');
    const config = await loadCloudConfig(join(deploy, 'cloud.example.yaml'));
    expect(config.registry).toBe(join(deploy, 'stations.example.yaml'));
    expect((await Registry.load(config.registry)).stations).toHaveLength(2);
    const csv = await cli(['cloud', 'import-csv', join(deploy, 'stations.example.csv')]);
    expect(Registry.parse(parse(csv.out)).stations.map((s) => s.mn)).toEqual(
      (await Registry.load(config.registry)).stations.map((s) => s.mn),
    );
  });

  it('names the config field at fault', async () => {
    const dir = await tempDir();
    const file = join(dir, 'cloud.yaml');
    await writeFile(file, stringify({ registry: 'stations.yaml', tcp: { port: 'x' } }));
    const r = await cli(['cloud', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/tcp\.port: /);
  });

  it('runs as a process from a config file, takes data, and stops cleanly on SIGTERM', async () => {
    const dir = await tempDir();
    const port = await freePort();
    await writeFile(join(dir, 'stations.yaml'), stringify({ stations: await testStations() }));
    await writeFile(
      join(dir, 'cloud.yaml'),
      stringify({
        registry: 'stations.yaml',
        store: { type: 'sqlite', path: 'data.db' },
        tcp: { host: '127.0.0.1', port },
      }),
    );
    // The built binary, as `npm test` builds it first.
    const bin = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
    const child = spawn(process.execPath, [bin, 'cloud', '--config', join(dir, 'cloud.yaml')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    while (!out.includes('HJ 212 TCP listening')) {
      if (child.exitCode !== null) throw new Error(out);
      await new Promise((r) => setTimeout(r, 50));
    }
    const client = await rawClient(port);
    client.socket.write(
      encodeFrame({
        version: '2017',
        qn: '20261120100000001',
        st: '32',
        cn: '2061',
        pw: WATER_PW,
        mn: WATER_MN,
        flag: 5,
        cp: { params: { DataTime: '20261120100000' }, factors: { w01018: { Avg: '20', Flag: 'N' } } },
      }),
    );
    expect((await client.received(1))[0]!.cn).toBe('9014');
    client.close();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(out.trim().split('\n').at(-1)).toMatch(/"stored":1/);
  });
});
