import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.js';
import { StreamDecoder, dataAnswer, encodeFrame, historyRequest, request, type Packet } from '../protocol/index.js';
import {
  LoggerConfigSchema,
  handleRequest,
  startLoggers,
  stationsOf,
  type LoggerFleet,
  type LoggerState,
} from '../simulators/logger/index.js';
import { readYaml, validateConfig } from '../simulators/hj212-link/index.js';
import { PlatformConfigSchema, PlatformServer } from '../simulators/platform/index.js';

const silent = pino({ level: 'silent' });
const MN = '0100000000A89000000000A1';
const cleanup: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

type OnFrame = (socket: Socket, packet: Packet, connection: number) => void;

/** A bare TCP "platform": by default it reads and never answers, so every upload must time out. */
async function testServer(
  onFrame: OnFrame = () => undefined,
): Promise<{ server: Server; port: number; frames: Packet[]; firstFrame: Promise<void> }> {
  const frames: Packet[] = [];
  const sockets = new Set<Socket>();
  let first!: () => void;
  const firstFrame = new Promise<void>((resolve) => (first = resolve));
  let connections = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    const connection = ++connections;
    const decoder = new StreamDecoder({ mode: 'strict' });
    socket.on('data', (chunk: Buffer) => {
      for (const r of decoder.push(chunk)) {
        if (r.ok) {
          frames.push(r.frame.packet);
          first();
          onFrame(socket, r.frame.packet, connection);
        }
      }
    });
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { server, port: (server.address() as AddressInfo).port, frames, firstFrame };
}

describe('retries', () => {
  it('re-sends an unanswered upload the configured number of times, then counts it unacknowledged', async () => {
    const srv = await testServer();
    // A hand-driven clock: exactly one real-time period passes, so exactly one upload is made.
    const t0 = Date.parse('2026-03-01T04:00:01Z');
    let now = t0;
    const config = LoggerConfigSchema.parse({
      port: srv.port,
      stations: [{ mn: MN, pw: 'pw1234' }],
      intervals: { rtd: 30, minute: 10, hour: false, day: false },
      ackTimeout: 50,
      retries: 2,
      tick: 10,
      // Uploads only: the 1013 at connect would be another frame this server counts.
      timeCalibration: false,
    });
    const fleet = await startLoggers(config, { clock: { now: () => now }, log: silent });
    now = t0 + 30_000;
    await srv.firstFrame;
    const summary = await fleet.stop();
    expect(summary.sent).toBe(1);
    expect(summary.retries).toBe(2);
    expect(summary.failed).toBe(1);
    expect(summary.acknowledged).toBe(0);
    expect(summary.perCn['2011']).toEqual({ sent: 1, acknowledged: 0, unacknowledged: 1 });
    expect(srv.frames).toHaveLength(3);
    expect(new Set(srv.frames.map((f) => f.qn)).size).toBe(1);
    expect(srv.frames[0]!.flag).toBe(5);
  });
});

describe('backlog', () => {
  it(
    'uploads the hour records of the backlog hours before the clock’s ' +
      'hour on start, oldest first, then only the schedule',
    async () => {
      // Each upload answered 9014, so nothing is retried.
      const srv = await testServer((socket, p) => socket.write(encodeFrame(dataAnswer(p))));
      // 10:20 China time (02:20 UTC): the backlog of 3 hours is 07:00, 08:00 and 09:00 China time (23:00-01:00 UTC).
      const now = Date.parse('2026-03-01T02:20:00Z');
      const config = LoggerConfigSchema.parse({
        port: srv.port,
        stations: [{ mn: MN, pw: 'pw1234' }],
        intervals: { rtd: 30, minute: 10, hour: true, day: false },
        tick: 10,
        timeCalibration: false,
        backlogHours: 3,
      });
      const fleet = await startLoggers(config, { clock: { now: () => now }, log: silent });
      await srv.firstFrame;
      const summary = await fleet.stop();
      expect(srv.frames.map((f) => [f.cn, f.cp.params['DataTime']])).toEqual([
        ['2061', '20260301070000'],
        ['2061', '20260301080000'],
        ['2061', '20260301090000'],
      ]);
      expect(summary.perCn['2061']).toEqual({ sent: 3, acknowledged: 3, unacknowledged: 0 });
    },
  );
});

