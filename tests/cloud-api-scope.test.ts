import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../protocol/index.js';
import { GAS_MN, GAS_PW, WATER_MN } from './helpers/cloud-fixtures.js';
import {
  ADMIN,
  CHEM,
  CHEM_NAME,
  H,
  hourFrame,
  READ,
  scopedCloud,
  T0,
  WEST,
  type Json,
} from './helpers/dashboard-api.js';

/**
 * Account scopes on every route: an enterprise user sees its own outlets, an authority its region's, the
 * centre all of them; lists are shorter, a named station outside the scope is refused, and judging
 * (acknowledging, following up, marking) and commanding loggers is the centre's and the authorities'.
 */
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function start() {
  const started = await scopedCloud();
  cleanup.push(() => started.c.stop());
  return started;
}

let qn = 0;
/** A 2061 hour of the gas station for an hour of 2026-11-20; O2 at the reference 6 %, so converted = measured. */
const gasHour = (hour: number, so2: number): string =>
  encodeFrame({
    version: '2017',
    qn: `20261120000000${String(++qn % 1000).padStart(3, '0')}`,
    st: '31',
    cn: '2061',
    pw: GAS_PW,
    mn: GAS_MN,
    flag: 5,
    cp: {
      params: { DataTime: `20261120${String(hour).padStart(2, '0')}0000` },
      factors: { a21026: { Avg: String(so2), Flag: 'N' }, a19001: { Avg: '6', Flag: 'N' } },
    },
  });

/** Reads server-sent events of one token until one matches, returning all read so far. */
async function eventsUntil(base: string, token: string) {
  const ac = new AbortController();
  const res = await fetch(`${base}/events`, { headers: { authorization: `Bearer ${token}` }, signal: ac.signal });
  const reader = res.body!.getReader();
  const got: Json[] = [];
  let buffer = '';
  cleanup.push(async () => ac.abort());
  return async (done: (e: Json) => boolean): Promise<Json[]> => {
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) throw new Error('event stream ended');
      buffer += Buffer.from(value).toString();
      for (let end; (end = buffer.indexOf('\n\n')) >= 0; buffer = buffer.slice(end + 2)) {
        const data = /^data: (.*)$/m.exec(buffer.slice(0, end));
        if (!data) continue;
        got.push(JSON.parse(data[1]!));
        if (done(got.at(-1))) return got;
      }
    }
  };
}

