import { spawn } from 'node:child_process';
import { appendFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { InfluxOptionsSchema, InfluxStore, type Point } from '../cloud/index.js';
import { unsentLines } from '../cloud/store/spill-log.js';
import { captureLog } from './helpers/cloud-fixtures.js';
import { startInfluxd, type InfluxQuery } from './helpers/cloud-procs.js';
import { useInfluxd } from './helpers/influxd.js';

/**
 * The spill log across the two faults it is for, with the values InfluxDB must end up holding written
 * out by hand: the ingest killed (kill -9) while a batch is in flight and InfluxDB never answered it,
 * and InfluxDB down while points are written and while the ingest restarts. Needs `npm run build`: the
 * killed process runs the built store.
 */
const USER = 'hj212';
const PASSWORD = 's3cret';
const MN = '010000A8900016F000169DC0';
const T0 = Date.parse('2026-11-20T10:00:00+08:00');
const H = 3_600_000;
let dbs = 0;
const cleanup: (() => Promise<unknown>)[] = [];

const influxd = useInfluxd({ name: USER, password: PASSWORD });
const influxql: InfluxQuery = (q, db) => influxd.query(q, db);

/** What InfluxDB itself holds of measurement `hour`: [factor, hours after T0, Avg, flag], by time then factor. */
async function hours(db: string): Promise<[string, number, number, string][]> {
  const body = (await influxql('SELECT "factor", "Avg", "flag" FROM "hour"', db)) as {
    results: { series?: { columns: string[]; values: [string, string, number, string][] }[] }[];
  };
  const rows = body.results[0]?.series?.[0]?.values ?? [];
  return rows
    .map(([t, factor, avg, flag]): [string, number, number, string] => [factor, (Date.parse(t) - T0) / H, avg, flag])
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]));
}

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function setup(): Promise<{ spillPath: string; database: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-spill-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const database = `spill_${++dbs}`;
  await influxql(`CREATE DATABASE ${database}`);
  return { spillPath: join(dir, 'spill.db'), database };
}

const options = (url: string, spillPath: string, database: string) =>
  InfluxOptionsSchema.parse({
    type: 'influxdb',
    url,
    database,
    username: USER,
    password: PASSWORD,
    spillPath,
    batchSize: 3,
    flushIntervalMs: 10,
  });

const point = (factor: string, hour: number, avg: number, flag = 'N'): Point => ({
  mn: MN,
  factor,
  kind: 'hour',
  time: T0 + hour * H,
  values: { Avg: avg },
  flag,
  outlet: 'WS 01',
});

describe('spill log, faults (real influxd)', () => {
  it('kill -9 with a batch in flight that InfluxDB never answered: the restart sends every point once', async () => {
    const { spillPath, database } = await setup();
    // InfluxDB as seen by the process to be killed: every /write is taken and never answered.
    let writesHeld = 0;
    const black = createServer((req) => {
      if (req.url?.startsWith('/write') === true) writesHeld++;
      req.resume();
    });
    await new Promise<void>((r) => black.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => (black.closeAllConnections(), black.close(r))));
    const url = `http://127.0.0.1:${(black.address() as AddressInfo).port}`;
    // The store in a process of its own: three writes (each awaited: what a 9014 would confirm), then it waits.
    const script = `
      const { InfluxStore, InfluxOptionsSchema } = await import(${JSON.stringify(
        pathToFileURL(join(import.meta.dirname, '..', 'dist', 'cloud', 'index.js')).href,
      )});
      const o = InfluxOptionsSchema.parse(${JSON.stringify(options(url, spillPath, database))});
      const s = new InfluxStore(o, { info() {}, warn() {} });
      const writes = ${JSON.stringify([
        [point('w01018', 0, 12.5), point('w21003', 0, 0.8)],
        [point('w01018', 1, 13.25, 'M'), point('w21003', 1, -0.5)],
        [point('w01018', 2, 14), point('w21003', 2, 1e-7, 'D'), point('w01018', 1, 13.5)],
      ])};
      for (const w of writes) await s.write(w);
      process.stdout.write('written\\n');
      setInterval(() => undefined, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanup.push(async () => void child.kill('SIGKILL'));
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 15_000;
    while (!(out.includes('written') && writesHeld > 0)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the store process: ${out}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    // Every point confirmed is in the log, none confirmed sent.
    expect(unsentLines(`${spillPath}.log`)).toBe(7);
    // The crash also cut a line short (a write in progress, never confirmed): it is not sent.
    const segments = readdirSync(`${spillPath}.log`).filter((f) => f.endsWith('.lp'));
    appendFileSync(join(`${spillPath}.log`, segments.at(-1)!), `hour,factor=w01018,mn=${MN} Avg=99`);

    const s = new InfluxStore(options(`http://127.0.0.1:${influxd.proc.port}`, spillPath, database), captureLog().log);
    cleanup.push(() => s.close());
    expect(s.pending).toBe(7);
    // Queryable from the log before InfluxDB has it; the later write of (w01018, hour 1) wins.
    expect(
      (await s.query({ mn: MN, kind: 'hour', factor: 'w01018', from: T0, to: T0 + 3 * H })).map((p) => [
        (p.time - T0) / H,
        p.values,
        p.flag,
      ]),
    ).toEqual([
      [0, { Avg: 12.5 }, 'N'],
      [1, { Avg: 13.5 }, 'N'],
      [2, { Avg: 14 }, 'N'],
    ]);
    await s.flush();
    expect(s.pending).toBe(0);
    expect(unsentLines(`${spillPath}.log`)).toBe(0);
    expect(await hours(database)).toEqual([
      ['w01018', 0, 12.5, 'N'],
      ['w21003', 0, 0.8, 'N'],
      ['w01018', 1, 13.5, 'N'],
      ['w21003', 1, -0.5, 'N'],
      ['w01018', 2, 14, 'N'],
      ['w21003', 2, 1e-7, 'D'],
    ]);
  });

  it('InfluxDB down while points are written and the ingest restarts: none lost, all sent once back', async () => {
    const { spillPath, database } = await setup();
    const o = options(`http://127.0.0.1:${influxd.proc.port}`, spillPath, database);
    const first = new InfluxStore(o, captureLog().log);
    await first.write([point('w01018', 0, 1), point('w21003', 0, 2)]);
    await first.flush();
    await influxd.proc.kill();
    await first.write([point('w01018', 1, 3), point('w21003', 1, 4, 'M')]);
    await first.write([point('w01018', 2, 5)]);
    await expect(first.flush()).rejects.toThrow();
    expect(first.pending).toBe(3);
    await first.close();

    const again = new InfluxStore(o, captureLog().log);
    cleanup.push(() => again.close());
    expect(again.pending).toBe(3);
    await again.write([point('w21003', 2, 6)]);
    expect(again.pending).toBe(4);
    influxd.proc = await startInfluxd(influxd.proc.dir, influxd.proc.port);
    while (again.pending > 0) await new Promise((r) => setTimeout(r, 20));
    expect(await hours(database)).toEqual([
      ['w01018', 0, 1, 'N'],
      ['w21003', 0, 2, 'N'],
      ['w01018', 1, 3, 'N'],
      ['w21003', 1, 4, 'M'],
      ['w01018', 2, 5, 'N'],
      ['w21003', 2, 6, 'N'],
    ]);
  });
});
