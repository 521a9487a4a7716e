import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { Rng } from '../core/rng.ts';
import { Dispatcher } from './dispatcher.ts';
import { PlanExecutor } from './testing/executor.ts';
import { bus, GRID_HUBS, makeDispatcher, MIN, T0 } from './testing/fixtures.ts';
import { GridOracle, gridLoc } from './testing/grid.ts';
import { timetableSchema } from './timetable.ts';
import type { Offer, Rejection } from './types.ts';

function offer(x: Offer | Rejection): Offer {
  if (x.kind !== 'offer') throw new Error(`expected an offer, got ${x.reason}: ${x.message}`);
  return x;
}
function rejection(x: Offer | Rejection): Rejection {
  if (x.kind !== 'rejection') throw new Error(`expected a rejection, got an offer on ${x.vehicleId}`);
  return x;
}

describe('offer → confirm', () => {
  it('an immediate request gets a 10-minute pickup window from now, timed from the plan, and confirm commits it', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const o = offer(d.request({ pickup: gridLoc(2, 0), dropoff: gridLoc(5, 0), passengers: 1 }));
    expect(o.pickupWindow).toEqual({ start: T0, end: T0 + 10 * MIN });
    // 2 cells (2 min) + fixed dwell 30 s; boarding 10 s; 3 cells + 30 s to the drop-off.
    expect(o.estimatedPickup).toBe(T0 + 150_000);
    expect(o.estimatedArrival).toBe(T0 + 160_000 + 210_000);
    expect(o.maxRideMs).toBe(1.5 * 180_000 + 5 * MIN);
    expect(o.expiresAt).toBe(T0 + 2 * MIN);
    const c = d.confirm(o.offerId);
    expect(c).toMatchObject({ ok: true, vehicleId: 'b1', reassigned: false });
    expect(d.booking(o.requestId)!.status).toBe('confirmed');
    expect(d.plan('b1')!.stops.map((s) => `${s.kind}:${s.requestId}`)).toEqual([`pickup:${o.requestId}`, `dropoff:${o.requestId}`]);
    expect(d.drainEvents().map((e) => e.type)).toEqual(['offer', 'confirm']);
  });

  it('an offer that is not confirmed in time expires and frees its seats', () => {
    const { d, clock } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    // A long ride: the bus cannot come back within the second rider's window either.
    const o = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(1, 9), passengers: 8, time: { type: 'departure', at: T0 + 30 * MIN } }));
    expect(rejection(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(1, 9), passengers: 1, time: { type: 'departure', at: T0 + 30 * MIN } })).reason).toBe('capacity');
    clock.advance(2 * MIN + 1);
    expect(d.tick().expired).toEqual([o.requestId]);
    expect(d.booking(o.requestId)!.status).toBe('expired');
    expect(d.plan('b1')!.stops).toEqual([]);
    offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(1, 9), passengers: 1, time: { type: 'departure', at: T0 + 30 * MIN } }));
  });

  it('confirming after expiry re-checks and still commits the same promise when it can be kept', () => {
    const { d, clock } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const o = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(3, 0), passengers: 2, time: { type: 'departure', at: T0 + 60 * MIN } }));
    clock.advance(10 * MIN);
    const c = d.confirm(o.offerId);
    expect(c.ok).toBe(true);
    if (c.ok) expect(c.promise.pickupWindow).toEqual(o.pickupWindow);
    expect(d.booking(o.requestId)!.status).toBe('confirmed');
  });

  it('confirming after expiry fails with a reason when the seats went to somebody else', () => {
    const { d, clock } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const o = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(1, 9), passengers: 6, time: { type: 'departure', at: T0 + 60 * MIN } }));
    clock.advance(3 * MIN);
    const other = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(1, 9), passengers: 6, time: { type: 'departure', at: T0 + 60 * MIN } }));
    expect(d.confirm(other.offerId).ok).toBe(true);
    const c = d.confirm(o.offerId);
    expect(c).toMatchObject({ ok: false, reason: 'capacity' });
    expect(d.drainEvents().some((e) => e.type === 'confirm-failed')).toBe(true);
  });

  it('a pre-booked arrival time is promised as the latest arrival', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const by = T0 + 90 * MIN;
    const o = offer(d.request({ pickup: gridLoc(4, 4), dropoff: gridLoc(0, 0), passengers: 1, time: { type: 'arrival', by } }));
    expect(o.latestArrival).toBe(by);
    expect(o.estimatedArrival).toBeLessThanOrEqual(by);
    expect(o.estimatedArrival).toBeGreaterThan(by - 40 * MIN);
  });
});

