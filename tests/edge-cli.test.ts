import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { run } from '../cli/edge.js';
import { runCli } from '../cli/index.js';
import { spawnCli } from './helpers/common.js';
import { MN, PW, startPlatform, tempDir } from './helpers/edge-agent.js';
import { flat, startSim, until } from './helpers/edge-sim.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function io() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return { io: { stdin: new PassThrough(), stdout, stderr }, out: () => out, err: () => err };
}

describe('hj212 edge', () => {
  it('prints the JSON Schema that deploy/edge/config.schema.json holds', async () => {
    const t = io();
    expect(await runCli(['edge', '--json-schema'], t.io)).toBe(0);
    expect(t.out()).toBe(await readFile(new URL('../deploy/edge/config.schema.json', import.meta.url), 'utf8'));
  });

  it('checks a configuration, naming the field at fault', async () => {
    const data = await tempDir();
    cleanups.push(data.remove);
    const ok = io();
    expect(
      await run(['--config', new URL('../deploy/edge/cems-outlet.yaml', import.meta.url).pathname, '--check'], ok.io),
    ).toBe(0);
    expect(ok.out()).toMatch(/cems-outlet\.yaml: ok \(6 devices, 1 uplinks\)/);
    const file = join(data.dir, 'bad.yaml');
    await writeFile(file, 'station: { mn: "123", st: "32", kind: water }\ndataDir: /tmp\nbuses: []\ndevices: []\n');
    const bad = io();
    expect(await run(['--config', file, '--check'], bad.io)).toBe(2);
    expect(bad.err()).toContain(
      `hj212 edge: ${file}: station.mn: expected the MN of the data logger: 14 to 24 letters and digits`,
    );
    expect(bad.err()).toContain(`hj212 edge: ${file}: buses: declare at least one Modbus bus`);
    const level = io();
    expect(await run(['--config', file, '--log-level', 'loud'], level.io)).toBe(2);
  });

  it('built, validates the configuration in a worker and answers as in one thread', async () => {
    // dist/cli/main.js loads the configuration in edge/config-worker.js (edge/config-load.ts), so the agent's isolate
    // loads no zod; the answers are the ones the in-thread run above prints.
    const data = await tempDir();
    cleanups.push(data.remove);
    const ok = spawnCli([
      'edge',
      '--config',
      new URL('../deploy/edge/cems-outlet.yaml', import.meta.url).pathname,
      '--check',
    ]);
    expect((await ok.exited)[0]).toBe(0);
    expect(ok.stdout()).toMatch(/cems-outlet\.yaml: ok \(6 devices, 1 uplinks\)/);
    const file = join(data.dir, 'bad.yaml');
    await writeFile(file, 'station: { mn: "123", st: "32", kind: water }\ndataDir: /tmp\nbuses: []\ndevices: []\n');
    const bad = spawnCli(['edge', '--config', file]);
    expect((await bad.exited)[0]).toBe(2);
    expect(bad.stderr()).toContain(`hj212 edge: ${file}: buses: declare at least one Modbus bus`);
    const missing = spawnCli(['edge', '--config', join(data.dir, 'none.yaml')]);
    expect((await missing.exited)[0]).toBe(2);
    expect(missing.stderr()).toContain('cannot read the configuration');
  });

  it('runs the agent from a YAML file, serves /health and stops cleanly', async () => {
    const sim = await startSim({
      tcp: { port: 0 },
      devices: [{ unit: 1, profile: 'cod' }],
      scenario: { seed: 1, signals: { cod: flat(48.5) } },
    });
    cleanups.push(() => sim.close());
    const platform = await startPlatform();
    cleanups.push(async () => void (await platform.server.close()));
    const data = await tempDir();
    cleanups.push(data.remove);
    const config = {
      station: { mn: MN, st: '32', kind: 'water' },
      dataDir: join(data.dir, 'state'),
      buses: [{ id: 'line', kind: 'tcp', host: '127.0.0.1', port: sim.tcp!.port, timeoutMs: 200 }],
      devices: [
        {
          id: 'cod',
          bus: 'line',
          unit: 1,
          pollSeconds: 0.1,
          status: { address: 2 },
          factors: [{ code: 'w01018', value: { address: 0 } }],
        },
        {
          id: 'nh3n',
          bus: 'line',
          unit: 2,
          pollSeconds: 0.1,
          status: { address: 2 },
          factors: [{ code: 'w21003', value: { address: 0 } }],
        },
      ],
      uplinks: [{ id: 'province', kind: 'hj212-tcp', host: '127.0.0.1', port: platform.port, pw: PW }],
      health: { port: 0 },
    };
    const file = join(data.dir, 'edge.yaml');
    await writeFile(file, stringify(config));
    const t = io();
    let stop = () => {};
    const stopped = new Promise<string>((resolve) => (stop = () => resolve('test')));
    const exit = run(['--config', file], t.io, () => stopped);
    await until(() => t.out().includes('edge agent started'), 'the start line');
    const started = t
      .out()
      .split('\n')
      .map((l) => (l ? (JSON.parse(l) as Record<string, unknown>) : {}))
      .find((l) => l['msg'] === 'edge agent started')!;
    expect(started).toMatchObject({ name: 'hj212-edge', mn: MN, uplinks: ['province'] });
    const url = `http://127.0.0.1:${String(started['health'])}/health`;
    const wanted = (b: Record<string, unknown>) =>
      (b['uplinks'] as Record<string, { state: string }> | undefined)?.['province']?.state === 'connected' &&
      (b['devices'] as Record<string, { failures: number }>)['nh3n']!.failures > 0;
    let body: Record<string, unknown> = {};
    for (
      const deadline = Date.now() + 10_000;
      !wanted(body) && Date.now() < deadline;
      await new Promise((r) => setTimeout(r, 50))
    ) {
      const response = await fetch(url);
      body = { status: response.status, ...((await response.json()) as object) };
    }
    expect(body).toMatchObject({
      status: 503,
      ok: false,
      mn: MN,
      uplinks: {
        province: {
          kind: 'hj212-tcp',
          state: 'connected',
          outbox: { records: expect.any(Number), bytes: expect.any(Number) },
        },
      },
      storage: { events: 0, dropped: 0, reserve: true, unsavedRecords: 0 },
      devices: {
        cod: { bus: 'line', failures: 0, lastReadings: [{ code: 'w01018', value: 48.5, flag: 'N' }] },
        nh3n: { lastError: expect.stringMatching(/exception 11/) },
      },
    });
    stop();
    expect(await exit).toBe(0);
    expect(t.out()).toContain('"msg":"edge agent stopped"');
  });
});
