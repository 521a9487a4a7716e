import { computeSchedule, type LegFn, type PlanContext, type Schedule } from './schedule.ts';
import { pinnedCount } from './scheduler.ts';
import type { Waypoint } from './types.ts';

/**
 * Snapshot of one bus for insertion (MATSim DRT's VehicleEntry): start waypoint (where/when it can divert, load
 * on board), planned stops with arrival/ready/departure times, end waypoint (driver shift end, depot), plus the
 * precomputed slack that makes every insertion candidate checkable in O(1):
 *
 * - Delay propagation. An arrival delay δ at waypoint i+1 becomes max(0, δ − (cumWait[k] − cumWait[i])) at k,
 *   because the bus already waits at stops with a later window start. So δ is feasible for all k > i iff
 *   δ ≤ min_{k>i}(cumWait[k] + latest[k] − ready[k]) − cumWait[i]  (forward time slack).
 *   `slackX[k]` holds the per-stop term, `suffixMinX`/`rangeMinX` its suffix/range minima.
 * - Ride times. A detour inserted on edge e (waypoint e → e+1) lengthens at most the rides of requests on
 *   board on e, by at most the delay it causes; `rideSlack[i·(n+1)+j]` = min remaining ride slack of the
 *   requests on board on both edges i and j (picked up at ≤ i, dropped at > j).
 * - Planning margin m (`ctx.planningMarginMs`): a stop's latest time counts as latest − m, but never earlier
 *   than its planned service start (a stop already inside its margin just takes no further delay, it does not
 *   make the plan infeasible) and never later than the hard latest (a late stop stays late).
 * - Pinned prefix: the first `pinned` stops are being served where the bus stands; candidates start after them.
 */
export interface VehicleEntry {
  readonly vehicleId: string;
  readonly ctx: PlanContext;
  readonly schedule: Schedule;
  /** start, stops…, end */
  readonly waypoints: readonly Waypoint[];
  readonly n: number;
  /** Leading stops pinned by `vehicleArrived` (PlanStop.pinned): no insertion before waypoint `pinned`. */
  readonly pinned: number;
  readonly cumWait: Float64Array;
  readonly slackX: Float64Array;
  /** [k] = min over stops m ≥ k of slackX[m] (k = 1..n+1; [n+1] = Infinity). */
  readonly suffixMinX: Float64Array;
  /** [i·(n+1)+j] = min slackX[i+1..j] (Infinity when j ≤ i). */
  readonly rangeMinX: Float64Array;
  /** cumWait[n] + (latestEnd − departure[n]): end-of-plan (driver shift) term of the forward slack. */
  readonly endX: number;
  readonly rideSlack: Float64Array;
  /** Energy (kWh) the plan may still add. */
  readonly energySlackKWh: number;
  readonly kWhPerM: number;
  /** Passengers served at waypoints 1..k (boarding or alighting), for the delay-to-others estimate. */
  readonly paxPrefix: Float64Array;
  /** [k] = first waypoint m > k where the bus waits (delay is absorbed from there), or n. */
  readonly firstWaitAfter: Int32Array;
  /** Extra cost of using this bus at all (e.g. a driver must be assigned first). */
  readonly activationCostMs: number;
}

export function buildVehicleEntry(
  vehicleId: string,
  ctx: PlanContext,
  leg: LegFn,
  activationCostMs = 0,
  schedule: Schedule = computeSchedule(ctx, leg),
): VehicleEntry {
  const sch = schedule;
  const n = sch.n;
  const N = n + 1;
  const cumWait = new Float64Array(N);
  const slackX = new Float64Array(N + 1);
  const margin = ctx.planningMarginMs ?? 0;
  for (let k = 1; k <= n; k++) {
    cumWait[k] = cumWait[k - 1] + (sch.ready[k] - sch.arrival[k]);
    const hard = sch.latest[k];
    const latest = margin > 0 ? Math.min(hard, Math.max(sch.ready[k], hard - margin)) : hard;
    slackX[k] = cumWait[k] + latest - sch.ready[k];
  }
  const pinned = pinnedCount(ctx.stops);
  slackX[0] = Infinity;
  const suffixMinX = new Float64Array(N + 1);
  suffixMinX[N] = Infinity;
  for (let k = n; k >= 1; k--) suffixMinX[k] = Math.min(slackX[k], suffixMinX[k + 1]);
  suffixMinX[0] = suffixMinX[1] ?? Infinity;

  const rangeMinX = new Float64Array(N * N).fill(Infinity);
  for (let i = 0; i <= n; i++) {
    let m = Infinity;
    for (let j = i + 1; j <= n; j++) {
      m = Math.min(m, slackX[j]);
      rangeMinX[i * N + j] = m;
    }
  }

  // Ride slack: G[p][d] = min slack of requests picked up at p (0 = on board) and dropped at d;
  // prefix-min over p then suffix-min over d gives the min over requests with p ≤ i and d ≥ j+1.
  const G = new Float64Array(N * N).fill(Infinity);
  for (const r of sch.rides) {
    const s = r.maxRideMs - r.rideMs;
    if (s < G[r.p * N + r.d]) G[r.p * N + r.d] = s;
  }
  for (let p = 1; p <= n; p++) for (let d = 0; d <= n; d++) G[p * N + d] = Math.min(G[p * N + d], G[(p - 1) * N + d]);
  const rideSlack = new Float64Array(N * N).fill(Infinity);
  for (let i = 0; i <= n; i++) {
    let m = Infinity;
    for (let j = n - 1; j >= i; j--) {
      m = Math.min(m, G[i * N + j + 1]);
      rideSlack[i * N + j] = m;
    }
  }

  const paxPrefix = new Float64Array(N);
  for (let k = 1; k <= n; k++) {
    const st = ctx.stops[k - 1];
    paxPrefix[k] = paxPrefix[k - 1] + st.seats + st.wheelchairs;
  }
  const firstWaitAfter = new Int32Array(N);
  let next = n;
  for (let k = n; k >= 0; k--) {
    firstWaitAfter[k] = next;
    if (k >= 1 && sch.ready[k] > sch.arrival[k]) next = k;
  }

  const waypoints: Waypoint[] = [
    {
      kind: 'start',
      location: ctx.start.location,
      time: ctx.start.time,
      seats: sch.seats[0],
      wheelchairs: sch.wheelchairs[0],
    },
  ];
  for (let k = 1; k <= n; k++) {
    waypoints.push({
      kind: 'stop',
      stop: ctx.stops[k - 1],
      arrival: sch.arrival[k],
      ready: sch.ready[k],
      departure: sch.departure[k],
      seats: sch.seats[k],
      wheelchairs: sch.wheelchairs[k],
    });
  }
  waypoints.push({ kind: 'end', location: ctx.energy.depot, latestTime: ctx.latestEnd });

  return {
    vehicleId,
    ctx,
    schedule: sch,
    waypoints,
    n,
    pinned,
    cumWait,
    slackX,
    suffixMinX,
    rangeMinX,
    endX: cumWait[n] + (ctx.latestEnd - sch.departure[n]),
    rideSlack,
    energySlackKWh: ctx.energy.availableKWh - sch.energyKWh,
    kWhPerM: ctx.energy.kWhPerM,
    paxPrefix,
    firstWaitAfter,
    activationCostMs,
  };
}