describe('rejections', () => {
  it('a group no bus can carry is rejected for capacity, without an alternative time', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0, { wheelchairPlaces: 1 })] });
    const r = rejection(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(2, 0), passengers: 2, wheelchairs: 2 }));
    expect(r.reason).toBe('capacity');
    expect(r.alternative).toBeUndefined();
  });

  it('a full bus rejects for capacity; cancelling the booking frees the seats again', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const a = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(1, 12), passengers: 8 }));
    d.confirm(a.offerId);
    expect(rejection(d.request({ pickup: gridLoc(2, 0), dropoff: gridLoc(5, 0), passengers: 1 })).reason).toBe('capacity');
    expect(d.cancel(a.requestId)).toBe(true);
    expect(d.booking(a.requestId)!.status).toBe('cancelled');
    offer(d.request({ pickup: gridLoc(2, 0), dropoff: gridLoc(5, 0), passengers: 1 }));
  });

  it('a pickup no bus reaches within the max wait is rejected for the window, with the nearest feasible departure', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    // 20 cells away: the bus can be there after 20.5 min; windows are 10 min wide.
    const r = rejection(d.request({ pickup: gridLoc(10, 10), dropoff: gridLoc(10, 12), passengers: 1 }));
    expect(r.reason).toBe('window');
    expect(r.alternative).toEqual({ type: 'departure', time: T0 + 15 * MIN });
    offer(d.request({ pickup: gridLoc(10, 10), dropoff: gridLoc(10, 12), passengers: 1, time: { type: 'departure', at: r.alternative!.time } }));
  });

  it('no alternative is offered when nothing works within 60 minutes', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0, { driverId: 'x' })], roster: [{ id: 'x', start: T0 - MIN, end: T0 + 3 * MIN }] });
    const r = rejection(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(5, 0), passengers: 1 }));
    expect(r.reason).toBe('no-driver');
    expect(r.alternative).toBeUndefined();
  });

  it('a bus too low on battery for the trip and the way to the depot is rejected for battery', () => {
    // SoC 0.16, reserve 0.15 of 80 kWh → 0.8 kWh ≈ 2.3 km.
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0, { soc: 0.16 })] });
    expect(rejection(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(6, 0), passengers: 1 })).reason).toBe('battery');
    offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(2, 0), passengers: 1 }));
  });

  it('pickups outside the service area are rejected', () => {
    const { d } = makeDispatcher({
      vehicles: [bus('b1', 0, 0)],
      config: { serviceArea: { type: 'Polygon', coordinates: [[[7.73, 49.41], [7.77, 49.41], [7.77, 49.44], [7.73, 49.44], [7.73, 49.41]]] } },
    });
    expect(rejection(d.request({ pickup: gridLoc(8, 8), dropoff: gridLoc(1, 1), passengers: 1 })).reason).toBe('outside-service-area');
    offer(d.request({ pickup: gridLoc(2, 2), dropoff: gridLoc(1, 1), passengers: 1 }));
  });

  it('pre-booking more than 7 days ahead is refused', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const r = rejection(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(2, 0), passengers: 1, time: { type: 'departure', at: T0 + 8 * 24 * 60 * MIN } }));
    expect(r.reason).toBe('window');
  });
});

