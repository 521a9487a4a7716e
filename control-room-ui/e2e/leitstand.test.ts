/**
 * Browser tests of the Leitstand: Debian Chromium driven by playwright-core against a real server with simulated
 * buses on the real road map. Screenshots go to docs/screenshots/.
 */
import { execFileSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../server/src/sim/runner.ts';
import { parseScenario } from '../../server/src/sim/scenario.ts';
import { api, riderToken, sharedEngine, startTestServer, UNI_WOHNSTADT_HOME, type TestServer } from '../../server/src/testing/server.ts';

const root = resolve(import.meta.dirname, '..', '..');
const shots = join(root, 'docs', 'screenshots');
const axeSource = readFileSync(join(root, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');
let server: TestServer;
let browser: Browser;

async function recordTeststrecke(dataDir: string) {
  const engine = await sharedEngine();
  const sc = parseScenario(JSON.parse(readFileSync(join(root, 'fixtures/scenarios/teststrecke.json'), 'utf8')));
  const dir = join(dataDir, 'runs', 'teststrecke');
  mkdirSync(dir, { recursive: true });
  const out = createWriteStream(join(dir, 'events.ndjson'));
  await runScenario({ engine, scenario: { ...sc, durationMin: 20 }, sink: { write: (e) => out.write(`${JSON.stringify(e)}\n`), writeLine: (l) => out.write(`${l}\n`) } });
  await new Promise<void>((r) => out.end(() => r()));
}

beforeAll(async () => {
  if (!existsSync(join(root, 'control-room-ui', 'dist', 'index.html')) || process.env.CI) execFileSync('npm', ['run', 'build', '-w', 'control-room-ui'], { cwd: root, stdio: 'ignore' });
  mkdirSync(shots, { recursive: true });
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dataDir = await mkdtemp(join(tmpdir(), 'kl-leitstand-'));
  await recordTeststrecke(dataDir);
  // The console's flow is under test here, not the safety timings: those are pinned exactly (500 ms lease,
  // dead-man, latency limit) by the teleoperation tests in server/src/teleop. A software-rendered Chromium on
  // two shared cores misses a 10 Hz heartbeat by more than 500 ms now and then (measured: console RTT 0.6–1.3 s
  // at load average 6–10), and the bus then stops safely, as it must; so this server allows 2 s.
  server = await startTestServer({
    vehicles: 5,
    dataDir,
    config: { teleop: { simRecoverMs: 2000, leaseTimeoutMs: 2000, latencyHardLimitMs: 2000 } },
    vehicleSafety: { deadManMs: 2000, commandMaxAgeMs: 2000 },
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function login(user: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1600, height: 950 }, bypassCSP: true }); // axe-core is injected as an inline script
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(`${server.url}/leitstand/`);
  await page.getByLabel('Benutzername').fill(user);
  await page.getByLabel('Passwort').fill(user);
  await page.getByRole('button', { name: 'Anmelden' }).click();
  await page.waitForSelector('.maplibregl-canvas');
  return page;
}

async function axe(page: Page): Promise<{ id: string; impact: string; nodes: number }[]> {
  await page.addScriptTag({ content: axeSource });
  const res = await page.evaluate(async () => {
    const r = await (window as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
  });
  return res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

const speedOf = async (page: Page) => Number((await page.getByTestId('cockpit-speed').innerText()).split(/\s/)[0]);

describe('Leitstand in Chromium', () => {
  it('driver1 sees at least 3 buses on the map and in the fleet list, and their positions change', async () => {
    const page = await login('driver1');
    // give one bus work so that it drives
    const rider = await riderToken(server.url);
    const o = await api(server.url, 'POST', '/api/bookings', { token: rider, body: { pickup: UNI_WOHNSTADT_HOME, dropoff: { hubId: 'pfaff' }, passengers: 1 } });
    await api(server.url, 'POST', `/api/bookings/${o.json.id}/confirm`, { token: rider });
    await page.waitForFunction(() => document.querySelectorAll('section.fleet tbody tr').length >= 3);
    const positions = () => page.evaluate(() => (window as unknown as { __klFleet?: () => string }).__klFleet?.() ?? '');
    const before = await positions();
    await page.waitForTimeout(2500);
    expect(await positions()).not.toBe(before);
    expect(await page.locator('.maplibregl-canvas').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'leitstand-map.png') });
    expect(await axe(page)).toEqual([]);
    await page.close();
  });

  it('driver1 acquires a bus, resumes, stops it (speed reaches 0 in the cockpit), resumes and releases', async () => {
    const page = await login('driver1');
    const rider = await riderToken(server.url);
    // a pickup far from every hub (idle buses wait at hubs), so the bus has a long way to drive while we test
    const o = await api(server.url, 'POST', '/api/bookings', { token: rider, body: { pickup: { lat: 49.4195, lon: 7.745 }, dropoff: { hubId: 'pfaff' }, passengers: 1 } });
    expect(o.status, JSON.stringify(o.json)).toBe(201);
    await api(server.url, 'POST', `/api/bookings/${o.json.id}/confirm`, { token: rider });
    const bus = o.json.offer.vehicleId as string;
    await page.getByRole('button', { name: 'Fahrerplatz' }).click();
    await page.getByLabel('Bus wählen').selectOption(bus);
    // as a driver would: acquire, and if the console's measured latency is still over the limit (the page has
    // just loaded on a busy machine), wait a moment and try again; any other refusal fails at once
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: /Übernehmen/ }).click();
          await page.waitForTimeout(1500); // the answer replaces the previous one (same text when refused again)
          const text = await page.getByRole('status').filter({ hasText: 'Übernehmen' }).innerText();
          if (/LATENCY_/.test(text)) console.log(`acquire refused, retrying: ${text}`);
          return text;
        },
        { timeout: 20_000, intervals: [1000] },
      )
      .not.toMatch(/LATENCY_/);
    expect(await page.getByRole('status').filter({ hasText: 'Übernehmen' }).innerText()).toMatch(/OK/);
    await page.keyboard.press('w'); // resume (shortcut)
    await expect.poll(() => speedOf(page), { timeout: 20_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: join(shots, 'leitstand-cockpit.png') });
    await page.getByRole('button', { name: /^Halt/ }).click();
    await expect.poll(() => speedOf(page), { timeout: 20_000 }).toBe(0);
    await page.keyboard.press('w');
    await expect.poll(() => speedOf(page), { timeout: 20_000 }).toBeGreaterThan(0);
    await page.keyboard.press('h');
    await expect.poll(() => speedOf(page), { timeout: 20_000 }).toBe(0);
    await page.waitForTimeout(500);
    await page.getByRole('button', { name: /Abgeben/ }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Abgeben' }).innerText(), { timeout: 10_000 }).toMatch(/OK/);
    expect(await axe(page)).toEqual([]);
    await page.close();
  });

  it('the dispatcher makes a phone booking and sees it confirmed', async () => {
    const page = await login('dispatcher');
    await page.getByRole('button', { name: 'Buchungen' }).click();
    await page.getByLabel('Adresse').first().fill('Davenportplatz');
    await page.getByRole('button', { name: 'Suchen' }).click();
    await page.getByRole('button', { name: 'Angebot anfordern' }).click();
    await expect.poll(() => page.getByTestId('phone-status').innerText(), { timeout: 15_000 }).toBe('offered');
    await page.getByRole('button', { name: 'Bestätigen' }).click();
    await expect.poll(() => page.getByTestId('phone-status').innerText(), { timeout: 15_000 }).toMatch(/confirmed|assigned/);
    await page.screenshot({ path: join(shots, 'leitstand-bookings.png') });
    expect(await axe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Kennzahlen' }).click();
    await page.waitForTimeout(6000);
    await page.screenshot({ path: join(shots, 'leitstand-kpis.png') });
    await page.close();
  });

  it('an injected link loss raises an alert that the dispatcher acknowledges', async () => {
    const page = await login('dispatcher');
    await page.getByRole('button', { name: 'Alarme' }).click();
    server.sim!.dropLink('bus-3', 5000);
    const ack = page.getByRole('button', { name: 'Quittieren' }).first();
    await ack.waitFor({ timeout: 20_000 });
    await ack.click();
    await expect.poll(() => page.locator('.alert.acked').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.locator('.alert.acked').first().innerText()).toMatch(/quittiert von dispatcher/);
    await page.close();
  });

  it('a recorded run replays and the slider seeks', async () => {
    const page = await login('dispatcher');
    await page.getByRole('button', { name: 'Wiedergabe' }).click();
    await page.getByLabel('Aufzeichnungen').selectOption('teststrecke');
    await page.getByTestId('replay-slider').waitFor();
    const t0 = await page.getByTestId('replay-time').innerText();
    await page.getByRole('button', { name: /Abspielen/ }).click();
    await expect.poll(() => page.getByTestId('replay-time').innerText(), { timeout: 10_000 }).not.toBe(t0);
    await page.getByRole('button', { name: /Pause/ }).click();
    // seek to the middle with the slider
    const slider = page.getByTestId('replay-slider');
    const [min, max] = await slider.evaluate((el: HTMLInputElement) => [Number(el.min), Number(el.max)]);
    await slider.evaluate((el: HTMLInputElement, v: number) => {
      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      set.call(el, String(v));
      el.dispatchEvent(new Event('input', { bubbles: true }));
    }, Math.round((min + max) / 2));
    await expect.poll(async () => Number(await slider.inputValue()), { timeout: 10_000 }).toBeGreaterThan(min + (max - min) / 3);
    await page.waitForTimeout(1500);
    expect(await page.locator('.live.replaying').count()).toBe(1);
    await page.screenshot({ path: join(shots, 'leitstand-replay.png') });
    await page.close();
  });
});
