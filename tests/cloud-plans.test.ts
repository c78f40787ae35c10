import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { itemCompletion } from '../cloud/plans.js';
import { WATER_MN } from './helpers/cloud-fixtures.js';
import { TOOLS } from './helpers/common.js';
import { ADMIN, CHEM, CHEM_NAME, READ, scopedCloud, WEST, xlsxCells, type Json } from './helpers/dashboard-api.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const at = (iso: string) => Date.parse(iso);
/** Suspended solids (w01012) by hand once a quarter, by the gravimetric method of GB 11901-1989. */
const SS = {
  factor: 'w01012',
  mode: 'manual',
  times: 1,
  per: 'quarter',
  method: '重量法',
  methodSource: 'GB 11901-1989',
} as const;

describe('manual monitoring completion (手工监测完成率)', () => {
  it('counts each due quarter once, at most its required times', () => {
    // Plan in force from 2026-03-10; now 2026-12-04: Q1, Q2, Q3 are due (Q1 ends after the plan took effect),
    // Q4 has not ended. One result in Q1, two in Q2 (count one), none in Q3: 2 of 3.
    const results = ['2026-03-20T10:00:00+08:00', '2026-04-15T10:00:00+08:00', '2026-05-15T10:00:00+08:00'].map(at);
    expect(itemCompletion(SS, 2026, at('2026-03-10T00:00:00+08:00'), at('2026-12-04T12:00:00+08:00'), results)).toEqual(
      {
        factor: 'w01012',
        times: 1,
        per: 'quarter',
        periodsDue: 3,
        required: 3,
        done: 2,
        rate: 2 / 3,
      },
    );
    // A plan that took effect on 2026-07-01: only Q3 is due (Q2 ended at that instant), with no result.
    expect(
      itemCompletion(SS, 2026, at('2026-07-01T00:00:00+08:00'), at('2026-12-04T12:00:00+08:00'), results),
    ).toMatchObject({
      periodsDue: 1,
      required: 1,
      done: 0,
      rate: 0,
    });
    // Twice a month from 2026-01-01, now 2026-03-01: January and February due, 2 x 2 = 4 required; 3 results, 2 in Jan.
    const monthly = { ...SS, times: 2, per: 'month' } as const;
    const got = ['2026-01-05T00:00:00+08:00', '2026-01-20T00:00:00+08:00', '2026-02-10T00:00:00+08:00'].map(at);
    expect(
      itemCompletion(monthly, 2026, at('2025-12-01T00:00:00+08:00'), at('2026-03-01T00:00:00+08:00'), got),
    ).toMatchObject({
      periodsDue: 2,
      required: 4,
      done: 3,
      rate: 0.75,
    });
  });
});