describe('remote drivers', () => {
  it('a bus without a driver is not planned when nobody is free on the roster', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0, { driverId: null })], roster: [] });
    expect(rejection(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(2, 0), passengers: 1 })).reason).toBe('no-driver');
  });

  it('a free driver on shift is reserved for a driverless bus (driver-needed), and then is no longer free', () => {
    const { d } = makeDispatcher({
      vehicles: [bus('b1', 0, 0, { driverId: null }), bus('b2', 0, 0, { driverId: null })],
      roster: [{ id: 'f1', start: T0 - MIN, end: T0 + 8 * 60 * MIN }],
    });
    const a = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(1, 12), passengers: 8 }));
    expect(d.plan(a.vehicleId)!.reservedDriverId).toBe('f1');
    expect(d.drainEvents().find((e) => e.type === 'driver-needed')).toMatchObject({ vehicleId: a.vehicleId, data: { driverId: 'f1' } });
    // The other bus could carry it, but nobody is left to drive it.
    expect(rejection(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(1, 12), passengers: 8 })).reason).toBe('no-driver');
  });

  it('a driver taking the lease of the bus turns the reservation into an assignment', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0, { driverId: null })], roster: [{ id: 'f1', start: T0 - MIN, end: T0 + 60 * MIN }] });
    offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(2, 0), passengers: 1 }));
    d.updateVehicle({ id: 'b1', driverId: 'f1' });
    expect(d.plan('b1')).toMatchObject({ driverId: 'f1', reservedDriverId: null });
  });

  it('one driver drives one bus', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0), bus('b2', 1, 0)] });
    expect(() => d.updateVehicle({ id: 'b2', driverId: 'drv-b1' })).toThrow(/one driver drives one bus/);
  });

  it("work that would outlast the driver's shift is refused", () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0, { driverId: 'x' })], roster: [{ id: 'x', start: T0 - 60 * MIN, end: T0 + 6 * MIN }] });
    expect(rejection(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(6, 0), passengers: 1 })).reason).toBe('no-driver');
    const o = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(3, 0), passengers: 1 }));
    expect(o.estimatedArrival).toBeLessThanOrEqual(T0 + 6 * MIN);
  });

  it('a driver whose shift starts later makes the bus plannable from then on', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0, { driverId: null })], roster: [{ id: 'late', start: T0 + 30 * MIN, end: T0 + 90 * MIN }] });
    expect(rejection(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(2, 0), passengers: 1 })).reason).toBe('window');
    const o = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(2, 0), passengers: 1, time: { type: 'departure', at: T0 + 40 * MIN } }));
    expect(o.estimatedPickup).toBeGreaterThanOrEqual(T0 + 40 * MIN);
  });
});

describe('dwell, pooling, ride times', () => {
  it('a wheelchair boarding takes the ramp time instead of the per-passenger time', () => {
    const a = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const b = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const o1 = offer(a.d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(3, 0), passengers: 1 }));
    const o2 = offer(b.d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(3, 0), passengers: 1, wheelchairs: 1 }));
    const dep = (d: Dispatcher) => d.plan('b1')!.stops[0];
    expect(dep(a.d).departure - dep(a.d).ready).toBe(10_000);
    expect(dep(b.d).departure - dep(b.d).ready).toBe(90_000);
    expect(o2.estimatedArrival - o1.estimatedArrival).toBe(80_000);
  });

  it('riders to the same hub are pooled on one bus and every ride stays within α·direct + β', () => {
    const { d, clock, oracle } = makeDispatcher({ vehicles: [bus('b1', 0, 0), bus('b2', 0, 6)] });
    const ids: string[] = [];
    for (const x of [1, 2, 3]) {
      const o = offer(d.request({ pickup: gridLoc(x, 0), dropoff: gridLoc(6, 0), passengers: 1 }));
      d.confirm(o.offerId);
      ids.push(o.requestId);
    }
    expect(new Set(ids.map((id) => d.booking(id)!.vehicleId)).size).toBe(1);
    const ex = new PlanExecutor(d, clock, oracle, [bus('b1', 0, 0), bus('b2', 0, 6)]);
    ex.runUntil(T0 + 60 * MIN);
    expect(ex.problems).toEqual([]);
    expect(ex.served.map((s) => s.requestId).sort()).toEqual(ids.sort());
    for (const s of ex.served) {
      const b = d.booking(s.requestId)!;
      expect(s.droppedOffAt - s.pickedUpAt).toBeLessThanOrEqual(b.promise.maxRideMs + 60_000);
    }
  });
});

