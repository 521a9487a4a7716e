import type { DriverShift } from './types.ts';

/**
 * Remote drivers are the scarce resource: a bus moves only with a driver, one driver drives one bus. A bus
 * is plannable for a period only if its assigned driver (teleoperation lease), the driver the dispatcher
 * reserved for it, or a still-free driver on the roster covers that period. The plan must end by that
 * driver's shift end (handover to a colleague mid-plan is not planned here).
 */
export interface DriverOption {
  readonly kind: 'assigned' | 'reserved' | 'free';
  readonly driverId: string;
  /** The bus may not start moving before this (shift start of a reserved/free driver). */
  readonly availableFrom: number;
  readonly latestEnd: number;
}

export function driverOption(
  vehicle: { readonly driverId?: string | null; readonly reservedDriverId: string | null },
  roster: ReadonlyMap<string, DriverShift>,
  /** the drivers already on a bus or reserved for one; a function is called only when a free driver is needed */
  busyDriverIds: ReadonlySet<string> | (() => ReadonlySet<string>),
  now: number,
): DriverOption | null {
  if (vehicle.driverId) {
    const s = roster.get(vehicle.driverId);
    // A driver holding a bus but missing from the roster: trust the lease, no shift limit known.
    return { kind: 'assigned', driverId: vehicle.driverId, availableFrom: -Infinity, latestEnd: s ? s.end : Infinity };
  }
  if (vehicle.reservedDriverId) {
    // Kept even at/after the shift end: the plan it covers is checked against latestEnd, new work cannot fit.
    const s = roster.get(vehicle.reservedDriverId);
    if (s) return { kind: 'reserved', driverId: s.id, availableFrom: s.start, latestEnd: s.end };
  }
  return bestFreeDriver(roster, typeof busyDriverIds === 'function' ? busyDriverIds() : busyDriverIds, now);
}

/** The free driver who can start earliest (ties: longer shift, then id). */
export function bestFreeDriver(
  roster: ReadonlyMap<string, DriverShift>,
  busyDriverIds: ReadonlySet<string>,
  now: number,
): DriverOption | null {
  let best: DriverShift | null = null;
  for (const s of roster.values()) {
    if (busyDriverIds.has(s.id) || s.end <= now) continue;
    const start = Math.max(s.start, now);
    const bStart = best ? Math.max(best.start, now) : Infinity;
    if (!best || start < bStart || (start === bStart && (s.end > best.end || (s.end === best.end && s.id < best.id)))) best = s;
  }
  return best ? { kind: 'free', driverId: best.id, availableFrom: best.start, latestEnd: best.end } : null;
}
