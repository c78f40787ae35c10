import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { fromLine, InfluxOptionsSchema, InfluxStore, toLine, type InfluxOptions, type Point } from '../cloud/index.js';
import { encodeFrame } from '../protocol/index.js';
import { captureLog, rawClient, startTestCloud, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';
import { startInfluxd, type InfluxQuery } from './helpers/cloud-procs.js';
import { useInfluxd } from './helpers/influxd.js';

const USER = 'hj212';
const PASSWORD = 's3cret';
let dbs = 0;
const cleanup: (() => Promise<unknown>)[] = [];

const influxd = useInfluxd({ name: USER, password: PASSWORD });
const influxql: InfluxQuery = (q, db) => influxd.query(q, db);

async function database(): Promise<string> {
  const name = `hj212_${++dbs}`;
  await influxql(`CREATE DATABASE ${name}`);
  return name;
}

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function store(patch: Partial<InfluxOptions> = {}): Promise<{ s: InfluxStore; o: InfluxOptions }> {
  const dir = await mkdtemp(join(tmpdir(), 'hj212-spill-'));
  const o = InfluxOptionsSchema.parse({
    type: 'influxdb',
    url: `http://127.0.0.1:${influxd.proc.port}`,
    database: await database(),
    username: USER,
    password: PASSWORD,
    spillPath: join(dir, 'spill.db'),
    ...patch,
  });
  const s = new InfluxStore(o, captureLog().log);
  cleanup.push(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { s, o };
}

const T0 = Date.parse('2026-11-20T10:00:00+08:00');
const H = 3_600_000;
const point = (
  factor: string,
  kind: Point['kind'],
  time: number,
  values: Record<string, number>,
  flag = 'N',
): Point => ({ mn: WATER_MN, factor, kind, time, values, flag, outlet: 'WS 01' });

describe('line protocol', () => {
  it('puts the kind in the measurement, mn/factor/outlet in escaped tags, values and the flag in fields', () => {
    expect(
      toLine({
        mn: 'M1',
        factor: 'w01018',
        kind: 'hour',
        time: 5,
        values: { Avg: 1.5, Cou: 2 },
        flag: 'N',
        outlet: 'WS 01,a=b',
      }),
    ).toBe('hour,factor=w01018,mn=M1,outlet=WS\\ 01\\,a\\=b Avg=1.5,Cou=2,flag="N" 5');
  });

  it('reads back the point of a line it wrote: escaped tags, negative and exponent values, a quoted flag', () => {
    expect(
      fromLine('minute,factor=a\\,b,mn=M\\ 1,outlet=WS\\=1 Avg=-0.25,Max=1e-7,ZsAvg=3,flag="\\"x" 1700000000000'),
    ).toEqual({
      mn: 'M 1',
      factor: 'a,b',
      kind: 'minute',
      time: 1700000000000,
      values: { Avg: -0.25, Max: 0.0000001, ZsAvg: 3 },
      flag: '"x',
      outlet: 'WS=1',
    });
    // A factor that reported neither values nor a flag: written as flag="", read back with neither.
    expect(fromLine('rtd,factor=w01018,mn=M1 flag="" 5')).toEqual({
      mn: 'M1',
      factor: 'w01018',
      kind: 'rtd',
      time: 5,
      values: {},
    });
  });
});

describe('InfluxDB 1.x store (real influxd, user/password)', () => {
  it('writes in batches and reads back by station, factor, kind and range; the same key overwrites', async () => {
    const { s, o } = await store({ batchSize: 3 });
    await s.write([0, 1, 2, 3].map((i) => point('w01018', 'hour', T0 + i * H, { Avg: i })));
    await s.write([point('w21003', 'hour', T0, { Avg: 0.5 }), point('w01018', 'minute', T0, { Avg: 9 })]);
    await s.flush();
    expect(s.pending).toBe(0);
    await s.write([point('w01018', 'hour', T0 + H, { Avg: 11 }, 'M')]);
    await s.flush();
    const got = await s.query({ mn: WATER_MN, kind: 'hour', from: T0, to: T0 + 3 * H });
    expect(got.map((p) => [p.factor, p.time - T0, p.values, p.flag, p.outlet])).toEqual([
      ['w01018', 0, { Avg: 0 }, 'N', 'WS 01'],
      ['w21003', 0, { Avg: 0.5 }, 'N', 'WS 01'],
      ['w01018', H, { Avg: 11 }, 'M', 'WS 01'],
      ['w01018', 2 * H, { Avg: 2 }, 'N', 'WS 01'],
    ]);
    expect(
      (await s.query({ mn: WATER_MN, kind: 'minute', factor: 'w01018', from: T0, to: T0 + H })).map((p) => p.values),
    ).toEqual([{ Avg: 9 }]);
    // Really in InfluxDB, one row per key: overwrite, not append.
    const count = (await influxql('SELECT count("Avg") FROM "hour"', o.database)) as {
      results: { series: { values: number[][] }[] }[];
    };
    expect(count.results[0]!.series[0]!.values[0]![1]).toBe(5);
  });

  it('keeps the HJ 212-2025 kinds (2013, 2052, 2062, 2111) apart: a measurement each, read back by kind', async () => {
    const { s, o } = await store();
    await s.write([
      point('a24088', 'raw', T0, { Rtd: 12.5 }),
      point('LA', 'noise', T0, { Data: 55.2, DayData: 56.1, NightData: 48.3 }),
      point('w01018', 'check', T0, { Rtd: 20.1 }),
      point('w01018', 'furnace', T0, { Avg: 912.3 }),
      point('w01018', 'hour', T0, { Avg: 30 }),
    ]);
    await s.flush();
    expect(s.pending).toBe(0);
    const read = async (kind: Point['kind']) =>
      (await s.query({ mn: WATER_MN, kind, from: T0, to: T0 + H })).map((p) => [p.factor, p.kind, p.values]);
    expect(await read('raw')).toEqual([['a24088', 'raw', { Rtd: 12.5 }]]);
    expect(await read('noise')).toEqual([['LA', 'noise', { Data: 55.2, DayData: 56.1, NightData: 48.3 }]]);
    expect(await read('check')).toEqual([['w01018', 'check', { Rtd: 20.1 }]]);
    expect(await read('furnace')).toEqual([['w01018', 'furnace', { Avg: 912.3 }]]);
    expect(await read('hour')).toEqual([['w01018', 'hour', { Avg: 30 }]]);
    const measurements = (await influxql('SHOW MEASUREMENTS', o.database)) as {
      results: { series: { values: string[][] }[] }[];
    };
    expect(measurements.results[0]!.series[0]!.values.map((v) => v[0])).toEqual([
      'check',
      'furnace',
      'hour',
      'noise',
      'raw',
    ]);
  });

  it('sends each point once: one flusher at a time, however many writes arrive while InfluxDB is slow', async () => {
    // A proxy in front of influxd that holds each /write 30 ms and counts the lines it forwards: writes that
    // arrive during a slow flush must not start a second flush of the same spill rows.
    let linesSent = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url?.startsWith('/write') === true) linesSent += body.toString().split('\n').filter(Boolean).length;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        setTimeout(() => {
          const up = request(
            { host: '127.0.0.1', port: influxd.proc.port, path: req.url, method: req.method, headers: req.headers },
            (r) => {
              res.writeHead(r.statusCode ?? 502, r.headers);
              r.pipe(res).on('finish', () => inFlight--);
            },
          );
          up.end(body);
        }, 30);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => proxy.close(r)));
    const port = (proxy.address() as AddressInfo).port;
    const { s, o } = await store({ url: `http://127.0.0.1:${port}`, flushIntervalMs: 10, batchSize: 50 });
    // 40 writes of 10 points = 400 points, 10 ms apart, so many land while a 30 ms flush is in flight.
    for (let w = 0; w < 40; w++) {
      const pts = Array.from({ length: 10 }, (_, i) => point(`w0${1000 + i}`, 'minute', T0 + w * 60_000, { Avg: w }));
      await s.write(pts);
      await new Promise((r) => setTimeout(r, 10));
    }
    await s.flush();
    expect(s.pending).toBe(0);
    expect(linesSent).toBe(400);
    expect(maxInFlight).toBe(1);
    const got = await influxql(`SELECT count("Avg") FROM "minute"`, o.database);
    expect(JSON.stringify(got)).toContain('400');
  });

  it('reads its own writes: a query sees what waits in the spill queue, read back from its lines', async () => {
    // A proxy that passes queries through at once and holds every /write until released.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const forward = (): void => {
          const up = request(
            { host: '127.0.0.1', port: influxd.proc.port, path: req.url, method: req.method, headers: req.headers },
            (r) => (res.writeHead(r.statusCode ?? 502, r.headers), r.pipe(res)),
          );
          up.end(Buffer.concat(chunks));
        };
        if (req.url?.startsWith('/write') === true) void held.then(forward);
        else forward();
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => (release(), proxy.close(r))));
    const port = (proxy.address() as AddressInfo).port;
    const { s } = await store({ url: `http://127.0.0.1:${port}`, flushIntervalMs: 10 });
    await s.write([
      point('w01018', 'hour', T0, { Avg: 12.5, Cou: 300 }),
      point('w21003', 'hour', T0, { Avg: -0.5 }, 'M'),
      point('w01018', 'hour', T0 + H, { Avg: 13 }),
    ]);
    // The newer write of a key wins over the older one still in the queue.
    await s.write([point('w01018', 'hour', T0 + H, { Avg: 14 }, 'D')]);
    const expected = [
      ['w01018', 0, { Avg: 12.5, Cou: 300 }, 'N', 'WS 01'],
      ['w21003', 0, { Avg: -0.5 }, 'M', 'WS 01'],
      ['w01018', H, { Avg: 14 }, 'D', 'WS 01'],
    ];
    const read = async (): Promise<unknown[]> =>
      (await s.query({ mn: WATER_MN, kind: 'hour', from: T0, to: T0 + 2 * H })).map((p) => [
        p.factor,
        p.time - T0,
        p.values,
        p.flag,
        p.outlet,
      ]);
    expect(s.pending).toBe(4);
    expect(await read()).toEqual(expected);
    release();
    await s.flush();
    expect(s.pending).toBe(0);
    expect(await read()).toEqual(expected);
  });

  it(
    'takes over a spill queue of JSON rows (written before lines ' + 'were stored): queryable, then sent once',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'hj212-spill-'));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const old = new Database(join(dir, 'spill.db'));
      old.exec(
        'CREATE TABLE spill (id INTEGER PRIMARY KEY AUTOINCREMENT, mn TEXT NOT NULL, kind TEXT NOT NULL, ' +
          `time INTEGER NOT NULL, point TEXT NOT NULL);
      CREATE INDEX spill_key ON spill (mn, kind, time)`,
      );
      const insert = old.prepare('INSERT INTO spill (mn, kind, time, point) VALUES (?, ?, ?, ?)');
      for (const p of [point('w01018', 'hour', T0, { Avg: 12.5 }), point('w21003', 'hour', T0, { Avg: 0.8 }, 'M')])
        insert.run(p.mn, p.kind, p.time, JSON.stringify(p));
      old.close();
      const { s, o } = await store({ spillPath: join(dir, 'spill.db') });
      expect(s.pending).toBe(2);
      await s.flush();
      expect(s.pending).toBe(0);
      const got = await s.query({ mn: WATER_MN, kind: 'hour', from: T0, to: T0 + H });
      expect(got.map((p) => [p.factor, p.values, p.flag, p.outlet])).toEqual([
        ['w01018', { Avg: 12.5 }, 'N', 'WS 01'],
        ['w21003', { Avg: 0.8 }, 'M', 'WS 01'],
      ]);
      const count = (await influxql('SELECT count("Avg") FROM "hour"', o.database)) as {
        results: { series: { values: number[][] }[] }[];
      };
      expect(count.results[0]!.series[0]!.values[0]![1]).toBe(2);
    },
  );

  it('spills lines to an append-only log; a batch is its next batchSize lines, as bytes of the file', async () => {
    // A proxy to the real influxd that keeps the /write bodies.
    const bodies: string[] = [];
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url?.startsWith('/write') === true) bodies.push(body.toString());
        const up = request(
          { host: '127.0.0.1', port: influxd.proc.port, path: req.url, method: req.method, headers: req.headers },
          (r) => (res.writeHead(r.statusCode ?? 502, r.headers), r.pipe(res)),
        );
        up.end(body);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => proxy.close(r)));
    const port = (proxy.address() as AddressInfo).port;
    // A flush interval far beyond the test: nothing is sent until flush() is called.
    const { s, o } = await store({ url: `http://127.0.0.1:${port}`, batchSize: 4, flushIntervalMs: 600_000 });
    await s.write([point('w01018', 'hour', T0, { Avg: 1 }), point('w21003', 'hour', T0, { Avg: 2 })]);
    await s.write([
      point('w01018', 'hour', T0 + H, { Avg: 3 }),
      point('w21003', 'hour', T0 + H, { Avg: 4 }),
      point('w01018', 'hour', T0 + 2 * H, { Avg: 5 }),
      point('w21003', 'hour', T0 + 2 * H, { Avg: 6 }, 'M'),
    ]);
    expect(s.pending).toBe(6);
    const t = (h: number): number => T0 + h * H;
    const lines = [
      `hour,factor=w01018,mn=${WATER_MN},outlet=WS\\ 01 Avg=1,flag="N" ${t(0)}`,
      `hour,factor=w21003,mn=${WATER_MN},outlet=WS\\ 01 Avg=2,flag="N" ${t(0)}`,
      `hour,factor=w01018,mn=${WATER_MN},outlet=WS\\ 01 Avg=3,flag="N" ${t(1)}`,
      `hour,factor=w21003,mn=${WATER_MN},outlet=WS\\ 01 Avg=4,flag="N" ${t(1)}`,
      `hour,factor=w01018,mn=${WATER_MN},outlet=WS\\ 01 Avg=5,flag="N" ${t(2)}`,
      `hour,factor=w21003,mn=${WATER_MN},outlet=WS\\ 01 Avg=6,flag="M" ${t(2)}`,
    ];
    // One segment file, the lines as written, each ending in a newline.
    const segments = (await readdir(`${o.spillPath}.log`)).filter((f) => f.endsWith('.lp'));
    expect(segments).toHaveLength(1);
    expect(await readFile(join(`${o.spillPath}.log`, segments[0]!), 'utf8')).toBe(lines.map((l) => `${l}\n`).join(''));
    // Queried from the log (InfluxDB has none of it yet).
    expect(
      (await s.query({ mn: WATER_MN, kind: 'hour', factor: 'w21003', from: T0, to: T0 + 3 * H })).map((p) => [
        p.time - T0,
        p.values,
        p.flag,
      ]),
    ).toEqual([
      [0, { Avg: 2 }, 'N'],
      [H, { Avg: 4 }, 'N'],
      [2 * H, { Avg: 6 }, 'M'],
    ]);
    await s.flush();
    // batchSize 4: the first four lines, then the last two, byte for byte.
    expect(bodies).toEqual([
      lines
        .slice(0, 4)
        .map((l) => `${l}\n`)
        .join(''),
      lines
        .slice(4)
        .map((l) => `${l}\n`)
        .join(''),
    ]);
    expect(s.pending).toBe(0);
    const count = (await influxql('SELECT count("Avg") FROM "hour"', o.database)) as {
      results: { series: { values: number[][] }[] }[];
    };
    expect(count.results[0]!.series[0]!.values[0]![1]).toBe(6);
  });

  it(
    'takes over a spill queue of one line per row (written before a ' + 'row held an upload): counted and sent once',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'hj212-spill-'));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      const old = new Database(join(dir, 'spill.db'));
      old.exec(
        'CREATE TABLE spill (id INTEGER PRIMARY KEY AUTOINCREMENT, mn TEXT NOT NULL, kind TEXT NOT NULL, ' +
          `time INTEGER NOT NULL, line TEXT NOT NULL);
      CREATE INDEX spill_key ON spill (mn, kind, time)`,
      );
      const insert = old.prepare('INSERT INTO spill (mn, kind, time, line) VALUES (?, ?, ?, ?)');
      for (const p of [point('w01018', 'hour', T0, { Avg: 12.5 }), point('w21003', 'hour', T0, { Avg: 0.8 }, 'M')])
        insert.run(p.mn, p.kind, p.time, toLine(p));
      old.close();
      const { s, o } = await store({ spillPath: join(dir, 'spill.db') });
      expect(s.pending).toBe(2);
      expect((await s.query({ mn: WATER_MN, kind: 'hour', from: T0, to: T0 + H })).map((p) => p.factor)).toEqual([
        'w01018',
        'w21003',
      ]);
      await s.flush();
      expect(s.pending).toBe(0);
      const count = (await influxql('SELECT count("Avg") FROM "hour"', o.database)) as {
        results: { series: { values: number[][] }[] }[];
      };
      expect(count.results[0]!.series[0]!.values[0]![1]).toBe(2);
    },
  );

  it('keeps points spilled (and queryable) while InfluxDB refuses them', async () => {
    const { s } = await store({ password: 'wrong' });
    await s.write([point('w01018', 'hour', T0, { Avg: 1 })]);
    await expect(s.flush()).rejects.toThrow(/401/);
    expect(s.pending).toBe(1);
  });

  it('keeps accepting during an outage, catches up after, and refuses (unanswered) past the spill bound', async () => {
    const db = await database();
    const dir = await mkdtemp(join(tmpdir(), 'hj212-spill-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const c = await startTestCloud({
      store: {
        type: 'influxdb',
        url: `http://127.0.0.1:${influxd.proc.port}`,
        database: db,
        username: USER,
        password: PASSWORD,
        spillPath: join(dir, 'spill.db'),
        maxSpill: 6,
        flushIntervalMs: 20,
      },
    });
    cleanup.push(() => c.stop());
    const s = c.cloud.store as InfluxStore;
    const client = await rawClient(c.cloud.tcp!.address.port);
    cleanup.push(async () => client.close());
    let n = 0;
    const send = (hour: number): void => {
      const dt = `20261120${String(10 + hour).padStart(2, '0')}0000`;
      client.socket.write(
        encodeFrame({
          version: '2017',
          qn: `2026112010000000${n++}`,
          st: '32',
          cn: '2061',
          pw: WATER_PW,
          mn: WATER_MN,
          flag: 5,
          cp: {
            params: { DataTime: dt },
            factors: { w01018: { Avg: String(hour), Flag: 'N' }, w21003: { Avg: '1', Flag: 'N' } },
          },
        }),
      );
    };
    send(0);
    await client.received(1);
    await s.flush();

    await influxd.proc.kill();
    for (const h of [1, 2, 3]) send(h);
    expect((await client.received(4)).map((a) => a.cn)).toEqual(['9014', '9014', '9014', '9014']);
    expect(s.pending).toBe(6);
    // Full: this upload is not answered, so the logger keeps it and sends it again later.
    send(4);
    while (c.cloud.ingest.stats.rejected['store-failed'] === undefined) await new Promise((r) => setTimeout(r, 20));
    expect(client.packets).toHaveLength(4);
    expect(c.lines.some((l) => l['msg'] === 'InfluxDB write failed; spilling until it is back')).toBe(true);

    influxd.proc = await startInfluxd(influxd.proc.dir, influxd.proc.port);
    while (s.pending > 0) await new Promise((r) => setTimeout(r, 50));
    const hours = await s.query({ mn: WATER_MN, kind: 'hour', factor: 'w01018', from: T0, to: T0 + 5 * H });
    expect(hours.map((p) => p.values['Avg'])).toEqual([0, 1, 2, 3]);
  });
});
