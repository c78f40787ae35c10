/// <reference lib="dom" />
// The callbacks given to page.evaluate and waitForFunction run in the browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchBrowser, type TestBrowser } from './helpers/dashboard-browser.js';
import { ADMIN, startScene, type Scene } from './helpers/dashboard-scene.js';

if (!haveChromium)
  console.warn('dashboard login browser test skipped: /usr/bin/chromium is missing (apt install chromium)');

const PASSWORD = 'duty operator 2026';

describe.skipIf(!haveChromium)('dashboard login in a real browser', () => {
  let scene: Scene;
  let b: TestBrowser;
  const faults: string[] = [];

  beforeAll(async () => {
    [scene, b] = await Promise.all([startScene(), launchBrowser()]);
    b.page.on('pageerror', (e) => faults.push(e.message));
    b.page.on('console', (m) => /Content Security Policy/.test(m.text()) && faults.push(m.text()));
    // The centre's administrator adds the duty operator's account (as `hj212 cloud user add` would).
    const res = await fetch(`${scene.base}/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'zhangsan', role: 'operator', password: PASSWORD }),
    });
    expect(res.status).toBe(201);
  });
  afterAll(async () => {
    await b?.close();
    await scene?.stop();
  });

  it(
    'logs a duty operator in with user name and password, shows ' + 'the overview and who it is, and logs out',
    async () => {
      const { page } = b;
      await page.goto(scene.base + '/');
      await page.locator('#login').waitFor();
      expect(await page.locator('#login h2').innerText()).toBe('登录');
      expect(await page.locator('label[for=user]').innerText()).toBe('用户名');
      expect(await page.locator('label[for=password]').innerText()).toBe('密码');
      expect(await page.locator('#password').getAttribute('type')).toBe('password');

      // A mistyped password first, at a person's pace.
      await page.locator('#user').pressSequentially('zhangsan', { delay: 60 });
      await page.locator('#password').pressSequentially('duty operator 2025', { delay: 60 });
      await page.click('#login button[type=submit]');
      await page.waitForFunction(() => document.getElementById('login-error')?.textContent !== '');
      expect(await page.locator('#login-error').innerText()).toBe('用户名或密码错误');
      expect(await page.locator('#password').inputValue()).toBe('');
      await b.shot('login-refused');

      await page.locator('#password').pressSequentially(PASSWORD, { delay: 60 });
      await page.click('#login button[type=submit]');
      await page.locator('[data-figure="onlineRate"]').waitFor();
      expect(await page.locator('#login').isHidden()).toBe(true);
      expect(await page.locator('#who').innerText()).toBe('zhangsan（操作员）');
      await b.shot('logged-in');

      // The session is the HttpOnly cookie: no script of the page can read it, and nothing is kept in storage.
      expect(await page.evaluate(() => document.cookie)).toBe('');
      expect(await page.evaluate(() => localStorage.getItem('hj212.token'))).toBeNull();
      const cookies = await b.context.cookies(scene.base);
      expect(cookies.map((c) => [c.name, c.httpOnly, c.sameSite, c.path])).toEqual([
        ['hj212_session', true, 'Strict', '/'],
      ]);
      // A reload keeps the person logged in (the cookie), without typing again.
      await page.reload();
      await page.locator('[data-figure="onlineRate"]').waitFor();
      expect(await page.locator('#who').innerText()).toBe('zhangsan（操作员）');

      await page.click('#logout');
      await page.locator('#login').waitFor();
      expect(await page.locator('#view').innerText()).toBe('');
      expect(await b.context.cookies(scene.base)).toEqual([]);
      // The session has ended on the server too.
      expect(await page.evaluate(async () => (await fetch('/stations')).status)).toBe(401);
      await page.reload();
      await page.locator('#login').waitFor();
      expect(await page.locator('#login-error').innerText()).toBe('');
      expect(faults).toEqual([]);
    },
  );
});
