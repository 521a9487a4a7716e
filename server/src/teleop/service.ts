import type { Logger } from 'pino';
import type { Namespace, Socket } from 'socket.io';
import { z, type ZodType } from 'zod';
import type { Principal } from '../auth/tokens.ts';
import type { Clock } from '../core/clock.ts';
import type { FleetRegistry } from '../fleet/registry.ts';
import type {
  Ack,
  AlertSeverity,
  AlertType,
  LeitstandAlert,
  LeitstandClientToServer,
  LeitstandServerToClient,
  TeleopStateView,
  VehicleClientToServer,
  VehicleServerToClient,
} from '../protocol/events.ts';
import { payloadAndAck } from '../protocol/edge.ts';
import { sameValue } from '../protocol/fleet-delta.ts';
import type { VehicleStateMsg } from '../protocol/schemas.ts';
import type { EventRecord, Store } from '../store/types.ts';
import type { TeleopControlCenter, TeleopVehicleView } from './controlCenter.ts';
import {
  ackCallSchema,
  acquireSchema,
  commandSchema,
  confirmStopSchema,
  handoverCancelSchema,
  handoverConfirmSchema,
  handoverRequestSchema,
  passengerCallSchema,
  pongSchema,
  releaseSchema,
  vehicleIdSchema,
} from './protocol.ts';
import {
  fail,
  isSimId,
  simActor,
  simDriverId,
  type Actor,
  type ActorRole,
  type CommandRequest,
  type MrmReason,
  type Result,
  type TeleopAlert,
  type TeleopErrorCode,
  type VehicleCommand,
  type VehicleDirective,
} from './types.ts';

/**
 * The socket layer of teleoperation: wires the pure `TeleopControlCenter` to socket.io and to the rest of the
 * server. It owns no safety logic of its own; it
 * - maps `/leitstand` events (`teleop:*`, `alert:ack`) to the core's methods and acknowledges with the core's
 *   `Result` (a forwarded command is acknowledged with the bus's own verdict, or TIMEOUT);
 * - feeds the core from `/vehicle` (link up/down, `vehicle:state` reports, passenger calls) and relays the
 *   core's directives to the bus (`teleop:directive`);
 * - measures both links' round trips (`teleop:ping` → `teleop:pong`, server clock only, ≥ 1 Hz);
 * - runs `tick()` exactly at `nextDeadline()` (and at least every 50 ms), so a lapsed lease starts its MRM
 *   within a timer's jitter of the 500 ms;
 * - writes the core's audit records to the store (`appendEvents`), turns its alerts into Leitstand alerts
 *   (`alert`, `alerts:snapshot`, acknowledgement with the actor audited);
 * - publishes the core's view: `fleet:state` (mode, driver, latency, permitted speed via FleetRegistry),
 *   `teleop:state` per bus, the driver/availability the dispatcher plans with, and the latency speed factor;
 * - plays the simulated drivers' part outside the core: `resume` for a bus a simulated driver holds held, and
 *   after a safe stop (or emergency stop) nobody else is responsible for, re-acquire + confirm after
 *   `simRecoverMs` (the stand-in for a driver checking the scene), so the simulated fleet keeps running.
 *
 * One instance per server process: the core lives in memory next to the bus connections. With several instances
 * (`TeleopCluster`, cluster/node.ts) a bus's teleoperation lives on the instance it is connected to: only that
 * instance publishes its state and alerts (to every console, through the socket.io adapter); a console on
 * another instance has its actions for that bus carried out there (with its console RTT) and gets that
 * instance's answer; the others mirror the published views and alerts for snapshots.
 */
export interface TeleopServiceOptions {
  /** simulated drivers resume and recover the buses they hold (the core's `simulatedDriver` option staffs them) */
  simulatedDrivers: boolean;
  /** a simulated driver re-acquires and confirms a bus standing in safe_stop / emergency_stop after this, ms */
  simRecoverMs: number;
  /** retry interval of a simulated driver's refused resume / recovery, ms */
  simRetryMs: number;
  /** RTT probe period on every vehicle and console link, ms (the core needs a sample at least every 3 s) */
  pingMs: number;
  /** how long to wait for the bus's verdict on a forwarded command, ms */
  commandTimeoutMs: number;
  /** the core is ticked at its deadlines and at least this often, ms */
  maxTickMs: number;
  /** fleet registry / teleop:state / dispatcher view refresh, ms */
  publishMs: number;
  /**
   * A bus standing in an MRM / safe stop / emergency stop stays plannable for the dispatcher this long (its plan
   * slips; the dispatcher re-times it from the bus's real position every second and flags promises that break);
   * standing longer without a driver's confirmation, it is out of service (all its promises at risk, no new
   * riders). Offline buses are out of service at once.
   */
  outOfServiceAfterMs: number;
  /** state of charge below which a low_battery alert is raised */
  lowBatterySoc: number;
  /** alerts kept for `alerts:snapshot` */
  alertHistory: number;
}

export const DEFAULT_TELEOP_SERVICE_OPTIONS: TeleopServiceOptions = {
  simulatedDrivers: true,
  simRecoverMs: 15_000,
  simRetryMs: 2_000,
  pingMs: 200,
  commandTimeoutMs: 300,
  maxTickMs: 50,
  publishMs: 50,
  outOfServiceAfterMs: 60_000,
  lowBatterySoc: 0.15,
  alertHistory: 500,
};

