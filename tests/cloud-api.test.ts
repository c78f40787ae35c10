import { afterEach, describe, expect, it } from 'vitest';
import { rawClient, testStations, WATER_MN, WATER_PW } from './helpers/cloud-fixtures.js';
import { ADMIN, apiCloud, H, hourFrame, READ, T0 } from './helpers/dashboard-api.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function api(http: object = {}): ReturnType<typeof apiCloud> {
  const started = await apiCloud(http);
  cleanup.push(() => started.c.stop());
  return started;
}

describe('HTTP API', () => {
  it('serves its OpenAPI description without a token, with every route and its role', async () => {
    const { call } = await api();
    const { status, body } = await call('GET', '/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(Object.keys(body.paths).sort()).toEqual([
      '/alarm-events',
      '/alarms',
      '/alarms/{id}/ack',
      '/alarms/{id}/follow-ups',
      '/command-names',
      '/commands/{id}',
      '/enterprises',
      '/events',
      '/ingest/frames',
      '/ingest/records',
      '/ingest/stats',
      '/jurisdictions',
      '/jurisdictions.csv',
      '/overview',
      '/plans',
      '/plans/{id}/attachment',
      '/plans/{id}/pdf',
      '/plans/{id}/review',
      '/rates',
      '/registrations',
      '/registrations/{id}/review',
      '/report',
      '/report.csv',
      '/report.xlsx',
      '/session',
      '/session/login',
      '/session/logout',
      '/session/password',
      '/stations',
      '/stations/{mn}',
      '/stations/{mn}/commands',
      '/stations/{mn}/data',
      '/stations/{mn}/history',
      '/stations/{mn}/history.csv',
      '/stations/{mn}/history.xlsx',
      '/stations/{mn}/instruments',
      '/stations/{mn}/instruments/{factor}',
      '/stations/{mn}/instruments/{factor}/history',
      '/stations/{mn}/key',
      '/stations/{mn}/manual-results',
      '/stations/{mn}/manual-results.csv',
      '/stations/{mn}/marks',
      '/stations/{mn}/marks/audit',
      '/stations/{mn}/marks/{id}',
      '/stations/{mn}/om-records',
      '/stations/{mn}/plan',
      '/stations/{mn}/plan/completion',
      '/stations/{mn}/plans',
      '/stations/{mn}/rates',
      '/stations/{mn}/registrations',
      '/stations/{mn}/shutdowns',
      '/stations/{mn}/unexplained',
      '/supervision',
      '/supervision/{id}',
      '/supervision/{id}/answer',
      '/supervision/{id}/attachments/{n}',
      '/supervision/{id}/review',
      '/users',
      '/users/{name}',
      '/users/{name}/password',
      '/users/{name}/role',
      '/users/{name}/scope',
      '/whoami',
    ]);
    expect(body.paths['/stations/{mn}/data'].post['x-role']).toBe('admin');
    expect(body.paths['/stations/{mn}/data'].get.parameters.map((p: { name: string }) => p.name)).toEqual([
      'mn',
      'factor',
      'kind',
      'from',
      'to',
      'limit',
    ]);
  });

  it('needs a token, the admin role to write, and names the fields of a bad request', async () => {
    const { call } = await api();
    expect((await call('GET', '/stations')).status).toBe(401);
    expect((await call('GET', '/stations', { token: 'guess' })).status).toBe(401);
    expect((await call('POST', `/stations/${WATER_MN}/shutdowns`, { token: READ, json: {} })).status).toBe(403);
    const bad = await call('GET', `/stations/${WATER_MN}/data?kind=week`, { token: READ });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/query\.kind: .*query\.from/s);
    expect((await call('GET', '/stations/NOPE/data?from=0&to=1', { token: READ })).status).toBe(404);
  });

  it('names the requests it takes, the answers and the result codes as tables 9, 6 and 7 do', async () => {
    const { call } = await api();
    const { status, body } = await call('GET', '/command-names', { token: READ });
    expect(status).toBe(200);
    const names = body as Record<string, { cn?: string; code?: number; name: string }[]>;
    const by = (list: string, key: 'cn' | 'code', v: string | number) => names[list]!.find((x) => x[key] === v)?.name;
    expect(by('requests', 'cn', '1062')).toBe('设置实时数据间隔');
    expect(by('requests', 'cn', '2061')).toBe('取污染物小时数据');
    expect(by('answers', 'cn', '2061')).toBe('上传污染物小时数据');
    expect(by('answers', 'cn', '9011')).toBe('请求应答');
    expect(by('answers', 'cn', '9012')).toBe('执行结果');
    expect(by('qnRtn', 'code', 1)).toBe('准备执行请求');
    expect(by('exeRtn', 'code', 100)).toBe('没有数据');
    // Only what POST /stations/{mn}/commands takes: 9014, the platform's answer to an upload, is no request.
    expect(names['requests']!.map((r) => r.cn)).not.toContain('9014');
    expect(names['requests']!.map((r) => r.cn)).toContain('3020');
  });

  it('lists stations with their live status, and data by factor, kind and time range', async () => {
    const { c, call } = await api();
    const client = await rawClient(c.cloud.tcp!.address.port);
    cleanup.push(async () => client.close());
    client.socket.write(
      hourFrame(10, { w01018: { Avg: '20', Flag: 'N' }, w21003: { Avg: '1', Flag: 'N' } }) +
        hourFrame(11, { w01018: { Avg: '21', Flag: 'N' } }),
    );
    await client.received(2);
    const stations = (await call('GET', '/stations', { token: READ })).body;
    expect(stations.map((s: { mn: string; online: boolean; via: string | null }) => [s.mn, s.online, s.via])).toEqual([
      [WATER_MN, true, 'tcp'],
      ['0100000000A89000000000B2', false, null],
    ]);
    const data = await call(
      'GET',
      `/stations/${WATER_MN}/data?factor=w01018&kind=hour&from=2026-11-20T10:00:00%2B08:00&to=${T0 + 11 * H}`,
      { token: READ },
    );
    expect(data.body).toEqual([
      {
        mn: WATER_MN,
        factor: 'w01018',
        kind: 'hour',
        time: T0 + 10 * H,
        values: { Avg: 20 },
        flag: 'N',
        outlet: 'WS-01',
        // COD limit 50: (20 - 50) / 50 = -0.6, within it.
        judged: { value: 20, state: 'normal', limit: 50, multiple: -0.6 },
        // The rules' clock is the real one, long after 2026-11-20 10:00: the hour came after it was due.
        backfilled: { arrivedAt: expect.any(Number), closedAlarm: false },
      },
    ]);
  });

  it(
    'ingests raw frames and JSON records over HTTP, rejecting the bad ' + 'ones with their reason and keeping the rest',
    async () => {
      const { c, call } = await api();
      const good = hourFrame(1, { w01018: { Avg: '30', Flag: 'N' } });
      const badCrc = hourFrame(2, { w01018: { Avg: '31', Flag: 'N' } }).replace(/[0-9A-F]{4}\r\n$/, '0000\r\n');
      const wrongPw = hourFrame(3, { w01018: { Avg: '32', Flag: 'N' } }, 'nope00');
      const frames = await call('POST', '/ingest/frames', { token: ADMIN, text: good + badCrc + wrongPw });
      expect(frames.body.results.map((r: { ok: boolean; reason?: string }) => [r.ok, r.reason])).toEqual([
        [true, undefined],
        [false, 'bad-crc'],
        [false, 'bad-password'],
      ]);
      expect(frames.body.results[0].answer).toMatch(/CN=9014/);
      expect(frames.body.results[2].answer).toMatch(/QnRtn=3/);
      const records = await call('POST', '/ingest/records', {
        token: ADMIN,
        json: {
          packets: [
            {
              cn: '2061',
              st: '32',
              mn: WATER_MN,
              pw: WATER_PW,
              cp: { params: { DataTime: '20261120040000' }, factors: { w01018: { Avg: '33', Flag: 'N' } } },
            },
            { st: '32', mn: WATER_MN },
          ],
        },
      });
      expect(records.body.results[0]).toMatchObject({ ok: true, points: 1 });
      expect(records.body.results[1]).toMatchObject({
        ok: false,
        reason: 'bad-record',
        detail: expect.stringMatching(/packets\.1: cn:/),
      });
      const stored = await c.cloud.store.query({ mn: WATER_MN, kind: 'hour', from: T0, to: T0 + 5 * H });
      expect(stored.map((p) => p.values['Avg'])).toEqual([30, 33]);
      // The same counts as an operator sees them, with the connections of this process.
      const client = await rawClient(c.cloud.tcp!.address.port);
      cleanup.push(async () => client.close());
      const stats = await call('GET', '/ingest/stats', { token: READ });
      expect(stats.body).toMatchObject({
        packets: 3,
        stored: 2,
        points: 2,
        rejected: { 'bad-crc': 1, 'bad-password': 1, 'bad-record': 1 },
        tcpConnections: 1,
        webhookPending: 0,
      });
      expect(stats.body.uptimeSeconds).toBeGreaterThanOrEqual(0);
    },
  );

  it('stores manual entries with flag S, registers shutdown windows, and reports daily rates', async () => {
    const { c, call } = await api();
    const client = await rawClient(c.cloud.tcp!.address.port);
    cleanup.push(async () => client.close());
    // 20 hours from the logger, 2 of them flagged D (analyzer fault); 02:00-04:00 the plant was shut down.
    const frames = [0, 1, ...Array.from({ length: 18 }, (_, i) => i + 4)].map((h) =>
      hourFrame(h, { w01018: { Avg: '20', Flag: h === 5 || h === 6 ? 'D' : 'N' } }),
    );
    client.socket.write(frames.join(''));
    await client.received(20);
    const window = { from: '2026-11-20T02:00:00+08:00', to: '2026-11-20T04:00:00+08:00', reason: '停产检修' };
    expect((await call('POST', `/stations/${WATER_MN}/shutdowns`, { token: ADMIN, json: window })).status).toBe(201);
    expect((await call('GET', `/stations/${WATER_MN}/shutdowns`, { token: READ })).body).toEqual([window]);
    expect(
      (await call('POST', `/stations/${WATER_MN}/shutdowns`, { token: ADMIN, json: { ...window, to: window.from } }))
        .body.message,
    ).toMatch(/body\.to: a shutdown window ends after it starts/);

    const manual = await call('POST', `/stations/${WATER_MN}/data`, {
      token: ADMIN,
      json: { kind: 'hour', time: '2026-11-20T22:00:00+08:00', factors: { w01018: { Avg: 19.5 } } },
    });
    expect(manual.status).toBe(201);
    const [entered] = await c.cloud.store.query({
      mn: WATER_MN,
      kind: 'hour',
      factor: 'w01018',
      from: T0 + 22 * H,
      to: T0 + 23 * H,
    });
    expect(entered).toMatchObject({ values: { Avg: 19.5 }, flag: 'S' });

    const rates = (await call('GET', `/stations/${WATER_MN}/rates?day=2026-11-20`, { token: READ })).body;
    // Expected 22 (24 less the 2 shutdown hours); received 21 (20 + the manual one); valid 18 (not D, not S).
    const cod = rates.factors.find((f: { factor: string }) => f.factor === 'w01018');
    expect(cod).toMatchObject({
      factor: 'w01018',
      expected: 22,
      received: 21,
      valid: 18,
      transmissionRate: 21 / 22,
      validityRate: 18 / 21,
    });
    expect(cod.effectivenessRate).toBeCloseTo(18 / 22, 12);
    // The month: monitoring began with the first hour on record (11-20 00:00), and November ended
    // (the rules' clock is the real one): 11 days x 24 = 264 hours, less the 2 shutdown hours = 262.
    const month = (await call('GET', `/stations/${WATER_MN}/rates?month=2026-11`, { token: READ })).body;
    expect(month.factors.find((f: { factor: string }) => f.factor === 'w01018')).toMatchObject({
      expected: 262,
      received: 21,
      valid: 18,
    });
    expect(
      (await call('GET', `/stations/${WATER_MN}/rates?month=2026-11&day=2026-11-20`, { token: READ })).body.message,
    ).toMatch(/give one of day=YYYY-MM-DD, month=YYYY-MM, quarter=YYYY-Qn or year=YYYY/);

    // The registered window keeps its hours out of the missing-hour check too; hour 23 is the only gap.
    await c.cloud.rules.checkMissing(T0 + 24 * H + 30 * 60_000);
    const gaps = c.cloud.alarms
      .list({ mn: WATER_MN, type: 'missing-hour', from: T0, to: T0 + 24 * H })
      .filter((a) => a.factor === 'w01018');
    expect(gaps.map((a) => (a.openedAt - T0) / H)).toEqual([23]);
  });

  it('lists alarms with filters', async () => {
    const { c, call } = await api();
    c.cloud.rules.checkOffline(Date.now() + 20 * 60_000);
    const all = (await call('GET', '/alarms?type=offline&state=open', { token: READ })).body;
    expect(all.map((a: { mn: string }) => a.mn).sort()).toEqual((await testStations()).map((s) => s.mn).sort());
    expect((await call('GET', `/alarms?mn=${WATER_MN}`, { token: READ })).body).toHaveLength(1);
    expect((await call('GET', '/alarms?state=closed', { token: READ })).body).toEqual([]);
  });

  it('refuses bodies over the limit and requests over the rate', async () => {
    const { call } = await api({ bodyLimit: 2048, rate: 0.01, burst: 3 });
    expect((await call('POST', '/ingest/frames', { token: ADMIN, text: 'x'.repeat(4096) })).status).toBe(413);
    expect((await call('GET', '/stations', { token: READ })).status).toBe(200);
    expect((await call('GET', '/stations', { token: READ })).status).toBe(200);
    expect((await call('GET', '/stations', { token: READ })).status).toBe(200);
    expect((await call('GET', '/stations', { token: READ })).status).toBe(429);
  });
});
