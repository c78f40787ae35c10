/// <reference lib="dom" />
// The callbacks given to page.evaluate and waitForFunction run in the browser.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, type Cp } from '../protocol/index.js';
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
import { rawClient, WATER_MN, WATER_PW, type RawClient } from './helpers/cloud-fixtures.js';
import { CHEM, hourFrame, READ, scopedCloud, type apiCloud } from './helpers/dashboard-api.js';

if (!haveChromium) console.warn('dashboard instruments browser tests skipped: /usr/bin/chromium is missing');

/**
 * The COD analyzer as 示例化工有限公司 registered it (the fields of the regulators' 自动监控设施信息
 * form).
 */
const COD = {
  name: 'COD 在线自动监测仪',
  manufacturer: '示例仪器有限公司',
  model: 'CODmax-II',
  principle: '重铬酸钾法',
  serial: 'SN-2026-0815',
  range: '0-500',
  slope: 1.02,
  installer: '示例环保工程有限公司',
  omCompany: '示例环保运维有限公司',
};

describe.skipIf(!haveChromium)('仪器运维 page in a real browser', () => {
  let cloud: Awaited<ReturnType<typeof apiCloud>>;
  let b: TestBrowser;
  let logger: RawClient;
  const faults: string[] = [];
  // The centre's clock: 2026-11-20 12:30, after the hours the water station's logger sends.
  const clock = { now: Date.parse('2026-11-20T12:30:00+08:00') };
  let qn = 0;
  /** A frame of the water station's logger over TCP, and the cloud's answer to it. */
  const send = async (frame: string) => {
    logger.socket.write(frame);
    await logger.received(++qn);
  };
  const info3020 = (codes: Record<string, string>): Cp => ({
    params: { DataTime: '20261120110000' },
    factors: {},
    info: [{ polId: 'w01018', codes: Object.fromEntries(Object.entries(codes).map(([k, v]) => [k, { Info: v }])) }],
  });

  beforeAll(async () => {
    [cloud, b] = await Promise.all([
      scopedCloud({ clock: { wall: () => clock.now, mono: () => performance.now() } }),
      launchBrowser(),
    ]);
    logger = await rawClient(cloud.c.cloud.tcp!.address.port);
    b.page.on('pageerror', (e) => faults.push(e.message));
    b.page.on('console', (m) => /Content Security Policy/.test(m.text()) && faults.push(m.text()));
  });
  afterAll(async () => {
    logger?.close();
    await b?.close();
    await cloud?.c.stop();
  });

  it('shows an unregistered 3020 range change as an alarm, and closes it when the register is updated', async () => {
    const { page } = b;
    // The register entry exists: COD's analyzer, range 0-500.
    expect(
      (await cloud.call('PUT', `/stations/${WATER_MN}/instruments/w01018`, { token: CHEM, json: COD })).status,
    ).toBe(200);
    // Hour 10:00 of COD came flagged C (校准) with no record of a calibration.
    await send(
      hourFrame(10, {
        w01018: { Avg: '20', Flag: 'C' },
        w21003: { Avg: '1', Flag: 'N' },
        w01001: { Avg: '7', Flag: 'N' },
        w00000: { Avg: '3', Flag: 'N' },
      }),
    );

    await open(page, cloud.base, CHEM);
    await page.click('nav a[href="#/equipment"]', { delay: 60 });
    await shown(page, '#/equipment');
    expect(await page.locator('#view h2').innerText()).toBe('仪器备案与运维 · 示例化工有限公司 · WS-01');
    // 示例电厂's outlet is not listed to 示例化工's account.
    expect(await page.locator('#view select[name=mn] option').allInnerTexts()).toEqual(['示例化工有限公司 · WS-01']);
    const cod = page.locator('.instruments-table tr[data-factor="w01018"]');
    expect(await cod.locator('td[data-field=range]').innerText()).toBe('0-500');
    expect(await cod.locator('td.check').innerText()).toBe('一致');
    expect(await page.locator('.instrument-alarms').innerText()).toBe('暂无动态管控告警');

    // The logger reports range 0-1000 in a 3020 (HJ 212-2017 C.42-C.45): nobody registered that.
    await send(
      encodeFrame({
        version: '2017',
        qn: '20261120110000001',
        st: '32',
        cn: '3020',
        pw: WATER_PW,
        mn: WATER_MN,
        flag: 5,
        cp: info3020({ i13001: '0-1000', i13008: '1.02' }),
      }),
    );
    // The person re-reads the page (the live stream may have done it already).
    await page.locator('form.period-form button[type=submit]').click({ delay: 60 });
    const alarm = page.locator('.instrument-alarms-table tbody tr').first();
    await alarm.waitFor();
    expect(await alarm.getAttribute('data-state')).toBe('open');
    expect(await alarm.innerText()).toContain('测量量程 备案 0-500，上报 0-1000');
    expect(await alarm.locator('td.state').innerText()).toBe('未关闭');
    expect(await cod.locator('td.check').innerText()).toBe('测量量程 备案 0-500，上报 0-1000');
    expect(await cod.locator('td.reported').innerText()).toBe('测量量程 0-1000；斜率 1.02');
    await b.shot('instrument-mismatch');

    // The enterprise registers the new range from the row: the form starts from what is registered.
    await cod.locator('button.edit').click({ delay: 60 });
    expect(await page.locator('form.instrument-form input[name=model]').inputValue()).toBe('CODmax-II');
    await type(page, 'form.instrument-form input[name=range]', '0-1000');
    await page.locator('form.instrument-form button[type=submit]').click({ delay: 60 });
    await messageIs(page, '化学需氧量 的仪器备案已保存（第 2 版）');
    await page.waitForFunction(
      () => document.querySelector('.instrument-alarms-table tbody tr')?.getAttribute('data-state') === 'closed',
    );
    expect(await alarm.locator('td.state').innerText()).toBe('已关闭 · 2026-11-20 12:30:00');
    expect(await cod.locator('td[data-field=range]').innerText()).toBe('0-1000');
    expect(await cod.locator('td.check').innerText()).toBe('一致');
    // Both versions kept: who registered which range, newest first.
    await cod.locator('button.versions').click({ delay: 60 });
    const versions = page.locator('.instrument-history-table tbody tr');
    await versions.first().waitFor();
    expect(await page.locator('.instrument-history-table td[data-field=range]').allInnerTexts()).toEqual([
      '0-1000',
      '0-500',
    ]);
    expect(await versions.count()).toBe(2);
    await b.shot('instrument-registered');
    expect(await latinWords(page)).toEqual([]);
    expect(faults).toEqual([]);
  });

  it(
    'lists the C hour no record explains, refuses a standard check ' + 'without its values, takes a calibration',
    async () => {
      const { page } = b;
      const hour = page.locator('.unexplained-table tbody tr');
      expect(await hour.allInnerTexts()).toEqual([['2026-11-20 10:00', '化学需氧量', 'C 校准'].join('\t')]);
      expect(await page.locator('.om-records').innerText()).toBe('该时段暂无运维记录');

      const form = page.locator('form.om-form');
      await form.locator('select[name=factor]').selectOption({ label: '化学需氧量' });
      await form.locator('select[name=type]').selectOption({ label: '标样核查' });
      await type(page, 'form.om-form input[name=from]', '2026-11-20 09:50');
      await type(page, 'form.om-form input[name=to]', '2026-11-20 10:40');
      await type(page, 'form.om-form input[name=company]', '示例环保运维有限公司');
      await form.locator('button[type=submit]').click({ delay: 60 });
      await page.waitForFunction(() => document.querySelector('.message.error') !== null);
      expect(await page.locator('.message').innerText()).toBe(
        '未接受：标样值 — a standard check gives standardValue and reading',
      );
      // A calibration then: it explains a C hour (EXPLAINED_BY).
      await form.locator('select[name=type]').selectOption({ label: '校准' });
      await type(page, 'form.om-form input[name=note]', '零点、量程校准');
      await form.locator('button[type=submit]').click({ delay: 60 });
      await messageIs(page, '已填报运维记录 #1：校准，2026-11-20 09:50 – 2026-11-20 10:40');
      expect(await page.locator('.om-table tbody tr').first().innerText()).toContain('示例环保运维有限公司');
      expect(await page.locator('.unexplained').innerText()).toBe('该时段无待说明小时');

      // A read-only account sees the lists, no form to change them.
      await open(page, cloud.base, READ);
      await page.evaluate((mn) => (location.hash = `#/equipment/${mn}`), WATER_MN);
      await shown(page, `#/equipment/${WATER_MN}`);
      expect(await page.locator('form.instrument-form, form.om-form, button.edit').count()).toBe(0);
      expect(await page.locator('.om-table tbody tr').count()).toBe(1);
      expect(faults).toEqual([]);
    },
  );
});
