import { afterEach, describe, expect, it } from 'vitest';
import { WATER_MN, rawClient } from './helpers/cloud-fixtures.js';
import { apiCloud, READ, waterFrame as frame, xlsxCells, type Json } from './helpers/dashboard-api.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/**
 * Three days of November 2026 at the water outlet (COD w01018, NH3-N w21003 and pH w01001 assessed,
 * flow w00000 not):
 * - 11-28 00:00 and 01:00, every factor N, with Cou;
 * - 11-29 00:00, COD 60 over its limit 50, NH3-N flagged D (not valid: its Cou is not summed);
 * - 11-30 no hour, only a day record; and a day record of 11-28 that must not be added to its hours.
 */
const NOVEMBER = [
  frame('2061', '20261128000000', {
    w01018: { Avg: '20', Min: '18', Max: '22', Cou: '1.5', Flag: 'N' },
    w21003: { Avg: '1', Cou: '0.125', Flag: 'N' },
    w01001: { Avg: '7', Flag: 'N' },
    w00000: { Avg: '10', Cou: '100', Flag: 'N' },
  }),
  frame('2061', '20261128010000', {
    w01018: { Avg: '25', Min: '24', Max: '26', Cou: '2.25', Flag: 'N' },
    w21003: { Avg: '2', Cou: '0.25', Flag: 'N' },
    w01001: { Avg: '7.5', Flag: 'N' },
    w00000: { Avg: '20', Cou: '200', Flag: 'N' },
  }),
  frame('2061', '20261129000000', {
    w01018: { Avg: '60', Min: '55', Max: '65', Cou: '4', Flag: 'N' },
    w21003: { Avg: '3', Cou: '0.5', Flag: 'D' },
    w01001: { Avg: '8', Flag: 'N' },
    w00000: { Avg: '30', Cou: '300', Flag: 'N' },
  }),
  frame('2031', '20261130000000', {
    w01018: { Avg: '30', Cou: '10', Flag: 'N' },
    w21003: { Avg: '1', Cou: '1', Flag: 'N' },
    w00000: { Avg: '11', Cou: '1000', Flag: 'N' },
  }),
  frame('2031', '20261128000000', { w01018: { Avg: '22', Cou: '999', Flag: 'N' } }),
];

async function fed(): Promise<Awaited<ReturnType<typeof apiCloud>>> {
  const started = await apiCloud();
  cleanup.push(() => started.c.stop());
  const client = await rawClient(started.c.cloud.tcp!.address.port);
  cleanup.push(async () => client.close());
  client.socket.write(NOVEMBER.join(''));
  await client.received(NOVEMBER.length);
  return started;
}

