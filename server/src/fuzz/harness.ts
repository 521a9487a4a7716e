import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { io as connect, type Socket } from 'socket.io-client';
import { createApp, type App } from '../app.ts';
import type { Role } from '../auth/tokens.ts';
import { testConfig } from '../config.ts';
import { ManualClock } from '../core/clock.ts';
import { EmbeddedSimulation } from '../sim/embedded.ts';
import type { EventRecord } from '../store/types.ts';
import { sharedEngine } from '../testing/server.ts';

/**
 * The server under fuzz: the real app (routing graph, store, socket.io namespaces, teleoperation core) on a
 * loopback port in this process, with simulated buses on the real /vehicle protocol, seeded bookings, and one
 * token per role. The app's clock runs while all this is set up and is then frozen, so nothing changes by itself
 * while the fuzzer runs (offers do not expire, leases do not lapse, buses do not move): every difference
 * between two snapshots is caused by input.
 */
export type Who = 'rider' | 'rider2' | 'driver' | 'dispatcher' | 'admin' | 'vehicle';
export const ROLE_OF: Record<Who, Role> = { rider: 'rider', rider2: 'rider', driver: 'driver', dispatcher: 'dispatcher', admin: 'admin', vehicle: 'vehicle' };

/** The bus the fuzzer connects as on /vehicle (no simulated agent drives it). */
export const FUZZ_BUS_INDEX = -1;

export interface Crash {
  kind: 'uncaughtException' | 'unhandledRejection' | 'error-log';
  message: string;
}

export interface FuzzServer {
  app: App;
  url: string;
  dataDir: string;
  clock: ManualClock;
  tokens: Record<Who, string>;
  /** same subjects and roles, already expired */
  expired: Record<Who, string>;
  /** booking id → who booked it */
  bookings: Map<string, Who>;
  vehicleIds: string[];
  hubIds: string[];
  /** the bus the fuzzer speaks for on /vehicle */
  fuzzBus: string;
  /** uncaught exceptions, unhandled rejections and error logs since start (drained by the runner) */
  crashes: Crash[];
  http: Agent;
  close(): Promise<void>;
}

export interface ServerOptions {
  seed: number;
  /** run on Redis (bookings, dispatcher, audit in Redis) instead of the embedded journal */
  redisUrl?: string;
  /** simulated buses driving under the frozen clock (the fuzzer's own bus comes on top) */
  buses?: number;
}

