/**
 * KPI definitions, shared by the simulation report and the live server, so that "promises kept" or "wait
 * time" mean exactly the same thing in both. Inputs carry no personal data: ids are pseudonymous and places
 * are not needed.
 */
export interface TripOutcome {
  id: string;
  /** final or current API status (completed, rejected, cancelled, no_show, expired, picked_up, …) */
  status: string;
  rejectionReason?: string;
  requestedAt: number;
  /** what the rider asked for: departure (or "now" = request time), or arrival-by */
  desired: { type: 'now' | 'departure' | 'arrival'; time: number };
  promise?: { pickupFrom: number; pickupTo: number; maxRideMs: number; latestArrival?: number };
  /** service start at the pickup (boarding begins): must lie in the promised window */
  pickedUpAt?: number;
  /** the bus leaves the pickup with the rider (doors closed): the ride time counts from here */
  departedAt?: number;
  /** arrival of the bus at the drop-off */
  droppedOffAt?: number;
  /** direct (unshared) travel time and distance between pickup and drop-off */
  directMs: number;
  passengers: number;
  hubId?: string;
}

export interface FleetUsage {
  vehicleKm: number;
  /** km driven with nobody on board */
  emptyKm: number;
  passengerKm: number;
  energyKWh: number;
  /** time buses were in service with a driver (driving, dwelling or waiting for a pickup), ms */
  driverBusyMs: number;
  /** sum of all drivers' shift time in the period, ms */
  driverShiftMs: number;
}

export interface Kpis {
  requests: number;
  served: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  cancelled: number;
  noShows: number;
  waitTimeS: { mean: number | null; p50: number | null; p95: number | null; max: number | null };
  inVehicleTimeS: { mean: number | null };
  detourFactor: { mean: number | null; p95: number | null };
  promisesKeptPct: number | null;
  occupancy: number | null;
  emptyKmShare: number | null;
  vehicleKm: number;
  energyKWh: number;
  driverUtilisation: number | null;
}

/** Tolerance for "on time": clocks and rounding, not slack. */
const ON_TIME_TOLERANCE_MS = 1000;

export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const r2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);

/** Wait: from the desired pickup time (request time for "now", the departure asked for, or the window start for arrival-by) to boarding. */
export function waitMs(t: TripOutcome): number | null {
  if (t.pickedUpAt === undefined) return null;
  const from = t.desired.type === 'arrival' ? (t.promise?.pickupFrom ?? t.requestedAt) : t.desired.time;
  return Math.max(0, t.pickedUpAt - from);
}

/**
 * A promise is kept when boarding started inside the promised pickup window and the ride (doors closed at the
 * pickup → arrival at the drop-off) stayed within the promised maximum ride time, and the arrival-by time held.
 */
export function promiseKept(t: TripOutcome): boolean | null {
  if (t.status !== 'completed' || !t.promise || t.pickedUpAt === undefined || t.droppedOffAt === undefined) return null;
  const p = t.promise;
  const inWindow = t.pickedUpAt >= p.pickupFrom - ON_TIME_TOLERANCE_MS && t.pickedUpAt <= p.pickupTo + ON_TIME_TOLERANCE_MS;
  const rideOk = t.droppedOffAt - (t.departedAt ?? t.pickedUpAt) <= p.maxRideMs + ON_TIME_TOLERANCE_MS;
  const arrivalOk = p.latestArrival === undefined || t.droppedOffAt <= p.latestArrival + ON_TIME_TOLERANCE_MS;
  return inWindow && rideOk && arrivalOk;
}

export function computeKpis(trips: TripOutcome[], usage: FleetUsage): Kpis {
  const rejectedByReason: Record<string, number> = {};
  let rejected = 0, cancelled = 0, noShows = 0;
  const waits: number[] = [], rides: number[] = [], detours: number[] = [];
  let kept = 0, judged = 0;
  for (const t of trips) {
    if (t.status === 'rejected') {
      rejected++;
      const r = t.rejectionReason ?? 'unknown';
      rejectedByReason[r] = (rejectedByReason[r] ?? 0) + 1;
    } else if (t.status === 'cancelled') cancelled++;
    else if (t.status === 'no_show') noShows++;
    const w = waitMs(t);
    if (w !== null) waits.push(w / 1000);
    if (t.status === 'completed' && t.pickedUpAt !== undefined && t.droppedOffAt !== undefined) {
      const ride = t.droppedOffAt - (t.departedAt ?? t.pickedUpAt);
      rides.push(ride / 1000);
      if (t.directMs > 0) detours.push(ride / t.directMs);
    }
    const k = promiseKept(t);
    if (k !== null) {
      judged++;
      if (k) kept++;
    }
  }
  waits.sort((a, b) => a - b);
  detours.sort((a, b) => a - b);
  const served = trips.filter((t) => t.status === 'completed').length;
  return {
    requests: trips.length,
    served,
    rejected,
    rejectedByReason,
    cancelled,
    noShows,
    waitTimeS: { mean: r2(mean(waits)), p50: r2(percentile(waits, 50)), p95: r2(percentile(waits, 95)), max: r2(waits.length ? waits[waits.length - 1] : null) },
    inVehicleTimeS: { mean: r2(mean(rides)) },
    detourFactor: { mean: r2(mean(detours)), p95: r2(percentile(detours, 95)) },
    promisesKeptPct: judged ? r2((100 * kept) / judged) : null,
    occupancy: usage.vehicleKm > 0 ? r2(usage.passengerKm / usage.vehicleKm) : null,
    emptyKmShare: usage.vehicleKm > 0 ? r2(usage.emptyKm / usage.vehicleKm) : null,
    vehicleKm: r2(usage.vehicleKm)!,
    energyKWh: r2(usage.energyKWh)!,
    driverUtilisation: usage.driverShiftMs > 0 ? r2(usage.driverBusyMs / usage.driverShiftMs) : null,
  };
}
