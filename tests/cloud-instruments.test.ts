import { afterEach, describe, expect, it } from 'vitest';
import { mismatches, reportedBy } from '../cloud/instruments.js';
import { mismatchDetail } from '../cloud/rules/engine.js';
import { encodeFrame, type Cp } from '../protocol/index.js';
import { rawClient, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';
import { ADMIN, CHEM, READ, scopedCloud, type Json } from './helpers/dashboard-api.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The COD analyzer as the enterprise registers it (the fields of the regulators' 自动监控设施信息 forms). */
const COD = {
  name: 'COD 在线自动监测仪',
  manufacturer: '示例仪器有限公司',
  model: 'CODmax-II',
  principle: '重铬酸钾法',
  serial: 'SN-2026-0815',
  sn: '010000A8900016F000169DC1',
  range: '0-500',
  slope: 1.02,
  intercept: 0.5,
  installer: '示例环保工程有限公司',
  omCompany: '示例环保运维有限公司',
};

const cp = (params: Record<string, string>, factors: Cp['factors'] = {}): Cp => ({ params, factors });
/** A 3020 CP: the DataTime, then one analyzer's field information after its PolId (C.42-C.45). */
const info = (dataTime: string, polId: string, codes: Record<string, string>): Cp => ({
  params: { DataTime: dataTime },
  factors: {},
  info: [{ polId, codes: Object.fromEntries(Object.entries(codes).map(([code, v]) => [code, { Info: v }])) }],
});

describe('what a logger reports of its analyzers, against the register', () => {
  it('reads 3019 ids and 3020 range, slope and intercept per factor', () => {
    // HJ 212-2017 C.39: w01018-SN; C.42-C.45: PolId with iNNNNN-Info.
    expect(reportedBy({ cn: '3019', cp: cp({ DataTime: '20261120100000' }, { w01018: { SN: COD.sn } }) })).toEqual(
      new Map([['w01018', { sn: COD.sn }]]),
    );
    const cod = info('20261120100000', 'w01018', { i13001: '0-1000', i13008: '1.020', i13007: 'x', i13004: '165' });
    // The slope 1.020 is the number 1.02; an intercept that is no number and other codes report nothing.
    expect(reportedBy({ cn: '3020', cp: cod })).toEqual(new Map([['w01018', { range: '0-1000', slope: 1.02 }]]));
    expect(reportedBy({ cn: '2061', cp: cod })).toEqual(new Map());
  });

  it('finds the fields that differ: numbers as numbers, ranges as written by people, ids in any case', () => {
    expect(mismatches(COD, { range: '0 ～ 500', slope: 1.02, sn: COD.sn.toLowerCase() })).toEqual([]);
    expect(mismatches(COD, { range: '0-1000', intercept: 0 })).toEqual([
      { field: 'range', registered: '0-500', reported: '0-1000' },
      { field: 'intercept', registered: 0.5, reported: 0 },
    ]);
    // A field the register leaves out is not checked; an analyzer with no entry at all is one mismatch.
    const { slope: _s, ...noSlope } = COD;
    expect(mismatches(noSlope, { slope: 2 })).toEqual([]);
    expect(mismatches(undefined, { range: '0-200', slope: 1 })).toEqual([
      { field: 'register', reported: 'range=0-200, slope=1' },
    ]);
    expect(mismatchDetail(mismatches(COD, { range: '0-1000', slope: 1.05 }))).toBe(
      '测量量程 备案 0-500，上报 0-1000; 斜率 备案 1.02，上报 1.05',
    );
  });
});

describe('instrument register and dynamic control (动态管控) through the cloud', () => {
  it('raises an alarm for an unregistered change of range and closes it when the change is registered', async () => {
    const { c, call } = await scopedCloud();
    cleanup.push(() => c.stop());
    const client = await rawClient(c.cloud.tcp!.address.port);
    cleanup.push(async () => client.close());
    let qn = 0;
    const send = async (cn: string, body: Cp, answers: number) => {
      client.socket.write(
        encodeFrame({
          version: '2017',
          qn: `20261120100000${String(++qn).padStart(3, '0')}`,
          st: '32',
          cn,
          pw: WATER_PW,
          mn: WATER_MN,
          flag: 5,
          cp: body,
        }),
      );
      await client.received(answers);
    };
    const path = `/stations/${WATER_MN}/instruments`;
    const put = (json: object, token = CHEM) => call('PUT', `${path}/w01018`, { token, json });

    // Before anything is registered the reports are kept, not judged.
    await send('3020', info('20261120100000', 'w01018', { i13001: '0-500' }), 1);
    expect((await call('GET', '/alarms?type=instrument-mismatch', { token: READ })).body).toEqual([]);

    const registered = await put(COD);
    expect(registered.status).toBe(200);
    expect(registered.body).toMatchObject({ ...COD, mn: WATER_MN, factor: 'w01018', version: 1, by: 'chem-system' });
    // Refusals name the field.
    expect((await put({ ...COD, sn: 'ABC' })).body.message).toMatch(/body\.sn: sn is the analyzer id 3019 reports/);
    expect((await put({ ...COD, brand: 'x' })).status).toBe(400);
    const noFactor = await call('PUT', `${path}/a21026`, { token: CHEM, json: COD });
    expect([noFactor.status, noFactor.body.code]).toEqual([404, 'API_NO_FACTOR_PARAM']);

    // The logger reports range 0-1000 (C.42-C.45): nobody registered that.
    await send('3020', info('20261120110000', 'w01018', { i13001: '0-1000', i13008: '1.02' }), 2);
    const [opened] = (await call('GET', '/alarms?type=instrument-mismatch', { token: READ })).body as Json[];
    expect(opened).toMatchObject({
      mn: WATER_MN,
      factor: 'w01018',
      detail: '测量量程 备案 0-500，上报 0-1000',
    });
    expect(opened.closedAt).toBeUndefined();
    const status = ((await call('GET', path, { token: CHEM })).body as Json[]).find((s) => s.factor === 'w01018');
    expect(status.reported).toEqual({ range: '0-1000', slope: 1.02 });
    expect(status.mismatches).toEqual([{ field: 'range', registered: '0-500', reported: '0-1000' }]);

    // The enterprise registers the new range: the same reports now agree, the alarm closes.
    expect((await put({ ...COD, range: '0～1000' })).body.version).toBe(2);
    const [closed] = (await call('GET', '/alarms?type=instrument-mismatch', { token: READ })).body as Json[];
    expect(closed.id).toBe(opened.id);
    expect(closed.closedAt).toEqual(expect.any(Number));
    const history = (await call('GET', `${path}/w01018/history`, { token: READ })).body as Json[];
    expect(history.map((v) => [v.version, v.range])).toEqual([
      [1, '0-500'],
      [2, '0～1000'],
    ]);

    // A different analyzer id (3019, C.39) opens a new episode, named in the register's words.
    await send('3019', cp({ DataTime: '20261120120000' }, { w01018: { SN: '010000A8900016F000169DC9' } }), 3);
    const open = (await call('GET', '/alarms?type=instrument-mismatch&state=open', { token: ADMIN })).body as Json[];
    expect(open.map((a) => a.detail)).toEqual([`设备唯一标识 备案 ${COD.sn}，上报 010000A8900016F000169DC9`]);
  });
});
