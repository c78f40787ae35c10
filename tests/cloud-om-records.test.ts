import { afterEach, describe, expect, it } from 'vitest';
import { relativeError, unexplained } from '../cloud/om-records.js';
import { rawClient, WATER_MN } from './helpers/cloud-fixtures.js';
import { ADMIN, CHEM, H, hourFrame, READ, scopedCloud, T0, type Json } from './helpers/dashboard-api.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const iso = (hour: number, minute = 0) =>
  `2026-11-20T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:00+08:00`;

describe('which record explains a flagged hour', () => {
  const hour = (h: number, factor: string, flag: string) => ({ time: T0 + h * H, factor, flag });

  it('needs a calibration for C, any O&M work or a stop for M, a repair or a stop for D, a stop for F', () => {
    const hours = [
      hour(0, 'w01018', 'N'),
      hour(1, 'w01018', 'C'),
      hour(1, 'w21003', 'C'),
      hour(2, 'w01018', 'M'),
      hour(3, 'w01018', 'D'),
      hour(4, 'w01018', 'F'),
      hour(5, 'w01018', 'T'),
    ];
    const calibration = { factor: 'w01018', type: 'calibration' as const, from: T0 + H, to: T0 + 1.5 * H };
    const inspection = { factor: null, type: 'inspection' as const, from: T0 + 2.2 * H, to: T0 + 2.6 * H };
    // N and T need nothing; the calibration is of COD only, so NH3-N's C stays; nothing covers 03 and 04.
    expect(unexplained(hours, [calibration, inspection], [])).toEqual([
      hour(1, 'w21003', 'C'),
      hour(3, 'w01018', 'D'),
      hour(4, 'w01018', 'F'),
    ]);
    // An inspection does not explain a fault, nor a calibration state; a repair does the fault.
    const lateInspection = { factor: null, type: 'inspection' as const, from: T0 + H, to: T0 + 4 * H };
    expect(unexplained(hours, [lateInspection], [])).toEqual([
      hour(1, 'w01018', 'C'),
      hour(1, 'w21003', 'C'),
      hour(3, 'w01018', 'D'),
      hour(4, 'w01018', 'F'),
    ]);
    const repair = { factor: 'w01018', type: 'repair' as const, from: T0 + 3 * H, to: T0 + 4 * H };
    const stop = { from: iso(4), to: iso(5), reason: '停产' };
    expect(unexplained(hours, [calibration, inspection, repair], [stop])).toEqual([hour(1, 'w21003', 'C')]);
    // Periods are half-open: work that ends at 04:00 does not reach hour 04, a stop that starts at 05:00 neither.
    expect(
      unexplained([hour(4, 'w01018', 'D')], [{ ...repair }], [{ from: iso(5), to: iso(6), reason: '停产' }]),
    ).toEqual([hour(4, 'w01018', 'D')]);
  });

  it('gives a standard check its relative error', () => {
    // (52.1 - 50) / 50 = 0.042; (9.6 - 10) / 10 = -0.04.
    expect(relativeError(50, 52.1)).toBe(0.042);
    expect(relativeError(10, 9.6)).toBe(-0.04);
  });
});

describe('O&M records on the API', () => {
  it('are filed by the enterprise’s O&M company and leave the unexplained flagged hours for review', async () => {
    const { c, call } = await scopedCloud();
    cleanup.push(() => c.stop());
    const client = await rawClient(c.cloud.tcp!.address.port);
    cleanup.push(async () => client.close());
    // Hour 01: COD and NH3-N in calibration (C); hour 02: COD maintenance (M); hour 03: COD fault (D).
    client.socket.write(
      hourFrame(0, { w01018: { Avg: '20', Flag: 'N' } }) +
        hourFrame(1, { w01018: { Avg: '21', Flag: 'C' }, w21003: { Avg: '1.0', Flag: 'C' } }) +
        hourFrame(2, { w01018: { Avg: '22', Flag: 'M' } }) +
        hourFrame(3, { w01018: { Avg: '0', Flag: 'D' } }),
    );
    await client.received(4);
    const path = `/stations/${WATER_MN}`;
    const range = `from=${T0}&to=${T0 + 24 * H}`;
    const gaps = async () =>
      ((await call('GET', `${path}/unexplained?${range}`, { token: READ })).body as Json[]).map(
        (u) => `${(u.time - T0) / H} ${u.factor} ${u.flag}`,
      );
    expect(await gaps()).toEqual(['1 w01018 C', '1 w21003 C', '2 w01018 M', '3 w01018 D']);
    const [first] = (await call('GET', `${path}/unexplained?${range}`, { token: READ })).body;
    expect(first.flagName).toBe('在线监控（监测）仪器仪表处于校准状态');

    const file = (json: object, token = CHEM) => call('POST', `${path}/om-records`, { token, json });
    const check = await file({
      factor: 'w01018',
      type: 'standardCheck',
      from: iso(1),
      to: iso(1, 40),
      company: '示例环保运维有限公司',
      standardValue: 50,
      reading: 52.1,
      note: '标样 50 mg/L',
    });
    expect(check.status).toBe(201);
    expect(check.body).toMatchObject({
      id: 1,
      factor: 'w01018',
      type: 'standardCheck',
      typeName: '标样核查',
      from: T0 + H,
      to: T0 + H + 40 * 60_000,
      relativeError: 0.042,
      by: 'chem-system',
    });
    // Hour 02's maintenance: an inspection of the whole system.
    expect(
      (
        await file({
          type: 'inspection',
          from: iso(2, 5),
          to: iso(2, 50),
          company: '示例环保运维有限公司',
        })
      ).status,
    ).toBe(201);
    expect(await gaps()).toEqual(['1 w21003 C', '3 w01018 D']);

    // Refused bodies name the field.
    const bad = async (json: object) => (await file(json)).body.message as string;
    expect(await bad({ type: 'standardCheck', factor: 'w01018', from: iso(1), to: iso(2), company: 'x' })).toMatch(
      /body\.standardValue: a standard check gives standardValue and reading/,
    );
    expect(await bad({ type: 'repair', from: iso(3), to: iso(3), company: 'x' })).toMatch(
      /body\.to: the work ends after it starts/,
    );
    expect(await bad({ type: 'repair', from: iso(3), to: iso(4), company: ' ' })).toMatch(
      /body\.company: name the O&M company/,
    );
    expect(await bad({ type: 'repair', factor: 'a21026', from: iso(3), to: iso(4), company: 'x' })).toBe(
      `body.factor: a21026 is not a factor of ${WATER_MN} (leave it out to mark every factor)`,
    );

    // The centre files the repair; the fault hour is explained.
    expect(
      (
        await file(
          { type: 'repair', factor: 'w01018', from: iso(3), to: iso(4), company: '示例环保运维有限公司' },
          ADMIN,
        )
      ).status,
    ).toBe(201);
    expect(await gaps()).toEqual(['1 w21003 C']);
    const listed = (await call('GET', `${path}/om-records?${range}`, { token: CHEM })).body as Json[];
    expect(listed.map((r) => [r.id, r.type, r.by])).toEqual([
      [1, 'standardCheck', 'chem-system'],
      [2, 'inspection', 'chem-system'],
      [3, 'repair', 'ops'],
    ]);
  });
});