/** The driver and availability the dispatcher should plan a bus with (see `dispatchDrivers`). */
export interface DispatchChange {
  vehicleId: string;
  driverId: string | null;
  /** the driver the dispatcher had for this bus before (undefined: first publication) */
  previousDriverId: string | null | undefined;
  available: boolean;
  driverChanged: boolean;
}

/** What the instance owning a bus publishes about it (mirrored by the others). */
export interface TeleopPublished {
  view: TeleopStateView;
  dispatch: { driverId: string | null; available: boolean };
}

/** A console's teleoperation action, possibly carried out on another instance. */
export interface TeleopAction {
  event: string;
  actor: Actor;
  payload: unknown;
  /** the console's last measured RTT on the instance it is connected to */
  consoleRttMs: number | null;
}

/** Several instances: which buses are connected elsewhere, their views there, and the way to reach them. */
export interface TeleopCluster {
  remote(vehicleId: string): boolean;
  remoteView(vehicleId: string): TeleopPublished | null;
  forward(vehicleId: string, action: TeleopAction): Promise<Ack<unknown>>;
  forwardAlertAck(origin: string, actor: Actor, alertId: string): Promise<Ack<unknown>>;
  published(vehicleId: string, p: TeleopPublished): void;
  alert(a: LeitstandAlert): void;
}

export interface TeleopServiceDeps {
  center: TeleopControlCenter;
  clock: Clock;
  log: Logger;
  store: Pick<Store, 'appendEvents'>;
  fleet: FleetRegistry;
  leitstand: Namespace<LeitstandClientToServer, LeitstandServerToClient>;
  options?: Partial<TeleopServiceOptions>;
  /** the dispatcher's driver/availability of some buses changed (in an order that keeps drivers unique) */
  onDispatch?: (changes: DispatchChange[]) => void;
  /** a bus's latency speed factor (permitted / top speed) changed by ≥ 0.05, or reached 0 or 1 */
  onSpeedFactor?: (vehicleId: string, factor: number) => void;
  onInputRejected?: (where: string) => void;
  /** this server instance (makes alert ids unique across instances) */
  instanceId?: string;
}

type VehicleSocket = Socket<VehicleClientToServer, VehicleServerToClient>;
type AnyAck = (res: unknown) => void;

export const consoleHeartbeatSchema = z.strictObject({ vehicleId: vehicleIdSchema, sentAt: z.number().int().min(0).max(8.64e15).optional() });
export const alertAckSchema = z.strictObject({ alertId: z.string().min(1).max(64) });
const busAckSchema = z.union([
  z.strictObject({ data: z.strictObject({ accepted: z.literal(true) }) }),
  z.strictObject({ error: z.strictObject({ code: z.string().min(1).max(40), message: z.string().max(500) }) }),
]);

const CORE_ALERT: Record<Exclude<TeleopAlert['type'], 'passenger_call' | 'passenger_call_escalated'>, AlertType> = {
  lease_lapsed: 'lease_lapsed',
  vehicle_link_lost: 'link_loss',
  vehicle_link_restored: 'link_restored',
  latency_high: 'latency_over_budget',
  latency_over_limit: 'latency_over_limit',
  mrm: 'mrm',
  safe_stop: 'safe_stop',
  emergency_stop: 'emergency_stop',
  unexpected_motion: 'unexpected_motion',
  handover_requested: 'handover_requested',
};

const SEVERITY: Record<AlertType, AlertSeverity> = {
  mrm: 'critical',
  emergency_stop: 'critical',
  link_loss: 'critical',
  lease_lapsed: 'critical',
  latency_over_limit: 'critical',
  unexpected_motion: 'critical',
  breakdown: 'critical',
  safe_stop: 'warning',
  latency_over_budget: 'warning',
  passenger_call: 'warning',
  low_battery: 'warning',
  link_restored: 'info',
  handover_requested: 'info',
};

const MRM_REASON_DE: Record<MrmReason, string> = {
  lease_lapsed: 'Heartbeat des Fahrpults ausgefallen',
  vehicle_link_lost: 'Verbindung zum Fahrzeug verloren',
  latency_over_limit: 'Latenz über dem Grenzwert',
  latency_unknown: 'Latenz nicht messbar',
  vehicle_initiated: 'vom Fahrzeug ausgelöst',
  unexpected_motion: 'unerwartete Bewegung',
  dead_man: 'Totmann des Fahrzeugs',
  lease_end_moving: 'Lease endete während der Fahrt',
};

interface SimDriverState {
  seq: number;
  inFlight: boolean;
  retry: boolean;
  nextTryAt: number;
  stopSince: number | null;
}

interface PingState {
  n: number;
  out: Map<number, number>;
  /** the group of peers it is probed with (see start) */
  slice: number;
}
const PING_SLICES = 4;

const r1 = (x: number) => Math.round(x * 10) / 10;
const r2 = (x: number) => Math.round(x * 100) / 100;

