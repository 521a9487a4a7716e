import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, staffToken, startTestServer, type TestServer } from '../testing/server.ts';

const root = resolve(import.meta.dirname, '..', '..', '..');
function run(args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(t);
      res({ code, stdout, stderr });
    });
  });
}

describe('npm run sim (CLI)', () => {
  let out = '';
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'kl-sim-cli-'));
  });
  afterAll(() => rm(out, { recursive: true, force: true }));

  it('runs a scenario and writes events.ndjson, kpis.json, report.md and charts; no progress bar when not a terminal', async () => {
    const r = await run(['server/src/sim/cli.ts', 'fixtures/scenarios/teststrecke.json', '--out', out, '--seed', '3']);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ['events.ndjson', 'kpis.json', 'report.md', 'wait-time-histogram.svg', 'occupancy-over-time.svg', 'fleet-state-over-time.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(r.stdout).not.toMatch(/█|░|\[=+/);
    const first = JSON.parse(readFileSync(join(out, 'events.ndjson'), 'utf8').split('\n')[0]);
    expect(first).toMatchObject({ type: 'run.start', scenario: 'teststrecke', seed: 3 });
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toMatch(/OpenStreetMap/);
    expect(readFileSync(join(out, 'fleet-state-over-time.svg'), 'utf8')).toMatch(/^<svg/);
  });

  it('a bad scenario file names the bad field and exits 2', async () => {
    const bad = join(out, 'bad.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, JSON.stringify({ name: 'x', start: 'yesterday', durationMin: -1, fleet: [] }));
    const r = await run(['server/src/sim/cli.ts', bad, '--out', join(out, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/start: /);
    expect(r.stderr).toMatch(/durationMin: /);
    expect(r.stderr).toMatch(/fleet: /);
  });
});

describe('npm run fleet (simulated buses as their own process)', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ vehicles: 0 });
  });
  afterAll(() => s.close());

  it('connects N buses to a running server over the vehicle protocol', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/sim/fleet-cli.ts', '--server', s.url, '--vehicles', '3'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stdout = '';
      child.stdout.on('data', (d) => (stdout += d));
      const token = await staffToken(s.url, 'dispatcher');
      let online = 0;
      for (let i = 0; i < 100 && online < 3; i++) {
        await new Promise((r) => setTimeout(r, 200));
        online = ((await api(s.url, 'GET', '/api/vehicles', { token })).json as { online: boolean }[]).filter((v) => v.online).length;
      }
      expect(online).toBe(3);
      expect(stdout).toMatch(/3 simulated buses driving/);
    } finally {
      child.kill('SIGINT');
    }
  });
});
