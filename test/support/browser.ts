/**
 * Real Chromium for the web UI tests (Debian's /usr/bin/chromium through
 * playwright-core): one browser per test file (useBrowser), a fresh context
 * (cookies, storage) per test, sign-in, screenshots under
 * test-output/screenshots/, and a narrow (phone-sized) window.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT, type TestServer } from './server-process.js';
import type { TestUser } from './http-harness.js';

export const CHROMIUM = process.env.SCRAPYDD_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test-output', 'screenshots');
export const NARROW = { width: 360, height: 740 } as const;
export const WIDE = { width: 1280, height: 800 } as const;
/** Every wait in a browser test has a deadline (playwright's default is 30 s; a UI step takes well under a second). */
export const UI_TIMEOUT_MS = 10_000;

/** Registers before/after hooks that start one Chromium for the file; the getter is valid inside tests. */
export function useBrowser(): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      timeout: 30_000,
    });
  });
  after(async () => {
    await browser?.close();
  });
  return () => {
    if (!browser) throw new Error('Chromium is not running (did before() fail?)');
    return browser;
  };
}

/** A fresh context and page against `server`, closed by the returned close(). Pass NARROW for a phone-sized window. */
export async function openPage(
  browser: Browser,
  server: TestServer,
  viewport: { width: number; height: number } = WIDE,
): Promise<{ context: BrowserContext; page: Page; close: () => Promise<void> }> {
  const context = await browser.newContext({ baseURL: server.baseUrl, viewport });
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  const page = await context.newPage();
  // A script error on the page fails the test that caused it, not a later assertion.
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return {
    context,
    page,
    close: async () => {
      await context.close();
      if (errors.length > 0) throw new Error(`errors on the page: ${errors.join('; ')}`);
    },
  };
}

/** Signs in through the sign-in page and waits for the app shell. */
export async function signIn(page: Page, user: TestUser, path = '/ui'): Promise<void> {
  await page.goto(path);
  await page.getByLabel('User name').fill(user.name);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#main-nav').waitFor({ state: 'attached' }); // attached: in a narrow window it is collapsed
}

/** Writes a full-page PNG to test-output/screenshots/<name>.png for reviewers. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** The Cookie header value of the context's cookies for the server (for fetch() from the test). */
export async function cookieHeader(context: BrowserContext, server: TestServer): Promise<string> {
  const cookies = await context.cookies(server.baseUrl);
  return cookies.map((c) => `${c.name}=${c.value}`).join('; ');
}

/** True when the page scrolls sideways (a layout broken by something too wide). */
export async function scrollsSideways(page: Page): Promise<boolean> {
  return page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
}
