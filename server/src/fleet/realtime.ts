import type { Logger } from 'pino';
import type { Namespace, Server as IoServer, Socket } from 'socket.io';
import type { ZodType } from 'zod';
import { verifyPassword } from '../auth/passwords.ts';
import { STAFF_ROLES, type Principal, type TokenService } from '../auth/tokens.ts';
import type { BookingService } from '../bookings/service.ts';
import type { Clock } from '../core/clock.ts';
import { ApiError } from '../http/errors.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/types.ts';
import type { TeleopControlCenter } from '../teleop/controlCenter.ts';
import { TeleopService, type TeleopServiceOptions } from '../teleop/service.ts';
import type {
  Ack,
  LeitstandClientToServer,
  LeitstandServerToClient,
  PlanUpdate,
  RiderClientToServer,
  RiderServerToClient,
  VehicleClientToServer,
  VehicleServerToClient,
} from '../protocol/events.ts';
import { bookingCreateSchema, confirmBookingSchema, stopEventSchema, vehicleStateSchema, type VehicleStateMsg } from '../protocol/schemas.ts';
import { z } from 'zod';
import { payloadAndAck, socketEdge } from '../protocol/edge.ts';
import type { FleetRegistry } from './registry.ts';

export interface RealtimeDeps {
  io: IoServer;
  tokens: TokenService;
  fleet: FleetRegistry;
  bookings: BookingService;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** scrypt hash of a vehicle's key (fixtures/fleet.json) */
  keyOf: (vehicleId: string) => string | undefined;
  /** teleoperation safety core (one per process) and its socket layer's options */
  teleop: TeleopControlCenter;
  teleopOptions?: Partial<TeleopServiceOptions>;
  /** audit log (teleoperation records) */
  store: Pick<Store, 'appendEvents'>;
  /** this server instance (several instances on one Redis) */
  instanceId?: string;
}

export interface Realtime {
  vehicles: Namespace<VehicleClientToServer, VehicleServerToClient>;
  leitstand: Namespace<LeitstandClientToServer, LeitstandServerToClient>;
  riders: Namespace<RiderClientToServer, RiderServerToClient>;
  /** teleoperation socket layer (leases, commands, alerts, RTT) */
  teleop: TeleopService;
  /** hook for later layers to see every accepted vehicle state */
  onVehicleState: Array<(vehicleId: string) => void>;
  /** a bus's connection to this instance came up / went down (cluster/node.ts replicates it) */
  onVehicleLink: Array<(vehicleId: string, up: boolean) => void>;
  /** a bus's state relayed by the instance it is connected to (several instances) */
  remoteVehicleState(vehicleId: string, s: VehicleStateMsg, receivedAt: number): void;
  stop(): void;
}

/**
 * fleet:state: a bus's state goes out at most FANOUT_GAP_MS after it arrived, merged with whatever else arrives
 * meanwhile (so ≤ 50 messages a second per console however many buses); changes that come without a state
 * (teleoperation view, link) go out at FANOUT_HZ.
 */
const FANOUT_GAP_MS = 20;
/** packets queued on a busy console connection at which it is skipped by fleet:state (see flushFleet) */
const FANOUT_BACKLOG = 20;
/** a bus's plan is re-sent for a new speed factor at most this often */
const PLAN_MARK_MS = 1000;
const FANOUT_HZ = 10;
export const planGetSchema = z.strictObject({ vehicleId: z.string().max(64) });
const DISPATCH_UPDATE_MS = 1000;
const RIDER_UPDATE_MS = 1000;
/** riders' positions sent per event-loop turn */
const RIDER_SLICE = 50;
const RIDER_VISIBLE = new Set(['confirmed', 'assigned', 'picked_up']);

