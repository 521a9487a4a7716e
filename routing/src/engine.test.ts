import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RoutingEngine } from './engine.ts';
import { basemapLayers } from './map/features.ts';
import { testEngine } from './testing/engine.ts';

let engine: RoutingEngine;
beforeAll(async () => {
  engine = await testEngine();
});

describe('graph cache', () => {
  let dir = '';
  afterAll(() => rm(dir, { recursive: true, force: true }));
  it('builds from XML once, then starts warm from the cache with the same graph', async () => {
    dir = await mkdtemp(join(tmpdir(), 'kl-routing-'));
    const cold = await RoutingEngine.load({ cacheDir: dir });
    expect(cold.info.source).toBe('build');
    const warm = await RoutingEngine.load({ cacheDir: dir });
    expect(warm.info.source).toBe('cache');
    expect(warm.graph.numSegs).toBe(cold.graph.numSegs);
    expect(Array.from(warm.ch.upWeight)).toEqual(Array.from(cold.ch.upWeight));
    const a = { lat: 49.42411, lon: 7.75578 }, b = { lat: 49.43609, lon: 7.75446 };
    expect(warm.route([a, b]).routes[0].duration).toBe(cold.route([a, b]).routes[0].duration);
  });
  it('a missing OSM file is a clear error', async () => {
    await expect(RoutingEngine.load({ osmFile: '/nonexistent/x.osm.gz' })).rejects.toThrow(/OSM file not found/);
  });
});

describe('OSRM-compatible route JSON', () => {
  it('has OSRM v5 structure with consistent legs, steps and geometry', () => {
    const res = engine.route([{ lat: 49.42586, lon: 7.74607 }, { lat: 49.42411, lon: 7.75578 }, { lat: 49.43609, lon: 7.75446 }]);
    expect(res.code).toBe('Ok');
    const r = res.routes[0];
    expect(r.legs).toHaveLength(2);
    expect(res.waypoints).toHaveLength(3);
    for (const leg of r.legs) {
      expect(leg.steps[0].maneuver.type).toBe('depart');
      expect(leg.steps.at(-1)!.maneuver.type).toBe('arrive');
      const sum = leg.steps.reduce((x, s) => x + s.distance, 0);
      expect(Math.abs(sum - leg.distance)).toBeLessThan(1);
      for (const s of leg.steps) {
        expect(s.geometry.type).toBe('LineString');
        expect(s.geometry.coordinates.length).toBeGreaterThanOrEqual(2);
        expect(s.maneuver.location).toEqual(s.geometry.coordinates[0]);
        expect(s.maneuver.bearing_after).toBeGreaterThanOrEqual(0);
        expect(s.maneuver.bearing_after).toBeLessThan(360);
        expect(s.intersections.length).toBeGreaterThanOrEqual(1);
        for (const i of s.intersections) expect(i.bearings.length).toBe(i.entry.length);
      }
    }
    // the route follows roads: many more coordinates than waypoints, and longer than the straight lines
    expect(r.geometry.coordinates.length).toBeGreaterThan(20);
    expect(r.distance).toBeGreaterThan(1500);
  });

  it('a point far from any road is NoSegment, not a crash', () => {
    const res = engine.route([{ lat: 49.3, lon: 7.5 }, { lat: 49.43609, lon: 7.75446 }]);
    expect(res.code).toBe('NoSegment');
    expect(res.message).toMatch(/500 m/);
  });

  it('table returns a square of durations with zeros on the diagonal', () => {
    const pts = [{ lat: 49.42411, lon: 7.75578 }, { lat: 49.42586, lon: 7.74607 }, { lat: 49.43609, lon: 7.75446 }];
    const t = engine.table(pts, pts);
    for (let i = 0; i < 3; i++) {
      expect(t.durations[i][i]).toBe(0);
      for (let j = 0; j < 3; j++) if (i !== j) expect(t.durations[i][j]).toBeGreaterThan(30);
    }
  });
});

describe('base map', () => {
  it('gives roads with names, buildings, water, green and rail for a bounding box', async () => {
    const f = await engine.mapFeatures();
    const layers = basemapLayers(f, { minLon: 7.74, minLat: 49.42, maxLon: 7.77, maxLat: 49.44 });
    expect(layers.roads.features.length).toBeGreaterThan(500);
    expect(layers.roads.features.some((r) => r.properties.name === 'Trippstadter Straße')).toBe(true);
    expect(layers.buildings.features.length).toBeGreaterThan(500);
    expect(layers.green.features.length).toBeGreaterThan(10);
    expect(layers.rail.features.length).toBeGreaterThan(0);
    const small = basemapLayers(f, { minLon: 7.755, minLat: 49.423, maxLon: 7.756, maxLat: 49.424 });
    expect(small.roads.features.length).toBeLessThan(layers.roads.features.length / 10);
  });
});

describe('road closures', () => {
  it('a closed street is avoided, and reopening restores the original route', () => {
    const a = { lat: 49.42411, lon: 7.75578 }, b = { lat: 49.43609, lon: 7.75446 };
    const before = engine.route([a, b]);
    const segs = engine.segmentsNamed('Pfaffenbergstraße');
    expect(segs.length).toBeGreaterThan(0);
    engine.setClosedSegments(segs);
    try {
      const during = engine.route([a, b]);
      expect(during.code).toBe('Ok');
      const names = during.routes[0].legs[0].steps.map((s) => s.name);
      expect(names).not.toContain('Pfaffenbergstraße');
      expect(during.routes[0].duration).toBeGreaterThan(before.routes[0].duration);
    } finally {
      engine.setClosedSegments([]);
    }
    expect(engine.route([a, b]).routes[0].duration).toBe(before.routes[0].duration);
  });
});
