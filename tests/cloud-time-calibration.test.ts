import { connectAsync } from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { downTopic, upTopic } from '../cloud/index.js';
import { decodeFrame, encodeFrame, type Packet } from '../protocol/index.js';
import { LoggerConfigSchema, startLoggers } from '../simulators/logger/index.js';
import {
  rawClient,
  startTestCloud,
  testHash,
  testStations,
  WATER_MN,
  WATER_PW,
  type TestCloud,
} from './helpers/cloud-fixtures.js';
import { until } from './helpers/common.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The cloud's injected clock: 02:00:05.250 UTC is 10:00:05 in China (UTC+8), SystemTime 20261120100005. */
const CLOUD_NOW = Date.parse('2026-11-20T02:00:05.250Z');
const SYSTEM_TIME = '20261120100005';
const SM4_MN = '0100000000A89000000000C3';
const SM4_KEY = '0123456789ABCDEF0123456789ABCDEF';
const SM4_PW = 'k2025k';

async function cloud(extra: Parameters<typeof startTestCloud>[0] = {}, now = () => CLOUD_NOW): Promise<TestCloud> {
  const [water, gas] = await testStations();
  const c = await startTestCloud(
    extra,
    [water!, gas!, { ...water!, mn: SM4_MN, version: '2025', sm4Key: SM4_KEY, passwordHash: await testHash(SM4_PW) }],
    { now },
  );
  cleanup.push(() => c.stop());
  return c;
}

const notice = (cn: string, qn: string, over: Partial<Packet> = {}): Packet => ({
  version: '2017',
  qn,
  st: '32',
  cn,
  pw: WATER_PW,
  mn: WATER_MN,
  flag: 5,
  cp: { params: {}, factors: {} },
  ...over,
});

/** The logger's answers to a request of the platform: 9011 QnRtn=1 then 9012 ExeRtn=1, with its QN. */
const answers = (qn: string): string =>
  encodeFrame({ ...notice('9011', qn, { st: '91', flag: 4 }), cp: { params: { QnRtn: '1' }, factors: {} } }) +
  encodeFrame({ ...notice('9012', qn, { st: '91', flag: 4 }), cp: { params: { ExeRtn: '1' }, factors: {} } });

const noPoints = async (c: TestCloud, mn: string): Promise<number> => {
  let n = 0;
  for (const kind of ['rtd', 'minute', 'hour', 'day'] as const)
    n += (await c.cloud.store.query({ mn, kind, from: 0, to: CLOUD_NOW + 86_400_000 })).length;
  return n;
};

