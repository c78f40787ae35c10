import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  StreamDecoder,
  encodeFrame,
  exeRtnAnswer,
  qnRtnAnswer,
  makeFlag,
  makeQn,
  type Packet,
} from '../protocol/index.js';
import { buildSegment } from '../protocol/segment.js';
import { crcFor } from '../protocol/crc.js';
import { frameSegment } from '../protocol/frame.js';
import { PassThrough } from 'node:stream';
import { runCli } from '../cli/index.js';
import {
  LoggerConfigSchema,
  startLoggers,
  type LoggerConfigInput,
  type LoggerFleet,
} from '../simulators/logger/index.js';
import {
  PlatformConfigSchema,
  PlatformServer,
  renderReport,
  checkDataPacket,
  observe,
  newExchange,
  type ExchangeRecord,
  type PlatformConfigInput,
} from '../simulators/platform/index.js';

const silent = pino({ level: 'silent' });
const KEY = '0123456789ABCDEF0123456789ABCDEF';
const MN_2017 = '0100000000A89000000000A1';
// HJ/T 212-2005 6.3.2: 14 characters.
const MN_2005 = '01000008900B02';
const MN_2025 = '0100000000A89000000000C3';

const open: { platforms: PlatformServer[]; fleets: LoggerFleet[]; sockets: Socket[] } = {
  platforms: [],
  fleets: [],
  sockets: [],
};

afterEach(async () => {
  for (const s of open.sockets.splice(0)) s.destroy();
  await Promise.all(open.fleets.splice(0).map((f) => f.stop()));
  await Promise.all(open.platforms.splice(0).map((p) => p.close()));
});

async function platform(input: Omit<PlatformConfigInput, 'port'>): Promise<PlatformServer> {
  const p = new PlatformServer(PlatformConfigSchema.parse({ ...input, port: 0 }), { log: silent });
  open.platforms.push(p);
  await p.listen();
  return p;
}

async function fleet(port: number, input: Omit<LoggerConfigInput, 'port'>): Promise<LoggerFleet> {
  const f = await startLoggers(LoggerConfigSchema.parse({ ...input, port }), { log: silent });
  open.fleets.push(f);
  return f;
}

/** Resolves once `n` scripted exchanges have finished (the test timeout bounds the wait). */
function exchanges(p: PlatformServer, n: number): Promise<ExchangeRecord[]> {
  const got: ExchangeRecord[] = [];
  return new Promise((resolve) => {
    p.on('exchange', (ex) => {
      got.push(ex);
      if (got.length === n) resolve(got);
    });
  });
}

/** A raw TCP client collecting decoded frames from the platform. */
async function rawClient(
  port: number,
): Promise<{ socket: Socket; received: Packet[]; next: (pred: (p: Packet) => boolean) => Promise<Packet> }> {
  const socket = connect({ host: '127.0.0.1', port });
  open.sockets.push(socket);
  await once(socket, 'connect');
  const decoder = new StreamDecoder({ mode: 'lenient' });
  const received: Packet[] = [];
  const waiters: { pred: (p: Packet) => boolean; resolve: (p: Packet) => void }[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const r of decoder.push(chunk)) {
      if (!r.ok) continue;
      received.push(r.frame.packet);
      for (const w of waiters.splice(0)) {
        if (w.pred(r.frame.packet)) w.resolve(r.frame.packet);
        else waiters.push(w);
      }
    }
  });
  const next = (pred: (p: Packet) => boolean): Promise<Packet> => {
    const found = received.find(pred);
    return found ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ pred, resolve }));
  };
  return { socket, received, next };
}

const upload = (mn: string, pw: string, qn = makeQn(new Date())): Packet => ({
  version: '2017',
  qn,
  st: '32',
  cn: '2011',
  pw,
  mn,
  flag: makeFlag('2017', { ack: true }),
  cp: { params: { DataTime: '20260301120000' }, factors: { w01018: { Rtd: '38.2', Flag: 'N' } } },
});

