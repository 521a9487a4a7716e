import type { FleetState, FleetVehicle, FleetVehicleDelta } from './events.ts';

// Pure and import-free at run time: the Leitstand bundle and the test consoles merge `fleet:state` with the same code.

/** Equal, or objects whose own fields are identical (one level deep). */
export const sameValue = (a: unknown, b: unknown): boolean => {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if ((a as Record<string, unknown>)[k] !== (b as Record<string, unknown>)[k]) return false;
  return true;
};

/**
 * The fields of `next` that differ from `prev` (plus the id); null when none did. Nested values (occupancy,
 * capacity) are compared one level deep. A field absent from `next` is not sent: FleetVehicle's only optional
 * field (`sentAt`) never goes from present to absent.
 */
export function diffFleetVehicle(prev: FleetVehicle, next: FleetVehicle): FleetVehicleDelta | null {
  let d: Record<string, unknown> | null = null;
  for (const k of Object.keys(next) as (keyof FleetVehicle)[]) {
    if (k === 'id' || sameValue(prev[k], next[k])) continue;
    (d ??= { id: next.id })[k] = next[k];
  }
  return d as FleetVehicleDelta | null;
}

/**
 * Applies one `fleet:state` message to a console's fleet: a snapshot replaces it, a delta's fields overwrite the
 * bus's. A delta for a bus the console has never seen (only possible after a lost snapshot) is ignored: it has no
 * label, capacity or start; the next snapshot brings it. Returns the buses that changed.
 */
export function mergeFleetState(fleet: Map<string, FleetVehicle>, s: FleetState): FleetVehicle[] {
  if (s.full) {
    fleet.clear();
    for (const v of s.vehicles) fleet.set(v.id, v);
    return s.vehicles;
  }
  const changed: FleetVehicle[] = [];
  for (const d of s.vehicles) {
    const v = fleet.get(d.id);
    if (!v) continue;
    const merged = { ...v, ...d } as FleetVehicle;
    fleet.set(d.id, merged);
    changed.push(merged);
  }
  return changed;
}