describe('account scopes on the API', () => {
  it('lists, reports and streams only what the account sees, and refuses a station outside it by name', async () => {
    const { base, call } = await start();
    const chemEvents = await eventsUntil(base, CHEM);
    // Both stations exceed (COD 75 > 50, SO2 80 > 35) in hour 10: one exceedance each. Gas first on the wire.
    const posted = await call('POST', '/ingest/frames', {
      token: ADMIN,
      text: gasHour(10, 80) + hourFrame(10, { w01018: { Avg: '75', Flag: 'N' } }),
    });
    expect(posted.body.results.map((r: Json) => r.ok)).toEqual([true, true]);

    // The enterprise's stream carries its own station's events only: the gas one came first and is not there.
    const heard = await chemEvents((e) => e.type === 'data' && e.mn === WATER_MN);
    expect(heard.map((e) => (e.type === 'alarm' ? e.alarm.mn : e.mn))).toEqual([WATER_MN, WATER_MN]);

    const mns = async (path: string, token: string) =>
      ((await call('GET', path, { token })).body as Json[]).map((x) => x.mn);
    expect(await mns('/stations', READ)).toEqual([WATER_MN, GAS_MN]);
    expect(await mns('/stations', CHEM)).toEqual([WATER_MN]);
    expect(await mns('/stations', WEST)).toEqual([GAS_MN]);
    expect(((await call('GET', '/enterprises', { token: CHEM })).body as Json[]).map((e) => e.enterprise)).toEqual([
      CHEM_NAME,
    ]);
    expect(await mns('/alarms?type=exceedance', READ)).toEqual([GAS_MN, WATER_MN]);
    expect(await mns('/alarms?type=exceedance', CHEM)).toEqual([WATER_MN]);
    expect(await mns('/alarm-events?type=exceedance', WEST)).toEqual([GAS_MN]);
    // Naming another's station in the filter gives nothing rather than its alarms.
    expect(await mns(`/alarms?mn=${GAS_MN}`, CHEM)).toEqual([]);

    // A route of a named station outside the scope: 403, saying whose it is not.
    const refused = await call('GET', `/stations/${GAS_MN}/data?kind=hour&from=${T0}&to=${T0 + 24 * H}`, {
      token: CHEM,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('API_OUT_OF_SCOPE');
    expect(refused.body.message).toBe(
      `station ${GAS_MN} is not yours to see or change: chem-system sees only enterprise ${CHEM_NAME}`,
    );
    for (const path of [
      `/stations/${GAS_MN}/history?kind=hour&from=${T0}&to=${T0 + 24 * H}`,
      `/stations/${GAS_MN}/rates?day=2026-11-20`,
      `/stations/${GAS_MN}/shutdowns`,
      `/stations/${GAS_MN}/commands`,
      `/stations/${GAS_MN}/marks`,
    ])
      expect([path, (await call('GET', path, { token: CHEM })).status]).toEqual([path, 403]);
    const own = await call('GET', `/stations/${WATER_MN}/data?kind=hour&from=${T0}&to=${T0 + 24 * H}`, {
      token: CHEM,
    });
    expect(own.body.map((p: Json) => [p.factor, p.values.Avg])).toEqual([['w01018', 75]]);

    // The overview and the report are the account's: one outlet, one enterprise.
    const overview = (await call('GET', '/overview', { token: CHEM })).body;
    expect([overview.stations, overview.exceedingNow, overview.openAlarms.exceedance]).toEqual([1, [WATER_MN], 1]);
    expect((await call('GET', '/overview', { token: READ })).body.stations).toBe(2);
    const report = (await call('GET', '/report?day=2026-11-20', { token: WEST })).body;
    expect(report.outlets.map((o: Json) => o.mn)).toEqual([GAS_MN]);
    expect(report.enterprises.map((e: Json) => e.enterprise)).toEqual(['示例电厂']);
    const csv = (await call('GET', '/report.csv?day=2026-11-20', { token: WEST })).body as string;
    expect(csv).toContain('示例电厂');
    expect(csv).not.toContain(CHEM_NAME);
    // This process's counters are the centre's.
    const stats = await call('GET', '/ingest/stats', { token: CHEM });
    expect([stats.status, stats.body.code]).toEqual([403, 'API_CENTRE_ONLY']);
  });

  it('leaves judging and commanding to the centre and the authority of the station', async () => {
    const { call } = await start();
    await call('POST', '/ingest/frames', {
      token: ADMIN,
      text: gasHour(10, 80) + hourFrame(10, { w01018: { Avg: '75', Flag: 'N' } }),
    });
    const alarms = (await call('GET', '/alarms?type=exceedance', { token: READ })).body as Json[];
    const water = alarms.find((a) => a.mn === WATER_MN).id;
    const gas = alarms.find((a) => a.mn === GAS_MN).id;

    // An enterprise admin does not acknowledge its own alarm, nor command its logger, nor open a shutdown window.
    const ack = await call('POST', `/alarms/${water}/ack`, { token: CHEM, json: { comment: '已处理' } });
    expect([ack.status, ack.body.code, ack.body.message]).toEqual([
      403,
      'API_CENTRE_ONLY',
      'acknowledging an alarm is reviewed by the authority; chem-system is of enterprise 示例化工有限公司',
    ]);
    const follow = await call('POST', `/alarms/${water}/follow-ups`, {
      token: CHEM,
      json: { state: 'handled', comment: '已处理' },
    });
    expect(follow.status).toBe(403);
    const command = await call('POST', `/stations/${WATER_MN}/commands`, { token: CHEM, json: { cn: '1011' } });
    expect([command.status, command.body.code]).toEqual([403, 'API_CENTRE_ONLY']);
    const shutdown = await call('POST', `/stations/${WATER_MN}/shutdowns`, {
      token: CHEM,
      json: { from: '2026-11-21T00:00:00+08:00', to: '2026-11-22T00:00:00+08:00', reason: '检修' },
    });
    expect([shutdown.status, shutdown.body.code]).toEqual([403, 'API_CENTRE_ONLY']);
    // It reads its own alarm's trail, not another's.
    expect((await call('GET', `/alarms/${water}/follow-ups`, { token: CHEM })).status).toBe(200);
    expect((await call('GET', `/alarms/${gas}/follow-ups`, { token: CHEM })).status).toBe(403);

    // The authority acknowledges its region's alarm and not another region's.
    const other = await call('POST', `/alarms/${water}/ack`, { token: WEST, json: { comment: '已通知' } });
    expect([other.status, other.body.code]).toEqual([403, 'API_OUT_OF_SCOPE']);
    const mine = await call('POST', `/alarms/${gas}/ack`, { token: WEST, json: { comment: '已电话通知企业' } });
    expect([mine.status, mine.body.ack.by]).toEqual([201, 'west-bureau']);

    // The OpenAPI document says who beyond the role.
    const doc = (await call('GET', '/openapi.json')).body;
    expect(doc.paths['/alarms/{id}/ack'].post['x-scope']).toBe('centre, authority');
    expect(doc.paths['/ingest/stats'].get['x-scope']).toBe('centre');
    expect(doc.paths['/alarms'].get['x-scope']).toBeUndefined();
  });

  it(
    "takes an enterprise system's own packets over HTTP and " + "refuses another's, keeping the ones around it",
    async () => {
      const { c, call } = await start();
      const posted = await call('POST', '/ingest/frames', {
        token: CHEM,
        text:
          hourFrame(11, { w01018: { Avg: '20', Flag: 'N' } }) +
          gasHour(11, 10) +
          hourFrame(12, { w01018: { Avg: '21', Flag: 'N' } }),
      });
      expect(posted.body.results.map((r: Json) => [r.mn, r.ok, r.reason ?? null])).toEqual([
        [WATER_MN, true, null],
        [GAS_MN, false, 'out-of-scope'],
        [WATER_MN, true, null],
      ]);
      const stored = await call('GET', `/stations/${WATER_MN}/data?kind=hour&from=${T0}&to=${T0 + 24 * H}`, {
        token: READ,
      });
      expect(stored.body.map((p: Json) => p.values.Avg)).toEqual([20, 21]);
      const gas = await call('GET', `/stations/${GAS_MN}/data?kind=hour&from=${T0}&to=${T0 + 24 * H}`, { token: READ });
      expect(gas.body).toEqual([]);
      const stats = (await call('GET', '/ingest/stats', { token: READ })).body;
      expect(stats.rejected['out-of-scope']).toBe(1);
      expect(c.lines.some((l) => l.reason === 'out-of-scope' && l.mn === GAS_MN && l.who === 'chem-system')).toBe(true);
    },
  );
});