describe('reconnect', () => {
  it('dials again after the platform drops the connection and delivers the pending upload there', async () => {
    let answered!: () => void;
    const secondConnection = new Promise<void>((resolve) => (answered = resolve));
    const srv = await testServer((socket, packet, connection) => {
      if (connection === 1) {
        socket.destroy();
        return;
      }
      socket.write(encodeFrame(dataAnswer(packet)));
      answered();
    });
    const t0 = Date.parse('2026-03-01T04:00:01Z');
    let now = t0;
    const config = LoggerConfigSchema.parse({
      port: srv.port,
      stations: [{ mn: MN, pw: 'pw1234' }],
      intervals: { rtd: 30, minute: 10, hour: false, day: false },
      ackTimeout: 100,
      retries: 5,
      reconnect: 20,
      tick: 10,
      // Uploads only: the 1013 at connect would be the frame this server drops the connection on.
      timeCalibration: false,
    });
    const fleet = await startLoggers(config, { clock: { now: () => now }, log: silent });
    now = t0 + 30_000;
    await secondConnection;
    const summary = await fleet.stop();
    expect(summary.reconnects).toBeGreaterThanOrEqual(1);
    expect(summary.sent).toBe(1);
    expect(summary.acknowledged).toBe(1);
    expect(summary.failed).toBe(0);
    expect(summary.retries).toBeGreaterThanOrEqual(1);
  });
});

describe('load mode', () => {
  it('50 connections for a bounded run: the summary agrees with what the platform counted', async () => {
    const config = LoggerConfigSchema.parse({
      port: 1,
      count: 50,
      pw: 'load01',
      rate: 500,
      ackTimeout: '3s',
      retries: 1,
      tick: 50,
    });
    // The platform knows the fleet's stations; unknown MNs would be refused.
    const stations = stationsOf(config).map((s) => ({ mn: s.identity.mn, pw: s.identity.pw }));
    const p2 = new PlatformServer(PlatformConfigSchema.parse({ port: 0, stations }), { log: silent });
    await p2.listen();
    cleanup.push(() => p2.close());
    const fleet: LoggerFleet = await startLoggers({ ...config, port: p2.port }, { log: silent });
    await new Promise((resolve) => setTimeout(resolve, 800));
    const summary = await fleet.stop();
    const report = await p2.close();
    expect(summary.connected).toBe(50);
    expect(summary.sent).toBeGreaterThan(50);
    expect(summary.acknowledged).toBe(summary.sent);
    expect(summary.failed).toBe(0);
    expect(report.totals.uploads).toBe(summary.sent);
    expect(report.totals.acknowledged).toBe(summary.acknowledged);
    expect(report.stations).toHaveLength(50);
    expect(report.stations.every((s) => s.verdict === 'pass')).toBe(true);
  });
});

