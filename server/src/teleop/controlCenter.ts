import type { Clock } from '../core/clock.ts';
import { RttWindow, permittedSpeedFor } from './latency.ts';
import {
  COMMAND_TYPES,
  DEFAULT_TELEOP_CONFIG,
  fail,
  isSimId,
  ok,
  simActor,
  simDriverId,
  type Actor,
  type AlertType,
  type CommandRequest,
  type MrmReason,
  type Result,
  type TeleopConfig,
  type TeleopErrorCode,
  type TeleopOutput,
  type VehicleCommand,
  type VehicleDirective,
  type VehicleMode,
} from './types.ts';

/**
 * Server-side teleoperation safety core: control leases, handover, dead-man (heartbeat lapse), link and latency
 * supervision, sequenced commands, passenger calls, and the audit trail — a pure state machine. No sockets,
 * no timers: time comes only from the injected Clock; the socket layer calls the methods on events, calls
 * `tick()` often (≥ 20 Hz, or at `nextDeadline()`), and sends what `drain()` returns.
 *
 * Responsibility model (the invariants the tests prove):
 * - Exactly one `holder` per bus or none; it changes only atomically (acquire, take-over from a simulated
 *   driver, handover confirm, release of a *secured* bus). So there is never an instant with two holders, and
 *   a bus that is moving (or free to move) always has one.
 * - When a human's lease lapses, the holder stays *responsible* (lease state `lapsed`) while the bus runs its
 *   MRM; the lease ends only once the bus stands in safe_stop. So "moving ⇒ holder" holds through MRMs too.
 * - A driver holds at most one bus that is *movable*: moving, in MRM, or in remote without being secured
 *   (a `stop` acknowledged by the vehicle and a zero-speed report after it). Buses come under a lease from
 *   standby, and out of safe_stop, *held*: they drive only after the holder's `resume`.
 * - Release of a moving bus is REFUSED (BUS_MOVING), never turned into an MRM: an MRM brakes at 2.5 m/s²
 *   (standing passengers) and must stay the fallback for failures, not the result of a deliberate click. The
 *   driver stops the bus (`stop`), or hands it over; if they simply walk away, the heartbeat lapse → MRM.
 *
 * Mode transitions (each is audited as `teleop.mode`), see TRANSITIONS below.
 */

/** Allowed mode changes; anything else is a programming error (setMode throws). */
export const TRANSITIONS: Readonly<Record<VehicleMode, readonly VehicleMode[]>> = {
  offline: ['standby'], // vehicle connects
  standby: ['offline', 'remote', 'emergency_stop', 'mrm'], // link lost / acquire / e-stop / unexpected motion
  remote: ['standby', 'mrm', 'emergency_stop'], // release (secured) / lapse, link, latency, vehicle MRM / e-stop
  mrm: ['safe_stop', 'emergency_stop'], // stationary report / e-stop
  safe_stop: ['remote', 'emergency_stop', 'mrm'], // confirm / e-stop / unexpected motion
  emergency_stop: ['remote'], // confirm by the holder once stationary
};

export interface VehicleOptions {
  /** maximum speed, m/s (default config.vmaxMps) */
  vmaxMps?: number;
  /** camera-to-screen delay of this bus's video chain, ms (default config.videoDelayMs) */
  videoDelayMs?: number;
  /** a simulated driver holds the bus whenever no human does (it yields to any human at once) */
  simulatedDriver?: boolean;
}

/** What the vehicle tells the server in `vehicle:state`. */
export interface VehicleReport {
  speed: number;
  mode?: VehicleMode;
  /** highest directive stamp the vehicle has applied (see protocol.ts teleopStampSchema) */
  stamp?: number;
}

interface PendingHandover {
  to: string;
  requestedAt: number;
  expiresAt: number;
  /** the taker heartbeats while waiting: confirm needs a live console on the other side */
  takerLastHeartbeatAt: number;
}

interface Slot {
  readonly id: string;
  readonly vmax: number;
  readonly videoDelayMs: number;
  readonly simulatedDriver: boolean;
  mode: VehicleMode;
  holder: string | null;
  lease: 'active' | 'lapsed';
  epoch: number;
  lastHeartbeatAt: number;
  lastHeartbeatSentAt: number | null;
  lastRelayAt: number;
  /** offset of a simulated driver's relays within simRelayIntervalMs (see simRelayDueAt) */
  readonly relayPhase: number;
  lastSeq: number;
  /** the vehicle acknowledged a stop (or came out of standby/safe_stop held) and no resume was sent since */
  held: boolean;
  /** a zero-speed report arrived after `held` became true: the bus is secured */
  zeroSinceHeld: boolean;
  pending: PendingHandover | null;
  linkUp: boolean;
  lastReportAt: number | null;
  speed: number;
  vehicleMode: VehicleMode | null;
  /** stamp of the directive that last put the vehicle into remote; older reports do not speak for its mode */
  remoteStamp: number;
  vehicleRtt: RttWindow;
  driverCap: number;
  sentCap: number | null;
  latencyHigh: boolean;
  call: { raisedAt: number; escalated: boolean; owner: string } | null;
  mrm: { startedAt: number; reason: MrmReason } | null;
  lastStamp: number;
}

export interface TeleopVehicleView {
  vehicleId: string;
  mode: VehicleMode;
  holder: string | null;
  leaseState: 'active' | 'lapsed' | null;
  epoch: number;
  lastHeartbeatAt: number | null;
  pendingHandover: { to: string; expiresAt: number } | null;
  linkUp: boolean;
  speed: number;
  held: boolean;
  secured: boolean;
  /** control latency, ms; null when unknown or no holder */
  latencyMs: number | null;
  /** m/s, what the dispatcher should plan with */
  permittedSpeed: number;
  passengerCall: { raisedAt: number; escalated: boolean; owner: string } | null;
  mrm: { startedAt: number; reason: MrmReason } | null;
}

const STAFF = new Set(['driver', 'dispatcher', 'admin']);
/**
 * Simulated drivers' lease relays go out in this many groups, each at its own phase of simRelayIntervalMs: 190 buses
 * relayed in one tick were 190 socket writes in one go every 100 ms, and a console's command arriving behind them
 * waited for all of them.
 */
const SIM_RELAY_GROUPS = 10;

export class TeleopControlCenter {
  readonly config: TeleopConfig;
  private readonly slots = new Map<string, Slot>();
  private readonly consoleRtts = new Map<string, RttWindow>();
  private outbox: TeleopOutput[] = [];
  private lastNow = -Infinity;

  constructor(
    private readonly clock: Clock,
    config: Partial<TeleopConfig> = {},
  ) {
    this.config = { ...DEFAULT_TELEOP_CONFIG, ...config };
  }

  // ------------------------------------------------------------------ fleet