describe('monitoring plans on the API', () => {
  it('is submitted by the enterprise, takes effect once approved, and takes manual results against it', async () => {
    const now = at('2026-12-04T12:00:00+08:00');
    const { c, call } = await scopedCloud({ clock: { wall: () => now, mono: () => performance.now() } });
    cleanup.push(() => c.stop());
    const path = `/stations/${WATER_MN}`;
    const plan = { items: [{ factor: 'w01018', mode: 'automatic' }, SS] };
    // An automatic item must be one the registry monitors at the outlet.
    const bad = await call('POST', `${path}/plans`, {
      token: CHEM,
      json: { items: [{ factor: 'w01012', mode: 'automatic' }] },
    });
    expect(bad.body.message).toMatch(
      /^body\.items\.0\.factor: w01012 is monitored automatically only where the registry lists it/,
    );
    const noMethod = await call('POST', `${path}/plans`, { token: CHEM, json: { items: [{ ...SS, method: '' }] } });
    expect(noMethod.body.message).toMatch(/body\.items\.0\.method: give the method/);

    const submitted = await call('POST', `${path}/plans`, { token: CHEM, json: plan });
    expect(submitted.status).toBe(201);
    expect(submitted.body).toMatchObject({ id: 1, state: 'submitted', by: 'chem-system', items: plan.items });
    // Not in force until reviewed: no manual result is taken.
    const early = await call('POST', `${path}/manual-results`, {
      token: CHEM,
      json: { factor: 'w01012', time: '2026-11-20T09:30:00+08:00', value: 12, lab: '示例检测有限公司' },
    });
    expect([early.status, early.body.code]).toEqual([409, 'API_NO_PLAN_IN_FORCE']);

    // The enterprise does not review; the authority of 城西区 does not review 城东区's; the centre does.
    expect((await call('POST', '/plans/1/review', { token: CHEM, json: { decision: 'approve' } })).body.code).toBe(
      'API_CENTRE_ONLY',
    );
    expect((await call('POST', '/plans/1/review', { token: WEST, json: { decision: 'approve' } })).body.code).toBe(
      'API_OUT_OF_SCOPE',
    );
    expect((await call('GET', '/plans?state=submitted', { token: WEST })).body).toEqual([]);
    const approved = await call('POST', '/plans/1/review', {
      token: ADMIN,
      json: { decision: 'approve', comment: '同意' },
    });
    expect(approved.body).toMatchObject({ state: 'approved', review: { by: 'ops', at: now, comment: '同意' } });
    expect(
      (await call('POST', '/plans/1/review', { token: ADMIN, json: { decision: 'reject', comment: 'x' } })).status,
    ).toBe(409);
    expect((await call('GET', `${path}/plan`, { token: READ })).body.id).toBe(1);

    // The signed plan comes back as uploaded.
    const pdf = Buffer.from('%PDF-1.4 signed plan');
    expect(
      (
        await call('PUT', '/plans/1/attachment', {
          token: CHEM,
          json: { name: '监测方案.pdf', base64: pdf.toString('base64') },
        })
      ).body.attachment,
    ).toEqual({ name: '监测方案.pdf', bytes: pdf.length });
    const file = await call('GET', '/plans/1/attachment', { token: READ });
    expect([file.type, file.body]).toEqual(['application/pdf', '%PDF-1.4 signed plan']);

    // Results of the manual item keep the plan's method; COD is automatic, so no manual result of it.
    const entered = await call('POST', `${path}/manual-results`, {
      token: CHEM,
      json: { factor: 'w01012', time: '2026-11-20T09:30:00+08:00', value: 12, lab: '示例检测有限公司' },
    });
    expect(entered.body).toMatchObject({
      factor: 'w01012',
      value: 12,
      method: '重量法',
      methodSource: 'GB 11901-1989',
      planId: 1,
    });
    const again = await call('POST', `${path}/manual-results`, {
      token: CHEM,
      json: { factor: 'w01012', time: '2026-11-20T09:30:00+08:00', value: 13, lab: '示例检测有限公司' },
    });
    expect(again.body.code).toBe('API_RESULT_EXISTS');
    const cod = await call('POST', `${path}/manual-results`, {
      token: CHEM,
      json: { factor: 'w01018', time: '2026-11-20T09:30:00+08:00', value: 30, lab: 'x' },
    });
    expect(cod.body.code).toBe('API_NOT_MANUAL');
    const listed = (
      await call('GET', `${path}/manual-results?from=2026-11-01T00:00:00%2B08:00&to=2026-12-01T00:00:00%2B08:00`, {
        token: READ,
      })
    ).body as Json[];
    expect(listed.map((r) => r.value)).toEqual([12]);

    // Approved 2026-12-04: no quarter of 2026 ended after that, so nothing is due yet.
    const completion = (await call('GET', `${path}/plan/completion?year=2026`, { token: READ })).body;
    expect(completion).toMatchObject({ planId: 1, required: 0, done: 0, rate: null });
  });
});

