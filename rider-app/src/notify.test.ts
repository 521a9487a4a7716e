import { describe, expect, it } from 'vitest';
import { dueNotices } from './notify.ts';
import type { BookingView, RiderVehicleView } from './types.ts';

const T0 = Date.parse('2026-03-02T08:00:00Z');
const booking = (id: string, status: BookingView['status'], eta: number | null): BookingView => ({
  id,
  status,
  pickup: { lat: 49.4262, lon: 7.7432 },
  dropoff: { lat: 49.42411, lon: 7.75578, hubId: 'tuk' },
  passengers: 1,
  wheelchairs: 0,
  createdAt: new Date(T0 - 60_000).toISOString(),
  vehicleId: 'bus-1',
  eta: eta === null ? null : new Date(eta).toISOString(),
});
const pos = (bookingId: string, eta: number): RiderVehicleView => ({ bookingId, vehicleId: 'bus-1', label: 'KL-S 101', lat: 49.43, lon: 7.75, heading: 0, eta: new Date(eta).toISOString(), t: T0 });

describe('the "bus is N minutes away" reminder', () => {
  it('is due once the pickup ETA is within the lead time, not before', () => {
    const b = booking('b1', 'assigned', T0 + 25 * 60_000);
    expect(dueNotices([b], {}, 10, T0, new Set())).toEqual([]);
    expect(dueNotices([b], {}, 10, T0 + 14 * 60_000, new Set())).toEqual([]); // 11 min away
    expect(dueNotices([b], {}, 10, T0 + 15 * 60_000, new Set())).toEqual([{ bookingId: 'b1', eta: T0 + 25 * 60_000 }]); // exactly 10
  });

  it('uses the live ETA from the bus position over the booking snapshot', () => {
    const b = booking('b1', 'confirmed', T0 + 30 * 60_000);
    expect(dueNotices([b], { b1: pos('b1', T0 + 9 * 60_000) }, 10, T0, new Set())).toHaveLength(1);
  });

  it('fires at once for a booking whose bus is already closer than the lead time', () => {
    expect(dueNotices([booking('b1', 'assigned', T0 + 2 * 60_000)], {}, 10, T0, new Set())).toHaveLength(1);
  });

  it('is not repeated, and follows the rider’s chosen lead time', () => {
    const b = booking('b1', 'assigned', T0 + 12 * 60_000);
    expect(dueNotices([b], {}, 10, T0, new Set())).toEqual([]);
    expect(dueNotices([b], {}, 15, T0, new Set())).toHaveLength(1);
    expect(dueNotices([b], {}, 15, T0, new Set(['b1']))).toEqual([]);
  });

  it('only for a bus still to come: not for offers, riders on board, ended rides or unknown ETAs', () => {
    const soon = T0 + 60_000;
    for (const s of ['offered', 'picked_up', 'completed', 'cancelled', 'expired', 'no_show', 'rejected'] as const) {
      expect(dueNotices([booking('b', s, soon)], {}, 10, T0, new Set()), s).toEqual([]);
    }
    expect(dueNotices([booking('b', 'assigned', null)], {}, 10, T0, new Set())).toEqual([]);
  });
});
