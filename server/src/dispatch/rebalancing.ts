import type { Hub } from './config.ts';
import { haversineM } from './oracle.ts';
import type { Location } from './types.ts';

/**
 * Idle buses wait at hubs. Each hub gets a demand score from recent requests (exponentially decayed), expected
 * demand (pre-booked pickups and line departures within the horizon) and a base weight; idle buses are
 * apportioned to hubs by score (largest remainder) and matched greedily by travel time.
 */

export function nearestHub(hubs: readonly Hub[], p: { lat: number; lon: number }): Hub | null {
  let best: Hub | null = null, bestD = Infinity;
  for (const h of hubs) {
    const d = haversineM(h.location, p);
    if (d < bestD || (d === bestD && best && h.id < best.id)) (best = h), (bestD = d);
  }
  return best;
}

export interface DemandInputs {
  readonly now: number;
  readonly halfLifeMs: number;
  /** Past requests: time and the hub nearest to their pickup. */
  readonly recent: ReadonlyArray<{ readonly time: number; readonly hubId: string }>;
  /** Pre-booked pickups within the horizon, by nearest hub. */
  readonly prebooked: ReadonlyArray<{ readonly time: number; readonly hubId: string }>;
  readonly prebookedWeight: number;
  /** Line departures (≈ arrivals of riders continuing by bus) per hub within the horizon. */
  readonly lineDepartures: ReadonlyMap<string, number>;
  readonly lineDepartureWeight: number;
  readonly baseWeight: number;
}

export function hubDemandScores(hubs: readonly Hub[], inp: DemandInputs): Map<string, number> {
  const score = new Map<string, number>(hubs.map((h) => [h.id, inp.baseWeight]));
  const add = (id: string, w: number) => score.has(id) && score.set(id, score.get(id)! + w);
  for (const r of inp.recent) {
    const age = Math.max(0, inp.now - r.time);
    add(r.hubId, Math.pow(0.5, age / inp.halfLifeMs));
  }
  for (const r of inp.prebooked) add(r.hubId, inp.prebookedWeight);
  for (const [id, n] of inp.lineDepartures) add(id, n * inp.lineDepartureWeight);
  return score;
}

/** Largest-remainder apportionment of `total` buses to hubs by score (ties by hub id). */
export function apportion(scores: ReadonlyMap<string, number>, total: number): Map<string, number> {
  const ids = [...scores.keys()].sort();
  const sum = ids.reduce((s, id) => s + Math.max(0, scores.get(id)!), 0);
  const out = new Map<string, number>();
  if (ids.length === 0) return out;
  if (sum <= 0) {
    ids.forEach((id, i) => out.set(id, Math.floor(total / ids.length) + (i < total % ids.length ? 1 : 0)));
    return out;
  }
  const quotas = ids.map((id) => (total * Math.max(0, scores.get(id)!)) / sum);
  let given = 0;
  ids.forEach((id, i) => {
    const f = Math.floor(quotas[i]);
    out.set(id, f);
    given += f;
  });
  const order = ids
    .map((id, i) => ({ id, rem: quotas[i] - Math.floor(quotas[i]) }))
    .sort((a, b) => b.rem - a.rem || (a.id < b.id ? -1 : 1));
  for (let k = 0; given < total; k++, given++) out.set(order[k % order.length].id, out.get(order[k % order.length].id)! + 1);
  return out;
}

export interface IdleBus {
  readonly id: string;
  readonly position: Location;
  /** Hub the bus is at or already heading to. */
  readonly hubId: string | null;
}

/** Target hub per idle bus; buses already at/heading to a hub that still needs them stay. */
export function assignIdleBuses(
  buses: readonly IdleBus[],
  hubs: readonly Hub[],
  targets: ReadonlyMap<string, number>,
  travelMs: (from: Location, to: Location) => number,
): Map<string, string> {
  const need = new Map(targets);
  const result = new Map<string, string>();
  const sorted = [...buses].sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const b of sorted) {
    if (b.hubId && (need.get(b.hubId) ?? 0) > 0) {
      result.set(b.id, b.hubId);
      need.set(b.hubId, need.get(b.hubId)! - 1);
    }
  }
  const pairs: Array<{ bus: string; hub: string; t: number }> = [];
  for (const b of sorted) {
    if (result.has(b.id)) continue;
    for (const h of hubs) if ((need.get(h.id) ?? 0) > 0) pairs.push({ bus: b.id, hub: h.id, t: travelMs(b.position, h.location) });
  }
  pairs.sort((a, b) => a.t - b.t || (a.bus < b.bus ? -1 : a.bus > b.bus ? 1 : a.hub < b.hub ? -1 : 1));
  for (const p of pairs) {
    if (result.has(p.bus) || (need.get(p.hub) ?? 0) <= 0) continue;
    result.set(p.bus, p.hub);
    need.set(p.hub, need.get(p.hub)! - 1);
  }
  return result;
}