export class TeleopService {
  readonly center: TeleopControlCenter;
  readonly options: TeleopServiceOptions;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly vehicleSockets = new Map<string, VehicleSocket>();
  private readonly pingStates = new WeakMap<object, PingState>();
  private nextSlice = 0;
  private readonly alerts: LeitstandAlert[] = [];
  private readonly alertById = new Map<string, LeitstandAlert>();
  /** the open passenger call's alert per bus */
  private readonly callAlerts = new Map<string, string>();
  private readonly lowBattery = new Set<string>();
  private readonly sim = new Map<string, SimDriverState>();
  /** the teleop:state last sent per bus, with its latency class and permitted-speed step */
  private readonly lastState = new Map<string, { sv: TeleopStateView; latencyClass: number | null; speedStep: number }>();
  private readonly lastDispatch = new Map<string, { driverId: string | null; available: boolean }>();
  private readonly lastFactor = new Map<string, number>();
  /** since when each bus stands in mrm / safe_stop / emergency_stop (for the dispatcher's availability) */
  private readonly stoppedSince = new Map<string, number>();
  /** the last MRM directive per bus, re-sent when a bus reconnects during its MRM (it may have missed it) */
  private readonly lastMrm = new Map<string, VehicleDirective>();
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private pingTimer: NodeJS.Timeout | null = null;
  private lastPublish = -Infinity;
  private lastSimDrivers = -Infinity;
  private alertSeq = 0;
  private stopped = false;
  private cluster: TeleopCluster | null = null;
  /** alerts mirrored from other instances: alert id → the instance that raised it (acks go there) */
  private readonly alertOrigin = new Map<string, string>();
  /** last console RTT per actor (sent along with actions carried out on another instance) */
  private readonly consoleRtts = new Map<string, number>();
  /** console actions by event: schema and what the core does */
  private readonly actions: Record<string, { schema: ZodType<unknown>; run: (actor: Actor, p: never) => Ack<unknown> | Promise<Ack<unknown>> }>;

  constructor(private readonly d: TeleopServiceDeps) {
    this.center = d.center;
    this.clock = d.clock;
    this.log = d.log;
    this.options = { ...DEFAULT_TELEOP_SERVICE_OPTIONS, ...d.options };
    const c = this.center;
    const a = <T>(schema: ZodType<T>, run: (actor: Actor, p: T) => Ack<unknown> | Promise<Ack<unknown>>) => ({ schema: schema as ZodType<unknown>, run: run as (actor: Actor, p: never) => Ack<unknown> });
    this.actions = {
      'teleop:acquire': a(acquireSchema, (actor, p) => c.acquire(actor, p.vehicleId)),
      'teleop:release': a(releaseSchema, (actor, p) => c.release(actor, p.vehicleId)),
      'teleop:heartbeat': a(consoleHeartbeatSchema, (actor, p) => c.heartbeat(actor, p.vehicleId, p.sentAt)),
      'teleop:handover_request': a(handoverRequestSchema, (actor, p) => c.handoverRequest(actor, p.vehicleId)),
      'teleop:handover_confirm': a(handoverConfirmSchema, (actor, p) => c.handoverConfirm(actor, p.vehicleId, p.to)),
      'teleop:handover_cancel': a(handoverCancelSchema, (actor, p) => c.handoverCancel(actor, p.vehicleId)),
      'teleop:confirm_stop': a(confirmStopSchema, (actor, p) => c.confirmAfterSafeStop(actor, p.vehicleId)),
      'teleop:ack_call': a(ackCallSchema, (actor, p) => this.ackCall(actor, p.vehicleId)),
      'teleop:command': a(commandSchema, (actor, p) => this.command(actor, p as CommandRequest)),
    };
  }

  setCluster(c: TeleopCluster | null): void {
    this.cluster = c;
  }

  /** Connected to another instance (its teleoperation lives there)? */
  private remote(vehicleId: string | null | undefined): boolean {
    return !!vehicleId && !!this.cluster?.remote(vehicleId);
  }

  /** The bus (re)connected here after living elsewhere: publish everything about it afresh. */
  ownershipChanged(vehicleId: string): void {
    this.lastState.delete(vehicleId);
    this.lastDispatch.delete(vehicleId);
    this.lastFactor.delete(vehicleId);
  }

  /**
   * An action a console on another instance sent for a bus connected here. Validated again (peer input): the
   * sender's RTT to its console feeds the core first, as a local console's pong would.
   */
  async runForwarded(action: TeleopAction): Promise<Ack<unknown>> {
    const def = this.actions[action.event];
    if (!def) return { error: { code: 'INVALID', message: `no teleoperation action ${action.event}` } };
    const p = def.schema.safeParse(action.payload);
    if (!p.success) return { error: { code: 'VALIDATION', message: 'invalid payload' } };
    if (action.consoleRttMs !== null) this.center.consoleRtt(action.actor.id, action.consoleRttMs);
    let r: Ack<unknown> | Promise<Ack<unknown>>;
    try {
      r = def.run(action.actor, p.data as never);
    } finally {
      this.after();
    }
    return r;
  }

  /** An alert raised or updated on another instance (its consoles got it there; kept here for snapshots and acks). */
  mirrorAlert(alert: LeitstandAlert, origin: string): void {
    const cur = this.alertById.get(alert.id);
    if (cur) Object.assign(cur, alert);
    else {
      this.alerts.push(alert);
      this.alertById.set(alert.id, alert);
      this.alertOrigin.set(alert.id, origin);
      this.trimAlerts();
    }
  }

  /** A console action: carried out here, or on the instance the bus is connected to. */
  private route(actor: Actor, event: string, p: unknown): Ack<unknown> | Promise<Ack<unknown>> {
    const vehicleId = (p as { vehicleId?: string }).vehicleId;
    if (this.cluster && this.remote(vehicleId)) {
      return this.cluster.forward(vehicleId!, { event, actor, payload: p, consoleRttMs: this.consoleRtts.get(actor.id) ?? null });
    }
    return this.actions[event].run(actor, p as never);
  }

