import { afterEach, describe, expect, it } from 'vitest';
import { GAS_MN, rawClient, testStations, WATER_MN } from './helpers/cloud-fixtures.js';
import { ADMIN, apiCloud, H, hourFrame, READ, T0, type Json } from './helpers/dashboard-api.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

// The rules' clock stands at 2026-11-20 03:30 China time: hours 00, 01 and 02 have ended (and are
// past the 20-minute grace), hour 03 has not.
const NOW = T0 + 3.5 * H;
const WATER_FACTORS = ['w01018', 'w21003', 'w01001', 'w00000'];

/**
 * The water outlet sends hours 00 and 02 (COD 60 at hour 02, over its limit 50), not hour 01; the gas
 * outlet is never heard from. Then the missing-hour check runs once.
 */
async function scenario(): Promise<{
  call: Awaited<ReturnType<typeof apiCloud>>['call'];
  send: (f: string, n: number) => Promise<void>;
}> {
  const stations = await testStations();
  const { c, call } = await apiCloud({}, { now: () => NOW }, [
    { ...stations[0]!, region: '城东区' },
    { ...stations[1]!, region: '城西区' },
  ]);
  cleanup.push(() => c.stop());
  const client = await rawClient(c.cloud.tcp!.address.port);
  cleanup.push(async () => client.close());
  let answers = 0;
  const send = async (frames: string, n: number): Promise<void> => {
    client.socket.write(frames);
    await client.received((answers += n));
  };
  await send(
    hourFrame(0, {
      w01018: { Avg: '20', Flag: 'N' },
      w21003: { Avg: '1.1', Flag: 'N' },
      w01001: { Avg: '7.1', Flag: 'N' },
      w00000: { Avg: '10', Flag: 'N' },
    }) +
      hourFrame(2, {
        w01018: { Avg: '60', Flag: 'N' },
        w21003: { Avg: '1.2', Flag: 'N' },
        w01001: { Avg: '7.2', Flag: 'N' },
        w00000: { Avg: '11', Flag: 'N' },
      }),
    2,
  );
  await c.cloud.rules.checkMissing(NOW);
  // The check asks the logger for hour 01 (2061): one more packet to the client.
  await client.received((answers += 1));
  return { call, send };
}

describe('alarm events', () => {
  it(
    'lists a missing hour as one event of four factors, marking ' + 'each factor back-filled or entered by hand',
    async () => {
      const { call, send } = await scenario();
      const missing = (await call('GET', '/alarm-events?type=missing-hour', { token: READ })).body;
      expect(missing).toHaveLength(1);
      const [event] = missing;
      expect(event).toMatchObject({
        type: 'missing-hour',
        mn: WATER_MN,
        kind: 'hour',
        openedAt: T0 + H,
        raisedAt: NOW,
      });
      expect(event.closedAt).toBeUndefined();
      expect(event.factors.map((f: Json) => f.factor)).toEqual(WATER_FACTORS);
      expect(event.id).toBe(event.factors[0].alarmId);
      expect(event.ack).toBeNull();
      expect(event.followUps).toEqual([]);

      // COD and NH3-N of hour 01 come late from the logger (补传): the event stays open with two factors closed.
      await send(hourFrame(1, { w01018: { Avg: '21', Flag: 'N' }, w21003: { Avg: '1.3', Flag: 'N' } }), 1);
      const [half] = (await call('GET', '/alarm-events?type=missing-hour&state=open', { token: READ })).body;
      expect(half.closedAt).toBeUndefined();
      expect(half.factors.map((f: Json) => [f.factor, f.closedBy ?? null])).toEqual([
        ['w01018', 'backfill'],
        ['w21003', 'backfill'],
        ['w01001', null],
        ['w00000', null],
      ]);
      expect((await call('GET', '/alarm-events?type=missing-hour&state=closed', { token: READ })).body).toEqual([]);

      // pH and flow are entered by hand (flag S, 手工补录): the event closes, by two means, so no single closedBy.
      await send(hourFrame(1, { w01001: { Avg: '7.3', Flag: 'S' }, w00000: { Avg: '12', Flag: 'S' } }), 1);
      const [closed] = (await call('GET', '/alarm-events?type=missing-hour&state=closed', { token: READ })).body;
      expect(closed.id).toBe(event.id);
      expect(closed.closedAt).toBe(NOW);
      expect(closed.closedBy).toBeUndefined();
      expect(closed.factors.map((f: Json) => f.closedBy)).toEqual(['backfill', 'backfill', 'manual', 'manual']);

      // The exceedance at hour 02 is its own event, newest first, raised when the hour arrived.
      const all = (await call('GET', '/alarm-events', { token: READ })).body;
      expect(all.map((e: Json) => [e.type, e.openedAt])).toEqual([
        ['exceedance', T0 + 2 * H],
        ['missing-hour', T0 + H],
      ]);
      expect(all[0]).toMatchObject({ raisedAt: NOW, value: 60, limit: 50, factors: [{ factor: 'w01018' }] });
    },
  );

  it('keeps the follow-up trail of an alarm: who, when, which state, what was said', async () => {
    const { call } = await scenario();
    const [exceed] = (await call('GET', '/alarm-events?type=exceedance', { token: READ })).body;
    const path = `/alarms/${exceed.id}/follow-ups`;
    expect((await call('POST', path, { token: READ, json: { state: 'notified', comment: 'x' } })).status).toBe(403);
    const bad = await call('POST', path, { token: ADMIN, json: { state: 'closed', comment: 'x' } });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/body\.state: state is notified \(已通知企业\) or handled \(已处理\)/);
    expect(
      (await call('POST', '/alarms/999/follow-ups', { token: ADMIN, json: { state: 'handled', comment: 'x' } })).status,
    ).toBe(404);

    const first = await call('POST', path, {
      token: ADMIN,
      json: { state: 'notified', comment: '已电话通知企业环保负责人' },
    });
    expect(first.status).toBe(201);
    const second = await call('POST', path, {
      token: ADMIN,
      json: { state: 'handled', comment: '企业更换药剂，COD 回落' },
    });
    const trail = (await call('GET', path, { token: READ })).body;
    expect(trail).toEqual(second.body);
    expect(trail.map((f: Json) => [f.by, f.state, f.comment])).toEqual([
      ['ops', 'notified', '已电话通知企业环保负责人'],
      ['ops', 'handled', '企业更换药剂，COD 回落'],
    ]);
    expect(trail[1].at).toBeGreaterThanOrEqual(trail[0].at);
    const [listed] = (await call('GET', '/alarm-events?type=exceedance', { token: READ })).body;
    expect(listed.followUps).toEqual(trail);
    // Another alarm's trail is its own.
    const [missing] = (await call('GET', '/alarm-events?type=missing-hour', { token: READ })).body;
    expect((await call('GET', `/alarms/${missing.id}/follow-ups`, { token: READ })).body).toEqual([]);
  });
});