describe('time calibration (HJ 212-2017 C.4) and the 2025 heartbeat at the cloud', () => {
  it(
    'TCP: answers a 1013 with 9013 (its QN), then sends 1012 with the ' +
      'cloud time in China time; logs the 9011/9012',
    async () => {
      const c = await cloud();
      const client = await rawClient(c.cloud.tcp!.address.port);
      cleanup.push(async () => client.close());
      client.socket.write(encodeFrame(notice('1013', '20261120095900123')));
      const [ack, setTime] = await client.received(2);
      expect(ack).toMatchObject({ cn: '9013', qn: '20261120095900123', st: '91', mn: WATER_MN });
      expect(setTime).toMatchObject({ cn: '1012', st: '32', mn: WATER_MN, pw: WATER_PW, version: '2017' });
      expect(setTime!.cp.params).toEqual({ SystemTime: SYSTEM_TIME });
      // The A bit is set: the logger answers 9011/9012 (C.3).
      expect(setTime!.flag! & 1).toBe(1);
      client.socket.write(answers(setTime!.qn!));
      await until(() => c.lines.filter((l) => l['reason'] === 'command-answer').length === 2, 'both answers logged');
      const logged = c.lines.filter((l) => l['reason'] === 'command-answer');
      expect(logged.map((l) => [l['mn'], l['cn'], l['qn'], l['qnRtn'] ?? l['exeRtn']])).toEqual([
        [WATER_MN, '9011', setTime!.qn, '1'],
        [WATER_MN, '9012', setTime!.qn, '1'],
      ]);
      expect(c.cloud.ingest.stats.rejected).toEqual({});
      expect(await noPoints(c, WATER_MN)).toBe(0);
    },
  );

  it('TCP: a 1013 without the A bit gets no 9013 but still its 1012; a refused 1012 is logged as refused', async () => {
    const c = await cloud();
    const client = await rawClient(c.cloud.tcp!.address.port);
    cleanup.push(async () => client.close());
    client.socket.write(encodeFrame(notice('1013', '20261120095900124', { flag: 4 })));
    const [setTime] = await client.received(1);
    expect(setTime).toMatchObject({ cn: '1012', mn: WATER_MN });
    expect(setTime!.cp.params['SystemTime']).toBe(SYSTEM_TIME);
    const refusal = {
      ...notice('9011', setTime!.qn!, { st: '91', flag: 4 }),
      cp: { params: { QnRtn: '2' }, factors: {} },
    };
    client.socket.write(encodeFrame(refusal));
    await until(() => c.lines.some((l) => l['reason'] === 'command-refused'), 'refusal logged');
    expect(c.lines.find((l) => l['reason'] === 'command-refused')).toMatchObject({
      mn: WATER_MN,
      cn: '9011',
      qnRtn: '2',
      level: 40,
    });
  });

  it(
    'the logger simulator sends 1013 at connect, answers the 1012 ' + 'with 9011/9012 and takes the cloud time',
    async () => {
      const c = await cloud();
      // The logger's clock stands an hour behind (09:00:00 China time) and does not move.
      const behind = Date.parse('2026-11-20T09:00:00+08:00');
      const config = LoggerConfigSchema.parse({
        port: c.cloud.tcp!.address.port,
        stations: [{ mn: WATER_MN, pw: WATER_PW }],
        tick: 20,
      });
      const fleet = await startLoggers(config, { clock: { now: () => behind }, log: pino({ level: 'silent' }) });
      cleanup.push(() => fleet.stop());
      await until(() => c.lines.filter((l) => l['reason'] === 'command-answer').length === 2, 'the 1012 answered');
      // SystemTime has whole seconds: the logger now reads 10:00:05 China time exactly.
      expect(fleet.loggers[0]!.now()).toBe(Date.parse('2026-11-20T10:00:05+08:00'));
      const summary = await fleet.stop();
      expect(summary.requests).toBe(1);
      expect(c.cloud.ingest.stats.rejected).toEqual({});
    },
  );

  it('MQTT: answers a 1013 with 9013 then 1012 on the down topic, in that order', async () => {
    const c = await cloud({ mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 }, tcp: undefined });
    const url = `mqtt://127.0.0.1:${c.cloud.mqtt!.address!.port}`;
    const device = await connectAsync(url, {
      username: WATER_MN,
      password: 'water-secret',
      reconnectPeriod: 0,
      clientId: `dev-${WATER_MN}-1013`,
    });
    cleanup.push(() => device.endAsync(true));
    const got: Packet[] = [];
    device.on('message', (_t, payload) => {
      const r = decodeFrame(payload);
      if (r.ok) got.push(r.frame.packet);
    });
    await device.subscribeAsync(downTopic(WATER_MN), { qos: 1 });
    await device.publishAsync(upTopic(WATER_MN), encodeFrame(notice('1013', '20261120095900125')), { qos: 1 });
    await until(() => got.length >= 2, '9013 and 1012');
    expect(got[0]).toMatchObject({ cn: '9013', qn: '20261120095900125', mn: WATER_MN });
    expect(got[1]).toMatchObject({ cn: '1012', mn: WATER_MN, pw: WATER_PW });
    expect(got[1]!.cp.params).toEqual({ SystemTime: SYSTEM_TIME });
    await device.publishAsync(upTopic(WATER_MN), answers(got[1]!.qn!).split('\r\n')[0] + '\r\n', { qos: 1 });
    await until(() => c.lines.some((l) => l['reason'] === 'command-answer'), '9011 logged');
    expect(c.lines.find((l) => l['reason'] === 'command-answer')).toMatchObject({ via: 'mqtt', mn: WATER_MN });
  });

  it('TCP: a 2025 heartbeat 9015 is answered 9013, closes the offline episode and stores nothing', async () => {
    let now = CLOUD_NOW;
    const c = await cloud({}, () => now);
    // 20 minutes of silence: past the 15-minute offline threshold of the registry's default.
    now += 20 * 60_000;
    c.cloud.rules.checkOffline(now);
    expect(c.cloud.alarms.isOpen(`offline|${SM4_MN}`)).toBe(true);
    expect(c.cloud.rules.lastSeen(SM4_MN)).toBeUndefined();
    const client = await rawClient(c.cloud.tcp!.address.port);
    cleanup.push(async () => client.close());
    const key = Buffer.from(SM4_KEY, 'hex');
    const beat = notice('9015', '20261120102005000', { version: '2025', mn: SM4_MN, pw: SM4_PW, flag: 9 });
    client.socket.write(encodeFrame(beat, { sm4Key: () => key }));
    const [answer] = await client.received(1);
    expect(answer).toMatchObject({ cn: '9013', qn: '20261120102005000', mn: SM4_MN, st: '91' });
    expect(c.cloud.rules.lastSeen(SM4_MN)).toEqual({ at: now, via: 'tcp' });
    expect(c.cloud.alarms.isOpen(`offline|${SM4_MN}`)).toBe(false);
    expect(c.cloud.ingest.stats).toMatchObject({ stored: 0, points: 0, rejected: {} });
    expect(await noPoints(c, SM4_MN)).toBe(0);
  });

  it(
    'a 2025 logger simulator with --heartbeat sends 9015 when idle; ' + 'the cloud marks it seen and stores nothing',
    async () => {
      const c = await cloud();
      const config = LoggerConfigSchema.parse({
        port: c.cloud.tcp!.address.port,
        stations: [{ mn: SM4_MN, pw: SM4_PW, version: '2025', sm4Key: SM4_KEY }],
        // Only the heartbeat goes out: no 1013, and a clock that stands still has no period fall due.
        timeCalibration: false,
        heartbeat: 1,
        tick: 20,
      });
      const fleet = await startLoggers(config, { clock: { now: () => CLOUD_NOW }, log: pino({ level: 'silent' }) });
      cleanup.push(() => fleet.stop());
      await until(() => c.lines.some((l) => l['reason'] === 'heartbeat' && l['mn'] === SM4_MN), 'a heartbeat');
      expect(c.cloud.rules.lastSeen(SM4_MN)).toEqual({ at: CLOUD_NOW, via: 'tcp' });
      await fleet.stop();
      expect(c.cloud.ingest.stats).toMatchObject({ stored: 0, points: 0, rejected: {} });
      expect(c.lines.filter((l) => l['mn'] === SM4_MN && l['cn'] !== undefined).map((l) => l['cn'])).not.toContain(
        '1013',
      );
      expect(await noPoints(c, SM4_MN)).toBe(0);
    },
  );
});
