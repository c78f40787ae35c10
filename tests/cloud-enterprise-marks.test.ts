import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteMarkStore } from '../cloud/marks.js';
import { GAS_MN, WATER_MN } from './helpers/cloud-fixtures.js';
import { ADMIN, CHEM, H, READ, T0, WEST, type Json } from './helpers/dashboard-api.js';
import { enterpriseSideCloud, type TestClock } from './helpers/enterprise-side.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** An hour of 2026-11-20 (day 0) or 2026-11-21 (day 1), China time. */
const iso = (hour: number, day = 0) => `2026-11-2${day}T${String(hour).padStart(2, '0')}:00:00+08:00`;

async function start(clock: TestClock, http: object = {}) {
  const started = await enterpriseSideCloud(clock, { http });
  cleanup.push(() => started.c.stop());
  return started;
}

describe('data marking by the enterprise (数据标记)', () => {
  it('takes its own hours within 24 h after each, with a reason of its list, saying who marked them', async () => {
    // 2026-11-21 08:30 China time.
    const clock = { wall: T0 + 32 * H + 30 * 60_000 };
    const { call } = await start(clock);
    const path = `/stations/${WATER_MN}/marks`;
    const mark = (token: string, json: object, mn = WATER_MN) => call('POST', `/stations/${mn}/marks`, { token, json });

    // The 08:00 hour of 11-20 ended at 09:00: markable until 11-21 09:00 (24 h later); it is 08:30.
    const ok = await mark(CHEM, { from: iso(8), to: iso(9), reason: 'processAbnormal', note: '锅炉启炉' });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({
      id: 1,
      factor: null,
      from: T0 + 8 * H,
      to: T0 + 9 * H,
      reason: 'processAbnormal',
      reasonName: '工况异常',
      flag: 'M',
      by: 'chem-system',
      byParty: 'enterprise',
      at: clock.wall,
    });

    // The 07:00 hour ended at 08:00: its window closed at 11-21 08:00, half an hour ago. A mark is judged by
    // its first hour, so 07:00-09:00 is late as a whole.
    const late = await mark(CHEM, { from: iso(7), to: iso(9), reason: 'fault' });
    expect([late.status, late.body.code, late.body.message]).toEqual([
      403,
      'API_MARK_LATE',
      'body.from: an enterprise marks an hour within 24 h after it ends (config http.enterpriseMarkHours); the hour ' +
        'of 2026-11-20 07:00:00 could be marked until 2026-11-21 08:00:00: ask the centre or the authority of ' +
        'the station to mark it',
    ]);
    // The centre marks it at any time; the authority its region's outlet (the gas one, 城西区), hours of last week.
    const centre = await mark(ADMIN, { factor: 'w01018', from: iso(7), to: iso(8), reason: 'fault' });
    expect([centre.status, centre.body.by, centre.body.byParty]).toEqual([201, 'ops', 'centre']);
    const authority = await mark(WEST, { from: '2026-11-13T00:00:00+08:00', to: iso(0), reason: 'stopped' }, GAS_MN);
    expect([authority.status, authority.body.by, authority.body.byParty]).toEqual([201, 'west-bureau', 'authority']);

    // The hour under way (08:00-09:00 of 11-21) may be marked; the next one has not begun.
    expect((await mark(CHEM, { from: iso(8, 1), to: iso(9, 1), reason: 'stopped' })).status).toBe(201);
    const future = await mark(CHEM, { from: iso(8, 1), to: iso(10, 1), reason: 'stopped' });
    expect([future.status, future.body.message]).toEqual([
      400,
      'body.to: an enterprise marks hours that have begun (up to 2026-11-21 09:00:00); register a planned stop (POST ' +
        '/stations/:mn/registrations)',
    ]);
    // A mark within one hour covers no hour start, so no hour.
    const partial = await mark(CHEM, {
      from: '2026-11-21T07:10:00+08:00',
      to: '2026-11-21T07:50:00+08:00',
      reason: 'fault',
    });
    expect(partial.body.message).toBe(
      'body.from: the mark covers no hour (it marks the hours that start in [from, to)): give whole hours',
    );
    // Clearing a flag (normal) and over range are not the enterprise's reasons.
    const normal = await mark(CHEM, { from: iso(8), to: iso(9), reason: 'normal' });
    expect([normal.status, normal.body.message]).toEqual([
      400,
      'body.reason: an enterprise marks with stopped, maintenance, fault, calibration, communication, ' +
        "processAbnormal; normal is the centre's or the authority's to mark",
    ]);
    // Another enterprise's outlet is not its to mark; the authority not another region's.
    const other = await mark(CHEM, { from: iso(8), to: iso(9), reason: 'fault' }, GAS_MN);
    expect([other.status, other.body.code]).toEqual([403, 'API_OUT_OF_SCOPE']);
    expect((await mark(WEST, { from: iso(8), to: iso(9), reason: 'fault' })).body.code).toBe('API_OUT_OF_SCOPE');
    // Withdrawing is the centre's and the authority's.
    const withdraw = await call('DELETE', `${path}/1`, { token: CHEM });
    expect([withdraw.status, withdraw.body.code]).toEqual([403, 'API_CENTRE_ONLY']);

    // At the deadline to the millisecond the 08:00 hour is still markable; a millisecond later it is not.
    clock.wall = T0 + 33 * H;
    expect((await mark(CHEM, { from: iso(8), to: iso(9), reason: 'maintenance' })).status).toBe(201);
    clock.wall += 1;
    expect((await mark(CHEM, { from: iso(8), to: iso(9), reason: 'maintenance' })).body.code).toBe('API_MARK_LATE');

    // The audit trail says who made each mark and from which side; the overlay applies the enterprise's.
    const audit = (await call('GET', `${path}/audit`, { token: READ })).body as Json[];
    expect(audit.map((a) => [a.action, a.mark.id, a.by, a.mark.byParty, a.mark.reason])).toEqual([
      ['mark', 1, 'chem-system', 'enterprise', 'processAbnormal'],
      ['mark', 2, 'ops', 'centre', 'fault'],
      ['mark', 4, 'chem-system', 'enterprise', 'stopped'],
      ['mark', 5, 'chem-system', 'enterprise', 'maintenance'],
    ]);
    const inForce = (await call('GET', `${path}?from=${T0 + 8 * H}&to=${T0 + 9 * H}`, { token: CHEM })).body as Json[];
    expect(inForce.map((m) => [m.id, m.flag, m.byParty])).toEqual([
      [1, 'M', 'enterprise'],
      [5, 'M', 'enterprise'],
    ]);
    // The history table says whose mark decides an hour (no record came: nothing to show for 08:00 itself,
    // so an hour is uploaded and read back).
    await call('POST', `/stations/${WATER_MN}/data`, {
      token: ADMIN,
      json: { kind: 'hour', time: iso(7), factors: { w01018: { Avg: 20 } } },
    });
    const history = (
      await call('GET', `/stations/${WATER_MN}/history?kind=hour&from=${T0 + 7 * H}&to=${T0 + 8 * H}`, { token: CHEM })
    ).body;
    expect(history.rows[0].cells.w01018.mark).toMatchObject({ id: 2, by: 'ops', byParty: 'centre', reason: 'fault' });
  });

  it('takes the window from http.enterpriseMarkHours', async () => {
    // 2026-11-20 12:30: with a 2-hour window the 09:00 hour (ended 10:00) closed at 12:00, the 10:00 one is open.
    const clock = { wall: T0 + 12 * H + 30 * 60_000 };
    const { call } = await start(clock, { enterpriseMarkHours: 2 });
    const mark = (json: object) => call('POST', `/stations/${WATER_MN}/marks`, { token: CHEM, json });
    expect((await mark({ from: iso(10), to: iso(11), reason: 'communication' })).status).toBe(201);
    const late = await mark({ from: iso(9), to: iso(10), reason: 'communication' });
    expect(late.body.message).toBe(
      'body.from: an enterprise marks an hour within 2 h after it ends (config http.enterpriseMarkHours); the hour ' +
        'of 2026-11-20 09:00:00 could be marked until 2026-11-20 12:00:00: ask the centre or the authority of ' +
        'the station to mark it',
    );
  });

  it('opens a state database of before the field, its marks saying no party', async () => {
    const db = new Database(':memory:');
    db.exec(`CREATE TABLE marks (id INTEGER PRIMARY KEY AUTOINCREMENT, mn TEXT NOT NULL, factor TEXT,
      from_ms INTEGER NOT NULL, to_ms INTEGER NOT NULL, reason TEXT NOT NULL, flag TEXT NOT NULL, note TEXT NOT NULL,
      by TEXT NOT NULL, at INTEGER NOT NULL, revoked_by TEXT, revoked_at INTEGER)`);
    db.prepare(
      'INSERT INTO marks (mn, factor, from_ms, to_ms, reason, flag, note, by, at) ' +
        "VALUES (?, NULL, ?, ?, 'fault', 'D', '', 'ops', ?)",
    ).run(WATER_MN, T0, T0 + H, T0);
    const store = new SqliteMarkStore(db);
    const [old] = await store.active(WATER_MN, T0, T0 + H);
    expect(old).toMatchObject({ id: 1, by: 'ops' });
    expect(old).not.toHaveProperty('byParty');
    const made = await store.add(
      WATER_MN,
      { from: iso(1), to: iso(2), reason: 'stopped', note: '' },
      'chem',
      T0,
      'enterprise',
    );
    expect(made.byParty).toBe('enterprise');
    // Opening it again leaves the column as it is.
    new SqliteMarkStore(db);
    db.close();
  });
});
