import type { Leg } from './legs.ts';
import type { Location, OnboardRequest, PlanStop } from './types.ts';

/**
 * Exact timing of one bus plan and the check of every constraint on it. This is the reference the O(1)
 * insertion estimator must agree with, and the last gate before any plan change is committed.
 *
 * Timing model (per waypoint k = 1..n after the start waypoint 0):
 *   arrival[k]   = departure[k-1] + c(k-1, k)          (c includes the fixed dwell when the place changes)
 *   ready[k]     = max(arrival[k], earliest[k])          (service start; the bus waits for the window)
 *   departure[k] = ready[k] + serviceMs[k]
 * Ride time of a request = ready[drop-off] − departure[pickup] (or − boarding time when already on board).
 */
export interface PlanContext {
  readonly seats: number;
  readonly wheelchairPlaces: number;
  readonly start: { readonly location: Location; readonly time: number };
  readonly onboard: readonly OnboardRequest[];
  readonly stops: readonly PlanStop[];
  /** The plan must be done by then (driver's shift end); Infinity when unconstrained. */
  readonly latestEnd: number;
  /** Energy that may be used: SoC·capacity − reserve; consumption per metre; depot to reach at the end. */
  readonly energy: { readonly availableKWh: number; readonly kWhPerM: number; readonly depot: Location };
  /**
   * Planning margin (ms) that insertions of NEW requests must leave before every stop's latest time (see
   * `promises.planningMarginMs`). Only the insertion estimator reads it; the exact checks here judge the hard
   * promises, so a plan that is already inside its margin is late for nobody.
   */
  readonly planningMarginMs?: number;
}

export interface RideInfo {
  readonly requestId: string;
  /** Waypoint index of the pickup; 0 (the start) for a request already on board. */
  readonly p: number;
  readonly d: number;
  readonly rideMs: number;
  readonly maxRideMs: number;
}

export interface Schedule {
  readonly n: number;
  readonly loc: Location[];
  readonly arrival: Float64Array;
  readonly ready: Float64Array;
  readonly departure: Float64Array;
  readonly earliest: Float64Array;
  readonly latest: Float64Array;
  /** Load after departing waypoint k. */
  readonly seats: Int32Array;
  readonly wheelchairs: Int32Array;
  /** legMs[k], legM[k]: leg from waypoint k−1 to k (k ≥ 1). */
  readonly legMs: Float64Array;
  readonly legM: Float64Array;
  readonly rides: RideInfo[];
  /** Driving + dwell time of the plan (waiting excluded): the "vehicle time" the optimiser minimises. */
  readonly vehicleTimeMs: number;
  readonly distanceM: number;
  /** Distance from the last waypoint to the depot. */
  readonly depotM: number;
  readonly energyKWh: number;
  readonly endTime: number;
}

export type ViolationKind = 'capacity' | 'late' | 'early' | 'ride' | 'precedence' | 'pinned' | 'driver' | 'battery' | 'unreachable';
export interface Violation {
  readonly kind: ViolationKind;
  readonly index: number;
  readonly requestId?: string;
  readonly by?: number;
}

export type LegFn = (a: Location, b: Location) => Leg;