describe('request handling (pure)', () => {
  const state: LoggerState = {
    identity: { mn: MN, pw: 'pw1234', st: '32', version: '2017' },
    outlet: 'water',
    seed: 7,
    now: Date.parse('2026-03-01T04:30:00Z'),
    rtdIntervalS: 30,
    minIntervalMin: 10,
    analyzers: { samplePeriods: {}, vasesUsed: 0 },
  };
  const target = { mn: MN, pw: 'pw1234', st: '32' };
  const cns = (ps: Packet[]): string[] =>
    ps.map((p) => `${p.cn}${p.cp.params['QnRtn'] ?? p.cp.params['ExeRtn'] ?? ''}`);

  it('answers a wrong password with QnRtn=3 and a CN outside table 9 with QnRtn=8', () => {
    expect(cns(handleRequest(state, request({ ...target, pw: 'nope' }, '1011')).replies)).toEqual(['90113']);
    expect(cns(handleRequest(state, request(target, '1999')).replies)).toEqual(['90118']);
  });

  it('gets and sets time and intervals with 9011, data, 9012', () => {
    const get = handleRequest(state, request(target, '1011'));
    expect(cns(get.replies)).toEqual(['90111', '1011', '90121']);
    expect(get.replies[1]!.cp.params['SystemTime']).toBe('20260301123000');
    const set = handleRequest(state, request(target, '1012', { SystemTime: '20260301130000' }));
    expect(set.change.setTime).toBe(Date.parse('2026-03-01T05:00:00Z'));
    expect(cns(handleRequest(state, request(target, '1062', { RtdInterval: '10' })).replies)).toEqual([
      '90111',
      '90123',
    ]);
    expect(handleRequest(state, request(target, '1064', { MinInterval: '5' })).change.minIntervalMin).toBe(5);
    expect(handleRequest(state, request(target, '1063')).replies[1]!.cp.params['MinInterval']).toBe('10');
  });

  it(
    '1014 (HJ 212-2025): a NewKey of 32 hex digits is 9011, 9012 ExeRtn=1 and the ' +
      'key to switch to; a bad one ExeRtn=3; before 2025 QnRtn=2',
    () => {
      const v2025: LoggerState = { ...state, identity: { ...state.identity, version: '2025' } };
      const to2025 = { ...target, version: '2025' as const };
      const key = '00112233445566778899aabbccddeeff';
      const ok = handleRequest(v2025, request(to2025, '1014', { NewKey: key }));
      expect(cns(ok.replies)).toEqual(['90111', '90121']);
      expect(ok.change.sm4Key).toBe('00112233445566778899AABBCCDDEEFF');
      const bad = handleRequest(v2025, request(to2025, '1014', { NewKey: 'ABC' }));
      expect([cns(bad.replies), bad.change.sm4Key]).toEqual([['90111', '90123'], undefined]);
      expect(cns(handleRequest(state, request(target, '1014', { NewKey: key })).replies)).toEqual(['90112']);
    },
  );

  it(
    '1072 (C.9): a NewPW of up to 6 letters or digits is 9011, 9012 ' + 'ExeRtn=1 and the PW to use; another ExeRtn=3',
    () => {
      const ok = handleRequest(state, request(target, '1072', { NewPW: 'Ab3456' }));
      expect([cns(ok.replies), ok.replies.map((p) => p.pw), ok.change]).toEqual([
        ['90111', '90121'],
        ['pw1234', 'pw1234'],
        { pw: 'Ab3456' },
      ]);
      for (const NewPW of ['abc_12', '1234567'])
        expect(handleRequest(state, request(target, '1072', { NewPW }))).toMatchObject({ change: {} });
      expect(cns(handleRequest(state, request(target, '1072', { NewPW: 'abc_12' })).replies)).toEqual([
        '90111',
        '90123',
      ]);
    },
  );

  it('3016 sets what 3017 reads back; a PolId not of the outlet is ExeRtn=3; 3015 takes the next vase', () => {
    const set = handleRequest(state, request(target, '3016', { PolId: 'w21003', CstartTime: '013000', CTime: '4' }));
    expect([cns(set.replies), set.change]).toEqual([
      ['90111', '90121'],
      { samplePeriod: { polId: 'w21003', start: '013000', hours: 4 } },
    ]);
    const after: LoggerState = {
      ...state,
      analyzers: { samplePeriods: { w21003: { start: '013000', hours: 4 } }, vasesUsed: 2 },
    };
    const get = handleRequest(after, request(target, '3017', { PolId: 'w21003' }));
    expect(get.replies.map((p) => [p.cn, p.cp.params])).toEqual([
      ['9011', { QnRtn: '1' }],
      ['3017', { PolId: 'w21003', CstartTime: '013000', CTime: '4' }],
      ['9012', { ExeRtn: '1' }],
    ]);
    expect(handleRequest(state, request(target, '3017', { PolId: 'w01018' })).replies[1]!.cp.params).toEqual({
      PolId: 'w01018',
      CstartTime: '000000',
      CTime: '2',
    });
    expect(cns(handleRequest(state, request(target, '3011', { PolId: 'a21026' })).replies)).toEqual(['90111', '90123']);
    const vase = handleRequest(after, request(target, '3015'));
    expect(vase.replies.map((p) => [p.cn, p.cp.params])).toEqual([
      ['9011', { QnRtn: '1' }],
      ['3015', { DataTime: '20260301123000', VaseNo: '3' }],
      ['9012', { ExeRtn: '1' }],
    ]);
    expect(vase.change).toEqual({ vaseUsed: true });
  });

  it('regenerates history identically and answers ExeRtn=100 when the range holds no data', () => {
    const h = handleRequest(state, historyRequest(target, '2061', '20260301090000', '20260301113000'));
    expect(cns(h.replies)).toEqual(['90111', '2061', '2061', '2061', '90121']);
    expect(h.replies[1]!.cp.params['DataTime']).toBe('20260301090000');
    expect(Object.keys(h.replies[1]!.cp.factors['w01018']!)).toEqual(['Cou', 'Min', 'Avg', 'Max', 'Flag']);
    expect(
      handleRequest(state, historyRequest(target, '2061', '20260301090000', '20260301113000')).replies.map((p) => p.cp),
    ).toEqual(h.replies.map((p) => p.cp));
    expect(
      cns(handleRequest(state, historyRequest(target, '2061', '20260302000000', '20260302010000')).replies),
    ).toEqual(['90111', '9012100']);
  });

  it('takes a 1000 (C.1) as its upload timeout and retries, within table 4’s 0<n≤99', () => {
    const set = handleRequest(state, request(target, '1000', { OverTime: '5', ReCount: '3' }));
    expect(cns(set.replies)).toEqual(['90111', '90121']);
    expect(set.change).toEqual({ overTimeS: 5, reCount: 3 });
    const bad = handleRequest(state, request(target, '1000', { OverTime: '0', ReCount: '3' }));
    expect(cns(bad.replies)).toEqual(['90111', '90123']);
    expect(bad.change).toEqual({});
  });

  it('answers stop notices with 9013', () => {
    const stop = handleRequest(state, request(target, '2012', {}, { ack: false }));
    expect(cns(stop.replies)).toEqual(['9013']);
    expect(stop.change.realtime).toBe(false);
  });
});