describe('logger ↔ platform end to end', () => {
  it(
    'three loggers (2017, 2005, 2025 with SM4) are acknowledged, pass, and ' +
      'answer scripted 1011 and 2061 requests in sequence',
    async () => {
      const p = await platform({
        stations: [
          { mn: MN_2017, pw: 'a1b2c3', version: '2017' },
          { mn: MN_2005, pw: 'x9y8z7', version: '2005', st: '31' },
          { mn: MN_2025, pw: 'k2025k', version: '2025', sm4Key: KEY },
        ],
        requestTimeout: '5s',
        script: [
          { after: '100ms', mn: MN_2017, cn: '1011' },
          { after: '150ms', mn: MN_2017, cn: '2061', last: '3h' },
          { after: '150ms', mn: MN_2005, cn: '1011' },
          { after: '200ms', mn: MN_2025, cn: '2061', last: '3h' },
        ],
      });
      const done = exchanges(p, 4);
      const f = await fleet(p.port, {
        stations: [
          { mn: MN_2017, pw: 'a1b2c3', version: '2017', outlet: 'water' },
          { mn: MN_2005, pw: 'x9y8z7', version: '2005', outlet: 'gas' },
          { mn: MN_2025, pw: 'k2025k', version: '2025', outlet: 'water', sm4Key: KEY },
        ],
        warp: 600,
        intervals: { rtd: 30, minute: 1, hour: true, day: false },
        ackTimeout: '2s',
        retries: 1,
        tick: 20,
        // The scripted exchanges only: a 1013 at connect would have the platform add a 1012 for each logger.
        timeCalibration: false,
      });
      const records = await done;
      const summary = await f.stop();
      const report = await p.close();

      expect(summary.connected).toBe(3);
      expect(summary.sent).toBeGreaterThan(0);
      expect(summary.acknowledged).toBe(summary.sent);
      expect(summary.failed).toBe(0);
      expect(summary.retries).toBe(0);
      expect(report.totals.acknowledged).toBe(summary.acknowledged);

      // The platform refuses a clear CP from a keyed 2025 station (unencrypted-cp), so the 2025 logger's
      // pass also says every data upload it sent was SM4-encrypted on the wire.
      for (const mn of [MN_2017, MN_2005, MN_2025]) {
        const s = report.stations.find((x) => x.mn === mn);
        expect(s, mn).toBeDefined();
        expect(s!.verdict, `${mn}\n${renderReport(report)}`).toBe('pass');
        expect(s!.acknowledged).toBeGreaterThan(0);
      }
      expect(report.stations.find((x) => x.mn === MN_2005)!.versions).toEqual(['2005']);
      expect(report.stations.find((x) => x.mn === MN_2025)!.versions).toEqual(['2025']);

      const time = records.find((r) => r.mn === MN_2017 && r.cn === '1011')!;
      expect(time.answers).toEqual(['9011 QnRtn=1', '1011', '9012 ExeRtn=1']);
      expect(time.ok).toBe(true);
      const time2005 = records.find((r) => r.mn === MN_2005 && r.cn === '1011')!;
      expect(time2005.answers).toEqual(['9011 QnRtn=1', '1011', '9012 ExeRtn=1']);
      for (const mn of [MN_2017, MN_2025]) {
        const hist = records.find((r) => r.mn === mn && r.cn === '2061')!;
        expect(hist.ok, hist.reason).toBe(true);
        expect(hist.answers[0]).toBe('9011 QnRtn=1');
        expect(hist.answers.at(-1)).toBe('9012 ExeRtn=1');
        expect(hist.dataPackets).toBeGreaterThanOrEqual(2);
        expect(hist.answers.slice(1, -1).every((a) => a === '2061')).toBe(true);
        expect(report.stations.find((x) => x.mn === mn)!.requests.map((r) => r.cn)).toContain('2061');
      }
      expect(renderReport(report)).toContain(`PASS  ${MN_2017}`);
    },
  );
});

describe('time calibration (HJ 212-2017 C.4)', () => {
  it(
    'a logger sends 1013 at connect; the platform answers 9013 and sets ' +
      'its clock with 1012, answered 9011 then 9012',
    async () => {
      const p = await platform({ stations: [{ mn: MN_2017, pw: 'a1b2c3' }], requestTimeout: '5s' });
      const done = exchanges(p, 1);
      await fleet(p.port, {
        stations: [{ mn: MN_2017, pw: 'a1b2c3' }],
        intervals: { rtd: 30, minute: 10, hour: false, day: false },
        tick: 20,
      });
      const [setTime] = await done;
      expect(setTime).toMatchObject({ mn: MN_2017, cn: '1012', ok: true });
      expect(setTime!.answers).toEqual(['9011 QnRtn=1', '9012 ExeRtn=1']);
    },
  );
});

