import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FleetVehicle } from '../protocol/events.ts';
import { mergeFleetState } from '../protocol/fleet-delta.ts';
import type { VehicleStateMsg } from '../protocol/schemas.ts';
import { FleetRegistry, type VehicleDef } from './registry.ts';

const def = (id: string): VehicleDef => ({ id, label: `KL-S ${id}`, seats: 8, wheelchairPlaces: 1, batteryKWh: 60, start: { lat: 49.42, lon: 7.75 }, soc: 0.9 });
const state = (seq: number, o: Partial<VehicleStateMsg> = {}): VehicleStateMsg => ({
  seq,
  sentAt: 1000 + seq,
  lat: 49.42 + seq * 1e-5,
  lon: 7.75,
  heading: 90,
  speed: 5,
  soc: 0.9,
  doors: 'closed',
  occupancy: { seats: 0, wheelchairs: 0 },
  mode: 'remote',
  ...o,
});

describe('FleetRegistry fan-out deltas', () => {
  it('a moving bus’s delta names only the fields that changed, not its whole record', () => {
    const f = new FleetRegistry([def('a'), def('b')]);
    f.update('a', state(1), 2001);
    f.delta(2001);
    f.update('a', state(2), 2002);
    const d = f.delta(2002)!;
    expect(d.full).toBe(false);
    expect(d.vehicles).toEqual([{ id: 'a', lat: 49.42 + 2e-5, sentAt: 1002, receivedAt: 2002 }]);
  });

  it('a teleoperation change alone sends that field, without a position or a send time (no state counted twice)', () => {
    const f = new FleetRegistry([def('a')]);
    f.update('a', state(1), 2001);
    f.delta(2001);
    f.setTeleop('a', { mode: 'remote', driver: 'fahrer1', latencyMs: 120, permittedSpeed: 8 });
    expect(f.delta(2050)!.vehicles).toEqual([{ id: 'a', driver: 'fahrer1', latencyMs: 120, permittedSpeed: 8 }]);
    expect(f.delta(2100)).toBeNull();
  });

  it('a snapshot is the fan-out base: it does not swallow pending changes the other consoles still need', () => {
    const f = new FleetRegistry([def('a')]);
    f.update('a', state(1), 2001);
    const snap = f.snapshot(2001);
    expect(snap.vehicles[0].sentAt).toBeUndefined(); // not fanned out yet
    expect(f.delta(2002)!.vehicles[0]).toMatchObject({ id: 'a', sentAt: 1001 });
  });

  it('a console starting from any snapshot and merging the deltas after it always ends where the server is', () => {
    const ids = ['a', 'b', 'c'];
    const op = fc.oneof(
      fc.record({ k: fc.constant('state' as const), v: fc.constantFrom(...ids), lat: fc.double({ min: 49.4, max: 49.5, noNaN: true }), seats: fc.integer({ min: 0, max: 8 }), doors: fc.constantFrom('open' as const, 'closed' as const) }),
      fc.record({ k: fc.constant('online' as const), v: fc.constantFrom(...ids), on: fc.boolean() }),
      fc.record({ k: fc.constant('teleop' as const), v: fc.constantFrom(...ids), latency: fc.option(fc.integer({ min: 0, max: 900 })), mode: fc.constantFrom('remote' as const, 'standby' as const, 'mrm' as const) }),
      fc.record({ k: fc.constant('flush' as const) }),
      fc.record({ k: fc.constant('join' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const f = new FleetRegistry(ids.map(def));
        const consoles: Map<string, FleetVehicle>[] = [];
        let seq = 0;
        let t = 0;
        for (const o of ops) {
          t++;
          if (o.k === 'state') f.update(o.v, state(++seq, { lat: o.lat, occupancy: { seats: o.seats, wheelchairs: 0 }, doors: o.doors }), t);
          else if (o.k === 'online') f.setOnline(o.v, o.on);
          else if (o.k === 'teleop') f.setTeleop(o.v, { mode: o.mode, driver: null, latencyMs: o.latency, permittedSpeed: 5 });
          else if (o.k === 'join') {
            const c = new Map<string, FleetVehicle>();
            mergeFleetState(c, f.snapshot(t));
            consoles.push(c);
          } else {
            const d = f.delta(t);
            if (d) for (const c of consoles) mergeFleetState(c, d);
          }
        }
        const d = f.delta(++t);
        if (d) for (const c of consoles) mergeFleetState(c, d);
        for (const c of consoles) expect([...c.values()]).toEqual(f.all());
      }),
      { numRuns: 300, seed: 20261122 },
    );
  });
});
