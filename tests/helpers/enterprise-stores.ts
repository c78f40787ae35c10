/**
 * The expectations the enterprise-facing stores meet, whichever database is behind them: the state
 * database's (SQLite) and a cluster's (PostgreSQL, cloud/state/pg-enterprise.ts). tests/pg-enterprise.test.ts
 * runs each against both, on a fresh, empty set of stores.
 */
import { expect } from 'vitest';
import type { InstrumentBody, InstrumentBook } from '../../cloud/instruments.js';
import type { MarkStore } from '../../cloud/marks.js';
import type { OmRecordBook } from '../../cloud/om-records.js';
import type { PlanBook, PlanBody } from '../../cloud/plans.js';
import type { Shutdown } from '../../cloud/registry.js';
import type { RegistrationBook } from '../../cloud/registrations.js';
import type { ShutdownBook } from '../../cloud/shutdowns.js';
import type { SupervisionBook } from '../../cloud/supervision.js';

export interface EnterpriseStores {
  shutdowns: ShutdownBook;
  marks: MarkStore;
  registrations: RegistrationBook;
  omRecords: OmRecordBook;
  plans: PlanBook;
  supervision: SupervisionBook;
  instruments: InstrumentBook;
}

const H = 3_600_000;
/** 2026-11-20T00:00:00+08:00 */
const T0 = Date.parse('2026-11-20T00:00:00+08:00');
const iso = (hour: number, day = 0): string => `2026-11-${20 + day}T${String(hour).padStart(2, '0')}:00:00+08:00`;

export async function expectShutdowns({ shutdowns }: EnterpriseStores): Promise<void> {
  const later: Shutdown = { from: iso(0, 5), to: iso(0, 6), reason: '检修' };
  const earlier: Shutdown = { from: iso(0, 1), to: iso(0, 2), reason: '停产' };
  await shutdowns.add('A1', later);
  await shutdowns.add('A1', earlier);
  await shutdowns.add('A2', earlier);
  // Oldest window first, whatever the order they were registered in.
  expect(await shutdowns.list('A1')).toEqual([earlier, later]);
  expect(await shutdowns.list('A3')).toEqual([]);
  const own: Shutdown = { from: iso(0), to: iso(0, 1), reason: '年度停产' };
  // The registry's windows first, then the registered ones.
  expect(await shutdowns.windows({ mn: 'A1', shutdowns: [own] })).toEqual([own, earlier, later]);
  expect(await shutdowns.windows({ mn: 'A3', shutdowns: [own] })).toEqual([own]);
}

export async function expectMarks({ marks }: EnterpriseStores): Promise<void> {
  const all = await marks.add('A1', { from: iso(8), to: iso(10), reason: 'fault', note: '停电' }, 'ops', T0 + 11 * H);
  expect(all).toEqual({
    id: 1,
    mn: 'A1',
    factor: null,
    from: T0 + 8 * H,
    to: T0 + 10 * H,
    reason: 'fault',
    flag: 'D',
    note: '停电',
    by: 'ops',
    at: T0 + 11 * H,
  });
  const one = await marks.add(
    'A1',
    { factor: 'w01018', from: iso(9), to: iso(11), reason: 'processAbnormal', note: '' },
    'chem',
    T0 + 12 * H,
    'enterprise',
  );
  expect(one).toMatchObject({ id: 2, factor: 'w01018', flag: 'M', byParty: 'enterprise' });
  await marks.add('A2', { from: iso(8), to: iso(9), reason: 'stopped', note: '' }, 'ops', T0 + 12 * H, 'centre');
  // In force over [9 h, 10 h): both, the older first (a later mark wins over an earlier one).
  expect((await marks.active('A1', T0 + 9 * H, T0 + 10 * H)).map((m) => m.id)).toEqual([1, 2]);
  expect((await marks.active('A1', T0 + 10 * H, T0 + 11 * H)).map((m) => m.id)).toEqual([2]);
  expect(await marks.active('A1', T0 + 11 * H, T0 + 12 * H)).toEqual([]);
  // A mark is withdrawn once, and only at its own station.
  expect(await marks.revoke('A2', 1, 'li', T0 + 13 * H)).toBeUndefined();
  expect(await marks.revoke('A1', 1, 'li', T0 + 13 * H)).toEqual({ ...all, revoked: { by: 'li', at: T0 + 13 * H } });
  expect(await marks.revoke('A1', 1, 'li', T0 + 14 * H)).toBeUndefined();
  expect(await marks.revoke('A1', 99, 'li', T0 + 14 * H)).toBeUndefined();
  expect((await marks.active('A1', T0, T0 + 24 * H)).map((m) => m.id)).toEqual([2]);
  const audit = await marks.audit('A1');
  expect(audit.map((l) => [l.action, l.by, l.at, l.mark.id])).toEqual([
    ['mark', 'ops', T0 + 11 * H, 1],
    ['mark', 'chem', T0 + 12 * H, 2],
    ['revoke', 'li', T0 + 13 * H, 1],
  ]);
  expect(audit[0]!.mark.revoked).toEqual({ by: 'li', at: T0 + 13 * H });
}

