import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeKpis, type TripOutcome } from '../kpi/kpis.ts';
import { COUNT_CELLS, K_ANONYMITY, REJECTION_REASONS, ROW_SUMS, openDataKpis, suppressCells, type Cell } from './kpis.ts';

const MIN = 60_000;
const TZ = 'Europe/Berlin';
// 2026-03-10 08:00 Berlin (UTC+1)
const DAY = Date.UTC(2026, 2, 10, 7, 0);
let n = 0;
const trip = (o: Partial<TripOutcome> & { at?: number } = {}): TripOutcome => {
  const at = o.at ?? DAY;
  return {
    id: `b${++n}`,
    status: 'completed',
    requestedAt: at,
    desired: { type: 'now', time: at },
    promise: { pickupFrom: at, pickupTo: at + 10 * MIN, maxRideMs: 20 * MIN },
    pickedUpAt: at + 5 * MIN,
    droppedOffAt: at + 15 * MIN,
    directMs: 8 * MIN,
    passengers: 1,
    hubId: 'tuk',
    ...o,
  };
};
const undone = { pickedUpAt: undefined, droppedOffAt: undefined };
const hubIds = ['tuk', 'pfaff'];

describe('open-data KPIs per day and hub', () => {
  it('counts, waits and promises per day and hub with the simulation report’s definitions', () => {
    const trips = [
      trip({ pickedUpAt: DAY + 2 * MIN }),
      trip({ pickedUpAt: DAY + 4 * MIN }),
      trip({ pickedUpAt: DAY + 6 * MIN }),
      trip({ pickedUpAt: DAY + 8 * MIN }),
      trip({ pickedUpAt: DAY + 12 * MIN, droppedOffAt: DAY + 22 * MIN }), // outside the window: promise broken
      trip({ status: 'cancelled', ...undone }),
      trip({ status: 'cancelled', ...undone }),
      trip({ status: 'cancelled', ...undone }),
      trip({ status: 'rejected', rejectionReason: 'capacity', promise: undefined, ...undone }),
      trip({ status: 'rejected', rejectionReason: 'capacity', promise: undefined, ...undone }),
      trip({ status: 'rejected', rejectionReason: 'capacity', promise: undefined, ...undone }),
      trip({ status: 'rejected', rejectionReason: 'capacity', promise: undefined, ...undone }),
      trip({ status: 'rejected', rejectionReason: 'window', promise: undefined, ...undone }),
      trip({ status: 'rejected', rejectionReason: 'window', promise: undefined, ...undone }),
      trip({ status: 'rejected', rejectionReason: 'window', promise: undefined, ...undone }),
    ];
    const rows = openDataKpis(trips, { from: '2026-03-09', to: '2026-03-11', timeZone: TZ, hubIds });
    // 3 days × (2 hubs + door to door)
    expect(rows.map((r) => `${r.date}/${r.hubId}`)).toEqual(['2026-03-09/tuk', '2026-03-09/pfaff', '2026-03-09/null', '2026-03-10/tuk', '2026-03-10/pfaff', '2026-03-10/null', '2026-03-11/tuk', '2026-03-11/pfaff', '2026-03-11/null']);
    const r = rows[3];
    const k = computeKpis(trips, { vehicleKm: 0, emptyKm: 0, passengerKm: 0, energyKWh: 0, driverBusyMs: 0, driverShiftMs: 0 });
    expect(r).toMatchObject({ suppressed: false, suppressedCells: [], requested: 15, confirmed: 5, completed: 5, upcoming: 0, noShows: 0, cancelled: 3, expired: 0, open: 0, rejected: 7 });
    expect(r.rejectedByReason).toMatchObject({ capacity: 4, window: 3, battery: 0, 'no-driver': 0, 'outside-service-area': 0, other: 0 });
    expect(r.waitP50S).toBe(k.waitTimeS.p50);
    expect(r.waitP50S).toBe(360);
    expect(r.waitP90S).toBe(720);
    expect(r.promisesKeptPct).toBe(80);
    expect(r.occupancy).toBeNull(); // no fleet-km in the booking store
    // an empty day is published as zeros
    expect(rows[0]).toMatchObject({ suppressed: false, requested: 0, confirmed: 0, waitP50S: null });
  });

  it('the day is the local service day of the desired time; arrival-by rides count on their day', () => {
    const lateEvening = Date.UTC(2026, 2, 10, 23, 30); // 00:30 on the 11th in Berlin
    const trips = [0, 1, 2].map(() => trip({ at: lateEvening, hubId: 'pfaff' }));
    trips.push(trip({ at: DAY, desired: { type: 'arrival', time: lateEvening }, hubId: 'pfaff' }));
    const rows = openDataKpis(trips, { from: '2026-03-10', to: '2026-03-11', timeZone: TZ, hubIds });
    expect(rows.find((r) => r.date === '2026-03-10' && r.hubId === 'pfaff')!.requested).toBe(0);
    expect(rows.find((r) => r.date === '2026-03-11' && r.hubId === 'pfaff')!.requested).toBe(4);
  });

  it('small numbers: rows under k are suppressed, counts 1..k−1 withheld, statistics need k rides', () => {
    const trips = [trip({ hubId: 'pfaff' }), trip({ hubId: 'pfaff', status: 'no_show', ...undone })];
    for (let i = 0; i < 4; i++) trip();
    const rows = openDataKpis([...trips, trip({ hubId: undefined }), trip({ hubId: undefined }), trip({ hubId: undefined }), trip({ hubId: undefined, status: 'cancelled', ...undone })], { from: '2026-03-10', to: '2026-03-10', timeZone: TZ, hubIds });
    const pfaff = rows.find((r) => r.hubId === 'pfaff')!;
    expect(pfaff).toMatchObject({ suppressed: true, requested: null, completed: null, noShows: null, waitP50S: null, promisesKeptPct: null });
    const door = rows.find((r) => r.hubId === null)!;
    expect(door.suppressed).toBe(false);
    expect(door.requested).toBe(4);
    // cancelled = 1 is withheld, and with it another part of "requested = …" so that it cannot be recomputed
    expect(door.cancelled).toBeNull();
    expect(door.suppressedCells).toContain('cancelled');
    expect(door.suppressedCells.length).toBeGreaterThanOrEqual(2);
    expect(door.waitP50S).not.toBeNull(); // 3 waits
    const tuk = rows.find((r) => r.hubId === 'tuk')!;
    expect(tuk).toMatchObject({ requested: 0 });
  });

  it('unknown rejection reasons of stored records count as other', () => {
    const rows = openDataKpis([0, 1, 2].map(() => trip({ status: 'rejected', rejectionReason: 'legacy-reason', ...undone })), { from: '2026-03-10', to: '2026-03-10', timeZone: TZ, hubIds });
    expect(rows[0].rejectedByReason.other).toBe(3);
    expect(rows[0].rejected).toBe(3);
  });
});

