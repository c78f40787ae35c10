import { afterEach, describe, expect, it } from 'vitest';
import { jurisdictionRows, totalRow, type OutletFacts } from '../cloud/jurisdictions.js';
import { GAS_MN, testStations, WATER_MN } from './helpers/cloud-fixtures.js';
import { ADMIN, CHEM, READ, WEST, type Json } from './helpers/dashboard-api.js';
import { EAST, enterpriseSideCloud, POWER } from './helpers/enterprise-side.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const iso = (hour: number, day = 20) => `2026-11-${day}T${String(hour).padStart(2, '0')}:00:00+08:00`;
const at = (hour: number, day = 20) => Date.parse(iso(hour, day));

const WATER_2 = '0100000000A89000000000A3';
const PAPER = '0100000000A89000000000A4';
const GAS_2 = '0100000000A89000000000B5';

/**
 * Two regions, three enterprises, five outlets:
 *
 * | region | enterprise | outlet | plan (备案) | hours uploaded in November |
 * | --- | --- | --- | --- | --- |
 * | 城东区 | 示例化工有限公司 | WS-01 (WATER_MN) | approved 11-20 | yes |
 * | 城东区 | 示例化工有限公司 | WS-02 (WATER_2) | approved 11-20 | no |
 * | 城东区 | 示例纸业有限公司 | WS-01 (PAPER) | rejected, then approved 11-20 | no |
 * | 城西区 | 示例电厂 | DA-01 (GAS_MN) | approved 11-20 | yes |
 * | 城西区 | 示例电厂 | DA-02 (GAS_2) | none | yes |
 *
 * Also: a registration of WS-01 approved (城东区: 1 reviewed); supervision items sent in November: WS-01
 * (accepted), WS-02 (due 11-22, open), DA-01 (due 11-30, open); it is 11-25 when the statistics are read.
 */
async function registry() {
  const [water, gas] = await testStations();
  return [
    { ...water!, region: '城东区' },
    { ...water!, mn: WATER_2, outlet: 'WS-02', region: '城东区' },
    { ...water!, mn: PAPER, enterprise: '示例纸业有限公司', region: '城东区' },
    { ...gas!, region: '城西区' },
    { ...gas!, mn: GAS_2, outlet: 'DA-02', region: '城西区' },
  ];
}

