import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../cli/index.js';
import { tempDir } from './helpers/edge-agent.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const GAS_MN = '370104201800010000A8C2F1';
const WATER_MN = '010000A8900016F000169DC0';

/** A factor, one device each; `cycle` declares that device a non-continuous analyzer. */
type Factor = { code: string; decimals: number; unit?: string; cycle?: Record<string, unknown> };

function edgeYaml(kind: 'water' | 'gas', factors: Factor[], station: Record<string, unknown> = {}, extra = {}): string {
  return stringify({
    station: { mn: kind === 'gas' ? GAS_MN : WATER_MN, st: kind === 'gas' ? '31' : '32', kind, ...station },
    dataDir: '/tmp/unused',
    buses: [{ id: 'line', kind: 'tcp', host: '127.0.0.1', port: 502 }],
    devices: factors.map(({ cycle, ...f }, i) => ({
      id: `d${i}`,
      bus: 'line',
      unit: i + 1,
      ...(cycle && { cycle }),
      factors: [{ ...f, value: { address: 0 } }],
    })),
    ...extra,
  });
}

/** One reading a minute from 08:00 (Beijing time), through `minutes` minutes (the last one closes the period). */
function everyMinute(minutes: number, row: (minute: number) => [code: string, value: number, flag?: string][]): string {
  const lines = ['time,factor,value,flag'];
  for (let m = 0; m <= minutes; m++) {
    const at = new Date(Date.UTC(2026, 11, 1, 0, m)).toISOString(); // 00:mm UTC = 08:mm UTC+8
    for (const [code, value, flag] of row(m)) lines.push(`${at},${code},${value},${flag ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}

async function stats(config: string, csv: string, args: string[] = []) {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  const configFile = join(dir.dir, 'edge.yaml');
  const csvFile = join(dir.dir, 'readings.csv');
  await writeFile(configFile, config);
  await writeFile(csvFile, csv);
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runCli(['stats', '--config', configFile, ...args, csvFile], {
    stdin: new PassThrough(),
    stdout,
    stderr,
  });
  const lines = out
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map(
      (l) =>
        JSON.parse(l) as {
          ok: boolean;
          cn: string;
          cp: { params: Record<string, string>; factors: Record<string, Record<string, string>> };
        },
    );
  return { code, lines, err, csvFile };
}

const hourOf = (lines: Awaited<ReturnType<typeof stats>>['lines']) => lines.find((l) => l.cn === '2061')!;

const GAS_FACTORS: Factor[] = [
  { code: 'a21026', decimals: 1 },
  { code: 'a19001', decimals: 1 },
  { code: 'a00000', decimals: 2 },
];

describe('hj212 stats: what the edge would upload for a CSV of readings', () => {
  it(
    'flue gas read as 36000 m3/h is a00000-Avg=10.00 m3/s and Cou ' + '36000 m3, in the shape hj212 decode prints',
    async () => {
      const config = edgeYaml('gas', GAS_FACTORS, { flow: { code: 'a00000', unit: 'm3/h' }, referenceO2: 6 });
      const csv = everyMinute(60, () => [
        ['a00000', 36000],
        ['a21026', 50],
        ['a19001', 11, 'N'],
      ]);
      const { code, lines } = await stats(config, csv, ['--cn', '2061']);
      expect(code).toBe(0);
      expect(lines).toHaveLength(1);
      // 36000 m3/h ÷ 3600 = 10 m3/s; an hour of it: 10 m3/s × 3600 s = 36000 m3.
      // SO2 Cou = 50 mg/m3 × 36000 m3 × 1e-6 = 1.8 kg; Zs = 50 × (21 − 6) / (21 − 11) = 75.
      expect(lines[0]).toEqual({
        ok: true,
        version: '2017',
        qn: '20261201080000000',
        st: '31',
        cn: '2061',
        pw: '123456',
        mn: GAS_MN,
        flag: 5,
        cp: {
          params: { DataTime: '20261201080000' },
          factors: {
            a00000: { Min: '10.00', Avg: '10.00', Max: '10.00', Cou: '36000.0000', Flag: 'N' },
            a21026: {
              Min: '50.0',
              Avg: '50.0',
              Max: '50.0',
              ZsMin: '75.0',
              ZsAvg: '75.0',
              ZsMax: '75.0',
              Cou: '1.8000',
              Flag: 'N',
            },
            a19001: { Min: '11.0', Avg: '11.0', Max: '11.0', Flag: 'N' },
          },
        },
      });
    },
  );

  it('converts ppm and a water flow in m3/h, and prints every period that ended: six 2051 and one 2061', async () => {
    const config = edgeYaml(
      'water',
      [
        { code: 'w01018', decimals: 1 },
        { code: 'w00000', decimals: 2, unit: 'm3/h' },
      ],
      { flow: { code: 'w00000', unit: 'm3/h' } },
    );
    // 36 m3/h = 10 L/s; a 10-minute interval holds 10 L/s × 600 s = 6 m3, COD 100 mg/L × 6 m3 × 1e-3 = 0.6 kg.
    const csv = everyMinute(60, () => [
      ['w00000', 36],
      ['w01018', 100],
    ]);
    const { code, lines } = await stats(config, csv);
    expect(code).toBe(0);
    expect(lines.map((l) => [l.cn, l.cp.params['DataTime']])).toEqual([
      ['2051', '20261201080000'],
      ['2051', '20261201081000'],
      ['2051', '20261201082000'],
      ['2051', '20261201083000'],
      ['2051', '20261201084000'],
      ['2051', '20261201085000'],
      ['2061', '20261201080000'],
    ]);
    expect(lines[0]!.cp.factors).toEqual({
      w00000: { Min: '10.00', Avg: '10.00', Max: '10.00', Cou: '6.0000', Flag: 'N' },
      w01018: { Min: '100.0', Avg: '100.0', Max: '100.0', Cou: '0.6000', Flag: 'N' },
    });
    // The hour: 10 L/s × 3600 s = 36 m3; 100 mg/L × 36 m3 × 1e-3 = 3.6 kg.
    expect(hourOf(lines).cp.factors['w00000']?.Cou).toBe('36.0000');
    expect(hourOf(lines).cp.factors['w01018']?.Cou).toBe('3.6000');
  });

  it('converts SO2 read in ppm with M / 22.4 (HJ 212-2017 eq. 20)', async () => {
    const config = edgeYaml('gas', [{ code: 'a21026', decimals: 2, unit: 'ppm' }]);
    // 100 ppm × 64.06 / 22.4 = 285.982... → 285.98 mg/m3.
    const { lines } = await stats(
      config,
      everyMinute(60, () => [['a21026', 100]]),
      ['--cn', '2061'],
    );
    expect(hourOf(lines).cp.factors.a21026).toEqual({ Min: '285.98', Avg: '285.98', Max: '285.98', Flag: 'N' });
  });

  it('prints nothing for a period that has not ended by the last reading', async () => {
    const config = edgeYaml('gas', GAS_FACTORS, { flow: { code: 'a00000', unit: 'm3/h' } });
    const { code, lines } = await stats(
      config,
      everyMinute(59, () => [['a00000', 36000]]),
      ['--cn', '2061,2031'],
    );
    expect(code).toBe(0);
    expect(lines).toEqual([]);
  });

  it('refuses a CSV line it cannot read, naming the line and the fix', async () => {
    const config = edgeYaml('gas', GAS_FACTORS, { flow: { code: 'a00000', unit: 'm3/h' } });
    const noZone = await stats(config, 'time,factor,value,flag\n2026-12-01T08:00:00,a00000,1,N\n');
    expect(noZone.code).toBe(2);
    expect(noZone.err).toBe(
      `hj212 stats: ${noZone.csvFile}:2: "2026-12-01T08:00:00" is not an ISO 8601 time with a zone, such as ` +
        '2026-12-01T08:00:00+08:00\n',
    );
    const unknown = await stats(config, 'time,factor,value\n2026-12-01T08:00:00Z,w01018,1\n');
    expect(unknown.err).toContain(':2: no device of the configuration measures "w01018"');
    const flag = await stats(config, 'time,factor,value,flag\n2026-12-01T08:00:00Z,a00000,1,X\n');
    expect(flag.err).toContain(':2: flag "X" is not one of N F M S D C T B (table 8)');
    const header = await stats(config, 'when,code,value\n');
    expect(header.err).toContain(':1: expected the header time,factor,value,flag');
  });

  it('a cyclic COD analyzer: the hour is its cycle value with SampleTime, Cou over the hour volume', async () => {
    const config = edgeYaml(
      'water',
      [
        { code: 'w01018', decimals: 1, cycle: { address: 4 } },
        { code: 'w00000', decimals: 2 },
      ],
      { flow: { code: 'w00000', unit: 'L/s' } },
    );
    // Flow 10 L/s every minute; one completed COD cycle, a CSV row, at 08:40 reading 30 mg/L.
    const csv = everyMinute(60, (m) => [['w00000', 10], ...(m === 40 ? [['w01018', 30] as [string, number]] : [])]);
    const { lines } = await stats(config, csv);
    // The hour: 10 L/s × 3600 s = 36 m3; COD Cou = 30 mg/L × 36 m3 × 1e-3 = 1.08 kg.
    expect(hourOf(lines).cp.factors['w01018']).toEqual({
      SampleTime: '20261201084000',
      Min: '30.0',
      Avg: '30.0',
      Max: '30.0',
      Cou: '1.0800',
      Flag: 'N',
    });
    // Minute data: only the 08:40 interval carries it, without Cou (an hour's intervals would not add up).
    const withCod = lines.filter((l) => l.cn === '2051' && l.cp.factors['w01018']);
    expect(withCod.map((l) => [l.cp.params['DataTime'], l.cp.factors['w01018']])).toEqual([
      ['20261201084000', { SampleTime: '20261201084000', Min: '30.0', Avg: '30.0', Max: '30.0', Flag: 'N' }],
    ]);
  });

  it('refuses a configuration whose unit cannot be converted, naming the factor', async () => {
    const config = edgeYaml('water', [{ code: 'w01018', decimals: 1, unit: 'mg/m3' }]);
    const { code, err } = await stats(config, 'time,factor,value\n');
    expect(code).toBe(2);
    expect(err).toContain('devices[d0].factors[w01018].unit: w01018: mg/m3 cannot be converted to mg/L');
  });
});

/** The other rows of the table: the period statistics (flow weighting, water flags, Zs from a valid O2). */
describe('the period statistics through hj212 stats', () => {
  const waterConfig = edgeYaml(
    'water',
    [
      { code: 'w01018', decimals: 1 },
      { code: 'w00000', decimals: 2 },
    ],
    { flow: { code: 'w00000', unit: 'L/s' } },
  );

  it('water hour: 30 min at 10 L/s, COD 100, then 30 min at 90 L/s, COD 20 is flow-weighted 28 mg/L', async () => {
    const csv = everyMinute(60, (m) =>
      m < 30
        ? [
            ['w00000', 10],
            ['w01018', 100],
          ]
        : [
            ['w00000', 90],
            ['w01018', 20],
          ],
    );
    const { lines } = await stats(waterConfig, csv, ['--cn', '2061']);
    const f = hourOf(lines).cp.factors;
    // G = 100 mg/L × 10 L/s × 1800 s + 20 × 90 × 1800 = 1.8e6 + 3.24e6 = 5.04e6 mg = 5.04 kg;
    // D = 10 × 1800 + 90 × 1800 = 180000 L = 180 m3; C = G / D = 5.04e6 mg / 180000 L = 28 mg/L.
    expect(f['w01018']?.Avg).toBe('28.0');
    expect(f['w01018']?.Cou).toBe('5.0400');
    expect(f['w00000']?.Cou).toBe('180.0000');
    // Avg × volume = Cou: 28 mg/L × 180 m3 × 1e-3 = 5.04 kg.
  });

  it('water hour with 10 minutes of COD flagged D is not N', async () => {
    const csv = everyMinute(60, (m) => [
      ['w00000', 10],
      ['w01018', 50, m < 10 ? 'D' : 'N'],
    ]);
    const { lines } = await stats(waterConfig, csv, ['--cn', '2061']);
    // 50 of 60 minutes valid; a water period with an abnormal value is not N (notes to C.16-C.18).
    const cod = hourOf(lines).cp.factors['w01018']!;
    expect(cod['Flag']).toMatch(/^[FMSDCTB]$/);
  });

  const gasConfig = (version: '2017' | '2025') =>
    edgeYaml(
      'gas',
      GAS_FACTORS,
      { flow: { code: 'a00000', unit: 'm3/s' }, referenceO2: 6 },
      { uplinks: [{ id: 'p', kind: 'hj212-tcp', host: '127.0.0.1', port: 1, pw: 'a1B2c3', version }] },
    );

  it('gas hour, SO2 5 mg/m3 while O2 (20.8 %) is flagged C: no converted value (2017)', async () => {
    const csv = everyMinute(60, () => [
      ['a21026', 5],
      ['a19001', 20.8, 'C'],
      ['a00000', 10],
    ]);
    const { lines } = await stats(gasConfig('2017'), csv, ['--cn', '2061']);
    const so2 = hourOf(lines).cp.factors['a21026']!;
    expect(so2.Avg).toBe('5.0');
    expect(so2).not.toHaveProperty('ZsAvg');
    expect(so2).not.toHaveProperty('ZsMin');
    expect(so2).not.toHaveProperty('ZsMax');
  });

  it('gas hour, SO2 5 mg/m3 while O2 is flagged C: ZsAvg 9999.99 on a 2025 uplink', async () => {
    const csv = everyMinute(60, () => [
      ['a21026', 5],
      ['a19001', 20.8, 'C'],
      ['a00000', 10],
    ]);
    const { lines } = await stats(gasConfig('2025'), csv, ['--cn', '2061']);
    expect(hourOf(lines).cp.factors['a21026']?.ZsAvg).toBe('9999.99');
  });

  it('gas hour, Zs 100 for 30 min then Zs 150: ZsMin 100.0 and ZsMax 150.0', async () => {
    // SO2 50 at O2 13.5: 50 × 15 / 7.5 = 100; SO2 150 at O2 6: 150 × 15 / 15 = 150.
    const csv = everyMinute(60, (m) =>
      m < 30
        ? [
            ['a21026', 50],
            ['a19001', 13.5],
            ['a00000', 10],
          ]
        : [
            ['a21026', 150],
            ['a19001', 6],
            ['a00000', 10],
          ],
    );
    const { lines } = await stats(gasConfig('2017'), csv, ['--cn', '2061']);
    const so2 = hourOf(lines).cp.factors['a21026']!;
    expect(so2.ZsMin).toBe('100.0');
    expect(so2.ZsMax).toBe('150.0');
  });
});
