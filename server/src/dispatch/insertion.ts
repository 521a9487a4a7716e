import { QUAD, type Leg, type Legs, type RequestLegs } from './legs.ts';
import type { Location, RejectionReason } from './types.ts';
import type { VehicleEntry } from './vehicleEntry.ts';

/** A request as the insertion machinery sees it: two stops plus hard time constraints (all ms). */
export interface InsertionRequest {
  readonly requestId: string;
  readonly pickup: Location;
  readonly dropoff: Location;
  readonly seats: number;
  readonly wheelchairs: number;
  readonly pickupServiceMs: number;
  readonly dropoffServiceMs: number;
  readonly earliestPickup: number;
  readonly latestPickup: number;
  /** Latest service start at the drop-off; Infinity when only the ride time binds. */
  readonly latestArrival: number;
  readonly maxRideMs: number;
  /** Reference for the rider's waiting cost (desired departure). */
  readonly desiredPickup: number;
}

/**
 * Pickup inserted after waypoint `pickupIdx`, drop-off after waypoint `dropoffIdx` of the ORIGINAL plan
 * (0 = start, n = last stop). pickupIdx === dropoffIdx: drop-off right after the pickup.
 */
export interface Insertion {
  readonly pickupIdx: number;
  readonly dropoffIdx: number;
}

/**
 * Insertion generator: every (pickupIdx, dropoffIdx) with p ≤ i ≤ j ≤ n whose occupied edges i..j have room
 * for the request in both capacity dimensions (seats, wheelchair places). An edge without room ends the
 * drop-off loop, since the request would have to ride across it for any later drop-off.
 * p = `entry.pinned`: the stops the bus is serving where it stands come first. A new pickup at that same place
 * goes right after them (i = p): no driving, served in the next dwell there.
 */
export function generateInsertions(entry: VehicleEntry, req: Pick<InsertionRequest, 'seats' | 'wheelchairs'>): Insertion[] {
  const out: Insertion[] = [];
  forEachInsertion(entry, req, (pickupIdx, dropoffIdx) => out.push({ pickupIdx, dropoffIdx }));
  return out;
}

/**
 * The same enumeration without allocating (the finder's hot path), optionally limited to pickups after
 * waypoints ≤ iMax and drop-offs after waypoints ≤ jMax (see waypointRange).
 */
export function forEachInsertion(
  entry: VehicleEntry,
  req: Pick<InsertionRequest, 'seats' | 'wheelchairs'>,
  visit: (pickupIdx: number, dropoffIdx: number) => void,
  iMax = entry.n,
  jMax = entry.n,
): number {
  const { seats, wheelchairs } = entry.schedule;
  const capS = entry.ctx.seats - req.seats;
  const capW = entry.ctx.wheelchairPlaces - req.wheelchairs;
  if (capS < 0 || capW < 0) return 0;
  let count = 0;
  for (let i = entry.pinned; i <= iMax; i++) {
    if (seats[i] > capS || wheelchairs[i] > capW) continue;
    visit(i, i);
    count++;
    for (let j = i + 1; j <= jMax; j++) {
      if (seats[j] > capS || wheelchairs[j] > capW) break;
      visit(i, j);
      count++;
    }
  }
  return count;
}

/** Why a candidate (or a whole bus) fails, ordered by how close to feasible it got (higher = closer). */
export const Stage = {
  Feasible: 0,
  /** The bus is too small for the group at all. */
  StaticCapacity: 1,
  /** The bus cannot be planned: no driver, charging, out of service. */
  Unavailable: 2,
  /** No position with room on board. */
  Load: 3,
  Window: 4,
  DriverShift: 5,
  Battery: 6,
} as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

/** Detour estimate of one candidate; all times ms. */
export interface InsertionEstimate {
  fail: Stage;
  pickupTime: number;
  pickupDeparture: number;
  dropoffTime: number;
  /** Arrival delay caused at the waypoint after the pickup (i < j) / after the drop-off. */
  pushPickup: number;
  pushDropoff: number;
  addedVehicleMs: number;
  addedDistM: number;
  /** New rider: wait beyond the desired time + ride time (per person). */
  riderMs: number;
  /** Upper estimate of passenger-ms of delay imposed on riders already planned. */
  otherDelayMs: number;
}

