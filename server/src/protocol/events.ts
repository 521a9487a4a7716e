import type { BookingCreate, StopEvent, VehicleMode, VehicleStateMsg } from './schemas.ts';
import type { CommandType, MrmReason, VehicleCommand, VehicleDirective } from '../teleop/types.ts';

/**
 * The typed socket.io protocol, one map per namespace, shared by server, vehicle agents and both UIs.
 * Every client → server event that expects an answer takes an ack callback with `Ack<T>`.
 */
export interface ApiError {
  code: string;
  message: string;
  details?: unknown;
}
export type Ack<T> = { data: T } | { error: ApiError };
export type AckFn<T> = (res: Ack<T>) => void;

export interface PlanStopView {
  requestId: string;
  kind: 'pickup' | 'dropoff';
  lat: number;
  lon: number;
  /** planned arrival, service start (boarding begins, never before the pickup window) and departure, epoch ms */
  arrival: number;
  ready: number;
  departure: number;
  seats: number;
  wheelchairs: number;
  hubId?: string;
  /** scripted stops (test routes): stand this long instead of the boarding-based dwell */
  dwellMs?: number;
  name?: string;
}
export interface PlanUpdate {
  vehicleId: string;
  version: number;
  stops: PlanStopView[];
  task: { kind: 'rebalance' | 'charge'; lat: number; lon: number; hubId?: string } | null;
  /** road geometry from the bus to its last stop (GeoJSON coordinates) with the index where each stop is reached */
  route: { coordinates: [number, number][]; stopIndices: number[]; speedsKmh: number[] } | null;
  /**
   * Leitstand only (teleoperation marker): share of the bus's nominal top speed it may drive now (latency
   * budget, driver's speed cap); < 1 = the plan's times are optimistic and riders' ETAs are stretched by it;
   * 0 = the bus stands (MRM, safe stop, emergency stop, offline). Absent = 1.
   */
  speedFactor?: number;
  /** Leitstand only: permitted speed (m/s) from the teleoperation core */
  permittedSpeed?: number;
}

export interface FleetVehicle {
  id: string;
  label: string;
  lat: number;
  lon: number;
  heading: number;
  speed: number;
  mode: VehicleMode;
  soc: number;
  doors: 'open' | 'closed';
  occupancy: { seats: number; wheelchairs: number };
  capacity: { seats: number; wheelchairs: number };
  /** who holds the bus (teleoperation lease): a driver's username or `sim:<vehicleId>`; null = nobody */
  driver: string | null;
  /** control latency (vehicle RTT + console RTT + video delay), ms; null = unknown or nobody holds the bus */
  latencyMs: number | null;
  /** m/s the bus may drive (latency formula, driver's speed cap; 0 in mrm/safe_stop/emergency_stop/offline) */
  permittedSpeed: number | null;
  /** epoch ms when the server received the last state */
  receivedAt: number;
  /** the bus's own send time of that state (`vehicle:state` sentAt, the bus's clock); absent before the first */
  sentAt?: number;
  online: boolean;
}
/** A bus in a `fleet:state` delta: its id and only the fields that changed since the previous fan-out. */
export type FleetVehicleDelta = Pick<FleetVehicle, 'id'> & Partial<Omit<FleetVehicle, 'id'>>;
/**
 * `fleet:state`: a full snapshot (on connect, on `fleet:snapshot`, after a console's connection was backed up), then
 * deltas against it, each naming only the buses and fields that changed; merge them with `mergeFleetState`
 * (protocol/fleet-delta.ts). A moving bus's delta is position, heading, speed and times, not its whole record.
 */
export type FleetState = { t: number; full: true; vehicles: FleetVehicle[] } | { t: number; full: false; vehicles: FleetVehicleDelta[] };

export interface BookingView {
  id: string;
  status: BookingStatus;
  pickup: { lat: number; lon: number; hubId?: string };
  dropoff: { lat: number; lon: number; hubId?: string };
  passengers: number;
  wheelchairs: number;
  createdAt: string;
  offer?: { pickupWindow: { from: string; to: string }; arrival: string; latestArrival: string; vehicleId: string; expiresAt: string };
  vehicleId?: string | null;
  eta?: string | null;
  rejection?: { reason: string; message: string; alternative?: { type: 'departure' | 'arrival'; time: string } };
  pickedUpAt?: string;
  droppedOffAt?: string;
}
export type BookingStatus = 'offered' | 'confirmed' | 'assigned' | 'picked_up' | 'completed' | 'cancelled' | 'rejected' | 'expired' | 'no_show';

export interface RiderVehicleView {
  bookingId: string;
  vehicleId: string;
  label: string;
  lat: number;
  lon: number;
  heading: number;
  /** estimated pickup (before boarding) or arrival (on board), ISO */
  eta: string | null;
  t: number;
}

