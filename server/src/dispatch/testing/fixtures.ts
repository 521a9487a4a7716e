import { ManualClock } from '../../core/clock.ts';
import { Rng } from '../../core/rng.ts';
import type { DispatchConfigInput, Hub } from '../config.ts';
import { Dispatcher } from '../dispatcher.ts';
import type { DriverShift, VehicleState } from '../types.ts';
import { GridOracle, gridLoc } from './grid.ts';

/** Start of test days: Wed 2025-06-04 08:00 Europe/Berlin (06:00Z). */
export const T0 = Date.UTC(2025, 5, 4, 6, 0, 0);
export const MIN = 60_000;

export const GRID_HUBS: Hub[] = [
  { id: 'tuk', name: 'TUK', location: gridLoc(0, 0) },
  { id: 'pfaff', name: 'PFAFF', location: gridLoc(6, 6) },
  { id: 'hbf', name: 'Hauptbahnhof', location: gridLoc(6, 0) },
];

export function bus(id: string, x: number, y: number, extra: Partial<VehicleState> = {}): VehicleState {
  return { id, seats: 8, wheelchairPlaces: 1, position: gridLoc(x, y), time: T0, soc: 0.9, driverId: `drv-${id}`, ...extra };
}

export function makeDispatcher(opts: {
  vehicles: VehicleState[];
  roster?: DriverShift[];
  config?: Partial<DispatchConfigInput>;
  seed?: number;
  start?: number;
}) {
  const clock = new ManualClock(opts.start ?? T0);
  const oracle = new GridOracle(60, 500);
  const d = new Dispatcher({
    clock,
    rng: new Rng(opts.seed ?? 1),
    oracle,
    config: { hubs: GRID_HUBS, depot: gridLoc(3, -1), ...opts.config },
  });
  d.setRoster(
    opts.roster ??
      opts.vehicles.filter((v) => v.driverId).map((v) => ({ id: v.driverId!, start: T0 - 60 * MIN, end: T0 + 24 * 60 * MIN })),
  );
  for (const v of opts.vehicles) d.addVehicle(v);
  return { d, clock, oracle };
}