export async function expectRegistrations({ registrations, shutdowns }: EnterpriseStores): Promise<void> {
  const late = await registrations.submit(
    'A1',
    { from: iso(0, 5), to: iso(0, 6), reason: 'maintenance', detail: '' },
    'chem',
    T0,
  );
  expect(late).toEqual({
    id: 1,
    mn: 'A1',
    from: iso(0, 5),
    to: iso(0, 6),
    reason: 'maintenance',
    detail: '',
    state: 'submitted',
    by: 'chem',
    at: T0,
  });
  const early = await registrations.submit(
    'A1',
    { from: iso(0, 1), to: iso(0, 2), reason: 'other', detail: '限产' },
    'chem',
    T0 + H,
  );
  await registrations.submit('A2', { from: iso(0), to: iso(0, 1), reason: 'stopped', detail: '' }, 'steel', T0);
  expect(await registrations.get(early.id)).toEqual(early);
  expect(await registrations.get(99)).toBeUndefined();
  // Oldest period first; of some stations, of a state.
  expect((await registrations.list()).map((r) => r.id)).toEqual([3, 2, 1]);
  expect((await registrations.list({ mns: ['A1'] })).map((r) => r.id)).toEqual([2, 1]);
  expect(await registrations.list({ mns: [] })).toEqual([]);
  expect(await registrations.review(99, { decision: 'approve', comment: '' }, 'li', T0)).toBe('not-found');
  expect(await registrations.review(1, { decision: 'reject', comment: '' }, 'li', T0)).toBe('no-comment');
  expect(await registrations.review(1, { decision: 'reject', comment: '无检修计划' }, 'li', T0 + 2 * H)).toEqual({
    ...late,
    state: 'rejected',
    review: { by: 'li', at: T0 + 2 * H, comment: '无检修计划' },
  });
  // A rejected one puts no window in force; an approved one does, naming its registration.
  expect(await shutdowns.list('A1')).toEqual([]);
  const approved = await registrations.review(2, { decision: 'approve', comment: '' }, 'li', T0 + 3 * H);
  expect(approved).toMatchObject({ state: 'approved', review: { by: 'li', at: T0 + 3 * H, comment: '' } });
  expect(await shutdowns.list('A1')).toEqual([
    { from: iso(0, 1), to: iso(0, 2), reason: '其他（不正常运行登记 #2）：限产' },
  ]);
  expect(await registrations.review(2, { decision: 'approve', comment: '' }, 'wang', T0 + 4 * H)).toBe(
    'already-reviewed',
  );
  expect(await shutdowns.list('A1')).toHaveLength(1);
  expect((await registrations.list({ mns: ['A1', 'A2'], state: 'submitted' })).map((r) => r.id)).toEqual([3]);
  expect((await registrations.list({ state: 'approved' })).map((r) => r.id)).toEqual([2]);
}

