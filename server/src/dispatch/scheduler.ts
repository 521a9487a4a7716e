import type { Schedule } from './schedule.ts';
import type { PlanStop } from './types.ts';

/**
 * Scheduler side of decide/apply: pure edits of a plan's stop list. The optimiser decides (an
 * InsertionDecision, a move); these functions apply it; the dispatcher re-times and checks the result exactly
 * before committing.
 */

/** Pickup after waypoint i, drop-off after waypoint j of the original plan (0 = start). */
export function insertRequestStops(
  stops: readonly PlanStop[],
  pickupIdx: number,
  dropoffIdx: number,
  pickup: PlanStop,
  dropoff: PlanStop,
): PlanStop[] {
  if (pickupIdx < 0 || dropoffIdx < pickupIdx || dropoffIdx > stops.length) {
    throw new RangeError(`bad insertion (${pickupIdx}, ${dropoffIdx}) into ${stops.length} stops`);
  }
  return [...stops.slice(0, pickupIdx), pickup, ...stops.slice(pickupIdx, dropoffIdx), dropoff, ...stops.slice(dropoffIdx)];
}

/** The plan without any stop of the request (cancellation, no-show, relocation). */
export function removeRequestStops(stops: readonly PlanStop[], requestId: string): PlanStop[] {
  return stops.filter((s) => s.requestId !== requestId);
}

/** Moves one stop to another position (reorder within a plan). `to` indexes the list after removal. */
export function moveStop(stops: readonly PlanStop[], from: number, to: number): PlanStop[] {
  const out = stops.slice();
  const [s] = out.splice(from, 1);
  out.splice(to, 0, s);
  return out;
}

/** Pickups keep (at least) the service time they had in `old`: proven-feasible timing after a removal. */
export function holdPickups(stops: readonly PlanStop[], old: { stops: readonly PlanStop[]; schedule: Schedule }): PlanStop[] {
  const readyByPickup = new Map<string, number>();
  old.stops.forEach((s, k) => {
    if (s.kind === 'pickup') readyByPickup.set(s.requestId, old.schedule.ready[k + 1]);
  });
  return stops.map((s) => {
    if (s.kind !== 'pickup') return s;
    const r = readyByPickup.get(s.requestId);
    return r === undefined ? s : { ...s, hold: Math.max(r, s.hold ?? -Infinity) };
  });
}

/** Drops every hold (the optimiser tries this and keeps it when the plan stays feasible). */
export function clearHolds(stops: readonly PlanStop[]): PlanStop[] {
  if (!stops.some((s) => s.hold !== undefined)) return stops as PlanStop[];
  return stops.map((s) => {
    if (s.hold === undefined) return s;
    const { hold: _hold, ...rest } = s;
    return rest;
  });
}

/** Length of the pinned prefix: the stops the bus is serving where it stands (PlanStop.pinned). */
export function pinnedCount(stops: readonly PlanStop[]): number {
  let k = 0;
  while (k < stops.length && stops[k].pinned) k++;
  return k;
}

/**
 * A stop a bus standing at `placeId` serves now: a rider alighting there, or a rider whose pickup window opens
 * within `dueMs` of `now` (they are waiting at the stop).
 */
export function isDue(s: PlanStop, placeId: PlanStop['location']['id'], now: number, dueMs: number): boolean {
  return s.location.id === placeId && (s.kind === 'dropoff' || (s.earliest ?? -Infinity) <= now + dueMs);
}

/**
 * Pins the stops at the head of the plan that a bus standing at `placeId` serves now (see isDue). A pickup
 * whose window opens later ends the prefix: the bus may still leave and come back for it in time.
 */
export function pinDueStops(stops: readonly PlanStop[], placeId: PlanStop['location']['id'], now: number, dueMs: number): PlanStop[] {
  let out: PlanStop[] | null = null;
  for (let k = 0; k < stops.length; k++) {
    const s = stops[k];
    if (s.pinned && s.location.id === placeId) continue;
    if (!isDue(s, placeId, now, dueMs)) break;
    out ??= stops.slice();
    out[k] = { ...s, pinned: true };
  }
  return out ?? (stops as PlanStop[]);
}
