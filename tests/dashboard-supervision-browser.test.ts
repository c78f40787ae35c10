/// <reference lib="dom" />
// The callbacks given to page.evaluate and waitForFunction run in the browser.
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
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
import { ADMIN, CHEM, hourFrame, type apiCloud, type Json } from './helpers/dashboard-api.js';
import { enterpriseSideCloud } from './helpers/enterprise-side.js';

if (!haveChromium) console.warn('dashboard supervision browser tests skipped: /usr/bin/chromium is missing');

const at = (iso: string) => Date.parse(iso);

/** Waits for item `id`'s row to show `state` (after the page's own re-read or a live refresh). */
const rowState = (page: Page, id: number, state: string) =>
  page.waitForFunction(
    ([i, s]) =>
      document.querySelector(`.supervision-table tr[data-supervision="${i}"]`)?.getAttribute('data-state') === s,
    [String(id), state] as const,
  );

describe.skipIf(!haveChromium)('电子督办 and 辖区统计 pages in a real browser', () => {
  let cloud: Awaited<ReturnType<typeof apiCloud>>;
  /**
   * The enterprise's system (示例化工有限公司, CHEM) and the centre's admin, each in a browser of their own.
   */
  let chem: TestBrowser;
  let centre: TestBrowser;
  const faults: string[] = [];
  // The centre's clock, moved by hand: the items are sent on 2026-11-20, the statistics read on 2026-11-25.
  const clock = { wall: at('2026-11-20T12:00:00+08:00') };

  beforeAll(async () => {
    [cloud, chem, centre] = await Promise.all([enterpriseSideCloud(clock), launchBrowser(), launchBrowser()]);
    for (const b of [chem, centre]) {
      b.page.on('pageerror', (e) => faults.push(e.message));
      b.page.on('console', (m) => /Content Security Policy/.test(m.text()) && faults.push(m.text()));
    }
    const ok = async (p: Promise<{ status: number; body: Json }>, status = 201) => {
      const r = await p;
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      return r.body;
    };
    // Through the API on 2026-11-20: the water outlet's plan approved (备案); an hour of each outlet uploaded.
    const plan = await ok(
      cloud.call('POST', `/stations/${WATER_MN}/plans`, {
        token: ADMIN,
        json: { items: [{ factor: 'w01018', mode: 'automatic' }] },
      }),
    );
    await ok(cloud.call('POST', `/plans/${plan.id}/review`, { token: ADMIN, json: { decision: 'approve' } }), 200);
    for (const [mn, factor] of [
      [WATER_MN, 'w01018'],
      [GAS_MN, 'a21026'],
    ] as const)
      await ok(
        cloud.call('POST', `/stations/${mn}/data`, {
          token: ADMIN,
          json: { kind: 'hour', time: '2026-11-20T10:00:00+08:00', factors: { [factor]: { Avg: 1 } } },
        }),
      );
  });
  afterAll(async () => {
    await chem?.close();
    await centre?.close();
    await cloud?.c.stop();
  });

  it('sends an item to the enterprise, takes its answer, returns it once, then accepts it', async () => {
    const c = centre.page;
    await open(c, cloud.base, ADMIN);
    await c.click('nav a[href="#/supervision"]', { delay: 60 });
    await shown(c, '#/supervision');
    expect(await c.locator('#view h2').innerText()).toBe('电子督办');
    expect(await c.locator('.supervision').innerText()).toBe('暂无督办事项');
    await c.locator('form.supervision-send select[name=mn]').selectOption(WATER_MN);
    await c.locator('form.supervision-send select[name=kind]').selectOption({ label: '数据缺失' });
    await type(c, 'form.supervision-send input[name=from]', '2026-11-20 00:00');
    await type(c, 'form.supervision-send input[name=to]', '2026-11-20 06:00');
    await type(c, 'form.supervision-send input[name=deadline]', '2026-11-22 18:00');
    await type(c, 'form.supervision-send input[name=request]', '说明数据缺失原因并整改');
    await c.locator('form.supervision-send button[type=submit]').click({ delay: 60 });
    await messageIs(c, '已发起督办 #1');
    const row = c.locator('.supervision-table tr[data-supervision="1"]');
    expect(await row.getAttribute('data-state')).toBe('sent');
    expect(await row.locator('td.state').innerText()).toBe('待答复');
    expect(await row.locator('td.kind').innerText()).toBe('数据缺失');
    expect(await row.innerText()).toContain('示例化工有限公司 · WS-01');
    expect(await row.innerText()).toContain('2026-11-20 00:00 – 2026-11-20 06:00');
    expect(await row.locator('td.deadline').innerText()).toBe('2026-11-22 18:00');
    expect(await row.locator('.steps li').allInnerTexts()).toEqual([
      'ops · 2026-11-20 12:00:00 · 督办 · 说明数据缺失原因并整改',
    ]);
    // The centre answers nothing: its row has no answer form, and the item is not for review yet.
    expect(await row.locator('button.answer, button.accept').count()).toBe(0);
    expect(await latinWords(c)).toEqual([]);

    // The enterprise, in a browser of its own: the item, no form to send one; it answers with a report attached.
    const e = chem.page;
    await open(e, cloud.base, CHEM);
    expect(await e.locator('nav a[href="#/jurisdictions"]').isHidden()).toBe(true);
    await e.click('nav a[href="#/supervision"]', { delay: 60 });
    await shown(e, '#/supervision');
    expect(await e.locator('form.supervision-send').count()).toBe(0);
    const mine = e.locator('.supervision-table tr[data-supervision="1"]');
    expect(await mine.locator('td.state').innerText()).toBe('待答复');
    // The measures forgotten: the API's refusal in the page's words.
    await type(e, 'tr[data-supervision="1"] input[name=reason]', '数采仪停电');
    await mine.locator('button.answer').click({ delay: 60 });
    await e.waitForFunction(() => document.querySelector('.message.error') !== null);
    expect(await e.locator('.message').innerText()).toBe('未接受：整改措施 — say what was done about it (整改措施)');
    await type(e, 'tr[data-supervision="1"] input[name=measures]', '加装不间断电源');
    // Two files at once: the report and a photo of the new UPS.
    await mine.locator('input[type=file]').setInputFiles([
      { name: '整改报告.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% report\n') },
      { name: '现场照片.png', mimeType: 'image/png', buffer: Buffer.from('\x89PNG\r\n\x1a\n photo') },
    ]);
    await mine.locator('button.answer').click({ delay: 60 });
    await messageIs(e, '督办 #1 已答复，待审核');
    expect(await mine.locator('td.state').innerText()).toBe('已答复，待审核');
    expect(await mine.locator('.steps li').last().innerText()).toBe(
      'chem-system · 2026-11-20 12:00:00 · 答复 · 原因：数采仪停电 · 整改措施：加装不间断电源整改报告.pdf现场照片.png',
    );
    // The attachment downloads as uploaded.
    const [file] = await Promise.all([e.waitForEvent('download'), mine.locator('button.download').first().click()]);
    expect(file.suggestedFilename()).toBe('整改报告.pdf');
    expect((await readFile((await file.path())!)).toString()).toBe('%PDF-1.4\n% report\n');
    expect(await latinWords(e)).toEqual([]);
    await chem.shot('supervision-answered');

    // The centre's page re-reads on the live event: the answer is there to review. Returned without a comment:
    // refused; with one: back to the enterprise.
    await rowState(c, 1, 'answered');
    await row.locator('button.return').click({ delay: 60 });
    await c.waitForFunction(() => document.querySelector('.message.error') !== null);
    expect(await c.locator('.message').innerText()).toBe('未接受：审核意见 — say why it is returned');
    await type(c, 'tr[data-supervision="1"] input[name=comment]', '未说明恢复供电时间');
    await row.locator('button.return').click({ delay: 60 });
    await messageIs(c, '督办 #1 已退回');
    expect(await row.locator('td.state').innerText()).toBe('已退回，待重新答复');

    // The enterprise answers again (its page re-read on the event too).
    await rowState(e, 1, 'returned');
    expect(await mine.locator('.steps li').last().innerText()).toBe(
      'ops · 2026-11-20 12:00:00 · 退回 · 未说明恢复供电时间',
    );
    await type(e, 'tr[data-supervision="1"] input[name=reason]', '数采仪停电，11月20日7时恢复供电');
    await type(e, 'tr[data-supervision="1"] input[name=measures]', '加装不间断电源');
    await mine.locator('button.answer').click({ delay: 60 });
    await messageIs(e, '督办 #1 已答复，待审核');

    // The centre accepts: 已办结, every step listed.
    await rowState(c, 1, 'answered');
    await type(c, 'tr[data-supervision="1"] input[name=comment]', '同意');
    await row.locator('button.accept').click({ delay: 60 });
    await messageIs(c, '督办 #1 已通过，已办结');
    expect(await row.locator('td.state').innerText()).toBe('已办结');
    expect(await row.locator('.steps li').allInnerTexts()).toEqual([
      'ops · 2026-11-20 12:00:00 · 督办 · 说明数据缺失原因并整改',
      'chem-system · 2026-11-20 12:00:00 · 答复 · 原因：数采仪停电 · 整改措施：加装不间断电源整改报告.pdf现场照片.png',
      'ops · 2026-11-20 12:00:00 · 退回 · 未说明恢复供电时间',
      'chem-system · 2026-11-20 12:00:00 · 答复 · 原因：数采仪停电，11月20日7时恢复供电 · 整改措施：加装不间断电源',
      'ops · 2026-11-20 12:00:00 · 通过 · 同意',
    ]);
    await rowState(e, 1, 'accepted');
    expect(await mine.locator('td.state').innerText()).toBe('已办结');
    expect(await mine.locator('button.answer').count()).toBe(0);
    await centre.shot('supervision-accepted');
    expect(faults).toEqual([]);
  });

  it('shows an item past its deadline as 已逾期, in the overdue list', async () => {
    const c = centre.page;
    // The gas outlet's exceedance of 2026-11-20, due 2026-11-21 12:00; it is not answered.
    await c.locator('form.supervision-send select[name=mn]').selectOption(GAS_MN);
    await c.locator('form.supervision-send select[name=kind]').selectOption({ label: '超标' });
    await type(c, 'form.supervision-send input[name=from]', '2026-11-20 08:00');
    await type(c, 'form.supervision-send input[name=to]', '2026-11-20 10:00');
    await type(c, 'form.supervision-send input[name=deadline]', '2026-11-21 12:00');
    await c.locator('form.supervision-send button[type=submit]').click({ delay: 60 });
    await messageIs(c, '已发起督办 #2');
    const row = c.locator('.supervision-table tr[data-supervision="2"]');
    expect(await row.locator('td.state').innerText()).toBe('待答复');
    expect(await row.getAttribute('class')).toBeNull();

    // 2026-11-25: past the deadline, not accepted.
    clock.wall = at('2026-11-25T09:00:00+08:00');
    await c.reload();
    await shown(c, '#/supervision');
    expect(await row.locator('td.state').innerText()).toBe('待答复 · 已逾期');
    expect(await row.getAttribute('class')).toBe('overdue');
    // The English page has the same in its words.
    await c.click('#lang', { delay: 60 });
    await c.waitForFunction(() => document.querySelector('#view h2')?.textContent === 'Electronic supervision');
    expect(await row.locator('td.state').innerText()).toBe('awaiting the answer · overdue');
    expect(await c.locator('.supervision-table tr[data-supervision="1"] td.state').innerText()).toBe('closed');
    await c.click('#lang', { delay: 60 });
    await c.waitForFunction(() => document.querySelector('#view h2')?.textContent === '电子督办');
    // The closed item is not overdue; the overdue list holds #2 alone.
    expect(await c.locator('.supervision-table tr[data-supervision="1"] td.state').innerText()).toBe('已办结');
    await c.locator('form.supervision-filters input[name=overdue]').check();
    await c.waitForFunction(() => document.querySelectorAll('.supervision-table tbody tr').length === 1);
    expect(await c.locator('.supervision-table tbody tr').getAttribute('data-supervision')).toBe('2');
    await c.locator('form.supervision-filters input[name=overdue]').uncheck();
    await c.locator('form.supervision-filters select[name=state]').selectOption({ label: '已办结' });
    await c.waitForFunction(
      () => document.querySelector('.supervision-table tbody tr')?.getAttribute('data-supervision') === '1',
    );
    expect(await c.locator('.supervision-table tbody tr').count()).toBe(1);
    expect(faults).toEqual([]);
  });

  it('counts per region on the statistics page, exports them, and has no link for the enterprise', async () => {
    const c = centre.page;
    await c.click('nav a[href="#/jurisdictions"]', { delay: 60 });
    await shown(c, '#/jurisdictions');
    // The month of the newest data (2026-11-20 10:00).
    expect(await c.locator('#view h2').innerText()).toBe('辖区统计 · 2026-11');
    const cells = async (region: string) =>
      (await c.locator(`.jurisdictions-table tr[data-region="${region}"] td`).allInnerTexts()).slice(1);
    // 城东区: 示例化工 (1 enterprise), WS-01 (1 outlet): registered (plan approved 11-20), uploaded (11-20
    // 10:00), 0 registrations and 1 plan reviewed; its one registered outlet uploaded → fully networked; item #1 sent
    // in November and accepted → 0 open, 0 overdue, 1 closed.
    expect(await cells('城东区')).toEqual(['1', '1', '1', '1', '0', '1', '1', '0', '0', '0', '0', '0', '1']);
    // 城西区: 示例电厂, DA-01: no plan (not registered) but uploaded; nothing reviewed; no registered outlet →
    // unregistered; item #2 open and past its deadline 11-21 on 11-25 → 1 open, 1 overdue, 0 closed.
    expect(await cells('城西区')).toEqual(['1', '1', '0', '1', '0', '0', '0', '0', '0', '1', '1', '1', '0']);
    // Total: the two added up.
    expect(await cells('*')).toEqual(['2', '2', '1', '2', '0', '1', '1', '0', '0', '1', '1', '1', '1']);
    expect(await c.locator('.jurisdictions-table tr.total td').first().innerText()).toBe('合计');
    expect(await latinWords(c)).toEqual([]);
    // The CSV, in the page's language.
    const [csv] = await Promise.all([c.waitForEvent('download'), c.click('#view button.csv')]);
    expect(csv.suggestedFilename()).toBe('hj212-jurisdictions-2026-11.csv');
    const lines = (await readFile((await csv.path())!, 'utf8')).split('\r\n');
    expect(lines.slice(1)).toEqual([
      '城东区,1,1,1,1,0,1,1,0,0,0,0,0,1',
      '城西区,1,1,0,1,0,0,0,0,0,1,1,1,0',
      '合计,2,2,1,2,0,1,1,0,0,1,1,1,1',
      '',
    ]);
    await c.click('#lang', { delay: 60 });
    await c.waitForFunction(() => document.querySelector('#view h2')?.textContent?.startsWith('Statistics'));
    expect(await c.locator('.jurisdictions-table tr.total td').first().innerText()).toBe('Total');
    expect(await c.locator('.jurisdictions-table th').first().innerText()).toBe('Region');
    await c.click('#lang', { delay: 60 });
    await c.waitForFunction(() => document.querySelector('#view h2')?.textContent?.startsWith('辖区统计'));
    // Another month: October has nothing.
    await type(c, 'form.jurisdiction-period input[name=period]', '2026-10');
    await c.locator('form.jurisdiction-period button[type=submit]').click({ delay: 60 });
    await shown(c, '#/jurisdictions?month=2026-10');
    expect(await cells('城西区')).toEqual(['1', '1', '0', '0', '0', '0', '0', '0', '0', '1', '0', '0', '0']);
    await centre.shot('jurisdictions');

    // The enterprise has no link to it; the address opened by hand says it is not its page.
    const e = chem.page;
    await e.reload();
    await shown(e, '#/');
    expect(await e.locator('nav a[href="#/jurisdictions"]').isHidden()).toBe(true);
    await e.evaluate(() => (location.hash = '#/jurisdictions'));
    await shown(e, '#/jurisdictions');
    expect(await e.locator('#view p.error').innerText()).toBe('辖区统计仅供监控中心和主管部门查看。');
    expect(await e.locator('.jurisdictions-table').count()).toBe(0);
    expect(faults).toEqual([]);
  });

  it('sends an exceedance from the alarms page (督办) and shows it as an item', async () => {
    // The water outlet's COD of 2026-11-20 11:00 at 75 mg/L (limit 50), over TCP: an exceedance alarm.
    const up = await cloud.call('POST', '/ingest/frames', {
      token: ADMIN,
      text: hourFrame(11, { w01018: { Avg: '75', Flag: 'N' } }),
    });
    expect(up.status, JSON.stringify(up.body)).toBeLessThan(300);
    const c = centre.page;
    await open(c, cloud.base, ADMIN);
    await c.evaluate((mn) => (location.hash = `#/alarms?type=exceedance&mn=${mn}`), WATER_MN);
    await shown(c, '#/alarms?type=exceedance');
    const row = c.locator('table.alarms tbody tr[data-type="exceedance"]').first();
    const alarm = await row.getAttribute('data-alarm');
    // The deadline forgotten: refused, naming it.
    await row.locator('button.supervise').click({ delay: 60 });
    await c.waitForFunction(() => document.querySelector('.message.error') !== null);
    expect(await c.locator('.message').innerText()).toContain('未接受：办结期限');
    await type(c, `tr[data-alarm="${alarm}"] input[name=deadline]`, '2026-11-30 18:00');
    await row.locator('button.supervise').click({ delay: 60 });
    await messageIs(c, `已就告警 #${alarm} 发起督办 #3`);
    expect(await latinWords(c)).toEqual([]);
    await c.click('nav a[href="#/supervision"]', { delay: 60 });
    await shown(c, '#/supervision');
    const item = c.locator('.supervision-table tr[data-supervision="3"]');
    expect(await item.locator('td.kind').innerText()).toBe('超标');
    expect(await item.innerText()).toContain('化学需氧量');
    expect(await item.locator('td.deadline').innerText()).toBe('2026-11-30 18:00');
    expect(await item.locator('td.state').innerText()).toBe('待答复');
    expect(faults).toEqual([]);
  });
});