  addVehicle(vehicleId: string, opts: VehicleOptions = {}): void {
    if (this.slots.has(vehicleId)) throw new Error(`teleop: vehicle ${vehicleId} added twice`);
    this.slots.set(vehicleId, {
      id: vehicleId,
      vmax: opts.vmaxMps ?? this.config.vmaxMps,
      videoDelayMs: opts.videoDelayMs ?? this.config.videoDelayMs,
      simulatedDriver: opts.simulatedDriver ?? false,
      mode: 'offline',
      holder: null,
      lease: 'active',
      epoch: 0,
      lastHeartbeatAt: -Infinity,
      lastHeartbeatSentAt: null,
      lastRelayAt: -Infinity,
      relayPhase: ((this.slots.size % SIM_RELAY_GROUPS) * this.config.simRelayIntervalMs) / SIM_RELAY_GROUPS,
      lastSeq: 0,
      held: true,
      zeroSinceHeld: true,
      pending: null,
      linkUp: false,
      lastReportAt: null,
      speed: 0,
      vehicleMode: null,
      remoteStamp: 0,
      vehicleRtt: new RttWindow(),
      driverCap: Infinity,
      sentCap: null,
      latencyHigh: false,
      call: null,
      mrm: null,
      lastStamp: 0,
    });
    this.resweep();
    this.audit(this.now(), 'teleop.vehicle_added', vehicleId, 'system', { simulatedDriver: opts.simulatedDriver ?? false });
  }

  vehicleIds(): string[] {
    return [...this.slots.keys()];
  }

  // ------------------------------------------------------------------ leases

  /**
   * Take a free bus (standby → remote, held), re-acquire a bus in safe_stop/emergency_stop (stays there until
   * `confirmAfterSafeStop`), or take a bus from its simulated driver at once (also while it moves).
   */
  acquire(actor: Actor, vehicleId: string): Result<{ vehicleId: string; epoch: number; mode: VehicleMode; takenFrom: string | null }> {
    const now = this.sweep(true);
    const r = this.tryAcquire(actor, vehicleId, now);
    if ('error' in r) this.refused(now, 'acquire', vehicleId, actor, r.error.code);
    return r;
  }

  private tryAcquire(actor: Actor, vehicleId: string, now: number): Result<{ vehicleId: string; epoch: number; mode: VehicleMode; takenFrom: string | null }> {
    const bad = this.checkDriver(actor, vehicleId);
    if (bad) return bad;
    const v = this.slots.get(vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${vehicleId}`);
    if (v.mode === 'offline' || !v.linkUp) return fail('OFFLINE', `${vehicleId} is not connected`);
    if (v.mode === 'mrm') return fail('WRONG_MODE', `${vehicleId} is in a minimal risk manoeuvre: acquire it once it stands in safe_stop`);
    if (v.holder === actor.id) {
      if (v.lease === 'lapsed') return fail('LEASE_LAPSED', `your lease on ${vehicleId} lapsed: re-acquire once it stands`);
      this.renew(v, now, null); // idempotent: a console re-sending acquire after a reconnect
      return ok({ vehicleId, epoch: v.epoch, mode: v.mode, takenFrom: null });
    }
    const takenFrom = v.holder;
    if (takenFrom !== null && !(isSimId(takenFrom) && actor.role !== 'sim')) return fail('NOT_FREE', `${vehicleId} is held by ${takenFrom}`);
    if (takenFrom !== null && v.lease === 'lapsed') return fail('NOT_FREE', `${vehicleId} is still the responsibility of ${takenFrom}`);
    const toRemote = v.mode === 'standby' || v.mode === 'remote';
    if (toRemote) {
      // taking over a bus that may drive makes the taker responsible for a movable bus right away
      if (v.mode === 'remote' && this.movable(v) && this.holdsOtherMovable(actor.id, vehicleId)) {
        return fail('HOLDS_OTHER_MOVING_BUS', `${actor.id} already holds a bus that is moving or free to move`);
      }
      const lat = this.checkLatency(v, actor.id, now);
      if (lat) return lat;
    }
    const from = v.mode;
    this.setHolder(v, actor.id, now, now);
    if (takenFrom) this.audit(now, 'teleop.takeover', vehicleId, actor.id, { from: takenFrom, epoch: v.epoch, mode: v.mode });
    else this.audit(now, 'teleop.acquire', vehicleId, actor.id, { epoch: v.epoch, mode: v.mode });
    if (from === 'standby') {
      v.held = true; // a parked bus comes under a lease held: it drives only after `resume`
      v.zeroSinceHeld = v.speed === 0;
      v.remoteStamp = v.epoch;
      this.setMode(v, 'remote', 'acquire', actor.id, now);
    }
    this.relay(v, now);
    this.updateSpeedCap(v, now, true);
    return ok({ vehicleId, epoch: v.epoch, mode: v.mode, takenFrom });
  }

  /**
   * Give the bus up. A bus in remote must be secured (stopped by the holder's `stop`, acknowledged, and
   * reported at zero speed since); otherwise BUS_MOVING. With a simulated driver configured, it takes the
   * bus back at once; else remote → standby. In safe_stop/emergency_stop the mode stays (a driver must confirm).
   */
  release(actor: Actor, vehicleId: string): Result<{ vehicleId: string; mode: VehicleMode; holder: string | null }> {
    const now = this.sweep(true);
    const r = this.tryRelease(actor, vehicleId, now);
    if ('error' in r) this.refused(now, 'release', vehicleId, actor, r.error.code);
    return r;
  }

  private tryRelease(actor: Actor, vehicleId: string, now: number): Result<{ vehicleId: string; mode: VehicleMode; holder: string | null }> {
    const v = this.slots.get(vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${vehicleId}`);
    if (v.holder !== actor.id) return fail('NOT_HOLDER', `${actor.id} does not hold ${vehicleId}`);
    if (v.lease === 'lapsed') return fail('LEASE_LAPSED', `your lease on ${vehicleId} lapsed`);
    if (v.mode === 'mrm') return fail('BUS_MOVING', `${vehicleId} is in a minimal risk manoeuvre`);
    if (v.mode === 'remote' && !this.secured(v)) {
      return fail('BUS_MOVING', `${vehicleId} is not secured: send stop and wait until it reports standstill`);
    }
    if (v.speed > 0) return fail('BUS_MOVING', `${vehicleId} is still moving`);
    this.cancelPending(v, now, actor.id, 'released');
    if (v.simulatedDriver && !isSimId(actor.id)) {
      // hand back to the simulated driver: no instant without a holder
      const to = simDriverId(v.id);
      this.setHolder(v, to, now, now);
      this.audit(now, 'teleop.release', vehicleId, actor.id, { to, epoch: v.epoch, mode: v.mode });
      this.relay(v, now);
      return ok({ vehicleId, mode: v.mode, holder: to });
    }
    this.audit(now, 'teleop.release', vehicleId, actor.id, { to: null, mode: v.mode });
    this.endLease(v, now, actor.id, 'released');
    if (v.mode === 'remote') this.setMode(v, 'standby', 'release', actor.id, now);
    return ok({ vehicleId, mode: v.mode, holder: null });
  }