export function newEstimate(): InsertionEstimate {
  return {
    fail: Stage.Feasible,
    pickupTime: 0,
    pickupDeparture: 0,
    dropoffTime: 0,
    pushPickup: 0,
    pushDropoff: 0,
    addedVehicleMs: 0,
    addedDistM: 0,
    riderMs: 0,
    otherDelayMs: 0,
  };
}

/**
 * Legs between one bus's waypoints and the request's pickup P / drop-off D, looked up once per bus, as
 * QUAD numbers per waypoint k: [t,d] of w_k→P, P→w_k, w_k→D, D→w_k; plus P→D and D→depot.
 */
export interface EntryLegs {
  readonly v: Float64Array;
  readonly pd: Leg;
  readonly depotD: number;
}

export function entryLegs(entry: VehicleEntry, legs: RequestLegs, range: WaypointRange = fullRange(entry)): EntryLegs {
  const loc = entry.schedule.loc;
  const v = new Float64Array((entry.n + 1) * QUAD);
  for (let k = range.first; k <= range.last; k++) legs.copyInto(loc[k], v, k * QUAD);
  return { v, pd: legs.pd, depotD: legs.fromD(entry.ctx.energy.depot).d };
}

/**
 * The waypoints a request can use on a bus: pickups after waypoints pinned…iMax, drop-offs after waypoints up
 * to jMax; legs are needed for waypoints first…last. Departures only grow along a plan, so a pickup after a
 * waypoint left later than the latest pickup, or a drop-off after one left later than the latest possible
 * drop-off (latest arrival, or latest pickup + boarding + max ride), cannot be on time: the pruning is exact.
 * iMax < first: the bus cannot take the request at all.
 */
export interface WaypointRange {
  readonly first: number;
  readonly iMax: number;
  readonly jMax: number;
  readonly last: number;
}

export function waypointRange(entry: VehicleEntry, req: InsertionRequest): WaypointRange {
  const D = entry.schedule.departure;
  const dropBound = Math.min(req.latestArrival, req.latestPickup + req.pickupServiceMs + req.maxRideMs);
  let jMax = entry.n;
  while (jMax >= entry.pinned && D[jMax] > dropBound) jMax--;
  let iMax = Math.min(jMax, entry.n);
  while (iMax >= entry.pinned && D[iMax] > req.latestPickup) iMax--;
  return { first: entry.pinned, iMax, jMax, last: Math.min(entry.n, jMax + 1) };
}

function fullRange(entry: VehicleEntry): WaypointRange {
  return { first: 0, iMax: entry.n, jMax: entry.n, last: entry.n };
}

/**
 * Legs to and from the request's pickup and drop-off for just the places the finder will read on these buses
 * (see waypointRange), fetched in one batch.
 */
export function legsFor(legs: Legs, entries: readonly VehicleEntry[], req: InsertionRequest): RequestLegs {
  const places: Location[] = [];
  for (const e of entries) {
    const r = waypointRange(e, req);
    if (r.iMax < r.first) continue;
    places.push(e.ctx.energy.depot);
    for (let k = r.first; k <= r.last; k++) places.push(e.schedule.loc[k]);
  }
  return legs.requestLegs(places, req.pickup, req.dropoff);
}

/**
 * Detour estimator + feasibility in O(1) per candidate from the entry's precomputed slack (see VehicleEntry).
 * Exact for times and loads; ride-time checks are exact or conservative (never accept an infeasible plan).
 */
