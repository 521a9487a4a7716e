import type { Logger } from 'pino';
import { z } from 'zod';
import type { BookingRecord, PersistedState } from '../store/types.ts';
import type { BookingCommand, BookingService } from '../bookings/service.ts';
import type { Dispatcher } from '../dispatch/dispatcher.ts';
import type { FleetRegistry } from '../fleet/registry.ts';
import type { Realtime } from '../fleet/realtime.ts';
import { ApiError } from '../http/errors.ts';
import type { LeitstandAlert, PlanUpdate } from '../protocol/events.ts';
import { bookingCreateSchema, bookingIdSchema, stopEventSchema, vehicleStateSchema } from '../protocol/schemas.ts';
import { RedisLease, type RedisStore } from '../store/redis.ts';
import type { TeleopAction, TeleopPublished, TeleopService } from '../teleop/service.ts';
import type { Ack } from '../protocol/events.ts';
import { NotLeaderError, type ClusterLink, type RpcMeta } from './link.ts';

/**
 * One server instance among several on one Redis. What it adds to a single instance:
 *
 * Dispatcher leadership. A Redis lease (`dispatcher:leader`) names the one instance that decides bookings and runs
 * the dispatcher's periodic work; its writes are fenced by the lease (RedisStore.setFence). On taking the lease
 * an instance loads the dispatcher snapshot and the bookings from Redis (what its predecessor made durable) and
 * only then answers; the others forward booking commands to it (ClusterLink.callLeader, idempotency keys: a
 * retry on a successor finds the booking instead of making another) and mirror the records and plans it
 * replicates, for reads, snapshots and ETAs.
 *
 * Buses. A bus belongs to the instance it is connected to (claims ordered by a Redis counter per bus, so the
 * latest connection wins). That instance relays every accepted state, its link, and its teleoperation view to
 * the others, which apply them to their FleetRegistry: every instance holds the whole fleet and serves its own
 * consoles (a console on B sees a bus connected to A, snapshot included). Teleoperation actions of a console
 * on B for a bus on A are carried out on A (ClusterLink.callInstance) and answered with A's verdict.
 *
 * Redis restarts: the connections come back by themselves; what was published meanwhile is lost, so an
 * instance whose subscriber reconnects says `hello` (everybody republishes what they own) and reloads its
 * mirror from Redis.
 */

export interface ClusterNodeDeps {
  link: ClusterLink;
  store: RedisStore;
  log: Logger;
  instanceId: string;
  /** REDIS_PREFIX */
  prefix: string;
  leaseMs: number;
  bookings: BookingService;
  fleet: FleetRegistry;
  realtime: Realtime;
  /** a dispatcher from the persisted snapshot with the fleet added (as at start-up) */
  buildDispatcher(persisted: PersistedState): Dispatcher;
}

const principal = z.object({ sub: z.string().min(1).max(128), role: z.enum(['rider', 'driver', 'dispatcher', 'admin', 'vehicle']), exp: z.number() });
const actor = z.object({ id: z.string().min(1).max(128), role: z.enum(['driver', 'dispatcher', 'admin', 'sim']) });
const vehicleId = z.string().min(1).max(64);
const teleopView = z.looseObject({ vehicleId, mode: z.string(), holder: z.string().nullable(), latencyMs: z.number().nullable(), permittedSpeed: z.number(), speedFactor: z.number() });
const published = z.object({ view: teleopView, dispatch: z.object({ driverId: z.string().nullable(), available: z.boolean() }) });
const bookingRecord = z.looseObject({ id: bookingIdSchema, status: z.string(), createdAt: z.number(), updatedAt: z.number() });
const planUpdate = z.looseObject({ vehicleId, version: z.number().int(), stops: z.array(z.looseObject({ requestId: z.string(), kind: z.string(), arrival: z.number() })) });
const plans = z.array(z.object({ update: planUpdate, key: z.string() }));
const alert = z.looseObject({ id: z.string().min(1).max(128), vehicleId: z.string().nullable(), type: z.string(), to: z.array(z.string()) });

