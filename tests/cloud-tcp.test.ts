import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, type FactorFields, type Packet } from '../protocol/index.js';
import { LoggerConfigSchema, startLoggers } from '../simulators/logger/index.js';
import {
  captureLog,
  GAS_MN,
  GAS_PW,
  rawClient,
  startTestCloud,
  testHash,
  testStations,
  WATER_MN,
  WATER_PW,
  type TestCloud,
} from './helpers/cloud-fixtures.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function cloud(extra: Parameters<typeof startTestCloud>[0] = {}): Promise<TestCloud> {
  const c = await startTestCloud(extra);
  cleanup.push(() => c.stop());
  return c;
}

const T0 = Date.parse('2026-11-20T10:00:00+08:00');
let qn = 0;
function upload(
  mn: string,
  pw: string,
  cn: string,
  dataTime: string,
  factors: Record<string, FactorFields>,
  ack = true,
): string {
  const p: Packet = {
    version: '2017',
    qn: `20261120100000${String(++qn % 1000).padStart(3, '0')}`,
    st: '32',
    cn,
    pw,
    mn,
    flag: ack ? 5 : 4,
    cp: { params: { DataTime: dataTime }, factors },
  };
  return encodeFrame(p);
}
const hour = (mn: string, pw: string, avg: string): string =>
  upload(mn, pw, '2061', '20261120100000', { w01018: { Avg: avg, Flag: 'N' } });
const corruptCrc = (frame: string): string => frame.replace(/[0-9A-F]{4}\r\n$/, '0000\r\n');
const port = (c: TestCloud): number => c.cloud.tcp!.address.port;

