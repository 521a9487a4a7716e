import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, startTestServer, type TestServer } from '../testing/server.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

describe('rider-app REST: geocoder and hub departures', () => {
  it('GET /api/geocode finds an address in Uni-Wohnstadt, forgiving "str." and umlauts', async () => {
    const r = await api(s.url, 'GET', `/api/geocode?q=${encodeURIComponent('konrad adenauer str 20')}&limit=3`);
    expect(r.status).toBe(200);
    expect(r.json.length).toBeLessThanOrEqual(3);
    expect(r.json[0]).toMatchObject({ kind: 'address', label: 'Konrad-Adenauer-Straße 20', street: 'Konrad-Adenauer-Straße', housenumber: '20', inServiceArea: true });
    expect(typeof r.json[0].lat).toBe('number');
    const far = await api(s.url, 'GET', `/api/geocode?q=${encodeURIComponent('Hauptbahnhof')}`);
    expect(far.json[0].label).toMatch(/Hauptbahnhof/);
  });

  it('GET /api/geocode validates its query', async () => {
    expect((await api(s.url, 'GET', '/api/geocode')).status).toBe(400);
    expect((await api(s.url, 'GET', '/api/geocode?q=')).status).toBe(400);
    expect((await api(s.url, 'GET', `/api/geocode?q=${'a'.repeat(200)}`)).status).toBe(400);
    expect((await api(s.url, 'GET', '/api/geocode?q=x&limit=500')).status).toBe(400);
    expect((await api(s.url, 'GET', '/api/geocode?q=x&foo=1')).status).toBe(400);
  });

  it('GET /api/geocode/reverse names the nearest house, or 404 far from any road', async () => {
    const r = await api(s.url, 'GET', '/api/geocode/reverse?lat=49.4262&lon=7.7432');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ kind: 'address', street: 'Konrad-Adenauer-Straße', inServiceArea: true });
    expect((await api(s.url, 'GET', '/api/geocode/reverse?lat=49.0&lon=7.0')).status).toBe(404);
    expect((await api(s.url, 'GET', '/api/geocode/reverse?lat=91&lon=7')).status).toBe(400);
  });

  it('GET /api/hubs/{id}/departures lists the next line departures (every 15 minutes, synthetic)', async () => {
    const from = Date.parse('2026-03-02T08:00:00+01:00');
    const r = await api(s.url, 'GET', `/api/hubs/tuk/departures?from=${from}&limit=3`);
    expect(r.status).toBe(200);
    expect(r.json.hubId).toBe('tuk');
    expect(r.json.synthetic).toBe(true);
    expect(r.json.departures).toHaveLength(3);
    const times = r.json.departures.map((d: { time: string }) => Date.parse(d.time));
    expect(times[0]).toBeGreaterThanOrEqual(from);
    expect(times[1] - times[0]).toBe(15 * 60_000);
    expect(r.json.departures[0]).toMatchObject({ lineId: expect.any(String), headsign: expect.any(String) });
    expect((await api(s.url, 'GET', '/api/hubs/tuk/departures')).status).toBe(200);
    expect((await api(s.url, 'GET', '/api/hubs/nowhere/departures')).status).toBe(404);
    expect((await api(s.url, 'GET', '/api/hubs/tuk/departures?limit=0')).status).toBe(400);
  });

  it('the new routes are in the OpenAPI document', async () => {
    const doc = (await api(s.url, 'GET', '/api/openapi.json')).json;
    for (const p of ['/api/geocode', '/api/geocode/reverse', '/api/hubs/{id}/departures']) expect(doc.paths[p]?.get, p).toBeDefined();
  });
});
