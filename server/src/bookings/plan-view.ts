import type { Hub } from '@kl/routing/fixtures.ts';
import type { Location, VehiclePlan } from '../dispatch/types.ts';
import type { PlanUpdate } from '../protocol/events.ts';
import type { RoadOracle } from '../routing/oracle.ts';

/**
 * A dispatcher plan as sent to a bus and the Leitstand (`plan:update`): remaining stops with planned times and
 * the road geometry (with per-piece speed limits) from where the bus can divert through every stop.
 * Shared by the live server and the simulation runner.
 */
const hubIdCache = new WeakMap<Hub[], Map<string, string>>();

export function toPlanUpdate(p: VehiclePlan, version: number, oracle: RoadOracle, hubs: Hub[]): PlanUpdate {
  let hubIds = hubIdCache.get(hubs);
  if (!hubIds) {
    hubIds = new Map(hubs.map((h) => [String(oracle.locate(h.lat, h.lon).id), h.id]));
    hubIdCache.set(hubs, hubIds);
  }
  const hubAt = (loc: Location) => hubIds.get(String(loc.id));
  const stops = p.stops.map((s) => {
    const hubId = hubAt(s.location);
    // the street the bus stops in, so drivers read a place, not coordinates (hubs go by their id)
    let name: string | undefined;
    if (!hubId) {
      try {
        name = oracle.engine.waypoint(oracle.phantomOf(s.location)).name || undefined;
      } catch {
        name = undefined;
      }
    }
    return {
      requestId: s.requestId,
      kind: s.kind,
      lat: s.location.lat,
      lon: s.location.lon,
      arrival: s.arrival,
      ready: s.ready,
      departure: s.departure,
      seats: s.seats,
      wheelchairs: s.wheelchairs,
      ...(hubId ? { hubId } : {}),
      ...(name ? { name } : {}),
    };
  });
  const targets: Location[] = stops.length ? p.stops.map((s) => s.location) : p.task ? [p.task.to] : [];
  let route: PlanUpdate['route'] = null;
  if (targets.length) {
    try {
      const path = oracle.engine.drivePath([oracle.phantomOf(p.start.location), ...targets.map((t) => oracle.phantomOf(t))]);
      if (path) route = { coordinates: path.coordinates, stopIndices: path.stopIndices, speedsKmh: path.speedsKmh };
    } catch {
      route = null; // off-road start: the bus keeps its old route until the next update
    }
  }
  return {
    vehicleId: p.vehicleId,
    version,
    stops,
    task: p.task ? { kind: p.task.kind, lat: p.task.to.lat, lon: p.task.to.lon, ...(p.task.hubId ? { hubId: p.task.hubId } : {}) } : null,
    route,
  };
}

/** What identifies a plan for change detection (stop sequence and task target). */
export function planKey(p: VehiclePlan): string {
  return JSON.stringify([p.stops.map((s) => [s.requestId, s.kind, s.location.id]), p.task?.to.id ?? null]);
}