/** The cells of the first sheet of an XLSX, by reference (A1...), read back from its XML. */
async function download(
  base: string,
  path: string,
): Promise<{ type: string | null; name: string | null; bytes: Uint8Array }> {
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${READ}` } });
  expect(res.status).toBe(200);
  return {
    type: res.headers.get('content-type'),
    name: res.headers.get('content-disposition'),
    bytes: new Uint8Array(await res.arrayBuffer()),
  };
}

describe('monthly, quarterly and yearly report with emission amounts', () => {
  it('sums the Cou of valid hours, and of day records where a day has no hour', async () => {
    const { call } = await fed();
    const report: Json = (await call('GET', '/report?month=2026-11', { token: READ })).body;
    expect(report.month).toBe('2026-11');
    // Monitored from its first hour on record, 11-28 00:00, to the end of November (long over on the
    // rules' clock, the real one): 72 hours x 3 assessed factors = 216 expected; 3 hours x 3 = 9
    // received, 8 valid (NH3-N D at 11-29 00:00). 72 - 3 = 69 hours missing a factor; 1 exceeding
    // (COD 60 > 50); the 3 hours came long after they were due: back-filled.
    // Emission amounts (HJ 212-2017 appendix D, formulas (4) and (11)):
    // COD 1.5 + 2.25 + 4 (hours) + 10 (11-30's day record; 11-28's 999 is not added) = 17.75 kg;
    // NH3-N 0.125 + 0.25 (0.5 at the D hour left out) + 1 = 1.375 kg; flow 100 + 200 + 300 + 1000 = 1600 m3;
    // pH has no amount (appendix B gives it no amount unit).
    const emissions = [
      { factor: 'w01018', amount: 17.75, unit: 'kg', hours: 3, days: 1 },
      { factor: 'w21003', amount: 1.375, unit: 'kg', hours: 2, days: 1 },
      { factor: 'w00000', amount: 1600, unit: 'm3', hours: 3, days: 1 },
    ];
    expect(report.outlets[0]).toEqual({
      enterprise: '示例化工有限公司',
      outlet: 'WS-01',
      mn: WATER_MN,
      expected: 216,
      received: 9,
      valid: 8,
      transmissionRate: 9 / 216,
      validityRate: 8 / 9,
      effectivenessRate: 8 / 216,
      hoursMissing: 69,
      hoursExceeding: 1,
      hoursBackfilled: 3,
      // No manual result was entered (tests/cloud-plans.test.ts enters some).
      manualResults: 0,
      emissions,
    });
    // The gas outlet sent nothing: no amounts. Each enterprise sums its outlets' amounts.
    expect(report.outlets[1].emissions).toEqual([]);
    expect(report.enterprises[0]).toMatchObject({ enterprise: '示例化工有限公司', outlets: 1, emissions });
    // A quarter and a year hold the same November data (their rates run to the rules' clock, so not checked).
    for (const q of ['quarter=2026-Q4', 'year=2026']) {
      const r: Json = (await call('GET', `/report?${q}`, { token: READ })).body;
      expect(r.outlets[0].emissions).toEqual(emissions);
      expect(r.quarter ?? r.year).toBe(q.split('=')[1]);
    }
    expect((await call('GET', '/report?quarter=2026-Q5', { token: READ })).body.message).toMatch(
      /query\.quarter: quarter is YYYY-Qn/,
    );
    expect((await call('GET', '/report?month=2026-11&year=2026', { token: READ })).status).toBe(400);
  });

  it('exports the month as CSV and XLSX with an amount column per pollutant', async () => {
    const { base, call } = await fed();
    const csv = await call('GET', '/report.csv?month=2026-11&lang=zh', { token: READ });
    expect(csv.body.split('\r\n').slice(0, 4)).toEqual([
      '\uFEFF月份,企业名称,排口名称,MN,传输率(%),有效率(%),传输有效率(%),缺失小时数,' +
        '超标小时数,补传小时数,手工监测数据(条),' +
        '化学需氧量排放量 (kg),氨氮排放量 (kg),废水排放量 (m3)',
      // 9/216 = 4.2 %, 8/9 = 88.9 %, 8/216 = 3.7 %.
      `2026-11,示例化工有限公司,WS-01,${WATER_MN},4.2,88.9,3.7,69,1,3,0,17.75,1.375,1600`,
      '2026-11,示例电厂,DA-01,0100000000A89000000000B2,0.0,0.0,0.0,720,0,0,0,,,',
      '2026-11,示例化工有限公司,(全部排口),,4.2,88.9,3.7,,,,0,17.75,1.375,1600',
    ]);
    const xlsx = await download(base, '/report.xlsx?month=2026-11&lang=en');
    expect(xlsx.type).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(xlsx.name).toBe('attachment; filename="hj212-report-2026-11.xlsx"');
    const cells = xlsxCells(xlsx.bytes);
    expect([cells['A1'], cells['E1'], cells['K1'], cells['L1'], cells['N1']]).toEqual([
      'month',
      'transmission rate (%)',
      'manual results',
      'COD (chemical oxygen demand) emitted (kg)',
      'wastewater discharged (m3)',
    ]);
    // Rates as numbers in per cent, one decimal; amounts as numbers.
    expect([
      cells['C2'],
      cells['E2'],
      cells['F2'],
      cells['H2'],
      cells['K2'],
      cells['L2'],
      cells['M2'],
      cells['N2'],
    ]).toEqual(['WS-01', '4.2', '88.9', '69', '0', '17.75', '1.375', '1600']);
  });
});

describe('history table', () => {
  const range = `from=${Date.parse('2026-11-28T00:00:00+08:00')}&to=${Date.parse('2026-12-01T00:00:00+08:00')}`;

  it('gives a page of DataTimes, newest first, with names, units and flag meanings', async () => {
    const { call } = await fed();
    const page: Json = (
      await call('GET', `/stations/${WATER_MN}/history?kind=hour&${range}&pageSize=2&page=1`, {
        token: READ,
      })
    ).body;
    expect(page).toMatchObject({ kind: 'hour', page: 1, pageSize: 2, total: 3, truncated: false });
    expect(page.columns).toEqual([
      {
        factor: 'w01018',
        name: '化学需氧量',
        unit: 'mg/L',
        amountUnit: 'kg',
        fields: ['Avg', 'Min', 'Max', 'Cou'],
      },
      { factor: 'w21003', name: '氨氮', unit: 'mg/L', amountUnit: 'kg', fields: ['Avg', 'Cou'] },
      { factor: 'w01001', name: 'pH 值', unit: '无量纲', fields: ['Avg'] },
      { factor: 'w00000', name: '废水流量', unit: 'L/s', amountUnit: 'm3', fields: ['Avg', 'Cou'] },
    ]);
    expect(page.rows.map((r: Json) => r.time)).toEqual([
      Date.parse('2026-11-29T00:00:00+08:00'),
      Date.parse('2026-11-28T01:00:00+08:00'),
    ]);
    expect(page.rows[0].cells.w21003).toEqual({ values: { Avg: 3, Cou: 0.5 }, flag: 'D', flagName: 'D 故障' });
    const second: Json = (
      await call('GET', `/stations/${WATER_MN}/history?kind=hour&${range}&pageSize=2&page=2`, {
        token: READ,
      })
    ).body;
    expect(second.rows.map((r: Json) => r.time)).toEqual([Date.parse('2026-11-28T00:00:00+08:00')]);
    const days: Json = (await call('GET', `/stations/${WATER_MN}/history?kind=day&${range}&lang=en`, { token: READ }))
      .body;
    expect(days.total).toBe(2);
    expect(days.columns[0]).toEqual({
      factor: 'w01018',
      name: 'COD (chemical oxygen demand)',
      unit: 'mg/L',
      amountUnit: 'kg',
      fields: ['Avg', 'Cou'],
    });
    expect((await call('GET', `/stations/NOSUCH/history?kind=hour&${range}`, { token: READ })).status).toBe(404);
  });

  it('exports the range as CSV (BOM, China time) and XLSX', async () => {
    const { base, call } = await fed();
    const csv = await call('GET', `/stations/${WATER_MN}/history.csv?kind=day&${range}`, { token: READ });
    expect(csv.type).toBe('text/csv; charset=utf-8');
    expect(csv.body).toBe(
      '\uFEFF数据时间,化学需氧量 均值 (mg/L),化学需氧量 排放量 (kg),化学需氧量 标记,' +
        '氨氮 均值 (mg/L),氨氮 排放量 (kg),氨氮 标记,' +
        '废水流量 均值 (L/s),废水流量 排放量 (m3),废水流量 标记\r\n' +
        '2026-11-30 00:00:00,30,10,N 正常,1,1,N 正常,11,1000,N 正常\r\n' +
        '2026-11-28 00:00:00,22,999,N 正常,,,,,,\r\n',
    );
    const xlsx = await download(base, `/stations/${WATER_MN}/history.xlsx?kind=hour&${range}`);
    expect(xlsx.name).toBe(`attachment; filename="hj212-history-${WATER_MN}-hour.xlsx"`);
    const cells = xlsxCells(xlsx.bytes);
    // Columns: time, COD Avg Min Max Cou flag (B-F), NH3-N Avg Cou flag (G-I), pH Avg flag (J-K), flow Avg Cou flag
    // (L-N).
    expect([cells['A1'], cells['B1'], cells['E1'], cells['F1'], cells['M1']]).toEqual([
      '数据时间',
      '化学需氧量 均值 (mg/L)',
      '化学需氧量 排放量 (kg)',
      '化学需氧量 标记',
      '废水流量 排放量 (m3)',
    ]);
    expect([cells['A2'], cells['B2'], cells['C2'], cells['D2'], cells['E2'], cells['I2'], cells['M2']]).toEqual([
      '2026-11-29 00:00:00',
      '60',
      '55',
      '65',
      '4',
      'D 故障',
      '300',
    ]);
    expect([cells['A4'], cells['E4']]).toEqual(['2026-11-28 00:00:00', '1.5']);
  });
});

describe('export labels', () => {
  it('name flows, units and flags as the pages do (labels.ts beside static/format.js)', async () => {
    const { factorName, flagLabel, shownUnit } = await import('../cloud/api/labels.js');
    const format = (await import('../cloud/dashboard/static/format.js' as string)) as {
      factorLabel(code: string, info: undefined, lang: string): string;
      flagLabel(flag: string, lang: string): string;
      unitLabel(code: string, unit: string, lang: string): string;
      useLabels(labels: unknown): void;
    };
    // The pages get the names from the server (/ui/labels.js) before they draw anything; so here.
    format.useLabels((await import('../cloud/api/labels.js')).LABEL_TABLES);
    for (const lang of ['zh', 'en'] as const) {
      for (const code of ['w00000', 'a00000'])
        expect(factorName(code, lang)).toBe(format.factorLabel(code, undefined, lang));
      for (const flag of ['N', 'F', 'M', 'S', 'D', 'C', 'T', 'B', 'X'])
        expect(flagLabel(flag, lang)).toBe(format.flagLabel(flag, lang));
    }
    const [station] = await (await import('./helpers/cloud-fixtures.js')).testStations();
    const { StationSchema } = await import('../cloud/index.js');
    const gas = StationSchema.parse({ ...station, type: 'gas', factors: { a00000: {}, w01001: {} } });
    expect(shownUnit('a00000', gas, 'zh')).toEqual({ unit: format.unitLabel('a00000', 'm3/s', 'zh'), times: 3600 });
    expect(shownUnit('w01001', gas, 'zh').unit).toBe('无量纲');
    expect(factorName('w01018', 'zh')).toBe('化学需氧量');
  });
});