const events = {
  claim: z.object({ v: vehicleId, epoch: z.number().int().min(1) }),
  state: z.object({ v: vehicleId, s: vehicleStateSchema, at: z.number() }),
  link: z.object({ v: vehicleId, up: z.boolean() }),
  teleop: z.object({ v: vehicleId, p: published }),
  alert: z.object({ alert }),
  bookings: z.object({ records: z.array(bookingRecord) }),
  plans: z.object({ plans }),
  hello: z.object({}),
  beat: z.object({}),
};

/** An instance silent this long is taken for dead: its buses are offline until they connect elsewhere. */
const BEAT_MS = 1000;
const DEAD_AFTER_MS = 3500;
type EventKind = keyof typeof events;

const commands: Record<BookingCommand, z.ZodType> = {
  create: z.object({ input: bookingCreateSchema, who: principal }),
  confirm: z.object({ id: bookingIdSchema, who: principal }),
  cancel: z.object({ id: bookingIdSchema, who: principal }),
  forgetRider: z.object({ riderId: z.string().min(1).max(128) }),
  stopEvent: z.object({ vehicleId, e: stopEventSchema }),
};

export class ClusterNode {
  private leading = false;
  private lease: RedisLease;
  private transitions: Promise<void> = Promise.resolve();
  /** highest claim seen per bus */
  private readonly claims = new Map<string, { instance: string; epoch: number }>();
  /** buses connected here whose claim is being numbered */
  private readonly pending = new Set<string>();
  private readonly remoteViews = new Map<string, TeleopPublished>();
  /** the dispatcher's last driver/availability per bus from other instances (the leader applies changes) */
  private readonly appliedDispatch = new Map<string, string>();
  /** buses whose states arrive on this instance's own sockets */
  private readonly localStates = new Set<string>();
  /** when each other instance was last heard of */
  private readonly lastHeard = new Map<string, number>();
  private beatTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** counters for /api/health and the fault table */
  readonly stats = { takeovers: 0, forwarded: 0, resyncs: 0 };

  constructor(private readonly d: ClusterNodeDeps) {
    const leaseKey = `${d.prefix}dispatcher:leader`;
    this.lease = new RedisLease(d.store.client, leaseKey, d.instanceId, d.leaseMs, (held) => this.leaseChanged(held));
    d.store.setFence({ key: leaseKey, owner: d.instanceId });
    const { bookings, realtime, link } = d;
    const teleop = realtime.teleop;
    bookings.setCluster({
      leads: () => this.leading,
      forward: <T>(command: BookingCommand, payload: unknown) => {
        this.stats.forwarded++;
        return link.callLeader<T>(`bookings.${command}`, payload);
      },
      replicate: (c) => {
        if (c.records?.length) this.send('bookings', { records: c.records });
        if (c.plans?.length) this.send('plans', { plans: c.plans });
      },
    });
    teleop.setCluster({
      remote: (v) => this.remote(v),
      remoteView: (v) => this.remoteViews.get(v) ?? null,
      forward: (v, action) => this.forwardTeleop(v, action),
      forwardAlertAck: (origin, a, alertId) => this.call(origin, 'teleop.alertAck', { actor: a, alertId }),
      published: (v, p) => {
        if (!this.remote(v)) this.send('teleop', { v, p });
      },
      alert: (a) => this.send('alert', { alert: a }),
    });

    // ---- this instance's buses → the others
    realtime.onVehicleLink.push((v, up) => {
      if (up) {
        this.localStates.add(v);
        void this.claim(v);
      } else {
        this.localStates.delete(v);
        if (!this.remote(v)) this.send('link', { v, up: false });
      }
    });
    realtime.onVehicleState.push((v) => {
      const s = d.fleet.state(v);
      // relayed states are applied through the same hook; only what arrived here is sent on
      if (s && !this.remote(v) && this.localStates.has(v)) this.send('state', { v, s, at: Date.now() });
    });

    // ---- RPC: the leader's side of forwarded booking commands
    for (const [command, schema] of Object.entries(commands) as Array<[BookingCommand, z.ZodType]>) {
      link.serve(`bookings.${command}`, (payload, meta) => this.runCommand(command, schema, payload, meta));
    }
    link.serve('bookings.plans', () => {
      if (!this.leading) throw new NotLeaderError();
      return bookings.planEntries();
    });
    // ---- RPC: teleoperation for buses connected here
    link.serve('teleop.action', async (payload) => {
      const p = z.object({ event: z.string().max(64), actor, payload: z.unknown(), consoleRttMs: z.number().min(0).max(60_000).nullable() }).safeParse(payload);
      if (!p.success) throw new ApiError(400, 'VALIDATION', 'invalid teleoperation action');
      return teleop.runForwarded(p.data as TeleopAction);
    });
    link.serve('teleop.alertAck', async (payload) => {
      const p = z.object({ actor, alertId: z.string().min(1).max(128) }).safeParse(payload);
      if (!p.success) throw new ApiError(400, 'VALIDATION', 'invalid alert acknowledgement');
      return teleop.ackAlert(p.data.actor, p.data.alertId);
    });

    link.onEvent((kind, body, from) => this.onEvent(kind, body, from));
    link.onReconnect(() => void this.resync('redis reconnected'));
  }

