import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../cloud/index.js';
import { encodeFrame, type Packet } from '../protocol/index.js';
import { LoggerConfigSchema, startLoggers, type LoggerConfigInput } from '../simulators/logger/index.js';
import { GAS_MN, rawClient, startTestCloud, WATER_MN, WATER_PW, type TestCloud } from './helpers/cloud-fixtures.js';
import { until } from './helpers/common.js';
import { ADMIN, READ, type Json } from './helpers/dashboard-api.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The cloud's wall clock, stepped by the tests: 02:00:05.250 UTC is 10:00:05.250 in China (UTC+8). */
const T0 = Date.parse('2026-11-20T02:00:05.250Z');

interface Api {
  c: TestCloud;
  clock: { wall: number };
  call(
    method: string,
    path: string,
    opts?: { token?: string; json?: unknown },
  ): Promise<{ status: number; body: Json }>;
}

async function api(extra: Parameters<typeof startTestCloud>[0] = {}): Promise<Api> {
  const clock = { wall: T0 };
  const c = await startTestCloud(
    {
      http: {
        host: '127.0.0.1',
        port: 0,
        tokens: [
          { name: 'viewer', sha256: sha256(READ), role: 'read' },
          { name: 'ops', sha256: sha256(ADMIN), role: 'admin' },
        ],
      },
      ...extra,
    },
    undefined,
    { clock: { wall: () => clock.wall, mono: () => performance.now() } },
  );
  cleanup.push(() => c.stop());
  const base = `http://127.0.0.1:${c.cloud.http!.address.port}`;
  return {
    c,
    clock,
    async call(method, path, opts = {}) {
      const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? ADMIN}` };
      if (opts.json !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(base + path, {
        method,
        headers,
        ...(opts.json !== undefined && { body: JSON.stringify(opts.json) }),
      });
      return { status: res.status, body: await res.json() };
    },
  };
}

/** The water station's logger simulator, its clock standing at 09:00 China time until the cloud's 1012 sets it. */
async function logger(
  a: Api,
  over: Partial<LoggerConfigInput> = {},
): Promise<Awaited<ReturnType<typeof startLoggers>>> {
  const config = LoggerConfigSchema.parse({
    port: a.c.cloud.tcp?.address.port ?? 1,
    stations: [{ mn: WATER_MN, pw: WATER_PW }],
    tick: 20,
    ...over,
  });
  const fleet = await startLoggers(config, {
    clock: { now: () => Date.parse('2026-11-20T09:00:00+08:00') },
    log: pino({ level: 'silent' }),
  });
  cleanup.push(() => fleet.stop());
  // At connect it asks for the time (1013); the cloud's 1012 (SystemTime 20261120100005) is answered 9011, 9012.
  await until(() => a.c.lines.filter((l) => l['reason'] === 'command-answer').length === 2, 'the 1012 answered');
  return fleet;
}

/** Posts a request, then waits until its record is done; the record as GET /commands/:id shows it. */
async function executed(a: Api, body: object): Promise<Json> {
  const posted = await a.call('POST', `/stations/${WATER_MN}/commands`, { json: body });
  expect(posted.status, JSON.stringify(posted.body)).toBe(201);
  let record: Json;
  await until(
    async () => {
      record = (await a.call('GET', `/commands/${posted.body.id}`)).body;
      return record.state === 'done';
    },
    `command ${JSON.stringify(body)} done`,
  );
  return record;
}

const cp = (params: Record<string, string>) => ({ params, factors: {} });

describe.each(['tcp', 'mqtt'] as const)('table-9 requests from the API to a logger simulator over %s', (via) => {
  const start = async (): Promise<{ a: Api; fleet: Awaited<ReturnType<typeof startLoggers>> }> => {
    if (via === 'tcp') {
      const a = await api();
      return { a, fleet: await logger(a) };
    }
    const a = await api({ mqtt: { mode: 'embedded', host: '127.0.0.1', port: 0 }, tcp: undefined });
    const url = `mqtt://127.0.0.1:${a.c.cloud.mqtt!.address!.port}`;
    return { a, fleet: await logger(a, { mqtt: { url, secret: 'water-secret' } }) };
  };

  it(
    '1011 get time: 9011 QnRtn=1, the 1011 upload with SystemTime, ' + '9012 ExeRtn=1; QNs unique per station',
    async () => {
      const { a } = await start();
      const posted = await a.call('POST', `/stations/${WATER_MN}/commands`, { json: { cn: '1011' } });
      expect(posted.status).toBe(201);
      // QN: the cloud clock in China time, YYYYMMDDhhmmsszzz (HJ 212-2017 table 4); the cloud's 1012 at
      // connect took 20261120100005250 on the same clock reading, so this request takes the next millisecond.
      expect(posted.body).toMatchObject({ mn: WATER_MN, cn: '1011', qn: '20261120100005251', by: 'ops', via });
      expect(posted.body).toMatchObject({ sentAt: T0, deadline: T0 + 10_000, state: 'sent', answers: [] });
      let record: Json;
      await until(async () => {
        record = (await a.call('GET', `/commands/${posted.body.id}`)).body;
        return record.state === 'done';
      }, '1011 done');
      // The logger took the cloud's 1012 (whole seconds), so it reads 10:00:05 exactly.
      expect(record.answers.map((x: Json) => [x.cn, x.cp])).toEqual([
        ['9011', cp({ QnRtn: '1' })],
        ['1011', cp({ SystemTime: '20261120100005' })],
        ['9012', cp({ ExeRtn: '1' })],
      ]);
      expect(record.result).toEqual({ code: 1, meaning: 'Executed successfully (执行成功)' });
      // Same millisecond on the cloud clock: the next request to the station takes the next one.
      const set = await executed(a, { cn: '1062', RtdInterval: 60 });
      expect(set.qn).toBe('20261120100005252');
      expect(set.answers.map((x: Json) => x.cn)).toEqual(['9011', '9012']);
      expect(set.result.code).toBe(1);
      // C.1: the logger takes its new upload timeout and retries.
      const timeouts = await executed(a, { cn: '1000', OverTime: 5, ReCount: 3 });
      expect(timeouts.answers.map((x: Json) => [x.cn, x.cp])).toEqual([
        ['9011', cp({ QnRtn: '1' })],
        ['9012', cp({ ExeRtn: '1' })],
      ]);
      const get = await executed(a, { cn: '1061' });
      expect(get.answers[1]).toMatchObject({ cn: '1061', cp: cp({ RtdInterval: '60' }) });
      // C.42: field information of the COD analyzer, answered with its 3020 upload.
      const info = await executed(a, { cn: '3020', PolId: 'w01018', InfoId: 'i12001' });
      expect(info.answers.map((x: Json) => x.cn)).toEqual(['9011', '3020', '9012']);
      expect(info.answers[1].cp).toMatchObject({
        params: { DataTime: '20261120100005' },
        info: [{ polId: 'w01018', codes: { i12001: { Info: '0' } } }],
      });
      const list = (await a.call('GET', `/stations/${WATER_MN}/commands`, { token: READ })).body;
      expect(list.map((r: Json) => [r.cn, r.state])).toEqual([
        ['3020', 'done'],
        ['1061', 'done'],
        ['1000', 'done'],
        ['1062', 'done'],
        ['1011', 'done'],
      ]);
    },
  );

  it('2061 history: the hours arrive, are stored as data and attached to the request', async () => {
    const { a } = await start();
    const record = await executed(a, { cn: '2061', BeginTime: '20261120070000', EndTime: '20261120090000' });
    // 07:00, 08:00 and 09:00 China time: each hour over by the logger's 10:00:05.
    expect(record.answers.map((x: Json) => [x.cn, x.cp.params['DataTime'] ?? null])).toEqual([
      ['9011', null],
      ['2061', '20261120070000'],
      ['2061', '20261120080000'],
      ['2061', '20261120090000'],
      ['9012', null],
    ]);
    expect(record.result.code).toBe(1);
    expect(Object.keys(record.answers[1].cp.factors)).toContain('w01018');
    const hours = await a.c.cloud.store.query({
      mn: WATER_MN,
      factor: 'w01018',
      kind: 'hour',
      from: Date.parse('2026-11-20T07:00:00+08:00'),
      to: Date.parse('2026-11-20T10:00:00+08:00'),
    });
    expect(hours.map((p) => new Date(p.time).toISOString())).toEqual([
      '2026-11-19T23:00:00.000Z',
      '2026-11-20T00:00:00.000Z',
      '2026-11-20T01:00:00.000Z',
    ]);
  });

  it('a request to a logger that has gone: 503 API_NOT_CONNECTED, recorded as not-connected', async () => {
    const { a, fleet } = await start();
    await fleet.stop();
    if (via === 'tcp') await until(() => a.c.cloud.tcp!.listener.connections === 0, 'the connection closed');
    else await until(() => (a.c.cloud.mqtt!.clients?.() ?? 0) === 0, 'the device gone');
    const r = await a.call('POST', `/stations/${WATER_MN}/commands`, { json: { cn: '1011' } });
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ code: 'API_NOT_CONNECTED', error: 'Service Unavailable' });
    expect(r.body.message).toMatch(new RegExp(`^params.mn: the logger of ${WATER_MN} is not connected \\(no ${via} `));
    const [last] = (await a.call('GET', `/stations/${WATER_MN}/commands`)).body;
    expect(last).toMatchObject({ cn: '1011', state: 'not-connected', answers: [] });
  });
});