export async function expectOmRecords({ omRecords }: EnterpriseStores): Promise<void> {
  const check = await omRecords.add(
    'A1',
    {
      factor: 'w01018',
      type: 'standardCheck',
      from: iso(9),
      to: iso(10),
      company: '运维公司',
      standardValue: 100,
      reading: 104.25,
      note: '',
    },
    'chem',
    T0 + 10 * H,
  );
  expect(check).toEqual({
    id: 1,
    mn: 'A1',
    factor: 'w01018',
    type: 'standardCheck',
    from: T0 + 9 * H,
    to: T0 + 10 * H,
    company: '运维公司',
    standardValue: 100,
    reading: 104.25,
    relativeError: 0.0425,
    note: '',
    by: 'chem',
    at: T0 + 10 * H,
  });
  const inspection = await omRecords.add(
    'A1',
    { type: 'inspection', from: iso(7), to: iso(8), company: '运维公司', note: '巡检' },
    'chem',
    T0 + 8 * H,
  );
  expect(inspection).toMatchObject({ id: 2, factor: null, standardValue: null, reading: null, relativeError: null });
  await omRecords.add('A2', { type: 'repair', from: iso(7), to: iso(9), company: 'X', note: '' }, 'steel', T0);
  // Overlapping [from, to), oldest first.
  expect((await omRecords.list('A1', T0, T0 + 24 * H)).map((r) => r.id)).toEqual([2, 1]);
  expect((await omRecords.list('A1', T0 + 8 * H, T0 + 9 * H)).map((r) => r.id)).toEqual([]);
  expect((await omRecords.list('A1', T0 + 9 * H + 1, T0 + 9 * H + 2)).map((r) => r.id)).toEqual([1]);
  expect(await omRecords.list('A3', T0, T0 + 24 * H)).toEqual([]);
}

export async function expectPlans({ plans }: EnterpriseStores): Promise<void> {
  const body: PlanBody = {
    items: [
      { factor: 'w01018', mode: 'automatic' },
      { factor: 'w21003', mode: 'manual', times: 1, per: 'quarter', method: '纳氏试剂', methodSource: 'HJ 535-2009' },
    ],
  };
  const first = await plans.submit('A1', body, 'chem', T0);
  expect(first).toEqual({ id: 1, mn: 'A1', items: body.items, state: 'submitted', by: 'chem', at: T0 });
  // The items as submitted, key order included.
  expect(JSON.stringify((await plans.get(1))!.items)).toBe(JSON.stringify(body.items));
  expect(await plans.get(99)).toBeUndefined();
  expect(await plans.inForce('A1')).toBeUndefined();
  const second = await plans.submit('A1', { items: [body.items[0]!] }, 'chem', T0 + H);
  await plans.submit('A2', body, 'steel', T0);
  expect((await plans.list()).map((p) => p.id)).toEqual([1, 2, 3]);
  expect((await plans.list({ mns: ['A1'], state: 'submitted' })).map((p) => p.id)).toEqual([1, 2]);
  // Approved later, the second is in force, whatever the order they were submitted in.
  expect(await plans.review(second.id, 'approved', 'li', T0 + 2 * H, '')).toMatchObject({
    state: 'approved',
    review: { by: 'li', at: T0 + 2 * H, comment: '' },
  });
  expect(await plans.review(first.id, 'approved', 'li', T0 + 3 * H, 'ok')).toMatchObject({ state: 'approved' });
  expect((await plans.inForce('A1'))?.id).toBe(first.id);
  expect(await plans.review(first.id, 'rejected', 'wang', T0 + 4 * H, 'no')).toBe('not-submitted');
  expect(await plans.review(99, 'rejected', 'wang', T0 + 4 * H, 'no')).toBe('not-submitted');
  expect((await plans.list({ state: 'approved' })).map((p) => p.id)).toEqual([1, 2]);
  // The signed scan.
  expect(await plans.attachment(1)).toBeUndefined();
  const scan = Buffer.from([0x25, 0x50, 0x44, 0x46, 0x00, 0xff]);
  await plans.attach(1, 'plan.pdf', scan);
  expect(await plans.attachment(1)).toEqual({ name: 'plan.pdf', bytes: scan });
  expect((await plans.get(1))!.attachment).toEqual({ name: 'plan.pdf', bytes: 6 });
  expect(await plans.attachment(99)).toBeUndefined();
  // Manual results: one per factor and time; by time, then factor.
  const result = {
    mn: 'A1',
    factor: 'w21003',
    time: T0 + 9 * H,
    value: 1.25,
    method: '纳氏试剂',
    methodSource: 'HJ 535-2009',
    lab: '检测公司',
    note: '',
    planId: 1,
    by: 'chem',
    at: T0 + 12 * H,
  };
  expect(await plans.addResult(result)).toEqual({ ...result, id: 1 });
  expect(await plans.addResult({ ...result, value: 2 })).toBe('duplicate');
  expect(await plans.addResult({ ...result, factor: 'w01001', time: T0 + 9 * H })).toMatchObject({ id: 3 });
  expect(await plans.addResult({ ...result, time: T0 + 8 * H })).toMatchObject({ id: 4 });
  const got = await plans.results('A1', T0, T0 + 24 * H);
  expect(got.map((r) => [r.id, r.factor, r.time])).toEqual([
    [4, 'w21003', T0 + 8 * H],
    [3, 'w01001', T0 + 9 * H],
    [1, 'w21003', T0 + 9 * H],
  ]);
  expect(got[2]).toEqual({ ...result, id: 1 });
  expect(await plans.results('A1', T0 + 9 * H + 1, T0 + 24 * H)).toEqual([]);
}