  start(): void {
    this.flush();
    this.publish();
    // every peer is probed once per pingMs, but in PING_SLICES groups spread over that time: 250 probes at once (and
    // 250 answers back together) were a burst that delayed teleoperation commands behind them
    let slice = 0;
    this.pingTimer = setInterval(() => this.pingAll((slice = (slice + 1) % PING_SLICES)), this.options.pingMs / PING_SLICES);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.timer = null;
    this.pingTimer = null;
  }

  // ---------------------------------------------------------------- queries (for realtime.ts and tests)

  /** The bus's view: from the core here, or as published by the instance it is connected to. */
  view(vehicleId: string): TeleopStateView | null {
    if (this.remote(vehicleId)) return this.cluster!.remoteView(vehicleId)?.view ?? null;
    const v = this.center.view(vehicleId);
    return v ? this.stateView(v, this.clock.now()) : null;
  }
  views(): TeleopStateView[] {
    const now = this.clock.now();
    return this.center.views().map((v) => (this.remote(v.vehicleId) ? (this.cluster!.remoteView(v.vehicleId)?.view ?? this.stateView(v, now)) : this.stateView(v, now)));
  }
  /** The driver id the dispatcher plans this bus with (last published; unique per driver). */
  dispatchDriver(vehicleId: string): string | null {
    if (this.remote(vehicleId)) return this.cluster!.remoteView(vehicleId)?.dispatch.driverId ?? null;
    return this.lastDispatch.get(vehicleId)?.driverId ?? null;
  }
  /** May the dispatcher plan with this bus (connected; in remote or standby, or stopped for less than `outOfServiceAfterMs`)? */
  available(vehicleId: string): boolean {
    if (this.remote(vehicleId)) return this.cluster!.remoteView(vehicleId)?.dispatch.available ?? false;
    return this.lastDispatch.get(vehicleId)?.available ?? false;
  }
  /** permitted speed / top speed, 0 … 1 (last published) */
  speedFactor(vehicleId: string): number {
    if (this.remote(vehicleId)) return this.cluster!.remoteView(vehicleId)?.view.speedFactor ?? 1;
    return this.lastFactor.get(vehicleId) ?? 1;
  }
  alertList(): LeitstandAlert[] {
    return [...this.alerts].reverse();
  }

  // ---------------------------------------------------------------- /vehicle

  /** A bus connected (call before the socket it replaces is disconnected). */
  vehicleConnected(socket: VehicleSocket, vehicleId: string): void {
    this.vehicleSockets.set(vehicleId, socket);
    const s = socket as unknown as Socket;
    s.on('teleop:pong', (p: unknown) => this.pong(s, p, 'vehicle:teleop:pong', (rtt) => this.center.vehicleRtt(vehicleId, rtt)));
    this.handle(s, 'vehicle:passenger_call', passengerCallSchema.optional(), () => this.center.passengerCall(vehicleId));
    this.center.vehicleLink(vehicleId, true);
    this.ping(s, this.clock.now());
    // a bus coming back during its MRM may have missed the order: repeat it (MRM directives are never dropped)
    const mrm = this.lastMrm.get(vehicleId);
    if (mrm && this.center.view(vehicleId)?.mode === 'mrm') socket.emit('teleop:directive', mrm);
    this.after();
  }

  vehicleDisconnected(socket: VehicleSocket, vehicleId: string): void {
    if (this.vehicleSockets.get(vehicleId) !== socket) return;
    this.vehicleSockets.delete(vehicleId);
    this.center.vehicleLink(vehicleId, false);
    this.after();
  }

  /** Every accepted `vehicle:state`. */
  vehicleState(vehicleId: string, msg: VehicleStateMsg): void {
    this.center.vehicleReport(vehicleId, { speed: msg.speed, mode: msg.mode === 'offline' ? undefined : msg.mode, stamp: msg.teleopStamp });
    this.checkBattery(vehicleId, msg.soc);
    this.flush(); // no re-arm: a report only moves deadlines later (see pong)
  }

  // ---------------------------------------------------------------- /leitstand

  consoleConnected(socket: Socket<LeitstandClientToServer, LeitstandServerToClient>, who: Principal): void {
    const actor: Actor = { id: who.sub, role: who.role as ActorRole };
    const now = this.clock.now();
    socket.emit('alerts:snapshot', this.alertList());
    for (const v of this.views()) socket.emit('teleop:state', v);
    const s = socket as unknown as Socket;
    s.on('teleop:pong', (p: unknown) =>
      this.pong(s, p, 'teleop:pong', (rtt) => {
        this.consoleRtts.set(actor.id, rtt);
        return this.center.consoleRtt(actor.id, rtt);
      }),
    );
    this.ping(s, now); // an RTT sample at once: acquire needs one
    for (const [event, def] of Object.entries(this.actions)) this.handle(s, event, def.schema, (p) => this.route(actor, event, p));
    this.handle(s, 'alert:ack', alertAckSchema, (p) => this.ackAlert(actor, p.alertId));
    this.handle(s, 'teleop:snapshot', z.undefined(), () => ({ data: this.views() }));
  }

  // ---------------------------------------------------------------- actions

  private command(actor: Actor, cmd: CommandRequest): Result<{ accepted: true }> | Promise<Result<{ accepted: true }>> {
    const r = this.center.command(actor, cmd);
    if ('error' in r) return r;
    return this.forward(r.data.forward);
  }