  /** Takes part: lease loop, hello (peers republish their buses), mirror of the leader's plans. */
  async start(): Promise<void> {
    this.beatTimer = setInterval(() => {
      this.send('beat', {});
      this.forgetSilent(Date.now());
    }, BEAT_MS);
    this.beatTimer.unref();
    await this.lease.tryAcquire();
    await this.transitions;
    this.lease.start();
    await this.resync('start');
  }

  get isLeader(): boolean {
    return this.leading;
  }

  health() {
    const owned = [...this.claims.values()].filter((c) => c.instance === this.d.instanceId).length;
    const now = Date.now();
    const peers = [...this.lastHeard].filter(([, t]) => now - t < DEAD_AFTER_MS).map(([id]) => id);
    return { instance: this.d.instanceId, leader: this.leading, peers, busesHere: owned, ...this.stats, droppedMessages: this.d.link.dropped };
  }

  /** Is the bus connected to (owned by) another instance? */
  remote(v: string): boolean {
    if (this.pending.has(v)) return false;
    const c = this.claims.get(v);
    return !!c && c.instance !== this.d.instanceId;
  }

  ownerOf(v: string): string | null {
    return this.claims.get(v)?.instance ?? null;
  }

  // ---------------------------------------------------------------- leadership

  private leaseChanged(held: boolean): void {
    this.transitions = this.transitions.then(() => (held ? this.takeOver() : this.stepDown())).catch((e) => this.d.log.error({ err: e }, 'cluster: leadership change failed'));
  }

  private async takeOver(): Promise<void> {
    if (this.leading || this.closed) return;
    const t0 = Date.now();
    const persisted = await this.d.store.load();
    if (!this.lease.isLeader) return; // lost again while loading
    const { bookings, fleet, realtime } = this.d;
    bookings.reload(this.d.buildDispatcher(persisted), persisted.bookings);
    this.leading = true;
    // the buses as the instances they are connected to see them (connected, position, driver, availability)
    const teleop = realtime.teleop;
    for (const def of fleet.defs()) {
      const online = fleet.isOnline(def.id);
      bookings.vehicleConnected(def.id, online);
      const s = fleet.state(def.id);
      if (online && s && !s.atStop) bookings.vehicleMoved(def.id, s.lat, s.lon, s.soc, teleop.dispatchDriver(def.id), teleop.available(def.id));
    }
    bookings.vehicleDispatch(
      fleet.defs().map((v) => ({ vehicleId: v.id, driverId: teleop.dispatchDriver(v.id), available: teleop.available(v.id) })),
      (e, vehicleId) => this.d.log.warn({ err: e, vehicleId }, 'cluster: dispatcher driver/status on take-over failed'),
    );
    await this.d.link.setLeader(true);
    bookings.publishPlans();
    this.stats.takeovers++;
    this.d.log.warn({ bookings: persisted.bookings.length, ms: Date.now() - t0 }, 'cluster: this instance now leads the dispatcher');
  }

  private async stepDown(): Promise<void> {
    if (!this.leading) return;
    this.leading = false;
    await this.d.link.setLeader(false);
    this.d.log.warn('cluster: this instance no longer leads the dispatcher');
  }