describe('overview', () => {
  it('gives the home page figures of a hand-computed scenario', async () => {
    const { call, send } = await scenario();
    const o = (await call('GET', '/overview', { token: READ })).body;
    expect(o).toEqual({
      now: NOW,
      stations: 2,
      // The water outlet was heard at NOW; the gas outlet never.
      online: 1,
      onlineRate: 0.5,
      exceedingNow: [WATER_MN],
      warningNow: [],
      // One missing-hour event (four factors), one exceedance.
      openAlarms: {
        exceedance: 1,
        warning: 0,
        negative: 0,
        zero: 0,
        constant: 0,
        offline: 0,
        'missing-hour': 1,
        'password-guessing': 0,
        'treatment-stopped': 0,
        'instrument-mismatch': 0,
      },
      notReporting: [GAS_MN],
      // 2026-11-20 so far, hours 00-02 over. Water (3 assessed factors, from its first hour 00): 9 expected,
      // hours 00 and 02 received, 6, all N. Gas (3 assessed factors, never heard, no monitoredSince): 9
      // expected, 0 received. Pooled: 18 expected, 6 received and valid: 1/3, 100 %, 1/3.
      today: {
        day: '2026-11-20',
        expected: 18,
        received: 6,
        valid: 6,
        transmissionRate: 6 / 18,
        validityRate: 1,
        effectivenessRate: 6 / 18,
      },
    });
    // Hour 01 back-filled by the logger: no missing hour open, 9 of the water outlet's 9 received.
    await send(
      hourFrame(1, {
        w01018: { Avg: '21', Flag: 'N' },
        w21003: { Avg: '1.3', Flag: 'N' },
        w01001: { Avg: '7.3', Flag: 'N' },
        w00000: { Avg: '12', Flag: 'N' },
      }),
      1,
    );
    const after = (await call('GET', '/overview', { token: READ })).body;
    expect(after.openAlarms['missing-hour']).toBe(0);
    expect(after.today).toMatchObject({ expected: 18, received: 9, valid: 9, transmissionRate: 0.5 });
    expect((await call('GET', '/openapi.json')).body.paths['/overview'].get['x-role']).toBe('read');
  });

  it('gives each station its region for the tree', async () => {
    const { call } = await scenario();
    const stations = (await call('GET', '/stations', { token: READ })).body;
    expect(stations.map((s: Json) => [s.region, s.enterprise, s.outlet])).toEqual([
      ['城东区', '示例化工有限公司', 'WS-01'],
      ['城西区', '示例电厂', 'DA-01'],
    ]);
  });
});