describe('progress, cancellation and no-show', () => {
  it('the plan shrinks as the bus picks up and drops off', () => {
    const { d, clock } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const o = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(3, 0), passengers: 2 }));
    d.confirm(o.offerId);
    clock.advance(90_000);
    d.vehicleArrived('b1');
    d.pickedUp(o.requestId);
    expect(d.plan('b1')!.stops.map((s) => s.kind)).toEqual(['dropoff']);
    expect(d.plan('b1')!.onboard).toEqual([{ requestId: o.requestId, seats: 2, wheelchairs: 0 }]);
    expect(d.booking(o.requestId)!.status).toBe('onboard');
    clock.advance(3 * MIN);
    d.vehicleArrived('b1');
    d.droppedOff(o.requestId);
    expect(d.plan('b1')!.stops).toEqual([]);
    expect(d.plan('b1')!.onboard).toEqual([]);
    expect(d.booking(o.requestId)!.status).toBe('completed');
    expect(d.cancel(o.requestId)).toBe(false);
  });

  it('a no-show is only accepted after the bus has waited at the pickup, then frees the capacity', () => {
    const { d, clock } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const o = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(3, 0), passengers: 8 }));
    d.confirm(o.offerId);
    expect(d.noShow(o.requestId)).toEqual({ ok: false, reason: 'not-arrived' });
    clock.advance(90_000);
    d.vehicleArrived('b1');
    expect(d.noShow(o.requestId)).toEqual({ ok: false, reason: 'too-early', waitUntil: T0 + 90_000 + 3 * MIN });
    clock.advance(3 * MIN);
    expect(d.noShow(o.requestId)).toEqual({ ok: true });
    expect(d.booking(o.requestId)!.status).toBe('no-show');
    expect(d.plan('b1')!.stops).toEqual([]);
    offer(d.request({ pickup: gridLoc(2, 0), dropoff: gridLoc(3, 0), passengers: 8 }));
  });

  it('a cancellation keeps the other riders within their ride times (pickups hold their times)', () => {
    // r2 waits for a pre-booked window while r1 rides; removing r0 before them must not lengthen r1's ride.
    const { d, clock, oracle } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const ids: string[] = [];
    const book = (r: Parameters<Dispatcher['request']>[0]) => {
      const o = offer(d.request(r));
      expect(d.confirm(o.offerId).ok).toBe(true);
      ids.push(o.requestId);
    };
    book({ pickup: gridLoc(0, 3), dropoff: gridLoc(0, 4), passengers: 1 });
    book({ pickup: gridLoc(1, 3), dropoff: gridLoc(5, 3), passengers: 1 });
    book({ pickup: gridLoc(2, 3), dropoff: gridLoc(5, 3), passengers: 1, time: { type: 'departure', at: T0 + 9 * MIN } });
    expect(d.cancel(ids[0])).toBe(true);
    expect(d.audit()).toEqual([]);
    const ex = new PlanExecutor(d, clock, oracle, [bus('b1', 0, 0)]);
    ex.runUntil(T0 + 60 * MIN);
    expect(ex.problems).toEqual([]);
    expect(ex.served).toHaveLength(2);
  });

  it('a bus running late flags its riders as at risk, once', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const o = offer(d.request({ pickup: gridLoc(5, 0), dropoff: gridLoc(6, 0), passengers: 1 }));
    d.confirm(o.offerId);
    d.drainEvents();
    d.updateVehicle({ id: 'b1', time: T0 + 20 * MIN });
    d.updateVehicle({ id: 'b1', time: T0 + 21 * MIN });
    expect(d.drainEvents().filter((e) => e.type === 'promise-at-risk').map((e) => e.requestId)).toEqual([o.requestId]);
  });
});