/** Runs a socket handler: validates the payload, turns every failure into `{error}` on the ack, never throws. */
function handle<T, R>(schema: ZodType<T>, rawPayload: unknown, rawAck: unknown, fn: (p: T) => Promise<R> | R, onBad: () => void): void {
  const { payload, ack } = payloadAndAck(rawPayload, rawAck);
  const reply = ack ? (ack as (r: Ack<R>) => void) : () => {};
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    onBad();
    const i = parsed.error.issues[0];
    reply({ error: { code: 'VALIDATION', message: `invalid payload: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'malformed'}` } });
    return;
  }
  Promise.resolve()
    .then(() => fn(parsed.data))
    .then(
      (data) => reply({ data }),
      (e: unknown) => reply({ error: e instanceof ApiError ? { code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) } : { code: 'INTERNAL', message: 'internal error' } }),
    );
}

export function attachRealtime(d: RealtimeDeps): Realtime {
  const { io, tokens, fleet, bookings, clock, log, metrics } = d;
  const vehicles = io.of('/vehicle') as Namespace<VehicleClientToServer, VehicleServerToClient>;
  const leitstand = io.of('/leitstand') as Namespace<LeitstandClientToServer, LeitstandServerToClient>;
  const riders = io.of('/rider') as Namespace<RiderClientToServer, RiderServerToClient>;
  const vehicleSockets = new Map<string, Socket>();
  const lastDispatchUpdate = new Map<string, number>();
  const onVehicleState: Array<(vehicleId: string) => void> = [];
  const onVehicleLink: Array<(vehicleId: string, up: boolean) => void> = [];
  const bad = (where: string) => () => metrics.inputRejected.inc({ where });
  // every socket: the ack is the last argument, one payload at most, unknown events answered (protocol/edge.ts)
  for (const ns of [vehicles, leitstand, riders]) ns.on('connection', (socket) => socketEdge(socket as Socket, (where) => metrics.inputRejected.inc({ where })));

  // ---------------------------------------------------------------- teleoperation
  // The core's view is the truth for mode, driver, latency and permitted speed (fleet:state via FleetRegistry).
  // The dispatcher plans each bus with the driver who holds it, while it is in remote/standby (or only briefly
  // stopped, see TeleopServiceOptions.outOfServiceAfterMs); the
  // latency speed factor stretches its riders' ETAs (BookingService.setSpeedFactor) and marks its plan for
  // the Leitstand (PlanUpdate.speedFactor) — the dispatcher's own travel times stay nominal.
  const markPlan = (p: PlanUpdate): PlanUpdate => {
    const v = teleop.view(p.vehicleId);
    return v ? { ...p, speedFactor: v.speedFactor, permittedSpeed: v.permittedSpeed } : p;
  };
  // A new speed factor re-sends the bus's whole plan (route geometry included) to every console for its marker:
  // at most once per PLAN_MARK_MS per bus, the last one carrying the factor of its time (a jittery link or a
  // stall of this process would otherwise flood the consoles with plans).
  const planMarks = new Map<string, { at: number; timer: NodeJS.Timeout | null }>();
  const markClass = new Map<string, number>();
  const markPlanSoon = (vehicleId: string) => {
    let m = planMarks.get(vehicleId);
    if (!m) planMarks.set(vehicleId, (m = { at: -Infinity, timer: null }));
    if (m.timer) return;
    const mark = m;
    const send = () => {
      mark.timer = null;
      mark.at = clock.now();
      const p = bookings.currentPlan(vehicleId);
      if (p) leitstand.emit('plan:update', markPlan(p));
    };
    const wait = mark.at + PLAN_MARK_MS - clock.now();
    if (wait <= 0) send();
    else mark.timer = setTimeout(send, wait);
  };
  const teleop = new TeleopService({
    center: d.teleop,
    clock,
    log,
    store: d.store,
    fleet,
    leitstand,
    options: d.teleopOptions,
    onInputRejected: (where) => metrics.inputRejected.inc({ where }),
    instanceId: d.instanceId,
    onDispatch: (changes) => bookings.vehicleDispatch(changes, (e, vehicleId) => log.warn({ err: e, vehicleId }, 'dispatcher: driver/status update failed')),
    onSpeedFactor: (vehicleId, factor) => {
      bookings.setSpeedFactor(vehicleId, factor);
      // the plan's marker follows the factor's class (full speed, reduced, standing); the exact permitted speed is
      // in fleet:state at 10 Hz, so a jittery latency does not re-send every bus's plan to every console
      const cls = factor >= 1 ? 1 : factor <= 0 ? 0 : 0.5;
      if (markClass.get(vehicleId) === cls) return;
      markClass.set(vehicleId, cls);
      markPlanSoon(vehicleId);
    },
  });

  /**
   * The dispatcher learns where a bus is (once a second; the leader only, for buses on any instance). While the
   * bus stands at a stop the dispatcher keeps the arrival time it was given (resetting it to "now" would restart
   * the modelled dwell and make the plan look late); elsewhere its divert point is here and now.
   */
  const feedDispatcher = (id: string, s: VehicleStateMsg, now: number) => {
    if (s.atStop || now - (lastDispatchUpdate.get(id) ?? 0) < DISPATCH_UPDATE_MS || !bookings.leads()) return;
    lastDispatchUpdate.set(id, now);
    try {
      bookings.vehicleMoved(id, s.lat, s.lon, s.soc, teleop.dispatchDriver(id), teleop.available(id));
    } catch (e) {
      log.warn({ err: e, vehicleId: id }, 'dispatcher: vehicle update failed');
    }
  };

  // ---------------------------------------------------------------- /vehicle: per-vehicle credentials only
  vehicles.use((socket, next) => {
    const auth = (socket.handshake.auth ?? {}) as { vehicleId?: unknown; key?: unknown; token?: unknown };
    void (async () => {
      if (typeof auth.token === 'string') {
        const p = tokens.verify(auth.token);
        if (p?.role === 'vehicle' && fleet.has(p.sub)) return p.sub;
        return null; // a rider's or staff token never opens the vehicle namespace
      }
      if (typeof auth.vehicleId !== 'string' || typeof auth.key !== 'string' || auth.key.length > 256 || !fleet.has(auth.vehicleId)) return null;
      const hash = d.keyOf(auth.vehicleId);
      return hash && (await verifyPassword(auth.key, hash)) ? auth.vehicleId : null;
    })().then(
      (id) => {
        if (!id) return next(new Error('unauthorized: vehicle credentials required'));
        socket.data.vehicleId = id;
        next();
      },
      () => next(new Error('unauthorized')),
    );
  });

  vehicles.on('connection', (socket) => {
    const id = socket.data.vehicleId as string;
    // one connection per bus: a reconnect replaces the old socket (registered first, so the old socket's
    // disconnect is not taken for a link loss of the bus)
    const old = vehicleSockets.get(id);
    vehicleSockets.set(id, socket);
    teleop.vehicleConnected(socket, id);
    old?.disconnect(true);
    void socket.join(`v:${id}`);
    metrics.vehiclesConnected.set(vehicleSockets.size);
    fleet.setOnline(id, true);
    bookings.vehicleConnected(id, true);
    for (const f of onVehicleLink) f(id, true);
    const plan = bookings.currentPlan(id);
    if (plan) socket.emit('plan:update', plan);
    log.info({ vehicleId: id }, 'vehicle connected');

    socket.on('vehicle:state', (payload: unknown) => {
      const parsed = vehicleStateSchema.safeParse(payload);
      if (!parsed.success) {
        metrics.inputRejected.inc({ where: 'vehicle:state' });
        return;
      }
      const now = clock.now();
      if (!fleet.update(id, parsed.data, now)) return;
      fanoutSoon();
      teleop.vehicleState(id, parsed.data);
      for (const f of onVehicleState) f(id);
      feedDispatcher(id, parsed.data, now);
    });
    socket.on('vehicle:stop', (payload: unknown, ack: unknown) =>
      handle(stopEventSchema, payload, ack, async (e) => ({ accepted: await bookings.stopEvent(id, e) }), bad('vehicle:stop')),
    );
    socket.on('disconnect', (reason) => {
      teleop.vehicleDisconnected(socket, id);
      if (vehicleSockets.get(id) !== socket) return;
      vehicleSockets.delete(id);
      metrics.vehiclesConnected.set(vehicleSockets.size);
      fleet.setOnline(id, false);
      bookings.vehicleConnected(id, false);
      for (const f of onVehicleLink) f(id, false);
      log.warn({ vehicleId: id, reason }, 'vehicle disconnected');
    });
  });

  // ---------------------------------------------------------------- staff and rider token check
  const tokenAuth = (roles: readonly string[]) => (socket: Socket, next: (e?: Error) => void) => {
    const p = tokens.verify((socket.handshake.auth as { token?: unknown } | undefined)?.token);
    if (!p || !roles.includes(p.role)) return next(new Error('unauthorized'));
    socket.data.principal = p;
    next();
  };

  // ---------------------------------------------------------------- /leitstand (staff)
  leitstand.use(tokenAuth(STAFF_ROLES));
  leitstand.on('connection', (socket) => {
    const who = socket.data.principal as Principal;
    metrics.consolesConnected.set(leitstand.sockets.size);
    socket.emit('fleet:state', fleet.snapshot(clock.now()));
    socket.emit('bookings:snapshot', bookings.list(who).map((r) => bookings.view(r)));
    for (const v of fleet.defs()) {
      const p = bookings.currentPlan(v.id);
      if (p) socket.emit('plan:update', markPlan(p));
    }
    teleop.consoleConnected(socket, who);
    socket.on('fleet:snapshot', (...args: unknown[]) => handle(z.undefined(), args[0], args[1], () => fleet.snapshot(clock.now()), bad('fleet:snapshot')));
    socket.on('booking:create', (payload: unknown, ack: unknown) =>
      handle(bookingCreateSchema, payload, ack, async (b) => {
        const { status, record } = await bookings.create(b, who);
        if (status === 422) throw new ApiError(422, 'NO_OFFER', record.rejection!.message, { bookingId: record.id, reason: record.rejection!.reason, alternative: bookings.view(record).rejection?.alternative });
        return bookings.view(record);
      }, bad('booking:create')),
    );
    socket.on('booking:confirm', (payload: unknown, ack: unknown) =>
      handle(confirmBookingSchema, payload, ack, async (p) => bookings.view(await bookings.confirm(p.bookingId, who)), bad('booking:confirm')),
    );
    socket.on('plan:get', (payload: unknown, ack: unknown) =>
      handle(planGetSchema, payload, ack, (p) => {
        const plan = bookings.currentPlan(p.vehicleId);
        return plan ? markPlan(plan) : null;
      }, bad('plan:get')),
    );
    socket.on('disconnect', () => metrics.consolesConnected.set(leitstand.sockets.size));
  });

  // ---------------------------------------------------------------- /rider (own data only)
  riders.use(tokenAuth(['rider']));
  riders.on('connection', (socket) => {
    const who = socket.data.principal as Principal;
    void socket.join(`rider:${who.sub}`);
    metrics.ridersConnected.set(riders.sockets.size);
    socket.emit('bookings:snapshot', bookings.list(who).map((r) => bookings.view(r)));
    socket.on('bookings:snapshot', (...args: unknown[]) => handle(z.undefined(), args[0], args[1], () => bookings.list(who).map((r) => bookings.view(r)), bad('rider:bookings:snapshot')));
    socket.on('booking:confirm', (payload: unknown, ack: unknown) =>
      handle(confirmBookingSchema, payload, ack, async (p) => bookings.view(await bookings.confirm(p.bookingId, who)), bad('rider:booking:confirm')),
    );
    socket.on('disconnect', () => metrics.ridersConnected.set(riders.sockets.size));
  });

  // ---------------------------------------------------------------- fan-out
  bookings.on('booking', (view, record) => {
    leitstand.emit('booking:update', view);
    if (record.riderId) riders.to(`rider:${record.riderId}`).emit('booking:update', view);
  });
  bookings.on('plan', (p) => {
    vehicles.to(`v:${p.vehicleId}`).emit('plan:update', p);
    leitstand.emit('plan:update', markPlan(p));
  });
  teleop.start();

  // every instance holds the whole fleet (buses on other instances are relayed, cluster/node.ts), so each one
  // serves its own consoles and riders: `local`, or the adapter would hand them every other instance's copy too
  let lastFanout = -Infinity;
  let fanoutTimer: NodeJS.Timeout | null = null;
  // Back-pressure: a console whose connection is backed up (its socket still busy with FANOUT_BACKLOG packets
  // queued) gets no deltas, which would only pile up in this process's memory, and one full snapshot as soon as
  // it has drained (after this round's delta, so it starts from the same base as everyone else): it skips states,
  // never sees stale ones.
  const behind = new Set<string>();
  const backedUp = (s: Socket) => {
    const conn = s.conn as unknown as { transport?: { writable?: boolean }; writeBuffer?: unknown[] };
    return conn.transport?.writable === false && (conn.writeBuffer?.length ?? 0) >= FANOUT_BACKLOG;
  };
  const flushFleet = () => {
    if (fanoutTimer) clearTimeout(fanoutTimer);
    fanoutTimer = null;
    lastFanout = clock.now();
    const delta = fleet.delta(lastFanout);
    const drained: Socket[] = [];
    for (const s of leitstand.sockets.values()) {
      if (backedUp(s as unknown as Socket)) behind.add(s.id);
      else if (behind.delete(s.id)) drained.push(s as unknown as Socket);
    }
    for (const id of behind) if (!leitstand.sockets.has(id)) behind.delete(id);
    const skip = drained.length ? [...behind, ...drained.map((s) => s.id)] : [...behind];
    if (delta) (skip.length ? leitstand.local.except(skip) : leitstand.local).emit('fleet:state', delta);
    if (drained.length) {
      const snap = fleet.snapshot(lastFanout);
      for (const s of drained) s.emit('fleet:state', snap);
    }
  };
  const fanoutSoon = () => {
    fanoutTimer ??= setTimeout(flushFleet, Math.max(0, FANOUT_GAP_MS - (clock.now() - lastFanout)));
  };
  const fanout = setInterval(flushFleet, 1000 / FANOUT_HZ);
  // Riders' bus positions and ETAs, once a second, in slices of RIDER_SLICE bookings per event-loop turn: with
  // hundreds of live bookings one pass (an ETA each) was a task of tens of ms that held up everything behind it.
  let riderPass = false;
  const riderTimer = setInterval(() => {
    if (riderPass) return; // the last pass is still going: skip a beat rather than run two
    const live = bookings.all().filter((r) => r.riderId && r.vehicleId && RIDER_VISIBLE.has(r.status));
    riderPass = true;
    const slice = (from: number) => {
      const t = clock.now();
      for (const r of live.slice(from, from + RIDER_SLICE)) {
        const v = r.vehicleId ? fleet.vehicle(r.vehicleId) : undefined;
        if (!v || !r.riderId) continue;
        // reduced to what a rider may see: where their bus is and when it comes, nothing about other riders
        riders.local.to(`rider:${r.riderId}`).emit('vehicle:position', {
          bookingId: r.id,
          vehicleId: v.id,
          label: v.label,
          lat: v.lat,
          lon: v.lon,
          heading: v.heading,
          eta: bookings.view(r).eta ?? null,
          t,
        });
      }
      if (from + RIDER_SLICE < live.length) setImmediate(() => slice(from + RIDER_SLICE));
      else riderPass = false;
    };
    slice(0);
  }, RIDER_UPDATE_MS);

  return {
    vehicles,
    leitstand,
    riders,
    teleop,
    onVehicleState,
    onVehicleLink,
    remoteVehicleState(id, s, receivedAt) {
      fleet.applyRemote(id, s, receivedAt);
      for (const f of onVehicleState) f(id);
      fanoutSoon();
      feedDispatcher(id, s, clock.now());
    },
    stop() {
      teleop.stop();
      clearInterval(fanout);
      if (fanoutTimer) clearTimeout(fanoutTimer);
      for (const m of planMarks.values()) if (m.timer) clearTimeout(m.timer);
      clearInterval(riderTimer);
    },
  };
}