  /**
   * Send a command the core accepted to the bus and answer with the bus's verdict (the core records it). The
   * outbox is flushed first, so the lease relay of a new lease reaches the bus before that lease's commands.
   */
  private forward(cmd: VehicleCommand): Promise<Result<{ accepted: true }>> {
    this.flush();
    const done = (res: Result<{ accepted: true }>) => {
      const out = this.center.commandResult(cmd, res);
      this.after();
      return out;
    };
    const s = this.vehicleSockets.get(cmd.vehicleId);
    if (!s || !s.connected) return Promise.resolve(done(fail('OFFLINE', `${cmd.vehicleId} is not connected`)));
    const ms = this.options.commandTimeoutMs;
    return new Promise((resolve) => {
      (s as unknown as Socket).timeout(ms).emit('teleop:command', cmd, (err: Error | null, res: unknown) => {
        if (err) return resolve(done(fail('TIMEOUT', `${cmd.vehicleId} did not answer within ${ms} ms: the command's effect is unknown`)));
        const p = busAckSchema.safeParse(res);
        if (!p.success) return resolve(done(fail('INVALID', `malformed answer from ${cmd.vehicleId}`)));
        const r = p.data;
        resolve(done('data' in r ? { data: { accepted: true } } : { error: { code: r.error.code as TeleopErrorCode, message: r.error.message } }));
      });
    });
  }

  private ackCall(actor: Actor, vehicleId: string): Result<{ vehicleId: string; afterMs: number }> {
    const r = this.center.acknowledgeCall(actor, vehicleId);
    if ('data' in r) {
      const id = this.callAlerts.get(vehicleId);
      const a = id ? this.alertById.get(id) : undefined;
      this.callAlerts.delete(vehicleId);
      if (a && !a.ackedBy) {
        a.ackedBy = actor.id;
        a.ackedAt = this.clock.now();
        this.emitAlert(a);
      }
    }
    return r;
  }

  /** Acknowledges an alert (one raised on another instance is acknowledged there). */
  ackAlert(actor: Actor, alertId: string): Ack<LeitstandAlert> | Promise<Ack<unknown>> {
    const origin = this.alertOrigin.get(alertId);
    if (origin && this.cluster) return this.cluster.forwardAlertAck(origin, actor, alertId);
    const a = this.alertById.get(alertId);
    if (!a) return { error: { code: 'NOT_FOUND', message: `no alert ${alertId} (or no longer kept)` } };
    if (a.ackedBy) return { data: a };
    if (a.type === 'passenger_call' && a.vehicleId && this.callAlerts.get(a.vehicleId) === a.id) {
      // the call is answered through the core: only its owner may (holder, else the dispatcher desk)
      const r = this.ackCall(actor, a.vehicleId);
      if ('error' in r) return r;
    }
    const now = this.clock.now();
    a.ackedBy ??= actor.id;
    a.ackedAt ??= now;
    this.persist([{ t: now, type: 'teleop.alert_ack', ...(a.vehicleId ? { vehicleId: a.vehicleId } : {}), actor: actor.id, data: { alertId: a.id, alert: a.type } }]);
    this.emitAlert(a);
    return { data: a };
  }

  // ---------------------------------------------------------------- simulated drivers

  private simState(id: string): SimDriverState {
    let st = this.sim.get(id);
    if (!st) this.sim.set(id, (st = { seq: 0, inFlight: false, retry: false, nextTryAt: 0, stopSince: null }));
    return st;
  }

  /**
   * What a simulated driver does beyond the core: drive off (resume) a bus it holds held, and after a safe stop /
   * emergency stop that no human is responsible for, re-acquire and confirm after `simRecoverMs`.
   */
  private runSimDrivers(now: number): void {
    if (!this.options.simulatedDrivers) return;
    for (const v of this.center.views()) {
      const id = v.vehicleId;
      const sim = simDriverId(id);
      const st = this.simState(id);
      if (v.holder !== sim) st.retry = false;
      if (v.holder === sim && v.leaseState === 'active' && v.mode === 'remote' && v.linkUp && (v.held || st.retry) && !st.inFlight && now >= st.nextTryAt) {
        this.simResume(id, st, now);
      }
      const stopped = (v.mode === 'safe_stop' || v.mode === 'emergency_stop') && (v.holder === null || v.holder === sim);
      if (!stopped) {
        st.stopSince = null;
        continue;
      }
      st.stopSince ??= now;
      if (!v.linkUp || v.speed > 0 || now - st.stopSince < this.options.simRecoverMs || now < st.nextTryAt) continue;
      const actor = simActor(id);
      const a = v.holder === null ? this.center.acquire(actor, id) : null;
      const r = a && 'error' in a ? a : this.center.confirmAfterSafeStop(actor, id);
      if ('error' in r) st.nextTryAt = now + this.options.simRetryMs;
      else this.log.info({ vehicleId: id, after: now - st.stopSince }, 'simulated driver confirmed the stop');
    }
  }

  private simResume(id: string, st: SimDriverState, now: number): void {
    const r = this.center.command(simActor(id), { vehicleId: id, seq: ++st.seq, type: 'resume', issuedAt: now });
    if ('error' in r) {
      st.nextTryAt = now + this.options.simRetryMs;
      return;
    }
    st.inFlight = true;
    void this.forward(r.data.forward).then((res) => {
      st.inFlight = false;
      st.retry = 'error' in res;
      if (st.retry) st.nextTryAt = this.clock.now() + this.options.simRetryMs;
    });
  }

  // ---------------------------------------------------------------- time