describe('a bus at its stop (vehicleArrived pins the stops it serves there)', () => {
  const kinds = (d: Dispatcher, v: string) => d.plan(v)!.stops.map((s) => `${s.kind}:${s.requestId}`);
  /**
   * b1 drives to (2, 0) for q1 and stands there from T0 + 2 min (wheels stopped; doors open 30 s later).
   * q1's window opens at T0 + `opensMin`.
   */
  function standingBus(arrived: boolean, opensMin = 2.5) {
    // Costs that favour fetching a new rider first (their wait weighs much, delaying q1 nothing).
    const cost = { riderTimeWeight: 3, otherRidersDelayWeight: 0 };
    const { d, clock } = makeDispatcher({ vehicles: [bus('b1', 0, 0)], config: { cost } });
    const q1 = offer(d.request({ id: 'q1', pickup: gridLoc(2, 0), dropoff: gridLoc(2, 3), passengers: 1, time: { type: 'departure', at: T0 + opensMin * MIN } }));
    d.confirm(q1.offerId);
    clock.set(T0 + 2 * MIN);
    // The server either reports the arrival, or only the bus's position (a divert point it may still leave).
    if (arrived) d.vehicleArrived('b1');
    else d.updateVehicle({ id: 'b1', position: gridLoc(2, 0), time: T0 + 2 * MIN + 30_000 });
    return { d, clock };
  }
  const nearby = { id: 'q2', pickup: gridLoc(1, 0), dropoff: gridLoc(1, 1), passengers: 7 };

  it('a new rider nearby is fitted in after the rider boarding there, not before (the bus would drive off without them)', () => {
    const { d } = standingBus(true);
    const before = d.plan('b1')!.stops[0];
    offer(d.request(nearby));
    expect(kinds(d, 'b1')[0]).toBe('pickup:q1');
    expect(d.plan('b1')!.stops[0]).toEqual(before);
    // Merely reported at the same place, the bus is re-planned to fetch q2 first (q1's window allows it).
    const free = standingBus(false).d;
    offer(free.request(nearby));
    expect(kinds(free, 'b1')[0]).toBe('pickup:q2');
  });

  it('a bus early for a window may still make a short trip first, leaving now; once the window opens it stays', () => {
    const { d, clock } = standingBus(true, 10);
    clock.set(T0 + 3 * MIN);
    offer(d.request(nearby));
    expect(kinds(d, 'b1')[0]).toBe('pickup:q2');
    // It leaves where it stands now, not at its (earlier) arrival: 1 cell back + the fixed dwell.
    expect(d.plan('b1')!.stops[0].arrival).toBe(T0 + 3 * MIN + 90_000);
    expect(d.cancel('q2')).toBe(true);
    clock.set(T0 + 9.5 * MIN); // the doors open at the window start: q1 is due now
    offer(d.request({ ...nearby, id: 'q3' }));
    expect(kinds(d, 'b1')[0]).toBe('pickup:q1');
  });

  it('a new rider at the same place is served in the next dwell there, with no driving', () => {
    const { d } = standingBus(true);
    offer(d.request({ id: 'q3', pickup: gridLoc(2, 0), dropoff: gridLoc(2, 2), passengers: 1 }));
    const stops = d.plan('b1')!.stops;
    expect(kinds(d, 'b1').slice(0, 2)).toEqual(['pickup:q1', 'pickup:q3']);
    expect(stops[1].arrival).toBe(stops[0].departure);
  });

  it('the stops stay first until served: re-optimisation and later requests leave them alone', () => {
    const { d, clock } = standingBus(true);
    for (let k = 0; k < 4; k++) {
      const r = d.request({ id: `x${k}`, pickup: gridLoc(k, 1), dropoff: gridLoc(4 - k, 2), passengers: 1 });
      if (r.kind === 'offer') d.confirm(r.offerId);
      d.reoptimise();
      expect(kinds(d, 'b1')[0]).toBe('pickup:q1');
    }
    expect(d.audit()).toEqual([]);
    clock.set(d.plan('b1')!.stops[0].departure);
    d.pickedUp('q1');
    expect(d.plan('b1')!.stops.some((s) => s.requestId === 'q1' && s.kind === 'pickup')).toBe(false);
  });

  it('a cancelled or no-show rider frees the bus at once', () => {
    const { d } = standingBus(true);
    expect(d.cancel('q1')).toBe(true);
    expect(d.plan('b1')!.stops).toEqual([]);
  });

  it('service starts after the fixed dwell from the moment of arrival; a bus already at the place goes on at once', () => {
    const { d, clock } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const q1 = offer(d.request({ id: 'q1', pickup: gridLoc(2, 0), dropoff: gridLoc(5, 0), passengers: 1 }));
    const q2 = offer(d.request({ id: 'q2', pickup: gridLoc(2, 0), dropoff: gridLoc(5, 0), passengers: 1 }));
    d.confirm(q1.offerId);
    d.confirm(q2.offerId);
    // Planned: 2 cells + the fixed dwell → service at T0 + 150 s. The bus is 20 s late at the place.
    expect(q1.estimatedPickup).toBe(T0 + 150_000);
    clock.set(T0 + 140_000);
    d.vehicleArrived('b1');
    const [s1, s2] = d.plan('b1')!.stops;
    expect(s1.ready).toBe(T0 + 170_000); // doors open 30 s after the wheels stopped
    expect(s2.ready).toBe(s1.departure); // same dwell
    clock.set(s1.departure);
    d.pickedUp('q1');
    d.vehicleArrived('b1'); // the next stop is at the same place: nothing more to wait for
    expect(d.plan('b1')!.stops[0].ready).toBe(s1.departure);
  });
});

