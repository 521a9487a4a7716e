import type { DispatcherSnapshot } from '../dispatch/dispatcher.ts';

/**
 * Persistence behind the server. Two implementations with one contract: the embedded journal (default, no
 * services needed) and Redis (REDIS_URL). `commit` resolves only when the change is durable, so a confirmation
 * the client has seen survives `kill -9`.
 */
export interface BookingRecord {
  id: string;
  riderId: string | null;
  /** API status (offered, confirmed, assigned, picked_up, completed, cancelled, rejected, expired, no_show) */
  status: string;
  createdAt: number;
  updatedAt: number;
  pickup: { lat: number; lon: number; hubId?: string };
  dropoff: { lat: number; lon: number; hubId?: string };
  passengers: number;
  wheelchairs: number;
  departAt?: number;
  arriveBy?: number;
  /** who booked: 'rider' or the staff username (phone booking) */
  bookedBy: string;
  offer?: {
    pickupFrom: number;
    pickupTo: number;
    arrival: number;
    latestArrival: number;
    vehicleId: string;
    expiresAt: number;
    offerId: string;
    /** the promise's ride-time limit and its own latest arrival (arrival bookings, transfers): kept here because
     *  the dispatcher forgets finished bookings (absent in records written before they were kept) */
    maxRideMs?: number;
    promisedLatestArrival?: number;
  };
  rejection?: { reason: string; message: string; alternative?: { type: 'departure' | 'arrival'; time: number } };
  vehicleId?: string | null;
  pickedUpAt?: number;
  droppedOffAt?: number;
}

export interface EventRecord {
  /** epoch ms */
  t: number;
  /** e.g. booking.created, dispatch.offer, teleop.acquire */
  type: string;
  vehicleId?: string;
  bookingId?: string;
  actor?: string;
  data?: Record<string, unknown>;
}

export interface PersistedState {
  dispatcher: DispatcherSnapshot | null;
  bookings: BookingRecord[];
}

export interface Store {
  readonly kind: 'memory' | 'redis';
  load(): Promise<PersistedState>;
  /**
   * Durable once resolved. Bookings are upserts; the dispatcher snapshot replaces the previous one; `events` are
   * the audit records of the change (Redis: written in the same transaction, so a crash cannot keep the change
   * and lose its record).
   */
  commit(change: { bookings: BookingRecord[]; dispatcher?: DispatcherSnapshot; events?: EventRecord[] }): Promise<void>;
  appendEvents(events: EventRecord[]): Promise<void>;
  readEvents(filter: { vehicleId?: string; from?: number; to?: number; limit?: number }): Promise<EventRecord[]>;
  /** Remove a rider's personal traces (pseudonymous id) from stored bookings; returns how many were touched. */
  forgetRider(riderId: string): Promise<number>;
  status(): { ok: boolean; kind: 'memory' | 'redis'; detail: string };
  close(): Promise<void>;
}

/** Write refused: this instance no longer holds the dispatcher lease (RedisStore.setFence). */
export class FencedError extends Error {
  constructor() {
    super('not the dispatcher leader (lease lost): write refused');
  }
}