describe('bad input', () => {
  it('a logger with a wrong password gets QnRtn=3 and is reported failing', async () => {
    const p = await platform({ stations: [{ mn: MN_2017, pw: 'right1' }] });
    const f = await fleet(p.port, {
      stations: [{ mn: MN_2017, pw: 'wrong1' }],
      warp: 600,
      intervals: { rtd: 30, minute: 10, hour: false, day: false },
      ackTimeout: '2s',
      retries: 3,
      tick: 20,
      // The refusal awaited is an upload's: a 1013 at connect would be refused first.
      timeCalibration: false,
    });
    await once(p, 'refused');
    // Stopping waits for the refused upload's 9011 (no retries: a wrong PW cannot get better).
    const summary = await f.stop();
    const report = await p.close();
    expect(summary.refused['3']).toBeGreaterThan(0);
    expect(summary.acknowledged).toBe(0);
    expect(summary.retries).toBe(0);
    const s = report.stations.find((x) => x.mn === MN_2017)!;
    expect(s.verdict).toBe('fail');
    expect(s.checks['password']!.failed).toBeGreaterThan(0);
    expect(s.checks['password']!.reasons[0]).toMatch(/PW wrong1/);
  });

  it(
    'reports a bad CRC (answered QnRtn=9), garbage and a dialect frame with ' +
      'reasons, and still accepts the valid frame after them',
    async () => {
      const p = await platform({ stations: [{ mn: MN_2017, pw: 'pw2017' }] });
      const c = await rawClient(p.port);
      const badQn = '20260301120000001';
      const good = encodeFrame(upload(MN_2017, 'pw2017', badQn));
      const badCrc = good.slice(0, -6) + (good.slice(-6, -2) === '0000' ? '0001' : '0000') + '\r\n';
      const dialectSeg = buildSegment(upload(MN_2017, 'pw2017', '20260301120000002'));
      const modbus = crcFor('modbus', Buffer.from(dialectSeg)).toString(16).toUpperCase().padStart(4, '0');
      const dialect = `##${String(Buffer.byteLength(dialectSeg)).padStart(4, '0')}${dialectSeg}${modbus}\r\n`;
      const validQn = '20260301120000003';
      c.socket.write(badCrc + 'garbage bytes here\r\n' + dialect + encodeFrame(upload(MN_2017, 'pw2017', validQn)));

      const crcAnswer = await c.next((x) => x.cn === '9011');
      expect(crcAnswer.qn).toBe(badQn);
      expect(crcAnswer.cp.params['QnRtn']).toBe('9');
      const ack = await c.next((x) => x.cn === '9014');
      expect(ack.qn).toBe(validQn);
      expect(c.received.filter((x) => x.cn === '9014')).toHaveLength(1);

      const report = await p.close();
      const s = report.stations.find((x) => x.mn === MN_2017)!;
      expect(s.uploads['2011']).toBe(1);
      expect(s.acknowledged).toBe(1);
      expect(s.verdict).toBe('fail');
      const codes = s.rejected.map((r) => r.error.code);
      expect(codes).toContain('bad-crc');
      const dialectFrame = s.rejected.find((r) => r.lenient.ok);
      expect(dialectFrame?.lenient).toMatchObject({ ok: true, crcDialect: 'modbus' });
      expect(s.checks['frame-strict']!.failed).toBe(2);
      const garbage = report.stations.find((x) => x.mn.startsWith('unidentified'));
      expect(garbage?.rejected[0]?.error.code).toBe('garbage');
      expect(renderReport(report)).toMatch(/bad-crc: CRC/);
    },
  );

  it('answers an unknown MN that asked for an answer with QnRtn=4 and reports it', async () => {
    const p = await platform({ stations: [{ mn: MN_2017, pw: 'pw2017' }] });
    const c = await rawClient(p.port);
    const stranger = 'FFFF0000000000000000FFFF';
    c.socket.write(encodeFrame(upload(stranger, 'pw2017')));
    const answer = await c.next((x) => x.cn === '9011');
    expect(answer.cp.params['QnRtn']).toBe('4');
    const report = await p.close();
    const s = report.stations.find((x) => x.mn === stranger)!;
    expect(s.configured).toBe(false);
    expect(s.verdict).toBe('fail');
    expect(s.checks['station-known']!.reasons).toEqual(['MN is not configured on this platform']);
    expect(renderReport(report)).toContain('not a configured station');
  });

  it('warns about the field default password without failing the station', async () => {
    const p = await platform({ stations: [{ mn: MN_2017, pw: '123456' }] });
    const c = await rawClient(p.port);
    c.socket.write(encodeFrame(upload(MN_2017, '123456')));
    await c.next((x) => x.cn === '9014');
    const s = (await p.close()).stations[0]!;
    expect(s.verdict).toBe('pass');
    expect(s.warnings).toEqual(['uses the field default password 123456']);
  });

  it('a sequential script sends a step only once the previous exchange is over', async () => {
    const p = await platform({
      stations: [{ mn: MN_2017, pw: 'pw2017' }],
      sequential: true,
      script: [
        { after: 0, mn: MN_2017, cn: '1061' },
        { after: 0, mn: MN_2017, cn: '1064', params: { MinInterval: '10' } },
      ],
    });
    const done = exchanges(p, 2);
    const c = await rawClient(p.port);
    c.socket.write(encodeFrame(upload(MN_2017, 'pw2017')));
    const first = await c.next((x) => x.cn === '1061');
    // The platform reads a connection in order: once an upload sent after a frame is acknowledged, that
    // frame has been handled, and the 1064 would have gone out by then if it did not wait.
    const roundTrip = async (qn: string) => {
      c.socket.write(encodeFrame(upload(MN_2017, 'pw2017', qn)));
      await c.next((x) => x.cn === '9014' && x.qn === qn);
    };
    await roundTrip('20260301120000101');
    expect(c.received.some((x) => x.cn === '1064')).toBe(false);
    const answer = (cn: string, params: Record<string, string>, flag = makeFlag('2017')): string =>
      encodeFrame({
        version: '2017',
        qn: first.qn!,
        st: '91',
        cn,
        pw: 'pw2017',
        mn: MN_2017,
        flag,
        cp: { params, factors: {} },
      });
    c.socket.write(answer('9011', { QnRtn: '1' }));
    c.socket.write(
      encodeFrame({
        ...upload(MN_2017, 'pw2017', first.qn!),
        cn: '1061',
        flag: makeFlag('2017'),
        cp: { params: { RtdInterval: '30' }, factors: {} },
      }),
    );
    await roundTrip('20260301120000102');
    expect(c.received.some((x) => x.cn === '1064')).toBe(false);
    c.socket.write(answer('9012', { ExeRtn: '1' }));
    const second = await c.next((x) => x.cn === '1064');
    c.socket.write(encodeFrame(qnRtnAnswer({ ...second, mn: MN_2017, pw: 'pw2017' }, 2)));
    const records = await done;
    expect(records.map((r) => [r.cn, r.answers, r.ok])).toEqual([
      ['1061', ['9011 QnRtn=1', '1061', '9012 ExeRtn=1'], true],
      ['1064', ['9011 QnRtn=2'], false],
    ]);
  });

  it('a scripted request to a station that is not connected is recorded as failed', async () => {
    const p = await platform({ stations: [{ mn: MN_2017, pw: 'pw2017' }] });
    const ex = p.issue({ mn: MN_2017, cn: '1011', params: {} });
    expect(ex.ok).toBe(false);
    expect(ex.reason).toMatch(/not connected/);
  });
});

