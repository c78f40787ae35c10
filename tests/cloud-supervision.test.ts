import { afterEach, describe, expect, it } from 'vitest';
import { GAS_MN, WATER_MN } from './helpers/cloud-fixtures.js';
import { ADMIN, CHEM, H, hourFrame, READ, T0, WEST, type Json } from './helpers/dashboard-api.js';
import { EAST, enterpriseSideCloud, POWER } from './helpers/enterprise-side.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const iso = (hour: number, day = 20) => `2026-11-${day}T${String(hour).padStart(2, '0')}:00:00+08:00`;
const at = (hour: number, day = 20) => Date.parse(iso(hour, day));
const PDF = Buffer.from('%PDF-1.4 整改报告');

/**
 * Connects a token's live stream (GET /events); once connected (the server subscribes it before the headers
 * go), gives the promise of the first `supervision` event it carries.
 */
async function listen(base: string, token: string): Promise<{ event: Promise<Json> }> {
  const ac = new AbortController();
  cleanup.push(async () => ac.abort());
  const res = await fetch(`${base}/events`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  const reader = res.body!.getReader();
  const event = (async () => {
    let buffer = '';
    for (;;) {
      const { value } = await reader.read();
      buffer += Buffer.from(value!).toString('utf8');
      const m = /event: supervision\ndata: (.*)\n/.exec(buffer);
      if (m) {
        ac.abort();
        return JSON.parse(m[1]!) as Json;
      }
    }
  })();
  // Wrapped: an async function's promise of a promise would wait for the event itself.
  return { event };
}

describe('electronic supervision (电子督办)', () => {
  it('is sent, answered, returned, answered again and accepted, every step kept; overdue ones are listed', async () => {
    // 2026-11-20 12:00 China time; the water outlet's COD was 75 mg/L at 10:00 (limit 50): an exceedance.
    const clock = { wall: at(12) };
    const { c, base, call } = await enterpriseSideCloud(clock);
    cleanup.push(() => c.stop());
    await call('POST', '/ingest/frames', { token: ADMIN, text: hourFrame(10, { w01018: { Avg: '75', Flag: 'N' } }) });
    const alarm = ((await call('GET', '/alarms?type=exceedance', { token: READ })).body as Json[])[0];
    expect(alarm).toMatchObject({ mn: WATER_MN, factor: 'w01018', openedAt: T0 + 10 * H });

    // The authority of 城东区 sends it with a deadline of 11-22 18:00; the enterprise's live stream hears of it.
    const heard = await listen(base, CHEM);
    const send = (token: string, json: object) => call('POST', '/supervision', { token, json });
    const sent = await send(EAST, { alarmId: alarm.id, deadline: iso(18, 22), request: '说明超标原因并整改' });
    expect(sent.status).toBe(201);
    expect(await heard.event).toEqual({ type: 'supervision', mn: WATER_MN, id: 1, state: 'sent' });
    expect(sent.body).toEqual({
      id: 1,
      mn: WATER_MN,
      enterprise: '示例化工有限公司',
      outlet: 'WS-01',
      kind: 'exceedance',
      kindName: '超标',
      alarmId: alarm.id,
      factor: 'w01018',
      from: T0 + 10 * H,
      deadline: at(18, 22),
      request: '说明超标原因并整改',
      state: 'sent',
      overdue: false,
      by: 'east-bureau',
      at: at(12),
      steps: [
        {
          action: 'send',
          state: 'sent',
          by: 'east-bureau',
          party: 'authority',
          at: at(12),
          comment: '说明超标原因并整改',
        },
      ],
    });
    // One open item per alarm; another region's authority and an enterprise do not send; bodies name the field.
    expect((await send(ADMIN, { alarmId: alarm.id, deadline: iso(18, 22) })).body.code).toBe('API_SUPERVISION_EXISTS');
    expect((await send(WEST, { alarmId: alarm.id, deadline: iso(18, 22) })).body.code).toBe('API_OUT_OF_SCOPE');
    expect((await send(CHEM, { alarmId: alarm.id, deadline: iso(18, 22) })).body.code).toBe('API_CENTRE_ONLY');
    expect((await send(ADMIN, { alarmId: 999, deadline: iso(18, 22) })).body.code).toBe('API_NO_ALARM');
    const past = await send(ADMIN, { mn: GAS_MN, kind: 'dataGap', from: iso(0), to: iso(6), deadline: iso(11) });
    expect([past.status, past.body.message]).toEqual([400, 'body.deadline: a deadline is later than now']);
    const both = await send(ADMIN, { alarmId: alarm.id, mn: WATER_MN, deadline: iso(18, 22) });
    expect(both.body.message).toMatch(/^body\.alarmId: give alarmId \(an exceedance or data-gap alarm\) or mn/);
    const noKind = await send(ADMIN, { mn: GAS_MN, from: iso(0), to: iso(6), deadline: iso(18, 22) });
    expect(noKind.body.message).toBe('body.kind: an item for a station names its kind, from and to');

    // The authority of 城西区 sends the gas outlet's data gap 00:00-06:00, due 11-21 12:00.
    const gap = await send(WEST, { mn: GAS_MN, kind: 'dataGap', from: iso(0), to: iso(6), deadline: iso(12, 21) });
    expect(gap.body).toMatchObject({ id: 2, kind: 'dataGap', kindName: '数据缺失', from: at(0), to: at(6) });
    expect(gap.body.steps[0]).toMatchObject({ by: 'west-bureau', party: 'authority' });

    // Each account sees its own: the enterprise its outlet's, an authority its region's, the centre both.
    const ids = async (token: string, q = '') =>
      ((await call('GET', `/supervision${q}`, { token })).body as Json[]).map((i) => i.id);
    expect([await ids(READ), await ids(CHEM), await ids(EAST), await ids(WEST), await ids(POWER)]).toEqual([
      [1, 2],
      [1],
      [1],
      [2],
      [2],
    ]);
    expect(await ids(CHEM, `?mn=${GAS_MN}`)).toEqual([]);
    // An enterprise is refused another's item, to read or to answer.
    expect((await call('GET', '/supervision/2', { token: CHEM })).body.code).toBe('API_OUT_OF_SCOPE');
    const answer = (id: number, token: string, json: object) =>
      call('POST', `/supervision/${id}/answer`, { token, json });
    const reply = { reason: '进水负荷突增', measures: '调整加药量，恢复达标' };
    expect((await answer(2, CHEM, reply)).body.code).toBe('API_OUT_OF_SCOPE');
    // Answering is the enterprise's: not the centre's nor the authority's.
    const centre = await answer(1, ADMIN, reply);
    expect([centre.status, centre.body.code, centre.body.message]).toEqual([
      403,
      'API_ENTERPRISE_ONLY',
      "answering a supervision item is the enterprise's; ops is of the centre",
    ]);
    // Nothing to review before an answer.
    const review = (id: number, token: string, json: object) =>
      call('POST', `/supervision/${id}/review`, { token, json });
    const early = await review(1, EAST, { decision: 'accept' });
    expect([early.status, early.body.message]).toEqual([
      409,
      'supervision item 1 is sent: an answered item is accepted',
    ]);
    expect((await answer(1, CHEM, { reason: '', measures: 'x' })).body.message).toBe(
      'body.reason: say what caused it (原因)',
    );

    // 11-21 09:00: the enterprise answers, with its report attached.
    clock.wall = at(9, 21);
    const first = await answer(1, CHEM, {
      ...reply,
      attachments: [{ name: '整改报告.pdf', base64: PDF.toString('base64') }],
    });
    expect(first.body).toMatchObject({ state: 'answered', overdue: false });
    expect(first.body.steps[1]).toEqual({
      action: 'answer',
      state: 'answered',
      by: 'chem-system',
      party: 'enterprise',
      at: at(9, 21),
      comment: '',
      reason: '进水负荷突增',
      measures: '调整加药量，恢复达标',
      attachments: [{ id: 1, name: '整改报告.pdf', bytes: PDF.length }],
    });
    const again = await answer(1, CHEM, reply);
    expect([again.status, again.body.message]).toEqual([
      409,
      'supervision item 1 is answered: an item is answered when sent or returned',
    ]);
    // The attachment, to the item's enterprise and authority; not to another region's.
    const got = await call('GET', '/supervision/1/attachments/1', { token: EAST });
    expect([got.status, got.type, got.body]).toEqual([200, 'application/pdf', PDF.toString('utf8')]);
    expect((await call('GET', '/supervision/1/attachments/1', { token: WEST })).status).toBe(403);
    expect((await call('GET', '/supervision/1/attachments/9', { token: CHEM })).body.code).toBe(
      'API_NO_SUPERVISION_ATTACHMENT',
    );

    // Another region's authority does not review it; returning needs a reason; the authority returns it.
    expect((await review(1, WEST, { decision: 'accept' })).body.code).toBe('API_OUT_OF_SCOPE');
    expect((await review(1, CHEM, { decision: 'accept' })).body.code).toBe('API_CENTRE_ONLY');
    expect((await review(1, EAST, { decision: 'return' })).body.message).toBe('body.comment: say why it is returned');
    clock.wall = at(15, 21);
    const returned = await review(1, EAST, { decision: 'return', comment: '缺少加药记录' });
    expect(returned.body).toMatchObject({ state: 'returned' });

    // 11-23 10:00, past both deadlines: item 1 (returned) and item 2 (never answered) are overdue.
    clock.wall = at(10, 23);
    expect(await ids(READ, '?overdue=true')).toEqual([1, 2]);
    expect(await ids(EAST, '?overdue=true')).toEqual([1]);
    const second = await answer(1, CHEM, { reason: '进水负荷突增', measures: '补充加药记录' });
    expect(second.body).toMatchObject({ state: 'answered', overdue: true });
    clock.wall = at(11, 23);
    const accepted = await review(1, EAST, { decision: 'accept', comment: '同意办结' });
    expect(accepted.body).toMatchObject({ state: 'accepted', overdue: false });
    expect(await ids(READ, '?overdue=true')).toEqual([2]);
    expect(await ids(READ, '?state=accepted')).toEqual([1]);
    expect(await ids(READ, '?overdue=false')).toEqual([1]);

    // An accepted item is closed: answering it is refused.
    const closed = await answer(1, CHEM, reply);
    expect([closed.status, closed.body.code, closed.body.message]).toEqual([
      409,
      'API_SUPERVISION_STATE',
      'supervision item 1 is accepted: an item is answered when sent or returned',
    ]);
    expect((await review(1, EAST, { decision: 'return', comment: '再议' })).status).toBe(409);

    // The trail: every change of state, who, from which side, when.
    const trail = (await call('GET', '/supervision/1', { token: CHEM })).body.steps as Json[];
    expect(trail.map((s) => [s.action, s.state, s.by, s.party, s.at, s.comment])).toEqual([
      ['send', 'sent', 'east-bureau', 'authority', at(12), '说明超标原因并整改'],
      ['answer', 'answered', 'chem-system', 'enterprise', at(9, 21), ''],
      ['return', 'returned', 'east-bureau', 'authority', at(15, 21), '缺少加药记录'],
      ['answer', 'answered', 'chem-system', 'enterprise', at(10, 23), ''],
      ['accept', 'accepted', 'east-bureau', 'authority', at(11, 23), '同意办结'],
    ]);
    expect(trail[3].attachments).toEqual([]);

    // Once closed, the alarm may be sent again; an unknown item is 404.
    expect((await send(ADMIN, { alarmId: alarm.id, deadline: iso(18, 25) })).body.id).toBe(3);
    expect((await call('GET', '/supervision/99', { token: READ })).body.code).toBe('API_NO_SUPERVISION');
  });

  it('sends a missing hour as a data gap, and refuses alarms that are neither', async () => {
    // The water outlet sent 10:00 (a negative COD) and 11:00; at 12:10 the missing-hour check opens the hours before.
    const clock = { wall: at(12) + 10 * 60_000 };
    const { c, call } = await enterpriseSideCloud(clock);
    cleanup.push(() => c.stop());
    await call('POST', '/ingest/frames', {
      token: ADMIN,
      text: hourFrame(10, { w01018: { Avg: '-5', Flag: 'N' } }) + hourFrame(11, { w01018: { Avg: '20', Flag: 'N' } }),
    });
    await c.cloud.rules.checkMissing(clock.wall);
    const alarms = (await call('GET', `/alarms?mn=${WATER_MN}`, { token: READ })).body as Json[];
    const missing = alarms.find((a) => a.type === 'missing-hour');
    const negative = alarms.find((a) => a.type === 'negative');
    expect(missing && negative).toBeTruthy();
    const gap = await call('POST', '/supervision', {
      token: ADMIN,
      json: { alarmId: missing.id, deadline: iso(18, 21) },
    });
    expect(gap.body).toMatchObject({
      kind: 'dataGap',
      kindName: '数据缺失',
      from: missing.openedAt,
      alarmId: missing.id,
    });
    const refused = await call('POST', '/supervision', {
      token: ADMIN,
      json: { alarmId: negative.id, deadline: iso(18, 21) },
    });
    expect([refused.status, refused.body.message]).toEqual([
      400,
      `body.alarmId: alarm ${negative.id} is of type negative: an item is sent for an exceedance, missing-hour or ` +
        'offline alarm',
    ]);
  });
});