describe('HJ 212 TCP listener', () => {
  it('stores an upload, then answers 9014 with its QN; it is queryable right after', async () => {
    const c = await cloud();
    const client = await rawClient(port(c));
    cleanup.push(async () => client.close());
    const frame = upload(WATER_MN, WATER_PW, '2061', '20261120100000', {
      w01018: { Avg: '20.5', Flag: 'N' },
      w00000: { Cou: '12.2', Flag: 'N' },
    });
    client.socket.write(frame);
    const [answer] = await client.received(1);
    expect(answer).toMatchObject({ cn: '9014', mn: WATER_MN, qn: /QN=(\d+)/.exec(frame)![1], st: '91' });
    const stored = await c.cloud.store.query({ mn: WATER_MN, kind: 'hour', from: T0, to: T0 + 1 });
    expect(stored.map((p) => [p.factor, p.values, p.flag, p.outlet])).toEqual([
      ['w00000', { Cou: 12.2 }, 'N', 'WS-01'],
      ['w01018', { Avg: 20.5 }, 'N', 'WS-01'],
    ]);
  });

  it(
    'answers bad CRC, wrong PW and unknown MN with 9011 QnRtn 9/3/4, ' +
      'and loses none of the valid frames around them',
    async () => {
      const c = await cloud();
      const client = await rawClient(port(c));
      cleanup.push(async () => client.close());
      const good1 = upload(WATER_MN, WATER_PW, '2061', '20261120100000', { w01018: { Avg: '20', Flag: 'N' } });
      const badCrc = corruptCrc(
        upload(WATER_MN, WATER_PW, '2061', '20261120110000', { w01018: { Avg: '99', Flag: 'N' } }),
      );
      const wrongPw = upload(WATER_MN, 'zzzzzz', '2061', '20261120120000', { w01018: { Avg: '98', Flag: 'N' } });
      const unknown = upload('0100000000A890000000FFFF', WATER_PW, '2061', '20261120130000', {
        w01018: { Avg: '97', Flag: 'N' },
      });
      const good2 = upload(GAS_MN, GAS_PW, '2061', '20261120100000', { a21026: { Avg: '12', ZsAvg: '14', Flag: 'N' } });
      // One write, with line noise between frames: read boundaries must not matter.
      client.socket.write([good1, 'noise!', badCrc, wrongPw, '\x00\xff', unknown, good2].join(''));
      const answers = await client.received(5);
      expect(answers.map((a) => [a.cn, a.cp.params['QnRtn'], a.mn])).toEqual([
        ['9014', undefined, WATER_MN],
        ['9011', '9', WATER_MN],
        ['9011', '3', WATER_MN],
        ['9011', '4', '0100000000A890000000FFFF'],
        ['9014', undefined, GAS_MN],
      ]);
      const water = await c.cloud.store.query({ mn: WATER_MN, kind: 'hour', from: T0, to: T0 + 10 * 3_600_000 });
      expect(water.map((p) => p.values['Avg'])).toEqual([20]);
      expect(await c.cloud.store.query({ mn: GAS_MN, kind: 'hour', from: T0, to: T0 + 1 })).toHaveLength(1);
      expect(c.cloud.ingest.stats.rejected).toEqual({ 'bad-crc': 1, garbage: 2, 'bad-password': 1, 'unknown-mn': 1 });
      const reasons = c.lines.filter((l) => l['msg'] === 'packet rejected').map((l) => [l['reason'], l['mn']]);
      expect(reasons).toContainEqual(['bad-crc', WATER_MN]);
      expect(reasons).toContainEqual(['bad-password', WATER_MN]);
      expect(reasons).toContainEqual(['unknown-mn', '0100000000A890000000FFFF']);
    },
  );

  it('rejects the default password 123456 with QnRtn 3 when the registry does not allow it', async () => {
    const c = await cloud();
    const client = await rawClient(port(c));
    cleanup.push(async () => client.close());
    client.socket.write(hour(WATER_MN, '123456', '1'));
    expect((await client.received(1))[0]!.cp.params['QnRtn']).toBe('3');
    expect(c.cloud.ingest.stats.rejected).toEqual({ 'default-password': 1 });
  });

  it('counts an oversize frame and keeps the connection for the frames after it', async () => {
    const c = await cloud({ tcp: { host: '127.0.0.1', port: 0, maxSegment: 256 } });
    const client = await rawClient(port(c));
    cleanup.push(async () => client.close());
    const big = upload(
      WATER_MN,
      WATER_PW,
      '2011',
      '20261120100000',
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`w0${1000 + i}`, { Rtd: '1.000', Flag: 'N' }])),
    );
    client.socket.write(big + hour(WATER_MN, WATER_PW, '7'));
    expect((await client.received(1))[0]!.cn).toBe('9014');
    expect(c.cloud.ingest.stats.rejected['oversize']).toBe(1);
  });

  it('holds back a connection over its rate instead of dropping its frames', async () => {
    const c = await cloud({ tcp: { host: '127.0.0.1', port: 0, rate: 50, burst: 5 } });
    const client = await rawClient(port(c));
    cleanup.push(async () => client.close());
    const frames = Array.from({ length: 30 }, (_, i) =>
      upload(WATER_MN, WATER_PW, '2051', `202611201${String(i).padStart(3, '0')}00`.slice(0, 14), {
        w01018: { Avg: String(i), Flag: 'N' },
      }),
    );
    client.socket.write(frames.join(''));
    const answers = await client.received(30);
    expect(answers.every((a) => a.cn === '9014')).toBe(true);
    expect(await c.cloud.store.query({ mn: WATER_MN, kind: 'minute', from: T0, to: T0 + 3_600_000 })).toHaveLength(30);
  });

  it('keeps every frame a rate-limited logger sent before hanging up, and reports a truncated last one', async () => {
    const c = await cloud({ tcp: { host: '127.0.0.1', port: 0, rate: 50, burst: 2 } });
    const client = await rawClient(port(c));
    const frames = Array.from({ length: 10 }, (_, i) =>
      upload(WATER_MN, WATER_PW, '2051', `2026112010${String(i).padStart(2, '0')}00`, {
        w01018: { Avg: String(i), Flag: 'N' },
      }),
    );
    client.socket.end(frames.join('') + frames[0]!.slice(0, 40));
    const range = { mn: WATER_MN, kind: 'minute' as const, from: T0, to: T0 + 3_600_000 };
    while ((await c.cloud.store.query(range)).length < 10) await new Promise((r) => setTimeout(r, 50));
    while (c.cloud.ingest.stats.rejected['truncated'] === undefined) await new Promise((r) => setTimeout(r, 20));
    expect(c.cloud.ingest.stats.rejected).toEqual({ truncated: 1 });
  });

  it('refuses connections beyond the per-address limit and closes idle ones', async () => {
    const c = await cloud({ tcp: { host: '127.0.0.1', port: 0, maxConnectionsPerAddress: 2, idleTimeoutMs: 1000 } });
    const clients = await Promise.all([1, 2, 3].map(() => rawClient(port(c))));
    cleanup.push(async () => clients.forEach((k) => k.close()));
    // The third is closed by the server; the first two stay until idle.
    await once(clients[2]!.socket, 'close');
    expect(c.cloud.ingest.stats.rejected['too-many-connections']).toBe(1);
    await Promise.all(clients.slice(0, 2).map((k) => once(k.socket, 'close')));
    expect(c.lines.filter((l) => l['reason'] === 'idle-timeout')).toHaveLength(2);
  });

  it(
    'takes the simulated loggers’ uploads (2017, 2005, and 2025 with ' +
      'SM4): every one acknowledged and the hours queryable',
    async () => {
      const SM4_MN = '0100000000A89000000000C3';
      const sm4Key = '0123456789ABCDEF0123456789ABCDEF';
      const [water, gas] = await testStations();
      const c = await startTestCloud({}, [
        water!,
        { ...gas!, version: '2005' },
        { ...water!, mn: SM4_MN, version: '2025', sm4Key, passwordHash: await testHash('k2025k') },
      ]);
      cleanup.push(() => c.stop());
      const start = '2026-11-20T09:59:00+08:00';
      const config = LoggerConfigSchema.parse({
        port: port(c),
        warp: 3600,
        start,
        stations: [
          { mn: WATER_MN, pw: WATER_PW, outlet: 'water' },
          { mn: GAS_MN, pw: GAS_PW, outlet: 'gas', version: '2005' },
          { mn: SM4_MN, pw: 'k2025k', outlet: 'water', version: '2025', sm4Key },
        ],
        intervals: { rtd: 600, minute: 30, hour: true, day: false },
        tick: 20,
        // Warped loggers on 2026-11-20, the cloud on the real clock: a 1013 would move them to today.
        timeCalibration: false,
      });
      const fleet = await startLoggers(config, { log: captureLog().log });
      cleanup.push(() => fleet.stop());
      // At an hour a second, hours 10:00 and 11:00 local are uploaded within ~3 s of real time.
      const hours = (mn: string): Promise<unknown[]> =>
        c.cloud.store.query({ mn, kind: 'hour', from: Date.parse(start), to: Date.parse(start) + 4 * 3_600_000 });
      const until = Date.now() + 15_000;
      for (;;) {
        const counts = await Promise.all([WATER_MN, GAS_MN, SM4_MN].map(hours));
        if (counts.every((h) => new Set(h.map((p) => (p as { time: number }).time)).size >= 2)) break;
        if (Date.now() > until) throw new Error(`hours not all stored: ${JSON.stringify(c.cloud.ingest.stats)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const summary = await fleet.stop();
      expect(summary.connected).toBe(3);
      expect(summary.failed).toBe(0);
      expect(summary.refused).toEqual({});
      expect(summary.acknowledged).toBe(summary.sent);
      expect(c.cloud.ingest.stats.rejected).toEqual({});
      // The 2005 logger's codes arrive mapped to 2017 ones (SO2 011 -> a21026 and so on).
      expect(
        (
          await c.cloud.store.query({
            mn: GAS_MN,
            kind: 'hour',
            factor: 'a21026',
            from: Date.parse(start),
            to: Date.parse(start) + 4 * 3_600_000,
          })
        ).length,
      ).toBeGreaterThan(0);
    },
  );

  it('refuses a clear-text CP from a 2025 station that has a key, and stores its encrypted upload', async () => {
    const SM4_MN = '0100000000A89000000000C3';
    const sm4Key = '0123456789ABCDEF0123456789ABCDEF';
    const [water] = await testStations();
    const c = await startTestCloud({}, [
      { ...water!, mn: SM4_MN, version: '2025', sm4Key, passwordHash: await testHash('k2025k') },
    ]);
    cleanup.push(() => c.stop());
    const client = await rawClient(port(c));
    cleanup.push(async () => client.close());
    const hourOf = (avg: string): Packet => ({
      version: '2025',
      qn: '20261120110000000',
      st: '32',
      cn: '2061',
      pw: 'k2025k',
      mn: SM4_MN,
      flag: 9,
      cp: { params: { DataTime: '20261120100000' }, factors: { w01018: { Avg: avg, Flag: 'N' } } },
    });
    const key = Buffer.from(sm4Key, 'hex');
    client.socket.write(encodeFrame(hourOf('99.9')) + encodeFrame(hourOf('20.5'), { sm4Key: () => key }));
    const [answer] = await client.received(1);
    expect(answer).toMatchObject({ cn: '9014', mn: SM4_MN });
    expect(c.cloud.ingest.stats.rejected).toEqual({ 'unencrypted-cp': 1 });
    const stored = await c.cloud.store.query({ mn: SM4_MN, kind: 'hour', from: T0, to: T0 + 1 });
    expect(stored.map((p) => p.values)).toEqual([{ Avg: 20.5 }]);
  });
});