describe('planning margin', () => {
  it('a new ride is planned at least planningMarginMs inside its window; the promise itself is not shortened', () => {
    // 14 cells: pickup planned at T0 + 14.5 min, the immediate window ends at T0 + 15 min.
    const far = { pickup: gridLoc(14, 0), dropoff: gridLoc(14, 1), passengers: 1 };
    expect(rejection(makeDispatcher({ vehicles: [bus('b1', 0, 0)] }).d.request(far)).reason).toBe('window');
    const o = offer(makeDispatcher({ vehicles: [bus('b1', 0, 0)], config: { promises: { planningMarginMs: 30_000 } } }).d.request(far));
    expect(o.estimatedPickup).toBe(T0 + 14.5 * MIN);
    expect(o.pickupWindow).toEqual({ start: T0 + 5 * MIN, end: T0 + 15 * MIN });
    const near = offer(makeDispatcher({ vehicles: [bus('b1', 0, 0)] }).d.request({ ...far, pickup: gridLoc(10, 0), dropoff: gridLoc(10, 1) }));
    expect(near.pickupWindow.end - near.estimatedPickup).toBeGreaterThanOrEqual(60_000);
  });

  it('an arrival-by booking is planned to arrive at least the margin before the promised time', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const o = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(6, 0), passengers: 1, time: { type: 'arrival', by: T0 + 30 * MIN } }));
    expect(o.latestArrival).toBe(T0 + 30 * MIN);
    expect(o.estimatedArrival).toBeLessThanOrEqual(T0 + 29 * MIN);
  });

  it('an existing promise is held to the hard window: a late confirmation still fits where a new request would not', () => {
    const { d, clock } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const ride = { pickup: gridLoc(10, 0), dropoff: gridLoc(10, 1), passengers: 1 };
    const o = offer(d.request({ id: 'late', ...ride }));
    expect(o.pickupWindow).toEqual({ start: T0 + 5 * MIN, end: T0 + 15 * MIN });
    // The offer lapses; confirmed at T0 + 4 min the idle bus reaches the pickup at T0 + 14.5 min: inside the
    // promise, inside its last minute.
    clock.set(T0 + 4 * MIN);
    expect(d.confirm(o.offerId)).toMatchObject({ ok: true, vehicleId: 'b1' });
    expect(d.plan('b1')!.stops[0].ready).toBe(T0 + 14.5 * MIN);
    expect(d.audit()).toEqual([]);
    // The same ride asked for afresh now gets a new window with the margin kept.
    const again = offer(d.request({ id: 'fresh', ...ride }));
    expect(again.pickupWindow.end - again.estimatedPickup).toBeGreaterThanOrEqual(60_000);
  });

  it('the margin is validated: at most half the pickup window', () => {
    expect(() => makeDispatcher({ vehicles: [], config: { promises: { planningMarginMs: 6 * MIN } } })).toThrow(/planningMarginMs/);
  });
});