describe('manual results in the history table and the reports', () => {
  it(
    'shows them as the history kind manual with their method, counts ' + 'them per outlet, lists them in the XLSX',
    async () => {
      const now = at('2026-12-04T12:00:00+08:00');
      const { c, base, call } = await scopedCloud({ clock: { wall: () => now, mono: () => performance.now() } });
      cleanup.push(() => c.stop());
      const path = `/stations/${WATER_MN}`;
      await call('POST', `${path}/plans`, { token: CHEM, json: { items: [SS] } });
      await call('POST', '/plans/1/review', { token: ADMIN, json: { decision: 'approve' } });
      const lab = '示例检测有限公司';
      for (const [time, value, note] of [
        ['2026-11-20T09:30:00+08:00', 12, ''],
        ['2026-11-25T10:00:00+08:00', 15.5, '平行样均值'],
        ['2026-12-02T09:00:00+08:00', 9, ''],
      ] as const) {
        const r = await call('POST', `${path}/manual-results`, {
          token: CHEM,
          json: { factor: 'w01012', time, value, lab, note },
        });
        expect(r.status).toBe(201);
      }
      const november = `from=${at('2026-11-01T00:00:00+08:00')}&to=${at('2026-12-01T00:00:00+08:00')}`;

      // History: November's two results, newest first, the value under 监测值 in appendix B's unit (毫克/升 =
      // mg/L), the plan's method and the laboratory in place of a flag.
      const page = (await call('GET', `${path}/history?kind=manual&${november}`, { token: CHEM })).body;
      expect(page).toMatchObject({ kind: 'manual', total: 2, truncated: false });
      expect(page.columns).toEqual([{ factor: 'w01012', name: '悬浮物', unit: 'mg/L', fields: ['Value'] }]);
      expect(page.rows).toEqual([
        {
          time: at('2026-11-25T10:00:00+08:00'),
          cells: {
            w01012: {
              values: { Value: 15.5 },
              flagName: '手工监测',
              manual: { method: '重量法', methodSource: 'GB 11901-1989', lab, note: '平行样均值' },
            },
          },
        },
        {
          time: at('2026-11-20T09:30:00+08:00'),
          cells: {
            w01012: {
              values: { Value: 12 },
              flagName: '手工监测',
              manual: { method: '重量法', methodSource: 'GB 11901-1989', lab, note: '' },
            },
          },
        },
      ]);
      const csv = await call('GET', `${path}/history.csv?kind=manual&${november}&lang=zh`, { token: READ });
      expect(csv.body.split('\r\n').slice(0, 3)).toEqual([
        '\uFEFF数据时间,悬浮物 监测值 (mg/L),悬浮物 标记',
        '2026-11-25 10:00:00,15.5,"手工监测: 重量法 (GB 11901-1989), 示例检测有限公司; 平行样均值"',
        '2026-11-20 09:30:00,12,"手工监测: 重量法 (GB 11901-1989), 示例检测有限公司"',
      ]);
      // An authority of another region sees none of it.
      expect((await call('GET', `${path}/history?kind=manual&${november}`, { token: WEST })).body.code).toBe(
        'API_OUT_OF_SCOPE',
      );

      // Reports: 2 results in November, 3 in 2026 (12-02's too); the enterprise line sums its outlets'.
      const month = (await call('GET', '/report?month=2026-11', { token: CHEM })).body;
      expect(month.outlets.map((o: Json) => [o.mn, o.manualResults])).toEqual([[WATER_MN, 2]]);
      expect(month.enterprises).toMatchObject([{ enterprise: CHEM_NAME, manualResults: 2 }]);
      const year = (await call('GET', '/report?year=2026', { token: READ })).body;
      expect(year.outlets.find((o: Json) => o.mn === WATER_MN).manualResults).toBe(3);
      // The authority of 城西区 has only the gas outlet, with none.
      expect(
        (await call('GET', '/report?month=2026-11', { token: WEST })).body.outlets.map((o: Json) => o.manualResults),
      ).toEqual([0]);

      // The XLSX's second sheet lists November's results, a line each, oldest first.
      const res = await fetch(`${base}/report.xlsx?month=2026-11&lang=zh`, {
        headers: { authorization: `Bearer ${READ}` },
      });
      const cells = xlsxCells(new Uint8Array(await res.arrayBuffer()), 2);
      expect(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K'].map((col) => cells[`${col}1`])).toEqual([
        '企业名称',
        '排口名称',
        'MN',
        '采样时间',
        '监测项目',
        '监测值',
        '单位',
        '监测方法',
        '方法来源',
        '监测机构',
        '备注',
      ]);
      expect(['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'].map((col) => cells[`${col}2`])).toEqual([
        CHEM_NAME,
        'WS-01',
        WATER_MN,
        '2026-11-20 09:30:00',
        '悬浮物',
        '12',
        'mg/L',
        '重量法',
        'GB 11901-1989',
        lab,
      ]);
      expect([cells['D3'], cells['F3'], cells['K3'], cells['A4']]).toEqual([
        '2026-11-25 10:00:00',
        '15.5',
        '平行样均值',
        undefined,
      ]);
    },
  );
});