/** Is cell x fixed by the published cells and the row's sums? (x lies in the row space of the equations over the withheld cells) */
function recoverable(hidden: Cell[], x: Cell): boolean {
  const col = new Map(hidden.map((c, i) => [c, i]));
  const rows: number[][] = [];
  for (const [total, parts] of ROW_SUMS) {
    const r = new Array(hidden.length).fill(0);
    if (col.has(total)) r[col.get(total)!] -= 1;
    for (const p of parts) if (col.has(p)) r[col.get(p)!] += 1;
    if (r.some((v) => v !== 0)) rows.push(r);
  }
  const rank = (m: number[][]) => {
    const a = m.map((r) => [...r]);
    let rk = 0;
    for (let c = 0; c < hidden.length && rk < a.length; c++) {
      const p = a.findIndex((r, i) => i >= rk && Math.abs(r[c]) > 1e-9);
      if (p < 0) continue;
      [a[rk], a[p]] = [a[p], a[rk]];
      for (let i = 0; i < a.length; i++) {
        if (i === rk) continue;
        const f = a[i][c] / a[rk][c];
        for (let j = 0; j < hidden.length; j++) a[i][j] -= f * a[rk][j];
      }
      rk++;
    }
    return rk;
  };
  const e = new Array(hidden.length).fill(0);
  e[col.get(x)!] = 1;
  return rank(rows) === rank([...rows, e]);
}

describe('secondary suppression (property)', () => {
  const part = fc.nat({ max: 6 });
  it('every count 1..k−1 is withheld and no withheld count can be recomputed from the published ones', () => {
    fc.assert(
      fc.property(fc.record({ open: part, upcoming: part, completed: part, noShows: part, cancelled: part, expired: part }), fc.array(part, { minLength: REJECTION_REASONS.length, maxLength: REJECTION_REASONS.length }), (p, reasons) => {
        const counts = { ...p } as Record<Cell, number>;
        REJECTION_REASONS.forEach((r, i) => (counts[`rejected:${r}`] = reasons[i]));
        counts.rejected = reasons.reduce((a, b) => a + b, 0);
        counts.confirmed = p.upcoming + p.completed + p.noShows;
        counts.requested = p.open + counts.confirmed + p.cancelled + p.expired + counts.rejected;
        const hidden = suppressCells(counts);
        for (const c of [...COUNT_CELLS, ...REJECTION_REASONS.map((r) => `rejected:${r}` as const)]) {
          if (counts[c] > 0 && counts[c] < K_ANONYMITY) expect(hidden.has(c)).toBe(true);
        }
        for (const c of hidden) expect(recoverable([...hidden], c), `${c} recoverable with ${[...hidden]}`).toBe(false);
      }),
      { numRuns: 2000, seed: 9 },
    );
  });
});
