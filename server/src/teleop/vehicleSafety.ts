import type { Brake } from './mrmDynamics.ts';
import { fail, ok, type MrmReason, type Result, type VehicleCommand, type VehicleDirective, type VehicleMode } from './types.ts';

/**
 * The vehicle's own safety layer (runs on the bus, used by the simulated vehicle agent): a dead-man on the
 * relayed lease heartbeats and the last check of every command. Pure: the agent passes its own clock's `now`
 * and current speed; nothing here needs the server, so a bus whose server vanished still brakes.
 *
 * - Dead-man: in remote, no valid lease heartbeat (relayed by the server from the holder's console) for
 *   `deadManMs` → MRM. "Valid": its stamp is newer than anything applied before and its epoch is not older than
 *   the current lease (replays and reordered messages are dropped).
 * - Commands: only from the current lease's holder and epoch (emergency stop: anyone the server forwards),
 *   seq strictly increasing per lease, issuedAt at most `commandMaxAgeMs` old on arrival (wall clocks of
 *   vehicle and consoles are GNSS/NTP-synchronised; `maxClockSkewMs` tolerates the rest).
 * - Modes on board: standby (parked, held) → remote on a lease; remote → mrm (dead-man or server directive)
 *   → safe_stop at standstill → remote only on the server's `clear_stop` for the current lease. An emergency
 *   stop brakes at the emergency deceleration and also waits for `clear_stop`.
 * - `held`: the bus stays stationary (comfort braking to 0) until the holder's `resume`; a lease from standby
 *   and a clear_stop both start held.
 */
export type OnboardMode = Exclude<VehicleMode, 'offline'>;

export interface SafetyConfig {
  deadManMs: number;
  commandMaxAgeMs: number;
  maxClockSkewMs: number;
}
export const DEFAULT_SAFETY_CONFIG: SafetyConfig = { deadManMs: 500, commandMaxAgeMs: 500, maxClockSkewMs: 100 };

export interface SafetyOutput {
  mode: OnboardMode;
  brake: Brake;
  /** m/s: what the drive may reach (0 unless driving is permitted) */
  maxSpeed: number;
  /** an MRM started in this call */
  mrmStarted: boolean;
}

export interface MrmRecord {
  at: number;
  reason: MrmReason | `server:${MrmReason}`;
  /** receipt time of the last valid lease heartbeat before it (null: never had one) */
  lastLeaseAt: number | null;
}

export class VehicleSafety {
  readonly config: SafetyConfig;
  private _mode: OnboardMode = 'standby';
  private lease: { holder: string; epoch: number; receivedAt: number } | null = null;
  /** highest directive stamp applied; reported back in vehicle:state so the server can tell fresh reports */
  private applied = 0;
  private lastSeq = 0;
  private held = true;
  private doors: 'open' | 'closed' = 'closed';
  /** no cap known = no driving: every lease heartbeat carries one */
  private serverCap = 0;
  private driverCap = Infinity;
  private mrmLog: MrmRecord[] = [];
  /** receipt time of the last valid lease heartbeat, also after the lease ended (for latency measurement) */
  private lastLeaseReceivedAt: number | null = null;

  constructor(
    readonly vehicleId: string,
    config: Partial<SafetyConfig> = {},
  ) {
    this.config = { ...DEFAULT_SAFETY_CONFIG, ...config };
  }

  get mode(): OnboardMode {
    return this._mode;
  }
  get stamp(): number {
    return this.applied;
  }
  get holder(): string | null {
    return this.lease?.holder ?? null;
  }
  get epoch(): number {
    return this.lease?.epoch ?? 0;
  }
  get lastLeaseAt(): number | null {
    return this.lastLeaseReceivedAt;
  }
  get isHeld(): boolean {
    return this.held;
  }
  get doorState(): 'open' | 'closed' {
    return this.doors;
  }
  /** the lower of the server's latency cap and the driver's cap, m/s */
  get speedLimit(): number {
    return Math.min(this.serverCap, this.driverCap);
  }
  get mrms(): readonly MrmRecord[] {
    return this.mrmLog;
  }

