/// <reference lib="dom" />
// The callbacks given to page.evaluate and waitForFunction run in the browser.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, launchBrowser, type TestBrowser } from './helpers/dashboard-browser.js';
import {
  ADMIN,
  CLEAN_MN,
  FED_MN,
  GAS_MN,
  H,
  READ,
  SILENT_MN,
  startScene,
  type Scene,
} from './helpers/dashboard-scene.js';

if (!haveChromium) console.warn('dashboard browser tests skipped: /usr/bin/chromium is missing (apt install chromium)');

/** YYYY-MM-DD and YYYY-MM-DDTHH:MM of an instant in China time, as the dashboard's inputs take them. */
const china = (ms: number): string => new Date(ms + 8 * H).toISOString().slice(0, 16);

describe.skipIf(!haveChromium)('dashboard in a real browser', () => {
  let scene: Scene;
  let b: TestBrowser;
  const text = (selector: string) => b.page.locator(selector).first().innerText();
  /**
   * Waits until the dashboard has rendered an address containing `part` (it renders a page whole, once its data is in).
   */
  const shown = (part: string) =>
    b.page.waitForFunction((p) => document.getElementById('view')?.dataset['shown']?.includes(p), part);

  /** How many live refreshes the page has patched in, and a wait for the next one. */
  const refreshes = () => b.page.evaluate(() => Number(document.getElementById('view')?.dataset['refreshes'] ?? 0));
  const refreshedAfter = (n: number) =>
    b.page.waitForFunction((was) => Number(document.getElementById('view')?.dataset['refreshes'] ?? 0) > was, n);

  /** Uncaught script errors and content-security-policy refusals in the page. */
  const faults: string[] = [];

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
    'serves only the shell and the login form without a token, ' + 'then lists stations with their live state',
    async () => {
      const { page } = b;
      await page.goto(scene.base + '/');
      await page.locator('#login').waitFor();
      expect(await page.locator('#view').innerText()).toBe('');
      expect(await page.evaluate(async () => (await fetch('/stations')).status)).toBe(401);
      await b.shot('login');

      // A machine (or a test) hands its token over in the URL; people log in (dashboard-login-browser.test.ts).
      await page.goto(`${scene.base}/#token=${READ}`);
      // The home page is the overview; the stations are one click away.
      await page.locator('[data-figure="onlineRate"]').waitFor();
      await page.click('nav a[href="#/stations"]');
      await page.locator('table.stations').first().waitFor();
      expect(await text('#who')).toBe('viewer（只读）');
      const row = (mn: string) => `tr[data-mn="${mn}"]`;
      expect(await text(`${row(FED_MN)} .state`)).toBe('在线');
      expect(await text(`${row(SILENT_MN)} .state`)).toBe('离线');
      expect(await text(`${row(SILENT_MN)} .last-seen`)).toBe('从未上线');
      // Every COD value the simulator sends is over WS-01's 30 mg/L; the newest is a real-time one, so a
      // 预警 (orange), not 超标, with its flag.
      expect(await page.locator(`${row(FED_MN)} .current [data-factor="w01018"]`).getAttribute('class')).toBe('warn');
      expect(await text(`${row(FED_MN)} .current [data-factor="w01018"]`)).toMatch(/^化学需氧量 \d+(\.\d+)? mg\/L N$/);
      expect(Number(await text(`${row(FED_MN)} .open-alarms`))).toBeGreaterThan(0);
      // Hour 03 missing for all four factors: one open alarm event, as the alarm list shows it.
      expect(await text(`${row(CLEAN_MN)} .open-alarms`)).toBe('1');
      // Networking as regulators count it: one of two outlets online, none, all.
      expect(await text('[data-enterprise="示例化工有限公司"] .networking')).toBe('部分联网');
      expect(await text('[data-enterprise="示例电厂"] .networking')).toBe('未联网');
      expect(await text('[data-enterprise="示例水务有限公司"] .networking')).toBe('全部联网');
      expect(await page.locator(row(GAS_MN)).count()).toBe(1);
      // Units and names as appendix B and the operators read them, the flags with their legend.
      expect(await text(`${row(FED_MN)} .current [data-factor="w01001"]`)).toMatch(/^pH 值 \d+(\.\d+)? 无量纲 N$/);
      expect(await text(`${row(FED_MN)} .current [data-factor="w00000"]`)).toMatch(/^废水流量 \d+(\.\d+)? L\/s N$/);
      expect(await page.locator(`${row(FED_MN)} .current [data-factor="w01018"] .flag`).getAttribute('title')).toBe(
        'N 正常',
      );
      expect(await text('.flag-legend')).toBe(
        '数据标记: N 正常 · F 停运 · M 维护 · S 手工输入 · D 故障 · C 校准 · T 超测上限 · B 通讯异常',
      );
      expect(await text(`${row(FED_MN)} .last-seen`)).toMatch(/^\d{4}-\d\d-\d\d ([01]\d|2[0-3]):\d\d:\d\d$/);
      await b.shot('stations');
    },
  );

  it('updates the station list live when a logger uploads, without reloading the page', async () => {
    const { page } = b;
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));
    const cell = `tr[data-mn="${FED_MN}"] .last-seen`;
    const before = await text(cell);
    // Wall-clock seconds in the last-packet column: make sure the next packet arrives in a later one.
    await new Promise((r) => setTimeout(r, 1100));
    scene.clock.now += 30_000;
    await page.waitForFunction(([sel, was]) => document.querySelector(sel!)?.textContent !== was, [cell, before]);
    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.locator('#live').isVisible()).toBe(true);
  });

  it('opens on the overview, whose figures lead to the filtered lists', async () => {
    const { page } = b;
    await page.click('nav a[href="#/overview"]');
    await shown('#/overview');
    const figure = (key: string) => text(`[data-figure="${key}"] .figure-value`);
    // WS-01 and WS-03 online of four outlets; WS-02 and DA-01 never heard from.
    expect(await figure('onlineRate')).toBe('50.0%');
    expect(await figure('notReporting')).toBe('2');
    // WS-01's COD is over its 30 mg/L in every hour: the one station exceeding now.
    expect(await figure('exceedingNow')).toBe('1');
    // Hour 03 missing at WS-01 and WS-03: two events, whatever the number of factors.
    expect(await figure('alarm.missing-hour')).toBe('2');
    expect(await figure('todayEffectiveness')).toMatch(/^\d+\.\d%$/);
    expect(await page.getAttribute('[data-figure="todayEffectiveness"]', 'href')).toMatch(
      /^#\/report\?day=\d{4}-\d\d-\d\d$/,
    );
    await b.shot('overview');

    await page.click('[data-figure="exceedingNow"]');
    await shown('#/alarms?type=exceedance&state=open');
    const rows = await page
      .locator('table.alarms tbody tr')
      .evaluateAll((trs) => trs.map((r) => [r.getAttribute('data-type'), r.className]));
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.join(' ')))).toEqual(new Set(['exceedance open']));
    expect(await page.getAttribute('.tabs a.active', 'data-tab')).toBe('exceedance');

    await page.goBack();
    await shown('#/overview');
    await page.click('[data-figure="notReporting"]');
    await shown('#/stations?status=offline');
    const listed = await page
      .locator('table.stations tbody tr')
      .evaluateAll((trs) => trs.map((r) => r.getAttribute('data-mn')));
    expect(listed.sort()).toEqual([SILENT_MN, GAS_MN].sort());
  });

  it("narrows the region, enterprise and outlet tree to a searched MN or name, typed at a person's pace", async () => {
    const { page } = b;
    await page.click('nav a[href="#/stations"]');
    await page.waitForFunction(() => document.getElementById('view')?.dataset['shown'] === '#/stations');
    const outlets = () =>
      page.locator('.tree .tree-outlet').evaluateAll((lis) => lis.map((l) => l.getAttribute('data-mn')));
    const rows = () =>
      page.locator('table.stations tbody tr').evaluateAll((trs) => trs.map((r) => r.getAttribute('data-mn')));
    expect(await page.locator('.tree .tree-region').allInnerTexts()).toEqual(['城东区', '城西区']);
    expect((await outlets()).length).toBe(4);
    const search = page.locator('input[name=search]');
    await search.click();
    await search.pressSequentially('000C3', { delay: 150 });
    expect(await outlets()).toEqual([CLEAN_MN]);
    expect(await rows()).toEqual([CLEAN_MN]);
    expect(await page.locator('.tree .tree-region').allInnerTexts()).toEqual(['城西区']);
    // Live updates come and go: the search stays typed and the tree narrowed.
    for (let i = 0; i < 2; i++) {
      const seen = await refreshes();
      scene.clock.now += 30_000;
      await refreshedAfter(seen);
    }
    expect(await search.inputValue()).toBe('000C3');
    expect(await outlets()).toEqual([CLEAN_MN]);
    await b.shot('stations-search');
    await search.fill('');
    await search.pressSequentially('示例电厂', { delay: 150 });
    expect(await outlets()).toEqual([GAS_MN]);
    expect(await rows()).toEqual([GAS_MN]);
    await search.fill('');
    expect((await outlets()).length).toBe(4);
  });

  it(
    'charts hour data per factor over a chosen time range, with the limit, ' +
      'exceeding points, the missing hour and the shutdown',
    async () => {
      const { page } = b;
      await page.click(`tr[data-mn="${FED_MN}"] a`);
      await page.locator('form.filters').waitFor();
      await page.selectOption('select[name=kind]', 'hour');
      await page.fill('input[name=from]', china(scene.day0));
      await page.fill('input[name=to]', china(scene.day0 + 12 * H));
      await page.click('form.filters button[type=submit]');
      await shown('kind=hour');
      // 24-hour China time in the fields, whatever the browser's locale (a datetime-local field would say 12:00 PM).
      expect(await page.inputValue('input[name=to]')).toBe(china(scene.day0 + 12 * H).replace('T', ' '));
      expect(await page.inputValue('input[name=to]')).toMatch(/ 12:00$/);
      expect(await page.locator('.chart[data-factor="w01018"] canvas').count()).toBe(1);
      const cod = '.chart[data-factor="w01018"]';
      expect(await text(`${cod} .u-legend`)).toMatch(/标准限值 30/);
      // Hours 00-02 and 04-07 came, all over 30; hour 03 did not; 08:00 onwards is the shutdown. The
      // rules run on the real clock, and yesterday's hours came after they were due: all 7 are 补传.
      expect(await text(`${cod} .summary`)).toMatch(
        /^数据点 7 · 超标点 7 · 预警点 0 · 标记点 0 · 补传点 7 · 缺失小时 1停产时段 1 · 数据标记: N 正常$/,
      );
      expect(await text('.chart[data-factor="w01001"] .u-legend')).toMatch(/标准限值 9.*下限 6/s);
      expect(await text('.chart[data-factor="w01001"] .exceed-count')).toBe('超标点 0');
      await b.shot('station-hour');
    },
  );

  it('keeps a drag-zoom on a chart through several live updates', async () => {
    const { page } = b;
    const chart = page.locator('.chart[data-factor="w01018"]');
    const shownRange = async () => [
      await chart.getAttribute('data-shown-from'),
      await chart.getAttribute('data-shown-to'),
    ];
    expect(await shownRange()).toEqual([String(scene.day0), String(scene.day0 + 12 * H)]);
    // Drag across the middle third of the plot, as a person would, in steps.
    const over = chart.locator('.u-over');
    const box = (await over.boundingBox())!;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width / 3, y);
    await page.mouse.down();
    await page.mouse.move(box.x + (box.width * 2) / 3, y, { steps: 12 });
    await page.mouse.up();
    const zoomed = await shownRange();
    expect(Number(zoomed[0])).toBeGreaterThan(scene.day0 + 3 * H);
    expect(Number(zoomed[1])).toBeLessThan(scene.day0 + 9 * H);
    // The loggers send real-time data; each upload is a live event for this station, and the page re-reads its data.
    for (let update = 0; update < 3; update++) {
      const seen = await refreshes();
      scene.clock.now += 30_000;
      await refreshedAfter(seen);
      expect(await shownRange()).toEqual(zoomed);
    }
    await b.shot('station-zoom-kept');
    // A double click zooms out to the whole range, as before.
    await over.dblclick();
    expect(await shownRange()).toEqual([String(scene.day0), String(scene.day0 + 12 * H)]);
  });

  it('opens a station on its newest data, not on the wall clock', async () => {
    const { page } = b;
    await page.goto(`${scene.base}/#/station/${FED_MN}`);
    // This very address, not the ranged one shown before (which contains it).
    await page.waitForFunction((p) => document.getElementById('view')?.dataset['shown'] === p, `#/station/${FED_MN}`);
    // The loggers' clock is on yesterday, a few minutes past 08:00: the day's hour data ends at 09:00 and the
    // default 24 hours go back to 09:00 the day before.
    expect(await page.inputValue('input[name=to]')).toBe(china(scene.day0 + 9 * H).replace('T', ' '));
    expect(await page.inputValue('input[name=from]')).toBe(china(scene.day0 - 15 * H).replace('T', ' '));
    // Yesterday's hours 00-07 but 03: the chart opens on them, not on an empty day.
    expect(await text('.chart[data-factor="w01018"] .summary')).toMatch(/^数据点 7 /);
  });

  it('lists alarms by kind, and lets an admin acknowledge one with a comment', async () => {
    const { page } = b;
    await page.click('nav a[href="#/alarms"]');
    await page.locator('table.alarms').waitFor();
    await page.selectOption('select[name=type]', 'exceedance');
    await page.click('form.filters button[type=submit]');
    await shown('type=exceedance');
    const types = await page
      .locator('table.alarms tbody tr')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-type')));
    expect(types.length).toBeGreaterThan(0);
    expect(new Set(types)).toEqual(new Set(['exceedance']));
    // A read token sees no acknowledge button.
    expect(await page.locator('.ack-form').count()).toBe(0);

    await page.goto(`${scene.base}/#token=${ADMIN}`);
    await page.waitForFunction(() => document.getElementById('who')?.textContent === 'ops（管理员）');
    expect(await page.evaluate(() => location.hash)).toBe('#/overview');
    await page.goto(`${scene.base}/#/alarms?type=missing-hour&mn=${FED_MN}`);
    const first = page.locator('table.alarms tbody tr').first();
    await first.locator('.ack-form').waitFor();
    expect(await first.locator('td').nth(2).innerText()).toBe('小时数据缺失');
    const id = await first.getAttribute('data-alarm');
    await first.locator('input[name=comment]').fill('已通知企业补传');
    await first.locator('.ack-form button').click();
    const acked = page.locator(`tr[data-alarm="${id}"] .ack`);
    await acked.waitFor();
    expect(await acked.innerText()).toMatch(/^ops · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\n已通知企业补传$/);
    await b.shot('alarms');
    await page.reload();
    expect(await page.locator(`tr[data-alarm="${id}"] .ack`).innerText()).toMatch(/已通知企业补传/);
    // Factor names, never codes, and 24-hour times.
    const factors = await page.locator('table.alarms td.factor .factor-name').allInnerTexts();
    expect(factors.length).toBeGreaterThan(0);
    expect(factors.filter((x) => /^[wa]\d{5}$/.test(x))).toEqual([]);
    expect(factors).toContain('化学需氧量');
    for (const opened of await page.locator('table.alarms tbody tr td:nth-child(6)').allInnerTexts())
      expect(opened).toMatch(/^\d{4}-\d\d-\d\d ([01]\d|2[0-3]):\d\d:\d\d$/);
  });

  it(
    "keeps a comment being typed, at a person's pace, while live " + 'updates come for several refresh periods',
    async () => {
      const { page } = b;
      await page.goto(`${scene.base}/#/alarms?type=warning&mn=${FED_MN}&state=open`);
      await shown('type=warning');
      const row = page.locator('table.alarms tbody tr').first();
      const id = await row.getAttribute('data-alarm');
      const input = page.locator(`tr[data-alarm="${id}"] input[name=comment]`);
      await input.click();
      const words = ['已电话', '通知企业', '环保负责人，', '要求', '今日内', '排查原因'];
      const before = await refreshes();
      for (const word of words) {
        const seen = await refreshes();
        // New real-time values of the COD over its limit: the open 预警 rows' values change while the comment is
        // typed.
        scene.clock.now += 30_000;
        await input.pressSequentially(word, { delay: 120 });
        await refreshedAfter(seen);
      }
      // Every word typed saw a live refresh of the list (at most one per 2 s, so this took several periods).
      expect((await refreshes()) - before).toBeGreaterThanOrEqual(words.length);
      expect(await input.inputValue()).toBe(words.join(''));
      expect(await input.evaluate((el) => el === document.activeElement)).toBe(true);
      await b.shot('alarms-typing');
      await page.locator(`tr[data-alarm="${id}"] .ack-form button`).click();
      const acked = page.locator(`tr[data-alarm="${id}"] .ack`);
      await acked.waitFor();
      expect(await acked.innerText()).toContain(words.join(''));
    },
  );

  it('lists a missing hour as one row naming its factors, with the time it was raised', async () => {
    const { page } = b;
    await page.goto(`${scene.base}/#/alarms?type=missing-hour&mn=${FED_MN}`);
    await shown(`type=missing-hour&mn=${FED_MN}`);
    const rows = page.locator('table.alarms tbody tr');
    expect(await rows.count()).toBe(1);
    expect((await rows.first().locator('.factor-name').allInnerTexts()).sort()).toEqual(
      ['化学需氧量', '氨氮', 'pH 值', '废水流量'].sort(),
    );
    expect(await rows.first().locator('td.raised-at').innerText()).toMatch(
      /^\d{4}-\d\d-\d\d ([01]\d|2[0-3]):\d\d:\d\d$/,
    );
    await page.click('.tabs a[data-tab="warning"]');
    await shown('type=warning');
    const types = await page
      .locator('table.alarms tbody tr')
      .evaluateAll((trs) => trs.map((r) => r.getAttribute('data-type')));
    expect(new Set(types)).toEqual(new Set(['warning']));
  });

  it(
    "sets a follow-up state with a comment typed at a person's pace, and " +
      'keeps it in the trail through live refreshes',
    async () => {
      const { page } = b;
      await page.goto(`${scene.base}/#/alarms?type=exceedance&mn=${FED_MN}&state=open`);
      await shown('type=exceedance');
      const id = await page.locator('table.alarms tbody tr').first().getAttribute('data-alarm');
      const row = `tr[data-alarm="${id}"]`;
      await page.selectOption(`${row} .follow-up-form select[name=state]`, 'notified');
      const input = page.locator(`${row} input[name=followUpComment]`);
      await input.click();
      const words = ['已电话', '通知企业', '排查', 'COD 超标'];
      for (const word of words) {
        const seen = await refreshes();
        scene.clock.now += 30_000;
        await input.pressSequentially(word, { delay: 120 });
        await refreshedAfter(seen);
      }
      expect(await input.inputValue()).toBe(words.join(''));
      await page.click(`${row} .follow-up-form button`);
      const trail = page.locator(`${row} .trail li`);
      await trail.first().waitFor();
      const entry = /^已通知企业 ops · \d{4}-\d\d-\d\d ([01]\d|2[0-3]):\d\d:\d\d · 已电话通知企业排查COD 超标$/;
      expect(await trail.first().innerText()).toMatch(entry);
      for (let i = 0; i < 2; i++) {
        const seen = await refreshes();
        scene.clock.now += 30_000;
        await refreshedAfter(seen);
      }
      expect(await trail.count()).toBe(1);
      expect(await trail.first().innerText()).toMatch(entry);
      // Then dealt with: 已处理 joins the trail below the first change.
      await page.selectOption(`${row} .follow-up-form select[name=state]`, 'handled');
      await input.pressSequentially('企业已更换药剂', { delay: 80 });
      await page.click(`${row} .follow-up-form button`);
      await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 2, `${row} .trail li`);
      await b.shot('alarms-follow-up');
      await page.reload();
      await shown('type=exceedance');
      expect(
        await page.locator(`${row} .trail li`).evaluateAll((lis) => lis.map((l) => l.getAttribute('data-state'))),
      ).toEqual(['notified', 'handled']);
      expect(await page.locator(`${row} .trail li .trail-comment`).allInnerTexts()).toEqual([
        '已电话通知企业排查COD 超标',
        '企业已更换药剂',
      ]);
      expect(await page.getAttribute(row, 'data-follow-up')).toBe('handled');
    },
  );

  it('lists 预警 as its own kind: the real-time and minute COD values over the limit', async () => {
    const { page } = b;
    await page.goto(`${scene.base}/#/alarms?type=warning&mn=${FED_MN}`);
    await shown('type=warning');
    const rows = page.locator('table.alarms tbody tr');
    const kinds = await rows.evaluateAll((trs) =>
      trs.map((r) => [
        r.getAttribute('data-type'),
        r.querySelectorAll('td')[2]?.textContent,
        r.querySelectorAll('td')[4]?.textContent,
      ]),
    );
    // COD over 30 in every real-time and minute record: one episode of each kind, both open.
    expect(kinds.sort()).toEqual([
      ['warning', '预警', '分钟'],
      ['warning', '预警', '实时'],
    ]);
  });

  it('reports the day per outlet and exports it as CSV', async () => {
    const { page } = b;
    const day = china(scene.day0).slice(0, 10);
    await page.click('nav a[href="#/report"]');
    await shown('#/report');
    // Opened with no day: the day of the newest data (the loggers' clock is on yesterday), not today.
    expect(await page.inputValue('input[name=period]')).toBe(day);
    await page.fill('input[name=period]', day);
    await page.click('form.filters button[type=submit]');
    await shown(`#/report?day=${day}`);
    const row = (mn: string, col: string) => text(`table.report tr[data-mn="${mn}"] .${col}`);
    // 8 hours expected (the rest of the day was a shutdown), 7 received, all valid; hour 03 missing.
    expect([
      await row(FED_MN, 'transmission'),
      await row(FED_MN, 'validity'),
      await row(FED_MN, 'effectiveness'),
      await row(FED_MN, 'missing'),
      await row(FED_MN, 'exceeding'),
    ]).toEqual(['87.5%', '100.0%', '87.5%', '1', '7']);
    expect(await row(CLEAN_MN, 'exceeding')).toBe('0');
    expect(await row(SILENT_MN, 'transmission')).toBe('0.0%');
    await b.shot('report');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.csv')]);
    expect(download.suggestedFilename()).toBe(`hj212-report-${day}.csv`);
    const csv = await readFile((await download.path())!, 'utf8');
    // Then a column per pollutant with an amount (the simulator sends Cou with its hours).
    expect(csv.split('\r\n')[0]).toBe(
      '\uFEFF日期,企业名称,排口名称,MN,传输率(%),有效率(%),传输有效率(%),缺失小时数,' +
        '超标小时数,补传小时数,手工监测数据(条),' +
        '化学需氧量排放量 (kg),氨氮排放量 (kg),废水排放量 (m3)',
    );
    expect(csv).toMatch(
      new RegExp(`\r\n${day},示例化工有限公司,WS-01,${FED_MN},87.5,100.0,87.5,1,7,7,0,[\\d.]+,[\\d.]+,[\\d.]+\r\n`),
    );
    const amounts = await text('table.report-emissions thead');
    expect(amounts).toContain('化学需氧量 (kg)');
    expect(amounts).toContain('废水排放量 (m3)');
    expect(await text(`table.report-emissions tr[data-mn="${FED_MN}"] td.amount`)).toMatch(/^\d+(\.\d+)?$/);
    expect(await row(FED_MN, 'backfilled')).toBe('7');
    // No manual result was entered in the scene: 0, linking to the station's manual-results history.
    expect(await row(FED_MN, 'manual')).toBe('0');
    // The enterprise line pools its outlets: WS-01 7 of 8 hours x 3 assessed factors, WS-02 (silent, no
    // monitoring start) 0 of 24 x 3: 21 / 96 = 21.9 %.
    expect(await text('table.report-enterprises tr[data-enterprise="示例化工有限公司"] .transmission')).toBe('21.9%');
  });

  it(
    'opens the history of a station, switches the kind, exports it as ' + 'CSV, and opens and prints a monthly report',
    async () => {
      const { page } = b;
      const day = china(scene.day0).slice(0, 10);
      await page.click('nav a[href="#/history"]', { delay: 60 });
      await shown('#/history');
      // The first outlet of the list opens; another is picked from the list, then back.
      expect(await page.inputValue('select[name=mn]')).toBe(FED_MN);
      await page.selectOption('select[name=mn]', CLEAN_MN);
      await shown(`#/history/${CLEAN_MN}?kind=hour`);
      await page.selectOption('select[name=mn]', FED_MN);
      await shown(`#/history/${FED_MN}?kind=hour`);
      // Opened on the station's newest data: its hours 00-02 and 04-07 of day0, newest first, one page.
      expect(await text('.pager .count')).toBe('第 1 / 1 页，共 7 条');
      const header = await text('table.history-table thead');
      expect(header).toContain('化学需氧量');
      expect(header).toContain('均值 (mg/L)');
      expect(header).toContain('标记');
      expect(await text('table.history-table tbody tr td.time')).toBe(`${day} 07:00:00`);
      expect(await text('table.history-table tbody tr td.flag')).toBe('N 正常');
      expect(await text('.history .legend')).toContain('D 故障');
      await b.shot('history-hour');
      await page.selectOption('select[name=kind]', 'minute');
      await shown(`#/history/${FED_MN}?kind=minute`);
      expect(await page.locator('table.history-table tbody tr').count()).toBeGreaterThan(1);
      expect(await text('#view h2')).toBe('历史数据 · 示例化工有限公司 · WS-01 · 分钟');
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('button.csv', { delay: 60 })]);
      expect(download.suggestedFilename()).toBe(`hj212-history-${FED_MN}-minute.csv`);
      const csv = (await readFile((await download.path())!, 'utf8')).split('\r\n');
      expect(csv[0]).toMatch(/^\uFEFF数据时间,化学需氧量 均值 \(mg\/L\),/);
      // Newest first, 24-hour China time of day0.
      expect(csv[1]).toMatch(new RegExp(`^${day} 0[0-8]:\\d0:00,`));

      await page.click('nav a[href="#/report"]', { delay: 60 });
      await shown('#/report');
      await page.selectOption('select[name=kind]', 'month');
      await shown(`#/report?month=${day.slice(0, 7)}`);
      expect(await text('#view h2')).toBe(`月报 ${day.slice(0, 7)}`);
      expect(await page.locator(`table.report tr[data-mn="${FED_MN}"]`).count()).toBe(1);
      expect(await text('h3 >> nth=1')).toBe('排放量');
      // Printed: the tables without the header, the filters and the buttons.
      await page.emulateMedia({ media: 'print' });
      expect(await page.locator('form.filters').isVisible()).toBe(false);
      expect(await page.locator('header').isVisible()).toBe(false);
      expect(await page.locator('table.report').isVisible()).toBe(true);
      await b.shot('report-month-print');
      await page.emulateMedia({ media: 'screen' });
      // The quarter holding that month, typed as YYYY-Qn.
      const quarter = `${day.slice(0, 4)}-Q${Math.ceil(Number(day.slice(5, 7)) / 3)}`;
      await page.selectOption('select[name=kind]', 'quarter');
      await shown(`#/report?quarter=${quarter}`);
      expect(await page.inputValue('input[name=period]')).toBe(quarter);
      expect(await text('#view h2')).toBe(`季报 ${quarter}`);
    },
  );

  it('switches the labels to English and back', async () => {
    const { page } = b;
    await page.click('nav a[href="#/stations"]');
    await page.locator('table.stations').first().waitFor();
    await page.click('#lang');
    // The shell is relabelled at once, the page when it has been rendered again.
    await page.waitForFunction(
      () =>
        document.querySelector('nav a[href="#/stations"]')?.textContent === 'Stations' &&
        document.querySelector('table.stations th')?.textContent === 'Outlet',
    );
    expect(await text('[data-enterprise="示例化工有限公司"] .networking')).toBe('partly connected');
    expect(await text(`tr[data-mn="${SILENT_MN}"] .state`)).toBe('offline');
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await b.shot('stations-en');
    await page.reload();
    await page.locator('table.stations').first().waitFor();
    expect(await text('table.stations th')).toBe('Outlet');
    await page.click('#lang');
    await page.waitForFunction(() => document.querySelector('table.stations th')?.textContent === '排口');
  });

  it('ran every page without a script error or a refused resource', () => {
    expect(faults).toEqual([]);
  });
});
