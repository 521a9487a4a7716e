import type { Rng } from '../core/rng.ts';
import { findBestInsertion, legsFor, type CostWeights, type InsertionRequest } from './insertion.ts';
import type { Legs } from './legs.ts';
import { computeSchedule, findViolations, type LegFn, type PlanContext, type Schedule } from './schedule.ts';
import { clearHolds, holdPickups, insertRequestStops, moveStop, pinnedCount, removeRequestStops } from './scheduler.ts';
import type { Location, PlanStop } from './types.ts';
import { buildVehicleEntry, type VehicleEntry } from './vehicleEntry.ts';

/**
 * Periodic re-optimisation by local search over the committed plans:
 * - relocate: take a not-yet-picked-up request out of its bus and best-insert it into any bus (same bus = move
 *   it within the plan),
 * - exchange: swap two requests between two buses,
 * - reorder: move a single stop within a plan (also drop-offs of riders on board),
 * - release holds left behind by removals when the plan stays feasible without them.
 * Every candidate plan is re-timed exactly and checked against every constraint (each confirmed promise is a
 * constraint on the stops); a move is accepted only when it lowers total vehicle time (driving + dwell).
 * Stops pinned by the bus's arrival (PlanStop.pinned) never move: their requests are not relocated or
 * exchanged, reorders leave the pinned prefix alone, and insertions go after it.
 */
export interface SearchHost {
  /** Buses the search may touch (driver assigned or reserved), sorted by id. */
  readonly vehicleIds: readonly string[];
  stops(vehicleId: string): readonly PlanStop[];
  context(vehicleId: string, stops: readonly PlanStop[]): PlanContext;
  readonly leg: LegFn;
  readonly legs: Legs;
  /** The request's promise as insertion constraints; null if it may not move (e.g. on board). */
  insertionRequest(requestId: string): InsertionRequest | null;
  /** Bus whose plan holds the request's stops. */
  vehicleOf(requestId: string): string | null;
  /** Replaces a plan; the host updates its request→bus index. */
  commit(vehicleId: string, stops: PlanStop[]): void;
  readonly rng: Rng;
}

export interface LocalSearchOptions {
  readonly maxRounds: number;
  /** Relocation targets per request: the buses whose plans pass closest to its pickup. */
  readonly candidateBuses: number;
  /** Relocation attempts + exchange pairs per call: bounds the time one call blocks (big fleets are covered
   * over several calls; the rng picks a different order each time). */
  readonly maxEvaluations: number;
  readonly maxExchangePairs: number;
  /** Plans reordered per pass: all of a small fleet, a random sample of a big one (the pass costs O(stops³) each). */
  readonly maxReorderPlans: number;
  readonly minGainMs: number;
}

export interface ReoptimiseMove {
  readonly type: 'relocate' | 'exchange' | 'reorder' | 'release-holds';
  readonly requestIds: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly gainMs: number;
}

export interface ReoptimiseResult {
  readonly vehicleTimeBeforeMs: number;
  readonly vehicleTimeAfterMs: number;
  readonly moves: ReoptimiseMove[];
}

const VEHICLE_TIME_ONLY: CostWeights = { vehicleTimeWeight: 1, riderTimeWeight: 0, otherRidersDelayWeight: 0 };
const EXCHANGE_NEIGHBOURS = 4;

interface Timed {
  readonly stops: PlanStop[];
  readonly ctx: PlanContext;
  readonly sch: Schedule;
  readonly ok: boolean;
}