  private async runCommand(command: BookingCommand, schema: z.ZodType, payload: unknown, meta: RpcMeta): Promise<unknown> {
    if (!this.leading) throw new NotLeaderError();
    const p = schema.safeParse(payload);
    if (!p.success) throw new ApiError(400, 'VALIDATION', `invalid forwarded ${command}`);
    const b = this.d.bookings;
    const a = p.data as never as { input: never; who: never; id: string; riderId: string; vehicleId: string; e: never };
    try {
      switch (command) {
        case 'create':
          return await b.createHere(a.input, a.who, meta.key);
        case 'confirm':
          return await b.confirmHere(a.id, a.who);
        case 'cancel':
          return await b.cancelHere(a.id, a.who, meta.attempt > 1);
        case 'forgetRider':
          return await b.forgetRiderHere(a.riderId);
        case 'stopEvent':
          return await b.stopEventHere(a.vehicleId, a.e);
      }
    } catch (e) {
      if (e instanceof ApiError && e.code === 'NOT_LEADER') throw new NotLeaderError(e.message);
      throw e;
    }
  }

  // ---------------------------------------------------------------- buses

  private async claim(v: string): Promise<void> {
    this.pending.add(v);
    const wasRemote = (this.claims.get(v)?.instance ?? this.d.instanceId) !== this.d.instanceId;
    try {
      const epoch = await this.d.store.client.incr(`${this.d.prefix}cluster:claim:${v}`);
      if ((this.claims.get(v)?.epoch ?? 0) < epoch) this.claims.set(v, { instance: this.d.instanceId, epoch });
      this.send('claim', { v, epoch });
    } catch (e) {
      this.d.log.warn({ err: e, vehicleId: v }, 'cluster: could not number the claim of a bus');
    } finally {
      this.pending.delete(v);
    }
    if (wasRemote && !this.remote(v)) this.d.realtime.teleop.ownershipChanged(v);
  }

  /**
   * Buses of an instance that fell silent (killed, cut off) are offline: their claims are dropped, so every
   * instance shows its own core's view of them (not linked here: offline) until they connect somewhere again.
   */
  private forgetSilent(now: number): void {
    const { fleet, bookings, realtime } = this.d;
    for (const [v, c] of this.claims) {
      if (c.instance === this.d.instanceId || now - (this.lastHeard.get(c.instance) ?? now) < DEAD_AFTER_MS) continue;
      this.claims.delete(v);
      this.remoteViews.delete(v);
      this.appliedDispatch.delete(v);
      fleet.setOnline(v, false);
      bookings.vehicleConnected(v, false);
      realtime.teleop.ownershipChanged(v);
      this.d.log.warn({ vehicleId: v, instance: c.instance }, 'cluster: the instance of this bus is silent; bus offline');
    }
  }

  private async forwardTeleop(v: string, action: TeleopAction): Promise<Ack<unknown>> {
    const owner = this.ownerOf(v);
    if (!owner) return { error: { code: 'OFFLINE', message: `${v} is not connected` } };
    return this.call(owner, 'teleop.action', action);
  }

  private async call(instance: string, method: string, payload: unknown): Promise<Ack<unknown>> {
    try {
      return await this.d.link.callInstance<Ack<unknown>>(instance, method, payload, 2000);
    } catch (e) {
      if (e instanceof ApiError) return { error: { code: e.code === 'INSTANCE_GONE' ? 'OFFLINE' : 'TIMEOUT', message: e.message } };
      throw e;
    }
  }

  /** Everything this instance owns, again (a peer started or lost messages while Redis was away). */
  private republish(): void {
    const teleop = this.d.realtime.teleop;
    for (const [v, c] of this.claims) {
      if (c.instance !== this.d.instanceId) continue;
      this.send('claim', { v, epoch: c.epoch });
      const s = this.d.fleet.state(v);
      if (this.localStates.has(v) && s) this.send('state', { v, s, at: Date.now() });
      else this.send('link', { v, up: false });
      const view = teleop.view(v);
      if (view) this.send('teleop', { v, p: { view, dispatch: { driverId: teleop.dispatchDriver(v), available: teleop.available(v) } } });
    }
  }