  /**
   * Console heartbeat (~10 Hz). From the holder: renews the lease and is relayed to the vehicle. From a
   * pending handover taker: marks their console alive. `sentAt` (console clock) must increase: a burst of
   * buffered old heartbeats after a freeze cannot renew anything twice.
   */
  heartbeat(actor: Actor, vehicleId: string, sentAt?: number): Result<{ role: 'holder' | 'taker'; leaseExpiresAt: number; mode: VehicleMode; permittedSpeed: number }> {
    const now = this.sweep();
    const v = this.slots.get(vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${vehicleId}`);
    if (v.holder === actor.id) {
      if (v.lease === 'lapsed') return fail('LEASE_LAPSED', `your lease on ${vehicleId} lapsed: re-acquire once it stands`);
      if (sentAt !== undefined && v.lastHeartbeatSentAt !== null && sentAt <= v.lastHeartbeatSentAt) {
        return fail('OUT_OF_ORDER', 'heartbeat sentAt not increasing');
      }
      this.renew(v, now, sentAt ?? null);
      return ok({ role: 'holder', leaseExpiresAt: now + this.config.leaseTimeoutMs, mode: v.mode, permittedSpeed: this.permittedSpeed(vehicleId) });
    }
    if (v.pending && v.pending.to === actor.id) {
      v.pending.takerLastHeartbeatAt = now;
      return ok({ role: 'taker', leaseExpiresAt: now + this.config.leaseTimeoutMs, mode: v.mode, permittedSpeed: this.permittedSpeed(vehicleId) });
    }
    return fail('NOT_HOLDER', `${actor.id} does not hold ${vehicleId}`);
  }

  // ------------------------------------------------------------------ handover (two steps)

  /**
   * Step 1, by the taker. On a bus held by a simulated driver this is simply an acquire (simulated drivers
   * yield at once). The request counts as the taker's first heartbeat; it expires after handoverTimeoutMs.
   */
  handoverRequest(actor: Actor, vehicleId: string): Result<{ vehicleId: string; status: 'pending' | 'taken'; holder: string; expiresAt: number | null }> {
    const now = this.sweep(true);
    const r = this.tryHandoverRequest(actor, vehicleId, now);
    if ('error' in r) this.refused(now, 'handover_request', vehicleId, actor, r.error.code);
    return r;
  }

  private tryHandoverRequest(actor: Actor, vehicleId: string, now: number): Result<{ vehicleId: string; status: 'pending' | 'taken'; holder: string; expiresAt: number | null }> {
    if (actor.role !== 'driver') return fail('FORBIDDEN', 'only drivers take buses over');
    const v = this.slots.get(vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${vehicleId}`);
    if (v.holder === null) return fail('NOT_HELD', `${vehicleId} is free: use acquire`);
    if (v.holder === actor.id) return fail('INVALID', `${actor.id} already holds ${vehicleId}`);
    if (isSimId(v.holder)) {
      const r = this.tryAcquire(actor, vehicleId, now);
      return 'error' in r ? r : ok({ vehicleId, status: 'taken', holder: actor.id, expiresAt: null });
    }
    if (v.mode === 'mrm' || v.lease === 'lapsed') return fail('WRONG_MODE', `${vehicleId} is in a minimal risk manoeuvre`);
    if (v.pending && v.pending.to !== actor.id) return fail('HANDOVER_PENDING', `${v.pending.to} already asked for ${vehicleId}`);
    if (this.movable(v) && this.holdsOtherMovable(actor.id, vehicleId)) {
      return fail('HOLDS_OTHER_MOVING_BUS', `${actor.id} already holds a bus that is moving or free to move`);
    }
    const expiresAt = now + this.config.handoverTimeoutMs;
    v.pending = { to: actor.id, requestedAt: now, expiresAt, takerLastHeartbeatAt: now };
    this.audit(now, 'teleop.handover_request', vehicleId, actor.id, { holder: v.holder, expiresAt });
    this.alert(now, v, 'handover_requested', v.holder, { from: actor.id, expiresAt });
    return ok({ vehicleId, status: 'pending', holder: v.holder, expiresAt });
  }

  /**
   * Step 2, by the holder. Responsibility moves in one step from holder to taker; the taker's lease runs from
   * their own last heartbeat, so a frozen taker console lapses exactly as if they had held the bus already.
   */
  handoverConfirm(actor: Actor, vehicleId: string, to: string): Result<{ vehicleId: string; holder: string; epoch: number }> {
    const now = this.sweep(true);
    const r = this.tryHandoverConfirm(actor, vehicleId, to, now);
    if ('error' in r) this.refused(now, 'handover_confirm', vehicleId, actor, r.error.code);
    return r;
  }

