import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame, makeFlag, type Cp, type Packet } from '../protocol/index.js';
import { rawClient, testHash, testStations, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';
import { until } from './helpers/common.js';
import { apiCloud, READ, type Call, type Json } from './helpers/dashboard-api.js';

/**
 * The HJ 212-2025 data uploads 2013, 2052, 2062 and 2111 and the logger serial 1001 (docs/protocol-2025.md),
 * sent SM4-encrypted by a real TCP socket into a running cloud: each is answered 9014 once stored, under a
 * data kind of its own, read back through the data, history and station API.
 */
const KEY = '00112233445566778899AABBCCDDEEFF';
/** 2026-11-20 10:00:00 China time. */
const T10 = Date.parse('2026-11-20T10:00:00+08:00');

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let seq = 0;
const upload = (cn: string, cp: Cp, ack = true): Packet => ({
  version: '2025',
  qn: `20261120100000${String(++seq).padStart(3, '0')}`,
  st: '32',
  cn,
  pw: WATER_PW,
  mn: WATER_MN,
  flag: makeFlag('2025', { ack }),
  cp,
});
const frame = (p: Packet): string => encodeFrame(p, { sm4Key: () => Buffer.from(KEY, 'hex') });

async function start(): Promise<{ call: Call; port: number; lines: Record<string, unknown>[] }> {
  const [water, gas] = await testStations();
  const { c, call } = await apiCloud({}, {}, [
    { ...water!, version: '2025', sm4Key: KEY, passwordHash: await testHash(WATER_PW) },
    gas!,
  ]);
  cleanups.push(() => c.stop());
  return { call, port: c.cloud.tcp!.address.port, lines: c.lines };
}

const range = `from=${T10 - 3_600_000}&to=${T10 + 3_600_000}`;

describe('HJ 212-2025 data uploads into the cloud over TCP', () => {
  it('stores 2013, 2052, 2062 and 2111 as kinds raw, noise, check and furnace, answered 9014 each', async () => {
    const { call, port } = await start();
    const client = await rawClient(port);
    cleanups.push(() => client.close());
    const packets = [
      upload('2013', {
        params: { DataTime: '20261120100000' },
        factors: { a24088: { Rtd: '12.5', Flag: 'N' } },
      }),
      upload('2052', {
        params: { DataTime: '20261120100500' },
        factors: { LA: { Data: '55.2', DayData: '56.1', NightData: '48.3', Flag: 'N' } },
      }),
      upload('2062', {
        params: { DataTime: '20261120101000' },
        // COD above its limit of 50: a standard solution, no emission, so no exceedance.
        factors: { w01018: { Rtd: '80.4', Flag: 'N' } },
      }),
      upload('2111', {
        params: { DataTime: '20261120101500' },
        factors: { a01901: { Avg: '912.3', Min: '880.0', Max: '950.5', Flag: 'N' } },
      }),
    ];
    for (const p of packets) client.socket.write(frame(p));
    const answers = await client.received(4);
    expect(answers.map((a) => [a.cn, a.qn])).toEqual(packets.map((p) => ['9014', p.qn]));

    const data = async (kind: string): Promise<Json[]> => {
      const r = await call('GET', `/stations/${WATER_MN}/data?kind=${kind}&${range}`, { token: READ });
      expect(r.status).toBe(200);
      return r.body as Json[];
    };
    expect(await data('raw')).toEqual([
      { mn: WATER_MN, factor: 'a24088', kind: 'raw', time: T10, values: { Rtd: 12.5 }, flag: 'N', outlet: 'WS-01' },
    ]);
    expect(await data('noise')).toEqual([
      {
        mn: WATER_MN,
        factor: 'LA',
        kind: 'noise',
        time: T10 + 5 * 60_000,
        values: { Data: 55.2, DayData: 56.1, NightData: 48.3 },
        flag: 'N',
        outlet: 'WS-01',
      },
    ]);
    // Not judged against the COD limit (no `judged`): a standard check measures a standard.
    expect(await data('check')).toEqual([
      {
        mn: WATER_MN,
        factor: 'w01018',
        kind: 'check',
        time: T10 + 10 * 60_000,
        values: { Rtd: 80.4 },
        flag: 'N',
        outlet: 'WS-01',
      },
    ]);
    expect(await data('furnace')).toEqual([
      {
        mn: WATER_MN,
        factor: 'a01901',
        kind: 'furnace',
        time: T10 + 15 * 60_000,
        values: { Avg: 912.3, Min: 880, Max: 950.5 },
        flag: 'N',
        outlet: 'WS-01',
      },
    ]);
    // None of them shows up as measurement data of another kind.
    for (const kind of ['rtd', 'minute', 'hour', 'day']) expect(await data(kind)).toEqual([]);

    // The history table of the noise kind names table 4's noise fields.
    const history = await call('GET', `/stations/${WATER_MN}/history?kind=noise&${range}&lang=en`, { token: READ });
    expect(history.status).toBe(200);
    expect(history.body.kind).toBe('noise');
    expect(history.body.columns.map((c: Json) => [c.factor, c.fields])).toEqual([
      ['LA', ['Data', 'DayData', 'NightData']],
    ]);
    expect(history.body.rows).toEqual([
      {
        time: T10 + 5 * 60_000,
        cells: {
          LA: { values: { Data: 55.2, DayData: 56.1, NightData: 48.3 }, flag: 'N', flagName: expect.any(String) },
        },
      },
    ]);

    // Not the COD's latest value, and no alarm from the 80.4 of the standard check.
    const station = (await call('GET', `/stations/${WATER_MN}`, { token: READ })).body as Json;
    expect(station.latest).toEqual({});
    expect(station.openAlarms).toBe(0);
    const alarms = (await call('GET', `/alarms?mn=${WATER_MN}`, { token: READ })).body as Json[];
    expect(alarms).toEqual([]);
  });

  it(
    'is idempotent by (station, factor, kind, time): a resent 2062 ' +
      'overwrites, a 2062 and a 2111 of one time are two records',
    async () => {
      const { call, port } = await start();
      const client = await rawClient(port);
      cleanups.push(() => client.close());
      const at = { DataTime: '20261120103000' };
      const first = upload('2062', { params: at, factors: { w01018: { Rtd: '20.1' } } });
      const again = upload('2062', { params: at, factors: { w01018: { Rtd: '20.3' } } });
      const furnace = upload('2111', { params: at, factors: { w01018: { Avg: '7.0' } } });
      for (const p of [first, again, furnace]) client.socket.write(frame(p));
      expect((await client.received(3)).map((a) => [a.cn, a.qn])).toEqual([
        ['9014', first.qn],
        ['9014', again.qn],
        ['9014', furnace.qn],
      ]);
      const read = async (kind: string) =>
        (
          (await call('GET', `/stations/${WATER_MN}/data?kind=${kind}&factor=w01018&${range}`, { token: READ }))
            .body as Json[]
        ).map((p) => [p.kind, p.time, p.values]);
      expect(await read('check')).toEqual([['check', T10 + 30 * 60_000, { Rtd: 20.3 }]]);
      expect(await read('furnace')).toEqual([['furnace', T10 + 30 * 60_000, { Avg: 7 }]]);
    },
  );

  it(
    'keeps the logger hardware serial of 1001 as station metadata, ' +
      'answers 9014 when asked, refuses a 1001 without SN',
    async () => {
      const { call, port, lines } = await start();
      const client = await rawClient(port);
      cleanups.push(() => client.close());
      const station = async (): Promise<Json> => (await call('GET', `/stations/${WATER_MN}`, { token: READ })).body;
      expect((await station()).serial).toBeNull();

      const before = Date.now();
      const first = upload('1001', { params: { DataTime: '20261120100000', SN: 'HJ-DL-2025-000123' }, factors: {} });
      client.socket.write(frame(first));
      expect((await client.received(1)).map((a) => [a.cn, a.qn])).toEqual([['9014', first.qn]]);
      const s1 = (await station()).serial;
      expect(s1).toEqual({ serial: 'HJ-DL-2025-000123', reportedAt: expect.any(Number), since: s1.reportedAt });
      expect(s1.reportedAt).toBeGreaterThanOrEqual(before);
      expect(s1.reportedAt).toBeLessThanOrEqual(Date.now());

      // Without the A bit: kept, not answered. Another serial under the same MN: a replaced box, warned.
      const second = upload(
        '1001',
        { params: { DataTime: '20261120110000', SN: 'HJ-DL-2025-000999' }, factors: {} },
        false,
      );
      client.socket.write(frame(second));
      await until(async () => (await station()).serial?.serial === 'HJ-DL-2025-000999', 'the second serial kept');
      const s2 = (await station()).serial;
      expect(s2.since).toBe(s2.reportedAt);
      expect(s2.since).toBeGreaterThanOrEqual(s1.reportedAt);
      expect(lines.find((l) => l['reason'] === 'serial-changed')).toMatchObject({
        mn: WATER_MN,
        serial: 'HJ-DL-2025-000999',
        previous: 'HJ-DL-2025-000123',
      });
      // The same list shows it too.
      const all = (await call('GET', '/stations', { token: READ })).body as Json[];
      expect(all.find((s) => s.mn === WATER_MN).serial.serial).toBe('HJ-DL-2025-000999');
      expect(all.find((s) => s.mn !== WATER_MN).serial).toBeNull();

      const bad = upload('1001', { params: { DataTime: '20261120120000' }, factors: {} });
      client.socket.write(frame(bad));
      const [, answer] = await client.received(2);
      expect([answer!.cn, answer!.qn, answer!.cp.params]).toEqual(['9011', bad.qn, { QnRtn: '2' }]);
      expect((await station()).serial.serial).toBe('HJ-DL-2025-000999');
    },
  );
});
