import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Authenticator,
  importCsv,
  parseCsv,
  Registry,
  ConfigError,
  RegistrySchema,
  verifySecret,
  watchRegistry,
} from '../cloud/index.js';
import { parseRegistryText } from '../cloud/registry-file.js';
import { captureLog, GAS_MN, GAS_PW, testHash, testStations, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('registry', () => {
  it('fills defaults: system code from the outlet type, units from appendix B', async () => {
    const r = Registry.parse({ stations: await testStations() });
    const water = r.get(WATER_MN)!;
    expect(water.st).toBe('32');
    expect(water.factors['w01018']).toMatchObject({ unit: 'mg/L', upper: 50 });
    expect(r.get(GAS_MN)!.st).toBe('31');
    expect(r.get('nope')).toBeUndefined();
  });

  it('keeps each station as parsed (keys in their order, values) when it compacts the parsed registry', async () => {
    const input = { stations: await testStations() };
    input.stations[0]!.shutdowns = [{ from: '2026-11-20T00:00:00+08:00', to: '2026-11-21T00:00:00+08:00' }];
    const r = Registry.parse(input);
    const plain = RegistrySchema.parse(input).stations;
    expect(r.stations).toStrictEqual(plain);
    r.stations.forEach((s, i) => expect(Object.keys(s)).toEqual(Object.keys(plain[i]!)));
  });

  it('names the field at fault and how to fix it', async () => {
    const [s] = await testStations();
    const bad = (patch: object): string => {
      try {
        Registry.parse({ stations: [{ ...s, ...patch }] });
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ passwordHash: 'a1b2c3' })).toMatch(/stations\[0\]\.passwordHash: .*hj212 cloud hash/);
    expect(bad({ factors: { w01018: { upper: 'fifty' } } })).toMatch(/stations\[0\]\.factors\.w01018\.upper/);
    expect(bad({ factors: { w01001: { lower: 9, upper: 6 } } })).toMatch(
      /stations\[0\]\.factors\.w01001\.lower: lower must be below upper/,
    );
    expect(bad({ factors: { x99999: {} } })).toMatch(/factors\.x99999\.unit: x99999 is not in appendix B/);
    expect(bad({ shutdowns: [{ from: '2026-11-20', to: '2026-11-21T00:00:00+08:00' }] })).toMatch(
      /shutdowns\[0\]\.from: .*ISO 8601/,
    );
    expect(() => Registry.parse({ stations: [s, s] })).toThrow(/stations\[1\]\.mn: MN .* is already station 0/);
    expect(bad({ factors: { w01018: { upper: 50, basis: 'minute' } } })).toMatch(
      /factors\.w01018\.basis: basis is hour or day/,
    );
    expect(bad({ factors: { w01018: { upper: 50, warnAt: 0 } } })).toMatch(
      /factors\.w01018\.warnAt: warnAt is a fraction of the limit above 0/,
    );
    expect(bad({ factors: { w01018: { upper: 50, warnAt: 1.2 } } })).toMatch(/factors\.w01018\.warnAt/);
    expect(bad({ factors: { w01018: { limits: { day: { lower: 9, upper: 6 } } } } })).toMatch(
      /factors\.w01018\.limits\.day\.lower: lower must be below upper/,
    );
  });

  it('defaults 超标 to the hour average and 预警 to the limit itself', async () => {
    const water = Registry.parse({ stations: await testStations() }).get(WATER_MN)!;
    expect(water.factors['w01018']).toMatchObject({ basis: 'hour', warnAt: 1 });
    expect(water.factors['w01018']!.limits).toBeUndefined();
  });
});

