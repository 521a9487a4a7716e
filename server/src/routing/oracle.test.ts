import { beforeAll, describe, expect, it } from 'vitest';
import type { RoutingEngine } from '@kl/routing';
import { seededPhantoms } from '@kl/routing/testing/engine.ts';
import { sharedEngine } from '../testing/server.ts';
import type { Location } from '../dispatch/types.ts';
import { RoadOracle } from './oracle.ts';

let engine: RoutingEngine;
let places: Location[];
beforeAll(async () => {
  engine = await sharedEngine();
  const o = new RoadOracle(engine);
  places = seededPhantoms(engine, 2024, 40).map((p) => o.locate(p.lat, p.lon));
});

/** What the engine says for one leg, seconds and metres. */
function truth(o: RoadOracle, a: Location, b: Location): [number, number] {
  if (a.id === b.id) return [0, 0];
  const c = engine.cost(o.phantomOf(a), o.phantomOf(b));
  return c ? [c.duration / 1000, c.distance] : [Infinity, Infinity];
}

describe('RoadOracle memo', () => {
  it('answers every leg as the engine does, through many generation changes of a tiny memo', () => {
    const o = new RoadOracle(engine, 5); // 20 cells per generation: rotates constantly
    const hub = places[0];
    for (let round = 0; round < 3; round++) {
      for (const p of places) {
        // a hot column (to the hub) interleaved with cold legs, as the dispatcher asks
        expect([o.time(p, hub), o.distance(p, hub)]).toEqual(truth(o, p, hub));
        const q = places[(places.indexOf(p) * 7 + round) % places.length];
        expect([o.time(p, q), o.distance(p, q)]).toEqual(truth(o, p, q));
      }
    }
  });

  it('matrices agree with single legs, whether cells come from the memo, the old generation or the engine', () => {
    const o = new RoadOracle(engine, 10);
    const froms = places.slice(0, 25), tos = [places[30], places[31]];
    const warm = froms.slice(0, 12).map((f) => o.time(f, tos[0])); // part of one column cached
    expect(warm).toHaveLength(12);
    for (let k = 0; k < 3; k++) {
      const into = o.matrix(froms, tos), out = o.matrix(tos, froms);
      froms.forEach((f, i) => {
        tos.forEach((t, j) => {
          expect([into.times[i][j], into.distances[i][j]]).toEqual(truth(o, f, t));
          expect([out.times[j][i], out.distances[j][i]]).toEqual(truth(o, t, f));
        });
      });
    }
  });

  it("legs prefetched in slices for one request's pickup and drop-off answer its two matrices without the engine, exactly as the engine does", () => {
    let calls = 0;
    const counting = Object.create(engine) as RoutingEngine;
    counting.matrix = (a, b) => {
      calls++;
      return engine.matrix(a, b);
    };
    const o = new RoadOracle(counting);
    const P = places[30], D = places[31], stops = places.slice(0, 25);
    for (let i = 0; i < stops.length; i += 10) o.prefetch(P, D, stops.slice(i, i + 10));
    const prefetched = calls;
    const into = o.matrix(stops, [P, D]), out = o.matrix([P, D], stops);
    expect(calls).toBe(prefetched);
    stops.forEach((f, i) => [P, D].forEach((t, j) => expect([into.times[i][j], into.distances[i][j]]).toEqual(truth(o, f, t))));
    stops.forEach((t, i) => [P, D].forEach((f, j) => expect([out.times[j][i], out.distances[j][i]]).toEqual(truth(o, f, t))));
    // done with the request: another pair's matrix, or this one's again, goes to the engine
    o.endPrefetch(P, D);
    o.matrix(stops, [P, D]);
    expect(calls).toBeGreaterThan(prefetched);
  });

  it('a hub asked for again and again keeps its snapped place (and search spaces) while one-off bus positions stream past', () => {
    const o = new RoadOracle(engine, 20_000, 8); // room for 8 places
    const hub = places[0];
    const kept = o.phantomOf(hub);
    for (const p of places.slice(1)) {
      o.locate(p.lat + 1e-4, p.lon); // a bus somewhere new: a place never asked for again
      expect(o.phantomOf(hub)).toBe(kept);
    }
    // the positions went out again, oldest first; they are snapped anew when asked for, to the same answers
    const old = places[1];
    expect([o.time(old, hub), o.distance(old, hub)]).toEqual(truth(o, old, hub));
  });
});
