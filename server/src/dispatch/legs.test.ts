import { describe, expect, it } from 'vitest';
import { CrowFlyOracle } from './oracle.ts';
import { LegCache, Legs } from './legs.ts';
import type { Location } from './types.ts';

describe('LegCache', () => {
  it("keeps the legs between a plan's stops while one-off legs from a moving bus stream past, within twice its capacity", () => {
    const asked = new Map<string, number>();
    class Counting extends CrowFlyOracle {
      override time(a: Location, b: Location): number {
        const k = `${a.id}>${b.id}`;
        asked.set(k, (asked.get(k) ?? 0) + 1);
        return super.time(a, b);
      }
    }
    const legs = new Legs(new Counting(), 30_000);
    const cache = new LegCache(legs, 100);
    const stops: Location[] = Array.from({ length: 8 }, (_, i) => ({ id: `stop${i}`, lat: 49.42 + i * 0.003, lon: 7.74 + i * 0.002 }));
    let maxEntries = 0;
    for (let k = 0; k < 2000; k++) {
      // the bus reports a new position: the plan is re-timed from there
      const pos: Location = { id: `pos${k}`, lat: 49.41 + k * 1e-5, lon: 7.73 };
      expect(cache.leg(pos, stops[0])).toEqual({ t: legs.timeMs(pos, stops[0]), d: legs.distM(pos, stops[0]) });
      for (let i = 1; i < stops.length; i++) cache.leg(stops[i - 1], stops[i]);
      maxEntries = Math.max(maxEntries, cache.entries);
    }
    expect(maxEntries).toBeLessThanOrEqual(200);
    // each stop → stop leg was computed once, however often the memo turned over
    for (let i = 1; i < stops.length; i++) expect(asked.get(`stop${i - 1}>stop${i}`)).toBe(1);
  });
});
