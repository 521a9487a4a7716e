import type { SafetyConfig } from '../teleop/vehicleSafety.ts';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RoutingEngine } from '@kl/routing';
import { io as connect, type Socket } from 'socket.io-client';
import { createApp, type App } from '../app.ts';
import { testConfig, type ServerConfig } from '../config.ts';
import { EmbeddedSimulation } from '../sim/embedded.ts';
import { systemClock } from '../core/clock.ts';

let engine: Promise<RoutingEngine> | null = null;
/** One routing engine per test worker (it is read-only). */
export function sharedEngine(): Promise<RoutingEngine> {
  engine ??= RoutingEngine.load();
  return engine;
}

export interface TestServer {
  app: App;
  url: string;
  dataDir: string;
  sim: EmbeddedSimulation | null;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

/** A real server on a free loopback port, optionally with simulated buses driving the real road graph. */
export async function startTestServer(
  o: { vehicles?: number; demandPerHour?: number; config?: Partial<ServerConfig>; dataDir?: string; vehicleSafety?: Partial<SafetyConfig> } = {},
): Promise<TestServer> {
  const dataDir = o.dataDir ?? (await mkdtemp(join(tmpdir(), 'kl-server-')));
  const app = await createApp(testConfig({ dataDir, ...o.config }), { engine: await sharedEngine() });
  const addr = await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${addr.port}`;
  let sim: EmbeddedSimulation | null = null;
  if (o.vehicles) {
    sim = new EmbeddedSimulation(app, url, systemClock, { vehicles: o.vehicles, demandPerHour: o.demandPerHour ?? 0, seed: 7, keyOf: (v) => `${v.id}-demo-key`, ...(o.vehicleSafety ? { safety: o.vehicleSafety } : {}) });
    await sim.start();
  }
  return {
    app,
    url,
    dataDir,
    sim,
    async close(c = {}) {
      sim?.stop();
      await app.close();
      if (!c.keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function api(url: string, method: string, path: string, opts: { token?: string; body?: unknown; raw?: string } = {}) {
  const res = await fetch(url + path, {
    method,
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: res.status, json, text, headers: res.headers };
}

export async function riderToken(url: string): Promise<string> {
  return (await api(url, 'POST', '/api/auth/rider', { body: {} })).json.token;
}
export async function staffToken(url: string, user: string): Promise<string> {
  return (await api(url, 'POST', '/api/auth/login', { body: { username: user, password: user } })).json.token;
}

export function socket(url: string, ns: string, auth: Record<string, unknown>): Socket {
  return connect(`${url}${ns}`, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
}

/** Resolves with the first event payload satisfying `pred`, or rejects after `ms`. */
export function waitFor<T>(s: Socket, event: string, pred: (x: T) => boolean = () => true, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      s.off(event, on);
      reject(new Error(`timeout waiting for ${event}`));
    }, ms);
    const on = (x: T) => {
      if (!pred(x)) return;
      clearTimeout(t);
      s.off(event, on);
      resolve(x);
    };
    s.on(event, on);
  });
}

export function connected(s: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (s.connected) return resolve();
    s.once('connect', () => resolve());
    s.once('connect_error', (e) => reject(e));
  });
}

/** A pickup in Uni-Wohnstadt on Konrad-Adenauer-Straße (inside the service area). */
export const UNI_WOHNSTADT_HOME = { lat: 49.4262, lon: 7.7432 };