  private tryHandoverConfirm(actor: Actor, vehicleId: string, to: string, now: number): Result<{ vehicleId: string; holder: string; epoch: number }> {
    const v = this.slots.get(vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${vehicleId}`);
    if (v.holder !== actor.id) return fail('NOT_HOLDER', `${actor.id} does not hold ${vehicleId}`);
    if (v.lease === 'lapsed') return fail('LEASE_LAPSED', `your lease on ${vehicleId} lapsed`);
    if (v.mode === 'mrm') return fail('WRONG_MODE', `${vehicleId} is in a minimal risk manoeuvre`);
    const p = v.pending;
    if (!p || p.to !== to) return fail('NO_HANDOVER', `no pending handover of ${vehicleId} to ${to}`);
    if (now - p.takerLastHeartbeatAt >= this.config.leaseTimeoutMs) return fail('TAKER_NOT_READY', `${to}'s console sent no heartbeat for ${vehicleId}`);
    if (v.mode === 'remote') {
      if (this.movable(v) && this.holdsOtherMovable(to, vehicleId)) return fail('HOLDS_OTHER_MOVING_BUS', `${to} already holds a bus that is moving or free to move`);
      const lat = this.checkLatency(v, to, now);
      if (lat) return lat;
    }
    const from = v.holder;
    v.pending = null;
    this.setHolder(v, to, now, p.takerLastHeartbeatAt);
    this.audit(now, 'teleop.handover', vehicleId, actor.id, { from, to, epoch: v.epoch, mode: v.mode });
    this.relay(v, now);
    return ok({ vehicleId, holder: to, epoch: v.epoch });
  }

  /** Withdraw (by the taker) or decline (by the holder) a pending handover. */
  handoverCancel(actor: Actor, vehicleId: string): Result<{ vehicleId: string }> {
    const now = this.sweep(true);
    const v = this.slots.get(vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${vehicleId}`);
    if (!v.pending) return fail('NO_HANDOVER', `no pending handover of ${vehicleId}`);
    if (actor.id !== v.pending.to && actor.id !== v.holder) return fail('NOT_HOLDER', `${actor.id} is neither holder nor taker of ${vehicleId}`);
    this.cancelPending(v, now, actor.id, actor.id === v.holder ? 'declined' : 'withdrawn');
    return ok({ vehicleId });
  }

  /**
   * Leave safe_stop (or emergency_stop) for remote. The actor must hold the bus (acquire it first); the bus must
   * be connected, stationary, have reported its stop, and the latency must be within the hard limit. The bus
   * comes back held: it drives only after `resume`.
   */
  confirmAfterSafeStop(actor: Actor, vehicleId: string): Result<{ vehicleId: string; mode: 'remote' }> {
    const now = this.sweep(true);
    const r = this.tryConfirm(actor, vehicleId, now);
    if ('error' in r) this.refused(now, 'confirm', vehicleId, actor, r.error.code);
    return r;
  }

  private tryConfirm(actor: Actor, vehicleId: string, now: number): Result<{ vehicleId: string; mode: 'remote' }> {
    const v = this.slots.get(vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${vehicleId}`);
    if (v.mode !== 'safe_stop' && v.mode !== 'emergency_stop') return fail('WRONG_MODE', `${vehicleId} is in ${v.mode}, not stopped`);
    if (v.holder !== actor.id) return fail('NOT_HOLDER', `${actor.id} does not hold ${vehicleId}: acquire it first`);
    if (v.lease === 'lapsed') return fail('LEASE_LAPSED', `your lease on ${vehicleId} lapsed`);
    if (!v.linkUp || v.lastReportAt === null) return fail('OFFLINE', `${vehicleId} is not connected`);
    if (v.speed > 0) return fail('BUS_MOVING', `${vehicleId} is still moving`);
    if (v.vehicleMode !== null && v.vehicleMode !== 'safe_stop' && v.vehicleMode !== 'emergency_stop') {
      return fail('WRONG_MODE', `${vehicleId} has not reported its stop yet`);
    }
    const lat = this.checkLatency(v, actor.id, now);
    if (lat) return lat;
    const from = v.mode;
    v.held = true;
    v.zeroSinceHeld = true;
    v.mrm = null;
    const stamp = this.stamp(v, now);
    v.remoteStamp = stamp;
    this.audit(now, 'teleop.confirm', vehicleId, actor.id, { from, epoch: v.epoch });
    this.setMode(v, 'remote', 'confirm', actor.id, now);
    this.directive(v, { type: 'clear_stop', holder: actor.id, epoch: v.epoch, stamp });
    this.updateSpeedCap(v, now, true);
    return ok({ vehicleId, mode: 'remote' });
  }

  // ------------------------------------------------------------------ commands

  /**
   * A console command. On success the server forwards `data.forward` to the vehicle (teleop:command with an
   * ack) and reports the vehicle's verdict back through `commandResult`, whose return value is the console's ack.
   * Checked here: holder (emergency_stop: any staff), mode, strictly increasing seq per lease, age ≤
   * commandMaxAgeMs. The vehicle checks age and order again on arrival (vehicleSafety.ts).
   * Emergency stops skip seq and age checks: stopping late is still better than not stopping.
   */
  command(actor: Actor, cmd: CommandRequest): Result<{ forward: VehicleCommand }> {
    const now = this.sweep(true);
    const r = cmd.type === 'emergency_stop' ? this.tryEmergencyStop(actor, cmd, now) : this.tryCommand(actor, cmd, now);
    if ('error' in r) {
      this.audit(now, 'teleop.command', cmd.vehicleId, actor.id, { seq: cmd.seq, type: cmd.type, value: cmd.value, issuedAt: cmd.issuedAt, status: 'refused', code: r.error.code });
    }
    return r;
  }

  /** Emergency stop by any staff member (convenience for `command({type:'emergency_stop'})`). */
  emergencyStop(actor: Actor, vehicleId: string, issuedAt?: number): Result<{ forward: VehicleCommand }> {
    return this.command(actor, { vehicleId, seq: 0, type: 'emergency_stop', issuedAt: issuedAt ?? this.clock.now() });
  }

  private tryCommand(actor: Actor, cmd: CommandRequest, now: number): Result<{ forward: VehicleCommand }> {
    const v = this.slots.get(cmd.vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${cmd.vehicleId}`);
    const invalid = validateCommand(cmd);
    if (invalid) return fail('INVALID', invalid);
    if (v.holder !== actor.id) return fail('NOT_HOLDER', `${actor.id} does not hold ${cmd.vehicleId}`);
    if (v.lease === 'lapsed') return fail('LEASE_LAPSED', `your lease on ${cmd.vehicleId} lapsed`);
    if (v.mode === 'offline' || !v.linkUp) return fail('OFFLINE', `${cmd.vehicleId} is not connected`);
    if (v.mode === 'mrm') return fail('WRONG_MODE', `${cmd.vehicleId} is in a minimal risk manoeuvre`);
    if (v.mode !== 'remote' && cmd.type === 'resume') return fail('WRONG_MODE', `${cmd.vehicleId} is in ${v.mode}: confirm first`);
    if (cmd.seq <= v.lastSeq) return fail('OUT_OF_ORDER', `seq ${cmd.seq} ≤ last ${v.lastSeq}`);
    if (cmd.issuedAt > now + this.config.maxClockSkewMs) return fail('CLOCK_SKEW', `issuedAt lies ${cmd.issuedAt - now} ms in the future`);
    if (now - cmd.issuedAt > this.config.commandMaxAgeMs) return fail('STALE', `command is ${now - cmd.issuedAt} ms old`);
    if (cmd.type === 'doors_open' && v.speed > 0) return fail('BUS_MOVING', 'doors open only at standstill');
    if (cmd.type === 'resume' && this.holdsOtherMovable(actor.id, v.id)) return fail('HOLDS_OTHER_MOVING_BUS', `${actor.id} already drives another bus`);
    v.lastSeq = cmd.seq;
    if (cmd.type === 'resume') {
      // pessimistic: from the moment a resume is on its way the bus may move
      v.held = false;
      v.zeroSinceHeld = false;
    }
    const forward: VehicleCommand = { ...cmd, by: actor.id, epoch: v.epoch };
    this.audit(now, 'teleop.command', v.id, actor.id, { seq: cmd.seq, type: cmd.type, value: cmd.value, issuedAt: cmd.issuedAt, epoch: v.epoch, status: 'forwarded' });
    return ok({ forward });
  }

  private tryEmergencyStop(actor: Actor, cmd: CommandRequest, now: number): Result<{ forward: VehicleCommand }> {
    const v = this.slots.get(cmd.vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${cmd.vehicleId}`);
    if (!(STAFF.has(actor.role) || (actor.role === 'sim' && actor.id === simDriverId(v.id)))) return fail('FORBIDDEN', 'emergency stop is for staff');
    if (v.mode === 'offline' || !v.linkUp) return fail('OFFLINE', `${cmd.vehicleId} is not connected (its dead-man brakes it already)`);
    const forward: VehicleCommand = { vehicleId: v.id, seq: cmd.seq, type: 'emergency_stop', issuedAt: cmd.issuedAt, by: actor.id, epoch: v.epoch };
    this.audit(now, 'teleop.command', v.id, actor.id, { seq: cmd.seq, type: 'emergency_stop', issuedAt: cmd.issuedAt, epoch: v.epoch, status: 'forwarded' });
    if (v.mode !== 'emergency_stop') {
      this.cancelPending(v, now, actor.id, 'emergency_stop');
      this.setMode(v, 'emergency_stop', 'emergency_stop', actor.id, now);
      this.alertAll(now, v, 'emergency_stop', { by: actor.id });
    }
    return ok({ forward });
  }

  /** The vehicle's verdict on a forwarded command; returns it as the console's ack. */
  commandResult(cmd: VehicleCommand, result: Result<{ accepted: true }>): Result<{ accepted: true }> {
    const now = this.sweep(true);
    const v = this.slots.get(cmd.vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${cmd.vehicleId}`);
    const accepted = 'data' in result;
    this.audit(now, 'teleop.command_result', v.id, `vehicle:${v.id}`, {
      seq: cmd.seq,
      type: cmd.type,
      by: cmd.by,
      epoch: cmd.epoch,
      accepted,
      ...(accepted ? {} : { code: result.error.code }),
    });
    if (accepted && cmd.epoch === v.epoch) {
      if (cmd.type === 'stop') {
        v.held = true;
        v.zeroSinceHeld = false; // secured only once a report after this ack shows standstill
      } else if (cmd.type === 'speed_cap' && cmd.value !== undefined) v.driverCap = cmd.value;
    }
    return result;
  }

  // ------------------------------------------------------------------ vehicle side inputs

  /** Socket connect (up) / disconnect (down) of the vehicle. */
  vehicleLink(vehicleId: string, up: boolean): Result<{ mode: VehicleMode }> {
    const now = this.sweep(true);
    const v = this.slots.get(vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${vehicleId}`);
    if (up && !v.linkUp) this.linkRestored(v, now);
    else if (up) v.lastReportAt = now;
    else if (!up && v.linkUp) this.linkLost(v, now, 'disconnect');
    return ok({ mode: v.mode });
  }

  /**
   * A `vehicle:state` report. Speed 0 with the vehicle in mrm/safe_stop ends an MRM (→ safe_stop). A more
   * restrictive mode the vehicle reports (its own dead-man MRM, a local emergency stop) is adopted — but only
   * from reports that already reflect the directive that last put it into remote (`stamp`), so a report that
   * crossed an acquire/confirm on the wire cannot undo it.
   */
  vehicleReport(vehicleId: string, report: VehicleReport): Result<{ mode: VehicleMode }> {
    const now = this.sweep();
    const v = this.slots.get(vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${vehicleId}`);
    if (!Number.isFinite(report.speed) || report.speed < 0) return fail('INVALID', 'speed must be ≥ 0');
    const { linkUp, mode, holder, lease } = v;
    this.report(v, report, now);
    // a restored link or a new mode, holder or lease brings checks the last full sweep did not see
    if (!linkUp || v.mode !== mode || v.holder !== holder || v.lease !== lease) this.resweep();
    return ok({ mode: v.mode });
  }

  private report(v: Slot, report: VehicleReport, now: number): void {
    if (!v.linkUp) this.linkRestored(v, now);
    v.lastReportAt = now;
    v.speed = report.speed;
    // does the report reflect the directive that last put the bus into remote? Without a stamp only an MRM report
    // is unambiguous (a stale report can say standby/safe_stop/emergency_stop, never mrm while the server is in remote)
    const fresh = report.stamp === undefined || report.stamp >= v.remoteStamp;
    const current = report.stamp === undefined ? report.mode === 'mrm' : fresh;
    v.vehicleMode = report.mode ?? null;
    if (v.speed > 0) v.zeroSinceHeld = false;
    else if (v.held) v.zeroSinceHeld = true;
    const actor = `vehicle:${v.id}`;
    const vm = report.mode;
    if (v.mode === 'remote' && vm && vm !== 'remote' && current) {
      if (vm === 'emergency_stop') {
        this.setMode(v, 'emergency_stop', 'vehicle_emergency_stop', actor, now);
        this.alertAll(now, v, 'emergency_stop', { by: actor });
      } else this.enterMrm(v, now, 'vehicle_initiated', actor);
    }
    if (v.mode === 'mrm' && vm === 'emergency_stop' && fresh) this.setMode(v, 'emergency_stop', 'vehicle_emergency_stop', actor, now);
    if (v.mode === 'mrm' && v.speed === 0 && fresh && (vm === undefined || vm === 'mrm' || vm === 'safe_stop')) this.enterSafeStop(v, now);
    if ((v.mode === 'standby' || v.mode === 'safe_stop') && v.speed > 0) {
      this.alertAll(now, v, 'unexpected_motion', { speed: v.speed, mode: v.mode });
      this.enterMrm(v, now, 'unexpected_motion', actor);
    }
    if (v.mode === 'emergency_stop' && v.speed === 0 && v.holder !== null && v.lease === 'lapsed') this.endLease(v, now, 'system', 'lapsed');
  }

  /** Vehicle link round trip (server ping → vehicle pong). */
  vehicleRtt(vehicleId: string, rttMs: number): Result<{ latencyMs: number | null }> {
    const now = this.now();
    const v = this.slots.get(vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${vehicleId}`);
    if (!Number.isFinite(rttMs) || rttMs < 0) return fail('INVALID', 'rtt must be ≥ 0');
    v.vehicleRtt.add(now, rttMs);
    // a sample over the hard limit acts at once; only this bus's latency changed (its staleness moved later)
    this.sweep();
    this.rttChanged(v, now);
    return ok({ latencyMs: this.latencyMs(vehicleId) });
  }

  /** Console link round trip of a driver (server ping → console pong). */
  consoleRtt(driverId: string, rttMs: number): Result<{ rttMs: number }> {
    const now = this.now();
    if (!Number.isFinite(rttMs) || rttMs < 0) return fail('INVALID', 'rtt must be ≥ 0');
    let w = this.consoleRtts.get(driverId);
    if (!w) this.consoleRtts.set(driverId, (w = new RttWindow()));
    w.add(now, rttMs);
    this.sweep();
    for (const v of this.slots.values()) if (v.holder === driverId) this.rttChanged(v, now);
    return ok({ rttMs });
  }

  // ------------------------------------------------------------------ passenger call

  /** A passenger pressed the call button. Goes to the human holder with a live lease, else to the dispatcher. */
  passengerCall(vehicleId: string): Result<{ owner: string }> {
    const now = this.sweep(true);
    const v = this.slots.get(vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${vehicleId}`);
    if (v.call) return ok({ owner: v.call.owner }); // pressed again: still the same open call
    const owner = this.callOwner(v);
    v.call = { raisedAt: now, escalated: owner === 'dispatcher', owner };
    this.audit(now, 'teleop.passenger_call', v.id, `vehicle:${v.id}`, { owner });
    this.alert(now, v, 'passenger_call', owner, {});
    return ok({ owner });
  }

  /**
   * The holder acknowledges; the dispatcher (or admin) may when no human holds the bus with a live lease, or
   * once the call escalated (unanswered for passengerCallEscalateMs).
   */
  acknowledgeCall(actor: Actor, vehicleId: string): Result<{ vehicleId: string; afterMs: number }> {
    const now = this.sweep(true);
    const v = this.slots.get(vehicleId);
    if (!v) return fail('NO_SUCH_VEHICLE', `no vehicle ${vehicleId}`);
    if (!v.call) return fail('NO_CALL', `no open passenger call on ${vehicleId}`);
    const desk = actor.role === 'dispatcher' || actor.role === 'admin';
    if (!(actor.id === v.call.owner || (desk && (v.call.escalated || v.call.owner === 'dispatcher')))) {
      return fail('NOT_HOLDER', `the call on ${vehicleId} is for ${v.call.owner}`);
    }
    const afterMs = now - v.call.raisedAt;
    this.audit(now, 'teleop.passenger_call_ack', v.id, actor.id, { afterMs, escalated: v.call.escalated });
    v.call = null;
    return ok({ vehicleId, afterMs });
  }

  // ------------------------------------------------------------------ time

  /**
   * Advance to the clock's now: expire handovers, detect vehicle silence, lease lapses and latency over the
   * limit (→ MRM), escalate passenger calls, relay simulated drivers' heartbeats, update speed caps.
   */
  tick(): void {
    const now = this.sweep();
    for (const v of this.slots.values()) {
      // a simulated driver takes its free bus as soon as it may (connected, latency measured)
      if (v.simulatedDriver && v.holder === null && v.mode === 'standby' && v.linkUp) {
        this.tryAcquire(simActor(v.id), v.id, now);
        this.resweep();
      }
      if (v.holder && isSimId(v.holder) && v.mode !== 'mrm' && now >= this.simRelayDueAt(v)) {
        // the simulated driver lives in this process: while the server runs, it is alive
        v.lastHeartbeatAt = now;
        this.relay(v, now);
      }
      if (v.mode === 'remote') this.updateSpeedCap(v, now, false);
    }
  }

  /** Earliest time at which `tick()` has something to do (for a precise timer); null when nothing is due. */
  nextDeadline(): number | null {
    let d = Infinity;
    const c = this.config;
    for (const v of this.slots.values()) {
      d = Math.min(d, this.checkDeadline(v));
      // same condition as the relay in tick(): a simulated driver's lease is not relayed during an MRM (a deadline
      // that tick() does not clear would make a timer driven by nextDeadline() spin)
      if (v.holder && isSimId(v.holder) && v.mode !== 'mrm') d = Math.min(d, this.simRelayDueAt(v));
      if (v.mode === 'remote') {
        const s = v.vehicleRtt.staleAt(c.rttMaxAgeMs);
        if (s !== null) d = Math.min(d, s);
      }
    }
    return Number.isFinite(d) ? d : null;
  }

  /** Everything emitted since the last drain, in order. */
  drain(): TeleopOutput[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  // ------------------------------------------------------------------ views

  view(vehicleId: string): TeleopVehicleView | null {
    const v = this.slots.get(vehicleId);
    if (!v) return null;
    const lat = this.latencyMs(vehicleId);
    return {
      vehicleId: v.id,
      mode: v.mode,
      holder: v.holder,
      leaseState: v.holder ? v.lease : null,
      epoch: v.epoch,
      lastHeartbeatAt: v.holder && Number.isFinite(v.lastHeartbeatAt) ? v.lastHeartbeatAt : null,
      pendingHandover: v.pending ? { to: v.pending.to, expiresAt: v.pending.expiresAt } : null,
      linkUp: v.linkUp,
      speed: v.speed,
      held: v.held,
      secured: this.secured(v),
      latencyMs: lat,
      permittedSpeed: this.permittedSpeed(vehicleId),
      passengerCall: v.call ? { ...v.call } : null,
      mrm: v.mrm ? { ...v.mrm } : null,
    };
  }

  views(): TeleopVehicleView[] {
    return [...this.slots.keys()].map((id) => this.view(id) as TeleopVehicleView);
  }

  /** Control latency (ms) of the bus with its current holder; null when unknown or nobody holds it. */
  latencyMs(vehicleId: string): number | null {
    const v = this.slots.get(vehicleId);
    if (!v || !v.holder) return null;
    const l = this.controlLatency(v, v.holder, this.now());
    return Number.isFinite(l) ? l : null;
  }

  /**
   * Speed the dispatcher should plan with (m/s): in remote, min(latency-permitted speed, the driver's cap);
   * standby: what the vehicle link alone permits (no console known yet); mrm/safe_stop/emergency_stop/offline: 0
   * (the bus does not move until a driver confirms).
   */
  permittedSpeed(vehicleId: string): number {
    const v = this.slots.get(vehicleId);
    if (!v) return 0;
    const now = this.now();
    if (v.mode === 'remote' && v.holder) return Math.min(permittedSpeedFor(this.controlLatency(v, v.holder, now), v.vmax, this.config), v.driverCap);
    if (v.mode === 'standby') return permittedSpeedFor(this.controlLatency(v, null, now), v.vmax, this.config);
    return 0;
  }

  // ------------------------------------------------------------------ internals

  private now(): number {
    // the core's notion of time never goes backwards, even if a wall clock is adjusted
    const t = this.clock.now();
    if (t > this.lastNow) this.lastNow = t;
    return this.lastNow;
  }

  /**
   * The time-driven safety checks; every event runs them first, so a late heartbeat cannot revive a lapsed lease.
   * `mutates`: the caller changes slots after the sweep (a new lease, pending handover, call, link, mode…), so the
   * next event must look at every bus again.
   *
   * Events come by the thousand a second (reports, pongs), and most find nothing due: the full pass over every
   * bus is skipped while `now` lies before the earliest moment any check could fire, as the last full pass found
   * it (`sweepDueAt`: checks that fire at their deadline; `sweepDueAfter`: RTT staleness, which fires after it).
   * Between passes deadlines only move later (reports, heartbeats, RTT samples); anything else clears the skip.
   */
  private sweep(mutates = false): number {
    const now = this.now();
    if (now < this.sweepDueAt && now <= this.sweepDueAfter) {
      if (mutates) this.resweep();
      return now;
    }
    let at = Infinity;
    let after = Infinity;
    const c = this.config;
    for (const v of this.slots.values()) {
      this.checkSlot(v, now);
      at = Math.min(at, this.checkDeadline(v));
      if (v.mode === 'remote' && v.holder) {
        // without new samples the latency only falls (samples leave the window) until a link's newest sample goes stale
        after = Math.min(after, v.vehicleRtt.staleAt(c.rttMaxAgeMs) ?? -Infinity);
        if (!isSimId(v.holder)) after = Math.min(after, this.consoleRtts.get(v.holder)?.staleAt(c.rttMaxAgeMs) ?? -Infinity);
      }
    }
    if (mutates) at = after = -Infinity;
    this.sweepDueAt = at;
    this.sweepDueAfter = after;
    return now;
  }
  private sweepDueAt = -Infinity;
  private sweepDueAfter = -Infinity;

  /** Clears the sweep's skip-ahead: the next event looks at every bus. */
  private resweep(): void {
    this.sweepDueAt = this.sweepDueAfter = -Infinity;
  }

  /** Earliest time one of checkSlot's deadline checks (handover, silence, lapse, call) fires for this bus. */
  private checkDeadline(v: Slot): number {
    const c = this.config;
    let at = Infinity;
    if (v.pending) at = Math.min(at, v.pending.expiresAt);
    if (v.linkUp && v.lastReportAt !== null) at = Math.min(at, v.lastReportAt + c.vehicleSilenceMs);
    if (v.holder && !isSimId(v.holder) && v.lease === 'active') at = Math.min(at, v.lastHeartbeatAt + c.leaseTimeoutMs);
    if (v.call && !v.call.escalated) at = Math.min(at, v.call.raisedAt + c.passengerCallEscalateMs);
    return at;
  }

  /** The time-driven checks of one bus. */
  private checkSlot(v: Slot, now: number): void {
    const c = this.config;
    if (v.pending && now >= v.pending.expiresAt) {
      this.audit(now, 'teleop.handover_expired', v.id, 'system', { to: v.pending.to });
      v.pending = null;
    }
    if (v.linkUp && v.lastReportAt !== null && now - v.lastReportAt >= c.vehicleSilenceMs) this.linkLost(v, now, 'silence');
    if (v.holder && !isSimId(v.holder) && v.lease === 'active' && now - v.lastHeartbeatAt >= c.leaseTimeoutMs) this.lapse(v, now);
    if (v.mode === 'remote' && v.holder) this.latencyWatch(v, v.holder, now);
    if (v.call && !v.call.escalated && now - v.call.raisedAt >= c.passengerCallEscalateMs) {
      v.call.escalated = true;
      this.alert(now, v, 'passenger_call_escalated', 'dispatcher', { owner: v.call.owner });
    }
  }

  /** A new RTT sample for a bus's links: its latency check now (the sweep may have skipped it). */
  private rttChanged(v: Slot, now: number): void {
    if (v.mode !== 'remote' || !v.holder) return;
    this.latencyWatch(v, v.holder, now);
    if (v.mode !== 'remote') this.resweep();
  }

  /** Over the hard limit (or unknown): minimal risk manoeuvre. */
  private latencyWatch(v: Slot, holder: string, now: number): void {
    const l = this.controlLatency(v, holder, now);
    if (l > this.config.latencyHardLimitMs) {
      const reason: MrmReason = Number.isFinite(l) ? 'latency_over_limit' : 'latency_unknown';
      this.alertAll(now, v, 'latency_over_limit', { latencyMs: Number.isFinite(l) ? l : null });
      this.enterMrm(v, now, reason, 'system');
    }
  }

  private lapse(v: Slot, now: number): void {
    const sinceMs = now - v.lastHeartbeatAt;
    this.audit(now, 'teleop.lapse', v.id, 'system', { holder: v.holder, lastHeartbeatAt: v.lastHeartbeatAt, sinceMs, mode: v.mode });
    // the holder's console is silent by definition: the desk must know
    this.alert(now, v, 'lease_lapsed', 'dispatcher', { holder: v.holder, sinceMs });
    v.lease = 'lapsed';
    this.cancelPending(v, now, 'system', 'lapsed');
    this.rerouteCall(v, now);
    if (v.mode === 'remote') this.enterMrm(v, now, 'lease_lapsed', 'system');
    else if (v.speed === 0 && (v.mode === 'safe_stop' || v.mode === 'emergency_stop')) this.endLease(v, now, 'system', 'lapsed');
    // mrm / a braking emergency stop: the lapsed holder stays responsible until the bus stands
  }

  private linkLost(v: Slot, now: number, cause: 'disconnect' | 'silence'): void {
    v.linkUp = false;
    this.audit(now, 'teleop.link', v.id, 'system', { up: false, cause, lastReportAt: v.lastReportAt });
    this.alertAll(now, v, 'vehicle_link_lost', { cause });
    if (v.mode === 'remote') this.enterMrm(v, now, 'vehicle_link_lost', 'system');
    else if (v.mode === 'standby') this.setMode(v, 'offline', 'vehicle_link_lost', 'system', now);
  }

  private linkRestored(v: Slot, now: number): void {
    v.linkUp = true;
    v.lastReportAt = now;
    this.audit(now, 'teleop.link', v.id, 'system', { up: true });
    if (v.mode === 'offline') this.setMode(v, 'standby', 'vehicle_connected', 'system', now);
    else this.alertAll(now, v, 'vehicle_link_restored', {});
  }

  private enterMrm(v: Slot, now: number, reason: MrmReason, actor: string): void {
    const sinceHeartbeatMs = v.holder && Number.isFinite(v.lastHeartbeatAt) ? now - v.lastHeartbeatAt : null;
    const lat = v.holder ? this.controlLatency(v, v.holder, now) : Infinity;
    this.setMode(v, 'mrm', reason, actor, now);
    v.mrm = { startedAt: now, reason };
    this.cancelPending(v, now, 'system', 'mrm');
    this.audit(now, 'teleop.mrm', v.id, actor, {
      reason,
      holder: v.holder,
      lastHeartbeatAt: Number.isFinite(v.lastHeartbeatAt) ? v.lastHeartbeatAt : null,
      sinceHeartbeatMs,
      lastReportAt: v.lastReportAt,
      latencyMs: Number.isFinite(lat) ? lat : null,
      speed: v.speed,
    });
    this.directive(v, { type: 'mrm', reason, stamp: this.stamp(v, now) });
    this.alertAll(now, v, 'mrm', { reason });
  }

  private enterSafeStop(v: Slot, now: number): void {
    this.setMode(v, 'safe_stop', 'stationary', `vehicle:${v.id}`, now);
    this.alertAll(now, v, 'safe_stop', { mrmReason: v.mrm?.reason ?? null, mrmMs: v.mrm ? now - v.mrm.startedAt : null });
    if (v.holder && v.lease === 'lapsed') this.endLease(v, now, 'system', 'lapsed');
  }

  private setMode(v: Slot, to: VehicleMode, reason: string, actor: string, now: number): void {
    if (v.mode === to) return;
    if (!TRANSITIONS[v.mode].includes(to)) throw new Error(`teleop: transition ${v.mode} → ${to} is not allowed (${reason})`);
    this.audit(now, 'teleop.mode', v.id, actor, { from: v.mode, to, reason });
    v.mode = to;
    if (to !== 'remote') v.latencyHigh = false;
  }

  private setHolder(v: Slot, holder: string, now: number, heartbeatAt: number): void {
    v.holder = holder;
    v.lease = 'active';
    v.epoch = this.stamp(v, now);
    v.lastHeartbeatAt = heartbeatAt;
    v.lastHeartbeatSentAt = null;
    v.lastSeq = 0;
    v.pending = null;
    v.driverCap = Infinity;
    this.rerouteCall(v, now);
  }

  private endLease(v: Slot, now: number, actor: string, reason: string): void {
    const holder = v.holder;
    if (holder === null) return;
    const epoch = v.epoch;
    v.holder = null;
    v.lease = 'active';
    v.pending = null;
    v.driverCap = Infinity;
    this.audit(now, 'teleop.lease_end', v.id, actor, { holder, epoch, reason });
    this.directive(v, { type: 'lease_end', epoch, stamp: this.stamp(v, now) });
    this.rerouteCall(v, now);
  }

  private renew(v: Slot, now: number, sentAt: number | null): void {
    v.lastHeartbeatAt = now;
    if (sentAt !== null) v.lastHeartbeatSentAt = sentAt;
    this.relay(v, now);
  }

  /**
   * A simulated driver's next relay: the first time after its last one that lies on its phase of the interval
   * (phase + k·interval). Never more than simRelayIntervalMs after the last relay, so the bus's dead-man sees the
   * same rate as before; a relay that went out late (a busy loop) is followed by an earlier one, not a later one.
   */
  private simRelayDueAt(v: Slot): number {
    const i = this.config.simRelayIntervalMs;
    return Math.floor((v.lastRelayAt - v.relayPhase) / i) * i + v.relayPhase + i;
  }

  /** Relay the lease to the vehicle (its dead-man input). Not during an MRM: that lease does not drive. */
  private relay(v: Slot, now: number): void {
    if (!v.holder || v.lease !== 'active' || v.mode === 'mrm') return;
    v.lastRelayAt = now;
    const speedCap = this.latencyCap(v, now);
    v.sentCap = speedCap;
    this.directive(v, { type: 'lease', holder: v.holder, epoch: v.epoch, stamp: this.stamp(v, now), speedCap });
  }

  private cancelPending(v: Slot, now: number, actor: string, reason: string): void {
    if (!v.pending) return;
    this.audit(now, 'teleop.handover_cancel', v.id, actor, { to: v.pending.to, reason });
    v.pending = null;
  }

  private updateSpeedCap(v: Slot, now: number, force: boolean): void {
    if (v.mode !== 'remote' || !v.holder) return;
    const lat = this.controlLatency(v, v.holder, now);
    const cap = this.latencyCap(v, now);
    const top = Math.floor(v.vmax * 10) / 10;
    // decreases go out at once (safety); increases in steps, or when the full speed is back (fewer messages)
    const send = force || v.sentCap === null || cap < v.sentCap || cap >= v.sentCap + this.config.speedCapStepMps || (cap === top && v.sentCap !== top);
    if (send) {
      v.sentCap = cap;
      this.directive(v, { type: 'speed_cap', value: cap, stamp: this.stamp(v, now) });
    }
    const high = lat > this.config.latencyBudgetMs;
    if (high && !v.latencyHigh) {
      this.alertAll(now, v, 'latency_high', { latencyMs: Number.isFinite(lat) ? lat : null, permittedSpeed: cap });
    }
    v.latencyHigh = high;
  }

  /** The latency speed cap sent to the bus, rounded down to 0.1 m/s: never above the formula. */
  private latencyCap(v: Slot, now: number): number {
    return Math.floor(permittedSpeedFor(this.controlLatency(v, v.holder, now), v.vmax, this.config) * 10) / 10;
  }

  private controlLatency(v: Slot, holder: string | null, now: number): number {
    const c = this.config;
    const veh = v.vehicleRtt.estimate(now, c.rttWindowMs, c.rttMaxAgeMs);
    // a simulated driver sits in this process (console RTT 0); the video delay still counts, so simulated
    // runs see the same speed reductions as staffed ones
    const con = holder === null || isSimId(holder) ? 0 : (this.consoleRtts.get(holder)?.estimate(now, c.rttWindowMs, c.rttMaxAgeMs) ?? Infinity);
    return veh + con + v.videoDelayMs;
  }

  private checkLatency(v: Slot, holder: string, now: number): { error: { code: TeleopErrorCode; message: string } } | null {
    const l = this.controlLatency(v, holder, now);
    if (!Number.isFinite(l)) return fail('LATENCY_UNKNOWN', `no fresh RTT sample for ${v.id} or ${holder}'s console: ping first`);
    if (l > this.config.latencyHardLimitMs) return fail('LATENCY_TOO_HIGH', `control latency ${Math.round(l)} ms > ${this.config.latencyHardLimitMs} ms`);
    return null;
  }

  private checkDriver(actor: Actor, vehicleId: string): { error: { code: TeleopErrorCode; message: string } } | null {
    if (actor.role === 'sim') return actor.id === simDriverId(vehicleId) ? null : fail('FORBIDDEN', `${actor.id} only drives ${actor.id.slice(4)}`);
    if (actor.role !== 'driver') return fail('FORBIDDEN', 'only drivers hold buses');
    if (isSimId(actor.id)) return fail('INVALID', 'human ids must not start with sim:');
    return null;
  }

  /** Stopped by an acknowledged `stop` (or brought in held) and reported at standstill since. */
  private secured(v: Slot): boolean {
    return v.held && v.zeroSinceHeld && v.speed === 0;
  }

  private movable(v: Slot): boolean {
    return v.mode === 'mrm' || v.speed > 0 || (v.mode === 'remote' && !this.secured(v));
  }

  private holdsOtherMovable(driverId: string, exceptVehicleId: string): boolean {
    if (isSimId(driverId)) return false;
    for (const w of this.slots.values()) if (w.id !== exceptVehicleId && w.holder === driverId && this.movable(w)) return true;
    return false;
  }

  private callOwner(v: Slot): string {
    return v.holder && !isSimId(v.holder) && v.lease === 'active' ? v.holder : 'dispatcher';
  }

  private rerouteCall(v: Slot, now: number): void {
    if (!v.call) return;
    const owner = this.callOwner(v);
    if (owner === v.call.owner) return;
    v.call.owner = owner;
    if (owner === 'dispatcher') v.call.escalated = true;
    this.alert(now, v, 'passenger_call', owner, { rerouted: true });
  }

  /** Safety alerts go to the dispatcher desk and, when a human holds the bus, to their console as well. */
  private alertAll(now: number, v: Slot, type: AlertType, data: Record<string, unknown>): void {
    this.alert(now, v, type, 'dispatcher', data);
    if (v.holder && !isSimId(v.holder)) this.alert(now, v, type, v.holder, data);
  }

  private stamp(v: Slot, now: number): number {
    v.lastStamp = Math.max(now, v.lastStamp + 1);
    return v.lastStamp;
  }

  private directive(v: Slot, directive: VehicleDirective): void {
    this.outbox.push({ kind: 'directive', vehicleId: v.id, directive });
  }

  private audit(t: number, type: string, vehicleId: string, actor: string, data: Record<string, unknown>): void {
    this.outbox.push({ kind: 'audit', record: { t, type, vehicleId, actor, data } });
  }

  /** Every alert is audited as well. */
  private alert(t: number, v: Slot, type: AlertType, to: string, data: Record<string, unknown>): void {
    this.outbox.push({ kind: 'alert', alert: { t, vehicleId: v.id, type, to, data } });
    this.audit(t, 'teleop.alert', v.id, 'system', { alert: type, to, ...data });
  }

  private refused(now: number, op: string, vehicleId: string, actor: Actor, code: TeleopErrorCode): void {
    this.audit(now, 'teleop.refused', vehicleId, actor.id, { op, code });
  }
}

function validateCommand(cmd: CommandRequest): string | null {
  if (!(COMMAND_TYPES as readonly string[]).includes(cmd.type)) return `unknown command type ${String(cmd.type)}`;
  if (!Number.isSafeInteger(cmd.seq) || cmd.seq < 1) return 'seq must be an integer ≥ 1';
  if (!Number.isFinite(cmd.issuedAt)) return 'issuedAt must be epoch ms';
  if (cmd.type === 'speed_cap') {
    if (typeof cmd.value !== 'number' || !Number.isFinite(cmd.value) || cmd.value < 0 || cmd.value > 60) return 'speed_cap needs value in m/s (0–60)';
  } else if (cmd.value !== undefined) return `${cmd.type} takes no value`;
  return null;
}
