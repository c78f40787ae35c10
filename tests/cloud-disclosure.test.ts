import { afterEach, describe, expect, it } from 'vitest';
import { disclosureListPage } from '../cloud/api/disclosure-page.js';
import { rawClient, WATER_MN } from './helpers/cloud-fixtures.js';
import { ADMIN, CHEM, CHEM_NAME, scopedCloud, waterFrame as frame, type Json } from './helpers/dashboard-api.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const at = (iso: string) => Date.parse(iso);
/**
 * The water outlet (limits: COD w01018 ≤ 50, NH3-N w21003 ≤ 5, pH w01001 6-9; hours judged, days not):
 * - 11-28 00:00, 01:00: all within;
 * - 11-29 00:00: COD 60 over, NH3-N 3 flagged D (not valid); 01:00: NH3-N 6 over, pH 9.5 over;
 * - day records of 11-28 and 11-29, and of 11-30 (COD only) with no hour under it.
 */
const NOVEMBER = [
  frame('2061', '20261128000000', {
    w01018: { Avg: '20', Flag: 'N' },
    w21003: { Avg: '1', Flag: 'N' },
    w01001: { Avg: '7', Flag: 'N' },
  }),
  frame('2061', '20261128010000', {
    w01018: { Avg: '25', Flag: 'N' },
    w21003: { Avg: '2', Flag: 'N' },
    w01001: { Avg: '7.5', Flag: 'N' },
  }),
  frame('2061', '20261129000000', {
    w01018: { Avg: '60', Flag: 'N' },
    w21003: { Avg: '3', Flag: 'D' },
    w01001: { Avg: '8', Flag: 'N' },
  }),
  frame('2061', '20261129010000', {
    w01018: { Avg: '40', Flag: 'N' },
    w21003: { Avg: '6', Flag: 'N' },
    w01001: { Avg: '9.5', Flag: 'N' },
  }),
  frame('2031', '20261128000000', {
    w01018: { Avg: '22.5', Flag: 'N' },
    w21003: { Avg: '1.5', Flag: 'N' },
    w01001: { Avg: '7.25', Flag: 'N' },
  }),
  frame('2031', '20261129000000', {
    w01018: { Avg: '50', Flag: 'N' },
    w21003: { Avg: '4.5', Flag: 'N' },
    w01001: { Avg: '8.75', Flag: 'N' },
  }),
  frame('2031', '20261130000000', { w01018: { Avg: '30', Flag: 'N' } }),
];

const PLAN = {
  items: [
    { factor: 'w01018', mode: 'automatic' },
    { factor: 'w21003', mode: 'automatic' },
    { factor: 'w01001', mode: 'automatic' },
    { factor: 'w01012', mode: 'manual', times: 1, per: 'quarter', method: '重量法', methodSource: 'GB 11901-1989' },
  ],
};

async function disclosing(http: object = { disclosure: true }) {
  const now = at('2026-12-04T12:00:00+08:00');
  const started = await scopedCloud({ clock: { wall: () => now, mono: () => performance.now() } }, http);
  cleanup.push(() => started.c.stop());
  return started;
}