export async function startFuzzServer(o: ServerOptions): Promise<FuzzServer> {
  const crashes: Crash[] = [];
  const onUncaught = (e: unknown) => crashes.push({ kind: 'uncaughtException', message: errText(e) });
  const onRejection = (e: unknown) => crashes.push({ kind: 'unhandledRejection', message: errText(e) });
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
  // error-level log lines are the server saying "this was not supposed to happen" (500s, failed handlers)
  const logSink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) {
        if (!line.trim()) continue;
        try {
          const j = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
          if ((j.level ?? 0) >= 50) crashes.push({ kind: 'error-log', message: `${j.msg ?? ''}${j.err?.message ? `: ${j.err.message}` : ''}` });
        } catch {
          /* not JSON */
        }
      }
      cb();
    },
  });
  const logger = pino({ level: 'error' }, logSink);

  const dataDir = await mkdtemp(join(tmpdir(), 'kl-fuzz-'));
  const clock = new ManualClock(Date.now());
  // time runs during the set-up (buses connect, simulated drivers take them, bookings get offers), then stops
  const ticker = setInterval(() => clock.set(Math.max(clock.now(), Date.now())), 20);
  const config = testConfig({ dataDir, ...(o.redisUrl ? { redisUrl: o.redisUrl, redisPrefix: `kl-fuzz-${process.pid}-${o.seed}-${Date.now()}:` } : {}) });
  const app = await createApp(config, { engine: await sharedEngine(), clock, logger });
  const addr = await app.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${addr.port}`;
  const http = new Agent({ keepAlive: true, maxSockets: 16 });

  const defs = app.fleet.defs();
  const buses = Math.min(o.buses ?? 2, defs.length - 1);
  const sim = new EmbeddedSimulation(app, url, clock, { vehicles: buses, demandPerHour: 0, seed: o.seed, keyOf: (v) => `${v.id}-demo-key` });
  await sim.start();
  const fuzzBus = defs[defs.length - 1].id;

  const tokens = {} as Record<Who, string>;
  const expired = {} as Record<Who, string>;
  const subjects: Record<Who, string> = { rider: 'rider_fuzzA', rider2: 'rider_fuzzB', driver: 'driver1', dispatcher: 'dispatcher', admin: 'admin', vehicle: fuzzBus };
  for (const who of Object.keys(subjects) as Who[]) {
    tokens[who] = app.tokens.issue(subjects[who], ROLE_OF[who], 3600);
    expired[who] = app.tokens.issue(subjects[who], ROLE_OF[who], -60);
  }
  // staff log in for real once (the login route must work before its bad input is worth anything)
  for (const who of ['driver', 'dispatcher', 'admin'] as const) {
    const r = await httpJson(url, http, 'POST', '/api/auth/login', { username: subjects[who], password: subjects[who] });
    if (r.status !== 200) throw new Error(`fuzz setup: login ${subjects[who]} → ${r.status}`);
    tokens[who] = (r.json as { token: string }).token;
  }

  // wait until the simulated buses can take riders, then book: offers, confirmed and phone bookings
  const until = Date.now() + 15_000;
  while (Date.now() < until && !defs.slice(0, buses).every((v) => app.realtime.teleop.available(v.id))) await sleep(100);
  const bookings = new Map<string, Who>();
  const hubIds = app.hubs.map((h) => h.id);
  const book = async (who: Who, i: number, confirm: boolean) => {
    const body = { pickup: { hubId: hubIds[i % hubIds.length] }, dropoff: { hubId: hubIds[(i + 1) % hubIds.length] }, passengers: 1 + (i % 2) };
    const r = await httpJson(url, http, 'POST', '/api/bookings', body, tokens[who]);
    const id = (r.json as { id?: string; error?: { details?: { bookingId?: string } } })?.id ?? (r.json as { error?: { details?: { bookingId?: string } } })?.error?.details?.bookingId;
    if (id) bookings.set(id, who);
    if (confirm && r.status === 201 && id) await httpJson(url, http, 'POST', `/api/bookings/${id}/confirm`, undefined, tokens[who]);
  };
  await book('rider', 0, false);
  await book('rider', 1, true);
  await book('rider2', 2, false);
  await book('rider2', 3, true);
  await book('dispatcher', 4, false);
  clearInterval(ticker);

  return {
    app,
    url,
    dataDir,
    clock,
    tokens,
    expired,
    bookings,
    vehicleIds: defs.map((v) => v.id),
    hubIds,
    fuzzBus,
    crashes,
    http,
    async close() {
      sim.stop();
      http.destroy();
      await app.close();
      process.off('uncaughtException', onUncaught);
      process.off('unhandledRejection', onRejection);
      await rm(dataDir, { recursive: true, force: true });
      if (o.redisUrl) await dropRedisPrefix(o.redisUrl, config.redisPrefix);
    },
  };
}

async function dropRedisPrefix(url: string, prefix: string): Promise<void> {
  const { createClient } = await import('redis');
  const c = createClient({ url });
  await c.connect();
  for await (const keys of c.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) if (keys.length) await c.del(keys);
  await c.quit();
}

export function errText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- snapshots

/**
 * Everything input could change: the store as persisted (bookings, dispatcher snapshot, audit/event log — read
 * back from the journal files or from Redis, not from the app's memory) and the live state in memory (booking
 * records, teleoperation leases and alerts, fleet view), plus Object.prototype (pollution).
 */
export interface Snapshot {
  parts: Record<string, string>;
  /** the audit/event log as stored, oldest first */
  events: EventRecord[];
}

export async function snapshot(s: FuzzServer): Promise<Snapshot> {
  const app = s.app;
  const out: Record<string, string> = {};
  if (app.store.kind === 'redis') {
    const p = await app.store.load();
    out['store.bookings'] = stable(p.bookings);
    out['store.dispatcher'] = stable(p.dispatcher);
  } else {
    const dir = s.dataDir;
    const state = new Map<string, unknown>();
    let dispatcher: unknown = null;
    for (const line of (await readFile(join(dir, 'journal.ndjson'), 'utf8').catch(() => '')).split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as { bookings?: { id: string }[]; dispatcher?: unknown };
        for (const b of e.bookings ?? []) state.set(b.id, b);
        if (e.dispatcher) dispatcher = e.dispatcher;
      } catch {
        /* a torn line */
      }
    }
    out['store.bookings'] = stable([...state.values()]);
    out['store.dispatcher'] = stable(dispatcher);
    const file = await readFile(join(dir, 'events.ndjson'), 'utf8').catch(() => '');
    out['store.events.file'] = stable(file.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown));
  }
  const events = await app.store.readEvents({});
  out['store.events'] = stable(events);
  out['memory.bookings'] = stable(app.bookings.all());
  // measured link quality is left out: the simulated buses keep answering RTT probes during the run, so the
  // estimate moves on its own as the samples from before the freeze leave the window (by count, not time)
  out['teleop.vehicles'] = stable(app.realtime.teleop.views().map(({ t: _t, latencyMs: _l, permittedSpeed: _p, speedFactor: _f, ...v }) => v));
  out['teleop.alerts'] = stable(app.realtime.teleop.alertList());
  out['fleet'] = stable(app.fleet.all());
  out['Object.prototype'] = Object.getOwnPropertyNames(Object.prototype).sort().join(',');
  return { parts: out, events };
}

/**
 * A refused control attempt, audited on purpose: the teleoperation audit records every control event, forwarded
 * or refused (teleop/README.md, commands.test.ts), so a well-formed but refused teleop request from a fuzzing
 * console leaves exactly such a record. Nothing else may appear.
 */
export function isAuditedRefusal(e: EventRecord, actors: Set<string>): boolean {
  if (!e.actor || !actors.has(e.actor)) return false;
  return e.type === 'teleop.refused' || (e.type === 'teleop.command' && e.data?.status === 'refused');
}

/**
 * What changed between two snapshots: the parts that differ (with the first difference of each), and the
 * audited refusals among the appended events, which are allowed (when the log only grew by them).
 */
export function compareSnapshots(a: Snapshot, b: Snapshot, actors: Set<string>): { changed: string[]; auditedRefusals: number } {
  const appended = b.events.slice(a.events.length);
  const onlyRefusals =
    b.events.length >= a.events.length && stable(b.events.slice(0, a.events.length)) === stable(a.events) && appended.every((e) => isAuditedRefusal(e, actors));
  const eventParts = new Set(['store.events', 'store.events.file']);
  const changed = snapshotDiff(a.parts, b.parts).filter((d) => !(onlyRefusals && eventParts.has(d.slice(0, d.indexOf(' ')))));
  return { changed, auditedRefusals: onlyRefusals ? appended.length : 0 };
}

/** The parts that differ, with the first difference of each. */
export function snapshotDiff(a: Record<string, string>, b: Record<string, string>): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k] ?? '', y = b[k] ?? '';
    if (x === y) continue;
    let i = 0;
    while (i < x.length && x[i] === y[i]) i++;
    out.push(`${k} changed at ${i}: …${x.slice(Math.max(0, i - 60), i + 80)}… → …${y.slice(Math.max(0, i - 60), i + 80)}…`);
  }
  return out;
}

function stable(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : 1))) : x)) ?? 'undefined';
}

// ---------------------------------------------------------------- HTTP

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

/** One raw HTTP request (node:http: any method may carry a body, headers and bytes exactly as given). */
export function httpRaw(
  url: string,
  agent: Agent,
  req: { method: string; path: string; headers: Record<string, string>; body?: string | Buffer },
  timeoutMs = 20_000,
): Promise<RawResponse | { error: string }> {
  return new Promise((resolve) => {
    const u = new URL(url);
    let done = false;
    const finish = (r: RawResponse | { error: string }) => {
      if (!done) {
        done = true;
        resolve(r);
      }
    };
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    const r = request({ host: u.hostname, port: u.port, method: req.method, path: req.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => finish({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => finish({ error: errText(e) }));
    });
    r.setTimeout(timeoutMs, () => {
      r.destroy(new Error('timeout'));
    });
    // a server may answer (413) before it read a large body and close: the answer counts, not the write error
    r.on('error', (e) => setTimeout(() => finish({ error: errText(e) }), 50));
    if (req.body !== undefined) r.write(req.body);
    r.end();
  });
}

async function httpJson(url: string, agent: Agent, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: unknown }> {
  const r = await httpRaw(url, agent, {
    method,
    path,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  if ('error' in r) throw new Error(`${method} ${path}: ${r.error}`);
  let json: unknown = null;
  try {
    json = JSON.parse(r.text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, json };
}

/** Sum of `kl_input_rejected_total` (every payload the edge refused), from the public metrics endpoint. */
export async function rejectedCount(s: FuzzServer): Promise<number> {
  const r = await httpRaw(s.url, s.http, { method: 'GET', path: '/metrics', headers: {} });
  if ('error' in r) return NaN;
  let n = 0;
  for (const line of r.text.split('\n')) if (line.startsWith('kl_input_rejected_total{')) n += Number(line.slice(line.lastIndexOf(' ') + 1));
  return n;
}

// ---------------------------------------------------------------- sockets

export function openSocket(url: string, namespace: string, auth: unknown): Socket {
  return connect(`${url}${namespace}`, { auth: auth as Record<string, unknown>, transports: ['websocket'], reconnection: false, forceNew: true, timeout: 10_000 });
}

/** Resolves 'connected' or the connect error's message. */
export function connectOutcome(s: Socket, ms = 10_000): Promise<{ connected: true } | { connected: false; reason: string }> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve({ connected: false, reason: 'timeout' }), ms);
    s.once('connect', () => {
      clearTimeout(t);
      resolve({ connected: true });
    });
    s.once('connect_error', (e) => {
      clearTimeout(t);
      resolve({ connected: false, reason: e.message });
    });
    // a handshake over the frame limit: the server closes the transport before it reads the packet
    s.io.once('close', (reason) => {
      clearTimeout(t);
      resolve({ connected: false, reason: `closed (${reason})` });
    });
  });
}