describe('platform checks (pure)', () => {
  it('data uploads need DataTime, a factor, Avg for statistics and table 8 flags', () => {
    const p = upload(MN_2017, 'x');
    expect(checkDataPacket(p).every((c) => c.ok)).toBe(true);
    const hour: Packet = { ...p, cn: '2061', cp: { params: {}, factors: { w01018: { Rtd: '1', Flag: 'Q' } } } };
    const [fields, flags] = checkDataPacket(hour);
    expect(fields!.ok).toBe(false);
    expect(fields!.reason).toMatch(/no DataTime.*w01018 has no Avg/);
    expect(flags!.reason).toMatch(/Flag=Q is not a flag of table 8/);
  });

  it('flags data before 9011 and a 9012 without data', () => {
    const ex = newExchange(MN_2017, '2061', '20260301120000000', new Date());
    const reply = (cn: string, params: Record<string, string> = {}): Packet => ({
      version: '2017',
      cn,
      cp: { params, factors: {} },
    });
    expect(observe(ex, reply('2061'))).toBe(false);
    expect(observe(ex, reply('9011', { QnRtn: '1' }))).toBe(false);
    expect(observe(ex, reply('9012', { ExeRtn: '1' }))).toBe(true);
    expect(ex.ok).toBe(false);
    expect(ex.reason).toMatch(/2061 data came before 9011/);
    const empty = newExchange(MN_2017, '1011', '20260301120000000', new Date());
    observe(empty, reply('9011', { QnRtn: '1' }));
    observe(empty, reply('9012', { ExeRtn: '1' }));
    expect(empty.reason).toMatch(/no 1011 data/);
  });

  it("takes C.34's 3015 response between 9011 and 9012 as the retained sample's data, and requires it", () => {
    const reply = (cn: string, params: Record<string, string> = {}): Packet => ({
      version: '2017',
      cn,
      cp: { params, factors: {} },
    });
    const ex = newExchange(MN_2017, '3015', '20260301120000000', new Date());
    observe(ex, reply('9011', { QnRtn: '1' }));
    observe(ex, reply('3015', { DataTime: '20260301120000', VaseNo: '1' }));
    expect(observe(ex, reply('9012', { ExeRtn: '1' }))).toBe(true);
    expect([ex.ok, ex.reason]).toEqual([true, undefined]);
    const bare = newExchange(MN_2017, '3015', '20260301120000001', new Date());
    observe(bare, reply('9011', { QnRtn: '1' }));
    observe(bare, reply('9012', { ExeRtn: '1' }));
    expect(bare.reason).toMatch(/no 3015 data/);
  });

  it('a step expecting a refusal passes on that QnRtn and fails on any other, naming both', () => {
    const reply = (cn: string, params: Record<string, string> = {}): Packet => ({
      version: '2017',
      cn,
      cp: { params, factors: {} },
    });
    const refused = newExchange(MN_2017, '3013', '20260301120000000', new Date(), 2);
    expect(observe(refused, reply('9011', { QnRtn: '2' }))).toBe(true);
    expect([refused.ok, refused.answers]).toEqual([true, ['9011 QnRtn=2']]);
    const accepted = newExchange(MN_2017, '3013', '20260301120000001', new Date(), 2);
    expect(observe(accepted, reply('9011', { QnRtn: '1' }))).toBe(true);
    expect(accepted.ok).toBe(false);
    expect(accepted.reason).toMatch(/expected a refusal QnRtn=2 .*, got QnRtn=1/);
    const other = newExchange(MN_2017, '3013', '20260301120000002', new Date(), 2);
    observe(other, reply('9011', { QnRtn: '3' }));
    expect(other.ok).toBe(false);
  });

  it('takes 9011 then 9012 as the whole answer to a 2011 start request (table C.10)', () => {
    const reply = (cn: string, params: Record<string, string> = {}): Packet => ({
      version: '2017',
      cn,
      cp: { params, factors: {} },
    });
    const ex = newExchange(MN_2017, '2011', '20260301120000000', new Date());
    expect(observe(ex, reply('9011', { QnRtn: '1' }))).toBe(false);
    expect(observe(ex, reply('9012', { ExeRtn: '1' }))).toBe(true);
    expect(ex.ok).toBe(true);
  });
});

