/// <reference lib="dom" />
// The callbacks given to page.evaluate and waitForFunction run in the browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchBrowser, type TestBrowser } from './helpers/dashboard-browser.js';
import { encodeFrame } from '../protocol/index.js';
import { rawClient } from './helpers/cloud-fixtures.js';
import { ADMIN, CHEM, FED_MN, GAS_MN, H, READ, startScene, type Scene } from './helpers/dashboard-scene.js';

if (!haveChromium) console.warn('dashboard review browser tests skipped: /usr/bin/chromium is missing');

/** YYYY-MM-DD HH:MM of an instant in China time, as the dashboard's time fields take it. */
const china = (ms: number): string => new Date(ms + 8 * H).toISOString().slice(0, 16).replace('T', ' ');

describe.skipIf(!haveChromium)('数据审核/标记 page in a real browser', () => {
  let scene: Scene;
  let b: TestBrowser;
  const faults: string[] = [];
  const shown = (part: string) =>
    b.page.waitForFunction((p) => document.getElementById('view')?.dataset['shown']?.includes(p), part);
  const text = (sel: string) => b.page.locator(sel).first().innerText();
  const rates = async (): Promise<{ expected: number; received: number; valid: number }> => {
    const day = china(scene.day0).slice(0, 10);
    const res = await fetch(`${scene.base}/stations/${FED_MN}/rates?day=${day}`, {
      headers: { authorization: `Bearer ${READ}` },
    });
    return ((await res.json()) as { outletRates: { expected: number; received: number; valid: number } }).outletRates;
  };
  /** Clears a field and types into it as a person does. */
  const type = async (sel: string, value: string) => {
    const field = b.page.locator(sel);
    await field.click();
    await field.fill('');
    await field.pressSequentially(value, { delay: 40 });
  };

  beforeAll(async () => {
    [scene, b] = await Promise.all([startScene(), launchBrowser()]);
    b.page.on('pageerror', (e) => faults.push(e.message));
    b.page.on('console', (m) => /Content Security Policy/.test(m.text()) && faults.push(m.text()));
  });
  afterAll(async () => {
    await b?.close();
    await scene?.stop();
  });

  it(
    'marks hours with a reason and a note, typed at a person’s pace; ' +
      'the rates change, the history keeps the original',
    async () => {
      const { page } = b;
      await page.goto(scene.base + '/');
      await page.evaluate(() => localStorage.clear());
      await page.goto(`${scene.base}/#token=${ADMIN}`);
      await page.locator('[data-figure="onlineRate"]').waitFor();
      await page.click('nav a[href="#/review"]', { delay: 60 });
      await shown('#/review');
      expect(await text('#view h2')).toBe('数据审核/标记 · 示例化工有限公司 · WS-01');
      expect(await text('.marks')).toBe('暂无标记');

      // The scene's day: hours 00-07 owed (shutdown from 08:00), 3 assessed factors (COD, NH3-N, pH):
      // 8 x 3 = 24 expected; hour 03 never came: 7 x 3 = 21 received.
      const before = await rates();
      expect(before).toMatchObject({ expected: 24, received: 21 });

      // Hours 01:00 and 02:00 of every factor: 故障.
      const form = page.locator('form.mark-form');
      await form.locator('select[name=factor]').selectOption({ label: '全部因子' });
      await type('form.mark-form input[name=from]', china(scene.day0 + H));
      await type('form.mark-form input[name=to]', china(scene.day0 + 3 * H));
      await form.locator('select[name=reason]').selectOption({ label: '故障' });
      await type('form.mark-form input[name=note]', '探头污染，已清洗');
      await form.locator('button[type=submit]').click({ delay: 60 });
      await page.locator('.marks-table tbody tr').first().waitFor();
      expect(await text('.message')).toBe(`已标记：故障，${china(scene.day0 + H)} – ${china(scene.day0 + 3 * H)}`);
      // By hand: received stays 21; 2 hours x 3 factors lose their validity: valid - 6.
      expect(await rates()).toEqual(expect.objectContaining({ expected: 24, received: 21, valid: before.valid - 6 }));

      // COD's missing hour 03:00: 停运 — not owed: expected 24 - 1 = 23.
      await form.locator('select[name=factor]').selectOption({ label: '化学需氧量' });
      await type('form.mark-form input[name=from]', china(scene.day0 + 3 * H));
      await type('form.mark-form input[name=to]', china(scene.day0 + 4 * H));
      await form.locator('select[name=reason]').selectOption({ label: '停运' });
      await type('form.mark-form input[name=note]', '设备停机');
      await form.locator('button[type=submit]').click({ delay: 60 });
      await page.waitForFunction(() => document.querySelectorAll('.marks-table tbody tr').length === 2);
      expect(await rates()).toEqual(expect.objectContaining({ expected: 23, received: 21, valid: before.valid - 6 }));
      const newest = await text('.marks-table tbody tr');
      expect(newest).toContain('化学需氧量');
      expect(newest).toContain('F 停运');
      expect(await text('.audit-table tbody')).toContain('ops');
      expect(await page.locator('.audit-table tbody tr').count()).toBe(2);

      // A shutdown window (停运申报) registered from the same page: hour 05:00 of every factor is not owed.
      const sd = page.locator('form.shutdown-form');
      await type('form.shutdown-form input[name=from]', china(scene.day0 + 5 * H));
      await type('form.shutdown-form input[name=to]', china(scene.day0 + 6 * H));
      await type('form.shutdown-form input[name=reason]', '临时停产');
      await sd.locator('button[type=submit]').click({ delay: 60 });
      await page.waitForFunction(() => document.querySelector('.shutdowns-table')?.textContent?.includes('临时停产'));
      // By hand: 23 - 3 = 20 expected; hour 05's three records leave received too: 21 - 3 = 18.
      expect(await rates()).toMatchObject({ expected: 20, received: 18 });
      await b.shot('review');

      // The history shows the mark beside the flag the record came with.
      await page.evaluate(
        ([mn, from, to]) => (location.hash = `#/history/${mn}?kind=hour&from=${from}&to=${to}`),
        [FED_MN, String(scene.day0), String(scene.day0 + 8 * H)],
      );
      await shown(`#/history/${FED_MN}`);
      const row = page.locator('table.history-table tbody tr', { hasText: china(scene.day0 + H) });
      expect(await row.locator('td.flag.marked').first().innerText()).toBe('D 故障 审核：故障（原 N 正常）');
      await b.shot('history-marked');

      // Withdrawn again: valid is back where it was.
      await page.click('nav a[href="#/review"]', { delay: 60 });
      await shown('#/review');
      await page.locator('.marks-table tbody tr', { hasText: '故障' }).locator('button').click({ delay: 60 });
      await page.waitForFunction(() => document.querySelectorAll('.marks-table tbody tr').length === 1);
      expect((await rates()).valid).toBe(before.valid - 3 /* hour 05 left out by the shutdown */);
      expect(await page.locator('.audit-table tbody tr').count()).toBe(3);
      expect(await text('.audit-table tbody tr')).toContain('撤销');
      expect(faults).toEqual([]);
    },
  );

  it(
    'takes an enterprise’s abnormal-operation registration and the centre’s approval, ' + 'typed at a person’s pace',
    async () => {
      const { page } = b;
      // The enterprise's operator: it sees its own two outlets, a marking form with its own reasons (数据标记:
      // no 超量程, no clearing of a flag), no withdrawing, and registers hour 06:00.
      await page.evaluate(() => localStorage.clear());
      await page.goto(`${scene.base}/#token=${CHEM}`);
      await page.locator('[data-figure="onlineRate"]').waitFor();
      await page.evaluate((mn) => (location.hash = `#/review/${mn}`), FED_MN);
      await shown(`#/review/${FED_MN}`);
      expect(await page.locator('form.mark-form select[name=reason] option').allInnerTexts()).toEqual([
        '停运',
        '故障',
        '检修',
        '校准',
        '通讯异常',
        '工况异常',
      ]);
      expect(await page.locator('select[name=mn] option').count()).toBe(2);
      const before = await rates();
      await type('form.registration-form input[name=from]', china(scene.day0 + 6 * H));
      await type('form.registration-form input[name=to]', china(scene.day0 + 7 * H));
      await page.locator('form.registration-form select[name=reason]').selectOption({ label: '检修' });
      await type('form.registration-form input[name=detail]', '更换采样泵');
      await page.locator('form.registration-form button[type=submit]').click({ delay: 60 });
      const row = page.locator('tr[data-registration]');
      await row.first().waitFor();
      expect(await text('.message')).toBe(
        `已提交登记 #1：${china(scene.day0 + 6 * H)} – ${china(scene.day0 + 7 * H)}，待审核`,
      );
      expect(await row.first().innerText()).toContain('待审核');
      // Not in force until reviewed, and the enterprise has no approve button.
      expect(await rates()).toMatchObject({ expected: before.expected });
      expect(await page.locator('tr[data-registration] button.approve').count()).toBe(0);

      // The centre's admin approves it with a comment: hour 06 of 3 assessed factors is not owed (3 fewer
      // expected), and its 3 records are left out of received (the scene's hour 06 came).
      await page.evaluate(() => localStorage.clear());
      await page.goto(`${scene.base}/#token=${ADMIN}`);
      await page.locator('[data-figure="onlineRate"]').waitFor();
      await page.evaluate((mn) => (location.hash = `#/review/${mn}`), FED_MN);
      await shown(`#/review/${FED_MN}`);
      await type('tr[data-registration="1"] input[name=comment]', '同意，补交维修记录');
      await page.locator('tr[data-registration="1"] button.approve').click({ delay: 60 });
      await page.waitForFunction(
        () => document.querySelector('tr[data-registration="1"]')?.getAttribute('data-state') === 'approved',
      );
      expect(await text('.message')).toBe('登记 #1 已通过，已列入停运时段');
      expect(await text('tr[data-registration="1"]')).toContain('同意，补交维修记录');
      await page.waitForFunction(() =>
        document.querySelector('.shutdowns-table')?.textContent?.includes('不正常运行登记 #1'),
      );
      expect(await rates()).toMatchObject({ expected: before.expected - 3, received: before.received - 3 });
      await b.shot('registration');
      expect(faults).toEqual([]);
    },
  );

  it('lets an admin add an account, change its role, set its password and remove it, at a person’s pace', async () => {
    const { page } = b;
    const login = (user: string, password: string) =>
      fetch(`${scene.base}/session/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-requested-with': 'test' },
        body: JSON.stringify({ user, password }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { role?: string } }));
    // The link is an admin's: shown to this one (the token "ops").
    await page.click('nav a[href="#/users"]', { delay: 60 });
    await shown('#/users');
    expect(await text('#view h2')).toBe('用户管理');
    await type('form.add-user input[name=name]', 'zhangsan');
    await page.locator('form.add-user select[name=role]').selectOption({ label: '操作员' });
    await type('form.add-user input[name=password]', '值班密码-2026-一号');
    await page.locator('form.add-user button[type=submit]').click({ delay: 60 });
    const row = page.locator('tr[data-user="zhangsan"]');
    await row.waitFor();
    expect(await text('.message')).toBe('已添加用户 zhangsan（操作员）');
    expect(await row.innerText()).toContain('监控中心');
    expect((await login('zhangsan', '值班密码-2026-一号')).body.role).toBe('operator');

    // A weak password is refused with the API's reason, and nothing changes.
    await type('tr[data-user="zhangsan"] input[name=password]', '123456');
    await row.locator('button.set-password').click({ delay: 60 });
    await page.waitForFunction(() => document.querySelector('.message.error') !== null);
    expect(await text('.message')).toMatch(/password/);

    await row.locator('select[name=role]').selectOption({ label: '只读' });
    await page.waitForFunction(() => document.querySelector('.message')?.textContent?.includes('只读'));
    expect(await text('.message')).toBe('zhangsan 的角色已改为只读');
    await type('tr[data-user="zhangsan"] input[name=password]', '新的值班密码-2026-二号');
    await page.locator('tr[data-user="zhangsan"] button.set-password').click({ delay: 60 });
    await page.waitForFunction(() => document.querySelector('.message')?.textContent?.includes('会话已结束'));
    expect((await login('zhangsan', '值班密码-2026-一号')).status).toBe(401);
    expect((await login('zhangsan', '新的值班密码-2026-二号')).body.role).toBe('read');
    await b.shot('users');

    // Removing asks first; cancelling keeps the account, confirming removes it.
    await page.locator('tr[data-user="zhangsan"] button.ask-remove').click({ delay: 60 });
    expect(await text('tr[data-user="zhangsan"] .remove')).toContain('确认删除用户 zhangsan？');
    await page.locator('tr[data-user="zhangsan"] .remove button', { hasText: '取消' }).click({ delay: 60 });
    expect(await page.locator('tr[data-user="zhangsan"]').count()).toBe(1);
    await page.locator('tr[data-user="zhangsan"] button.ask-remove').click({ delay: 60 });
    await page.locator('tr[data-user="zhangsan"] button.confirm-remove').click({ delay: 60 });
    await page.waitForFunction(() => document.querySelector('tr[data-user="zhangsan"]') === null);
    expect(await text('.message')).toBe('已删除用户 zhangsan');
    expect((await login('zhangsan', '新的值班密码-2026-二号')).status).toBe(401);

    // A read-only token sees no link to the page, and the page says it is an admin's.
    await page.evaluate(() => localStorage.clear());
    await page.goto(`${scene.base}/#token=${READ}`);
    await page.locator('[data-figure="onlineRate"]').waitFor();
    expect(await page.locator('nav a[href="#/users"]').isVisible()).toBe(false);
    await page.evaluate(() => (location.hash = '#/users'));
    await shown('#/users');
    expect(await text('#view')).toContain('仅管理员可管理用户');
    expect(faults).toEqual([]);
  });

  it('titles a gas chart 折算 where its values are converted and 实测 where they are measured', async () => {
    const { page } = b;
    // Hour 00 of the scene's day at the gas outlet (O2 reference 6 %): SO2 with the logger's ZsAvg, NOx
    // without one (the cloud converts it with the O2 of the same upload), O2 itself measured.
    const client = await rawClient(scene.cloud.cloud.tcp!.address.port);
    const dataTime = new Date(scene.day0 + 8 * H).toISOString().slice(0, 19).replace(/[-T:]/g, '');
    client.socket.write(
      encodeFrame({
        version: '2017',
        qn: '20261201000000001',
        st: '31',
        cn: '2061',
        pw: 'x9y8z7',
        mn: GAS_MN,
        flag: 5,
        cp: {
          params: { DataTime: dataTime },
          factors: {
            a21026: { Avg: '20', ZsAvg: '25', Flag: 'N' },
            a21002: { Avg: '30', Flag: 'N' },
            a19001: { Avg: '11', Flag: 'N' },
          },
        },
      }),
    );
    await client.received(1);
    client.close();
    await page.evaluate(() => localStorage.clear());
    await page.goto(`${scene.base}/#token=${READ}`);
    await page.locator('[data-figure="onlineRate"]').waitFor();
    await page.evaluate((mn) => (location.hash = `#/station/${mn}?kind=hour`), GAS_MN);
    await shown(`#/station/${GAS_MN}`);
    const title = (code: string) => text(`.chart[data-factor="${code}"] h3`);
    expect(await title('a21026')).toMatch(/^二氧化硫（折算）/);
    expect(await title('a21002')).toMatch(/^氮氧化物（折算）/);
    expect(await title('a19001')).toMatch(/^氧气含量（实测）/);
    await b.shot('gas-chart');
    expect(faults).toEqual([]);
  });
});
