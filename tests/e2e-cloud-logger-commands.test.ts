import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { LoggerConfigSchema, startLoggers } from '../simulators/logger/index.js';
import { rawClient, testStations, WATER_MN, WATER_PW, type TestCloud } from './helpers/cloud-fixtures.js';
import { until } from './helpers/common.js';
import { ADMIN, apiCloud, hourFrame, READ, type Call, type Json } from './helpers/dashboard-api.js';
import { warpedClock } from './helpers/edge-agent.js';
import { frames, wireTap } from './helpers/wire-tap.js';

/**
 * The cloud's command API (POST /stations/:mn/commands) against the logger simulator over a real TCP
 * connection: the analyzer control commands 3011-3019 (HJ 212-2017 C.30-C.38) and 1072 (C.9), each sent
 * from the API and its answers read back from GET /commands/:id as the cloud recorded them.
 */
const START = Date.parse('2026-11-20T09:59:00+08:00');

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ready = ['9011', { params: { QnRtn: '1' }, factors: {} }];
const done = ['9012', { params: { ExeRtn: '1' }, factors: {} }];
const params = (p: Record<string, string>) => ({ params: p, factors: {} });

async function setup(): Promise<{
  call: Call;
  tap: Awaited<ReturnType<typeof wireTap>>;
  rejected: () => Record<string, number>;
  c: TestCloud;
}> {
  const clock = warpedClock(60, START);
  const stations = await testStations();
  const { c, call } = await apiCloud(
    {},
    { now: clock, clock: { wall: clock, mono: () => performance.now() } },
    stations,
  );
  cleanups.push(() => c.stop());
  const tap = await wireTap(c.cloud.tcp!.address.port);
  cleanups.push(() => tap.close());
  const config = LoggerConfigSchema.parse({
    port: tap.port,
    stations: [{ mn: WATER_MN, pw: WATER_PW, version: '2017', outlet: 'water' }],
    intervals: { rtd: 3600, minute: 1, hour: false, day: false },
    tick: 20,
  });
  const fleet = await startLoggers(config, { clock: { now: clock }, log: pino({ level: 'silent' }) });
  cleanups.push(() => fleet.stop());
  // A request is addressed with the PW the logger last used: wait until the cloud has heard it.
  await until(() => frames(tap.up).some((f) => f.includes('CN=2051')), 'a first upload', 20_000);
  await until(
    async () => (await call('GET', `/stations/${WATER_MN}`, { token: READ })).body.via === 'tcp',
    'station seen',
  );
  return { call, tap, rejected: () => c.cloud.ingest.stats.rejected, c };
}

/** Sends one request from the API and waits for the cloud to record its end. */
async function command(call: Call, body: Record<string, unknown>): Promise<Json> {
  const sent = await call('POST', `/stations/${WATER_MN}/commands`, { token: ADMIN, json: body });
  expect(sent.status).toBe(201);
  expect(sent.body.state).toBe('sent');
  let record: Json;
  await until(
    async () => {
      record = (await call('GET', `/commands/${sent.body.id}`, { token: READ })).body;
      return record.state !== 'sent' && record.state !== 'executing';
    },
    `the answers to ${String(body['cn'])}`,
    10_000,
  );
  return record;
}
const answered = (r: Json) => r.answers.map((a: Json) => [a.cn, a.cp]);