describe('the report names each failing frame, in English or Chinese, in China time', () => {
  // 2026-03-01 04:00:00 UTC is 12:00:00 in China (UTC+8).
  const NOW = Date.parse('2026-03-01T04:00:00Z');
  async function clockedPlatform(input: Omit<PlatformConfigInput, 'port'>): Promise<PlatformServer> {
    const p = new PlatformServer(PlatformConfigSchema.parse({ ...input, port: 0 }), { log: silent, now: () => NOW });
    open.platforms.push(p);
    await p.listen();
    return p;
  }
  const hourAt = (qn: string, dataTime: string, factors: Packet['cp']['factors']): Packet => ({
    ...upload(MN_2017, 'pw2017', qn),
    cn: '2061',
    cp: { params: { DataTime: dataTime }, factors },
  });

  it(
    'a DataTime off its period fails data-time with the QN, CN and ' + 'first bytes of the frame; times are UTC+8',
    async () => {
      const p = await clockedPlatform({ stations: [{ mn: MN_2017, pw: 'pw2017', minInterval: 10 }] });
      const c = await rawClient(p.port);
      const w = { w01018: { Avg: '38.2', Flag: 'N' } };
      // An hour stamped 12:05, a minute record at 12:05 on a 10-minute interval, and a good hour at 12:00.
      const late = encodeFrame(hourAt('20260301120600001', '20260301120500', w));
      const offInterval = encodeFrame({ ...hourAt('20260301120600002', '20260301120500', w), cn: '2051' });
      c.socket.write(late + offInterval + encodeFrame(hourAt('20260301120600003', '20260301120000', w)));
      await c.next((x) => x.cn === '9014' && x.qn === '20260301120600003');
      const report = await p.close();
      expect(report.generatedAt).toBe('2026-03-01T12:00:00.000+08:00');
      const s = report.stations.find((x) => x.mn === MN_2017)!;
      expect(s.verdict).toBe('fail');
      expect(s.checks['data-time']).toMatchObject({ passed: 1, failed: 2 });
      expect(s.checks['data-time']!.failures).toEqual([
        {
          reason: 'DataTime=20260301120500 is not on a whole hour (hour data start on one)',
          frame: { qn: '20260301120600001', cn: '2061', excerpt: `${late.slice(0, 72)}…` },
        },
        {
          reason: "DataTime=20260301120500 is not on the station's 10-minute interval",
          frame: { qn: '20260301120600002', cn: '2051', excerpt: `${offInterval.slice(0, 72)}…` },
        },
      ]);
      const text = renderReport(report);
      expect(text).toContain('HJ 212 conformance report 2026-03-01 12:00:00 China time (UTC+8)');
      expect(text).toContain(
        `- QN=20260301120600001 CN=2061 "${late.slice(0, 72)}…": DataTime=20260301120500 is not on a whole hour`,
      );
      const zh = renderReport(report, { lang: 'zh' });
      expect(zh).toContain('HJ 212 联网符合性报告 2026-03-01 12:00:00（北京时间 UTC+8）');
      expect(zh).toContain(`不通过  ${MN_2017}`);
      expect(zh).toMatch(/x 数据时间 DataTime\s+通过 {5}1 失败 {5}2/); // padStart(5) and a space
    },
  );

  it('QN, ST and length faults are named checks with their frame; unknown factor codes are a warning', async () => {
    const p = await clockedPlatform({ stations: [{ mn: MN_2017, pw: 'pw2017' }] });
    const c = await rawClient(p.port);
    const seg = (qn: string, st: string, factors: string): string =>
      `QN=${qn};ST=${st};CN=2011;PW=pw2017;MN=${MN_2017};Flag=5;CP=&&DataTime=20260301120000;${factors}&&`;
    const frame = (segment: string): string => frameSegment(segment);
    const badQn = frame(seg('20261301120000001', '32', 'w01018-Rtd=38.2,w01018-Flag=N'));
    const badSt = frame(seg('20260301120000002', 'T1', 'w01018-Rtd=38.2,w01018-Flag=N'));
    const st91 = frame(seg('20260301120000003', '91', 'w01018-Rtd=38.2,w01018-Flag=N'));
    const goodSeg = seg('20260301120000004', '32', 'w99999-Rtd=1.0,w99999-Flag=N');
    // The length field says 99; the segment is longer (any 2011 segment with an MN of 24 is).
    const wrongLength = frame(goodSeg).replace(/^##\d{4}/, '##0099');
    c.socket.write(badQn + badSt + st91 + wrongLength + frame(goodSeg));
    await c.next((x) => x.cn === '9014' && x.qn === '20260301120000004');
    const s = (await p.close()).stations.find((x) => x.mn === MN_2017)!;
    expect(s.checks['qn']!.failures[0]).toMatchObject({
      reason: expect.stringContaining('QN=20261301120000001 is not a real date and time'),
      frame: { qn: '20261301120000001', cn: '2011' },
    });
    expect(s.checks['st']!.failed).toBe(2);
    expect(s.checks['st']!.failures.map((f) => f.frame?.qn)).toEqual(['20260301120000002', '20260301120000003']);
    expect(s.checks['st']!.reasons[1]).toMatch(/ST=91 \(system interaction\) on a 2011 data upload/);
    const mismatch = s.rejected.find((r) => r.error.code === 'length-mismatch')!;
    expect(mismatch.frame).toMatchObject({ qn: '20260301120000004', cn: '2011' });
    expect(mismatch.lenient).toMatchObject({ ok: true, relaxations: [{ code: 'length-mismatch' }] });
    expect(s.warnings).toEqual(['factor w99999 is not a code of appendix B (first in CN 2011 QN=20260301120000004)']);
  });

  it('joins PNUM/PNO parts into one upload, and fails the split check naming a part that never came', async () => {
    const p = await clockedPlatform({ stations: [{ mn: MN_2017, pw: 'pw2017' }] });
    const whole: { cn: string; cp: Packet['cp'] }[] = [];
    p.on('upload', (u) => whole.push(u));
    const c = await rawClient(p.port);
    const part = (qn: string, pno: number, pnum: number, code: string): string =>
      encodeFrame({
        ...hourAt(qn, '20260301110000', { [code]: { Avg: '1.0', Flag: 'N' } }),
        flag: 7,
        pnum,
        pno,
      });
    c.socket.write(
      part('20260301120000001', 1, 2, 'w01018') +
        part('20260301120000002', 2, 2, 'w21003') +
        part('20260301120000003', 1, 3, 'w01018'),
    );
    await c.next((x) => x.cn === '9014' && x.qn === '20260301120000003');
    const s = (await p.close()).stations.find((x) => x.mn === MN_2017)!;
    expect(whole.map((u) => Object.keys(u.cp.factors))).toEqual([['w01018', 'w21003']]);
    expect(s.uploads['2061']).toBe(3);
    expect(s.checks['split']).toMatchObject({ passed: 1, failed: 1 });
    expect(s.checks['split']!.reasons[0]).toMatch(/the platform stopped; missing PNO 2,3 of 3/);
  });

  it(
    'takes a history answer split as table C.49 has it (each part ' + 'its own QN) as the answer to its request',
    async () => {
      const p = await clockedPlatform({ stations: [{ mn: MN_2017, pw: 'pw2017' }], requestTimeout: '5s' });
      const c = await rawClient(p.port);
      c.socket.write(encodeFrame(upload(MN_2017, 'pw2017', '20260301120000001')));
      await c.next((x) => x.cn === '9014');
      const done = exchanges(p, 1);
      p.issue({ mn: MN_2017, cn: '2061', params: { BeginTime: '20260301100000', EndTime: '20260301100000' } });
      const req = await c.next((x) => x.cn === '2061');
      const part = (qn: string, pno: number, code: string): string =>
        encodeFrame({
          ...hourAt(qn, '20260301100000', { [code]: { Avg: '1.0', Flag: 'N' } }),
          flag: 6, // 2017, split, no answer wanted (C.49)
          pnum: 2,
          pno,
        });
      c.socket.write(
        encodeFrame(qnRtnAnswer(req, 1)) +
          part('20260301120000534', 1, 'w01018') +
          part('20260301120000535', 2, 'w21003') +
          encodeFrame(exeRtnAnswer(req, 1)),
      );
      const [record] = await done;
      expect(record!.answers).toEqual(['9011 QnRtn=1', '2061', '2061', '9012 ExeRtn=1']);
      expect(record!.ok).toBe(true);
      const s = (await p.close()).stations.find((x) => x.mn === MN_2017)!;
      expect(s.checks['split']).toMatchObject({ passed: 1, failed: 0 });
      expect(s.checks['answers']).toBeUndefined();
    },
  );

  it('hj212 sim platform --lang zh prints the table in Chinese; another language is refused', async () => {
    const run = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let out = '';
      let err = '';
      stdout.on('data', (b: Buffer) => (out += b.toString()));
      stderr.on('data', (b: Buffer) => (err += b.toString()));
      const code = await runCli(argv, { stdin: new PassThrough(), stdout, stderr });
      return { code, out, err };
    };
    const zh = await run(['sim', 'platform', '--port', '0', '--duration', '200ms', '--lang', 'zh']);
    expect(zh.out).toMatch(/^HJ 212 联网符合性报告 \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}（北京时间 UTC\+8）\n连接 0，/);
    const bad = await run(['sim', 'platform', '--lang', 'fr']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--lang fr: write en or zh/);
  });
});
