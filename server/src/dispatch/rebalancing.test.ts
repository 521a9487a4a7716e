import { describe, expect, it } from 'vitest';
import { apportion } from './rebalancing.ts';
import { bus, makeDispatcher, MIN, T0 } from './testing/fixtures.ts';
import { gridLoc } from './testing/grid.ts';

describe('apportioning idle buses to hubs', () => {
  it('follows the scores by largest remainder, ties by hub id', () => {
    expect(apportion(new Map([['a', 3], ['b', 1]]), 4)).toEqual(new Map([['a', 3], ['b', 1]]));
    expect(apportion(new Map([['a', 1], ['b', 1], ['c', 1]]), 2)).toEqual(new Map([['a', 1], ['b', 1], ['c', 0]]));
    expect(apportion(new Map([['a', 0], ['b', 0]]), 3)).toEqual(new Map([['a', 2], ['b', 1]]));
  });
});

describe('idle rebalancing', () => {
  it('sends idle buses to the hub with the most recent demand, and not again once they are on their way', () => {
    const fleet = [bus('b1', 3, 3), bus('b2', 3, 2), bus('b3', 2, 3), bus('b4', 3, 4)];
    const { d } = makeDispatcher({ vehicles: fleet });
    // Demand around PFAFF (hub at 6,6): riders asked (and declined the offers).
    for (let k = 0; k < 6; k++) {
      const r = d.request({ pickup: gridLoc(6, 5 + (k % 2)), dropoff: gridLoc(0, 0), passengers: 1 });
      if (r.kind === 'offer') d.decline(r.offerId);
    }
    const moves = d.idleRebalancing();
    expect(moves.every((m) => m.kind === 'rebalance' && m.hubId)).toBe(true);
    expect(moves.filter((m) => m.hubId === 'pfaff').length).toBeGreaterThanOrEqual(3);
    expect(d.idleRebalancing()).toEqual([]);
    expect(d.plan(moves[0].vehicleId)!.task).toMatchObject({ kind: 'rebalance', hubId: moves[0].hubId });
  });

  it('counts upcoming pre-booked pickups as expected demand', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 3, 3), bus('b2', 3, 3)] });
    // b3 takes the pre-booked rides near the main station (hub at 6,0) and stays busy.
    d.addVehicle(bus('b3', 6, 1));
    for (let k = 0; k < 4; k++) {
      const r = d.request({ pickup: gridLoc(6, 1), dropoff: gridLoc(6, 3), passengers: 1, time: { type: 'departure', at: T0 + (30 + k) * MIN } });
      if (r.kind === 'offer') d.confirm(r.offerId);
    }
    const moves = d.idleRebalancing().filter((m) => m.vehicleId !== 'b3');
    expect(moves.some((m) => m.hubId === 'hbf')).toBe(true);
  });

  it('leaves a bus without a driver where it is', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 3, 3, { driverId: null })] });
    expect(d.idleRebalancing()).toEqual([]);
  });

  it('sends a low bus to the depot to charge and brings it back to a hub once charged', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 3, 3, { soc: 0.25 })] });
    const [m] = d.idleRebalancing();
    expect(m).toMatchObject({ vehicleId: 'b1', kind: 'charge', to: gridLoc(3, -1) });
    expect(d.plan('b1')!.status).toBe('charging');
    expect(d.request({ pickup: gridLoc(3, 2), dropoff: gridLoc(3, 4), passengers: 1 })).toMatchObject({ kind: 'rejection', reason: 'battery' });
    d.updateVehicle({ id: 'b1', position: gridLoc(3, -1), soc: 0.6 });
    expect(d.plan('b1')!.status).toBe('charging');
    d.updateVehicle({ id: 'b1', soc: 0.95 });
    expect(d.plan('b1')!.status).toBe('available');
    expect(d.drainEvents().map((e) => e.type)).toContain('charged');
    const [back] = d.idleRebalancing();
    expect(back).toMatchObject({ vehicleId: 'b1', kind: 'rebalance' });
  });

  it('a server-reported status does not end charging early', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 3, 3, { soc: 0.25 })] });
    d.idleRebalancing();
    d.updateVehicle({ id: 'b1', status: 'available', soc: 0.4 });
    expect(d.plan('b1')!.status).toBe('charging');
  });
});
