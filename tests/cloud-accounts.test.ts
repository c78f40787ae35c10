import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from '../cloud/index.js';
import { startTestCloud, WATER_MN, type TestCloud } from './helpers/cloud-fixtures.js';
import { ADMIN, READ, type Json } from './helpers/dashboard-api.js';

const clouds: TestCloud[] = [];
afterEach(async () => {
  for (const c of clouds.splice(0)) await c.stop();
});

/** A hand-driven clock: the monotonic one measures sessions and lockouts, so only it is stepped here. */
function handClock(): { wall: () => number; mono: () => number; advance: (ms: number) => void } {
  let mono = 1_000_000;
  return { wall: () => Date.now(), mono: () => mono, advance: (ms) => (mono += ms) };
}

interface Reply {
  status: number;
  body: Json;
  cookie: string | null;
}

async function accounts(auth: object = {}, sessions: object = {}) {
  const clock = handClock();
  const c = await startTestCloud(
    {
      http: {
        host: '127.0.0.1',
        port: 0,
        tokens: [
          { name: 'viewer', sha256: sha256(READ), role: 'read' },
          { name: 'ops', sha256: sha256(ADMIN), role: 'admin' },
        ],
        sessions: { ttlSeconds: 8 * 3600, idleSeconds: 1800, ...sessions },
      },
      // No waits in tests: the delay is real time; the counting and the lockout are what is checked.
      auth: { freeFailures: 2, delayMs: 0, maxDelayMs: 0, lockoutFailures: 3, lockoutSeconds: 600, ...auth },
    },
    undefined,
    { clock },
  );
  clouds.push(c);
  const base = `http://127.0.0.1:${c.cloud.http!.address.port}`;
  const call = async (
    method: string,
    path: string,
    opts: { token?: string; cookie?: string; json?: unknown; csrf?: boolean; origin?: string } = {},
  ): Promise<Reply> => {
    const headers: Record<string, string> = {};
    if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
    if (opts.cookie !== undefined) headers['cookie'] = opts.cookie;
    if (opts.csrf !== false) headers['x-requested-with'] = 'test';
    if (opts.origin !== undefined) headers['origin'] = opts.origin;
    if (opts.json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, {
      method,
      headers,
      body: opts.json === undefined ? undefined : JSON.stringify(opts.json),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text === '' ? undefined : JSON.parse(text),
      cookie: res.headers.get('set-cookie'),
    };
  };
  const addUser = async (name: string, role: string, password: string): Promise<void> => {
    expect((await call('POST', '/users', { token: ADMIN, json: { name, role, password } })).status).toBe(201);
  };
  /** Logs in and returns the Cookie header the browser would send back. */
  const login = async (user: string, password: string): Promise<string> => {
    const r = await call('POST', '/session/login', { json: { user, password } });
    expect(r.status).toBe(200);
    return r.cookie!.split(';')[0]!;
  };
  return { c, clock, call, addUser, login, base };
}

const reasons = (c: TestCloud): string[] =>
  c.lines
    .map((l) => l as Json)
    .filter((l) => l.msg === 'login refused' || l.msg === 'login locked out' || l.msg === 'request refused')
    .map((l) => l.reason as string);

describe('accounts and login sessions', () => {
  it('logs in with the right password and sets an HttpOnly, SameSite=Strict cookie that expires', async () => {
    const { call, addUser } = await accounts();
    await addUser('wang', 'operator', 'correct horse battery');
    const r = await call('POST', '/session/login', { json: { user: 'wang', password: 'correct horse battery' } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ name: 'wang', role: 'operator', via: 'session', expiresInSeconds: 28800 });
    // 32 random bytes are 43 base64url characters; 8 h are 28800 s; no Secure over plain HTTP.
    expect(r.cookie).toMatch(/^hj212_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    const cookie = r.cookie!.split(';')[0]!;
    expect((await call('GET', '/session', { cookie })).body).toEqual({
      name: 'wang',
      role: 'operator',
      via: 'session',
      expiresInSeconds: 28800,
    });
    expect((await call('GET', '/whoami', { cookie })).body).toEqual({ name: 'wang', role: 'operator' });
    expect((await call('GET', '/stations', { cookie })).status).toBe(200);
    // Bearer tokens work as before, and say so.
    expect((await call('GET', '/session', { token: READ })).body).toEqual({
      name: 'viewer',
      role: 'read',
      via: 'token',
      expiresInSeconds: null,
    });
  });

  it('sends the cookie with Secure when configured (a TLS-terminating proxy in front)', async () => {
    const { call, addUser } = await accounts({}, { secureCookie: true, ttlSeconds: 3600 });
    await addUser('li', 'read', 'another long secret');
    const r = await call('POST', '/session/login', { json: { user: 'li', password: 'another long secret' } });
    expect(r.cookie).toMatch(
      /^hj212_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure$/,
    );
  });

  it('refuses a wrong password and an unknown user alike, and locks the user out after 3 failures', async () => {
    const { c, clock, call, addUser } = await accounts({ perAddress: false });
    await addUser('wang', 'operator', 'correct horse battery');
    const bad = await call('POST', '/session/login', { json: { user: 'wang', password: 'wrong password' } });
    expect(bad.status).toBe(401);
    expect(bad.cookie).toBeNull();
    expect(bad.body.code).toBe('API_BAD_LOGIN');
    const unknown = await call('POST', '/session/login', { json: { user: 'nobody', password: 'wrong password' } });
    expect(unknown.body).toEqual(bad.body);
    // Failures 2 and 3 of wang: the third locks it out for 600 s.
    for (let i = 0; i < 2; i++)
      expect((await call('POST', '/session/login', { json: { user: 'wang', password: 'guess' } })).status).toBe(401);
    const locked = await call('POST', '/session/login', { json: { user: 'wang', password: 'correct horse battery' } });
    expect(locked.status).toBe(429);
    expect(locked.body).toMatchObject({ code: 'API_LOCKED_OUT', retryAfterMs: 600_000 });
    expect(locked.cookie).toBeNull();
    // Another user is not affected (per-address counting is off here).
    await addUser('li', 'read', 'another long secret');
    expect(
      (await call('POST', '/session/login', { json: { user: 'li', password: 'another long secret' } })).status,
    ).toBe(200);
    // 599 s later still locked (the refused try at the lockout counted as a failure but does not prolong it).
    clock.advance(599_000);
    expect(
      (await call('POST', '/session/login', { json: { user: 'wang', password: 'correct horse battery' } })).status,
    ).toBe(429);
    clock.advance(1_000);
    expect(
      (await call('POST', '/session/login', { json: { user: 'wang', password: 'correct horse battery' } })).status,
    ).toBe(200);
    // The lockout opened a password-guessing alarm, on the address the guesses came from.
    const alarms = (await call('GET', '/alarms?type=password-guessing', { token: READ })).body as Json[];
    expect(alarms.map((a) => [a.mn, a.detail])).toEqual([
      ['addr:127.0.0.1', 'locked out after 3 failed logins (user:wang)'],
    ]);
    expect(reasons(c)).toEqual([
      'bad-password',
      'unknown-user',
      'bad-password',
      'bad-password',
      'login-guessing',
      'locked-out',
      'locked-out',
    ]);
  });

  it('locks out an address that tries many users', async () => {
    const { call, addUser } = await accounts({ lockoutFailures: 3 });
    await addUser('wang', 'operator', 'correct horse battery');
    for (const user of ['a1', 'a2', 'a3'])
      expect((await call('POST', '/session/login', { json: { user, password: 'x' } })).status).toBe(401);
    expect(
      (await call('POST', '/session/login', { json: { user: 'wang', password: 'correct horse battery' } })).status,
    ).toBe(429);
  });

  it('ends a session after its idle timeout and after its absolute life, on the monotonic clock', async () => {
    const { clock, call, addUser, login } = await accounts({}, { ttlSeconds: 7200, idleSeconds: 1800 });
    await addUser('wang', 'operator', 'correct horse battery');
    const idle = await login('wang', 'correct horse battery');
    clock.advance(1_799_000);
    expect((await call('GET', '/stations', { cookie: idle })).status).toBe(200);
    clock.advance(1_800_000);
    const gone = await call('GET', '/stations', { cookie: idle });
    expect(gone.status).toBe(401);
    expect(gone.body.code).toBe('API_NO_SESSION');
    // Busy all along, it still ends at its 7200 s.
    const busy = await login('wang', 'correct horse battery');
    for (let t = 0; t < 7200 - 1000; t += 1000) {
      clock.advance(1_000_000);
      expect((await call('GET', '/session', { cookie: busy })).status).toBe(200);
    }
    clock.advance(1_000_000);
    expect((await call('GET', '/session', { cookie: busy })).status).toBe(401);
  });

  it('logs out: the session ends and the cookie is cleared', async () => {
    const { call, addUser, login } = await accounts();
    await addUser('wang', 'operator', 'correct horse battery');
    const cookie = await login('wang', 'correct horse battery');
    expect((await call('POST', '/session/logout', { cookie, csrf: false })).status).toBe(403);
    const out = await call('POST', '/session/logout', { cookie });
    expect(out.status).toBe(204);
    expect(out.cookie).toBe('hj212_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0');
    expect((await call('GET', '/session', { cookie })).body.code).toBe('API_NO_SESSION');
  });

  it(
    'needs X-Requested-With and a same-host Origin on state-changing ' + 'requests with a cookie, not with a token',
    async () => {
      const { c, base, call, addUser, login } = await accounts();
      await addUser('wang', 'operator', 'correct horse battery');
      const cookie = await login('wang', 'correct horse battery');
      const alarm = c.cloud.alarms.open({ mn: WATER_MN, type: 'exceedance', key: 'acct-test', time: Date.now() })!;
      const ack = { json: { comment: '已电话通知企业' } };
      const noHeader = await call('POST', `/alarms/${alarm.id}/ack`, { cookie, csrf: false, ...ack });
      expect(noHeader.status).toBe(403);
      expect(noHeader.body.code).toBe('API_CSRF');
      const foreign = await call('POST', `/alarms/${alarm.id}/ack`, { cookie, origin: 'http://evil.example', ...ack });
      expect(foreign.body.code).toBe('API_CSRF');
      expect((await call('POST', `/alarms/${alarm.id}/ack`, { cookie, origin: 'null', ...ack })).body.code).toBe(
        'API_CSRF',
      );
      expect((await call('POST', `/alarms/${alarm.id}/ack`, { cookie, origin: base, ...ack })).status).toBe(201);
      // A login without the header is refused too (no logging a browser in from another site).
      expect(
        (await call('POST', '/session/login', { csrf: false, json: { user: 'wang', password: 'x' } })).body.code,
      ).toBe('API_CSRF');
      // Reads need no header; tokens need none at all.
      expect((await call('GET', '/alarms', { cookie, csrf: false })).status).toBe(200);
      expect((await call('POST', `/alarms/${alarm.id}/ack`, { token: ADMIN, csrf: false, ...ack })).status).toBe(201);
      expect(reasons(c)).toEqual(['no-x-requested-with', 'origin-mismatch', 'origin-mismatch', 'no-x-requested-with']);
    },
  );

  it('lets a person set their own password, giving the current one; other sessions end', async () => {
    const { call, addUser, login } = await accounts();
    await addUser('wang', 'read', 'correct horse battery');
    const [here, elsewhere] = [
      await login('wang', 'correct horse battery'),
      await login('wang', 'correct horse battery'),
    ];
    const change = (cookie: string, current: string, password: string) =>
      call('PUT', '/session/password', { cookie, json: { current, password } });
    expect((await change(here, 'wrong current', 'a new long password')).body.code).toBe('API_BAD_LOGIN');
    expect((await change(here, 'correct horse battery', '123456')).body.code).toBe('API_WEAK_PASSWORD');
    const done = await change(here, 'correct horse battery', 'a new long password');
    expect(done.status).toBe(200);
    // This browser gets a new session; the other one is logged out.
    expect(done.cookie).toMatch(/^hj212_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
    expect((await call('GET', '/session', { cookie: done.cookie!.split(';')[0]! })).status).toBe(200);
    expect((await call('GET', '/session', { cookie: here })).status).toBe(401);
    expect((await call('GET', '/session', { cookie: elsewhere })).status).toBe(401);
    expect(
      (await call('POST', '/session/login', { json: { user: 'wang', password: 'a new long password' } })).status,
    ).toBe(200);
    // A token has no password of its own.
    expect(
      (await call('PUT', '/session/password', { token: ADMIN, json: { current: 'x', password: 'y' } })).status,
    ).toBe(401);
  });

  it('enforces read < operator < admin on representative routes', async () => {
    const { c, call, addUser, login } = await accounts();
    await addUser('reader', 'read', 'reader password 1');
    await addUser('oper', 'operator', 'operator password 1');
    await addUser('boss', 'admin', 'admin password 1');
    const [r, o, a] = [
      await login('reader', 'reader password 1'),
      await login('oper', 'operator password 1'),
      await login('boss', 'admin password 1'),
    ];
    const alarm = c.cloud.alarms.open({ mn: WATER_MN, type: 'exceedance', key: 'acct-test', time: Date.now() })!;
    const status = async (cookie: string, method: string, path: string, json?: unknown): Promise<number> =>
      (await call(method, path, { cookie, json })).status;
    const ack = { comment: '已处理' };
    const shutdown = {
      from: '2026-11-01T00:00:00+08:00',
      to: '2026-11-02T00:00:00+08:00',
      reason: '检修',
    };
    // read: reads only.
    expect(await status(r, 'GET', '/alarms')).toBe(200);
    expect(await status(r, 'POST', `/alarms/${alarm.id}/ack`, ack)).toBe(403);
    expect(await status(r, 'POST', `/stations/${WATER_MN}/commands`, { cn: '1011' })).toBe(403);
    // operator: acknowledges, follows up, sends commands; no shutdowns, no accounts.
    expect(await status(o, 'POST', `/alarms/${alarm.id}/ack`, ack)).toBe(201);
    expect(await status(o, 'POST', `/alarms/${alarm.id}/follow-ups`, { state: 'notified', comment: '已通知' })).toBe(
      201,
    );
    // Sent as far as the router (the station is not connected: 503 with the request recorded), not refused.
    expect(await status(o, 'POST', `/stations/${WATER_MN}/commands`, { cn: '1011' })).toBe(503);
    expect(await status(o, 'POST', `/stations/${WATER_MN}/shutdowns`, shutdown)).toBe(403);
    expect(await status(o, 'GET', '/users')).toBe(403);
    // admin: everything.
    expect(await status(a, 'POST', `/stations/${WATER_MN}/shutdowns`, shutdown)).toBe(201);
    expect(await status(a, 'GET', '/users')).toBe(200);
    const refused = await call('POST', `/alarms/${alarm.id}/ack`, { cookie: r, json: ack });
    expect(refused.body.message).toBe('this needs the operator role; user reader has read');
    // Who acknowledged is the person logged in.
    expect((await call('GET', '/alarms', { cookie: r })).body[0].ack.by).toBe('oper');
  });

  it('manages accounts: weak and default passwords refused, a changed password or role ends sessions', async () => {
    const { call, addUser, login } = await accounts();
    const add = (password: string) =>
      call('POST', '/users', { token: ADMIN, json: { name: 'zhao', role: 'read', password } });
    expect((await add('123456')).body).toMatchObject({
      code: 'API_WEAK_PASSWORD',
      message: 'body.password: the factory default password 123456 is not accepted',
    });
    expect((await add('short')).body.message).toBe('body.password: a password has at least 10 characters');
    expect((await add('zhao')).body.code).toBe('API_WEAK_PASSWORD');
    await addUser('zhao', 'read', 'zhao first password');
    expect((await add('zhao other password')).status).toBe(409);
    const cookie = await login('zhao', 'zhao first password');
    const set = await call('PUT', '/users/zhao/password', { token: ADMIN, json: { password: 'zhao second password' } });
    expect(set.status).toBe(200);
    expect((await call('GET', '/session', { cookie })).status).toBe(401);
    expect(
      (await call('POST', '/session/login', { json: { user: 'zhao', password: 'zhao first password' } })).status,
    ).toBe(401);
    const again = await login('zhao', 'zhao second password');
    expect((await call('PUT', '/users/zhao/role', { token: ADMIN, json: { role: 'operator' } })).body.role).toBe(
      'operator',
    );
    expect((await call('GET', '/session', { cookie: again })).status).toBe(401);
    const list = (await call('GET', '/users', { token: ADMIN })).body as Json[];
    expect(list.map((u) => [u.name, u.role])).toEqual([['zhao', 'operator']]);
    expect(JSON.stringify(list)).not.toContain('scrypt');
    expect((await call('DELETE', '/users/zhao', { token: ADMIN })).status).toBe(204);
    expect((await call('DELETE', '/users/zhao', { token: ADMIN })).status).toBe(404);
    // Only an admin manages accounts.
    expect((await call('GET', '/users', { token: READ })).status).toBe(403);
  });
});

describe('account scopes: the centre, an authority of a region, an enterprise user', () => {
  it('keeps whose data an account sees, shows it in /session, and lets only the centre manage accounts', async () => {
    const { call, login } = await accounts();
    const add = (json: object) => call('POST', '/users', { token: ADMIN, json });
    const chem = {
      name: 'chem.admin',
      role: 'admin',
      password: 'chem admin password',
      enterprise: '示例化工有限公司',
    };
    const added = await add(chem);
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ name: 'chem.admin', role: 'admin', enterprise: '示例化工有限公司' });
    // A scope naming nothing in the registry would see nothing: refused, naming the field.
    const typo = await add({ ...chem, name: 'chem2', enterprise: '示例化工' });
    expect(typo.status).toBe(400);
    expect(typo.body.message).toBe(
      'body.enterprise: no enterprise 示例化工 in the registry (GET /stations lists them)',
    );
    const both = await add({ ...chem, name: 'chem3', region: '城东区' });
    expect(both.status).toBe(400);
    expect(both.body.message).toContain('not both');

    const cookie = await login('chem.admin', 'chem admin password');
    expect((await call('GET', '/session', { cookie })).body).toMatchObject({
      name: 'chem.admin',
      enterprise: '示例化工有限公司',
      via: 'session',
    });
    // An enterprise's admin is an admin of its own data, not of the centre's logins.
    const refused = await call('GET', '/users', { cookie });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('API_CENTRE_ONLY');
    expect(refused.body.message).toBe(
      "managing accounts is the centre's work; chem.admin is of enterprise 示例化工有限公司",
    );

    // Widening the scope to the centre ends the sessions; the account then manages accounts.
    const widened = await call('PUT', '/users/chem.admin/scope', { token: ADMIN, json: {} });
    expect(widened.body).toEqual(expect.not.objectContaining({ enterprise: expect.anything() }));
    expect((await call('GET', '/session', { cookie })).status).toBe(401);
    const again = await login('chem.admin', 'chem admin password');
    expect((await call('GET', '/users', { cookie: again })).status).toBe(200);
  });
});
