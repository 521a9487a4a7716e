import { describe, expect, it } from 'vitest';
import { Rng } from '../core/rng.ts';
import { DEFAULT_CONFIG } from './config.ts';
import { PlanExecutor } from './testing/executor.ts';
import { bus, makeDispatcher, MIN, T0 } from './testing/fixtures.ts';
import { gridLoc } from './testing/grid.ts';

describe('re-optimisation', () => {
  it('moves a rider onto a bus that passes by anyway, sends the other bus home empty, keeps every promise', () => {
    // b-a (8 seats) is closest to r1 and takes it; then the 7-person group r2 only fits on b-b (12 seats),
    // whose route passes r1's pickup. Greedy online insertion cannot undo the first choice; local search can.
    const fleet = [bus('b-a', 3, 0, { seats: 8 }), bus('b-b', 0, 0, { seats: 12 })];
    const { d, clock, oracle } = makeDispatcher({ vehicles: fleet });
    const r1 = d.request({ pickup: gridLoc(5, 0), dropoff: gridLoc(10, 0), passengers: 2 });
    const r2 = d.request({ pickup: gridLoc(0, 0), dropoff: gridLoc(10, 0), passengers: 7 });
    if (r1.kind !== 'offer' || r2.kind !== 'offer') throw new Error('expected offers');
    expect([r1.vehicleId, r2.vehicleId]).toEqual(['b-a', 'b-b']);
    d.confirm(r1.offerId);
    d.confirm(r2.offerId);
    const promise = d.booking(r1.requestId)!.promise;

    const res = d.reoptimise();
    expect(res.vehicleTimeAfterMs).toBeLessThan(res.vehicleTimeBeforeMs - 5 * MIN);
    expect(res.moves[0]).toMatchObject({ type: 'relocate', requestIds: [r1.requestId], from: 'b-a', to: 'b-b' });
    expect(d.booking(r1.requestId)!.vehicleId).toBe('b-b');
    expect(d.booking(r1.requestId)!.promise).toEqual(promise);
    expect(d.plan('b-a')!.stops).toEqual([]);
    expect(d.drainEvents().some((e) => e.type === 'reassign' && e.requestId === r1.requestId)).toBe(true);
    expect(d.audit()).toEqual([]);

    const ex = new PlanExecutor(d, clock, oracle, fleet);
    ex.runUntil(T0 + 60 * MIN);
    expect(ex.problems).toEqual([]);
    expect(ex.served).toHaveLength(2);
  });

  it('does not take a rider away from the bus standing at their pickup', () => {
    // The same situation, but b-a has already arrived at r1's pickup: r1 stays with it (and first in its plan).
    const fleet = [bus('b-a', 3, 0, { seats: 8 }), bus('b-b', 0, 0, { seats: 12 })];
    const { d, clock } = makeDispatcher({ vehicles: fleet });
    const r1 = d.request({ pickup: gridLoc(5, 0), dropoff: gridLoc(10, 0), passengers: 2 });
    const r2 = d.request({ pickup: gridLoc(0, 0), dropoff: gridLoc(10, 0), passengers: 7 });
    if (r1.kind !== 'offer' || r2.kind !== 'offer') throw new Error('expected offers');
    d.confirm(r1.offerId);
    d.confirm(r2.offerId);
    clock.set(T0 + 2 * MIN);
    d.vehicleArrived('b-a');
    const res = d.reoptimise();
    expect(res.moves.filter((m) => m.requestIds.includes(r1.requestId))).toEqual([]);
    expect(d.booking(r1.requestId)!.vehicleId).toBe('b-a');
    expect(d.plan('b-a')!.stops[0]).toMatchObject({ kind: 'pickup', requestId: r1.requestId });
    expect(d.audit()).toEqual([]);
  });

  it('on a busy random morning of pre-bookings it measurably lowers total vehicle time, never breaking a promise', () => {
    let before = 0, after = 0;
    for (const seed of [1, 2, 3]) {
      const rng = new Rng(seed);
      const fleet = [0, 1, 2, 3, 4].map((i) => bus(`b${i}`, rng.int(0, 8), rng.int(0, 8), { seats: 8 + rng.int(0, 4) }));
      const { d } = makeDispatcher({ vehicles: fleet, seed });
      for (let k = 0; k < 60; k++) {
        const p = gridLoc(rng.int(0, 8), rng.int(0, 8));
        let q = gridLoc(rng.int(0, 8), rng.int(0, 8));
        if (q.id === p.id) q = gridLoc(0, 0).id === p.id ? gridLoc(8, 8) : gridLoc(0, 0);
        const r = d.request({ pickup: p, dropoff: q, passengers: rng.int(1, 3), time: { type: 'departure', at: T0 + rng.int(10, 150) * MIN } });
        if (r.kind === 'offer') d.confirm(r.offerId);
      }
      const res = d.reoptimise();
      expect(d.audit()).toEqual([]);
      expect(res.vehicleTimeAfterMs).toBeLessThanOrEqual(res.vehicleTimeBeforeMs);
      before += res.vehicleTimeBeforeMs;
      after += res.vehicleTimeAfterMs;
    }
    expect(after).toBeLessThan(before * 0.97);
  });

  it('on a fleet bigger than maxVehicles, each call works on the buses near one drawn bus, and a few calls cover every neighbourhood', () => {
    // the first test's situation twice, 40 blocks apart: each pair of buses is a neighbourhood of its own
    const fleet = [bus('b-a', 3, 0, { seats: 8 }), bus('b-b', 0, 0, { seats: 12 }), bus('c-a', 3, 40, { seats: 8 }), bus('c-b', 0, 40, { seats: 12 })];
    const { d } = makeDispatcher({ vehicles: fleet, config: { reoptimisation: { ...DEFAULT_CONFIG.reoptimisation, maxVehicles: 2 } } });
    const riders: Record<string, string> = {};
    for (const [area, y] of [['b', 0], ['c', 40]] as const) {
      const r1 = d.request({ pickup: gridLoc(5, y), dropoff: gridLoc(10, y), passengers: 2 });
      const r2 = d.request({ pickup: gridLoc(0, y), dropoff: gridLoc(10, y), passengers: 7 });
      if (r1.kind !== 'offer' || r2.kind !== 'offer') throw new Error('expected offers');
      expect([r1.vehicleId, r2.vehicleId]).toEqual([`${area}-a`, `${area}-b`]);
      d.confirm(r1.offerId);
      d.confirm(r2.offerId);
      riders[area] = r1.requestId;
    }
    const areas: string[] = [];
    for (let call = 0; call < 12 && (d.booking(riders.b)!.vehicleId !== 'b-b' || d.booking(riders.c)!.vehicleId !== 'c-b'); call++) {
      const res = d.reoptimise();
      const touched = new Set(res.moves.flatMap((m) => [m.from, m.to]).map((v) => v[0]));
      expect(touched.size).toBeLessThanOrEqual(1); // never both neighbourhoods in one call
      areas.push(...touched);
      expect(d.audit()).toEqual([]);
    }
    expect(d.booking(riders.b)!.vehicleId).toBe('b-b');
    expect(d.booking(riders.c)!.vehicleId).toBe('c-b');
    expect(new Set(areas)).toEqual(new Set(['b', 'c']));
  });

  it('runs on its interval from tick()', () => {
    const { d, clock } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    expect(d.tick().reoptimised).toBeNull();
    clock.advance(d.config.reoptimisation.intervalMs);
    expect(d.tick().reoptimised).not.toBeNull();
    expect(d.tick().reoptimised).toBeNull();
  });
});
