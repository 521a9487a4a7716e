import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, riderToken, staffToken, startTestServer, UNI_WOHNSTADT_HOME, type TestServer } from '../testing/server.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ vehicles: 5 });
});
afterAll(() => s.close());

describe('REST booking flow against a real server with simulated buses', () => {
  it('offer → confirm → read → list → cancel, with the exact response shapes', async () => {
    const token = await riderToken(s.url);
    const offer = await api(s.url, 'POST', '/api/bookings', { token, body: { pickup: UNI_WOHNSTADT_HOME, dropoff: { hubId: 'tuk' }, passengers: 2, wheelchairs: 0 } });
    expect(offer.status).toBe(201);
    expect(offer.json).toMatchObject({ id: expect.any(String), status: 'offered', offer: { pickupWindow: { from: expect.any(String), to: expect.any(String) }, arrival: expect.any(String), vehicleId: expect.stringMatching(/^bus-/), expiresAt: expect.any(String) } });
    const w = offer.json.offer.pickupWindow;
    expect(Date.parse(w.to) - Date.parse(w.from)).toBe(10 * 60_000); // default window width
    expect(Date.parse(offer.json.offer.arrival)).toBeGreaterThan(Date.parse(w.from));

    const id = offer.json.id;
    const confirmed = await api(s.url, 'POST', `/api/bookings/${id}/confirm`, { token });
    expect(confirmed.status).toBe(200);
    expect(['confirmed', 'assigned']).toContain(confirmed.json.status);

    const read = await api(s.url, 'GET', `/api/bookings/${id}`, { token });
    expect(read.status).toBe(200);
    expect(read.json.id).toBe(id);
    const list = await api(s.url, 'GET', '/api/bookings', { token });
    expect(list.json.map((b: { id: string }) => b.id)).toEqual([id]);

    const cancelled = await api(s.url, 'DELETE', `/api/bookings/${id}`, { token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.json.status).toBe('cancelled');
    expect((await api(s.url, 'DELETE', `/api/bookings/${id}`, { token })).status).toBe(409);
  });

  it('a rider never sees another rider’s booking; the dispatcher sees all', async () => {
    const alice = await riderToken(s.url), bob = await riderToken(s.url);
    const a = await api(s.url, 'POST', '/api/bookings', { token: alice, body: { pickup: { hubId: 'pfaff' }, dropoff: { hubId: 'tuk' }, passengers: 1 } });
    expect(a.status).toBe(201);
    expect((await api(s.url, 'GET', `/api/bookings/${a.json.id}`, { token: bob })).status).toBe(404);
    expect((await api(s.url, 'POST', `/api/bookings/${a.json.id}/confirm`, { token: bob })).status).toBe(404);
    expect((await api(s.url, 'GET', '/api/bookings', { token: bob })).json).toEqual([]);
    const disp = await staffToken(s.url, 'dispatcher');
    const all = await api(s.url, 'GET', '/api/bookings', { token: disp });
    expect(all.json.some((b: { id: string }) => b.id === a.json.id)).toBe(true);
  });

  it('a dispatcher books for a phone caller', async () => {
    const disp = await staffToken(s.url, 'dispatcher');
    const r = await api(s.url, 'POST', '/api/bookings', { token: disp, body: { pickup: { hubId: 'hbf' }, dropoff: { lat: 49.4262, lon: 7.7432 }, passengers: 1, wheelchairs: 1 } });
    expect(r.status).toBe(201);
    expect((await api(s.url, 'POST', `/api/bookings/${r.json.id}/confirm`, { token: disp })).status).toBe(200);
  });

  it('no feasible bus → 422 NO_OFFER with the reason (outside the service area)', async () => {
    const token = await riderToken(s.url);
    const r = await api(s.url, 'POST', '/api/bookings', { token, body: { pickup: { lat: 49.45, lon: 7.8 }, dropoff: { hubId: 'tuk' }, passengers: 1 } });
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe('NO_OFFER');
    expect(r.json.error.details.reason).toBe('outside-service-area');
    expect(typeof r.json.error.message).toBe('string');
  });

  it('an arrival time no bus can make → 422 NO_OFFER with reason and a later alternative time', async () => {
    const token = await riderToken(s.url);
    const by = Date.now() + 2 * 60_000; // the drive alone takes longer
    const r = await api(s.url, 'POST', '/api/bookings', { token, body: { pickup: UNI_WOHNSTADT_HOME, dropoff: { hubId: 'pfaff' }, passengers: 1, arriveBy: by } });
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe('NO_OFFER');
    expect(r.json.error.details.reason).toBe('window');
    expect(r.json.error.alternative.type).toBe('arrival');
    expect(Date.parse(r.json.error.alternative.time)).toBeGreaterThan(by);
    expect(Date.parse(r.json.error.alternative.time)).toBeLessThanOrEqual(by + 60 * 60_000);
  });

  it.each([
    ['unknown field', { pickup: { hubId: 'tuk' }, dropoff: { hubId: 'pfaff' }, passengers: 1, name: 'Max' }],
    ['passengers 0', { pickup: { hubId: 'tuk' }, dropoff: { hubId: 'pfaff' }, passengers: 0 }],
    ['passengers as string', { pickup: { hubId: 'tuk' }, dropoff: { hubId: 'pfaff' }, passengers: '2' }],
    ['3 wheelchairs', { pickup: { hubId: 'tuk' }, dropoff: { hubId: 'pfaff' }, passengers: 3, wheelchairs: 3 }],
    ['latitude out of range', { pickup: { lat: 91, lon: 7.7 }, dropoff: { hubId: 'pfaff' }, passengers: 1 }],
    ['both departAt and arriveBy', { pickup: { hubId: 'tuk' }, dropoff: { hubId: 'pfaff' }, passengers: 1, departAt: Date.now() + 3600_000, arriveBy: Date.now() + 7200_000 }],
    ['unknown hub', { pickup: { hubId: 'nowhere' }, dropoff: { hubId: 'pfaff' }, passengers: 1 }],
    ['a time in the past', { pickup: { hubId: 'tuk' }, dropoff: { hubId: 'pfaff' }, passengers: 1, departAt: '2020-01-01T10:00:00Z' }],
    ['8 days ahead', { pickup: { hubId: 'tuk' }, dropoff: { hubId: 'pfaff' }, passengers: 1, departAt: Date.now() + 8 * 24 * 3600_000 }],
  ])('bad input (%s) → 400 VALIDATION naming the field, nothing stored', async (_name, body) => {
    const token = await riderToken(s.url);
    const r = await api(s.url, 'POST', '/api/bookings', { token, body });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('VALIDATION');
    expect(r.json.error.message).toMatch(/invalid|unknown|past|ahead/);
    expect((await api(s.url, 'GET', '/api/bookings', { token })).json).toEqual([]);
  });

  it('malformed JSON, an oversized body and a bad id are 4xx JSON errors', async () => {
    const token = await riderToken(s.url);
    const bad = await api(s.url, 'POST', '/api/bookings', { token, raw: '{"pickup":' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('MALFORMED_JSON');
    const big = await api(s.url, 'POST', '/api/bookings', { token, raw: JSON.stringify({ x: 'a'.repeat(100_000) }) });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe('PAYLOAD_TOO_LARGE');
    const id = await api(s.url, 'GET', '/api/bookings/..%2F..%2Fetc', { token });
    expect(id.status).toBe(400);
  });

  it('a pre-booked ride tomorrow gets a window around the desired departure', async () => {
    const token = await riderToken(s.url);
    const at = Date.now() + 24 * 3600_000;
    const r = await api(s.url, 'POST', '/api/bookings', { token, body: { pickup: UNI_WOHNSTADT_HOME, dropoff: { hubId: 'pfaff' }, passengers: 1, departAt: new Date(at).toISOString() } });
    expect(r.status).toBe(201);
    expect(Math.abs(Date.parse(r.json.offer.pickupWindow.from) - at)).toBeLessThan(15 * 60_000);
  });
});

describe('other REST routes', () => {
  it('health, hubs, route, basemap, openapi, metrics', async () => {
    const h = await api(s.url, 'GET', '/api/health');
    expect(h.status).toBe(200);
    expect(h.json).toMatchObject({ ok: true, store: { kind: 'memory' }, dispatcher: { leader: true } });
    const hubs = await api(s.url, 'GET', '/api/hubs');
    expect(hubs.json.map((x: { id: string }) => x.id)).toContain('tuk');
    const token = await riderToken(s.url);
    const route = await api(s.url, 'GET', '/api/route?from=49.42411,7.75578&to=49.43609,7.75446&lang=de', { token });
    expect(route.json.code).toBe('Ok');
    expect(route.json.routes[0].legs[0].steps[0].instruction).toMatch(/^Fahren Sie/);
    const bm = await api(s.url, 'GET', '/api/map/basemap?bbox=7.74,49.42,7.77,49.44');
    expect(bm.json.attribution).toMatch(/OpenStreetMap/);
    expect(bm.json.layers.roads.features.length).toBeGreaterThan(100);
    expect((await api(s.url, 'GET', '/api/map/basemap?bbox=1,2,3')).status).toBe(400);
    const doc = await api(s.url, 'GET', '/api/openapi.json');
    expect(doc.json.openapi).toBe('3.1.0');
    for (const p of ['/api/bookings', '/api/bookings/{id}', '/api/bookings/{id}/confirm', '/api/auth/rider', '/api/auth/login', '/api/vehicles', '/api/hubs', '/api/map/basemap', '/api/route', '/api/health']) {
      expect(Object.keys(doc.json.paths)).toContain(p);
    }
    const m = await api(s.url, 'GET', '/metrics');
    expect(m.text).toMatch(/kl_vehicles_connected 5/);
    expect(m.text).toMatch(/kl_dispatch_decision_seconds_bucket/);
    expect(m.text).toMatch(/kl_event_loop_lag_seconds/);
    expect(m.text).toMatch(/kl_bookings\{status=/);
  });
});