export function estimateInsertion(
  entry: VehicleEntry,
  req: InsertionRequest,
  legs: RequestLegs | EntryLegs,
  i: number,
  j: number,
  out: InsertionEstimate = newEstimate(),
): InsertionEstimate {
  const L = 'v' in legs ? legs : entryLegs(entry, legs);
  const V = L.v;
  const sch = entry.schedule;
  const n = entry.n;
  const N = n + 1;
  const D = sch.departure, A = sch.arrival, cw = entry.cumWait;
  out.fail = Stage.Feasible;
  out.pushPickup = out.pushDropoff = out.otherDelayMs = 0;

  const toPt = V[i * QUAD];
  const bP = Math.max(D[i] + toPt, req.earliestPickup);
  out.pickupTime = bP;
  if (!(bP <= req.latestPickup)) return fail(out, Stage.Window);
  const dP = bP + req.pickupServiceMs;
  out.pickupDeparture = dP;
  let veh = toPt + req.pickupServiceMs + req.dropoffServiceMs;
  let dist = V[i * QUAD + 1];
  let bD: number;
  let deltaJ = 0;

  if (i === j) {
    bD = dP + L.pd.t;
    veh += L.pd.t;
    dist += L.pd.d;
  } else {
    const fromPt = V[(i + 1) * QUAD + 2];
    const push1 = Math.max(0, dP + fromPt - A[i + 1]);
    out.pushPickup = push1;
    veh += fromPt - sch.legMs[i + 1];
    dist += V[(i + 1) * QUAD + 3] - sch.legM[i + 1];
    if (push1 > entry.rangeMinX[i * N + j] - cw[i]) return fail(out, Stage.Window);
    if (push1 > entry.rideSlack[i * N + i]) return fail(out, Stage.Window);
    deltaJ = Math.max(0, push1 - (cw[j] - cw[i]));
    const toDt = V[j * QUAD + 4];
    bD = D[j] + deltaJ + toDt;
    veh += toDt;
    dist += V[j * QUAD + 5];
    out.otherDelayMs = push1 * (entry.paxPrefix[Math.min(j, entry.firstWaitAfter[i])] - entry.paxPrefix[i]);
  }
  out.dropoffTime = bD;
  if (!(bD - dP <= req.maxRideMs) || bD > req.latestArrival) return fail(out, Stage.Window);
  const dD = bD + req.dropoffServiceMs;

  let depotDelta = 0;
  if (j < n) {
    const fromDt = V[(j + 1) * QUAD + 6];
    const push2 = Math.max(0, dD + fromDt - A[j + 1]);
    out.pushDropoff = push2;
    veh += fromDt - sch.legMs[j + 1];
    dist += V[(j + 1) * QUAD + 7] - sch.legM[j + 1];
    if (push2 > entry.suffixMinX[j + 1] - cw[j]) return fail(out, Stage.Window);
    // Requests boarding between the two insertion points see only the drop-off detour; those on board
    // across both see the whole push.
    if (push2 - deltaJ > entry.rideSlack[j * N + j]) return fail(out, Stage.Window);
    if (push2 > entry.rideSlack[i * N + j]) return fail(out, Stage.Window);
    if (push2 > entry.endX - cw[j]) return fail(out, Stage.DriverShift);
    out.otherDelayMs += push2 * (entry.paxPrefix[entry.firstWaitAfter[j]] - entry.paxPrefix[j]);
  } else {
    if (dD > entry.ctx.latestEnd) return fail(out, Stage.DriverShift);
    depotDelta = L.depotD - sch.depotM;
  }
  out.addedVehicleMs = veh;
  out.addedDistM = dist;
  // No tolerance here (the exact check allows ENERGY_TOLERANCE_KWH): a plan accepted right at the edge must
  // not turn into a violation through the rounding of later SoC reports.
  if ((dist + depotDelta) * entry.kWhPerM > entry.energySlackKWh) return fail(out, Stage.Battery);
  out.riderMs = Math.max(0, bP - req.desiredPickup) + (bD - dP);
  return out;
}

function fail(out: InsertionEstimate, stage: Stage): InsertionEstimate {
  out.fail = stage;
  return out;
}

export interface CostWeights {
  readonly vehicleTimeWeight: number;
  readonly riderTimeWeight: number;
  readonly otherRidersDelayWeight: number;
}

/** Cost calculator: added vehicle time + weighted rider time (+ the bus's activation cost); Infinity if infeasible. */
export function insertionCost(entry: VehicleEntry, req: InsertionRequest, est: InsertionEstimate, w: CostWeights): number {
  if (est.fail !== Stage.Feasible) return Infinity;
  const pax = req.seats + req.wheelchairs;
  return (
    w.vehicleTimeWeight * est.addedVehicleMs +
    w.riderTimeWeight * est.riderMs * pax +
    w.otherRidersDelayWeight * est.otherDelayMs +
    entry.activationCostMs
  );
}

