import type { TravelTimeOracle } from '../oracle.ts';
import type { Location } from '../types.ts';

/**
 * A Manhattan grid for tests: place (x, y) has id `g<x>_<y>`; one cell = `secondsPerCell` of driving and
 * `metresPerCell` metres. Coordinates are laid over Kaiserslautern so hub/area logic sees plausible lat/lon.
 */
export function gridLoc(x: number, y: number): Location {
  return { id: `g${x}_${y}`, lat: 49.42 + y * 0.0045, lon: 7.74 + x * 0.0069 };
}

const parsed = new Map<Location['id'], [number, number]>();
export function parseGrid(l: Location): [number, number] {
  let xy = parsed.get(l.id);
  if (!xy) {
    const m = /^g(-?\d+)_(-?\d+)$/.exec(String(l.id));
    if (!m) throw new Error(`not a grid location: ${String(l.id)}`);
    xy = [Number(m[1]), Number(m[2])];
    parsed.set(l.id, xy);
  }
  return xy;
}

export class GridOracle implements TravelTimeOracle {
  constructor(
    /** Mutable so tests can model a change of travel times (then call Dispatcher.invalidateTravelTimes). */
    public secondsPerCell = 60,
    readonly metresPerCell = 500,
  ) {}
  private cells(a: Location, b: Location): number {
    const [ax, ay] = parseGrid(a);
    const [bx, by] = parseGrid(b);
    return Math.abs(ax - bx) + Math.abs(ay - by);
  }
  time(a: Location, b: Location): number {
    return this.cells(a, b) * this.secondsPerCell;
  }
  distance(a: Location, b: Location): number {
    return this.cells(a, b) * this.metresPerCell;
  }
}