export async function expectSupervision({ supervision }: EnterpriseStores): Promise<void> {
  const subject = { mn: 'A1', kind: 'exceedance' as const, alarmId: 7, factor: 'w01018', from: T0, to: T0 + H };
  const sent = await supervision.send(subject, T0 + 48 * H, '说明超标原因', 'li', 'authority', T0 + 2 * H);
  expect(sent).toEqual({
    id: 1,
    ...subject,
    deadline: T0 + 48 * H,
    request: '说明超标原因',
    state: 'sent',
    by: 'li',
    at: T0 + 2 * H,
    steps: [{ action: 'send', state: 'sent', by: 'li', party: 'authority', at: T0 + 2 * H, comment: '说明超标原因' }],
  });
  // A period named by hand: no alarm, no factor, and still open.
  const gap = await supervision.send(
    { mn: 'A2', kind: 'dataGap', from: T0 },
    T0 + 24 * H,
    '',
    'centre',
    'centre',
    T0 + 3 * H,
  );
  expect(gap).not.toHaveProperty('alarmId');
  expect(gap).not.toHaveProperty('factor');
  expect(gap).not.toHaveProperty('to');
  expect(await supervision.openForAlarm(7)).toBe(1);
  expect(await supervision.openForAlarm(8)).toBeUndefined();
  // Only a sent or returned item is answered, only an answered one reviewed.
  const review = { decision: 'return' as const, comment: '措施不具体' };
  expect(await supervision.review(1, review, 'li', 'authority', T0 + 4 * H)).toBe('wrong-state');
  expect(await supervision.answer(99, { reason: 'r', measures: 'm', attachments: [] }, 'chem', 'enterprise', T0)).toBe(
    'not-found',
  );
  const photo = Buffer.from('photo of the repaired pump');
  const answer = {
    reason: '曝气泵故障',
    measures: '更换曝气泵',
    attachments: [
      { name: 'pump.jpg', base64: photo.toString('base64') },
      { name: 'invoice.pdf', base64: Buffer.from('%PDF').toString('base64') },
    ],
  };
  const answered = await supervision.answer(1, answer, 'chem', 'enterprise', T0 + 5 * H);
  expect(answered).toMatchObject({ state: 'answered' });
  expect(await supervision.answer(1, answer, 'chem', 'enterprise', T0 + 5 * H)).toBe('wrong-state');
  expect(await supervision.review(1, review, 'li', 'authority', T0 + 6 * H)).toMatchObject({ state: 'returned' });
  await supervision.answer(1, { ...answer, attachments: [] }, 'chem', 'enterprise', T0 + 7 * H);
  const accepted = await supervision.review(1, { decision: 'accept', comment: '' }, 'li', 'authority', T0 + 8 * H);
  expect(accepted).toMatchObject({ state: 'accepted' });
  expect(await supervision.openForAlarm(7)).toBeUndefined();
  const item = (await supervision.get(1))!;
  expect(item.steps).toEqual([
    { action: 'send', state: 'sent', by: 'li', party: 'authority', at: T0 + 2 * H, comment: '说明超标原因' },
    {
      action: 'answer',
      state: 'answered',
      by: 'chem',
      party: 'enterprise',
      at: T0 + 5 * H,
      comment: '',
      reason: '曝气泵故障',
      measures: '更换曝气泵',
      attachments: [
        { id: 1, name: 'pump.jpg', bytes: photo.length },
        { id: 2, name: 'invoice.pdf', bytes: 4 },
      ],
    },
    { action: 'return', state: 'returned', by: 'li', party: 'authority', at: T0 + 6 * H, comment: '措施不具体' },
    {
      action: 'answer',
      state: 'answered',
      by: 'chem',
      party: 'enterprise',
      at: T0 + 7 * H,
      comment: '',
      reason: '曝气泵故障',
      measures: '更换曝气泵',
      attachments: [],
    },
    { action: 'accept', state: 'accepted', by: 'li', party: 'authority', at: T0 + 8 * H, comment: '' },
  ]);
  expect(accepted).toEqual(item);
  expect(await supervision.attachment(1, 1)).toEqual({ name: 'pump.jpg', bytes: photo });
  // An attachment is read through its own item only.
  expect(await supervision.attachment(2, 1)).toBeUndefined();
  expect(await supervision.get(99)).toBeUndefined();
  expect((await supervision.list()).map((i) => i.id)).toEqual([1, 2]);
  expect((await supervision.list({ mns: ['A2'] })).map((i) => i.id)).toEqual([2]);
  expect((await supervision.list({ mns: ['A1', 'A2'], state: 'accepted' })).map((i) => i.id)).toEqual([1]);
  expect(await supervision.list({ mns: [] })).toEqual([]);
}

