import type { VehicleMode } from '../protocol/schemas.ts';

/**
 * Shared vocabulary of the teleoperation safety core: results, actors, configuration, the vehicle
 * directives the core emits and the audit/alert records it writes. Pure types, no behaviour.
 */
export type { VehicleMode };

// ---- results: the same shape as a socket ack (`Ack<T>` in protocol/events.ts), so the socket layer passes them through

export type TeleopErrorCode =
  | 'NO_SUCH_VEHICLE' // unknown vehicle id
  | 'INVALID' // malformed arguments (the zod schemas in protocol.ts catch most at the edge)
  | 'FORBIDDEN' // the actor's role may not do this (e.g. a dispatcher acquiring a bus)
  | 'OFFLINE' // the vehicle is not reachable (never connected, link lost, no fresh report)
  | 'NOT_FREE' // someone else (a human) holds the bus
  | 'NOT_HOLDER' // the actor does not hold the bus (or, at the vehicle, the command's lease is not the current one)
  | 'NOT_HELD' // handover requested on a free bus: use acquire
  | 'LEASE_LAPSED' // the actor's lease lapsed (no heartbeat within the timeout): re-acquire after the safe stop
  | 'HOLDS_OTHER_MOVING_BUS' // the driver already holds a bus that is moving or free to move
  | 'BUS_MOVING' // the action needs a stationary (secured) bus
  | 'WRONG_MODE' // not allowed in the vehicle's current mode
  | 'HANDOVER_PENDING' // another driver's handover request is pending
  | 'NO_HANDOVER' // no (matching, unexpired) handover request
  | 'TAKER_NOT_READY' // the taker's console sent no heartbeat within the lease timeout
  | 'LATENCY_UNKNOWN' // no fresh RTT sample for the vehicle or the console link
  | 'LATENCY_TOO_HIGH' // control latency above the hard limit
  | 'STALE' // command older than the maximum age
  | 'OUT_OF_ORDER' // seq (or heartbeat sentAt) not strictly increasing
  | 'CLOCK_SKEW' // issuedAt lies in the future beyond the tolerated skew
  | 'DOORS_OPEN' // resume refused while the doors are open (vehicle interlock)
  | 'NO_CALL' // no open passenger call to acknowledge
  | 'TIMEOUT'; // (socket layer) the vehicle did not answer a forwarded command in time: its effect is unknown

export interface TeleopError {
  code: TeleopErrorCode;
  message: string;
}
export type Result<T> = { data: T } | { error: TeleopError };

export function ok<T>(data: T): { data: T } {
  return { data };
}
export function fail(code: TeleopErrorCode, message: string): { error: TeleopError } {
  return { error: { code, message } };
}
export function isOk<T>(r: Result<T>): r is { data: T } {
  return 'data' in r;
}

// ---- actors

/** Roles as in auth/tokens.ts plus the in-server simulated driver. Only `driver` (and `sim`) may hold a bus. */
export type ActorRole = 'driver' | 'dispatcher' | 'admin' | 'sim';
export interface Actor {
  id: string;
  role: ActorRole;
}
export const SIM_PREFIX = 'sim:';
export function simDriverId(vehicleId: string): string {
  return `${SIM_PREFIX}${vehicleId}`;
}
export function simActor(vehicleId: string): Actor {
  return { id: simDriverId(vehicleId), role: 'sim' };
}
export function isSimId(id: string | null | undefined): boolean {
  return typeof id === 'string' && id.startsWith(SIM_PREFIX);
}

// ---- commands

export const COMMAND_TYPES = ['stop', 'resume', 'speed_cap', 'doors_open', 'doors_close', 'emergency_stop'] as const;
export type CommandType = (typeof COMMAND_TYPES)[number];

/** What a console sends (`teleop:command`). `issuedAt` is epoch ms on the console's (NTP-synchronised) clock. */
export interface CommandRequest {
  vehicleId: string;
  seq: number;
  type: CommandType;
  /** m/s for speed_cap; absent otherwise */
  value?: number;
  issuedAt: number;
}

/** What the server forwards to the vehicle: the request plus who sent it under which lease. */
export interface VehicleCommand extends CommandRequest {
  /** actor id of the sender (the holder, or any staff member for an emergency stop) */
  by: string;
  /** lease epoch the command was issued under (0 when the bus had no lease: emergency stop of a free bus) */
  epoch: number;
}

// ---- directives: server → vehicle, emitted through the outbox

export type MrmReason =
  | 'lease_lapsed' // console heartbeat missing for leaseTimeoutMs
  | 'vehicle_link_lost' // socket disconnect or no vehicle report for vehicleSilenceMs
  | 'latency_over_limit' // control latency above the hard limit
  | 'latency_unknown' // RTT samples went stale while driving
  | 'vehicle_initiated' // the vehicle reported an MRM of its own (its dead-man fired)
  | 'unexpected_motion' // the vehicle moved while parked or in safe_stop
  | 'dead_man' // (vehicle side) no valid lease heartbeat within deadManMs
  | 'lease_end_moving'; // (vehicle side) lease ended while the bus was still moving

