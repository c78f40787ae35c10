/// <reference lib="dom" />
// The callbacks given to page.evaluate and waitForFunction run in the browser.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  haveChromium,
  latinWords,
  launchBrowser,
  messageIs,
  openAs as open,
  shownView as shown,
  typeInto as type,
  type TestBrowser,
} from './helpers/dashboard-browser.js';
import { GAS_MN, WATER_MN } from './helpers/cloud-fixtures.js';
import { ADMIN, CHEM, scopedCloud, WEST, type apiCloud } from './helpers/dashboard-api.js';

if (!haveChromium) console.warn('dashboard plans browser tests skipped: /usr/bin/chromium is missing');

const at = (iso: string) => Date.parse(iso);

/** Opens the dashboard with a token, as a link handed to a person does, and waits for the first page. */

describe.skipIf(!haveChromium)('监测方案 page in a real browser', () => {
  let cloud: Awaited<ReturnType<typeof apiCloud>>;
  /** The enterprise's operator (示例化工有限公司) and the centre's admin, each in a browser of their own. */
  let chem: TestBrowser;
  let centre: TestBrowser;
  const faults: string[] = [];
  // The centre's clock, moved by hand: the plan is approved on 2026-01-10, the result entered on 2026-03-05.
  const clock = { now: at('2026-01-10T10:00:00+08:00') };

  beforeAll(async () => {
    [cloud, chem, centre] = await Promise.all([
      scopedCloud({ clock: { wall: () => clock.now, mono: () => performance.now() } }),
      launchBrowser(),
      launchBrowser(),
    ]);
    for (const b of [chem, centre]) {
      b.page.on('pageerror', (e) => faults.push(e.message));
      b.page.on('console', (m) => /Content Security Policy/.test(m.text()) && faults.push(m.text()));
    }
  });
  afterAll(async () => {
    await chem?.close();
    await centre?.close();
    await cloud?.c.stop();
  });

  it(
    'takes a plan from the enterprise, the centre’s approval, then ' + 'a manual result and its completion rate',
    async () => {
      const { page } = chem;
      await open(page, cloud.base, CHEM);
      await page.click('nav a[href="#/plans"]', { delay: 60 });
      await shown(page, '#/plans');
      expect(await page.locator('#view h2').innerText()).toBe('监测方案 · 示例化工有限公司 · WS-01');
      // Its own outlet only: 示例电厂's is not listed, and it has no review queue.
      expect(await page.locator('#view select[name=mn] option').allInnerTexts()).toEqual(['示例化工有限公司 · WS-01']);
      expect(await page.locator('.plan-queue').count()).toBe(0);
      expect(await page.locator('.plans').innerText()).toBe('暂无方案');

      // COD, NH3-N and pH automatic (continuous), the flow left out, suspended solids (悬浮物) by hand twice a
      // month.
      await page.locator('tr[data-item="w00000"] select[name=mode]').selectOption({ label: '不列入' });
      await type(page, 'tr.other-item input[name=factor]', 'w01012');
      await type(page, 'tr.other-item input[name=times]', '2');
      await page.locator('tr.other-item select[name=per]').selectOption({ label: '月' });
      await type(page, 'tr.other-item input[name=methodSource]', 'GB 11901-1989');
      // The method forgotten: the API's refusal, naming the item and the field in the page's words.
      await page.locator('form.plan-form button[type=submit]').click({ delay: 60 });
      await page.waitForFunction(() => document.querySelector('.message.error') !== null);
      expect(await page.locator('.message').innerText()).toBe(
        '未接受：第 4 项（悬浮物） 监测方法 — give the method (监测方法)',
      );
      await type(page, 'tr.other-item input[name=method]', '重量法');
      await page.locator('form.plan-form button[type=submit]').click({ delay: 60 });
      await messageIs(page, '已提交方案 #1，待审核');
      const row = page.locator('.plans-table tr[data-plan="1"]');
      expect(await row.getAttribute('data-state')).toBe('submitted');
      expect(await row.locator('td.state').innerText()).toBe('待审核');
      expect(await row.locator('.plan-items li').allInnerTexts()).toEqual([
        '化学需氧量 自动监测（连续）',
        '氨氮 自动监测（连续）',
        'pH 值 自动监测（连续）',
        '悬浮物 手工 2次/月，重量法（GB 11901-1989）',
      ]);
      // The signed scan attached to it.
      await row.locator('input[type=file]').setInputFiles({
        name: '监测方案-签章.pdf',
        mimeType: 'application/pdf',
        buffer: Buffer.from('%PDF-1.4\n% signed plan\n'),
      });
      await messageIs(page, '方案 #1 已上传签章扫描件 监测方案-签章.pdf');
      expect(await page.locator('.plans-table tr[data-plan="1"] button.download').innerText()).toBe(
        '监测方案-签章.pdf',
      );
      // The plan to print, sign and stamp: a PDF download named after it.
      const [pdf] = await Promise.all([
        page.waitForEvent('download'),
        page.click('.plans-table tr[data-plan="1"] button.pdf'),
      ]);
      expect(pdf.suggestedFilename()).toBe(`hj212-plan-1-${WATER_MN}.pdf`);
      expect((await readFile((await pdf.path())!)).subarray(0, 5).toString()).toBe('%PDF-');
      expect(await page.locator('button.approve').count()).toBe(0);
      await chem.shot('plan-submitted');

      // A second plan, COD alone, submitted the same day (through the API): the centre will reject it.
      const second = await cloud.call('POST', `/stations/${WATER_MN}/plans`, {
        token: CHEM,
        json: { items: [{ factor: 'w01018', mode: 'automatic' }] },
      });
      expect(second.body.id).toBe(2);

      // The centre's admin, in a browser of its own: both plans are in its review queue; it decides each once.
      const c = centre.page;
      await open(c, cloud.base, ADMIN);
      await c.click('nav a[href="#/plans"]', { delay: 60 });
      await shown(c, '#/plans');
      // A rejection says why: refused without a comment, named in the page's words.
      await c.locator('.plan-queue-table tr[data-plan="2"] button.reject').click({ delay: 60 });
      await c.waitForFunction(() => document.querySelector('.message.error') !== null);
      expect(await c.locator('.message').innerText()).toBe('未接受：审核意见 — say why it is rejected');
      await type(c, '.plan-queue-table tr[data-plan="2"] input[name=comment]', '缺少手工监测项目');
      await c.locator('.plan-queue-table tr[data-plan="2"] button.reject').click({ delay: 60 });
      await messageIs(c, '方案 #2 已驳回');
      expect(await c.locator('.plan-queue-table tbody tr').count()).toBe(1);
      const queued = c.locator('.plan-queue-table tr[data-plan="1"]');
      expect(await queued.innerText()).toContain('示例化工有限公司 · WS-01');
      await type(c, '.plan-queue-table tr[data-plan="1"] input[name=comment]', '同意，按方案开展监测');
      await queued.locator('button.approve').click({ delay: 60 });
      await messageIs(c, '方案 #1 已通过，现已生效');
      expect(await c.locator('.plan-queue').innerText()).toBe('暂无待审核方案');
      expect(await latinWords(c)).toEqual([]);
      await centre.shot('plan-approved');

      // Back with the enterprise on 2026-03-05: the plan is in force (生效) and takes a result of 2026-02-10.
      clock.now = at('2026-03-05T12:00:00+08:00');
      await page.reload();
      await shown(page, '#/plans');
      const rejected = page.locator('.plans-table tr[data-plan="2"]');
      expect(await rejected.getAttribute('data-state')).toBe('rejected');
      expect(await rejected.innerText()).toContain('已驳回');
      expect(await rejected.innerText()).toContain('缺少手工监测项目');
      const approved = page.locator('.plans-table tr[data-plan="1"]');
      expect(await approved.getAttribute('data-state')).toBe('in-force');
      expect(await approved.locator('td.state').innerText()).toBe('已通过 · 生效');
      expect(await approved.innerText()).toContain('ops · 2026-01-10 10:00:00 · 同意，按方案开展监测');
      await type(page, 'form.year-form input[name=year]', '2026');
      await page.locator('form.year-form button[type=submit]').click({ delay: 60 });
      // Twice a month from 2026-01-10, on 2026-03-05: January and February have ended after the plan took
      // effect, March has not ended: 2 months x 2 = 4 samples required, none taken yet.
      await page.waitForFunction(() => document.querySelector('[data-figure="completion"]')?.textContent === '0.0%');
      expect(await page.locator('.completion .completion-total').innerText()).toBe('手工监测完成率 2026：0.0% （0/4）');

      expect(await page.locator('form.result-form select[name=factor] option').allInnerTexts()).toEqual(['悬浮物']);
      await type(page, 'form.result-form input[name=time]', '2026-02-10 09:30');
      await type(page, 'form.result-form input[name=value]', '12.5');
      await type(page, 'form.result-form input[name=lab]', '示例检测有限公司');
      await page.locator('form.result-form button[type=submit]').click({ delay: 60 });
      await messageIs(page, '已录入 悬浮物 2026-02-10 09:30 的手工监测结果');
      const result = page.locator('.results-table tbody tr').first();
      expect(await result.innerText()).toContain('重量法（GB 11901-1989）');
      expect(await result.locator('td.num').innerText()).toBe('12.5');
      // By hand: February's one sample of its two counts, January has none: 1 of 4 = 25.0 %.
      await page.waitForFunction(() => document.querySelector('[data-figure="completion"]')?.textContent === '25.0%');
      expect(await page.locator('.completion-table tr[data-item="w01012"]').innerText()).toBe(
        ['悬浮物', '2次/月', '2', '4', '1', '25.0%'].join('\t'),
      );
      // A laboratory's sheet: one line entered (03-01, March), one refused with its line number.
      await page.locator('.result-import input[type=file]').setInputFiles({
        name: '手工监测.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(
          '\uFEFF监测项目编码,采样时间,监测值,监测机构,备注\r\nw01012,2026-03-01 ' +
            '10:00,11,示例检测有限公司,\r\nw01012,2026-03-02 10:00,x,示例检测有限公司,\r\n',
        ),
      });
      await messageIs(page, '已导入 1 条，1 行未接受');
      expect(await page.locator('.import-rejected li').allInnerTexts()).toEqual([
        '第 3 行：value: value is a number (监测值), e.g. 12.5',
      ]);
      expect(await page.locator('.results-table tbody tr').count()).toBe(2);
      // March has not ended: the rate stays 1 of 4.
      expect(await page.locator('[data-figure="completion"]').innerText()).toBe('25.0%');
      await chem.shot('plan-in-force');
      // No English in the Chinese page's own labels; the English page has them all.
      expect(await latinWords(page)).toEqual([]);
      await page.click('#lang', { delay: 60 });
      await page.waitForFunction(() => document.querySelector('#view h2')?.textContent?.startsWith('Monitoring plans'));
      await type(page, 'form.year-form input[name=year]', '2026');
      await page.locator('form.year-form button[type=submit]').click({ delay: 60 });
      await page.waitForFunction(() => document.querySelector('[data-figure="completion"]')?.textContent === '25.0%');
      expect(await page.locator('.completion .completion-total').innerText()).toBe(
        'Manual monitoring completion 2026: 25.0% (1 of 4)',
      );
      expect(await page.locator('.plans-table tr[data-plan="1"] td.state').innerText()).toBe('approved · in force');
      expect(await page.locator('.plans-table tr[data-plan="1"] .plan-items li').last().innerText()).toBe(
        'Suspended solids manual 2 per month, 重量法 (GB 11901-1989)',
      );
      await page.click('#lang', { delay: 60 });
      await page.waitForFunction(() => document.querySelector('#view h2')?.textContent?.startsWith('监测方案'));
      expect(faults).toEqual([]);
    },
  );

  it('does not list another enterprise’s outlet to an enterprise user', async () => {
    const { page } = chem;
    // An address naming 示例电厂's outlet shows no page of it (the API refuses it its data too).
    await page.evaluate((mn) => (location.hash = `#/plans/${mn}`), GAS_MN);
    await page.locator('#view p.error').waitFor();
    expect(await page.locator('#view').innerText()).not.toContain('示例电厂');
    expect(await page.locator('#view .plans-table').count()).toBe(0);
    await page.evaluate((mn) => (location.hash = `#/equipment/${mn}`), WATER_MN);
    await shown(page, `#/equipment/${WATER_MN}`);
    expect(await page.locator('#view select[name=mn] option').allInnerTexts()).toEqual(['示例化工有限公司 · WS-01']);
    expect(faults).toEqual([]);
  });

  it('gives 城西区’s authority the review of its own outlets’ plans only', async () => {
    // Submitted through the API: the centre for 示例电厂's gas outlet (城西区), 示例化工 for its water
    // outlet (城东区).
    const gas = await cloud.call('POST', `/stations/${GAS_MN}/plans`, {
      token: ADMIN,
      json: { items: [{ factor: 'a21026', mode: 'automatic' }] },
    });
    const water = await cloud.call('POST', `/stations/${WATER_MN}/plans`, {
      token: CHEM,
      json: { items: [{ factor: 'w21003', mode: 'automatic' }] },
    });
    expect([gas.status, water.status]).toEqual([201, 201]);
    const c = centre.page;
    await open(c, cloud.base, WEST);
    await c.click('nav a[href="#/plans"]', { delay: 60 });
    await shown(c, '#/plans');
    expect(await c.locator('#view select[name=mn] option').allInnerTexts()).toEqual(['示例电厂 · DA-01']);
    // Its queue holds the gas outlet's plan, not the water outlet's of 城东区.
    expect(await c.locator('.plan-queue-table tbody tr').count()).toBe(1);
    const row = c.locator(`.plan-queue-table tr[data-plan="${gas.body.id}"]`);
    expect(await row.innerText()).toContain('示例电厂 · DA-01');
    await type(c, `.plan-queue-table tr[data-plan="${gas.body.id}"] input[name=comment]`, '同意');
    await row.locator('button.approve').click({ delay: 60 });
    await messageIs(c, `方案 #${gas.body.id} 已通过，现已生效`);
    expect(await c.locator(`.plans-table tr[data-plan="${gas.body.id}"]`).getAttribute('data-state')).toBe('in-force');
    expect(await c.locator('.plan-queue').innerText()).toBe('暂无待审核方案');
    expect(faults).toEqual([]);
  });
});
