/// <reference lib="dom" />
// The callbacks given to page.evaluate and waitForFunction run in the browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchBrowser, type TestBrowser } from './helpers/dashboard-browser.js';
import { ADMIN, CLEAN_MN, FED_MN, H, READ, startScene, type Scene } from './helpers/dashboard-scene.js';

if (!haveChromium) console.warn('dashboard control browser tests skipped: /usr/bin/chromium is missing');

/** YYYYMMDDhhmmss of an instant in China time, as a request's SystemTime (HJ 212-2017 table 4). */
const hjTime = (ms: number): string => new Date(ms + 8 * H).toISOString().slice(0, 19).replace(/[-T:]/g, '');

/** YYYY-MM-DD HH:MM of an instant in China time, as the dashboard's time fields take it. */
const china = (ms: number): string => new Date(ms + 8 * H).toISOString().slice(0, 16).replace('T', ' ');

describe.skipIf(!haveChromium)('station page in a real browser: 反控 and the chart’s lines and shading', () => {
  let scene: Scene;
  let b: TestBrowser;
  const faults: string[] = [];
  const shown = (part: string) =>
    b.page.waitForFunction((p) => document.getElementById('view')?.dataset['shown']?.includes(p), part);
  const refreshes = () => b.page.evaluate(() => Number(document.getElementById('view')?.dataset['refreshes'] ?? 0));
  const refreshedAfter = (n: number) =>
    b.page.waitForFunction((was) => Number(document.getElementById('view')?.dataset['refreshes'] ?? 0) > was, n);
  const stationPage =
    (token: string, mn = FED_MN) =>
    async () => {
      const { page } = b;
      await page.goto(scene.base + '/');
      await page.evaluate(() => localStorage.clear());
      // A machine (or a test) hands its token over in the URL; people log in (dashboard-login-browser.test.ts).
      await page.goto(`${scene.base}/#token=${token}`);
      await page.locator('[data-figure="onlineRate"]').waitFor();
      const q = new URLSearchParams({ kind: 'hour', from: String(scene.day0), to: String(scene.day0 + 12 * H) });
      await page.evaluate((hash) => (location.hash = hash), `#/station/${mn}?${q}`);
      await shown(`#/station/${mn}`).catch(async (e: Error) => {
        throw new Error(`${e.message}: ${await page.locator('#view').innerText()} ${faults.join('; ')}`);
      });
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

  it('draws the limit line, the missing hour and the shutdown as shaded periods of the chart', async () => {
    await stationPage(ADMIN)();
    const cod = b.page.locator('.chart[data-factor="w01018"]');
    // WS-01's COD limit is 30 mg/L (dashboard-scene.ts), the line of the hour data shown.
    expect(await cod.locator('.u-legend').innerText()).toMatch(/标准限值 30/);
    // Hour 03 of day0 did not come: one grey period from 03:00 to 04:00; the shutdown from 08:00 on.
    const missing = cod.locator('.u-under .band-missing');
    expect(await missing.count()).toBe(1);
    expect(await missing.getAttribute('data-from')).toBe(String(scene.day0 + 3 * H));
    expect(await missing.getAttribute('data-to')).toBe(String(scene.day0 + 4 * H));
    const shutdown = cod.locator('.u-under .band-shutdown');
    expect(await shutdown.getAttribute('data-from')).toBe(String(scene.day0 + 8 * H));
    // Twelve hours across the plot: the missing hour is a twelfth of its width, the shutdown a third.
    const plot = (await cod.locator('.u-under').boundingBox())!;
    const hour = (await missing.boundingBox())!;
    expect(hour.width).toBeCloseTo(plot.width / 12, 0);
    expect(hour.x - plot.x).toBeCloseTo((plot.width * 3) / 12, 0);
    expect((await shutdown.boundingBox())!.width).toBeCloseTo((plot.width * 4) / 12, 0);
    // Every hour came late (the scene's day is yesterday): seven back-filled hours shaded too.
    expect(await cod.locator('.u-under .band-backfilled').count()).toBe(7);
    // Only N flags in the range: no flag colour in the legend.
    expect(await cod.locator('.u-legend .u-series[class*="flag-"]:not([hidden])').count()).toBe(0);
    await b.shot('control-chart');
  });

  it('sets the real-time interval at a person’s pace, after a confirmation, and shows the 9011 and 9012', async () => {
    const { page } = b;
    const panel = page.locator('section.control');
    await panel.scrollIntoViewIfNeeded();
    await panel.locator('select[name=cn]').selectOption({ label: '设置实时数据间隔（1062）' });
    const field = panel.locator('input[name=RtdInterval]');
    await field.click();
    await field.pressSequentially('60', { delay: 150 });
    await panel.locator('form.control-form button[type=submit]').click();
    // A setting is not sent until confirmed: nothing is listed yet.
    const confirm = panel.locator('.confirm');
    await confirm.waitFor();
    expect(await confirm.innerText()).toMatch(/设置实时数据间隔（1062） RtdInterval=60/);
    expect(await panel.locator('tr[data-command]').count()).toBe(0);
    await b.shot('control-confirm');
    await confirm.locator('button.confirm-send').click();

    // The logger simulator answers 9011 (QnRtn=1) then 9012 (ExeRtn=1): the row turns 完成 through the live updates.
    const row = panel.locator('tr[data-command]').first();
    await page.waitForFunction(() => document.querySelector('tr[data-command] .cmd-state')?.textContent === '完成');
    expect(await row.locator('.cmd-name').innerText()).toBe('设置实时数据间隔（1062）');
    expect(await row.locator('.cmd-params').innerText()).toBe('RtdInterval=60');
    expect(await row.locator('.answer[data-cn="9011"]').innerText()).toBe('9011 请求应答 QnRtn=1 准备执行请求');
    expect(await row.locator('.answer[data-cn="9012"]').innerText()).toBe('9012 执行结果 ExeRtn=1 执行成功');
    // And the cloud recorded it so, with who sent it.
    const [record] = (await (
      await fetch(`${scene.base}/stations/${FED_MN}/commands`, { headers: { authorization: `Bearer ${READ}` } })
    ).json()) as { cn: string; by: string; state: string; cp: { params: Record<string, string> } }[];
    expect(record).toMatchObject({ cn: '1062', by: 'ops', state: 'done', cp: { params: { RtdInterval: '60' } } });
    await b.shot('control-done');
  });

  it('sets the logger’s time to the centre’s (the cloud’s clock) after a confirmation', async () => {
    const { page } = b;
    const panel = page.locator('section.control');
    await panel.locator('select[name=cn]').selectOption({ label: '设置现场机时间（1012）' });
    expect(await panel.locator('form.control-form').innerText()).toMatch(/以中心当前时间校时/);
    const before = hjTime(Date.now());
    await panel.locator('form.control-form button[type=submit]').click();
    await panel.locator('.confirm').waitFor();
    await panel.locator('.confirm button.confirm-send').click();
    await page.waitForFunction(
      () =>
        document.querySelector('tr[data-command] .cmd-name')?.textContent?.includes('1012') &&
        document.querySelector('tr[data-command] .cmd-state')?.textContent === '完成',
    );
    const after = hjTime(Date.now());
    // The scene's cloud runs on the real clock: SystemTime is between the click and the answer, China time.
    const sent = /^SystemTime=(\d{14})$/.exec(await panel.locator('tr[data-command] .cmd-params').first().innerText());
    expect(sent).not.toBeNull();
    expect(sent![1]! >= before && sent![1]! <= after).toBe(true);
  });

  it('keeps a history request being typed through live updates', async () => {
    const { page } = b;
    const panel = page.locator('section.control');
    await panel.locator('select[name=cn]').selectOption({ label: '取污染物小时数据（2061）' });
    const begin = panel.locator('input[name=BeginTime]');
    await begin.click();
    await begin.fill('');
    const typed = china(scene.day0 + 3 * H);
    await begin.pressSequentially(typed.slice(0, 8), { delay: 120 });
    for (let i = 0; i < 2; i++) {
      const seen = await refreshes();
      // The logger sends real-time data every 60 s now (the request above).
      scene.clock.now += 60_000;
      await refreshedAfter(seen);
    }
    await begin.pressSequentially(typed.slice(8), { delay: 120 });
    expect(await begin.inputValue()).toBe(typed);
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe('BeginTime');
    const end = panel.locator('input[name=EndTime]');
    await end.fill(china(scene.day0 + 3 * H));
    // A history request changes nothing: it goes at once, and the logger re-sends hour 03.
    await panel.locator('form.control-form button[type=submit]').click();
    await page.waitForFunction(() =>
      Array.from(document.querySelectorAll('tr[data-command]')).some(
        (r) =>
          r.querySelector('.cmd-name')?.textContent?.includes('2061') && r.querySelector('.answer[data-cn="2061"]'),
      ),
    );
    const row = panel.locator('tr[data-command]').first();
    expect(await row.locator('.cmd-params').innerText()).toBe(
      `BeginTime=${typed.replace(/[- :]/g, '')}00 EndTime=${typed.replace(/[- :]/g, '')}00`,
    );
    expect(await row.locator('.answer[data-cn="2061"]').innerText()).toMatch(/^2061 上传污染物小时数据/);
    await b.shot('control-history');
  });

  it('shows a read-only account the requests but no form', async () => {
    await stationPage(READ)();
    const panel = b.page.locator('section.control');
    expect(await panel.locator('form').count()).toBe(0);
    expect(await panel.innerText()).toMatch(/本账号只能查看请求记录/);
    expect(await panel.locator('tr[data-command]').count()).toBe(3);
    // WS-03 warns from 80 % of its 100 mg/L COD limit: both lines on its chart.
    await stationPage(READ, CLEAN_MN)();
    expect(await b.page.locator('.chart[data-factor="w01018"] .u-legend').innerText()).toMatch(
      /标准限值 100.*预警值 80/s,
    );
    expect(faults).toEqual([]);
  });
});