/**
 * Every directive carries `stamp`: strictly increasing per vehicle (server time, bumped by 1 ms on ties), so
 * the vehicle can drop replayed or reordered messages. `epoch` identifies a lease (the stamp of its creation).
 */
export type VehicleDirective =
  /**
   * relayed lease heartbeat: "holder still drives you"; also announces a new holder (new epoch). Carries the
   * current latency speed cap (m/s) so a lost speed_cap directive heals within one heartbeat.
   */
  | { type: 'lease'; holder: string; epoch: number; stamp: number; speedCap: number }
  /** lease ended normally (bus secured): park in standby */
  | { type: 'lease_end'; epoch: number; stamp: number }
  /** start a minimal risk manoeuvre now */
  | { type: 'mrm'; reason: MrmReason; stamp: number }
  /** permitted speed from the latency budget, m/s */
  | { type: 'speed_cap'; value: number; stamp: number }
  /** a driver confirmed: leave safe_stop/emergency_stop for remote, still held (needs `resume`) */
  | { type: 'clear_stop'; holder: string; epoch: number; stamp: number };

// ---- audit and alerts

/** Compatible with store/types.ts EventRecord, so the socket layer can journal it unchanged. */
export interface AuditRecord {
  /** epoch ms (server clock) */
  t: number;
  /** teleop.acquire, teleop.takeover, teleop.release, teleop.lease_end, teleop.lapse, teleop.handover_request,
   *  teleop.handover, teleop.handover_cancel, teleop.handover_expired, teleop.mode, teleop.mrm, teleop.confirm,
   *  teleop.command, teleop.command_result, teleop.link, teleop.alert, teleop.passenger_call,
   *  teleop.passenger_call_ack, teleop.refused, teleop.vehicle_added */
  type: string;
  vehicleId: string;
  /** driver/staff id, `sim:<vehicleId>`, `vehicle:<vehicleId>` or `system` */
  actor: string;
  data: Record<string, unknown>;
}

export type AlertType =
  | 'lease_lapsed'
  | 'vehicle_link_lost'
  | 'vehicle_link_restored'
  | 'latency_high'
  | 'latency_over_limit'
  | 'mrm'
  | 'safe_stop'
  | 'emergency_stop'
  | 'unexpected_motion'
  | 'passenger_call'
  | 'passenger_call_escalated'
  | 'handover_requested';

export interface TeleopAlert {
  t: number;
  vehicleId: string;
  type: AlertType;
  /** a driver id, or 'dispatcher' for the dispatcher desk */
  to: string;
  data: Record<string, unknown>;
}

export type TeleopOutput =
  | { kind: 'audit'; record: AuditRecord }
  | { kind: 'directive'; vehicleId: string; directive: VehicleDirective }
  | { kind: 'alert'; alert: TeleopAlert };

// ---- configuration

export interface TeleopConfig {
  /** console heartbeat lease: lapses after this long without one */
  leaseTimeoutMs: number;
  /** no vehicle report for this long = link lost */
  vehicleSilenceMs: number;
  /** control latency budget (vehicle RTT + console RTT + video delay) */
  latencyBudgetMs: number;
  /** above this, MRM */
  latencyHardLimitMs: number;
  /** default camera-to-screen video delay when a vehicle does not configure its own */
  videoDelayMs: number;
  /** RTT estimate = max of the samples in this window (conservative: one slow round trip counts) */
  rttWindowMs: number;
  /** no RTT sample for this long = latency unknown (the socket layer must ping at ≥ 1 Hz; 5 Hz recommended) */
  rttMaxAgeMs: number;
  /** commands older than this on arrival are refused */
  commandMaxAgeMs: number;
  /** issuedAt may lie this far in the future (clock sync tolerance) */
  maxClockSkewMs: number;
  /** a handover request expires after this */
  handoverTimeoutMs: number;
  /** an unacknowledged passenger call escalates to the dispatcher after this */
  passengerCallEscalateMs: number;
  /** relayed lease heartbeat interval for simulated drivers (humans are relayed per console heartbeat) */
  simRelayIntervalMs: number;
  /** a new speed_cap directive is sent when the permitted speed moves by at least this (m/s) */
  speedCapStepMps: number;
  /** default maximum speed of a bus (m/s) */
  vmaxMps: number;
}

export const DEFAULT_TELEOP_CONFIG: TeleopConfig = {
  leaseTimeoutMs: 500,
  vehicleSilenceMs: 500,
  latencyBudgetMs: 200,
  latencyHardLimitMs: 500,
  videoDelayMs: 80,
  rttWindowMs: 1000,
  rttMaxAgeMs: 3000,
  commandMaxAgeMs: 500,
  maxClockSkewMs: 100,
  handoverTimeoutMs: 10_000,
  passengerCallEscalateMs: 30_000,
  simRelayIntervalMs: 100,
  speedCapStepMps: 0.25,
  vmaxMps: 50 / 3.6,
};