describe('authentication', () => {
  it(
    'accepts the right password and rejects a wrong one, an ' + 'unknown MN and an MQTT login without a secret',
    async () => {
      const auth = new Authenticator(Registry.parse({ stations: await testStations() }));
      expect(await auth.check(WATER_MN, WATER_PW)).toMatchObject({ ok: true, defaultPassword: false });
      // Second time from the cache of verified secrets: same answer.
      expect(await auth.check(WATER_MN, WATER_PW)).toMatchObject({ ok: true });
      expect(await auth.check(WATER_MN, GAS_PW)).toMatchObject({ ok: false, reason: 'bad-password' });
      expect(await auth.check(WATER_MN, undefined)).toMatchObject({ ok: false, reason: 'bad-password' });
      expect(await auth.check('0100000000A890000000FFFF', WATER_PW)).toMatchObject({ ok: false, reason: 'unknown-mn' });
      expect(await auth.check(WATER_MN, 'water-secret', 'mqttSecretHash')).toMatchObject({ ok: true });
      expect(await auth.check(GAS_MN, 'anything', 'mqttSecretHash')).toMatchObject({
        ok: false,
        reason: 'bad-password',
      });
    },
  );

  it('rejects the default password 123456 even when it matches, unless the station allows it', async () => {
    const [s] = await testStations();
    const hash = await testHash('123456');
    const strict = new Authenticator(Registry.parse({ stations: [{ ...s, passwordHash: hash }] }));
    expect(await strict.check(WATER_MN, '123456')).toMatchObject({ ok: false, reason: 'default-password' });
    const lax = new Authenticator(
      Registry.parse({ stations: [{ ...s, passwordHash: hash, allowDefaultPassword: true }] }),
    );
    expect(await lax.check(WATER_MN, '123456')).toMatchObject({ ok: true, defaultPassword: true });
  });

  it('forgets a verified password when the registry changes its hash', async () => {
    const [s] = await testStations();
    const auth = new Authenticator(Registry.parse({ stations: [s] }));
    expect(await auth.check(WATER_MN, WATER_PW)).toMatchObject({ ok: true });
    auth.use(Registry.parse({ stations: [{ ...s!, passwordHash: await testHash('n3wpw') }] }));
    expect(await auth.check(WATER_MN, WATER_PW)).toMatchObject({ ok: false, reason: 'bad-password' });
    expect(await auth.check(WATER_MN, 'n3wpw')).toMatchObject({ ok: true });
  });
});

describe('registry file', () => {
  const expected = [
    { mn: 'A1', type: 'water', factors: { w01018: { unit: 'mg/L', upper: 50 } } },
    { mn: 'B2', type: 'gas', factors: { a21026: { upper: 35 } }, shutdowns: [{ from: 'x', to: 'y' }] },
  ];

  it(
    'reads block-style YAML station by station: comments, CRLF, an ' +
      'anchor inside a station, items at either indent',
    () => {
      for (const pad of ['', '  ']) {
        const text = [
          '# stations of the centre',
          'stations:   # two of them',
          '',
          `${pad}- mn: A1 # water`,
          `${pad}  type: water`,
          `${pad}  factors:`,
          `${pad}    w01018: &cod { unit: mg/L, upper: 50 }`,
          `${pad}  # a comment inside the item`,
          `${pad}-`,
          `${pad}  mn: B2`,
          `${pad}  type: gas`,
          `${pad}  factors: { a21026: { upper: 35 } }`,
          `${pad}  shutdowns:`,
          `${pad}    - from: x`,
          `${pad}      to: y`,
          '# the end',
          '',
        ].join('\r\n');
        expect(parseRegistryText(text, 'stations.yaml')).toEqual({ stations: expected });
      }
    },
  );

  it('reads whole what it cannot split: an alias across stations, a stray key after the list, flow style, JSON', () => {
    const shared = [
      'stations:',
      '  - mn: A1',
      '    factors: &f { w01018: { upper: 50 } }',
      '  - mn: B2',
      '    factors: *f',
    ].join('\n');
    const f = { w01018: { upper: 50 } };
    expect(parseRegistryText(shared, 's.yaml')).toEqual({
      stations: [
        { mn: 'A1', factors: f },
        { mn: 'B2', factors: f },
      ],
    });
    // The stray key stays in what is parsed, so the strict schema still names it.
    expect(parseRegistryText('stations:\n  - mn: A1\nstray: 1\n', 's.yaml')).toEqual({
      stations: [{ mn: 'A1' }],
      stray: 1,
    });
    expect(parseRegistryText('stations: [{ mn: A1 }, { mn: B2 }]', 's.yaml')).toEqual({
      stations: [{ mn: 'A1' }, { mn: 'B2' }],
    });
    expect(parseRegistryText(JSON.stringify({ stations: expected }), 'stations.json')).toEqual({ stations: expected });
  });
});