  /** Start-up and after Redis came back: peers republish, the mirror is reloaded (records from Redis, plans from the leader). */
  private async resync(why: string): Promise<void> {
    if (this.closed) return;
    this.stats.resyncs++;
    this.send('hello', {});
    this.republish();
    if (this.leading) return;
    try {
      const { bookings } = await this.d.store.load();
      if (!this.leading) this.d.bookings.mirror(bookings as BookingRecord[]);
      const entries = await this.d.link.callLeader<Array<{ update: PlanUpdate; key: string }>>('bookings.plans', {}, { deadlineMs: 3000, attemptMs: 1000 });
      if (!this.leading) for (const e of entries) this.d.bookings.mirrorPlan(e.update, e.key);
    } catch (e) {
      this.d.log.info({ err: e, why }, 'cluster: mirror not (fully) reloaded; the leader\'s next changes will fill it');
    }
  }

  // ---------------------------------------------------------------- events

  private send(kind: EventKind, body: unknown): void {
    this.d.link.broadcast(kind, body);
  }

  private onEvent(kind: string, body: unknown, from: string): void {
    if (!(kind in events)) return;
    const p = events[kind as EventKind].safeParse(body);
    if (!p.success) {
      this.d.log.warn({ kind, from, issue: p.error.issues[0]?.message }, 'cluster: malformed message dropped');
      return;
    }
    const { fleet, bookings, realtime } = this.d;
    this.lastHeard.set(from, Date.now());
    const m: unknown = p.data;
    const fromOwner = (v: string) => fleet.has(v) && (this.claims.get(v)?.instance ?? from) === from;
    switch (kind as EventKind) {
      case 'claim': {
        const { v, epoch } = m as { v: string; epoch: number };
        if (!fleet.has(v) || (this.claims.get(v)?.epoch ?? 0) >= epoch) return;
        this.claims.set(v, { instance: from, epoch });
        return;
      }
      case 'state': {
        const { v, s, at } = m as { v: string; s: never; at: number };
        if (!fromOwner(v)) return;
        if (!this.claims.has(v)) this.claims.set(v, { instance: from, epoch: 0 }); // claim lost: its states tell
        if (!this.remote(v)) return;
        const wasOnline = fleet.isOnline(v);
        realtime.remoteVehicleState(v, s, at);
        if (!wasOnline) bookings.vehicleConnected(v, true);
        return;
      }
      case 'link': {
        const { v, up } = m as { v: string; up: boolean };
        if (fromOwner(v) && this.remote(v)) {
          fleet.setOnline(v, up);
          bookings.vehicleConnected(v, up);
        }
        return;
      }
      case 'teleop': {
        const { v, p: pub } = m as { v: string; p: TeleopPublished };
        if (!fromOwner(v) || !this.remote(v)) return;
        this.remoteViews.set(v, pub);
        fleet.setTeleop(v, { mode: pub.view.mode, driver: pub.view.holder, latencyMs: pub.view.latencyMs, permittedSpeed: pub.view.permittedSpeed });
        bookings.setSpeedFactor(v, pub.view.speedFactor);
        const key = `${pub.dispatch.driverId}|${pub.dispatch.available}`;
        if (this.leading && this.appliedDispatch.get(v) !== key) {
          bookings.vehicleDispatch([{ vehicleId: v, ...pub.dispatch }], (e) => this.d.log.warn({ err: e, vehicleId: v }, 'cluster: dispatcher driver/status update failed'));
        }
        this.appliedDispatch.set(v, key);
        return;
      }
      case 'alert':
        realtime.teleop.mirrorAlert((m as { alert: LeitstandAlert }).alert, from);
        return;
      case 'bookings':
        if (!this.leading) bookings.mirror((m as { records: BookingRecord[] }).records);
        return;
      case 'plans':
        if (!this.leading) for (const e of (m as { plans: Array<{ update: PlanUpdate; key: string }> }).plans) bookings.mirrorPlan(e.update, e.key);
        return;
      case 'hello':
        this.republish();
        return;
      case 'beat':
        return;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.beatTimer) clearInterval(this.beatTimer);
    await this.lease.stop();
    await this.transitions;
    this.leading = false;
  }
}
