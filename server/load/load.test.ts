import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadResult } from './run.ts';

/**
 * Keeps `npm run load` from rotting: a short run (20 buses, 5 consoles, 10 s) against its own child server must
 * complete and measure every column. The timing targets are not checked here (scripts print them; a loaded test
 * machine says nothing about them).
 */
const ROOT = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'kl-load-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'server', 'load', 'cli.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('exit', (code) => res({ code, stdout, stderr }));
  });
}

describe('npm run load (smoke)', () => {
  it('20 vehicles, 5 consoles, 20 riders, 10 s: completes and measures every column', { timeout: 300_000 }, async () => {
    const json = join(dir, 'load.json');
    const r = await runCli(['--vehicles', '20', '--consoles', '5', '--drivers', '2', '--riders', '20', '--bookings-per-min', '120', '--duration', '10', '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    for (const label of ['fan-out: vehicle send → console receive', 'teleop command: console → bus → verdict at console', 'booking: offer + confirm', 'dropped', 'server CPU %', 'server RSS MB', 'load average'])
      expect(r.stdout).toContain(label);
    const res = JSON.parse(readFileSync(json, 'utf8')) as LoadResult;
    expect(res.connected).toEqual({ vehicles: 20, consoles: 5, riders: 20 });
    // fan-out: every state the buses sent is accounted for, and deliveries were timed
    const f = res.fanout;
    expect(f.sent).toBeGreaterThan(0);
    expect(f.fannedOut + f.merged).toBe(f.sent);
    expect(f.expected).toBe(f.fannedOut * 5);
    expect(f.delivered + f.dropped).toBe(f.expected);
    expect(f.latency!.n).toBeGreaterThanOrEqual(f.delivered);
    expect(f.delivered).toBeGreaterThan(0);
    expect(f.latency!.p99).toBeGreaterThanOrEqual(f.latency!.p50);
    // teleop commands reached the buses and came back
    expect(res.teleop.oneWay!.n).toBeGreaterThan(0);
    expect(res.teleop.roundTrip!.n).toBeGreaterThan(0);
    expect(res.teleop.roundTrip!.p50).toBeGreaterThanOrEqual(res.teleop.oneWay!.p50 * 0.5);
    // bookings: offers and confirmations were timed
    expect(res.bookings.offer!.n).toBeGreaterThan(0);
    expect(res.bookings.total!.n).toBeGreaterThan(0);
    // the server child was measured: CPU, memory, heap, event-loop delay, bytes written
    const m = res.resources;
    for (const x of [m.serverCpuPct.mean, m.serverRssMB.mean, m.serverHeapMB.mean, m.serverWriteMBs.mean, m.serverLagMs.p99Median, m.serverLagMs.max, m.loadCpuPct.mean, m.load1.mean]) {
      expect(typeof x).toBe('number');
      expect(Number.isFinite(x)).toBe(true);
    }
    expect(m.serverRssMB.mean!).toBeGreaterThan(50);
    expect(Number.isFinite(m.vehicleLagMs.max)).toBe(true);
  });

  it('refuses bad arguments with a usage message and exit code 2', async () => {
    const r = await runCli(['--vehicles', '0', '--duration', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--vehicles:');
    expect(r.stderr).toContain('--duration:');
    expect(r.stderr).toContain('usage: npm run load');
  });
});