describe('breakdowns', () => {
  it('riders waiting for a bus that is taken out of service move to another bus with the same promise', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0), bus('b2', 2, 2)] });
    const o = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(4, 0), passengers: 1 }));
    d.confirm(o.offerId);
    expect(o.vehicleId).toBe('b1');
    const promise = d.booking(o.requestId)!.promise;
    d.updateVehicle({ id: 'b1', status: 'out-of-service' });
    expect(d.reassignFrom('b1')).toEqual({ moved: [o.requestId], stranded: [] });
    expect(d.booking(o.requestId)).toMatchObject({ vehicleId: 'b2', status: 'confirmed', promise });
    expect(d.plan('b1')!.stops).toEqual([]);
    expect(d.audit()).toEqual([]);
  });

  it('a stranded rider keeps the driver reserved for their bus (it is not lost while others are tried)', () => {
    const { d } = makeDispatcher({
      vehicles: [bus('b0', 0, 0, { driverId: null }), bus('b1', 0, 0, { driverId: null })],
      roster: [{ id: 'only', start: T0, end: T0 + 30 * MIN }],
    });
    const o = offer(d.request({ pickup: gridLoc(0, 0), dropoff: gridLoc(0, 5), passengers: 1 }));
    d.confirm(o.offerId);
    expect(d.plan(o.vehicleId)!.reservedDriverId).toBe('only');
    d.updateVehicle({ id: o.vehicleId, status: 'out-of-service' });
    expect(d.reassignFrom(o.vehicleId)).toEqual({ moved: [], stranded: [o.requestId] });
    d.updateVehicle({ id: o.vehicleId, status: 'available' });
    expect(d.plan(o.vehicleId)!.reservedDriverId).toBe('only');
    // The driver is not handed to the other bus: the stranded rider's bus can still go.
    offer(d.request({ pickup: gridLoc(0, 0), dropoff: gridLoc(0, 1), passengers: 1 }, { vehicleIds: [o.vehicleId] }));
    expect(rejection(d.request({ pickup: gridLoc(0, 0), dropoff: gridLoc(0, 1), passengers: 1 }, { vehicleIds: [o.vehicleId === 'b0' ? 'b1' : 'b0'] })).reason).toBe('no-driver');
    expect(d.audit()).toEqual([]);
  });

  it('a rider nobody else can take as promised stays, flagged at risk', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0), bus('b2', 12, 12)] });
    const o = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(4, 0), passengers: 1 }));
    d.confirm(o.offerId);
    d.drainEvents();
    d.updateVehicle({ id: 'b1', status: 'out-of-service' });
    expect(d.reassignFrom('b1')).toEqual({ moved: [], stranded: [o.requestId] });
    expect(d.booking(o.requestId)!.vehicleId).toBe('b1');
    expect(d.plan('b1')!.stops).toHaveLength(2);
    expect(d.drainEvents().filter((e) => e.type === 'promise-at-risk').map((e) => e.requestId)).toEqual([o.requestId]);
  });
});

describe('routing changes', () => {
  it('after a road closure the plans are re-timed and riders who would now be late are flagged', () => {
    const { d, oracle } = makeDispatcher({ vehicles: [bus('b1', 0, 0)] });
    const o = offer(d.request({ pickup: gridLoc(8, 0), dropoff: gridLoc(9, 0), passengers: 1 }));
    d.confirm(o.offerId);
    d.drainEvents();
    (oracle as { secondsPerCell: number }).secondsPerCell = 180; // everything three times slower
    d.invalidateTravelTimes();
    expect(d.drainEvents().filter((e) => e.type === 'promise-at-risk').map((e) => e.requestId)).toEqual([o.requestId]);
    expect(d.plan('b1')!.stops[0].arrival).toBe(T0 + 8 * 180_000 + 30_000);
  });
});

describe('timed transfers', () => {
  const timetable = timetableSchema.parse(JSON.parse(readFileSync(new URL('../../../fixtures/timetable.json', import.meta.url), 'utf8')));

  it('the fixture timetable is marked synthetic and runs every 15 minutes at the four hubs', () => {
    expect(timetable.synthetic).toBe(true);
    expect(new Set(timetable.departures.map((d) => d.hubId))).toEqual(new Set(['tuk', 'uni-wohnstadt', 'pfaff', 'hbf']));
    expect(timetable.departures.every((d) => d.headwayMin === 15)).toBe(true);
  });

  it('a ride to a hub targets the first reachable line departure and promises arrival 3 minutes before it', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 3, 0)], config: { timetable } });
    // T0 = 08:00 local; SYN-105 leaves TUK at :04, :19, :34, :49. Earliest arrival ≈ 08:04 → 08:19 is the first one.
    const o = offer(d.request({ pickup: gridLoc(3, 0), dropoff: GRID_HUBS[0].location, passengers: 1, transfer: { hubId: 'tuk' } }));
    expect(o.transfer).toEqual({ hubId: 'tuk', departure: T0 + 19 * MIN, lineId: 'SYN-105' });
    expect(o.latestArrival).toBe(T0 + 16 * MIN);
    expect(o.estimatedArrival).toBeLessThanOrEqual(T0 + 16 * MIN);
  });

  it('an explicit departure that cannot be reached in time is rejected', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 6, 6)], config: { timetable } });
    const r = rejection(d.request({ pickup: gridLoc(5, 5), dropoff: GRID_HUBS[0].location, passengers: 1, transfer: { hubId: 'tuk', departure: T0 + 4 * MIN } }));
    expect(r.reason).toBe('window');
  });
});