describe.skipIf(!TOOLS.pdftotext())('the plan as a printable PDF', () => {
  it(
    'sets the outlet, the state and every item with its frequency and ' + 'method in Chinese, to sign and upload back',
    async () => {
      const now = at('2026-12-04T12:00:00+08:00');
      const { c, base, call } = await scopedCloud({ clock: { wall: () => now, mono: () => performance.now() } });
      cleanup.push(() => c.stop());
      await call('POST', `/stations/${WATER_MN}/plans`, {
        token: CHEM,
        json: { items: [{ factor: 'w01018', mode: 'automatic' }, SS] },
      });
      await call('POST', '/plans/1/review', { token: ADMIN, json: { decision: 'approve', comment: '同意' } });
      const res = await fetch(`${base}/plans/1/pdf`, { headers: { authorization: `Bearer ${CHEM}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/pdf');
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="hj212-plan-1-${WATER_MN}.pdf"`);
      const pdf = Buffer.from(await res.arrayBuffer());
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      // Read back by poppler's pdftotext, not by the library that wrote it.
      const dir = await mkdtemp(join(tmpdir(), 'hj212-pdf-'));
      cleanup.push(() => rm(dir, { recursive: true, force: true }));
      await writeFile(join(dir, 'plan.pdf'), pdf);
      const text = execFileSync('pdftotext', ['-raw', join(dir, 'plan.pdf'), '-'], { encoding: 'utf8' });
      for (const expected of [
        '自行监测方案',
        `排污单位: ${CHEM_NAME}`,
        '所属辖区: 城东区',
        `监测点位(排口): WS-01 (MN ${WATER_MN})`,
        '排口类型: 废水',
        '状态: 审核通过',
        '审核: ops 2026-12-04 12:00:00 · 同意',
        '化学需氧量 (w01018)',
        '自动监测',
        '连续监测',
        '悬浮物 (w01012)',
        '手工监测',
        '1次/季度',
        '重量法',
        'GB 11901-1989',
        '排污单位(盖章):',
        '导出时间: 2026-12-04 12:00:00',
      ])
        expect(text).toContain(expected);
      // Another region's authority is refused it.
      expect((await call('GET', '/plans/1/pdf', { token: WEST })).body.code).toBe('API_OUT_OF_SCOPE');
    },
  );
});

describe('manual results imported from CSV', () => {
  it('enters each line that checks as one entered by hand and lists the others by line with why', async () => {
    const now = at('2026-12-04T12:00:00+08:00');
    const { c, base, call } = await scopedCloud({ clock: { wall: () => now, mono: () => performance.now() } });
    cleanup.push(() => c.stop());
    const path = `/stations/${WATER_MN}`;
    await call('POST', `${path}/plans`, {
      token: CHEM,
      json: { items: [{ factor: 'w01018', mode: 'automatic' }, SS] },
    });
    await call('POST', '/plans/1/review', { token: ADMIN, json: { decision: 'approve' } });
    const post = (csv: string, token = CHEM) =>
      fetch(`${base}${path}/manual-results.csv`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
        body: csv,
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }));
    const csv = [
      '\uFEFF监测项目编码,采样时间,监测值,监测机构,备注',
      'w01012,2026-11-20 09:30,12,示例检测有限公司,',
      'w01012,2026-11-25 10:00,abc,示例检测有限公司,',
      'w01018,2026-11-26 10:00,30,示例检测有限公司,',
      'w01012,2026-11-20 09:30,13,示例检测有限公司,',
      'w01012,2027-01-01 00:00,5,示例检测有限公司,',
      'w01012,2026-11-28T08:00:00+08:00,14.5,"检测, 公司",复测',
    ].join('\r\n');
    const got = await post(csv);
    expect(got.status).toBe(200);
    // Lines 2 and 7 entered, with the plan's method; 3-6 refused, each with the single entry's reason.
    expect(got.body.imported.map((r: Json) => [r.time, r.value, r.lab, r.note, r.method])).toEqual([
      [at('2026-11-20T09:30:00+08:00'), 12, '示例检测有限公司', '', '重量法'],
      [at('2026-11-28T08:00:00+08:00'), 14.5, '检测, 公司', '复测', '重量法'],
    ]);
    expect(got.body.rejected.map((r: Json) => [r.line, r.code])).toEqual([
      [3, 'API_BAD_REQUEST'],
      [4, 'API_NOT_MANUAL'],
      [5, 'API_RESULT_EXISTS'],
      [6, 'API_BAD_REQUEST'],
    ]);
    expect(got.body.rejected[0].message).toBe('value: value is a number (监测值), e.g. 12.5');
    expect(got.body.rejected[3].message).toBe('time: a sample is taken before it is entered, not in the future');
    // Stored as if entered one by one: the history of manual results holds the two.
    const listed = (
      await call('GET', `${path}/manual-results?from=2026-11-01T00:00:00%2B08:00&to=2026-12-01T00:00:00%2B08:00`, {
        token: CHEM,
      })
    ).body as Json[];
    expect(listed.map((r) => r.value)).toEqual([12, 14.5]);

    // A header without the laboratory is refused as a whole; another region's authority may not import.
    const noLab = await post('factor,time,value\nw01012,2026-11-21 09:00,10');
    expect([noLab.status, noLab.body.message]).toEqual([
      400,
      'body: the header lacks 监测机构 (lab): name the columns in the first line',
    ]);
    expect((await post(csv, WEST)).body.code).toBe('API_OUT_OF_SCOPE');
  });
});
