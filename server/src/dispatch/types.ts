/**
 * Domain types of the online dispatcher. All times are epoch milliseconds, all durations milliseconds,
 * all distances metres. Names follow the DRT literature / MATSim DRT (VehicleEntry, Waypoint, insertion).
 */

/** Opaque place key (e.g. a snapped road position) plus coordinates for display and hub/area checks. */
export type LocationId = string | number;
export interface Location {
  readonly id: LocationId;
  readonly lat: number;
  readonly lon: number;
}

export function sameLocation(a: Location, b: Location): boolean {
  return a.id === b.id;
}

/** When the rider wants to travel. Pre-booked times may be up to `promises.prebookHorizonMs` ahead. */
export type DesiredTime =
  | { readonly type: 'now' }
  | { readonly type: 'departure'; readonly at: number }
  | { readonly type: 'arrival'; readonly by: number };

export interface RideRequest {
  /** Assigned by the dispatcher (`r<seq>`) when missing. */
  readonly id?: string;
  /** Pseudonymous rider key; never a name. */
  readonly riderId?: string;
  readonly pickup: Location;
  readonly dropoff: Location;
  /** People travelling, 1–8, wheelchair users included. */
  readonly passengers: number;
  /** How many of the passengers travel in a wheelchair (0–2): they use wheelchair places, not seats. */
  readonly wheelchairs?: number;
  readonly time?: DesiredTime;
  /**
   * Timed transfer: the drop-off is a hub and the ride must reach a line departure there.
   * Without `departure` the dispatcher picks the earliest reachable departure from the timetable.
   */
  readonly transfer?: { readonly hubId: string; readonly departure?: number; readonly lineId?: string };
}

export type VehicleStatus = 'available' | 'charging' | 'out-of-service';

/** What the server knows about a bus. `position`/`time`: where and when it can first divert. */
export interface VehicleState {
  readonly id: string;
  readonly seats: number;
  readonly wheelchairPlaces: number;
  readonly position: Location;
  readonly time: number;
  /** State of charge 0..1. */
  readonly soc: number;
  /** Usable battery capacity; defaults to `battery.capacityKWh`. */
  readonly batteryKWh?: number;
  /** Remote driver currently holding the bus (teleoperation lease), if any. */
  readonly driverId?: string | null;
  readonly status?: VehicleStatus;
}

export type VehicleUpdate = Partial<Omit<VehicleState, 'id'>> & { readonly id: string };

/** A remote driver's shift in the Leitstand roster. */
export interface DriverShift {
  readonly id: string;
  readonly start: number;
  readonly end: number;
}

/** One pickup or drop-off of one request in a bus plan. Consecutive stops at one place share the fixed dwell. */
export interface PlanStop {
  readonly kind: 'pickup' | 'dropoff';
  readonly requestId: string;
  readonly location: Location;
  /** Boarding/alighting time of this request's passengers (fixed dwell is charged per place, see oracle legs). */
  readonly serviceMs: number;
  readonly seats: number;
  readonly wheelchairs: number;
  /** Earliest service start (pickup window start); absent for drop-offs. */
  readonly earliest?: number;
  /** Latest service start: pickup window end, or the promised latest arrival at the drop-off. */
  readonly latest?: number;
  /** Drop-off only: max ride time of the request (α·direct + β). */
  readonly maxRideMs?: number;
  /**
   * Pickup only: do not serve before this time. Set when a removal would otherwise pull a pickup earlier
   * and lengthen somebody's ride behind a waiting stop (keeps the old, proven-feasible timing).
   */
  readonly hold?: number;
  /**
   * The bus stands at this stop's place and serves it now: a rider alighting, or a rider whose pickup window
   * has opened (set by `vehicleArrived`, and later while the bus stands there when the window opens). Pinned
   * stops stay first in the plan until served, cancelled or given up as a no-show: nothing is inserted before
   * them and nothing moves them (the bus would otherwise drive off without its waiting rider).
   */
  readonly pinned?: boolean;
}

/** A request already on board: its drop-off is in the plan, its pickup is history. */
export interface OnboardRequest {
  readonly requestId: string;
  readonly pickedUpAt: number;
  readonly seats: number;
  readonly wheelchairs: number;
}

