import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JournalStore } from '../store/journal.ts';
import type { BookingRecord } from '../store/types.ts';
import { api, riderToken, startTestServer, type TestServer } from '../testing/server.ts';
import { CSV_COLUMNS } from './kpis.ts';

const MIN = 60_000;
const D1 = Date.UTC(2026, 0, 5, 9, 0); // 10:00 in Berlin
const record = (i: number, o: Partial<BookingRecord>): BookingRecord => ({
  id: `bSEED${String(i).padStart(4, '0')}`,
  riderId: `rider_SECRET${i}`,
  status: 'completed',
  createdAt: D1 + i * MIN,
  updatedAt: D1 + i * MIN,
  pickup: { lat: 49.426213, lon: 7.743187 },
  dropoff: { lat: 49.42411, lon: 7.75578, hubId: 'tuk' },
  passengers: 1,
  wheelchairs: 0,
  bookedBy: 'rider',
  offer: { pickupFrom: D1 + i * MIN, pickupTo: D1 + (i + 10) * MIN, arrival: D1 + (i + 20) * MIN, latestArrival: D1 + (i + 30) * MIN, vehicleId: 'bus-1', expiresAt: D1 + (i + 2) * MIN, offerId: `o${i}` },
  vehicleId: 'bus-1',
  pickedUpAt: D1 + (i + 4) * MIN,
  droppedOffAt: D1 + (i + 16) * MIN,
  ...o,
});
const seeded: BookingRecord[] = [
  ...[0, 1, 2, 3].map((i) => record(i, {})),
  record(4, { status: 'cancelled', pickedUpAt: undefined, droppedOffAt: undefined }),
  // two rides at PFAFF: fewer than k → suppressed row
  record(5, { dropoff: { lat: 49.43609, lon: 7.75446, hubId: 'pfaff' } }),
  record(6, { dropoff: { lat: 49.43609, lon: 7.75446, hubId: 'pfaff' } }),
  // door to door, rejected: outside the service area
  ...[7, 8, 9].map((i) => record(i, { status: 'rejected', dropoff: { lat: 49.45, lon: 7.8 }, offer: undefined, vehicleId: null, pickedUpAt: undefined, droppedOffAt: undefined, rejection: { reason: 'outside-service-area', message: 'outside' } })),
];

let s: TestServer;
beforeAll(async () => {
  // real stored data: written by the journal store, restored by the server at start
  const dataDir = await mkdtemp(join(tmpdir(), 'kl-opendata-'));
  const store = new JournalStore(dataDir);
  await store.load();
  await store.commit({ bookings: seeded });
  await store.close();
  s = await startTestServer({ dataDir, vehicles: 2 });
});
afterAll(() => s.close());

const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(Date.now());

describe('GET /api/open-data/kpis', () => {
  it('JSON: per day and hub from the booking store, small rows suppressed, no personal data', async () => {
    const r = await api(s.url, 'GET', '/api/open-data/kpis?from=2026-01-04&to=2026-01-05');
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ from: '2026-01-04', to: '2026-01-05', timeZone: 'Europe/Berlin', k: 3 });
    expect(r.json.rows).toHaveLength(2 * 5); // 2 days × (4 hubs + door to door)
    const row = (date: string, hub: string | null) => r.json.rows.find((x: { date: string; hubId: string | null }) => x.date === date && x.hubId === hub);
    expect(row('2026-01-05', 'tuk')).toMatchObject({ suppressed: false, requested: 5, expired: 0, rejected: 0, waitP50S: 240, waitP90S: 240, promisesKeptPct: 100 });
    // 1 cancellation is withheld; 5 = 4 confirmed + 1 cancelled would give it away, so confirmed goes too, and with
    // it completed (confirmed = completed here)
    expect(row('2026-01-05', 'tuk')).toMatchObject({ cancelled: null, confirmed: null, completed: null, suppressedCells: ['cancelled', 'completed', 'confirmed'] });
    expect(row('2026-01-05', 'pfaff')).toMatchObject({ suppressed: true, requested: null, completed: null });
    expect(row('2026-01-05', null)).toMatchObject({ requested: 3, rejected: 3, rejectedByReason: { 'outside-service-area': 3 } });
    expect(row('2026-01-04', 'tuk')).toMatchObject({ requested: 0 });
    for (const secret of ['bSEED', 'rider_SECRET', '49.426213', '7.743187', 'bus-1']) expect(r.text).not.toContain(secret);
  });

  it('CSV: the same rows, flat columns, empty cells for withheld values', async () => {
    const res = await fetch(`${s.url}/api/open-data/kpis?from=2026-01-05&to=2026-01-05&format=csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await res.text();
    const rows = parse(text, { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0])).toEqual(CSV_COLUMNS);
    const tuk = rows.find((x) => x.hub_id === 'tuk')!;
    expect(tuk).toMatchObject({ date: '2026-01-05', suppressed: '0', requested: '5', completed: '', cancelled: '', expired: '0', wait_p50_s: '240', occupancy: '' });
    expect(tuk.suppressed_cells).toBe('cancelled;completed;confirmed');
    expect(rows.find((x) => x.hub_id === 'pfaff')).toMatchObject({ suppressed: '1', requested: '' });
    expect(rows.find((x) => x.hub_id === '')).toMatchObject({ rejected: '3', rejected_outside_service_area: '3' });
    expect(text).not.toMatch(/bSEED|rider_SECRET|49\.426213/);
  });

  it('live bookings made through the API show up on today’s row', async () => {
    const token = await riderToken(s.url);
    const made: { status: number; id?: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const b = await api(s.url, 'POST', '/api/bookings', { token, body: { pickup: { hubId: 'hbf' }, dropoff: { lat: 49.4262, lon: 7.7432 }, passengers: 1 } });
      made.push({ status: b.status, id: b.json?.id ?? b.json?.error?.details?.bookingId });
    }
    const r = await api(s.url, 'GET', `/api/open-data/kpis?from=${today()}&to=${today()}`);
    const hbf = r.json.rows.find((x: { hubId: string | null }) => x.hubId === 'hbf');
    expect(hbf.requested).toBe(4);
    expect(r.text).not.toContain(made[0].id);
    // the published counts never contradict the total
    const parts = ['open', 'confirmed', 'cancelled', 'expired', 'rejected'].map((k) => hbf[k]);
    if (parts.every((p: number | null) => p !== null)) expect(parts.reduce((a: number, b: number) => a + b, 0)).toBe(4);
  });

  it('bad queries → 400 with the reason, nothing computed', async () => {
    const cases: [string, RegExp][] = [
      ['', /from/],
      ['?from=2026-01-05', /to/],
      ['?from=2026-02-30&to=2026-03-01', /from/],
      ['?from=05.01.2026&to=2026-01-06', /from/],
      ['?from=2026-01-06&to=2026-01-05', /before/],
      ['?from=2025-01-01&to=2026-01-02', /367 days/],
      ['?from=2026-01-05&to=2026-01-05&format=xml', /format/],
      ['?from=2026-01-05&to=2026-01-05&rider=x', /rider|unrecognized/i],
    ];
    for (const [q, reason] of cases) {
      const r = await api(s.url, 'GET', `/api/open-data/kpis${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.error.code).toBe('VALIDATION');
      expect(r.json.error.message, q).toMatch(reason);
    }
    // exactly 366 days is allowed
    expect((await api(s.url, 'GET', '/api/open-data/kpis?from=2025-01-05&to=2026-01-05')).status).toBe(200);
  });
});
