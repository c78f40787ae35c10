/// <reference lib="dom" />
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { TOOLS } from './common.js';

/** Debian's chromium (apt install chromium); the tests never download a browser. */
export const CHROMIUM = '/usr/bin/chromium';
/** Whether chromium is there (a failure under CI=true when it is not). */
export const haveChromium = TOOLS.chromium();

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'artifacts', 'screenshots');

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Saves a full-page screenshot as artifacts/screenshots/dashboard-{name}.png. */
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Headless chromium with a fresh profile in a temp dir (removed on close), one page, Chinese locale, China time. */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'hj212-chromium-'));
  await mkdir(SCREENSHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    acceptDownloads: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(10_000);
  return {
    context,
    page,
    async shot(name) {
      const path = join(SCREENSHOTS, `dashboard-${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The Latin words (two letters or more) in the labels a view draws itself — headings, column heads, field labels,
 * buttons, options, notes — less `allowed` (names in the data, such as an outlet's WS-01 or pH): what leaks
 * English into the Chinese page.
 */
export async function latinWords(page: Page, allowed: readonly string[] = ['WS', 'DA', 'pH']): Promise<string[]> {
  const words = await page.evaluate(() =>
    Array.from(
      document.querySelectorAll(
        '#view h2, #view h3, #view h4, #view th, #view label, #view button:not(.download), #view option, #view p',
      ),
    ).flatMap((e) => (e as HTMLElement).innerText.match(/[A-Za-z]{2,}/g) ?? []),
  );
  return [...new Set(words)].filter((w) => !allowed.includes(w));
}

/** Opens the dashboard in `page` as the account of `token` (a fresh local storage) and waits for the overview. */
export async function openAs(page: Page, base: string, token: string): Promise<void> {
  await page.goto(base + '/');
  await page.evaluate(() => localStorage.clear());
  await page.goto(`${base}/#token=${token}`);
  await page.locator('[data-figure="onlineRate"]').waitFor();
}

/** Waits until the view shown is the one at an address containing `part` (the router's data-shown). */
export const shownView = (page: Page, part: string) =>
  page.waitForFunction((p) => document.getElementById('view')?.dataset['shown']?.includes(p), part);

/** Clears a field and types into it as a person does. */
export async function typeInto(page: Page, sel: string, value: string): Promise<void> {
  const field = page.locator(sel);
  await field.click();
  await field.fill('');
  await field.pressSequentially(value, { delay: 40 });
}

/** Waits until the page's status line says `text`. */
export const messageIs = (page: Page, text: string) =>
  page.waitForFunction((s) => document.querySelector('.message')?.textContent === s, text);