export function computeSchedule(ctx: PlanContext, leg: LegFn): Schedule {
  const n = ctx.stops.length;
  const size = n + 1;
  const loc: Location[] = new Array(size);
  const arrival = new Float64Array(size);
  const ready = new Float64Array(size);
  const departure = new Float64Array(size);
  const earliest = new Float64Array(size);
  const latest = new Float64Array(size);
  const seats = new Int32Array(size);
  const wheelchairs = new Int32Array(size);
  const legMs = new Float64Array(size);
  const legM = new Float64Array(size);

  loc[0] = ctx.start.location;
  arrival[0] = ready[0] = departure[0] = ctx.start.time;
  earliest[0] = -Infinity;
  latest[0] = Infinity;
  let s = 0, w = 0;
  for (const o of ctx.onboard) (s += o.seats), (w += o.wheelchairs);
  seats[0] = s;
  wheelchairs[0] = w;

  let vehicleTime = 0, dist = 0;
  for (let k = 1; k <= n; k++) {
    const st = ctx.stops[k - 1];
    loc[k] = st.location;
    const l = leg(loc[k - 1], st.location);
    legMs[k] = l.t;
    legM[k] = l.d;
    arrival[k] = departure[k - 1] + l.t;
    const e = Math.max(st.earliest ?? -Infinity, st.hold ?? -Infinity);
    earliest[k] = e;
    latest[k] = st.latest ?? Infinity;
    ready[k] = Math.max(arrival[k], e);
    departure[k] = ready[k] + st.serviceMs;
    vehicleTime += l.t + st.serviceMs;
    dist += l.d;
    const sign = st.kind === 'pickup' ? 1 : -1;
    s += sign * st.seats;
    w += sign * st.wheelchairs;
    seats[k] = s;
    wheelchairs[k] = w;
  }

  const rides: RideInfo[] = [];
  const pickupIdx = new Map<string, number>();
  const pickedUpAt = new Map<string, number>();
  for (const o of ctx.onboard) pickedUpAt.set(o.requestId, o.pickedUpAt);
  for (let k = 1; k <= n; k++) {
    const st = ctx.stops[k - 1];
    if (st.kind === 'pickup') pickupIdx.set(st.requestId, k);
    else {
      const p = pickupIdx.get(st.requestId);
      const from = p !== undefined ? departure[p] : pickedUpAt.get(st.requestId);
      rides.push({
        requestId: st.requestId,
        p: p ?? 0,
        d: k,
        rideMs: from === undefined ? NaN : ready[k] - from,
        maxRideMs: st.maxRideMs ?? Infinity,
      });
    }
  }
  const depotM = leg(loc[n], ctx.energy.depot).d;
  return {
    n,
    loc,
    arrival,
    ready,
    departure,
    earliest,
    latest,
    seats,
    wheelchairs,
    legMs,
    legM,
    rides,
    vehicleTimeMs: vehicleTime,
    distanceM: dist,
    depotM,
    energyKWh: (dist + depotM) * ctx.energy.kWhPerM,
    endTime: departure[n],
  };
}

/** Floating-point slack of the battery check (1 Wh): SoC reports after each leg round differently from the plan. */
export const ENERGY_TOLERANCE_KWH = 1e-3;

/** Every broken constraint of a plan (empty = feasible). Time comparisons allow 1 ms for rounding. */
export function findViolations(ctx: PlanContext, sch: Schedule): Violation[] {
  const out: Violation[] = [];
  const { n } = sch;
  for (let k = 0; k <= n; k++) {
    if (sch.seats[k] > ctx.seats || sch.wheelchairs[k] > ctx.wheelchairPlaces || sch.seats[k] < 0 || sch.wheelchairs[k] < 0)
      out.push({ kind: 'capacity', index: k });
    if (k === 0) continue;
    const id = ctx.stops[k - 1].requestId;
    if (!Number.isFinite(sch.legMs[k])) out.push({ kind: 'unreachable', index: k, requestId: id });
    if (sch.ready[k] > sch.latest[k] + 1) out.push({ kind: 'late', index: k, requestId: id, by: sch.ready[k] - sch.latest[k] });
    if (sch.ready[k] < sch.earliest[k] - 1) out.push({ kind: 'early', index: k, requestId: id });
  }
  // Stops the bus is serving where it stands come first (see PlanStop.pinned).
  for (let k = 1; k < n; k++) {
    if (ctx.stops[k].pinned && !ctx.stops[k - 1].pinned) out.push({ kind: 'pinned', index: k + 1, requestId: ctx.stops[k].requestId });
  }
  const seen = new Set<string>();
  const onboard = new Set(ctx.onboard.map((o) => o.requestId));
  for (let k = 1; k <= n; k++) {
    const st = ctx.stops[k - 1];
    if (st.kind === 'pickup') {
      if (seen.has(st.requestId) || onboard.has(st.requestId)) out.push({ kind: 'precedence', index: k, requestId: st.requestId });
      seen.add(st.requestId);
    } else if (!seen.has(st.requestId) && !onboard.has(st.requestId)) {
      out.push({ kind: 'precedence', index: k, requestId: st.requestId });
    }
  }
  const dropped = new Set(sch.rides.map((r) => r.requestId));
  for (const id of seen) if (!dropped.has(id)) out.push({ kind: 'precedence', index: -1, requestId: id });
  for (const id of onboard) if (!dropped.has(id)) out.push({ kind: 'precedence', index: -1, requestId: id });
  for (const r of sch.rides) {
    if (!(r.rideMs <= r.maxRideMs + 1)) out.push({ kind: 'ride', index: r.d, requestId: r.requestId, by: r.rideMs - r.maxRideMs });
  }
  if (n > 0) {
    if (sch.endTime > ctx.latestEnd + 1) out.push({ kind: 'driver', index: n, by: sch.endTime - ctx.latestEnd });
    if (sch.energyKWh > ctx.energy.availableKWh + ENERGY_TOLERANCE_KWH) out.push({ kind: 'battery', index: n, by: sch.energyKWh - ctx.energy.availableKWh });
  }
  return out;
}