describe('table-9 requests: refusals, timeouts and bad bodies', () => {
  /** A logger that has logged in (its 1013) but answers nothing by itself. */
  async function rawLogger(a: Api): Promise<Awaited<ReturnType<typeof rawClient>>> {
    const client = await rawClient(a.c.cloud.tcp!.address.port);
    cleanup.push(async () => client.close());
    const notice: Packet = {
      version: '2017',
      qn: '20261120095900123',
      st: '32',
      cn: '1013',
      pw: WATER_PW,
      mn: WATER_MN,
      flag: 5,
      cp: { params: {}, factors: {} },
    };
    client.socket.write(encodeFrame(notice));
    await client.received(2); // 9013 and the cloud's 1012
    return client;
  }

  it(
    'no 9011 within the station’s timeout (10 s by default): timed out ' +
      'on the injected clock; a late answer is kept',
    async () => {
      const a = await api();
      const client = await rawLogger(a);
      const posted = await a.call('POST', `/stations/${WATER_MN}/commands`, { json: { cn: '1063' } });
      const [, , sent] = await client.received(3);
      expect(sent).toMatchObject({ cn: '1063', qn: posted.body.qn, pw: WATER_PW, st: '32', flag: 5 });
      a.clock.wall = T0 + 9_999;
      expect((await a.call('GET', `/commands/${posted.body.id}`)).body.state).toBe('sent');
      a.clock.wall = T0 + 10_000;
      expect((await a.call('GET', `/commands/${posted.body.id}`)).body.state).toBe('timed-out');
      const late: Packet = { ...sent!, st: '91', cn: '9011', flag: 4, cp: cp({ QnRtn: '1' }) };
      client.socket.write(encodeFrame(late));
      await until(
        async () => (await a.call('GET', `/commands/${posted.body.id}`)).body.answers.length === 1,
        'late 9011',
      );
      expect((await a.call('GET', `/commands/${posted.body.id}`)).body).toMatchObject({
        state: 'timed-out',
        result: null,
      });
    },
  );

  it('9011 QnRtn=3 marks the request refused with the meaning of table 7', async () => {
    const a = await api();
    const client = await rawLogger(a);
    const posted = await a.call('POST', `/stations/${WATER_MN}/commands`, {
      json: { cn: '3011', PolId: 'w01018' },
    });
    const [, , sent] = await client.received(3);
    expect(sent).toMatchObject({ cn: '3011', cp: cp({ PolId: 'w01018' }) });
    client.socket.write(encodeFrame({ ...sent!, st: '91', cn: '9011', flag: 4, cp: cp({ QnRtn: '3' }) }));
    let record: Json;
    await until(async () => {
      record = (await a.call('GET', `/commands/${posted.body.id}`)).body;
      return record.state !== 'sent';
    }, 'the refusal');
    expect(record).toMatchObject({ state: 'refused', result: { code: 3, meaning: 'Wrong password (PW) (PW 错误)' } });
  });

  it(
    'answers 400 naming the field, 403 for a read token, 404 for an ' +
      'unknown station or command, 503 for one never heard',
    async () => {
      const a = await api();
      const post = (json: unknown, token = ADMIN, mn = WATER_MN) =>
        a.call('POST', `/stations/${mn}/commands`, { json, token });
      expect((await post({ cn: '1062', RtdInterval: 0 })).body).toMatchObject({
        statusCode: 400,
        code: 'API_BAD_REQUEST',
        message: 'body.RtdInterval: Too small: expected number to be >=30',
      });
      expect((await post({ cn: '9999' })).body.message).toBe(
        'body.cn: cn is a request of HJ 212-2017 table 9 (1000-1072, 2011-2061, 3011-3021)',
      );
      expect((await post({ cn: '1064', MinInterval: 7 })).body.message).toBe(
        'body.MinInterval: one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 minutes',
      );
      expect((await post({ cn: '2061', BeginTime: '20261120100000', EndTime: '20261120090000' })).body.message).toBe(
        'body.EndTime: EndTime is not before BeginTime',
      );
      expect((await post({ cn: '1012', SystemTime: '20261332100000' })).body.message).toBe(
        'body.SystemTime: not a real date and time',
      );
      expect((await post({ cn: '1000', OverTime: 5, ReCount: 3, Extra: 1 })).status).toBe(400);
      expect((await post({ cn: '1011' }, READ)).body).toMatchObject({ statusCode: 403, code: 'API_ROLE' });
      expect((await post({ cn: '1011' }, ADMIN, 'NOPE')).body).toMatchObject({
        statusCode: 404,
        code: 'API_NO_STATION',
      });
      expect((await a.call('GET', '/commands/99')).body).toMatchObject({ statusCode: 404, code: 'API_NO_COMMAND' });
      const never = await post({ cn: '1011' }, ADMIN, GAS_MN);
      expect(never.body).toMatchObject({ statusCode: 503, code: 'API_NOT_CONNECTED' });
      expect(never.body.message).toContain('not heard since this server started');
    },
  );
});