/** Waypoint union of a VehicleEntry (MATSim: Waypoint.Start | Waypoint.Stop | Waypoint.End). */
export type Waypoint = StartWaypoint | StopWaypoint | EndWaypoint;
export interface StartWaypoint {
  readonly kind: 'start';
  readonly location: Location;
  /** Departure time from the divert point. */
  readonly time: number;
  readonly seats: number;
  readonly wheelchairs: number;
}
export interface StopWaypoint {
  readonly kind: 'stop';
  readonly stop: PlanStop;
  readonly arrival: number;
  /** Service start = max(arrival incl. fixed dwell, earliest). */
  readonly ready: number;
  readonly departure: number;
  /** Load after departing this stop. */
  readonly seats: number;
  readonly wheelchairs: number;
}
export interface EndWaypoint {
  readonly kind: 'end';
  /** Where the bus must be able to go when the plan is done (depot, for the battery check). */
  readonly location: Location;
  /** Plan must be finished by then: end of the driver's shift. */
  readonly latestTime: number;
}

export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

export type RejectionReason = 'capacity' | 'no-driver' | 'window' | 'battery' | 'outside-service-area';

export interface Offer {
  readonly kind: 'offer';
  readonly offerId: string;
  readonly requestId: string;
  readonly vehicleId: string;
  readonly pickupWindow: TimeWindow;
  readonly estimatedPickup: number;
  readonly estimatedArrival: number;
  /** Hard promise: arrival at the drop-off no later than this. */
  readonly latestArrival: number;
  readonly maxRideMs: number;
  readonly expiresAt: number;
  readonly transfer?: { readonly hubId: string; readonly departure: number; readonly lineId?: string };
}

export interface Rejection {
  readonly kind: 'rejection';
  readonly requestId: string;
  readonly reason: RejectionReason;
  /** Nearest time (same semantics as the request's time: departure or arrival) that would be feasible now. */
  readonly alternative?: { readonly type: 'departure' | 'arrival'; readonly time: number };
  readonly message: string;
}

export type BookingStatus =
  | 'offered'
  | 'confirmed'
  | 'onboard'
  | 'completed'
  | 'cancelled'
  | 'no-show'
  | 'expired'
  | 'declined';

/** The promise made to a rider; hard for everything after confirmation. */
export interface RiderPromise {
  readonly pickupWindow: TimeWindow;
  readonly maxRideMs: number;
  /** Latest arrival at the drop-off (arrival bookings and timed transfers), else absent. */
  readonly latestArrival?: number;
}

export interface Booking {
  readonly id: string;
  readonly riderId?: string;
  readonly pickup: Location;
  readonly dropoff: Location;
  readonly passengers: number;
  readonly wheelchairs: number;
  readonly time: DesiredTime;
  readonly requestedAt: number;
  readonly promise: RiderPromise;
  readonly transfer?: { readonly hubId: string; readonly departure: number; readonly lineId?: string };
  status: BookingStatus;
  vehicleId: string | null;
  offerExpiresAt: number;
  pickedUpAt?: number;
  droppedOffAt?: number;
  arrivedAt?: number;
}

export type DispatchEventType =
  | 'offer'
  | 'reject'
  | 'confirm'
  | 'confirm-failed'
  | 'decline'
  | 'expire'
  | 'cancel'
  | 'no-show'
  | 'assign'
  | 'reassign'
  | 'arrive'
  | 'pickup'
  | 'dropoff'
  | 'rebalance'
  | 'charge'
  | 'charged'
  | 'driver-needed'
  | 'driver-released'
  | 'promise-at-risk'
  | 'reoptimise';

/** Journal entry; only pseudonymous ids, no personal data. */
export interface DispatchEvent {
  readonly seq: number;
  readonly time: number;
  readonly type: DispatchEventType;
  readonly requestId?: string;
  readonly vehicleId?: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** What the server sends as `plan:update`: the remaining stops with planned times. */
export interface VehiclePlan {
  readonly vehicleId: string;
  readonly driverId: string | null;
  readonly reservedDriverId: string | null;
  readonly status: VehicleStatus;
  readonly start: { readonly location: Location; readonly time: number };
  readonly stops: ReadonlyArray<{
    readonly kind: 'pickup' | 'dropoff';
    readonly requestId: string;
    readonly location: Location;
    readonly arrival: number;
    readonly ready: number;
    readonly departure: number;
    readonly seats: number;
    readonly wheelchairs: number;
  }>;
  readonly onboard: ReadonlyArray<{ readonly requestId: string; readonly seats: number; readonly wheelchairs: number }>;
  readonly task: VehicleTask | null;
}

/** Non-passenger job of an idle bus. */
export interface VehicleTask {
  readonly kind: 'rebalance' | 'charge';
  readonly hubId?: string;
  readonly to: Location;
  readonly since: number;
}

export interface RebalanceMove {
  readonly vehicleId: string;
  readonly kind: 'rebalance' | 'charge';
  /** Hub id for rebalancing; absent for the depot. */
  readonly hubId?: string;
  readonly to: Location;
  readonly travelTimeMs: number;
}
