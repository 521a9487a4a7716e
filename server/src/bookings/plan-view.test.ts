import { loadHubs } from '@kl/routing/fixtures.ts';
import { describe, expect, it } from 'vitest';
import { RoadOracle } from '../routing/oracle.ts';
import { sharedEngine } from '../testing/server.ts';
import type { VehiclePlan } from '../dispatch/types.ts';
import { toPlanUpdate } from './plan-view.ts';

describe('plan:update as the bus and the Leitstand see it', () => {
  it('names a door stop by its street, a hub stop by its hub id, and carries the road geometry through both', async () => {
    const oracle = new RoadOracle(await sharedEngine());
    const hubs = loadHubs();
    const tuk = hubs.find((h) => h.id === 'tuk')!;
    const door = oracle.locate(49.4262, 7.7432); // Konrad-Adenauer-Straße, Uni-Wohnstadt
    const hub = oracle.locate(tuk.lat, tuk.lon);
    const t0 = Date.UTC(2026, 10, 22, 7, 0);
    const plan: VehiclePlan = {
      vehicleId: 'bus-1',
      driverId: 'd1',
      reservedDriverId: null,
      status: 'active' as VehiclePlan['status'],
      start: { location: oracle.locate(49.4236, 7.7504), time: t0 },
      stops: [
        { kind: 'pickup', requestId: 'r1', location: door, arrival: t0 + 60_000, ready: t0 + 60_000, departure: t0 + 90_000, seats: 1, wheelchairs: 0 },
        { kind: 'dropoff', requestId: 'r1', location: hub, arrival: t0 + 400_000, ready: t0 + 400_000, departure: t0 + 430_000, seats: 1, wheelchairs: 0 },
      ],
      onboard: [],
      task: null,
    };
    const u = toPlanUpdate(plan, 3, oracle, hubs);
    expect(u.version).toBe(3);
    expect(u.stops[0]).toMatchObject({ requestId: 'r1', kind: 'pickup', name: 'Konrad-Adenauer-Straße' });
    expect(u.stops[0]!.hubId).toBeUndefined();
    expect(u.stops[1]).toMatchObject({ kind: 'dropoff', hubId: 'tuk' });
    expect(u.route!.stopIndices).toHaveLength(2);
    expect(u.route!.coordinates.length).toBeGreaterThan(10); // along the roads, not a straight line
  });
});
