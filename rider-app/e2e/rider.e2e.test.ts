import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { geocoderFor } from '../../routing/src/geocode/index.ts';
import { sharedEngine, startTestServer, type TestServer } from '../../server/src/testing/server.ts';
import { axeCheck, buildApp, focused, launchBrowser, openRider, shot, tabTo, until, type Rider } from './helpers.ts';

/**
 * Browser tests of the rider app: Debian Chromium (playwright-core) on a 360×740 phone viewport against a real
 * test server whose simulated buses drive the real road map in real time.
 *
 * The "10 minutes" reminder: the live server cannot run faster than real time, so the tests book rides whose bus
 * is already less than 10 minutes away (the simulated fleet waits at the hubs, 1–3 minutes from Uni-Wohnstadt);
 * the reminder is due as soon as the pickup ETA is within the rider's lead time (10 minutes by default, adjustable
 * in the app), so it appears at once. Its timing logic is unit-tested with made-up clocks in src/notify.test.ts.
 */
let server: TestServer;
let browser: Browser;
const riders: Rider[] = [];

beforeAll(async () => {
  buildApp();
  // the shared engine's map features and geocoder are loaded before the simulation starts (as at a real start)
  const engine = await sharedEngine();
  await Promise.all([engine.mapFeatures(), geocoderFor(engine)]);
  [server, browser] = await Promise.all([startTestServer({ vehicles: 5 }), launchBrowser()]);
});

/** A precondition of every booking: the simulated buses are in service (online, driven, not in a safe stop). */
/**
 * Presses the offer button and waits for the offer. Should the simulated fleet have dropped out of service just
 * then (a stalled server event loop lapses the simulated drivers' leases), the refusal
 * names the missing driver; then it waits for the fleet and asks once more, and says so in the log.
 */
async function getOffer(page: Page, lang: 'de' | 'en' = 'de', by: 'pointer' | 'keyboard' = 'pointer'): Promise<void> {
  const L = lang === 'de'
    ? { submit: 'Angebot anfragen', confirm: 'Jetzt verbindlich buchen', noDriver: 'Zu dieser Zeit ist keine Fahrerin und kein Fahrer frei.', back: 'Zurück zur Eingabe' }
    : { submit: 'Get an offer', confirm: 'Book now', noDriver: 'No driver is free at this time.', back: 'Back to the form' };
  const press = async (name: string) => {
    if (by === 'pointer') return page.getByRole('button', { name }).click();
    if ((await focused(page))?.name !== name) await tabTo(page, (f) => f.tag === 'button' && f.name === name, name);
    await page.keyboard.press('Enter');
  };
  for (let attempt = 0; ; attempt++) {
    await fleetInService();
    await press(L.submit);
    const confirm = page.getByRole('button', { name: L.confirm });
    const noDriver = page.getByText(L.noDriver);
    await Promise.race([confirm.waitFor({ timeout: 30_000 }), noDriver.waitFor({ timeout: 30_000 })]);
    if (!(await noDriver.isVisible()) || attempt >= 1) {
      await confirm.waitFor({ timeout: 1000 });
      return;
    }
    console.warn('e2e: the simulated fleet was out of service (no driver); asking again once it is back');
    await press(L.back);
  }
}

async function fleetInService(): Promise<void> {
  const t0 = Date.now();
  if (process.env.E2E_DEBUG) process.stdout.write(`fleet wait…`);
  await until(() => server.app.bookings.dispatcherRef.plans().filter((p) => p.status === 'available').length >= 3, 45_000, 'three simulated buses in service');
  if (process.env.E2E_DEBUG) console.log(`fleet ready after ${Date.now() - t0} ms`);
}
afterAll(async () => {
  for (const r of riders) await r.ctx.close().catch(() => undefined);
  await browser?.close();
  await server?.close();
});

// on a failure: a screenshot and the text of every open page, to see what the rider saw; then close them all
// (an open trip screen keeps rendering its moving bus, which would slow the next test down)
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') await dumpPages();
  for (const r of riders.splice(0)) await r.ctx.close().catch(() => undefined);
});
async function dumpPages(): Promise<void> {
  console.error(`fleet: ${JSON.stringify(server.app.fleet.all().map((v) => [v.id, v.online, v.driver, v.mode]))}`);
  for (const [i, r] of riders.entries()) {
    if (r.page.isClosed()) continue;
    const file = join(tmpdir(), `rider-e2e-failure-${i}.png`);
    await r.page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
    console.error(`--- page ${i} (${file}) ${r.page.url()}\n${await r.page.locator('body').innerText().catch(() => '')}\nproblems: ${r.problems.join('; ')}`);
  }
}