export interface InsertionDecision {
  readonly vehicleId: string;
  readonly requestId: string;
  readonly pickupIdx: number;
  readonly dropoffIdx: number;
  readonly cost: number;
  readonly pickupTime: number;
  readonly dropoffTime: number;
}

export interface BestInsertionResult {
  readonly best: InsertionDecision | null;
  /** Furthest stage any candidate reached when none was feasible (for the rejection reason). */
  readonly stage: Stage;
}

/** Deterministic order: cost, then bus id, pickup index, drop-off index. */
export function compareDecisions(a: InsertionDecision, b: InsertionDecision): number {
  if (a.cost !== b.cost) return a.cost < b.cost ? -1 : 1;
  if (a.vehicleId !== b.vehicleId) return a.vehicleId < b.vehicleId ? -1 : 1;
  if (a.pickupIdx !== b.pickupIdx) return a.pickupIdx - b.pickupIdx;
  return a.dropoffIdx - b.dropoffIdx;
}

/**
 * Best-insertion finder over all given buses. `exclude` skips candidates (used when an exact re-check refused
 * one, which only happens if the oracle violates the triangle inequality).
 */
export function findBestInsertion(
  entries: readonly VehicleEntry[],
  req: InsertionRequest,
  legs: RequestLegs,
  w: CostWeights,
  exclude?: (vehicleId: string, i: number, j: number) => boolean,
): BestInsertionResult {
  let bestCost = Infinity, bestEntry: VehicleEntry | null = null, bestI = -1, bestJ = -1, bestP = 0, bestD = 0;
  let stage: Stage = Stage.Feasible;
  const est = newEstimate();
  let entry: VehicleEntry;
  let el: EntryLegs;
  const visit = (i: number, j: number) => {
    if (exclude?.(entry.vehicleId, i, j)) return;
    estimateInsertion(entry, req, el, i, j, est);
    if (est.fail !== Stage.Feasible) {
      if (est.fail > stage) stage = est.fail;
      return;
    }
    const cost = insertionCost(entry, req, est, w);
    // Tie-breaks: cost, then bus id, pickup index, drop-off index (candidates of a bus come in index order).
    if (
      cost < bestCost ||
      (cost === bestCost && bestEntry !== null && (entry.vehicleId < bestEntry.vehicleId || (entry === bestEntry && (i < bestI || (i === bestI && j < bestJ)))))
    ) {
      bestCost = cost;
      bestEntry = entry;
      bestI = i;
      bestJ = j;
      bestP = est.pickupTime;
      bestD = est.dropoffTime;
    }
  };
  for (const e of entries) {
    entry = e;
    if (req.seats > e.ctx.seats || req.wheelchairs > e.ctx.wheelchairPlaces) {
      stage = maxStage(stage, Stage.StaticCapacity);
      continue;
    }
    const range = waypointRange(e, req);
    if (range.iMax < range.first) {
      stage = maxStage(stage, Stage.Window);
      continue;
    }
    el = entryLegs(e, legs, range);
    if (forEachInsertion(e, req, visit, range.iMax, range.jMax) === 0) {
      // No room in the time range: capacity binds unless a later position (too late anyway) had room.
      stage = maxStage(stage, forEachInsertion(e, req, () => {}) > 0 ? Stage.Window : Stage.Load);
    }
  }
  if (!bestEntry) return { best: null, stage };
  const b: VehicleEntry = bestEntry;
  return {
    best: { vehicleId: b.vehicleId, requestId: req.requestId, pickupIdx: bestI, dropoffIdx: bestJ, cost: bestCost, pickupTime: bestP, dropoffTime: bestD },
    stage: Stage.Feasible,
  };
}

export function maxStage(a: Stage, b: Stage): Stage {
  return a > b ? a : b;
}

export function stageReason(stage: Stage, unavailableReason: RejectionReason = 'no-driver'): RejectionReason {
  switch (stage) {
    case Stage.StaticCapacity:
    case Stage.Load:
      return 'capacity';
    case Stage.Unavailable:
      return unavailableReason;
    case Stage.DriverShift:
      return 'no-driver';
    case Stage.Battery:
      return 'battery';
    default:
      return 'window';
  }
}
