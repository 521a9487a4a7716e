import type { BookingService } from '../bookings/service.ts';
import type { FleetRegistry } from '../fleet/registry.ts';
import type { RoadOracle } from '../routing/oracle.ts';
import type { BookingRecord } from '../store/types.ts';
import { computeKpis, type Kpis, type TripOutcome } from './kpis.ts';

/**
 * Live KPIs with the simulation's definitions (kpis.ts): trips from the booking records, the promise from the
 * dispatcher. Fleet distances are not integrated live yet, so occupancy is reported as the current share of
 * seats in use, and the km-based KPIs stay null here (they are exact in simulation reports).
 */
export interface LiveKpis {
  t: number;
  kpis: Kpis;
  occupancyNow: number | null;
}

/** A booking record as a KPI trip (kpis.ts); the direct time needs the road oracle (0 without it). */
export function tripOutcomeOf(r: BookingRecord, bookings: Pick<BookingService, 'dispatcherRef'>, oracle: RoadOracle | null): TripOutcome {
  // the record keeps the promise; records written before it did ask the dispatcher (which forgets finished ones)
  const promise = r.offer?.maxRideMs !== undefined ? { maxRideMs: r.offer.maxRideMs, latestArrival: r.offer.promisedLatestArrival } : bookings.dispatcherRef.booking(r.id)?.promise;
  const status = r.status === 'no_show' ? 'no_show' : r.status;
  let directMs = 0;
  if (oracle && r.status === 'completed') {
    try {
      directMs = oracle.time(oracle.locate(r.pickup.lat, r.pickup.lon), oracle.locate(r.dropoff.lat, r.dropoff.lon)) * 1000;
    } catch {
      directMs = 0;
    }
  }
  return {
    id: r.id,
    status,
    ...(r.rejection ? { rejectionReason: r.rejection.reason } : {}),
    requestedAt: r.createdAt,
    desired: r.departAt !== undefined ? { type: 'departure', time: r.departAt } : r.arriveBy !== undefined ? { type: 'arrival', time: r.arriveBy } : { type: 'now', time: r.createdAt },
    ...(r.offer ? { promise: { pickupFrom: r.offer.pickupFrom, pickupTo: r.offer.pickupTo, maxRideMs: promise?.maxRideMs ?? Infinity, latestArrival: promise?.latestArrival } } : {}),
    ...(r.pickedUpAt !== undefined ? { pickedUpAt: r.pickedUpAt, departedAt: r.pickedUpAt } : {}),
    ...(r.droppedOffAt !== undefined ? { droppedOffAt: r.droppedOffAt } : {}),
    directMs,
    passengers: r.passengers,
    ...(r.dropoff.hubId ? { hubId: r.dropoff.hubId } : r.pickup.hubId ? { hubId: r.pickup.hubId } : {}),
  };
}

export function liveKpis(bookings: BookingService, fleet: FleetRegistry, oracle: RoadOracle | null, now: number): LiveKpis {
  const trips = bookings.all().map((r) => tripOutcomeOf(r, bookings, oracle));
  const kpis = computeKpis(trips, { vehicleKm: 0, emptyKm: 0, passengerKm: 0, energyKWh: 0, driverBusyMs: 0, driverShiftMs: 0 });
  let seats = 0, used = 0;
  for (const v of fleet.all()) {
    if (!v.online) continue;
    seats += v.capacity.seats + v.capacity.wheelchairs;
    used += v.occupancy.seats + v.occupancy.wheelchairs;
  }
  return { t: now, kpis, occupancyNow: seats ? used / seats : null };
}
