import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createClient } from 'redis';
import { io as connect, type Socket } from 'socket.io-client';
import { FIXTURES_DIR } from '@kl/routing/fixtures.ts';
import { systemClock } from '../core/clock.ts';
import { Rng } from '../core/rng.ts';
import type { VehicleDef } from '../fleet/registry.ts';
import type { FleetState, FleetVehicle, LeitstandAlert, PlanUpdate, TeleopStateView } from '../protocol/events.ts';
import { mergeFleetState } from '../protocol/fleet-delta.ts';
import { VehicleAgent } from '../sim/agent.ts';
import { health, type InstanceProc, type LocalCluster, type RedisProc } from './harness.ts';

/**
 * The faults of issue 9 against a local topology (harness.ts), each returning what was checked and how it went.
 * cluster.test.ts runs them short and asserts every check; `npm run faults` runs them with a longer load and
 * prints the table. Everything is real: server processes, Redis, socket.io clients, simulated buses on the real
 * /vehicle protocol.
 */

export interface Check {
  fault: string;
  checked: string;
  ok: boolean;
  detail: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, ms: number, every = 50): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timeout (${ms} ms) waiting for ${what}`);
    await sleep(every);
  }
}

/** until(), as a check result instead of a throw */
async function within<T>(fn: () => T | null | undefined | false | Promise<T | null | undefined | false>, ms: number): Promise<{ value: T | null; ms: number }> {
  const t0 = Date.now();
  try {
    return { value: await until('', fn, ms), ms: Date.now() - t0 };
  } catch {
    return { value: null, ms: Date.now() - t0 };
  }
}

// ------------------------------------------------------------------ clients

async function json(url: string, method: string, path: string, o: { token?: string; body?: unknown } = {}): Promise<{ status: number; json: any }> {
  const r = await fetch(url + path, {
    method,
    headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await r.text();
  let j: any = null;
  try {
    j = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, json: j };
}

export async function staffToken(url: string, user: string): Promise<string> {
  return (await json(url, 'POST', '/api/auth/login', { body: { username: user, password: user } })).json.token;
}
export async function riderToken(url: string): Promise<string> {
  return (await json(url, 'POST', '/api/auth/rider', { body: {} })).json.token;
}

/** A Leitstand console: keeps the fleet and teleoperation state as its instance sends them. */
export class ConsoleView {
  readonly socket: Socket;
  readonly fleet = new Map<string, FleetVehicle>();
  readonly teleop = new Map<string, TeleopStateView>();
  readonly alerts: LeitstandAlert[] = [];
  snapshots = 0;
  deltas = 0;
  constructor(readonly url: string, token: string) {
    this.socket = connect(`${url}/leitstand`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    this.socket.on('fleet:state', (s: FleetState) => {
      if (s.full) this.snapshots++;
      else this.deltas++;
      mergeFleetState(this.fleet, s);
    });
    this.socket.on('teleop:state', (t: TeleopStateView) => this.teleop.set(t.vehicleId, t));
    this.socket.on('alert', (a: LeitstandAlert) => this.alerts.push(a));
    // a real console answers the server's RTT probes (acquire needs a fresh sample)
    this.socket.on('teleop:ping', (p: unknown) => this.socket.emit('teleop:pong', p));
  }
  ready(): Promise<void> {
    return new Promise((res, rej) => {
      if (this.snapshots) return res();
      const t = setTimeout(() => rej(new Error(`console on ${this.url}: no snapshot`)), 10_000);
      this.socket.once('fleet:state', () => {
        clearTimeout(t);
        res();
      });
      this.socket.once('connect_error', (e) => {
        clearTimeout(t);
        rej(e);
      });
    });
  }
  /** An event with an acknowledgement (no payload when `payload` is undefined). */
  emit<T>(event: string, payload?: unknown): Promise<T> {
    return new Promise((res) => {
      const done = (err: Error | null, r: T) => res(err ? ({ error: { code: 'TIMEOUT', message: err.message } } as T) : r);
      if (payload === undefined) this.socket.timeout(5000).emit(event, done);
      else this.socket.timeout(5000).emit(event, payload, done);
    });
  }
  close(): void {
    this.socket.disconnect();
  }
}

const fleetDefs = (JSON.parse(readFileSync(join(FIXTURES_DIR, 'fleet.json'), 'utf8')) as { vehicles: VehicleDef[] }).vehicles;

export async function startBus(url: string, vehicleId: string, seed: number): Promise<VehicleAgent> {
  const v = fleetDefs.find((d) => d.id === vehicleId)!;
  const a = new VehicleAgent({ serverUrl: url, vehicleId, key: `${vehicleId}-demo-key`, start: v.start, soc: v.soc, batteryKWh: v.batteryKWh, clock: systemClock, rng: new Rng(seed) });
  await a.start();
  return a;
}

/** Riders booking and confirming at a steady pace through one URL (the proxy). */
export class BookingLoad {
  readonly confirmed = new Map<string, { at: number }>();
  created = 0;
  rejected = 0;
  failures = 0;
  private running = true;
  private loops: Promise<void>[] = [];
  constructor(
    private readonly url: string,
    private readonly tokens: string[],
    private readonly paceMs: number,
    seed: number,
  ) {
    const hubs = ['tuk', 'uni-wohnstadt', 'pfaff', 'hbf'];
    this.loops = tokens.map((token, i) => this.loop(token, new Rng(seed + i), hubs));
  }
  private async loop(token: string, rng: Rng, hubs: string[]): Promise<void> {
    while (this.running) {
      const from = hubs[rng.int(0, hubs.length - 1)];
      let to = hubs[rng.int(0, hubs.length - 1)];
      if (to === from) to = hubs[(hubs.indexOf(from) + 1) % hubs.length];
      const body = { pickup: { hubId: from }, dropoff: { hubId: to }, passengers: 1, departAt: Date.now() + rng.int(20, 240) * 60_000 };
      try {
        const o = await json(this.url, 'POST', '/api/bookings', { token, body });
        if (o.status === 201) {
          this.created++;
          // a confirm whose answer is lost (instance killed mid-request) is repeated: confirm is idempotent
          for (let attempt = 0; attempt < 5; attempt++) {
            const c = await json(this.url, 'POST', `/api/bookings/${o.json.id}/confirm`, { token }).catch(() => ({ status: 0, json: null }));
            if (c.status === 200) {
              this.confirmed.set(o.json.id, { at: Date.now() });
              break;
            }
            if (c.status === 409 || c.status === 404) break;
            await sleep(200);
          }
        } else if (o.status === 422) this.rejected++;
        else this.failures++;
      } catch {
        this.failures++;
      }
      await sleep(this.paceMs);
    }
  }
  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

// ------------------------------------------------------------------ what Redis holds

export async function storedBookings(redisUrl: string, prefix: string): Promise<Map<string, { status: string }>> {
  const c = createClient({ url: redisUrl });
  c.on('error', () => {});
  await c.connect();
  try {
    const all = await c.hGetAll(`${prefix}bookings`);
    return new Map(Object.entries(all).map(([id, v]) => [id, JSON.parse(v) as { status: string }]));
  } finally {
    await c.quit();
  }
}

/** How often each booking was confirmed according to the audit stream. */
export async function confirmEvents(redisUrl: string, prefix: string): Promise<Map<string, number>> {
  const c = createClient({ url: redisUrl });
  c.on('error', () => {});
  await c.connect();
  try {
    const out = new Map<string, number>();
    for (const { message } of (await c.xRange(`${prefix}events`, '-', '+')) ?? []) {
      const e = JSON.parse(String(message.e)) as { type: string; bookingId?: string };
      if (e.type === 'booking.confirmed' && e.bookingId) out.set(e.bookingId, (out.get(e.bookingId) ?? 0) + 1);
    }
    return out;
  } finally {
    await c.quit();
  }
}

/** Each booking's pickups in the plans a console gets from its instance (plan:get per bus). */
async function plannedPickups(console: ConsoleView, busIds: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const id of busIds) {
    const r = await console.emit<{ data?: PlanUpdate | null }>('plan:get', { vehicleId: id });
    for (const s of r.data?.stops ?? []) if (s.kind === 'pickup') out.set(s.requestId, (out.get(s.requestId) ?? 0) + 1);
  }
  return out;
}

/** Every booking the riders saw confirmed: stored once, confirmed once in the audit, in exactly one plan. */
async function exactlyOnce(fault: string, load: BookingLoad, c: LocalCluster, console: ConsoleView, busIds: string[]): Promise<Check[]> {
  const stored = await storedBookings(c.redisUrl, c.prefix);
  const events = await confirmEvents(c.redisUrl, c.prefix);
  const planned = await plannedPickups(console, busIds);
  const ids = [...load.confirmed.keys()];
  const lost = ids.filter((id) => !['confirmed', 'assigned', 'picked_up', 'completed'].includes(stored.get(id)?.status ?? 'missing'));
  const twice = ids.filter((id) => (events.get(id) ?? 0) !== 1);
  const notPlanned = ids.filter((id) => planned.get(id) !== 1 && stored.get(id)?.status !== 'completed' && stored.get(id)?.status !== 'picked_up');
  return [
    { fault, checked: `confirmed bookings stored (${ids.length} confirmed to riders)`, ok: ids.length > 0 && lost.length === 0, detail: lost.length ? `lost: ${lost.slice(0, 5).join(', ')}` : `${ids.length}/${ids.length} in Redis as confirmed/assigned` },
    { fault, checked: 'each confirmed exactly once (audit stream)', ok: twice.length === 0, detail: twice.length ? `not once: ${twice.slice(0, 5).map((id) => `${id}×${events.get(id) ?? 0}`).join(', ')}` : `${ids.length} × booking.confirmed once` },
    { fault, checked: 'each confirmed booking in exactly one bus plan', ok: notPlanned.length === 0, detail: notPlanned.length ? `${notPlanned.length} not planned once, e.g. ${notPlanned.slice(0, 3).map((id) => `${id}×${planned.get(id) ?? 0}`).join(', ')}` : `${ids.length} pickups, one plan each` },
  ];
}

// ------------------------------------------------------------------ the faults

export interface Roles {
  leader: InstanceProc;
  follower: InstanceProc;
}

export async function roles(c: LocalCluster): Promise<Roles> {
  const leader = await until('a dispatcher leader', () => c.leader(), 15_000);
  const follower = c.instances.find((p) => p !== leader)!;
  return { leader, follower };
}

/** A console on one instance sees, and can drive, a bus connected to the other. */
export async function crossInstance(c: LocalCluster, a: InstanceProc, b: InstanceProc, bus: VehicleAgent): Promise<Check[]> {
  const fault = 'bus on A, console on B';
  const out: Check[] = [];
  const id = bus.vehicleId;
  const token = await staffToken(b.url, 'driver1');
  // the snapshot a console gets on connecting to B already holds the bus (online, with a recent position)
  const fresh = await within(async () => {
    const con = new ConsoleView(b.url, token);
    await con.ready();
    const v = con.fleet.get(id);
    con.close();
    return v?.online && Date.now() - v.receivedAt < 2000 ? v : null;
  }, 5000);
  out.push({ fault, checked: 'snapshot on B holds the bus on A', ok: !!fresh.value, detail: fresh.value ? `online, position age ${Date.now() - fresh.value.receivedAt} ms` : 'missing or offline' });
  const con = new ConsoleView(b.url, token);
  await con.ready();
  const d0 = con.deltas;
  const moving = await within(() => {
    const v = con.fleet.get(id);
    return con.deltas > d0 + 5 && v && Date.now() - v.receivedAt < 1000;
  }, 5000);
  out.push({ fault, checked: 'B streams the bus\'s states (10 Hz deltas)', ok: !!moving.value, detail: `${con.deltas - d0} deltas in ${moving.ms} ms` });
  const held = await within(() => con.teleop.get(id)?.holder === `sim:${id}`, 5000);
  out.push({ fault, checked: 'teleop state from A on B', ok: !!held.value, detail: `holder ${con.teleop.get(id)?.holder ?? 'none'}, mode ${con.teleop.get(id)?.mode ?? '?'}` });
  // a driver on B takes the bus (carried out on A), stops it (the bus's own verdict comes back), keeps it with
  // heartbeats until it stands secured, and gives it back to its simulated driver
  const acq = await con.emit<{ data?: { takenFrom: string | null }; error?: { code: string; message: string } }>('teleop:acquire', { vehicleId: id });
  const beats = setInterval(() => con.socket.emit('teleop:heartbeat', { vehicleId: id, sentAt: Date.now() }, () => {}), 100);
  const seen = await within(() => con.teleop.get(id)?.holder === 'driver1', 3000);
  const t0 = Date.now();
  const stop = acq.data ? await con.emit<{ data?: { accepted: true }; error?: { code: string; message: string } }>('teleop:command', { vehicleId: id, seq: Date.now(), type: 'stop', issuedAt: Date.now() }) : null;
  const stopMs = Date.now() - t0;
  const secured = await within(() => con.teleop.get(id)?.secured, 20_000);
  const rel = await con.emit<{ data?: { holder: string | null }; error?: { code: string } }>('teleop:release', { vehicleId: id });
  clearInterval(beats);
  out.push({
    fault,
    checked: 'teleop acquire from B is carried out on A',
    ok: !!acq.data && !!seen.value,
    detail: acq.data ? `taken from ${acq.data.takenFrom}, holder seen on B after ${seen.ms} ms` : `refused: ${acq.error?.code} ${acq.error?.message}`,
  });
  out.push({ fault, checked: 'teleop command from B answered by the bus on A', ok: !!stop?.data?.accepted, detail: stop?.data ? `stop accepted by the bus, round trip ${stopMs} ms` : `${stop?.error?.code ?? '-'} ${stop?.error?.message ?? ''}` });
  out.push({ fault, checked: 'bus stands secured, released back', ok: !!secured.value && !!rel.data, detail: `secured after ${secured.ms} ms, released to ${rel.data?.holder ?? rel.error?.code}` });
  con.close();
  return out;
}

/** A booking sent to the follower is decided by the leader and confirmed exactly once. */
export async function followerBooking(c: LocalCluster, r: Roles): Promise<Check[]> {
  const fault = 'booking via the follower';
  const token = await riderToken(r.follower.url);
  const fwd0 = (await health(r.follower.url))?.json.cluster.forwarded ?? 0;
  const o = await json(r.follower.url, 'POST', '/api/bookings', { token, body: { pickup: { hubId: 'hbf' }, dropoff: { hubId: 'uni-wohnstadt' }, passengers: 2, departAt: Date.now() + 3 * 3600_000 } });
  const conf = o.status === 201 ? await json(r.follower.url, 'POST', `/api/bookings/${o.json.id}/confirm`, { token }) : null;
  const again = o.status === 201 ? await json(r.leader.url, 'POST', `/api/bookings/${o.json.id}/confirm`, { token }) : null;
  const fwd1 = (await health(r.follower.url))?.json.cluster.forwarded ?? 0;
  const onLeader = o.status === 201 ? await json(r.leader.url, 'GET', `/api/bookings/${o.json.id}`, { token }) : null;
  const stored = o.status === 201 ? (await storedBookings(c.redisUrl, c.prefix)).get(o.json.id) : undefined;
  const events = o.status === 201 ? ((await confirmEvents(c.redisUrl, c.prefix)).get(o.json.id) ?? 0) : 0;
  return [
    { fault, checked: 'offer and confirmation answered by the follower', ok: o.status === 201 && conf?.status === 200, detail: `offer ${o.status}, confirm ${conf?.status ?? '-'} (${conf?.json?.status ?? o.json?.error?.code ?? ''})` },
    { fault, checked: 'decided by the leader (forwarded)', ok: fwd1 - fwd0 >= 2 && onLeader?.status === 200 && ['confirmed', 'assigned'].includes(onLeader.json.status), detail: `${fwd1 - fwd0} commands forwarded; leader sees ${onLeader?.json?.status ?? '-'}` },
    { fault, checked: 'confirmed once (repeat on the leader is idempotent)', ok: again?.status === 200 && events === 1 && ['confirmed', 'assigned'].includes(stored?.status ?? ''), detail: `repeat ${again?.status ?? '-'}, ${events} booking.confirmed, stored ${stored?.status ?? 'missing'}` },
  ];
}

/** A console's and a bus's connection drop and come back: clients converge, the bus ends in safe_stop. */
export async function dropAndRestore(c: LocalCluster, a: InstanceProc, b: InstanceProc, bus: VehicleAgent, dropMs = 1500): Promise<Check[]> {
  const fault = 'drop + restore links';
  const id = bus.vehicleId;
  const [ta, tb] = await Promise.all([staffToken(a.url, 'dispatcher'), staffToken(b.url, 'dispatcher')]);
  const onA = new ConsoleView(a.url, ta);
  let onB = new ConsoleView(b.url, tb);
  await Promise.all([onA.ready(), onB.ready()]);
  await until(`${id} driven by its simulated driver`, () => onA.teleop.get(id)?.mode === 'remote', 10_000);
  // the console on B loses its connection and comes back: its new snapshot equals what B holds
  onB.close();
  await sleep(300);
  onB = new ConsoleView(b.url, tb);
  await onB.ready();
  const snap = await onB.emit<{ data?: FleetState }>('fleet:snapshot');
  const same = snap.data?.vehicles.every((v) => onB.fleet.get(v.id)?.online === v.online) ?? false;
  const out: Check[] = [
    { fault, checked: 'console reconnects to a full, current snapshot', ok: onB.snapshots === 1 && same && !!onB.fleet.get(id)?.online, detail: `${onB.fleet.size} buses, ${id} online: ${onB.fleet.get(id)?.online}` },
  ];
  // the bus loses its link for dropMs: the server starts an MRM, the bus (own dead-man) stops; back online it
  // reports standstill and the core records the safe stop; both consoles (A holds the bus, B mirrors) agree
  const t0 = Date.now();
  bus.dropLink(dropMs);
  const mrm = await within(() => onA.teleop.get(id)?.mode === 'mrm' || onA.teleop.get(id)?.mode === 'safe_stop', 3000);
  const back = await within(() => bus.connected && onB.fleet.get(id)?.online, dropMs + 8000);
  const stopped = await within(() => onA.teleop.get(id)?.mode === 'safe_stop' && onB.teleop.get(id)?.mode === 'safe_stop' && onB.fleet.get(id)?.mode === 'safe_stop' && onA.fleet.get(id)?.mode === 'safe_stop', 10_000);
  out.push({ fault, checked: 'link loss starts an MRM', ok: !!mrm.value, detail: `after ${mrm.ms} ms: ${onA.teleop.get(id)?.mode}` });
  out.push({ fault, checked: 'bus reconnects and is online on both instances', ok: !!back.value, detail: `after ${Date.now() - t0} ms` });
  out.push({ fault, checked: 'bus ends in safe_stop on both consoles', ok: !!stopped.value, detail: `A: ${onA.teleop.get(id)?.mode}/${onA.fleet.get(id)?.mode}, B: ${onB.teleop.get(id)?.mode}/${onB.fleet.get(id)?.mode}` });
  const alerts = onB.alerts.filter((x) => x.vehicleId === id).map((x) => x.type);
  out.push({ fault, checked: 'alerts reach the console on the other instance', ok: alerts.includes('link_loss') && alerts.includes('safe_stop'), detail: [...new Set(alerts)].join(', ') || 'none' });
  onA.close();
  onB.close();
  return out;
}

/** kill -9 of the dispatcher leader while riders book through the proxy. */
export async function killLeader(c: LocalCluster, r: Roles, o: { riders: number; paceMs: number; beforeMs: number; afterMs: number; busIds: string[]; busesOnLeader: string[] }): Promise<Check[]> {
  const fault = 'kill -9 dispatching instance';
  const url = c.proxy!.url;
  const tokens = await Promise.all(Array.from({ length: o.riders }, () => riderToken(r.follower.url)));
  const load = new BookingLoad(url, tokens, o.paceMs, 11);
  const con = new ConsoleView(r.follower.url, await staffToken(r.follower.url, 'dispatcher'));
  await con.ready();
  await sleep(o.beforeMs);
  const before = load.confirmed.size;
  const killedAt = Date.now();
  await r.leader.kill9();
  const gone = within(() => o.busesOnLeader.every((id) => con.fleet.get(id)?.online === false && con.fleet.get(id)?.mode === 'offline'), 10_000);
  const took = await within(async () => (await health(r.follower.url))?.json?.dispatcher?.leader === true, 10_000);
  const takeoverMs = took.value ? Date.now() - killedAt : NaN;
  await sleep(o.afterMs);
  await load.stop();
  const after = [...load.confirmed.values()].filter((x) => x.at > killedAt + (Number.isFinite(takeoverMs) ? takeoverMs : 0)).length;
  const firstAfter = Math.min(...[...load.confirmed.values()].filter((x) => x.at > killedAt).map((x) => x.at - killedAt));
  const offline = await gone;
  const checks: Check[] = [
    { fault, checked: 'another instance leads within 5 s', ok: takeoverMs <= 5000, detail: `${Number.isFinite(takeoverMs) ? takeoverMs : '—'} ms (first confirmation after the kill: ${Number.isFinite(firstAfter) ? `${firstAfter} ms` : 'none'})` },
    { fault, checked: 'bookings accepted before and after', ok: before > 0 && after > 0, detail: `${before} confirmed before the kill, ${after} after the take-over; ${load.rejected} no-offer, ${load.failures} failed requests` },
    ...(await exactlyOnce(fault, load, c, con, o.busIds)),
    { fault, checked: 'buses of the dead instance shown offline', ok: !!offline.value, detail: `${o.busesOnLeader.map((id) => `${id}: ${con.fleet.get(id)?.mode ?? '?'}`).join(', ')}, ${offline.ms} ms after the kill` },
  ];
  con.close();
  return checks;
}

/** Redis (a private redis-server) restarts while riders book: instances reconnect and keep serving. */
export async function restartRedis(c: LocalCluster, redis: RedisProc, r: Roles, bus: VehicleAgent, o: { riders: number; paceMs: number; beforeMs: number; downMs: number; afterMs: number; busIds: string[] }): Promise<Check[]> {
  const fault = 'Redis restart';
  const tokens = await Promise.all(Array.from({ length: o.riders }, () => riderToken(r.follower.url)));
  const load = new BookingLoad(c.proxy!.url, tokens, o.paceMs, 23);
  const con = new ConsoleView(r.follower.url, await staffToken(r.follower.url, 'dispatcher'));
  await con.ready();
  await sleep(o.beforeMs);
  const before = load.confirmed.size;
  await redis.stop();
  const downAt = Date.now();
  await sleep(o.downMs);
  await redis.start();
  const upAt = Date.now();
  const healthy = await within(async () => {
    const hs = await Promise.all(c.instances.map((p) => health(p.url)));
    return hs.every((h) => h?.json?.store?.ok) && hs.filter((h) => h?.json?.dispatcher?.leader).length === 1 ? hs : null;
  }, 15_000);
  // the bus (on the other instance) still streams to this console after the restart: pub/sub is back
  const d0 = con.deltas;
  const streaming = await within(() => con.deltas > d0 + 5 && Date.now() - (con.fleet.get(bus.vehicleId)?.receivedAt ?? 0) < 1500, 10_000);
  const leaderNow = await c.leader();
  const state = (await Promise.all(c.instances.map((p) => health(p.url)))).map((h, i) => `${c.instances[i].name}: ${h ? `store ${h.json?.store?.ok ? 'ok' : h.json?.store?.detail}, ${h.json?.dispatcher?.leader ? 'leader' : 'follower'}` : 'no answer'}`).join('; ');
  await sleep(o.afterMs);
  await load.stop();
  const after = [...load.confirmed.values()].filter((x) => x.at > upAt).length;
  const check: Check[] = [
    { fault, checked: 'instances reconnect (store ok, one leader)', ok: !!healthy.value, detail: `${healthy.ms} ms after Redis was back (down ${upAt - downAt} ms); ${state}` },
    { fault, checked: 'cross-instance fan-out resumes', ok: !!streaming.value, detail: `${con.deltas - d0} deltas, ${bus.vehicleId} ${streaming.value ? `fresh after ${streaming.ms} ms` : `last seen ${Date.now() - (con.fleet.get(bus.vehicleId)?.receivedAt ?? 0)} ms ago, online ${con.fleet.get(bus.vehicleId)?.online}, bus connected ${bus.connected}`}` },
    { fault, checked: 'bookings accepted before and after', ok: before > 0 && after > 0, detail: `${before} confirmed before, ${after} after the restart; ${load.rejected} no-offer, ${load.failures} failed requests` },
  ];
  const plansCon = new ConsoleView((leaderNow ?? r.follower).url, await staffToken((leaderNow ?? r.follower).url, 'dispatcher'));
  await plansCon.ready();
  check.push(...(await exactlyOnce(fault, load, c, plansCon, o.busIds)));
  plansCon.close();
  con.close();
  return check;
}

export function table(checks: Check[]): string {
  const rows = [['fault', 'checked', 'result', 'detail'], ...checks.map((c) => [c.fault, c.checked, c.ok ? 'ok' : 'FAILED', c.detail])];
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((x, i) => x.padEnd(w[i])).join(' | ')} |`;
  return [line(rows[0]), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
