import { afterEach, describe, expect, it } from 'vitest';
import { rawClient, GAS_MN, WATER_MN } from './helpers/cloud-fixtures.js';
import { ADMIN, CHEM, H, hourFrame, READ, scopedCloud, T0, WEST, type Json } from './helpers/dashboard-api.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** Ten minutes after the end of 2026-11-20 (China time): every hour of the day is over. */
const NOW = T0 + 24 * H + 10 * 60_000;
const iso = (hour: number) => `2026-11-20T${String(hour).padStart(2, '0')}:00:00+08:00`;

/**
 * The water outlet sends hours 00-11, 16-19 and 22-23 of 2026-11-20 (18 hours, all four factors) and not
 * 12-15 nor 20-21. Its enterprise registers 12:00-16:00 (检修) and 20:00-22:00 (故障); the centre approves the
 * first and rejects the second.
 */
async function scenario() {
  const started = await scopedCloud({ now: () => NOW });
  cleanup.push(() => started.c.stop());
  const client = await rawClient(started.c.cloud.tcp!.address.port);
  cleanup.push(async () => client.close());
  const hours = [...Array(24).keys()].filter((h) => !(h >= 12 && h < 16) && h !== 20 && h !== 21);
  expect(hours).toHaveLength(18);
  client.socket.write(
    hours
      .map((h) =>
        hourFrame(h, {
          w01018: { Avg: '20', Flag: 'N' },
          w21003: { Avg: '1.1', Flag: 'N' },
          w01001: { Avg: '7.1', Flag: 'N' },
          w00000: { Avg: '10', Flag: 'N' },
        }),
      )
      .join(''),
  );
  await client.received(18);
  return started;
}

describe('abnormal-operation registration (不正常运行登记)', () => {
  it('is submitted by the enterprise, reviewed by the authority, and once approved leaves its hours out', async () => {
    const { c, call } = await scenario();
    const path = `/stations/${WATER_MN}/registrations`;
    const submitted = await call('POST', path, {
      token: CHEM,
      json: { from: iso(12), to: iso(16), reason: 'maintenance', detail: '更换计量泵' },
    });
    expect(submitted.status).toBe(201);
    expect(submitted.body).toEqual({
      id: 1,
      mn: WATER_MN,
      enterprise: '示例化工有限公司',
      outlet: 'WS-01',
      from: iso(12),
      to: iso(16),
      reason: 'maintenance',
      reasonName: '检修',
      detail: '更换计量泵',
      state: 'submitted',
      by: 'chem-system',
      at: expect.any(Number),
    });
    const fault = await call('POST', path, { token: CHEM, json: { from: iso(20), to: iso(22), reason: 'fault' } });
    expect(fault.body.id).toBe(2);

    // Refused bodies name the field; another enterprise's outlet is not this one's to register.
    const bad = async (json: object) => (await call('POST', path, { token: CHEM, json })).body.message;
    expect(await bad({ from: iso(12), to: iso(12), reason: 'fault' })).toMatch(
      /body\.to: a period ends after it starts/,
    );
    expect(await bad({ from: iso(12), to: iso(13), reason: 'other' })).toMatch(
      /body\.detail: say in detail what the other reason is/,
    );
    expect(await bad({ from: iso(12), to: iso(13), reason: 'holiday' })).toMatch(
      /body\.reason: reason is one of stopped/,
    );
    expect(await bad({ from: iso(12), to: iso(13), reason: 'fault', mn: GAS_MN })).toMatch(/mn/);
    const other = await call('POST', `/stations/${GAS_MN}/registrations`, {
      token: CHEM,
      json: { from: iso(12), to: iso(16), reason: 'stopped' },
    });
    expect([other.status, other.body.code]).toEqual([403, 'API_OUT_OF_SCOPE']);

    // Before any review, all six hours are owed: 18 of 24 received.
    const rates = async () => (await call('GET', `/stations/${WATER_MN}/rates?day=2026-11-20`, { token: READ })).body;
    expect((await rates()).outletRates).toMatchObject({ hoursMissing: 6, transmissionRate: 18 / 24 });

    // The review queue: the centre and the enterprise see both; the authority of another region none.
    const queue = async (token: string) =>
      ((await call('GET', '/registrations?state=submitted', { token })).body as Json[]).map((r) => r.id);
    expect(await queue(READ)).toEqual([1, 2]);
    expect(await queue(CHEM)).toEqual([1, 2]);
    expect(await queue(WEST)).toEqual([]);

    // The enterprise does not review its own; the authority of 城西区 not 城东区's; rejecting needs a reason.
    const review = (id: number, token: string, json: object) =>
      call('POST', `/registrations/${id}/review`, { token, json });
    expect((await review(1, CHEM, { decision: 'approve' })).body.code).toBe('API_CENTRE_ONLY');
    expect((await review(1, WEST, { decision: 'approve' })).body.code).toBe('API_OUT_OF_SCOPE');
    const noReason = await review(2, ADMIN, { decision: 'reject' });
    expect([noReason.status, noReason.body.message]).toEqual([400, 'body.comment: say why it is rejected']);

    const approved = await review(1, ADMIN, { decision: 'approve', comment: '同意' });
    expect(approved.body).toMatchObject({ state: 'approved', review: { by: 'ops', comment: '同意' } });
    const rejected = await review(2, ADMIN, { decision: 'reject', comment: '无维修记录' });
    expect(rejected.body).toMatchObject({ state: 'rejected', review: { by: 'ops', comment: '无维修记录' } });
    const again = await review(1, ADMIN, { decision: 'reject', comment: '改判' });
    expect([again.status, again.body.message]).toEqual([
      409,
      'registration 1 was approved by ops already: an enterprise submits a new one to change it',
    ]);
    expect((await review(9, ADMIN, { decision: 'approve' })).status).toBe(404);

    // The approved period is a shutdown window naming its registration; the rejected one is not.
    expect((await call('GET', `/stations/${WATER_MN}/shutdowns`, { token: READ })).body).toEqual([
      { from: iso(12), to: iso(16), reason: '检修（不正常运行登记 #1）：更换计量泵' },
    ]);
    // Hours 12-15 are no longer owed: 18 of 20 received, 20 and 21 missing.
    expect((await rates()).outletRates).toMatchObject({ hoursMissing: 2, transmissionRate: 18 / 20 });
    // The missing-hour check raises the rejected period's hours only (events newest first).
    await c.cloud.rules.checkMissing(NOW);
    const missing = (await call('GET', '/alarm-events?type=missing-hour', { token: READ })).body as Json[];
    expect(missing.map((e) => e.openedAt)).toEqual([T0 + 21 * H, T0 + 20 * H]);

    // Rejected and approved stay visible as such, on the outlet's list.
    const listed = (await call('GET', `/stations/${WATER_MN}/registrations`, { token: CHEM })).body as Json[];
    expect(listed.map((r) => [r.id, r.state])).toEqual([
      [1, 'approved'],
      [2, 'rejected'],
    ]);
  });
});