// ---- teleoperation (server/src/teleop; the socket layer is teleop/service.ts)

/** RTT probe on both links: the server sends its own clock, the peer echoes it unchanged as `teleop:pong`. */
export interface TeleopPing {
  n: number;
  /** server epoch ms */
  t: number;
}

/** Per-vehicle lease view for the consoles (`teleop:state`, sent on connect and on every change). */
export interface TeleopStateView {
  vehicleId: string;
  mode: VehicleMode;
  /** driver username, `sim:<vehicleId>` (simulated driver) or null */
  holder: string | null;
  /** 'lapsed': the holder's heartbeats stopped; they stay responsible until the bus stands in safe_stop */
  lease: 'active' | 'lapsed' | null;
  /** lease id (changes on every acquire, take-over, handover) */
  epoch: number;
  /** the driver waiting for the holder's `teleop:handover_confirm` */
  pendingHandover: string | null;
  handoverExpiresAt: number | null;
  /** control latency, ms (null: unknown or nobody holds the bus) */
  latencyMs: number | null;
  /** m/s */
  permittedSpeed: number;
  /** permittedSpeed / the bus's top speed (0 … 1) */
  speedFactor: number;
  /** stopped by the holder (or brought under a lease) and not resumed since: needs `resume` to drive */
  held: boolean;
  /** held and reported stationary since: may be released */
  secured: boolean;
  linkUp: boolean;
  /** speed as last reported by the bus, m/s */
  speed: number;
  passengerCall: { raisedAt: number; escalated: boolean; owner: string } | null;
  mrm: { startedAt: number; reason: MrmReason } | null;
  /** server epoch ms of this view */
  t: number;
}

export type AlertType =
  | 'mrm'
  | 'safe_stop'
  | 'emergency_stop'
  | 'link_loss'
  | 'link_restored'
  | 'latency_over_budget'
  | 'latency_over_limit'
  | 'lease_lapsed'
  | 'unexpected_motion'
  | 'passenger_call'
  | 'handover_requested'
  | 'low_battery'
  | 'breakdown';
export type AlertSeverity = 'critical' | 'warning' | 'info';

/**
 * An alert on the Leitstand (`alert`, `alerts:snapshot`). Every alert can be acknowledged with `alert:ack`
 * (the actor goes to the audit log). A passenger call is one alert for the whole call: it is re-sent (same id)
 * when it is rerouted or escalated, and only its owner (`to`: the holding driver, else the dispatcher desk)
 * may acknowledge it.
 */
export interface LeitstandAlert {
  id: string;
  /** epoch ms */
  t: number;
  vehicleId: string | null;
  type: AlertType;
  severity: AlertSeverity;
  /** plain German text */
  message: string;
  /** addressees: driver usernames and/or 'dispatcher' (the desk); every staff console receives every alert */
  to: string[];
  data: Record<string, unknown>;
  ackedBy: string | null;
  ackedAt: number | null;
}

export interface TeleopVehiclePayload {
  vehicleId: string;
}
/** `issuedAt`: epoch ms on the console's (NTP-synchronised) clock; `value` (m/s) only for speed_cap */
export interface TeleopCommandPayload {
  vehicleId: string;
  /** strictly increasing per lease, ≥ 1 */
  seq: number;
  type: CommandType;
  value?: number;
  issuedAt: number;
}
export interface TeleopAcquireResult {
  vehicleId: string;
  epoch: number;
  mode: VehicleMode;
  /** `sim:<id>` when the bus was taken from its simulated driver */
  takenFrom: string | null;
}
export interface TeleopReleaseResult {
  vehicleId: string;
  mode: VehicleMode;
  /** who holds it now (its simulated driver, or nobody) */
  holder: string | null;
}
export interface TeleopHeartbeatResult {
  role: 'holder' | 'taker';
  leaseExpiresAt: number;
  mode: VehicleMode;
  permittedSpeed: number;
}
export interface TeleopHandoverRequestResult {
  vehicleId: string;
  /** 'taken': the bus was held by a simulated driver, which yields at once */
  status: 'pending' | 'taken';
  holder: string;
  expiresAt: number | null;
}

// ---- /vehicle
export interface VehicleServerToClient {
  'plan:update': (plan: PlanUpdate) => void;
  /** lease relay (the bus's dead-man input), lease_end, mrm, speed_cap, clear_stop; see teleop/types.ts */
  'teleop:directive': (d: VehicleDirective) => void;
  /** a console command the server accepted; the bus answers with its own verdict (VehicleSafety.onCommand) */
  'teleop:command': (c: VehicleCommand, ack: AckFn<{ accepted: true }>) => void;
  'teleop:ping': (p: TeleopPing) => void;
}
export interface VehicleClientToServer {
  'vehicle:state': (state: VehicleStateMsg) => void;
  'vehicle:stop': (e: StopEvent, ack: AckFn<{ accepted: boolean }>) => void;
  'teleop:pong': (p: TeleopPing) => void;
  /** a passenger pressed the call button; data.owner = who must answer (a driver or 'dispatcher') */
  'vehicle:passenger_call': (p: { at?: number }, ack: AckFn<{ owner: string }>) => void;
}