describe('statistics per jurisdiction (辖区统计)', () => {
  it(
    'counts per region what was registered, uploaded, reviewed, ' + 'networked and supervised, as worked by hand',
    async () => {
      const clock = { wall: at(12) };
      const { c, call } = await enterpriseSideCloud(clock, { stations: await registry() });
      cleanup.push(() => c.stop());
      const ok = async (p: Promise<{ status: number; body: Json }>, status = 201) => {
        const r = await p;
        expect(r.status, JSON.stringify(r.body)).toBe(status);
        return r.body;
      };
      const water = [{ factor: 'w01018', mode: 'automatic' }];
      const gas = [{ factor: 'a21026', mode: 'automatic' }];
      const plan = async (mn: string, items: object[], decision: 'approve' | 'reject' = 'approve') => {
        const p = await ok(call('POST', `/stations/${mn}/plans`, { token: ADMIN, json: { items } }));
        await ok(
          call('POST', `/plans/${p.id}/review`, {
            token: ADMIN,
            json: { decision, comment: decision === 'reject' ? '缺方法' : '' },
          }),
          200,
        );
      };
      // 2026-11-20 12:00: plans reviewed (the paper mill's first one rejected), hours uploaded, a registration
      // reviewed.
      await plan(WATER_MN, water);
      await plan(WATER_2, water);
      await plan(PAPER, water, 'reject');
      await plan(PAPER, water);
      await plan(GAS_MN, gas);
      const hour = (mn: string, factor: string) =>
        ok(
          call('POST', `/stations/${mn}/data`, {
            token: ADMIN,
            json: { kind: 'hour', time: iso(10), factors: { [factor]: { Avg: 1 } } },
          }),
        );
      await hour(WATER_MN, 'w01018');
      await hour(GAS_MN, 'a21026');
      await hour(GAS_2, 'a21026');
      const reg = await ok(
        call('POST', `/stations/${WATER_MN}/registrations`, {
          token: CHEM,
          json: { from: iso(0), to: iso(6), reason: 'maintenance' },
        }),
      );
      await ok(call('POST', `/registrations/${reg.id}/review`, { token: EAST, json: { decision: 'approve' } }), 200);

      // Supervision items: WS-01's answered and accepted, WS-02's due 11-22, DA-01's due 11-30.
      const send = (token: string, mn: string, deadline: string) =>
        ok(call('POST', '/supervision', { token, json: { mn, kind: 'dataGap', from: iso(0), to: iso(6), deadline } }));
      const a = await send(EAST, WATER_MN, iso(18, 22));
      await send(EAST, WATER_2, iso(18, 22));
      await send(WEST, GAS_MN, iso(18, 30));
      await ok(
        call('POST', `/supervision/${a.id}/answer`, { token: CHEM, json: { reason: '停电', measures: '加装UPS' } }),
        200,
      );
      await ok(call('POST', `/supervision/${a.id}/review`, { token: EAST, json: { decision: 'accept' } }), 200);

      clock.wall = at(12, 25);
      const stats = async (token: string, q = 'month=2026-11') => await call('GET', `/jurisdictions?${q}`, { token });
      const month = await stats(READ);
      expect(month.status).toBe(200);
      // 城东区: 2 enterprises, 3 outlets, all 3 registered, 1 uploaded (WS-01); 1 registration and 4 plans
      // reviewed (WS-01, WS-02, the mill's two). 示例化工: WS-01 uploaded, WS-02 not → partly networked;
      // 示例纸业: its one registered outlet did not upload → not networked. Items: WS-02's open and past its
      // deadline (overdue), WS-01's accepted.
      const east = {
        region: '城东区',
        enterprises: 2,
        stations: 3,
        registered: 3,
        uploaded: 1,
        registrationsReviewed: 1,
        plansReviewed: 4,
        networking: { full: 0, partial: 1, none: 1, unregistered: 0 },
        supervision: { open: 1, overdue: 1, closed: 1 },
      };
      // 城西区: 1 enterprise, 2 outlets, 1 registered (DA-01), both uploaded, 1 plan reviewed. 示例电厂's only
      // registered outlet uploaded → fully networked (DA-02 is not registered, so not judged). DA-01's item is
      // open, due 11-30: not overdue.
      const west = {
        region: '城西区',
        enterprises: 1,
        stations: 2,
        registered: 1,
        uploaded: 2,
        registrationsReviewed: 0,
        plansReviewed: 1,
        networking: { full: 1, partial: 0, none: 0, unregistered: 0 },
        supervision: { open: 1, overdue: 0, closed: 0 },
      };
      const { region: _e, ...eastCounts } = east;
      const { region: _w, ...westCounts } = west;
      expect(month.body).toEqual({
        period: '2026-11',
        from: Date.parse('2026-11-01T00:00:00+08:00'),
        to: Date.parse('2026-12-01T00:00:00+08:00'),
        regions: [east, west],
        // The regions added up: 3 enterprises, 5 outlets, 4 registered, 3 uploaded, 1 + 0 registrations and
        // 4 + 1 plans reviewed, 1 full, 1 partly, 1 not networked; items 2 open (1 overdue), 1 closed.
        total: {
          enterprises: 3,
          stations: 5,
          registered: 4,
          uploaded: 3,
          registrationsReviewed: 1,
          plansReviewed: 5,
          networking: { full: 1, partial: 1, none: 1, unregistered: 0 },
          supervision: { open: 2, overdue: 1, closed: 1 },
        },
      });

      // 2026-11-19, before any plan was approved: nothing registered, uploaded, reviewed or sent; every
      // enterprise has no registered outlet to judge.
      const before = (await stats(READ, 'day=2026-11-19')).body;
      expect(
        before.regions.map((r: Json) => [r.region, r.registered, r.uploaded, r.plansReviewed, r.networking]),
      ).toEqual([
        ['城东区', 0, 0, 0, { full: 0, partial: 0, none: 0, unregistered: 2 }],
        ['城西区', 0, 0, 0, { full: 0, partial: 0, none: 0, unregistered: 1 }],
      ]);

      // An authority sees its region only (the total is its region's); an enterprise user is refused.
      expect((await stats(WEST)).body).toMatchObject({ regions: [west], total: westCounts });
      expect((await stats(EAST)).body).toMatchObject({ regions: [east], total: eastCounts });
      const refused = await stats(POWER);
      expect([refused.status, refused.body.code]).toEqual([403, 'API_CENTRE_ONLY']);
      expect((await stats(READ, 'month=2026-13')).status).toBe(400);

      // The CSV: a line per region and the total, Chinese headers by default.
      const csv = await call('GET', '/jurisdictions.csv?month=2026-11', { token: EAST });
      expect(csv.type).toBe('text/csv; charset=utf-8');
      expect(csv.body).toBe(
        '\uFEFF' +
          [
            '辖区,企业数,排口数,已备案排口,已上传排口,已审核登记,已审核方案,' +
              '全部联网企业,部分联网企业,未联网企业,未备案企业,' +
              '督办未办结,督办逾期,督办已办结',
            '城东区,2,3,3,1,1,4,0,1,1,0,1,1,1',
            '合计,2,3,3,1,1,4,0,1,1,0,1,1,1',
          ].join('\r\n') +
          '\r\n',
      );
      const en = (await call('GET', '/jurisdictions.csv?month=2026-11&lang=en', { token: READ })).body as string;
      expect(en.split('\r\n').map((l) => l.split(',')[0])).toEqual(['\uFEFFregion', '城东区', '城西区', 'total', '']);
    },
  );

  it('judges networking per enterprise on its registered outlets, and puts outlets of no region last', () => {
    const none = { open: 0, overdue: 0, closed: 0 };
    const o = (mn: string, enterprise: string, region: string | undefined, registered: boolean, uploaded: boolean) =>
      ({
        station: { mn, enterprise, ...(region !== undefined && { region }) },
        registered,
        uploaded,
        registrationsReviewed: 0,
        plansReviewed: 0,
        supervision: none,
      }) satisfies OutletFacts;
    const rows = jurisdictionRows([
      // No region: E1 has one registered outlet, not uploaded → not networked.
      o('1', 'E1', undefined, true, false),
      // 城北区: E2 has two registered, both uploaded → fully; E3 one unregistered that uploaded → unregistered;
      // E1 (also here) one registered uploaded and one registered not → partly.
      o('2', 'E2', '城北区', true, true),
      o('3', 'E2', '城北区', true, true),
      o('4', 'E3', '城北区', false, true),
      o('5', 'E1', '城北区', true, true),
      o('6', 'E1', '城北区', true, false),
    ]);
    expect(rows.map((r) => [r.region, r.enterprises, r.stations, r.registered, r.uploaded, r.networking])).toEqual([
      ['城北区', 3, 5, 4, 4, { full: 1, partial: 1, none: 0, unregistered: 1 }],
      [null, 1, 1, 1, 0, { full: 0, partial: 0, none: 1, unregistered: 0 }],
    ]);
    // E1 counts in both regions: 4 enterprises in the total.
    expect(totalRow(rows)).toMatchObject({
      enterprises: 4,
      stations: 6,
      networking: { full: 1, partial: 1, none: 1, unregistered: 1 },
    });
  });
});
