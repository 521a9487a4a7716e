import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { gridBox } from './basemap-cache.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.close());

describe('base map: built once per view, sent gzipped, revalidated by ETag', () => {
  it('widens a requested box outwards to the 0.01° grid, so nearby boxes share one answer', () => {
    expect(gridBox({ minLon: 7.7311, minLat: 49.4145, maxLon: 7.778, maxLat: 49.4465 }).key).toBe('7.73,49.41,7.78,49.45');
    expect(gridBox({ minLon: 7.7399, minLat: 49.419, maxLon: 7.7701, maxLat: 49.44 }).key).toBe('7.73,49.41,7.78,49.44');
    // a box already on the grid stays as it is (no float creep to the next cell)
    expect(gridBox({ minLon: 7.74, minLat: 49.42, maxLon: 7.77, maxLat: 49.44 }).key).toBe('7.74,49.42,7.77,49.44');
  });

  it('the default view (no bbox) covers the service area, arrives gzipped and the same ETag answers 304', async () => {
    const r = await fetch(`${s.url}/api/map/basemap`, { headers: { 'accept-encoding': 'gzip' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-encoding')).toBe('gzip');
    const etag = r.headers.get('etag');
    expect(etag).toMatch(/^"bm-/);
    const body = (await r.json()) as { attribution: string; bbox: number[]; layers: Record<string, { features: unknown[] }> };
    expect(body.attribution).toMatch(/OpenStreetMap/);
    // service area 7.735–7.774 E, 49.4185–49.4425 N lies inside the default view
    const [w, so, e, n] = body.bbox as [number, number, number, number];
    expect(w).toBeLessThan(7.735);
    expect(so).toBeLessThan(49.4185);
    expect(e).toBeGreaterThan(7.774);
    expect(n).toBeGreaterThan(49.4425);
    expect(body.layers.roads!.features.length).toBeGreaterThan(500);
    expect(body.layers.buildings!.features.length).toBeGreaterThan(500);
    const again = await fetch(`${s.url}/api/map/basemap`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
  });

  it('a client without gzip gets plain JSON, the same content as the gzipped body', async () => {
    const url = `${s.url}/api/map/basemap?bbox=7.745,49.425,7.755,49.431`;
    const plain = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers.get('content-encoding')).toBeNull();
    const text = await plain.text();
    const zipped = await fetch(url, { headers: { 'accept-encoding': 'gzip' }, decompress: false } as RequestInit);
    // undici decompresses by itself; compare the decoded text either way
    const zText = zipped.headers.get('content-encoding') === 'gzip' ? await zipped.text() : gunzipSync(Buffer.from(await zipped.arrayBuffer())).toString();
    expect(zText).toBe(text);
    expect(JSON.parse(text).bbox).toEqual([7.74, 49.42, 7.76, 49.44]);
  });

  it('one layer alone comes as a GeoJSON FeatureCollection (for MapLibre to fetch in its worker)', async () => {
    const r = await fetch(`${s.url}/api/map/basemap?layer=roads`);
    expect(r.status).toBe(200);
    const fc = (await r.json()) as { type: string; features: { geometry: { type: string }; properties: { class?: string } }[] };
    expect(fc.type).toBe('FeatureCollection');
    expect(fc.features.length).toBeGreaterThan(500);
    expect(fc.features.every((f) => f.geometry.type === 'LineString')).toBe(true);
    expect((await fetch(`${s.url}/api/map/basemap?layer=tiles`)).status).toBe(400);
  });

  it('refuses a malformed or oversized bbox with 400 and the reason', async () => {
    for (const q of ['bbox=1,2,3', 'bbox=7.8,49.4,7.7,49.5', 'bbox=0,0,1,1', 'bbox=a,b,c,d', 'zoom=3']) {
      const r = await fetch(`${s.url}/api/map/basemap?${q}`);
      expect(r.status, q).toBe(400);
      const j = (await r.json()) as { error: { code: string; message: string } };
      expect(j.error.message.length, q).toBeGreaterThan(0);
    }
  });
});