// ---- /leitstand
export interface LeitstandServerToClient {
  'fleet:state': (s: FleetState) => void;
  'booking:update': (b: BookingView) => void;
  'bookings:snapshot': (b: BookingView[]) => void;
  'plan:update': (p: PlanUpdate) => void;
  /** a new alert, or an update of one (same id: acknowledged, passenger call rerouted/escalated) */
  alert: (a: LeitstandAlert) => void;
  /** on connect: the recent alerts (open and acknowledged), newest first */
  'alerts:snapshot': (a: LeitstandAlert[]) => void;
  /** on connect (every bus) and whenever a bus's lease view changes */
  'teleop:state': (s: TeleopStateView) => void;
  /** console RTT probe (~5 Hz): answer at once with `teleop:pong` and the same payload */
  'teleop:ping': (p: TeleopPing) => void;
}
export interface LeitstandClientToServer {
  'fleet:snapshot': (ack: AckFn<FleetState>) => void;
  'booking:create': (b: BookingCreate, ack: AckFn<BookingView>) => void;
  'booking:confirm': (p: { bookingId: string }, ack: AckFn<BookingView>) => void;
  'plan:get': (p: { vehicleId: string }, ack: AckFn<PlanUpdate | null>) => void;
  // teleoperation: every event is acknowledged `{data}` or `{error:{code,message}}` (codes: teleop/types.ts
  // TeleopErrorCode, plus VALIDATION for a malformed payload and TIMEOUT when the bus did not answer a command)
  /** drivers only; takes a free bus (standby → remote, held) or one from its simulated driver at once */
  'teleop:acquire': (p: TeleopVehiclePayload, ack: AckFn<TeleopAcquireResult>) => void;
  /** only a secured bus (stopped by `stop`, reported stationary); it goes back to its simulated driver */
  'teleop:release': (p: TeleopVehiclePayload, ack: AckFn<TeleopReleaseResult>) => void;
  /** ~10 Hz per held bus (and while waiting for a handover); the lease lapses 500 ms after the last one → MRM.
   *  `sentAt` (console epoch ms) is optional; when given it must increase */
  'teleop:heartbeat': (p: { vehicleId: string; sentAt?: number }, ack: AckFn<TeleopHeartbeatResult>) => void;
  /** step 1, by the taker (keep heartbeating while it is pending) */
  'teleop:handover_request': (p: TeleopVehiclePayload, ack: AckFn<TeleopHandoverRequestResult>) => void;
  /** step 2, by the holder */
  'teleop:handover_confirm': (p: { vehicleId: string; to: string }, ack: AckFn<{ vehicleId: string; holder: string; epoch: number }>) => void;
  /** withdraw (taker) or decline (holder) */
  'teleop:handover_cancel': (p: TeleopVehiclePayload, ack: AckFn<{ vehicleId: string }>) => void;
  /** leave safe_stop / emergency_stop (acquire first); the bus comes back held: send `resume` */
  'teleop:confirm_stop': (p: TeleopVehiclePayload, ack: AckFn<{ vehicleId: string; mode: 'remote' }>) => void;
  /** ack = the bus's verdict: `{data:{accepted:true}}` or `{error:{code:'STALE'|'OUT_OF_ORDER'|'NOT_HOLDER'|…}}` */
  'teleop:command': (p: TeleopCommandPayload, ack: AckFn<{ accepted: true }>) => void;
  /** acknowledge a passenger call (the holder; else the dispatcher desk) */
  'teleop:ack_call': (p: TeleopVehiclePayload, ack: AckFn<{ vehicleId: string; afterMs: number }>) => void;
  'teleop:pong': (p: TeleopPing) => void;
  /** current lease views of all buses */
  'teleop:snapshot': (ack: AckFn<TeleopStateView[]>) => void;
  /** acknowledge an alert (a passenger call: only by its owner); returns the updated alert */
  'alert:ack': (p: { alertId: string }, ack: AckFn<LeitstandAlert>) => void;
}

// ---- /rider
export interface RiderServerToClient {
  'booking:update': (b: BookingView) => void;
  'bookings:snapshot': (b: BookingView[]) => void;
  'vehicle:position': (v: RiderVehicleView) => void;
}
export interface RiderClientToServer {
  'booking:confirm': (p: { bookingId: string }, ack: AckFn<BookingView>) => void;
  'bookings:snapshot': (ack: AckFn<BookingView[]>) => void;
}

export type { BookingCreate, CommandType, MrmReason, StopEvent, VehicleCommand, VehicleDirective, VehicleMode, VehicleStateMsg };
