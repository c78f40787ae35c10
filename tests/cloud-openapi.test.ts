import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiErrors } from '../cloud/api/errors.js';
import { WATER_MN } from './helpers/cloud-fixtures.js';
import { ADMIN, apiCloud, READ } from './helpers/dashboard-api.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function api(http: object = {}): ReturnType<typeof apiCloud> {
  const started = await apiCloud(http);
  cleanup.push(() => started.c.stop());
  return started;
}

type Param = { name: string; in: string; required: boolean };
type Op = {
  'x-role': string;
  security: unknown;
  parameters?: Param[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, unknown>;
};

/** method path → role, parameters as `in:name` (a trailing `?` when optional), request media type, success status. */
const ROUTES: Record<string, [string, string[], string | null, string]> = {
  'GET /whoami': ['read', [], null, '200'],
  'GET /session': ['read', [], null, '200'],
  'POST /session/login': ['none', [], 'application/json', '200'],
  'POST /session/logout': ['read', [], null, '204'],
  'PUT /session/password': ['read', [], 'application/json', '200'],
  'GET /users': ['admin', [], null, '200'],
  'POST /users': ['admin', [], 'application/json', '201'],
  'PUT /users/{name}/password': ['admin', ['path:name'], 'application/json', '200'],
  'PUT /users/{name}/role': ['admin', ['path:name'], 'application/json', '200'],
  'PUT /users/{name}/scope': ['admin', ['path:name'], 'application/json', '200'],
  'DELETE /users/{name}': ['admin', ['path:name'], null, '204'],
  'GET /stations': ['read', [], null, '200'],
  'GET /stations/{mn}': ['read', ['path:mn'], null, '200'],
  'GET /enterprises': ['read', [], null, '200'],
  'GET /stations/{mn}/data': [
    'read',
    ['path:mn', 'query:factor?', 'query:kind?', 'query:from', 'query:to', 'query:limit?'],
    null,
    '200',
  ],
  'POST /stations/{mn}/data': ['admin', ['path:mn'], 'application/json', '201'],
  'GET /stations/{mn}/shutdowns': ['read', ['path:mn'], null, '200'],
  'POST /stations/{mn}/shutdowns': ['admin', ['path:mn'], 'application/json', '201'],
  'GET /stations/{mn}/registrations': ['read', ['path:mn', 'query:state?'], null, '200'],
  'POST /stations/{mn}/registrations': ['operator', ['path:mn'], 'application/json', '201'],
  'GET /registrations': ['read', ['query:state?'], null, '200'],
  'POST /stations/{mn}/plans': ['operator', ['path:mn'], 'application/json', '201'],
  'GET /stations/{mn}/plans': ['read', ['path:mn', 'query:state?'], null, '200'],
  'GET /stations/{mn}/plan': ['read', ['path:mn'], null, '200'],
  'GET /stations/{mn}/plan/completion': ['read', ['path:mn', 'query:year'], null, '200'],
  'GET /plans': ['read', ['query:state?'], null, '200'],
  'POST /plans/{id}/review': ['operator', ['path:id'], 'application/json', '200'],
  'PUT /plans/{id}/attachment': ['operator', ['path:id'], 'application/json', '200'],
  'GET /plans/{id}/attachment': ['read', ['path:id'], null, '200'],
  'GET /plans/{id}/pdf': ['read', ['path:id', 'query:lang?'], null, '200'],
  'POST /stations/{mn}/manual-results': ['operator', ['path:mn'], 'application/json', '201'],
  'POST /stations/{mn}/manual-results.csv': ['operator', ['path:mn'], 'text/csv,text/plain', '200'],
  'GET /stations/{mn}/manual-results': ['read', ['path:mn', 'query:from', 'query:to'], null, '200'],
  'GET /stations/{mn}/instruments': ['read', ['path:mn'], null, '200'],
  'PUT /stations/{mn}/instruments/{factor}': ['operator', ['path:mn', 'path:factor'], 'application/json', '200'],
  'GET /stations/{mn}/instruments/{factor}/history': ['read', ['path:mn', 'path:factor'], null, '200'],
  'POST /stations/{mn}/om-records': ['operator', ['path:mn'], 'application/json', '201'],
  'GET /stations/{mn}/om-records': ['read', ['path:mn', 'query:from', 'query:to'], null, '200'],
  'GET /stations/{mn}/unexplained': ['read', ['path:mn', 'query:from', 'query:to'], null, '200'],
  'POST /registrations/{id}/review': ['operator', ['path:id'], 'application/json', '200'],
  'GET /stations/{mn}/marks': ['read', ['path:mn', 'query:from?', 'query:to?', 'query:lang?'], null, '200'],
  'GET /stations/{mn}/marks/audit': ['read', ['path:mn', 'query:lang?'], null, '200'],
  'POST /stations/{mn}/marks': ['operator', ['path:mn', 'query:lang?'], 'application/json', '201'],
  'DELETE /stations/{mn}/marks/{id}': ['operator', ['path:mn', 'path:id', 'query:lang?'], null, '200'],
  'POST /supervision': ['operator', [], 'application/json', '201'],
  'GET /supervision': ['read', ['query:state?', 'query:overdue?', 'query:mn?'], null, '200'],
  'GET /supervision/{id}': ['read', ['path:id'], null, '200'],
  'POST /supervision/{id}/answer': ['operator', ['path:id'], 'application/json', '200'],
  'POST /supervision/{id}/review': ['operator', ['path:id'], 'application/json', '200'],
  'GET /supervision/{id}/attachments/{n}': ['read', ['path:id', 'path:n'], null, '200'],
  'GET /jurisdictions': [
    'read',
    ['query:day?', 'query:month?', 'query:quarter?', 'query:year?', 'query:lang?'],
    null,
    '200',
  ],
  'GET /jurisdictions.csv': [
    'read',
    ['query:day?', 'query:month?', 'query:quarter?', 'query:year?', 'query:lang?'],
    null,
    '200',
  ],
  'GET /stations/{mn}/rates': [
    'read',
    ['path:mn', 'query:day?', 'query:month?', 'query:quarter?', 'query:year?'],
    null,
    '200',
  ],
  'GET /rates': ['read', ['query:day?', 'query:month?', 'query:quarter?', 'query:year?'], null, '200'],
  'GET /report': ['read', ['query:day?', 'query:month?', 'query:quarter?', 'query:year?', 'query:lang?'], null, '200'],
  'GET /report.csv': [
    'read',
    ['query:day?', 'query:month?', 'query:quarter?', 'query:year?', 'query:lang?'],
    null,
    '200',
  ],
  'GET /report.xlsx': [
    'read',
    ['query:day?', 'query:month?', 'query:quarter?', 'query:year?', 'query:lang?'],
    null,
    '200',
  ],
  'GET /stations/{mn}/history': [
    'read',
    ['path:mn', 'query:kind?', 'query:from', 'query:to', 'query:page?', 'query:pageSize?', 'query:lang?'],
    null,
    '200',
  ],
  'GET /stations/{mn}/history.csv': [
    'read',
    ['path:mn', 'query:kind?', 'query:from', 'query:to', 'query:lang?'],
    null,
    '200',
  ],
  'GET /stations/{mn}/history.xlsx': [
    'read',
    ['path:mn', 'query:kind?', 'query:from', 'query:to', 'query:lang?'],
    null,
    '200',
  ],
  'GET /alarms': [
    'read',
    ['query:mn?', 'query:type?', 'query:state?', 'query:from?', 'query:to?', 'query:limit?'],
    null,
    '200',
  ],
  'POST /alarms/{id}/ack': ['operator', ['path:id'], 'application/json', '201'],
  'GET /alarm-events': [
    'read',
    ['query:mn?', 'query:type?', 'query:state?', 'query:from?', 'query:to?', 'query:limit?'],
    null,
    '200',
  ],
  'POST /alarms/{id}/follow-ups': ['operator', ['path:id'], 'application/json', '201'],
  'GET /alarms/{id}/follow-ups': ['read', ['path:id'], null, '200'],
  'GET /overview': ['read', [], null, '200'],
  'GET /ingest/stats': ['read', [], null, '200'],
  'POST /ingest/frames': ['admin', [], 'text/plain', '200'],
  'POST /ingest/records': ['admin', [], 'application/json', '200'],
  'GET /events': ['read', [], null, '200'],
  'POST /stations/{mn}/commands': ['operator', ['path:mn'], 'application/json', '201'],
  'GET /stations/{mn}/commands': ['read', ['path:mn', 'query:limit?'], null, '200'],
  'GET /commands/{id}': ['read', ['path:id'], null, '200'],
  'POST /stations/{mn}/key': ['admin', ['path:mn'], null, '201'],
  'GET /command-names': ['read', [], null, '200'],
};

describe('OpenAPI description and error catalogue', () => {
  it('lists every route with its role, parameters, body type and answers, and no public file', async () => {
    const { call } = await api();
    const doc = (await call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, Op>> };
    const listed: Record<string, [string, string[], string | null, string]> = {};
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        const params = (op.parameters ?? []).map((p) => `${p.in}:${p.name}${p.required ? '' : '?'}`);
        const body = op.requestBody ? Object.keys(op.requestBody.content).join(',') : null;
        const ok = Object.keys(op.responses).filter((s) => s.startsWith('2'));
        listed[`${method.toUpperCase()} ${path}`] = [op['x-role'], params, body, ok.join(',')];
        if (op['x-role'] === 'none') {
          // The login itself: no token or session to give.
          expect(op.security, `${method} ${path}`).toEqual([]);
          continue;
        }
        expect(op.security, `${method} ${path}`).toEqual([{ token: [] }, { session: [] }]);
        // Every route can be refused the same way, with the catalogue's body.
        expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(['400', '401', '403']));
      }
    expect(listed).toEqual(ROUTES);
    // The answer schemas are documented: a data point has its judgement and its back-fill.
    const point = (doc.paths['/stations/{mn}/data']!['get']!.responses['200'] as Json).content['application/json']
      .schema.items;
    expect(Object.keys(point.properties)).toEqual([
      'mn',
      'factor',
      'kind',
      'time',
      'values',
      'flag',
      'outlet',
      'judged',
      'backfilled',
    ]);
  });

  it(
    'answers every refusal with the catalogue body: status, code, ' + 'status phrase, and a message naming the fix',
    async () => {
      const { call } = await api();
      expect((await call('GET', '/stations')).body).toEqual({
        statusCode: 401,
        code: 'API_NO_TOKEN',
        error: 'Unauthorized',
        message: 'give an API token: Authorization: Bearer TOKEN',
      });
      expect((await call('POST', `/stations/${WATER_MN}/shutdowns`, { token: READ, json: {} })).body).toEqual({
        statusCode: 403,
        code: 'API_ROLE',
        error: 'Forbidden',
        message: 'this needs the admin role; token viewer has read',
      });
      expect((await call('GET', '/stations/NOPE/shutdowns', { token: READ })).body).toEqual({
        statusCode: 404,
        code: 'API_NO_STATION',
        error: 'Not Found',
        message: 'params.mn: no station with MN NOPE in the registry (GET /stations lists them)',
      });
      expect((await call('POST', '/alarms/7/ack', { token: ADMIN, json: { comment: 'seen' } })).body).toEqual({
        statusCode: 404,
        code: 'API_NO_ALARM',
        error: 'Not Found',
        message: 'params.id: no alarm 7 (GET /alarms lists them)',
      });
      expect((await call('GET', '/nothing-here?token=x', { token: READ })).body).toEqual({
        statusCode: 404,
        code: 'API_NO_ROUTE',
        error: 'Not Found',
        message: 'no route GET /nothing-here: GET /openapi.json lists them',
      });
      expect((await call('GET', '/alarms?limit=0', { token: READ })).body).toEqual({
        statusCode: 400,
        code: 'API_BAD_REQUEST',
        error: 'Bad Request',
        message: 'query.limit: Too small: expected number to be >=1',
      });
    },
  );

  it('answers a request over the rate with 429 and when to come back', async () => {
    // One request per token, then one every 1000 s: the second is refused whatever the machine's speed.
    const { call } = await api({ rate: 0.001, burst: 1 });
    expect((await call('GET', '/whoami', { token: READ })).status).toBe(200);
    const limited = await call('GET', '/whoami', { token: READ });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ statusCode: 429, code: 'API_RATE_LIMITED', error: 'Too Many Requests' });
    // The bucket refills one request in 1 / 0.001 s = 1,000,000 ms, less the few ms this test took.
    expect(limited.body.retryAfterMs).toBeGreaterThan(990_000);
    expect(limited.body.message).toMatch(/^rate limited: try again in \d+ ms$/);
  });

  it('documents every error code of the catalogue in docs/cloud.md', async () => {
    const doc = await readFile(new URL('../docs/cloud.md', import.meta.url), 'utf8');
    const codes = Object.values(ApiErrors).map((E) => new E('x', 'y', 'z').code);
    expect(codes).toHaveLength(41);
    for (const code of codes) expect(doc, code).toContain(`\`${code}\``);
  });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON schema as the document has it
type Json = any;