export async function expectInstruments({ instruments }: EnterpriseStores): Promise<void> {
  const body: InstrumentBody = {
    name: 'COD 在线自动监测仪',
    manufacturer: '某仪器公司',
    model: 'CODmax II',
    principle: '重铬酸钾法',
    serial: 'S-1',
    sn: '0123456789ABCDEF01234567',
    range: '0-500',
    slope: 1,
    intercept: 0,
    installer: '安装公司',
    omCompany: '运维公司',
  };
  expect(await instruments.current('A1')).toEqual([]);
  expect(await instruments.get('A1', 'w01018')).toBeUndefined();
  // Versions count per analyzer; the newest is in force.
  const v1 = await instruments.put('A1', 'w01018', body, 'ent', T0);
  expect(v1).toEqual({ ...body, mn: 'A1', factor: 'w01018', by: 'ent', at: T0, version: 1 });
  await instruments.put('A1', 'w21003', { ...body, range: '0-50' }, 'ent', T0 + 1);
  const v2 = await instruments.put('A1', 'w01018', { ...body, range: '0-1000' }, 'om', T0 + H);
  expect(v2.version).toBe(2);
  expect(await instruments.get('A1', 'w01018')).toEqual(v2);
  expect((await instruments.current('A1')).map((i) => [i.factor, i.version, i.range])).toEqual([
    ['w01018', 2, '0-1000'],
    ['w21003', 1, '0-50'],
  ]);
  expect((await instruments.history('A1', 'w01018')).map((i) => i.version)).toEqual([1, 2]);
  expect(await instruments.current('A2')).toEqual([]);
  // The last report of each field, whatever came before it.
  await instruments.report('A1', 'w01018', { range: '0-500', slope: 1 }, T0);
  await instruments.report('A1', 'w01018', { slope: 1.05 }, T0 + H);
  expect(await instruments.reported('A1', 'w01018')).toEqual({ range: '0-500', slope: 1.05 });
  expect(await instruments.reported('A1', 'w21003')).toEqual({});
}

/** Every expectation, by store, for one `it` each. */
export const ENTERPRISE_EXPECTATIONS = {
  'shutdown windows': expectShutdowns,
  'review marks': expectMarks,
  'abnormal-operation registrations': expectRegistrations,
  'O&M records': expectOmRecords,
  'monitoring plans and manual results': expectPlans,
  'electronic supervision': expectSupervision,
  'instrument register': expectInstruments,
} as const;
