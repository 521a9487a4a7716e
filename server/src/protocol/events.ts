import type { BookingCreate, StopEvent, VehicleMode, VehicleStateMsg } from './schemas.ts';

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
  driver: string | null;
  latencyMs: number | null;
  permittedSpeed: number | null;
  /** epoch ms when the server received the last state */
  receivedAt: number;
  online: boolean;
}
export interface FleetState {
  t: number;
  vehicles: FleetVehicle[];
  /** true for the full snapshot sent on (re)connect; deltas carry only changed vehicles */
  full: boolean;
}

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

// ---- /vehicle
export interface VehicleServerToClient {
  'plan:update': (plan: PlanUpdate) => void;
}
export interface VehicleClientToServer {
  'vehicle:state': (state: VehicleStateMsg) => void;
  'vehicle:stop': (e: StopEvent, ack: AckFn<{ accepted: boolean }>) => void;
}

// ---- /leitstand
export interface LeitstandServerToClient {
  'fleet:state': (s: FleetState) => void;
  'booking:update': (b: BookingView) => void;
  'bookings:snapshot': (b: BookingView[]) => void;
  'plan:update': (p: PlanUpdate) => void;
}
export interface LeitstandClientToServer {
  'fleet:snapshot': (ack: AckFn<FleetState>) => void;
  'booking:create': (b: BookingCreate, ack: AckFn<BookingView>) => void;
  'booking:confirm': (p: { bookingId: string }, ack: AckFn<BookingView>) => void;
  'plan:get': (p: { vehicleId: string }, ack: AckFn<PlanUpdate | null>) => void;
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

export type { BookingCreate, StopEvent, VehicleMode, VehicleStateMsg };