describe('journal and restore', () => {
  it('toJSON/fromJSON keeps every confirmed booking and plan, and the restored dispatcher carries on', () => {
    const { d, clock, oracle } = makeDispatcher({ vehicles: [bus('b1', 0, 0), bus('b2', 6, 6)] });
    const ids: string[] = [];
    for (const [x, y] of [[1, 0], [5, 6], [2, 2]]) {
      const o = offer(d.request({ pickup: gridLoc(x, y), dropoff: gridLoc(3, 3), passengers: 1 }));
      d.confirm(o.offerId);
      ids.push(o.requestId);
    }
    clock.advance(MIN);
    d.vehicleArrived('b1');
    d.pickedUp(ids[0]);
    const snap = JSON.parse(JSON.stringify(d.toJSON()));
    const restored = Dispatcher.fromJSON(snap, { clock, rng: new Rng(1), oracle, config: { hubs: GRID_HUBS, depot: gridLoc(3, -1) } });
    expect(restored.plans()).toEqual(d.plans());
    expect(restored.bookings()).toEqual(d.bookings());
    expect(restored.roster()).toEqual(d.roster());
    const o = offer(restored.request({ pickup: gridLoc(4, 4), dropoff: gridLoc(3, 3), passengers: 1 }));
    expect(o.requestId).not.toContain(ids[0]);
    expect(ids).not.toContain(o.requestId);
    expect(restored.confirm(o.offerId).ok).toBe(true);
    expect(restored.audit()).toEqual([]);
  });

  it('finished bookings beyond retainFinished are forgotten: the state persisted with every change stays bounded', () => {
    const { d } = makeDispatcher({ vehicles: [bus('b1', 0, 0)], config: { retainFinished: 3 } });
    const ids: string[] = [];
    const live = offer(d.request({ pickup: gridLoc(1, 0), dropoff: gridLoc(3, 0), passengers: 1 }));
    d.confirm(live.offerId);
    for (let i = 0; i < 100; i++) {
      const o = offer(d.request({ pickup: gridLoc(2, 0), dropoff: gridLoc(4, 0), passengers: 1 }));
      ids.push(o.requestId);
      expect(d.decline(o.offerId)).toBe(true);
    }
    // the confirmed ride is never forgotten; of the declined, the newest stay (the batch keeps at most 2·3 + 64)
    expect(d.booking(live.requestId)!.status).toBe('confirmed');
    expect(d.booking(ids[99])!.status).toBe('declined');
    expect(d.booking(ids[0])).toBeUndefined();
    expect(d.bookings().length).toBeLessThanOrEqual(1 + 2 * 3 + 64);
    expect(d.toJSON().bookings.length).toBe(d.bookings().length);
    expect(d.decline(`o-${ids[0]}`)).toBe(false); // a late event for a forgotten booking is refused, not a crash
  });
});

describe('determinism', () => {
  it('the same seed and the same calls give the same event log', () => {
    const run = () => {
      const clock = new ManualClock(T0);
      const d = new Dispatcher({ clock, rng: new Rng(9), oracle: new GridOracle(), config: { hubs: GRID_HUBS, depot: gridLoc(3, -1) } });
      d.setRoster([{ id: 'a', start: T0 - MIN, end: T0 + 600 * MIN }, { id: 'b', start: T0 - MIN, end: T0 + 600 * MIN }]);
      d.addVehicle(bus('b1', 0, 0, { driverId: 'a' }));
      d.addVehicle(bus('b2', 5, 5, { driverId: 'b' }));
      for (let k = 0; k < 12; k++) {
        const r = d.request({ pickup: gridLoc(k % 6, (k * 5) % 7), dropoff: gridLoc((k * 3) % 7, (k * 5 + 3) % 7), passengers: 1 + (k % 3) });
        if (r.kind === 'offer' && k % 4 !== 3) d.confirm(r.offerId);
        clock.advance(MIN);
        if (k % 5 === 4) d.reoptimise();
      }
      d.idleRebalancing();
      return d.drainEvents();
    };
    expect(run()).toEqual(run());
  });
});