describe('reload on change', () => {
  it('reloads a replaced file and keeps the last good registry when the new one is invalid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hj212-reg-'));
    cleanup.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'stations.yaml');
    const stations = await testStations();
    await writeFile(file, stringify({ stations: stations.slice(0, 1) }));
    const loads: Registry[] = [];
    let notify = (): void => undefined;
    const { log, lines } = captureLog((line) => {
      if (line['level'] === 50) notify();
    });
    const stop = watchRegistry(
      file,
      (r) => {
        loads.push(r);
        notify();
      },
      log,
      20,
    );
    cleanup.push(async () => stop());
    const next = (): Promise<void> => new Promise((resolve) => (notify = resolve));

    let changed = next();
    // As editors save: a new file renamed over the old one.
    await writeFile(`${file}.tmp`, stringify({ stations }));
    await rename(`${file}.tmp`, file);
    await changed;
    expect(loads.at(-1)!.stations.map((s) => s.mn)).toEqual([WATER_MN, GAS_MN]);

    changed = next();
    await writeFile(file, 'stations: [{ mn: 1 }]');
    await changed;
    expect(loads).toHaveLength(1);
    expect(lines.at(-1)).toMatchObject({
      msg: 'registry not reloaded; keeping the last good one',
      reason: expect.stringMatching(/stations\[0\]\.mn/),
    });
  });
});

describe('CSV import', () => {
  const header = '企业名称,排口名称,排口类型,MN,密码,协议版本,因子编码,单位,排放上限,排放下限,基准氧含量';

  it('parses quoted fields, escaped quotes, CRLF and a BOM', () => {
    expect(parseCsv('\uFEFFa,"b,c","d ""e"""\r\n\r\n1,2,3')).toEqual([
      ['a', 'b,c', 'd "e"'],
      ['1', '2', '3'],
    ]);
  });

  it('groups a regulator export by MN, hashes the passwords and validates the result', async () => {
    const csv = [
      header,
      `"示例化工有限公司",WS-01,废水,${WATER_MN},${WATER_PW},HJ212-2017,w01018,,50,,`,
      `"示例化工有限公司",WS-01,废水,${WATER_MN},${WATER_PW},HJ212-2017,w01001,,9,6,`,
      `示例电厂,DA-01,废气,${GAS_MN},${GAS_PW},2017,a21026,mg/m3,35,,6`,
    ].join('\r\n');
    const { registry, warnings } = await importCsv(csv);
    expect(warnings).toEqual([]);
    const r = Registry.parse(registry);
    expect(r.get(WATER_MN)!.factors).toMatchObject({
      w01018: { upper: 50, unit: 'mg/L' },
      w01001: { upper: 9, lower: 6 },
    });
    expect(r.get(GAS_MN)).toMatchObject({ type: 'gas', o2Ref: 6, version: '2017' });
    expect(JSON.stringify(registry)).not.toContain(WATER_PW);
    expect(await verifySecret(WATER_PW, r.get(WATER_MN)!.passwordHash)).toBe(true);
  });

  it('refuses the default password unless told, then warns', async () => {
    const csv = `${header}\n示例化工,WS-01,废水,${WATER_MN},123456,2017,w01018,,50,,`;
    await expect(importCsv(csv, { source: 'x.csv' })).rejects.toThrow(/x\.csv line 2: MN .* default password 123456/);
    const { registry, warnings } = await importCsv(csv, { allowDefaultPassword: true });
    expect(warnings[0]).toMatch(/default password/);
    expect(Registry.parse(registry).get(WATER_MN)!.allowDefaultPassword).toBe(true);
  });

  it('names a missing column and a bad value by line', async () => {
    await expect(importCsv('企业名称,MN\nA,B')).rejects.toThrow(/no column outlet/);
    await expect(importCsv(`${header}\nA,B,废水,${WATER_MN},pw1,2017,w01018,,fifty,,`)).rejects.toThrow(
      /line 2: upper "fifty" is not a number/,
    );
    await expect(
      importCsv(`${header}\nA,B,废水,${WATER_MN},pw1,2017,w01018,,50,,\nA,B,废水,123,pw1,2017,w01018,,50,,`),
    ).rejects.toThrow(/stations\[1\]\.mn/);
  });
});
