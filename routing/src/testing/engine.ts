import { RoutingEngine } from '../engine.ts';

/** One engine per test worker: loading from the on-disk cache is cheap, building it once is not. */
let shared: Promise<RoutingEngine> | null = null;
export function testEngine(): Promise<RoutingEngine> {
  shared ??= RoutingEngine.load();
  return shared;
}

/** Random coordinates inside the extract's central area (seeded), for property tests and benchmarks. */
export function seededPoints(seed: number, count: number, box = { minLat: 49.42, maxLat: 49.452, minLon: 7.72, maxLon: 7.81 }) {
  // mulberry32: a tiny seeded generator is enough for picking test coordinates
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Array.from({ length: count }, () => ({ lat: box.minLat + rnd() * (box.maxLat - box.minLat), lon: box.minLon + rnd() * (box.maxLon - box.minLon) }));
}

/** Seeded road positions: random coordinates, keeping those within snapping distance of a road (forest is skipped). */
export function seededPhantoms(engine: RoutingEngine, seed: number, count: number) {
  const out = [];
  let batch = 0;
  while (out.length < count) {
    for (const p of seededPoints(seed + batch++ * 7919, count)) {
      try {
        out.push(engine.snap(p.lat, p.lon));
      } catch {
        /* off-road: try the next one */
      }
      if (out.length === count) break;
    }
  }
  return out;
}