  /** After every input: send what the core emitted and re-arm the timer for its next deadline. */
  private after(): void {
    this.flush();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    const d = this.center.nextDeadline();
    const wait = Math.min(this.options.maxTickMs, d === null ? Infinity : Math.max(1, Math.ceil(d - now)));
    const at = now + wait;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.onTimer(), wait);
  }

  private onTimer(): void {
    this.timer = null;
    this.timerAt = Infinity;
    if (this.stopped) return;
    try {
      this.center.tick();
      const now = this.clock.now();
      // the timer fires for every group of lease relays (ten times per relay interval); the simulated drivers'
      // decisions wait seconds (simRetryMs, simRecoverMs) and need not look at every bus that often
      if (now - this.lastSimDrivers >= this.options.publishMs) {
        this.lastSimDrivers = now;
        this.runSimDrivers(now);
      }
      this.flush();
      if (now - this.lastPublish >= this.options.publishMs) this.publish();
    } catch (e) {
      this.log.error({ err: e }, 'teleop tick failed');
    }
    this.schedule();
  }

  // ---------------------------------------------------------------- RTT

  private pingAll(slice: number): void {
    const now = this.clock.now();
    for (const s of this.vehicleSockets.values()) this.ping(s as unknown as Socket, now, slice);
    for (const s of this.d.leitstand.sockets.values()) this.ping(s as unknown as Socket, now, slice);
  }

  /** Probes `s` (only if it belongs to `slice`, when given: a peer keeps the slice it got first). */
  private ping(s: Socket, now: number, slice?: number): void {
    let st = this.pingStates.get(s);
    if (!st) this.pingStates.set(s, (st = { n: 0, out: new Map(), slice: this.nextSlice++ % PING_SLICES }));
    if (slice !== undefined && st.slice !== slice) return;
    for (const [n, t] of st.out) if (now - t > 5000) st.out.delete(n);
    const n = ++st.n;
    st.out.set(n, now);
    s.emit('teleop:ping', { n, t: now });
  }

  /** Only the echo of a ping we sent counts (a peer cannot make its link look faster than it is). */
  private pong(s: Socket, payload: unknown, where: string, feed: (rttMs: number) => unknown): void {
    const p = pongSchema.safeParse(payload);
    const st = this.pingStates.get(s);
    const sent = p.success ? st?.out.get(p.data.n) : undefined;
    if (!p.success || sent === undefined || sent !== p.data.t) {
      this.d.onInputRejected?.(where);
      return;
    }
    st!.out.delete(p.data.n);
    feed(Math.max(0, this.clock.now() - sent));
    // Reports and RTT samples (thousands a second with 200 buses) only move the core's deadlines later, and the
    // timer is never more than maxTickMs away: re-arming it (nextDeadline() walks every bus) is left to the timer.
    this.flush();
  }

  // ---------------------------------------------------------------- outputs

  private flush(): void {
    const out = this.center.drain();
    if (!out.length) return;
    const audits: EventRecord[] = [];
    const alerts: TeleopAlert[] = [];
    for (const o of out) {
      if (o.kind === 'audit') {
        audits.push({ ...o.record });
        if (o.record.type === 'teleop.mrm') this.log.warn({ vehicleId: o.record.vehicleId, ...o.record.data }, 'minimal risk manoeuvre');
      } else if (o.kind === 'directive') {
        if (o.directive.type === 'mrm') this.lastMrm.set(o.vehicleId, o.directive);
        this.vehicleSockets.get(o.vehicleId)?.emit('teleop:directive', o.directive);
      } else alerts.push(o.alert);
    }
    if (alerts.length) this.coreAlerts(alerts);
    if (audits.length) this.persist(audits);
  }

  private persist(events: EventRecord[]): void {
    this.d.store.appendEvents(events).catch((e: unknown) => this.log.error({ err: e, n: events.length }, 'teleop audit records not stored'));
  }

  /** The core addresses safety alerts to the desk and the holder separately (back to back): one alert each. */
  private coreAlerts(list: TeleopAlert[]): void {
    for (let i = 0; i < list.length; ) {
      const a = list[i];
      const to = [a.to];
      let j = i + 1;
      const same = (b: TeleopAlert) => b.t === a.t && b.vehicleId === a.vehicleId && b.type === a.type && JSON.stringify(b.data) === JSON.stringify(a.data);
      while (j < list.length && same(list[j])) to.push(list[j++].to);
      i = j;
      this.coreAlert(a, [...new Set(to)]);
    }
  }

  private coreAlert(a: TeleopAlert, to: string[]): void {
    if (a.type === 'passenger_call' || a.type === 'passenger_call_escalated') {
      const id = this.callAlerts.get(a.vehicleId);
      const open = id ? this.alertById.get(id) : undefined;
      if (open && !open.ackedBy) {
        // one alert per call: rerouted (new owner) or escalated (the desk may answer too)
        if (a.type === 'passenger_call') open.to = to;
        else {
          open.to = [...new Set([...open.to, 'dispatcher'])];
          open.data = { ...open.data, escalated: true };
        }
        open.message = this.message('passenger_call', a.vehicleId, open.data);
        this.emitAlert(open);
        return;
      }
      const created = this.raise('passenger_call', a.vehicleId, a.t, a.type === 'passenger_call_escalated' ? [...new Set([...to, 'dispatcher'])] : to, {
        ...a.data,
        ...(a.type === 'passenger_call_escalated' ? { escalated: true } : {}),
      });
      this.callAlerts.set(a.vehicleId, created.id);
      return;
    }
    this.raise(CORE_ALERT[a.type], a.vehicleId, a.t, to, a.data);
  }

  /** To every console (all instances, through the adapter) and into the other instances' mirrors. */
  private emitAlert(a: LeitstandAlert): void {
    this.d.leitstand.emit('alert', a);
    this.cluster?.alert(a);
  }

  private trimAlerts(): void {
    while (this.alerts.length > this.options.alertHistory) {
      const old = this.alerts.shift()!;
      this.alertById.delete(old.id);
      this.alertOrigin.delete(old.id);
    }
  }

  private raise(type: AlertType, vehicleId: string | null, t: number, to: string[], data: Record<string, unknown>): LeitstandAlert {
    const alert: LeitstandAlert = {
      // the instance's id keeps alert ids unique across instances
      id: `al-${t.toString(36)}-${this.cluster ? `${this.d.instanceId ?? ''}-` : ''}${++this.alertSeq}`,
      t,
      vehicleId,
      type,
      severity: SEVERITY[type],
      message: this.message(type, vehicleId, data),
      to,
      data,
      ackedBy: null,
      ackedAt: null,
    };
    // a bus that moved to another instance is that instance's to report on (this core's view of it is stale)
    if (this.remote(vehicleId)) return alert;
    this.alerts.push(alert);
    this.alertById.set(alert.id, alert);
    this.trimAlerts();
    this.emitAlert(alert);
    return alert;
  }

  private message(type: AlertType, vehicleId: string | null, data: Record<string, unknown>): string {
    const bus = vehicleId ? (this.d.fleet.def(vehicleId)?.label ?? vehicleId) : 'Flotte';
    const kmh = (ms: unknown) => (typeof ms === 'number' ? `${Math.round(ms * 3.6)} km/h` : '–');
    switch (type) {
      case 'mrm':
        return `${bus}: Minimales Risikomanöver – ${MRM_REASON_DE[data.reason as MrmReason] ?? String(data.reason)}`;
      case 'safe_stop':
        return `${bus} steht sicher (Safe Stop): übernehmen und bestätigen`;
      case 'emergency_stop':
        return `${bus}: Nothalt (${String(data.by ?? '')})`;
      case 'link_loss':
        return `${bus}: Verbindung zum Fahrzeug verloren`;
      case 'link_restored':
        return `${bus}: Verbindung wieder da`;
      case 'latency_over_budget':
        return `${bus}: Latenz ${typeof data.latencyMs === 'number' ? `${Math.round(data.latencyMs)} ms` : 'unbekannt'} über dem Budget – höchstens ${kmh(data.permittedSpeed)}`;
      case 'latency_over_limit':
        return `${bus}: Latenz über dem Grenzwert – Minimales Risikomanöver`;
      case 'lease_lapsed':
        return `${bus}: Heartbeat von ${String(data.holder ?? '?')} ausgefallen`;
      case 'unexpected_motion':
        return `${bus}: unerwartete Bewegung im Stand`;
      case 'passenger_call':
        return `${bus}: Fahrgastruf${data.escalated ? ' (an die Disposition eskaliert)' : ''}`;
      case 'handover_requested':
        return `${bus}: ${String(data.from ?? '?')} bittet um Übergabe`;
      case 'low_battery':
        return `${bus}: Akku niedrig (${typeof data.soc === 'number' ? Math.round(data.soc * 100) : '?'} %)`;
      case 'breakdown':
        return `${bus}: Panne`;
    }
  }

  private checkBattery(vehicleId: string, soc: number): void {
    if (soc < this.options.lowBatterySoc && !this.lowBattery.has(vehicleId)) {
      this.lowBattery.add(vehicleId);
      const now = this.clock.now();
      const data = { soc: r2(soc) };
      this.raise('low_battery', vehicleId, now, ['dispatcher'], data);
      this.persist([{ t: now, type: 'teleop.alert', vehicleId, actor: 'system', data: { alert: 'low_battery', to: 'dispatcher', ...data } }]);
    } else if (soc > this.options.lowBatterySoc + 0.05) this.lowBattery.delete(vehicleId);
  }

  // ---------------------------------------------------------------- views

  private stateView(v: TeleopVehicleView, now: number): TeleopStateView {
    return {
      vehicleId: v.vehicleId,
      mode: v.mode,
      holder: v.holder,
      lease: v.leaseState,
      epoch: v.epoch,
      pendingHandover: v.pendingHandover?.to ?? null,
      handoverExpiresAt: v.pendingHandover?.expiresAt ?? null,
      latencyMs: v.latencyMs === null ? null : r1(v.latencyMs),
      permittedSpeed: r2(v.permittedSpeed),
      speedFactor: r2(Math.min(1, Math.max(0, v.permittedSpeed / this.center.config.vmaxMps))),
      held: v.held,
      secured: v.secured,
      linkUp: v.linkUp,
      speed: r2(v.speed),
      passengerCall: v.passengerCall,
      mrm: v.mrm,
      t: now,
    };
  }

  /**
   * The dispatcher knows one bus per driver ("one remote driver drives one moving bus"). The core lets a driver
   * hold several parked buses, so a human holding more than one is the dispatcher's driver only of the bus that
   * can move (else of the one taken last); simulated drivers hold exactly their own bus.
   */
  private dispatchDrivers(views: TeleopVehicleView[]): Map<string, string | null> {
    const out = new Map<string, string | null>();
    const byHuman = new Map<string, TeleopVehicleView[]>();
    for (const v of views) {
      out.set(v.vehicleId, null);
      if (!v.holder) continue;
      if (isSimId(v.holder)) out.set(v.vehicleId, v.holder);
      else byHuman.set(v.holder, [...(byHuman.get(v.holder) ?? []), v]);
    }
    for (const [driver, list] of byHuman) {
      const movable = list.find((v) => v.mode === 'mrm' || v.speed > 0 || (v.mode === 'remote' && !v.secured));
      const pick = movable ?? list.reduce((a, b) => (b.epoch > a.epoch ? b : a));
      out.set(pick.vehicleId, driver);
    }
    return out;
  }

  private publish(): void {
    const now = this.clock.now();
    this.lastPublish = now;
    const views = this.center.views();
    const drivers = this.dispatchDrivers(views);
    const changes: DispatchChange[] = [];
    for (const v of views) {
      const id = v.vehicleId;
      if (this.remote(id)) continue; // published by the instance it is connected to
      const sv = this.stateView(v, now);
      this.d.fleet.setTeleop(id, { mode: v.mode, driver: v.holder, latencyMs: sv.latencyMs, permittedSpeed: sv.permittedSpeed });
      // The exact latency goes out in fleet:state (10 Hz) anyway; here only its class and the permitted speed in
      // 0.5 m/s steps count as a change: a few ms of RTT jitter on 200 buses must not become a stream of
      // teleop:state messages to every console. (Compared field by field: a JSON key per bus 20 times a second
      // was the largest source of garbage on the server.)
      const c = this.center.config;
      const latencyClass = sv.latencyMs === null ? null : sv.latencyMs <= c.latencyBudgetMs ? 0 : sv.latencyMs <= c.latencyHardLimitMs ? 1 : 2;
      const speedStep = Math.round(sv.permittedSpeed * 2);
      const last = this.lastState.get(id);
      let changed = false;
      if (!last || last.latencyClass !== latencyClass || last.speedStep !== speedStep || discreteChanged(last.sv, sv)) {
        this.lastState.set(id, { sv, latencyClass, speedStep });
        this.d.leitstand.emit('teleop:state', sv);
        changed = true;
      }
      const stopped = v.mode === 'mrm' || v.mode === 'safe_stop' || v.mode === 'emergency_stop';
      if (!stopped) this.stoppedSince.delete(id);
      else if (!this.stoppedSince.has(id)) this.stoppedSince.set(id, now);
      const briefStop = stopped && now - this.stoppedSince.get(id)! < this.options.outOfServiceAfterMs;
      const dispatch = { driverId: drivers.get(id) ?? null, available: v.linkUp && (v.mode === 'remote' || v.mode === 'standby' || briefStop) };
      const prev = this.lastDispatch.get(id);
      if (!prev || prev.driverId !== dispatch.driverId || prev.available !== dispatch.available) {
        changes.push({ vehicleId: id, ...dispatch, previousDriverId: prev?.driverId, driverChanged: !prev || prev.driverId !== dispatch.driverId });
        this.lastDispatch.set(id, dispatch);
        changed = true;
      }
      const f = sv.speedFactor;
      const pf = this.lastFactor.get(id);
      if (pf === undefined || Math.abs(f - pf) >= 0.05 || (f !== pf && (f === 0 || f === 1 || pf === 0 || pf === 1))) {
        this.lastFactor.set(id, f);
        this.d.onSpeedFactor?.(id, f);
        changed = true;
      }
      if (changed) this.cluster?.published(id, { view: sv, dispatch });
    }
    if (changes.length) this.d.onDispatch?.(changes);
  }

  // ---------------------------------------------------------------- edge

  /** Validate, call, acknowledge with the `Result` (never throws into socket.io), then flush and re-arm. */
  private handle<T>(s: Socket, event: string, schema: ZodType<T>, fn: (p: T) => Ack<unknown> | Promise<Ack<unknown>>): void {
    s.on(event, (a: unknown, b: unknown) => {
      const { payload, ack } = payloadAndAck(a, b);
      const reply: AnyAck = (ack as AnyAck | null) ?? (() => {});
      const parsed = schema.safeParse(payload);
      if (!parsed.success) {
        this.d.onInputRejected?.(event);
        const i = parsed.error.issues[0];
        reply({ error: { code: 'VALIDATION', message: `invalid payload: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'malformed'}` } });
        return;
      }
      let r: Ack<unknown> | Promise<Ack<unknown>>;
      try {
        r = fn(parsed.data);
      } catch (e) {
        this.log.error({ err: e, event }, 'teleop handler failed');
        r = { error: { code: 'INTERNAL', message: 'internal error' } };
      }
      this.after();
      Promise.resolve(r).then(reply, (e: unknown) => {
        this.log.error({ err: e, event }, 'teleop handler failed');
        reply({ error: { code: 'INTERNAL', message: 'internal error' } });
      });
    });
  }
}

/** Fields of a teleop:state that change with every RTT sample or report: not a reason to send it again. */
const VOLATILE_STATE = new Set<string>(['t', 'speed', 'latencyMs', 'permittedSpeed', 'speedFactor']);
function discreteChanged(prev: TeleopStateView, next: TeleopStateView): boolean {
  for (const k of Object.keys(next) as (keyof TeleopStateView)[]) if (!VOLATILE_STATE.has(k) && !sameValue(prev[k], next[k])) return true;
  return false;
}
