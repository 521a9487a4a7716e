import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const RIDER_APP = resolve(import.meta.dirname, '..');
export const REPO = resolve(RIDER_APP, '..');
export const SCREENSHOTS = resolve(REPO, 'docs', 'screenshots');

/** Builds rider-app/dist (the server serves it at /) once for the browser tests. */
export function buildApp(): void {
  // NODE_ENV from vitest ("test") would make Vite emit a development build (React dev mode, no service worker)
  execFileSync(resolve(REPO, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], { cwd: RIDER_APP, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  mkdirSync(SCREENSHOTS, { recursive: true });
}

/** Debian's Chromium, headless; never a downloaded browser build. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export const PHONE: BrowserContextOptions = {
  viewport: { width: 360, height: 740 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'de-DE',
  timezoneId: 'Europe/Berlin',
};

export interface Rider {
  ctx: BrowserContext;
  page: Page;
  /** browser notifications the app showed (Notification is replaced by a recorder that reports "granted") */
  notifications(): Promise<{ title: string; body: string }[]>;
  /** page errors, CSP violations and console errors seen so far */
  problems: string[];
  /** socket.io frames and REST responses the page received (to check that only the rider's own data arrive) */
  received: string[];
}

export async function openRider(browser: Browser, url: string, opts: BrowserContextOptions = {}): Promise<Rider> {
  const ctx = await browser.newContext({ ...PHONE, ...opts });
  await ctx.addInitScript(() => {
    const calls: { title: string; body: string }[] = [];
    (window as unknown as { __notifications: typeof calls }).__notifications = calls;
    class RecordingNotification {
      static permission: NotificationPermission = 'granted';
      static requestPermission() {
        return Promise.resolve('granted' as NotificationPermission);
      }
      constructor(title: string, o?: NotificationOptions) {
        calls.push({ title, body: o?.body ?? '' });
      }
      close() {}
    }
    Object.defineProperty(window, 'Notification', { value: RecordingNotification, configurable: true, writable: true });
  });
  const page = await ctx.newPage();
  const problems: string[] = [];
  const received: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // "Failed to load resource" is Chromium logging an HTTP error status the app handles (422 NO_OFFER, 404)
    if (/Failed to load resource/.test(m.text())) return;
    if (m.type() === 'error' || /Content Security Policy|Refused to/.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('websocket', (ws) => ws.on('framereceived', (f) => received.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8'))));
  if (process.env.E2E_DEBUG) page.on('request', (q) => q.method() !== 'GET' && console.log('request', q.method(), q.url(), q.postData()));
  if (process.env.E2E_DEBUG) page.on('response', async (q) => q.request().method() !== 'GET' && console.log('response', q.status(), (await q.text().catch(() => '')).slice(0, 300)));
  page.on('response', async (r) => {
    if (!(r.url().includes('/api/') || r.url().includes('/socket.io/')) || r.url().includes('/api/map/basemap')) return;
    try {
      received.push(await r.text());
    } catch {
      /* navigation away */
    }
  });
  await page.goto(`${url}/`);
  await page.getByRole('heading', { level: 1 }).first().waitFor();
  return {
    ctx,
    page,
    problems,
    received,
    notifications: () => page.evaluate(() => (window as unknown as { __notifications: { title: string; body: string }[] }).__notifications),
  };
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core in the page (evaluated through the devtools protocol, so the app's CSP stays untouched). */
export async function axeCheck(page: Page, where: string): Promise<void> {
  const t0 = Date.now();
  try {
    await axeCheckInner(page, where);
  } finally {
    if (process.env.E2E_DEBUG) console.log(`axe ${where}: ${Date.now() - t0} ms`);
  }
}
async function axeCheckInner(page: Page, where: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(`${AXE_SOURCE}\n;void 0`);
  const result = (await page.evaluate(() =>
    (window as unknown as { axe: { run: (ctx: unknown, o: unknown) => Promise<unknown> } }).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    }),
  )) as { violations: { id: string; impact: string | null; help: string; nodes: { target: unknown; failureSummary?: string }[] }[] };
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const report = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n   ${v.nodes.slice(0, 3).map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`).join('\n   ')}`).join('\n');
  expect(bad.length, `axe (${where}):\n${report}`).toBe(0);
}

export async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`), fullPage });
}

/** Polls `fn` until it returns a truthy value (or throws after `ms`). */
export async function until<T>(fn: () => Promise<T> | T, ms = 20_000, what = 'condition'): Promise<NonNullable<T>> {
  const t0 = Date.now();
  let last: unknown;
  while (Date.now() - t0 < ms) {
    try {
      const v = await fn();
      if (v) {
        if (process.env.E2E_DEBUG && Date.now() - t0 > 1000) console.log(`waited ${Date.now() - t0} ms for ${what}`);
        return v as NonNullable<T>;
      }
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timeout waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Describes the focused element: role, accessible-ish name, and a few attributes. */
export function focused(page: Page) {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    if (!el) return null;
    const labelled = el.getAttribute('aria-labelledby');
    const byLabel = (el as HTMLInputElement).labels?.[0]?.textContent ?? '';
    const name = (el.getAttribute('aria-label') ?? (labelled ? document.getElementById(labelled)?.textContent : null) ?? (byLabel || el.textContent) ?? '').trim();
    const style = getComputedStyle(el);
    const parent = el.parentElement ? getComputedStyle(el.parentElement) : null;
    return {
      tag: el.tagName.toLowerCase(),
      type: el.getAttribute('type'),
      role: el.getAttribute('role'),
      name,
      field: el.dataset.field ?? null,
      // visible focus: an outline on the element, or on its label for the visually hidden radios
      focusVisible: (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) || (!!parent && parent.outlineStyle !== 'none' && parseFloat(parent.outlineWidth) >= 2),
    };
  });
}

/** Presses Tab (only the keyboard) until the focused element matches; fails after `max` presses. */
export async function tabTo(page: Page, match: (f: NonNullable<Awaited<ReturnType<typeof focused>>>) => boolean, what: string, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f && match(f)) {
      expect(f.focusVisible, `focus on ${what} is visible`).toBe(true);
      return;
    }
  }
  throw new Error(`Tab never reached ${what}`);
}