async function rider(opts: Parameters<typeof openRider>[2] = {}): Promise<Rider> {
  const r = await openRider(browser, server.url, opts);
  riders.push(r);
  return r;
}

/** Types into the pickup (or destination) search and takes the result with this label. */
async function searchAndChoose(page: Page, which: 'from' | 'to', query: string, label: RegExp | string): Promise<void> {
  const input = page.locator(`input[role=combobox][data-field=${which}]`);
  await input.fill(query);
  const option = page.getByRole('option', { name: label }).first();
  await option.waitFor({ timeout: 15_000 });
  await option.click();
}

async function waitText(page: Page, text: string | RegExp, timeout = 20_000): Promise<void> {
  const t0 = Date.now();
  await page.getByText(text).first().waitFor({ timeout });
  if (process.env.E2E_DEBUG && Date.now() - t0 > 1000) console.log(`waited ${Date.now() - t0} ms for ${String(text)}`);
}

/** Position of the bus marker and the ETA shown, to watch the bus approach. */
async function busState(page: Page) {
  return page.evaluate(() => {
    const m = document.querySelector<HTMLElement>('[data-marker=bus]');
    const eta = document.querySelector<HTMLElement>('[data-testid=eta]');
    return { lat: m?.dataset.lat ?? null, lon: m?.dataset.lon ?? null, eta: eta?.dataset.eta ?? null, sentence: document.querySelector('[data-testid=trip-sentence]')?.textContent ?? '' };
  });
}

