/// <reference lib="dom" />
/**
 * Leitstand frame-time benchmark (not a test): a real server with 200 simulated buses at 10 Hz, the Leitstand in
 * Debian Chromium, requestAnimationFrame deltas over 10 s on the map screen. Target: p95 ≤ 33 ms.
 *   npm run bench:ui
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { loadPlan, writeLoadFixtures } from '../../server/load/fixtures.ts';
import { BookingTracker, LoadRiders } from '../../server/load/riders.ts';
import { startServerChild } from '../../server/load/server-process.ts';
import { startVehiclesProcess } from '../../server/load/vehicles.ts';

// The same set-up as `npm run load`: the server in a child process, the buses (real vehicle agents at 10 Hz on
// the /vehicle protocol) in a process of their own, riders booking so the buses drive; only the browser here.
const N = Number(process.env.BUSES ?? 200);
const HZ = 10;
const root = process.cwd();
if (!existsSync(join(root, 'control-room-ui', 'dist', 'index.html'))) execFileSync('npm', ['run', 'build', '-w', 'control-room-ui'], { stdio: 'inherit' });

const dir = mkdtempSync(join(tmpdir(), 'kl-frames-'));
const fx = await writeLoadFixtures(dir, { vehicles: N, consoles: 1, drivers: 0, seed: 7 });
const server = await startServerChild({ dataDir: dir, fleetFile: fx.fleetFile, staffFile: fx.staffFile });
const url = server.url;
const fleet = startVehiclesProcess({ url, vehicles: loadPlan({ vehicles: N, consoles: 1, drivers: 0, seed: 7 }).vehicles, hz: HZ, seed: 7 }, { sent: () => {}, command: () => {} });
await fleet.ready;
const riders = new LoadRiders(url, 60, 120, 7, new BookingTracker());
await riders.connect();
riders.start();
console.error(`server ${url}, ${N} buses at ${HZ} Hz connected; riders booking; warming up …`);
await new Promise((r) => setTimeout(r, 20_000)); // let buses get bookings and drive

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
const page = await browser.newPage({ viewport: { width: 1600, height: 950 } });
await page.goto(`${url}/leitstand/`);
await page.fill('input[name=username]', 'dispatcher');
await page.fill('input[name=password]', 'dispatcher');
await page.click('button[type=submit]');
await page.waitForSelector('.maplibregl-canvas');
await page.waitForTimeout(3000);
const moving = (await page.evaluate(`Number(document.querySelector('section.fleet table')?.getAttribute('aria-rowcount') ?? 1) - 1`)) as number;
// PROFILE=1: where the page's main thread spends its time (self time per function, CDP profiler)
const cdp = process.env.PROFILE ? await page.context().newCDPSession(page) : null;
if (cdp) {
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.start');
}
// a string, not a function: tsx's transform would add helpers (__name) the page does not have
const deltas = (await page.evaluate(`new Promise((resolve) => {
  const out = [];
  let last = performance.now();
  const start = last;
  const f = (t) => {
    out.push(t - last);
    last = t;
    if (t - start < 10000) requestAnimationFrame(f);
    else resolve(out);
  };
  requestAnimationFrame(f);
})`)) as number[];
if (cdp) {
  const { profile } = await cdp.send('Profiler.stop');
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples!.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const k = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
    self.set(k, (self.get(k) ?? 0) + (profile.timeDeltas![i] ?? 0) / 1000);
  });
  for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.error(`${ms.toFixed(0).padStart(7)} ms  ${k}`);
}
await browser.close();
riders.close();
await fleet.stop();
await server.stop();
rmSync(dir, { recursive: true, force: true });

const s = [...deltas].sort((a, b) => a - b);
const pct = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
const rows = [
  ['measure', 'value', 'target'],
  ['buses (vehicle agents, 10 Hz, own process)', String(N), '200'],
  ['load average (1 min) at the end', loadavg()[0].toFixed(1), ''],
  ['rows in the fleet list', String(moving), ''],
  ['frames in 10 s', String(deltas.length), ''],
  ['frame time p50', `${pct(50).toFixed(1)} ms`, ''],
  ['frame time p95', `${pct(95).toFixed(1)} ms`, '≤ 33 ms'],
  ['frame time p99', `${pct(99).toFixed(1)} ms`, ''],
  ['frame time max', `${s[s.length - 1].toFixed(1)} ms`, ''],
];
const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
console.log('Leitstand frame times (headless Chromium, software rendering)');
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((x, c) => x.padEnd(w[c])).join(' | ')} |`);
  if (i === 0) console.log(`|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`);
}
console.log(pct(95) <= 33 ? 'target: met' : 'target: NOT met');
process.exit(0);