describe('cloud command API → logger simulator over TCP (HJ 212-2017 appendix C)', () => {
  it(
    '3011-3019: 9011 QnRtn=1, the data where C.34-C.38 have the ' + 'logger send it, then 9012, recorded per request',
    async () => {
      const { call } = await setup();
      // C.30-C.33: 9011 then 9012, no data.
      for (const cn of ['3011', '3012', '3013', '3014']) {
        const r = await command(call, { cn, PolId: 'w01018' });
        expect([r.state, r.result?.code, answered(r)]).toEqual(['done', 1, [ready, done]]);
      }
      // C.34: the retained sample's time and vase, one vase more for each.
      const vase1 = await command(call, { cn: '3015' });
      expect(answered(vase1)).toEqual([
        ready,
        ['3015', params({ DataTime: expect.stringMatching(/^202611\d{8}$/), VaseNo: '1' })],
        done,
      ]);
      const vase2 = await command(call, { cn: '3015' });
      expect(answered(vase2)[1][1].params.VaseNo).toBe('2');
      // C.35 then C.36: the period set is the one read back; another factor's is still the default.
      const set = await command(call, { cn: '3016', PolId: 'w21003', CstartTime: '013000', Ctime: 4 });
      expect([set.state, set.result?.code, answered(set)]).toEqual(['done', 1, [ready, done]]);
      const get = await command(call, { cn: '3017', PolId: 'w21003' });
      expect(answered(get)).toEqual([
        ready,
        ['3017', params({ PolId: 'w21003', CstartTime: '013000', CTime: '4' })],
        done,
      ]);
      const other = await command(call, { cn: '3017', PolId: 'w01018' });
      expect(answered(other)[1]).toEqual(['3017', params({ PolId: 'w01018', CstartTime: '000000', CTime: '2' })]);
      // C.37: 40 minutes from sampling to sample out.
      const stime = await command(call, { cn: '3018', PolId: 'w01018' });
      expect(answered(stime)).toEqual([ready, ['3018', params({ PolId: 'w01018', Stime: '40' })], done]);
      // C.38: NH3-N is the water outlet's second factor: the MN ending in 02.
      const id = await command(call, { cn: '3019', PolId: 'w21003' });
      expect(answered(id)).toEqual([
        ready,
        ['3019', { params: { PolId: 'w21003' }, factors: { w21003: { SN: '0100000000A8900000000002' } } }],
        done,
      ]);
      // SO2 has no analyzer at a water outlet: a condition error (table 6, ExeRtn=3).
      const none = await command(call, { cn: '3011', PolId: 'a21026' });
      expect([none.state, none.result, answered(none)]).toEqual([
        'done',
        { code: 3, meaning: expect.stringContaining('命令请求条件错误') },
        [ready, ['9012', params({ ExeRtn: '3' })]],
      ]);
    },
  );

  it(
    '1072: 9011 and 9012 under the old PW, every frame after them ' + 'under the new one, which the cloud takes',
    async () => {
      const { call, tap, rejected, c } = await setup();
      const r = await command(call, { cn: '1072', NewPW: 'n3wPW1' });
      // The record (read role) never shows the new PW, the wire carries it.
      expect(r.cp).toEqual({ params: { NewPW: '(new PW)' }, factors: {} });
      expect(frames(tap.down).find((f) => f.includes(`QN=${r.qn as string};`))).toContain('CP=&&NewPW=n3wPW1&&');
      expect([r.state, r.result?.code, answered(r)]).toEqual(['done', 1, [ready, done]]);
      const up = frames(tap.up);
      const ofRequest = up.filter((f) => f.includes(`QN=${r.qn as string};`));
      expect(ofRequest.map((f) => /CN=(\d{4});PW=(\w+);/.exec(f)!.slice(1))).toEqual([
        ['9011', WATER_PW],
        ['9012', WATER_PW],
      ]);
      const at9012 = up.indexOf(ofRequest[1]!);
      await until(
        () =>
          frames(tap.up)
            .slice(at9012 + 1)
            .some((f) => f.includes('CN=2051')),
        'an upload after the change',
      );
      // Resends of uploads framed before the change (their QN went up before the 9012) keep their bytes.
      const qnOf = (f: string) => /QN=(\d+);/.exec(f)?.[1];
      const earlier = new Set(up.slice(0, at9012).map(qnOf));
      const after = frames(tap.up)
        .slice(at9012 + 1)
        .filter((f) => f.includes('CN=2051') && !earlier.has(qnOf(f)));
      expect(after.length).toBeGreaterThan(0);
      for (const f of after) expect(f).toContain(';PW=n3wPW1;');
      // The cloud took the new PW on the 9012: the uploads under it are stored and answered 9014, none refused.
      const minutes = async () =>
        (await c.cloud.store.query({ mn: WATER_MN, kind: 'minute', factor: 'w01018', from: 0, to: 8.64e15 })).length;
      const before = await minutes();
      await until(async () => (await minutes()) >= before + 2, 'minutes under the new PW stored', 20_000);
      const answeredQns = new Set(
        frames(tap.down)
          .filter((f) => f.includes('CN=9014'))
          .map(qnOf),
      );
      expect(after.filter((f) => answeredQns.has(qnOf(f))).length).toBeGreaterThan(0);
      expect(rejected()).toEqual({});
      // The old PW is still taken for the grace period (keyGraceSeconds, 600 s of the cloud's clock): a resend.
      const client = await rawClient(c.cloud.tcp!.address.port);
      cleanups.push(() => client.close());
      client.socket.write(hourFrame(9, { w01018: { Avg: '30.0', Flag: 'N' } }, WATER_PW));
      expect((await client.received(1)).map((p) => p.cn)).toEqual(['9014']);
      client.socket.write(hourFrame(10, { w01018: { Avg: '30.0', Flag: 'N' } }, 'wrong1'));
      expect((await client.received(2)).map((p) => [p.cn, p.cp.params['QnRtn']])[1]).toEqual(['9011', '3']);
    },
  );
});
