import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api, riderToken, UNI_WOHNSTADT_HOME } from '../testing/server.ts';

const root = resolve(import.meta.dirname, '..', '..', '..');
const children: ChildProcess[] = [];

/** Starts `server/src/main.ts` as its own process (as `npm start` does) and resolves with its base URL. */
function startServer(dataDir: string): Promise<{ url: string; child: ChildProcess }> {
  // node itself is the child (tsx as a loader), so SIGKILL really kills the server and not just a wrapper
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'server/src/main.ts')], {
    cwd: root,
    env: { ...process.env, PORT: '0', DATA_DIR: dataDir, SIM: 'on', SIM_VEHICLES: '2', SIM_DEMAND_PER_HOUR: '0', LOG_LEVEL: 'warn', REDIS_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((res, rej) => {
    let out = '';
    const t = setTimeout(() => rej(new Error(`server did not start: ${out}`)), 60_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /Rider app:\s+(http:\/\/[\d.]+:\d+)\//.exec(out);
      if (m) {
        clearTimeout(t);
        res({ url: m[1], child });
      }
    });
    child.stderr!.on('data', (d) => (out += d));
    child.on('exit', (code) => rej(new Error(`server exited ${code}: ${out}`)));
  });
}

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
});

describe('embedded store: nothing confirmed is lost', () => {
  it('a confirmed booking survives kill -9 and restart, still planned on its bus', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'kl-restart-'));
    try {
      const a = await startServer(dataDir);
      const token = await riderToken(a.url);
      const o = await api(a.url, 'POST', '/api/bookings', { token, body: { pickup: UNI_WOHNSTADT_HOME, dropoff: { hubId: 'pfaff' }, passengers: 2, departAt: Date.now() + 3600_000 } });
      expect(o.status).toBe(201);
      const c = await api(a.url, 'POST', `/api/bookings/${o.json.id}/confirm`, { token });
      expect(c.status).toBe(200);
      const exited = new Promise((r) => a.child.once('exit', r));
      a.child.kill('SIGKILL'); // no shutdown hook runs
      await exited;

      const b = await startServer(dataDir);
      const got = await api(b.url, 'GET', `/api/bookings/${o.json.id}`, { token });
      expect(got.status).toBe(200);
      expect(['confirmed', 'assigned']).toContain(got.json.status);
      expect(got.json.vehicleId).toBe(c.json.vehicleId);
      expect(got.json.offer.pickupWindow).toEqual(c.json.offer.pickupWindow);
      // the restored dispatcher still has it in the bus's plan (an ETA comes from the plan)
      expect(got.json.eta).not.toBeNull();
      b.child.kill('SIGKILL');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