export function localSearch(host: SearchHost, opts: LocalSearchOptions): ReoptimiseResult {
  const moves: ReoptimiseMove[] = [];
  const timedCache = new Map<string, { stops: readonly PlanStop[]; t: Timed }>();
  const entryCache = new Map<string, { stops: readonly PlanStop[]; e: VehicleEntry }>();

  const timed = (vid: string, stops: readonly PlanStop[]): Timed => {
    const ctx = host.context(vid, stops);
    const sch = computeSchedule(ctx, host.leg);
    return { stops: stops as PlanStop[], ctx, sch, ok: findViolations(ctx, sch).length === 0 };
  };
  const current = (vid: string): Timed => {
    const stops = host.stops(vid);
    const c = timedCache.get(vid);
    if (c && c.stops === stops) return c.t;
    const t = timed(vid, stops);
    timedCache.set(vid, { stops, t });
    return t;
  };
  const entryOf = (vid: string): VehicleEntry => {
    const stops = host.stops(vid);
    const c = entryCache.get(vid);
    if (c && c.stops === stops) return c.e;
    const t = current(vid);
    const e = buildVehicleEntry(vid, t.ctx, host.leg, 0, t.sch);
    entryCache.set(vid, { stops, e });
    return e;
  };
  /** Plan without the request, re-timed; falls back to holding pickups at their old times. Memoised per plan. */
  const withoutMemo = new Map<string, { stops: readonly PlanStop[]; t: Timed | null }>();
  const without = (vid: string, base: Timed, requestId: string): Timed | null => {
    const key = `${vid}\u0000${requestId}`;
    const m = withoutMemo.get(key);
    if (m && m.stops === base.stops) return m.t;
    const t = withoutUncached(vid, base, requestId);
    withoutMemo.set(key, { stops: base.stops, t });
    return t;
  };
  const withoutUncached = (vid: string, base: Timed, requestId: string): Timed | null => {
    const s1 = removeRequestStops(base.stops, requestId);
    const t1 = timed(vid, s1);
    if (t1.ok) return t1;
    const t2 = timed(vid, holdPickups(s1, { stops: base.stops, schedule: base.sch }));
    return t2.ok ? t2 : null;
  };
  /** A request's two stops, without a hold: a moved pickup is timed afresh (the estimator assumes so). */
  const requestStops = (stops: readonly PlanStop[], id: string) => {
    const [pickup, dropoff] = clearHolds([
      stops.find((s) => s.requestId === id && s.kind === 'pickup')!,
      stops.find((s) => s.requestId === id && s.kind === 'dropoff')!,
    ]);
    return { pickup, dropoff };
  };
  const bestInto = (entries: VehicleEntry[], ir: InsertionRequest) => {
    return findBestInsertion(entries, ir, legsFor(host.legs, entries, ir), VEHICLE_TIME_ONLY).best;
  };
  const total = () => host.vehicleIds.reduce((s, v) => s + current(v).sch.vehicleTimeMs, 0);
  const before = total();

  // Holds only ever cost flexibility; drop them where the plan stays feasible.
  for (const vid of host.vehicleIds) {
    const cur = current(vid);
    const released = clearHolds(cur.stops);
    if (released !== cur.stops) {
      const t = timed(vid, released);
      if (t.ok) {
        host.commit(vid, released);
        moves.push({ type: 'release-holds', requestIds: [], from: vid, to: vid, gainMs: cur.sch.vehicleTimeMs - t.sch.vehicleTimeMs });
      }
    }
  }

  // Promises do not change during a search: constraints are looked up once per request.
  const irCache = new Map<string, InsertionRequest | null>();
  const irOf = (id: string): InsertionRequest | null => {
    let ir = irCache.get(id);
    if (ir === undefined) irCache.set(id, (ir = host.insertionRequest(id)));
    return ir;
  };
  // Where each bus's plan goes (start + stops), for picking nearby buses cheaply.
  const pointsCache = new Map<string, { stops: readonly PlanStop[]; lat: Float64Array; lon: Float64Array }>();
  const pointsOf = (vid: string) => {
    const stops = host.stops(vid);
    const c = pointsCache.get(vid);
    if (c && c.stops === stops) return c;
    const locs = [current(vid).ctx.start.location, ...stops.map((x) => x.location)];
    const v = { stops, lat: Float64Array.from(locs, (l) => l.lat), lon: Float64Array.from(locs, (l) => l.lon) };
    pointsCache.set(vid, v);
    return v;
  };
  /** The k buses whose plans come closest to p (equirectangular distance), plus `own`, in id order. */
  const nearestBuses = (p: Location, k: number, own: string): string[] => {
    if (host.vehicleIds.length <= k + 1) return [...host.vehicleIds];
    const cos = Math.cos((p.lat * Math.PI) / 180);
    const scored = host.vehicleIds.map((v) => {
      const pts = pointsOf(v);
      let best = Infinity;
      for (let i = 0; i < pts.lat.length; i++) {
        const dy = pts.lat[i] - p.lat, dx = (pts.lon[i] - p.lon) * cos;
        const d = dx * dx + dy * dy;
        if (d < best) best = d;
      }
      return { v, d: best };
    });
    scored.sort((a, b) => a.d - b.d || (a.v < b.v ? -1 : 1));
    const keep = new Set(scored.slice(0, k).map((x) => x.v));
    keep.add(own);
    return host.vehicleIds.filter((v) => keep.has(v));
  };

  const movable = (): Array<{ id: string; vid: string }> => {
    const out: Array<{ id: string; vid: string }> = [];
    for (const vid of host.vehicleIds) {
      for (const s of host.stops(vid)) if (s.kind === 'pickup' && !s.pinned && irOf(s.requestId)) out.push({ id: s.requestId, vid });
    }
    out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return host.rng.shuffle(out);
  };

  let budget = opts.maxEvaluations;
  // Requests looked at and turned away by the cheap bounds cost little each, but with hundreds of live bookings a
  // call that looks at all of them, several times, was a task of 100–300 ms every few seconds: they have a budget too.
  let scans = opts.maxEvaluations * SCANS_PER_EVALUATION;
  for (let round = 0; round < opts.maxRounds && budget > 0; round++) {
    let improved = false;

    // Relocate (covers moving a request within its own bus).
    for (const { id } of movable()) {
      if (budget <= 0 || scans-- <= 0) break;
      const from = host.vehicleOf(id);
      const ir = irOf(id);
      if (!from || !ir) continue;
      const base = current(from);
      // Insertion never costs less than 0, so a request whose removal saves nothing cannot gain.
      if (base.sch.vehicleTimeMs - vehicleTimeOf(host, base.ctx.start.location, base.stops, id) <= opts.minGainMs) continue;
      budget--;
      const reduced = without(from, base, id);
      if (!reduced) continue;
      const { pickup, dropoff } = requestStops(base.stops, id);
      const targets = nearestBuses(ir.pickup, opts.candidateBuses, from);
      const entries = targets.map((v) => (v === from ? buildVehicleEntry(v, reduced.ctx, host.leg, 0, reduced.sch) : entryOf(v)));
      const best = bestInto(entries, ir);
      if (!best) continue;
      const to = best.vehicleId;
      const removalGain = base.sch.vehicleTimeMs - reduced.sch.vehicleTimeMs;
      if (removalGain - best.cost <= opts.minGainMs) continue;
      const targetBase = to === from ? reduced : current(to);
      const t = timed(to, insertRequestStops(targetBase.stops, best.pickupIdx, best.dropoffIdx, pickup, dropoff));
      if (!t.ok) continue;
      const gain =
        to === from
          ? base.sch.vehicleTimeMs - t.sch.vehicleTimeMs
          : base.sch.vehicleTimeMs + current(to).sch.vehicleTimeMs - reduced.sch.vehicleTimeMs - t.sch.vehicleTimeMs;
      if (gain > opts.minGainMs) {
        if (to !== from) host.commit(from, reduced.stops);
        host.commit(to, t.stops);
        moves.push({ type: 'relocate', requestIds: [id], from, to, gainMs: gain });
        improved = true;
      }
    }

    // Exchange between buses, each request with its nearest few requests (by pickup) on other buses.
    const all = movable();
    let pairs = 0;
    for (const a of all) {
      if (pairs >= opts.maxExchangePairs || budget <= 0 || scans-- <= 0) break;
      const aFrom = host.vehicleOf(a.id);
      const irA0 = irOf(a.id);
      if (!aFrom || !irA0) continue;
      const aPickup = irA0.pickup;
      const cos = Math.cos((aPickup.lat * Math.PI) / 180);
      const others: Array<{ id: string; vid: string; d: number }> = [];
      for (const bv of nearestBuses(aPickup, EXCHANGE_NEIGHBOURS, aFrom)) {
        if (bv === aFrom) continue;
        for (const st of host.stops(bv)) {
          if (st.kind !== 'pickup' || st.pinned || !irOf(st.requestId)) continue;
          const dy = st.location.lat - aPickup.lat, dx = (st.location.lon - aPickup.lon) * cos;
          others.push({ id: st.requestId, vid: bv, d: dx * dx + dy * dy });
        }
      }
      others.sort((x, y) => x.d - y.d || (x.id < y.id ? -1 : 1));
      others.length = Math.min(others.length, EXCHANGE_NEIGHBOURS);
      for (const b of others) {
        if (pairs++ >= opts.maxExchangePairs) break;
        const A = current(aFrom), B = current(b.vid);
        if (!A.stops.some((s) => s.requestId === a.id) || !B.stops.some((s) => s.requestId === b.id)) continue;
        const irA = irOf(a.id), irB = irOf(b.id);
        if (!irA || !irB) continue;
        // Upper bound of the gain: what the two removals save (insertions cost ≥ 0).
        const saveA = A.sch.vehicleTimeMs - vehicleTimeOf(host, A.ctx.start.location, A.stops, a.id);
        const saveB = B.sch.vehicleTimeMs - vehicleTimeOf(host, B.ctx.start.location, B.stops, b.id);
        if (saveA + saveB <= opts.minGainMs) continue;
        budget--;
        const A1 = without(aFrom, A, a.id), B1 = without(b.vid, B, b.id);
        if (!A1 || !B1) continue;
        const bestB = bestInto([buildVehicleEntry(b.vid, B1.ctx, host.leg, 0, B1.sch)], irA);
        if (!bestB) continue;
        const bestA = bestInto([buildVehicleEntry(aFrom, A1.ctx, host.leg, 0, A1.sch)], irB);
        if (!bestA) continue;
        const estimate = A.sch.vehicleTimeMs + B.sch.vehicleTimeMs - A1.sch.vehicleTimeMs - B1.sch.vehicleTimeMs - bestA.cost - bestB.cost;
        if (estimate <= opts.minGainMs) continue;
        const sa = requestStops(A.stops, a.id), sb = requestStops(B.stops, b.id);
        const A2 = timed(aFrom, insertRequestStops(A1.stops, bestA.pickupIdx, bestA.dropoffIdx, sb.pickup, sb.dropoff));
        const B2 = timed(b.vid, insertRequestStops(B1.stops, bestB.pickupIdx, bestB.dropoffIdx, sa.pickup, sa.dropoff));
        if (!A2.ok || !B2.ok) continue;
        const gain = A.sch.vehicleTimeMs + B.sch.vehicleTimeMs - A2.sch.vehicleTimeMs - B2.sch.vehicleTimeMs;
        if (gain > opts.minGainMs) {
          host.commit(aFrom, A2.stops);
          host.commit(b.vid, B2.stops);
          moves.push({ type: 'exchange', requestIds: [a.id, b.id], from: aFrom, to: b.vid, gainMs: gain });
          improved = true;
          break;
        }
      }
    }

    // Reorder single stops within each plan (best improving position per stop).
    const reorder = host.vehicleIds.length <= opts.maxReorderPlans ? host.vehicleIds : host.rng.shuffle([...host.vehicleIds]).slice(0, opts.maxReorderPlans);
    for (const vid of reorder) {
      let cur = current(vid);
      const fixed = pinnedCount(cur.stops);
      for (let s = fixed; s < cur.stops.length; s++) {
        let best: Timed | null = null;
        for (let p = fixed; p < cur.stops.length; p++) {
          if (p === s) continue;
          const cand = moveStop(cur.stops, s, p);
          if (!precedenceOk(cand)) continue;
          // Cheap vehicle-time check first; the exact re-timing only for improving candidates.
          if (cur.sch.vehicleTimeMs - vehicleTimeOf(host, cur.ctx.start.location, cand) <= opts.minGainMs) continue;
          const t = timed(vid, cand);
          if (t.ok && cur.sch.vehicleTimeMs - t.sch.vehicleTimeMs > opts.minGainMs && (!best || t.sch.vehicleTimeMs < best.sch.vehicleTimeMs)) best = t;
        }
        if (best) {
          const moved = cur.stops[s];
          moves.push({ type: 'reorder', requestIds: [moved.requestId], from: vid, to: vid, gainMs: cur.sch.vehicleTimeMs - best.sch.vehicleTimeMs });
          host.commit(vid, best.stops);
          cur = current(vid);
          improved = true;
        }
      }
    }
    if (!improved) break;
  }
  return { vehicleTimeBeforeMs: before, vehicleTimeAfterMs: total(), moves };
}

/** Requests a call may look at (and turn away by a bound) per evaluation of its budget. */
const SCANS_PER_EVALUATION = 8;

/** Driving + dwell time of a stop list (optionally without one request), from the legs alone. */
function vehicleTimeOf(host: SearchHost, start: Location, stops: readonly PlanStop[], skip?: string): number {
  let t = 0;
  let prev = start;
  for (const s of stops) {
    if (s.requestId === skip) continue;
    t += host.leg(prev, s.location).t + s.serviceMs;
    prev = s.location;
  }
  return t;
}

function precedenceOk(stops: readonly PlanStop[]): boolean {
  const seenDrop = new Set<string>();
  for (const s of stops) {
    if (s.kind === 'dropoff') seenDrop.add(s.requestId);
    else if (seenDrop.has(s.requestId)) return false;
  }
  return true;
}