describe('config and CLI', () => {
  it('refuses the default password 123456 unless explicitly allowed, naming the field', async () => {
    const r = LoggerConfigSchema.safeParse({ port: 1, pw: '123456' });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['pw']);
    expect(LoggerConfigSchema.safeParse({ port: 1, pw: '123456', allowDefaultPassword: true }).success).toBe(true);
    expect(LoggerConfigSchema.safeParse({ port: 1, pw: 'abc', version: '2025' }).error!.issues[0]!.path).toEqual([
      'sm4Key',
    ]);

    const stderr = new PassThrough();
    let err = '';
    stderr.on('data', (c: Buffer) => (err += c.toString()));
    const io = { stdin: new PassThrough(), stdout: new PassThrough(), stderr };
    expect(await runCli(['sim', 'logger', '--port', '1', '--pw', '123456'], io)).toBe(2);
    expect(err).toMatch(/pw: 123456 is the field default password/);
  });

  it('the example configs validate', async () => {
    expect(
      validateConfig(LoggerConfigSchema, await readYaml('simulators/logger/example.yaml'), 'logger example').stations,
    ).toHaveLength(3);
    const platform = validateConfig(
      PlatformConfigSchema,
      await readYaml('simulators/platform/example.yaml'),
      'platform example',
    );
    expect(platform.script.map((s) => s.cn)).toEqual(['1011', '1012', '1062', '1064', '2061', '2061', '1014']);
    expect(() => validateConfig(PlatformConfigSchema, { stations: [{ mn: 'X', pw: 'bad pw!' }] }, 'inline')).toThrow(
      /inline: stations\[0\]\.pw: PW is 1-6 letters or digits/,
    );
  });

  it('a stray key anywhere in the logger or platform config is an error naming it and where it is', () => {
    const fails = (schema: typeof LoggerConfigSchema | typeof PlatformConfigSchema, data: unknown): string => {
      try {
        validateConfig(schema, data, 'inline');
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('the config validated');
    };
    const logger = { port: 1, stations: [{ mn: '0100000000A89000000000A1', pw: 'abc' }] };
    expect(fails(LoggerConfigSchema, { ...logger, prot: 2 })).toMatch(/prot/);
    expect(fails(LoggerConfigSchema, { ...logger, stations: [{ ...logger.stations[0], pwd: 'x' }] })).toMatch(
      /stations\[0\].*pwd/,
    );
    expect(fails(LoggerConfigSchema, { ...logger, intervals: { hours: true } })).toMatch(/intervals.*hours/);
    const window = { from: '2026-11-20T10:00:00+08:00', to: '2026-11-20T11:00:00+08:00' };
    expect(fails(LoggerConfigSchema, { ...logger, outages: [{ ...window, why: 'x' }] })).toMatch(/outages\[0\].*why/);
    expect(fails(LoggerConfigSchema, { ...logger, script: [{ ...window, value: 1, flags: 'D' }] })).toMatch(
      /script\[0\].*flags/,
    );
    const station = { mn: '0100000000A89000000000A1', pw: 'abc' };
    expect(fails(PlatformConfigSchema, { stations: [station], timeout: '5s' })).toMatch(/timeout/);
    expect(fails(PlatformConfigSchema, { stations: [{ ...station, key: 'x' }] })).toMatch(/stations\[0\].*key/);
    expect(
      fails(PlatformConfigSchema, {
        stations: [station],
        script: [{ after: 0, mn: station.mn, cn: '1011', param: {} }],
      }),
    ).toMatch(/script\[0\].*param/);
  });

  it('numbers MNs under the prefix as 24 hex digits', () => {
    const c = LoggerConfigSchema.parse({ port: 1, pw: 'abc', count: 3, mnPrefix: 'AB' });
    expect(stationsOf(c).map((s) => s.identity.mn)).toEqual([
      'AB0000000000000000000001',
      'AB0000000000000000000002',
      'AB0000000000000000000003',
    ]);
  });
});