describe('public disclosure (信息公开)', () => {
  it(
    'discloses, without a login, the approved plan, the day values with ' +
      'the hours over the limit and the manual results',
    async () => {
      const { c, base, call } = await disclosing();
      const client = await rawClient(c.cloud.tcp!.address.port);
      cleanup.push(async () => client.close());
      client.socket.write(NOVEMBER.join(''));
      await client.received(NOVEMBER.length);

      // Submitted, not yet approved: nothing is disclosed.
      await call('POST', `/stations/${WATER_MN}/plans`, { token: CHEM, json: PLAN });
      expect((await call('GET', '/public/enterprises')).body).toEqual([]);
      expect((await call('GET', `/public/enterprises/${encodeURIComponent(CHEM_NAME)}`)).body.code).toBe(
        'API_NOT_DISCLOSED',
      );
      await call('POST', '/plans/1/review', { token: ADMIN, json: { decision: 'approve' } });
      for (const [time, value] of [
        ['2026-11-20T09:30:00+08:00', 12],
        ['2026-12-02T09:00:00+08:00', 9],
      ] as const)
        await call('POST', `/stations/${WATER_MN}/manual-results`, {
          token: CHEM,
          json: { factor: 'w01012', time, value, lab: '示例检测有限公司' },
        });

      // The gas outlet's 示例电厂 has no approved plan: only 示例化工 discloses, with its one outlet.
      expect((await call('GET', '/public/enterprises')).body).toEqual([
        { enterprise: CHEM_NAME, region: '城东区', outlets: 1 },
      ]);
      expect((await call('GET', `/public/enterprises/${encodeURIComponent('示例电厂')}`)).status).toBe(404);

      const d: Json = (await call('GET', `/public/enterprises/${encodeURIComponent(CHEM_NAME)}?month=2026-11`)).body;
      expect(d).toMatchObject({ enterprise: CHEM_NAME, region: '城东区', month: '2026-11' });
      expect(d.outlets).toHaveLength(1);
      const o = d.outlets[0];
      expect(o.outlet).toBe('WS-01');
      expect(o.plan).toEqual({
        approvedAt: at('2026-12-04T12:00:00+08:00'),
        items: [
          { factor: 'w01018', name: '化学需氧量', mode: 'automatic', frequency: '连续监测' },
          { factor: 'w21003', name: '氨氮', mode: 'automatic', frequency: '连续监测' },
          { factor: 'w01001', name: 'pH 值', mode: 'automatic', frequency: '连续监测' },
          {
            factor: 'w01012',
            name: '悬浮物',
            mode: 'manual',
            frequency: '1次/季度',
            method: '重量法',
            methodSource: 'GB 11901-1989',
          },
        ],
      });
      expect(o.factors).toEqual({
        w01018: { name: '化学需氧量', unit: 'mg/L', upper: 50 },
        w21003: { name: '氨氮', unit: 'mg/L', upper: 5 },
        w01001: { name: 'pH 值', unit: '无量纲', lower: 6, upper: 9 },
        w01012: { name: '悬浮物', unit: 'mg/L' },
      });
      const line = (
        day: string,
        factor: string,
        value: number | null,
        hoursValid: number,
        hoursExceeding: number,
        compliant: boolean | null,
      ) => ({
        day,
        factor,
        value,
        converted: false,
        hoursValid,
        hoursExceeding,
        compliant,
      });
      expect(o.days).toEqual([
        line('2026-11-28', 'w01018', 22.5, 2, 0, true),
        line('2026-11-28', 'w21003', 1.5, 2, 0, true),
        line('2026-11-28', 'w01001', 7.25, 2, 0, true),
        // COD 60 > 50 at 00:00; NH3-N's 00:00 is D (not valid, not judged), its 01:00 6 > 5; pH 9.5 > 9 at 01:00.
        line('2026-11-29', 'w01018', 50, 2, 1, false),
        line('2026-11-29', 'w21003', 4.5, 1, 1, false),
        line('2026-11-29', 'w01001', 8.75, 2, 1, false),
        // A day record alone: days are not judged on an hour basis and no hour was there, so no verdict.
        line('2026-11-30', 'w01018', 30, 0, 0, null),
      ]);
      // The year's manual results to the month's end (12-02's is December's); no registered limit of 悬浮物.
      expect(o.manual).toEqual([
        {
          time: at('2026-11-20T09:30:00+08:00'),
          factor: 'w01012',
          value: 12,
          compliant: null,
          method: '重量法',
          methodSource: 'GB 11901-1989',
          lab: '示例检测有限公司',
        },
      ]);

      // The page for the public: no login, no script allowed, the same figures in words.
      const res = await fetch(`${base}/disclosure/${encodeURIComponent(CHEM_NAME)}?month=2026-11`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('content-security-policy')).toBe(
        "default-src 'none'; style-src 'self'; frame-ancestors 'none'",
      );
      const html = await res.text();
      expect(html).not.toMatch(/<script/);
      expect(html).toContain('<h1>示例化工有限公司</h1>');
      expect(html).toContain(
        '<tr><td>2026-11-29</td><td>化学需氧量 (mg/L)</td><td class="num">50</td><td>≤ 50</td><td ' +
          'class="num">2</td><td class="num">1</td><td class="verdict exceed">超标</td></tr>',
      );
      expect(html).toContain('<td>pH 值 (无量纲)</td><td class="num">7.25</td><td>6-9</td>');
      expect(html).toContain(
        '<td>2026-11-20 09:30</td><td>悬浮物 (mg/L)</td><td class="num">12</td><td>—</td><td ' +
          'class="verdict">—</td><td>重量法 (GB 11901-1989)</td>',
      );
      expect(html).toContain(`href="/disclosure/${encodeURIComponent(CHEM_NAME)}?month=2026-10"`);
      const list = await (await fetch(`${base}/disclosure?lang=en`)).text();
      expect(list).toContain(`<a href="/disclosure/${encodeURIComponent(CHEM_NAME)}?lang=en">示例化工有限公司</a>`);
      const missing = await fetch(`${base}/disclosure/${encodeURIComponent('示例电厂')}`);
      expect([missing.status, missing.headers.get('content-type')]).toEqual([404, 'text/html; charset=utf-8']);
      // The stylesheet the page links to is served.
      expect((await fetch(`${base}/ui/disclosure.css`)).status).toBe(200);
      // Bad input is refused with the field named.
      expect(
        (await call('GET', `/public/enterprises/${encodeURIComponent(CHEM_NAME)}?month=2026-13`)).body.message,
      ).toMatch(/query\.month: month is YYYY-MM/);
    },
  );

  it('is off unless http.disclosure is set: no public route exists', async () => {
    const { call, base } = await disclosing({});
    expect((await call('GET', '/public/enterprises')).body.code).toBe('API_NO_ROUTE');
    expect((await fetch(`${base}/disclosure`)).status).toBe(404);
  });

  it('escapes every name it writes into the page', () => {
    const html = disclosureListPage([{ enterprise: '<b>"A&B"</b>', outlets: 1 }], 'zh');
    expect(html).toContain('>&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;</a>');
    expect(html).not.toContain('<b>');
  });
});