describe('rider app in the browser (phone viewport, simulated fleet)', () => {
  it('German: search an address in Uni-Wohnstadt, book to TUK, watch the bus come, get the 10-minute reminder, cancel a second ride', async () => {
    const r = await rider();
    const { page } = r;
    await page.getByRole('heading', { name: 'Fahrt buchen', level: 1 }).waitFor();
    await axeCheck(page, 'booking form');

    // the rider allows browser notifications in the settings (lead time stays at 10 minutes)
    await page.getByRole('link', { name: 'Meine Fahrten', exact: true }).click();
    await page.getByRole('heading', { name: 'Meine Fahrten', level: 1 }).waitFor();
    expect(await page.getByLabel('Hinweis, wenn der Bus so weit weg ist').inputValue()).toBe('10');
    await page.getByLabel(/Auch als Mitteilung des Browsers/).check();
    await page.getByRole('link', { name: 'Fahrt buchen', exact: true }).click();

    // pickup by search: forgiving of "str" and missing hyphens
    const input = page.locator('input[role=combobox][data-field=from]');
    await input.fill('konrad adenauer str 20');
    await page.getByRole('option', { name: /Konrad-Adenauer-Straße 20/ }).first().waitFor();
    await waitText(page, /Treffer/);
    await shot(page, 'rider-01-search');
    await axeCheck(page, 'search results');
    await page.getByRole('option', { name: /Konrad-Adenauer-Straße 20/ }).first().click();
    await waitText(page, 'Gewählt: Konrad-Adenauer-Straße 20');

    // destination: TUK is the default hub, with its next line departures (or the words that there are none tonight)
    expect(await page.getByRole('radio', { name: /TUK \(Campus\)/ }).isChecked()).toBe(true);
    await waitText(page, /Nächste Busse ab Uni Ost/);

    await getOffer(page);
    await page.getByRole('heading', { name: 'Ihr Angebot', level: 1 }).waitFor();
    await waitText(page, /zwischen \d\d:\d\d und \d\d:\d\d Uhr/);
    await waitText(page, 'Keiner – der Bus kommt zur Tür.');
    await waitText(page, /etwa \d\d:\d\d Uhr \(spätestens \d\d:\d\d Uhr\)/);
    await waitText(page, /Konrad-Adenauer-Straße 20 → TUK \(Campus\)/);
    await waitText(page, /Dieses Angebot gilt noch \d:\d\d/);
    await until(async () => (await page.getByText(/Anschluss/).count()) > 0, 10_000, 'connection row');
    await shot(page, 'rider-02-offer');
    await axeCheck(page, 'offer');

    await page.getByRole('button', { name: 'Jetzt verbindlich buchen' }).click();
    await page.getByRole('heading', { name: 'Ihre Fahrt', level: 1 }).waitFor();
    // the bus, its label and a live ETA
    await until(async () => /KL/.test((await page.getByTestId('bus-label').textContent({ timeout: 1000 })) ?? ''), 20_000, 'bus label');
    await until(async () => (await busState(page)).lat, 20_000, 'bus on the map');
    await waitText(page, /Ihr Bus KL-\S+ \d+ kommt in /);
    const first = await busState(page);
    const moved = await until(
      async () => {
        const now = await busState(page);
        return now.eta !== first.eta && (now.lat !== first.lat || now.lon !== first.lon) ? now : null;
      },
      30_000,
      'the bus to move and the ETA to change',
    );
    expect(moved.eta).not.toBe(first.eta);
    await waitText(page, /Der Bus ist noch .* entfernt/);

    // the reminder: in the app (role=alert) and as a browser notification
    const notice = page.getByTestId('notice');
    await notice.waitFor({ timeout: 20_000 });
    expect(await notice.textContent()).toMatch(/Ihr Bus KL-\S+ \d+ ist in .* da\. Bitte machen Sie sich bereit\./);
    const notes = await until(async () => ((await r.notifications()).length ? r.notifications() : null), 10_000, 'browser notification');
    expect(notes[0].body).toMatch(/Ihr Bus KL-\S+ \d+ ist in/);
    await waitText(page, /Bus KL-\S+ \d+ ist Ihrer Fahrt zugeteilt|Ihre Fahrt ist gebucht/);
    await shot(page, 'rider-03-trip', true);
    await axeCheck(page, 'trip');

    // a second ride (Uni-Wohnstadt → PFAFF), then cancel it with one confirmation
    await page.getByRole('link', { name: 'Weitere Fahrt buchen' }).click();
    await page.getByRole('heading', { name: 'Fahrt buchen', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Abholung: Ändern' }).click(); // the form keeps the last places
    await searchAndChoose(page, 'from', 'Davenportpl. 4a', /Davenportplatz 4A/);
    await page.getByRole('radio', { name: /PFAFF-Quartier/ }).check();
    await getOffer(page);
    await page.getByRole('button', { name: 'Jetzt verbindlich buchen' }).click();
    await page.getByRole('heading', { name: 'Ihre Fahrt', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Fahrt stornieren' }).click();
    const dialog = page.getByRole('dialog', { name: 'Fahrt wirklich stornieren?' });
    await dialog.waitFor();
    await shot(page, 'rider-04-cancel');
    await axeCheck(page, 'cancel dialog');
    await dialog.getByRole('button', { name: 'Ja, stornieren' }).click();
    await waitText(page, 'Diese Fahrt ist storniert.');
    await waitText(page, 'Sie haben die Fahrt storniert.');

    // my rides: the first upcoming, the cancelled one past
    await page.getByRole('link', { name: 'Meine Fahrten', exact: true }).click();
    await page.getByRole('heading', { name: 'Meine Fahrten', level: 1 }).waitFor();
    const upcoming = page.getByRole('region', { name: 'Kommende Fahrten' });
    const past = page.getByRole('region', { name: 'Vergangene Fahrten' });
    await upcoming.getByRole('link', { name: /Konrad-Adenauer-Straße 20 nach TUK \(Campus\)/ }).waitFor();
    await past.getByRole('link', { name: /Davenportplatz 4A nach PFAFF-Quartier.*Storniert/ }).waitFor();
    await shot(page, 'rider-05-trips');
    await axeCheck(page, 'my rides');
    expect(r.problems).toEqual([]);
  });

  it('English: my location as pickup, the reverse direction (hub → home), and a refusal with its alternative time', async () => {
    const r = await rider({ geolocation: { latitude: 49.4262, longitude: 7.7432 }, permissions: ['geolocation'] });
    const { page } = r;
    await page.getByRole('button', { name: 'Switch to English' }).click();
    await page.getByRole('heading', { name: 'Book a ride', level: 1 }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');

    // pickup: my location (reverse-geocoded to the nearest house)
    await page.getByRole('button', { name: 'My location' }).click();
    await waitText(page, 'Chosen: My location');
    await waitText(page, /near Konrad-Adenauer-Straße/);
    await getOffer(page, 'en');
    await page.getByRole('heading', { name: 'Your offer', level: 1 }).waitFor();
    await waitText(page, 'None – the bus comes to your door.');
    await waitText(page, /between \d\d:\d\d and \d\d:\d\d/);
    await page.getByRole('button', { name: 'Book now' }).click();
    await page.getByRole('heading', { name: 'Your ride', level: 1 }).waitFor();
    await waitText(page, /Your bus KL-\S+ \d+ arrives in /);
    await page.getByTestId('notice').waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('notice').textContent()).toMatch(/Your bus KL-\S+ \d+ is .* away\. Please get ready\./);
    await until(async () => (await busState(page)).lat, 20_000, 'bus on the map');
    await shot(page, 'rider-06-english-trip', true);
    await axeCheck(page, 'trip (English)');
    await page.getByRole('button', { name: 'Cancel ride' }).click();
    await page.getByRole('dialog', { name: 'Really cancel this ride?' }).getByRole('button', { name: 'Yes, cancel' }).click();
    await waitText(page, 'This ride is cancelled.');

    // reverse direction: from the TUK hub home to an address
    await page.getByRole('link', { name: 'Book another ride' }).click();
    await page.getByRole('heading', { name: 'Book a ride', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Swap direction' }).click();
    const from = page.locator('fieldset[data-place=from]');
    expect(await from.getByRole('radio', { name: /TUK \(Campus\)/ }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Destination: Change' }).click(); // the destination is now "my location": choose another address
    await searchAndChoose(page, 'to', 'Kurt-Schumacher-Str. 22', /Kurt-Schumacher-Straße 22/);
    await getOffer(page, 'en');
    await page.getByRole('heading', { name: 'Your offer', level: 1 }).waitFor();
    await waitText(page, 'None – you board at the stop Uni Ost.');
    await waitText(page, /TUK \(Campus\) → Kurt-Schumacher-Straße 22/);
    await page.getByRole('button', { name: 'Discard' }).click();
    await page.getByRole('heading', { name: 'Book a ride', level: 1 }).waitFor();

    // arrive by a time no bus can make: the reason in words and a later time to ask for instead
    await page.getByRole('button', { name: 'Swap direction' }).click(); // home → hub again
    await page.locator('fieldset[data-place=from]').getByRole('button', { name: /Change/ }).waitFor();
    await page.locator('fieldset[data-place=to]').getByRole('radio', { name: /PFAFF-Quartier/ }).check();
    await page.getByRole('radio', { name: 'Later' }).check();
    await page.getByRole('radio', { name: 'Arrive by' }).check();
    // in two minutes, in the browser's time zone (Europe/Berlin)
    const soon = await page.evaluate(() => {
      const d = new Date(Date.now() + 2 * 60_000);
      const pad = (n: number) => String(n).padStart(2, '0');
      return { date: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`, time: `${pad(d.getHours())}:${pad(d.getMinutes())}` };
    });
    await page.getByLabel('Date').fill(soon.date);
    await page.getByLabel('Time').fill(soon.time);
    await fleetInService();
    await page.getByRole('button', { name: 'Get an offer' }).click();
    await waitText(page, 'Sorry, no offer');
    await waitText(page, 'No bus can make it at this time.');
    await waitText(page, /Possible instead: arrival at \d\d:\d\d\./);
    await shot(page, 'rider-07-no-offer');
    await axeCheck(page, 'no offer');
    await page.getByRole('button', { name: /Ask again for \d\d:\d\d/ }).click();
    await page.getByRole('button', { name: 'Book now' }).waitFor();
    await waitText(page, /Kurt-Schumacher|My location|Konrad/);
    expect(r.problems).toEqual([]);
  });

  it('keyboard only: book and cancel a ride without a pointer, with visible focus throughout', async () => {
    const r = await rider({ deviceScaleFactor: 1 });
    const { page } = r;
    await tabTo(page, (f) => f.role === 'combobox' && f.field === 'from', 'the pickup search');
    await page.keyboard.type('Trippstadter Str 14');
    await page.getByRole('option', { name: /Trippstadter Straße 14/ }).first().waitFor();
    await page.keyboard.press('Enter'); // the first result is active
    await waitText(page, /Gewählt: Trippstadter Straße 14/);
    expect((await focused(page))?.name).toMatch(/Ändern/); // focus stays in the form, on "change"
    // destination by arrow keys in the hub radio group: TUK → Uni-Wohnstadt
    await tabTo(page, (f) => f.type === 'radio' && /TUK/.test(f.name), 'the TUK hub radio');
    await page.keyboard.press('ArrowDown');
    expect((await focused(page))?.name).toMatch(/Uni-Wohnstadt/);
    // two passengers
    await tabTo(page, (f) => /Personen: eins mehr/.test(f.name), 'one more passenger');
    await page.keyboard.press('Enter');
    await waitText(page, /^2$/);
    await tabTo(page, (f) => f.tag === 'button' && /Angebot anfragen/.test(f.name), 'the submit button');
    await getOffer(page, 'de', 'keyboard');
    await page.getByRole('heading', { name: 'Ihr Angebot', level: 1 }).waitFor();
    expect((await focused(page))?.tag).toBe('h1'); // a new screen starts at its heading
    await waitText(page, /2 Personen, kein Rollstuhl-Platz/);
    await tabTo(page, (f) => /Jetzt verbindlich buchen/.test(f.name), 'confirm');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Ihre Fahrt', level: 1 }).waitFor();
    await tabTo(page, (f) => /Fahrt stornieren/.test(f.name), 'cancel');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    expect((await focused(page))?.name).toBe('Nein, behalten'); // the safe choice has the focus
    await page.keyboard.press('Tab');
    expect((await focused(page))?.name).toBe('Ja, stornieren');
    await page.keyboard.press('Enter');
    await waitText(page, 'Diese Fahrt ist storniert.');
    expect(r.problems).toEqual([]);
  });

  it("only the rider's own data reach the app; 'delete my data' removes the personal traces", async () => {
    const a = await rider({ deviceScaleFactor: 1 });
    const b = await rider({ deviceScaleFactor: 1 });
    await b.page.getByRole('link', { name: 'Meine Fahrten', exact: true }).click();
    await b.page.getByRole('heading', { name: 'Meine Fahrten', level: 1 }).waitFor();

    await searchAndChoose(a.page, 'from', 'Bunkyo-Ku-Str 12', /Bunkyo-Ku-Straße 12/);
    await getOffer(a.page);
    await a.page.getByRole('button', { name: 'Jetzt verbindlich buchen' }).click();
    await a.page.getByRole('heading', { name: 'Ihre Fahrt', level: 1 }).waitFor();
    const id = /#\/trip\/(.+)$/.exec(a.page.url())![1];
    await until(async () => (await busState(a.page)).lat, 20_000, "A's bus position");
    await new Promise((res) => setTimeout(res, 2500)); // B stays connected while A's bus reports its position

    const rec = server.app.bookings.all().find((x) => x.id === id)!;
    expect(rec.riderId).toBeTruthy();
    const aTraffic = a.received.join('\n');
    expect(aTraffic).toContain(id);
    const bTraffic = b.received.join('\n');
    expect(bTraffic.length).toBeGreaterThan(0);
    expect(bTraffic).not.toContain(id);
    expect(bTraffic).not.toContain(rec.riderId!);
    expect(bTraffic).not.toContain(String(rec.pickup.lat));
    expect(bTraffic).not.toMatch(/vehicle:position/);
    await b.page.reload();
    await b.page.getByRole('link', { name: 'Meine Fahrten', exact: true }).click();
    expect(await b.page.getByRole('region', { name: 'Kommende Fahrten' }).getByText('Keine Fahrten.').count()).toBe(1);

    // A deletes their data
    const oldToken = await a.page.evaluate(() => localStorage.getItem('kl-shuttle.rider.token'));
    expect(oldToken).toBeTruthy();
    await a.page.getByRole('link', { name: 'Meine Fahrten', exact: true }).click();
    await a.page.getByRole('button', { name: 'Meine Daten löschen' }).click();
    await a.page.getByRole('dialog', { name: 'Alle Ihre Daten löschen?' }).getByRole('button', { name: 'Ja, alles löschen' }).click();
    await waitText(a.page, /Ihre Daten sind gelöscht \(1 Fahrten\)/);
    expect(await a.page.getByRole('region', { name: 'Kommende Fahrten' }).getByText('Keine Fahrten.').count()).toBe(1);
    const after = server.app.bookings.all().find((x) => x.id === id)!;
    expect(after.riderId).toBeNull();
    expect(after.status).toBe('cancelled');
    expect(after.pickup).toMatchObject({ lat: 0, lon: 0 });
    // the old pseudonym is gone from the device (the app starts over with a new one, which has no rides)
    await until(async () => (await a.page.evaluate(() => localStorage.getItem('kl-shuttle.rider.token'))) !== oldToken, 10_000, 'a new pseudonym');
    expect(await a.page.evaluate(() => localStorage.getItem('kl-shuttle.rider.state') ?? '')).not.toContain('Bunkyo');
    expect([...a.problems, ...b.problems]).toEqual([]);
  });

  it('reflows at 320 px and at 200 % zoom, keeps touch targets large, and works on a desktop screen', async () => {
    for (const viewport of [
      { width: 320, height: 640 }, // WCAG 1.4.10 reflow width
      { width: 640, height: 400 }, // a 1280×800 desktop at 200 % zoom
    ]) {
      const r = await rider({ viewport, deviceScaleFactor: 1 });
      const { page } = r;
      for (const hash of ['#/', '#/trips']) {
        await page.goto(`${server.url}/${hash}`);
        await page.getByRole('heading', { level: 1 }).first().waitFor();
        await page.waitForTimeout(300);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `horizontal scrolling at ${viewport.width}px on ${hash}`).toBeLessThanOrEqual(0);
      }
      await page.goto(`${server.url}/#/`);
      await page.getByRole('heading', { name: 'Fahrt buchen' }).waitFor();
      const small = await page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('main button, main select, main input.input, main .segment, main .hub-option, header a, header button')]
          .map((el) => ({ el: el.textContent?.trim() || el.getAttribute('aria-label') || el.tagName, h: el.getBoundingClientRect().height, w: el.getBoundingClientRect().width }))
          .filter((x) => x.h > 0 && (x.h < 44 || x.w < 44)),
      );
      expect(small, 'touch targets smaller than 44×44 CSS px').toEqual([]);
      await axeCheck(page, `booking form at ${viewport.width}px`);
      if (viewport.width === 320) await shot(page, 'rider-09-reflow-320');
    }
    const d = await rider({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, isMobile: false, hasTouch: false });
    await searchAndChoose(d.page, 'from', 'Gottlieb-Daimler-Str 68', /Gottlieb-Daimler-Straße 68/);
    await d.page.waitForTimeout(1500); // the map zooms to the pickup
    await shot(d.page, 'rider-08-desktop');
    await axeCheck(d.page, 'desktop');
  });

  it('is installable: a web app manifest with icons, and a service worker', async () => {
    const res = await fetch(`${server.url}/manifest.webmanifest`);
    expect(res.status).toBe(200);
    const m = (await res.json()) as { name: string; short_name: string; start_url: string; display: string; icons: { src: string; sizes: string; purpose?: string }[] };
    expect(m).toMatchObject({ short_name: 'KL Shuttle', start_url: '/', display: 'standalone' });
    for (const size of ['192x192', '512x512']) {
      const icon = m.icons.find((i) => i.sizes === size);
      expect(icon, size).toBeDefined();
      expect((await fetch(`${server.url}${icon!.src}`)).headers.get('content-type')).toMatch(/image\/png/);
    }
    const r = await rider({ deviceScaleFactor: 1 });
    expect(await r.page.evaluate(() => document.querySelector('link[rel=manifest]')?.getAttribute('href'))).toBe('/manifest.webmanifest');
    const scope = await r.page.evaluate(() => Promise.race([navigator.serviceWorker.ready.then((x) => x.scope), new Promise((res) => setTimeout(() => res('no service worker after 15 s'), 15_000))]));
    expect(scope).toBe(`${server.url}/`);
  });
});
