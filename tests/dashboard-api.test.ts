import { afterEach, describe, expect, it } from 'vitest';
import { outletPeriod, reportCsv } from '../cloud/api/report.js';
import { StationSchema } from '../cloud/index.js';
import { GAS_MN, rawClient, testStations, WATER_MN } from './helpers/cloud-fixtures.js';
import { ADMIN, apiCloud, H, hourFrame, READ, T0, type Json } from './helpers/dashboard-api.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function start(): ReturnType<typeof apiCloud> {
  const started = await apiCloud();
  cleanup.push(() => started.c.stop());
  return started;
}

/** Reads server-sent events from GET /events until `n` events have come. */
async function events(
  base: string,
  token: string,
): Promise<{ next: (n: number) => Promise<Json[]>; close: () => void }> {
  const ac = new AbortController();
  const res = await fetch(`${base}/events`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  const reader = res.body!.getReader();
  const got: Json[] = [];
  let buffer = '';
  return {
    async next(n) {
      while (got.length < n) {
        const { value, done } = await reader.read();
        if (done) throw new Error('event stream ended');
        buffer += Buffer.from(value).toString();
        for (let end; (end = buffer.indexOf('\n\n')) >= 0; buffer = buffer.slice(end + 2)) {
          const data = /^data: (.*)$/m.exec(buffer.slice(0, end));
          if (data) got.push(JSON.parse(data[1]!));
        }
      }
      return got.slice(0, n);
    },
    close: () => ac.abort(),
  };
}

describe('dashboard API', () => {
  it('serves the static shell without a token and nothing else', async () => {
    const { call } = await start();
    const shell = await call('GET', '/');
    expect(shell.status).toBe(200);
    expect(shell.type).toBe('text/html; charset=utf-8');
    expect(shell.body).toMatch(/<form id="login"/);
    expect((await call('GET', '/ui/uPlot.iife.min.js')).type).toBe('text/javascript; charset=utf-8');
    expect((await call('GET', '/ui/app.css')).status).toBe(200);
    // The names the pages show, rendered from cloud/api/labels.ts (dashboard-format.test.ts reads them).
    const labels = await call('GET', '/ui/labels.js');
    expect(labels.type).toBe('text/javascript; charset=utf-8');
    expect(labels.body).toContain('"w00000":["废水流量","Wastewater flow"]');
    expect((await call('GET', '/ui/../package.json')).status).toBe(404);
    for (const path of ['/whoami', '/enterprises', '/report?day=2026-11-20', '/report.csv?day=2026-11-20', '/events'])
      expect((await call('GET', path)).status).toBe(401);
    expect((await call('GET', '/whoami', { token: ADMIN })).body).toEqual({ name: 'ops', role: 'admin' });
  });

  it('documents the new routes with their roles', async () => {
    const { call } = await start();
    const doc = (await call('GET', '/openapi.json')).body;
    expect(doc.paths['/alarms/{id}/ack'].post['x-role']).toBe('operator');
    expect(
      ['/whoami', '/enterprises', '/report', '/report.csv', '/events'].map((p) => doc.paths[p].get['x-role']),
    ).toEqual(['read', 'read', 'read', 'read', 'read']);
  });

  it('gives each enterprise its networking status and each station its newest values', async () => {
    const { c, call } = await start();
    const stations = await testStations();
    expect((await call('GET', '/enterprises', { token: READ })).body).toEqual([
      { enterprise: stations[0]!.enterprise, outlets: 1, online: 0, networking: 'none' },
      { enterprise: stations[1]!.enterprise, outlets: 1, online: 0, networking: 'none' },
    ]);
    const client = await rawClient(c.cloud.tcp!.address.port);
    cleanup.push(async () => client.close());
    client.socket.write(
      hourFrame(10, { w01018: { Avg: '20', Flag: 'N' } }) + hourFrame(9, { w01018: { Avg: '19', Flag: 'D' } }),
    );
    await client.received(2);
    expect((await call('GET', '/enterprises', { token: READ })).body[0]).toMatchObject({
      online: 1,
      networking: 'full',
    });
    const water = (await call('GET', '/stations', { token: READ })).body[0];
    // The later hour stays the newest even though the earlier one came after it.
    // Judged as the alarms are: 20 against the COD limit 50, normal.
    expect(water.latest).toEqual({
      w01018: { kind: 'hour', time: T0 + 10 * H, value: 20, flag: 'N', judged: 20, state: 'normal' },
    });
    expect(water.limits.w01018).toEqual({
      name: '化学需氧量',
      nameEn: 'COD (chemical oxygen demand)',
      unit: 'mg/L',
      upper: 50,
      // No limit per kind and no warnAt below 1 in this registry: every kind is judged on 50, no 预警 line.
      kinds: { rtd: { upper: 50 }, minute: { upper: 50 }, hour: { upper: 50 }, day: { upper: 50 } },
    });
  });

  it('lets an admin acknowledge an alarm with a comment, and pushes alarm and data events', async () => {
    const { c, base, call } = await start();
    const stream = await events(base, READ);
    cleanup.push(async () => stream.close());
    const client = await rawClient(c.cloud.tcp!.address.port);
    cleanup.push(async () => client.close());
    client.socket.write(hourFrame(10, { w01018: { Avg: '75', Flag: 'N' } }));
    const [opened, data] = await stream.next(2);
    expect(opened).toMatchObject({
      type: 'alarm',
      event: 'opened',
      alarm: { type: 'exceedance', mn: WATER_MN, factor: 'w01018', value: 75 },
    });
    expect(data).toEqual({ type: 'data', mn: WATER_MN, time: T0 + 10 * H });
    const id = opened.alarm.id;
    expect((await call('POST', `/alarms/${id}/ack`, { token: READ, json: { comment: 'seen' } })).status).toBe(403);
    expect((await call('POST', `/alarms/${id}/ack`, { token: ADMIN, json: { comment: '  ' } })).body.message).toMatch(
      /body\.comment: say what was done/,
    );
    expect((await call('POST', '/alarms/999/ack', { token: ADMIN, json: { comment: 'seen' } })).status).toBe(404);
    const acked = await call('POST', `/alarms/${id}/ack`, { token: ADMIN, json: { comment: '已电话通知企业' } });
    expect(acked.status).toBe(201);
    expect((await stream.next(3))[2]).toMatchObject({ type: 'alarm', event: 'acknowledged', alarm: { id } });
    const [listed] = (await call('GET', '/alarms?type=exceedance', { token: READ })).body;
    expect(listed.ack).toEqual({ by: 'ops', at: acked.body.ack.at, comment: '已电话通知企业' });
  });

  it('ends open event streams when the service stops', async () => {
    const { c, base } = await apiCloud();
    const stream = await events(base, READ);
    await c.stop();
    await expect(stream.next(1)).rejects.toThrow('event stream ended');
  });

  it('reports a day per outlet as JSON and as CSV', async () => {
    const { c, call } = await start();
    const client = await rawClient(c.cloud.tcp!.address.port);
    cleanup.push(async () => client.close());
    // All four factors for hours 0-11, one of them flagged D at hour 1; COD over 50 at hours 2 and 3.
    const frames = Array.from({ length: 12 }, (_, h) =>
      hourFrame(h, {
        w01018: { Avg: h === 2 || h === 3 ? '60' : '20', Flag: 'N' },
        w21003: { Avg: '1', Flag: h === 1 ? 'D' : 'N' },
        w01001: { Avg: '7', Flag: 'N' },
        w00000: { Avg: '10', Flag: 'N' },
      }),
    );
    client.socket.write(frames.join(''));
    await client.received(12);
    const report = (await call('GET', '/report?day=2026-11-20', { token: READ })).body;
    expect(report.outlets[0]).toEqual({
      enterprise: '示例化工有限公司',
      outlet: 'WS-01',
      mn: WATER_MN,
      // Assessed: the three factors with a limit (flow has none). 24 x 3 = 72 hours expected, 12 x 3 = 36
      // received, 35 valid (NH3-N at hour 1 is D).
      expected: 72,
      received: 36,
      valid: 35,
      transmissionRate: 0.5,
      validityRate: 35 / 36,
      effectivenessRate: 35 / 72,
      hoursMissing: 12,
      hoursExceeding: 2,
      // The rules' clock is the real one, long after 2026-11-20: every hour came after it was due.
      hoursBackfilled: 12,
      manualResults: 0,
      // No record carried a Cou.
      emissions: [],
    });
    expect(report.enterprises[0]).toEqual({
      enterprise: '示例化工有限公司',
      outlets: 1,
      expected: 72,
      received: 36,
      valid: 35,
      transmissionRate: 0.5,
      validityRate: 35 / 36,
      effectivenessRate: 35 / 72,
      manualResults: 0,
      emissions: [],
    });
    const csv = await call('GET', '/report.csv?day=2026-11-20&lang=en', { token: READ });
    expect(csv.type).toBe('text/csv; charset=utf-8');
    expect(csv.body.split('\r\n').slice(0, 2)).toEqual([
      '\uFEFFday,enterprise,outlet,MN,transmission rate (%),validity rate (%),effectiveness rate (%),' +
        'hours missing,hours exceeding,hours back-filled,manual results',
      `2026-11-20,示例化工有限公司,WS-01,${WATER_MN},50.0,97.2,48.6,12,2,12,0`,
    ]);
    // The month: the water outlet from its first hour on record, 11-20 00:00, to the end of November
    // (the rules' clock is the real one): 11 x 24 = 264 hours x 3 = 792 expected, 36 received (4.5 %),
    // 35 valid (97.2 %, 35/792 = 4.4 %); 264 - 12 = 252 hours missing. The gas outlet, never heard and with
    // no monitoredSince, owes all of November: 720 hours missing, rates 0. Then a line per enterprise.
    const month = await call('GET', '/report.csv?month=2026-11&lang=zh', { token: READ });
    expect(month.body.split('\r\n').slice(1, 5)).toEqual([
      `2026-11,示例化工有限公司,WS-01,${WATER_MN},4.5,97.2,4.4,252,2,12,0`,
      `2026-11,示例电厂,DA-01,${GAS_MN},0.0,0.0,0.0,720,0,0,0`,
      '2026-11,示例化工有限公司,(全部排口),,4.5,97.2,4.4,,,,0',
      '2026-11,示例电厂,(全部排口),,0.0,0.0,0.0,,,,0',
    ]);
    expect((await call('GET', '/report?day=20261120', { token: READ })).body.message).toMatch(
      /query\.day: day is YYYY-MM-DD/,
    );
  });
});

describe('daily report line', () => {
  it(
    'counts only hours that are over and outside shutdowns as ' + 'missing, and quotes CSV fields that need it',
    async () => {
      const [station] = await testStations();
      const parsed = StationSchema.parse({ ...station, enterprise: '示例化工, "南厂"' });
      const line = outletPeriod({
        station: parsed,
        from: T0,
        to: T0 + 24 * H,
        hours: [],
        shutdowns: [{ from: '2026-11-20T00:00:00+08:00', to: '2026-11-20T02:00:00+08:00', reason: '停产' }],
        now: T0 + 5 * H + 1,
        rules: { manualCountsValid: false },
      });
      // Hours 0-1 are a shutdown, 2-4 are over and empty, 5 onwards not over yet.
      expect(line).toMatchObject({ hoursMissing: 3, hoursExceeding: 0, transmissionRate: 0, validityRate: 0 });
      expect(reportCsv('2026-11-20', [line], 'zh').split('\r\n')[1]).toBe(
        `2026-11-20,"示例化工, ""南厂""",WS-01,${WATER_MN},0.0,0.0,0.0,3,0,0,0`,
      );
    },
  );
});