  /** A directive from the server. Returns false when it was dropped (replayed, reordered or not applicable). */
  onDirective(d: VehicleDirective, now: number, speed: number): boolean {
    if (d.type === 'mrm') {
      // fail-safe: an MRM order is never dropped for ordering reasons
      this.applied = Math.max(this.applied, d.stamp);
      if (this._mode === 'remote' || this._mode === 'standby' || (this._mode === 'safe_stop' && speed > 0)) this.startMrm(now, `server:${d.reason}`);
      return true;
    }
    if (d.stamp <= this.applied) return false;
    this.applied = d.stamp;
    switch (d.type) {
      case 'lease': {
        if (this.lease && d.epoch < this.lease.epoch) return false;
        if (!this.lease || d.epoch !== this.lease.epoch) this.lastSeq = 0; // a new lease has its own seq space
        this.lease = { holder: d.holder, epoch: d.epoch, receivedAt: now };
        this.lastLeaseReceivedAt = now;
        this.serverCap = d.speedCap;
        if (this._mode === 'standby') {
          this._mode = 'remote';
          this.held = true;
        }
        return true;
      }
      case 'lease_end': {
        if (!this.lease || d.epoch < this.lease.epoch) return false;
        this.lease = null;
        if (this._mode === 'remote') {
          // the server ends a lease only on a secured bus; if it still moves, stop it the safe way
          if (speed === 0 && this.held) this._mode = 'standby';
          else this.startMrm(now, 'lease_end_moving');
        }
        return true;
      }
      case 'speed_cap':
        this.serverCap = d.value;
        return true;
      case 'clear_stop': {
        const leaseOk = this.lease !== null && this.lease.epoch === d.epoch && this.lease.holder === d.holder && now - this.lease.receivedAt < this.config.deadManMs;
        if ((this._mode === 'safe_stop' || this._mode === 'emergency_stop') && speed === 0 && leaseOk) {
          this._mode = 'remote';
          this.held = true;
          return true;
        }
        return false;
      }
    }
  }

  /** A forwarded command; the result is the ack the server passes on to the console. */
  onCommand(cmd: VehicleCommand, now: number, speed: number): Result<{ accepted: true }> {
    if (cmd.vehicleId !== this.vehicleId) return fail('INVALID', 'command for another vehicle');
    if (cmd.type === 'emergency_stop') {
      // any staff member, any age, any order: stopping is always allowed
      this._mode = 'emergency_stop';
      this.held = true;
      return ok({ accepted: true });
    }
    const lease = this.lease;
    if (!lease || now - lease.receivedAt >= this.config.deadManMs) return fail('NOT_HOLDER', 'no valid lease on board');
    if (cmd.epoch !== lease.epoch || cmd.by !== lease.holder) return fail('NOT_HOLDER', `${cmd.by} does not hold the current lease`);
    if (cmd.seq <= this.lastSeq) return fail('OUT_OF_ORDER', `seq ${cmd.seq} ≤ last ${this.lastSeq}`);
    if (cmd.issuedAt > now + this.config.maxClockSkewMs) return fail('CLOCK_SKEW', `issuedAt ${cmd.issuedAt - now} ms in the future`);
    if (now - cmd.issuedAt > this.config.commandMaxAgeMs) return fail('STALE', `command ${now - cmd.issuedAt} ms old on arrival`);
    if (this._mode === 'mrm') return fail('WRONG_MODE', 'minimal risk manoeuvre in progress');
    if (this._mode !== 'remote' && cmd.type === 'resume') return fail('WRONG_MODE', `in ${this._mode}: needs the server's clear_stop`);
    if (cmd.type === 'doors_open' && speed > 0) return fail('BUS_MOVING', 'doors open only at standstill');
    if (cmd.type === 'resume' && this.doors === 'open') return fail('DOORS_OPEN', 'close the doors first');
    if (cmd.type === 'speed_cap' && (cmd.value === undefined || !(cmd.value >= 0))) return fail('INVALID', 'speed_cap needs value');
    this.lastSeq = cmd.seq;
    switch (cmd.type) {
      case 'stop':
        this.held = true;
        break;
      case 'resume':
        this.held = false;
        break;
      case 'speed_cap':
        this.driverCap = cmd.value as number;
        break;
      case 'doors_open':
        this.doors = 'open';
        break;
      case 'doors_close':
        this.doors = 'closed';
        break;
    }
    return ok({ accepted: true });
  }

  /** Dead-man and mode progress at `now`; tells the drive how to brake and how fast it may go. */
  tick(now: number, speed: number): SafetyOutput {
    let mrmStarted = false;
    if (this._mode === 'remote' && !this.leaseValid(now)) {
      this.startMrm(now, 'dead_man');
      mrmStarted = true;
    }
    if (this._mode === 'mrm' && speed === 0) this._mode = 'safe_stop';
    const brake: Brake =
      this._mode === 'mrm' ? 'mrm' : this._mode === 'emergency_stop' ? 'emergency' : this._mode === 'remote' && !this.held && this.doors === 'closed' ? 'none' : 'hold';
    return { mode: this._mode, brake, maxSpeed: brake === 'none' ? Math.min(this.serverCap, this.driverCap) : 0, mrmStarted };
  }

  /** When the dead-man fires unless a heartbeat arrives (for a precise timer); null when it is not armed. */
  nextDeadline(): number | null {
    return this._mode === 'remote' && this.lease ? this.lease.receivedAt + this.config.deadManMs : null;
  }

  /** The drive may accelerate only now. */
  mayDrive(now: number): boolean {
    return this._mode === 'remote' && this.leaseValid(now) && !this.held && this.doors === 'closed';
  }

  private leaseValid(now: number): boolean {
    return this.lease !== null && now - this.lease.receivedAt < this.config.deadManMs;
  }

  private startMrm(now: number, reason: MrmRecord['reason']): void {
    this._mode = 'mrm';
    this.mrmLog.push({ at: now, reason, lastLeaseAt: this.lastLeaseReceivedAt });
  }
}
