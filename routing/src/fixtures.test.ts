import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RoutingEngine } from './engine.ts';
import { loadDepot, loadHubs, loadServiceArea } from './fixtures.ts';
import { testEngine } from './testing/engine.ts';

let engine: RoutingEngine;
beforeAll(async () => {
  engine = await testEngine();
});

describe('hub, depot and service-area fixtures on the real road graph', () => {
  const hubs = loadHubs();

  it('has the three quarters plus Hauptbahnhof as transfer points', () => {
    expect(hubs.map((h) => h.id).sort()).toEqual(['hbf', 'pfaff', 'tuk', 'uni-wohnstadt']);
  });

  it.each(hubs.map((h) => [h.id, h] as const))('hub %s snaps to a drivable road within 50 m', (_id, hub) => {
    const p = engine.snap(hub.lat, hub.lon);
    expect(p.snapDistance).toBeLessThanOrEqual(50);
  });

  it('the depot snaps within 50 m', () => {
    const d = loadDepot();
    expect(engine.snap(d.lat, d.lon).snapDistance).toBeLessThanOrEqual(50);
  });

  it('every hub reaches every other hub, both ways, by a real road route', () => {
    for (const a of hubs) {
      for (const b of hubs) {
        if (a === b) continue;
        const r = engine.route([a, b]);
        expect(r.code, `${a.id} → ${b.id}`).toBe('Ok');
        expect(r.routes[0].duration).toBeGreaterThan(30);
        // a road route is longer than the straight line between the stops
        expect(r.routes[0].geometry.coordinates.length).toBeGreaterThan(2);
      }
    }
  });

  it('every hub and the depot lie inside the service area', () => {
    const area = loadServiceArea().features[0];
    for (const h of [...hubs, loadDepot()]) expect(booleanPointInPolygon([h.lon, h.lat], area), h.id).toBe(true);
  });
});
