import { describe, expect, it } from 'vitest';
import { computeKpis, promiseKept, waitMs, type TripOutcome } from './kpis.ts';

const MIN = 60_000;
const base: TripOutcome = {
  id: 't1',
  status: 'completed',
  requestedAt: 0,
  desired: { type: 'now', time: 0 },
  promise: { pickupFrom: 0, pickupTo: 10 * MIN, maxRideMs: 12 * MIN },
  pickedUpAt: 6 * MIN,
  droppedOffAt: 14 * MIN,
  directMs: 6 * MIN,
  passengers: 1,
};
const usage = { vehicleKm: 100, emptyKm: 25, passengerKm: 150, energyKWh: 35, driverBusyMs: 3 * 3600_000, driverShiftMs: 4 * 3600_000 };

describe('KPI definitions', () => {
  it('wait counts from the request for "now", from the asked departure for pre-bookings', () => {
    expect(waitMs(base)).toBe(6 * MIN);
    expect(waitMs({ ...base, desired: { type: 'departure', time: 5 * MIN } })).toBe(1 * MIN);
    expect(waitMs({ ...base, pickedUpAt: undefined })).toBeNull();
  });

  it('a promise is kept only when pickup is in the window and the ride within the promised time', () => {
    expect(promiseKept(base)).toBe(true);
    expect(promiseKept({ ...base, pickedUpAt: 11 * MIN, droppedOffAt: 19 * MIN })).toBe(false); // late pickup
    expect(promiseKept({ ...base, droppedOffAt: 6 * MIN + 13 * MIN })).toBe(false); // ride too long
    expect(promiseKept({ ...base, promise: { ...base.promise!, latestArrival: 13 * MIN } })).toBe(false);
    expect(promiseKept({ ...base, status: 'rejected' })).toBeNull();
  });

  it('aggregates rejections by reason, detour, occupancy and utilisation', () => {
    const k = computeKpis(
      [base, { ...base, id: 't2', status: 'rejected', rejectionReason: 'capacity', pickedUpAt: undefined, droppedOffAt: undefined }, { ...base, id: 't3', pickedUpAt: 12 * MIN, droppedOffAt: 20 * MIN }],
      usage,
    );
    expect(k.requests).toBe(3);
    expect(k.served).toBe(2);
    expect(k.rejectedByReason).toEqual({ capacity: 1 });
    expect(k.promisesKeptPct).toBe(50);
    expect(k.detourFactor.mean).toBeCloseTo(8 / 6, 2);
    expect(k.occupancy).toBe(1.5);
    expect(k.emptyKmShare).toBe(0.25);
    expect(k.driverUtilisation).toBe(0.75);
    expect(k.waitTimeS.max).toBe(720);
  });
});
