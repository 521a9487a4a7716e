import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildInstance } from './instance.ts';
import { RouteEvaluator } from './evaluate.ts';
import { checkSolution } from './checker.ts';
import { referenceFeasible, tinyRaw } from './testkit.ts';
import type { RawInstance } from './parse.ts';

/** Runs the evaluator on a route given as node ids (depots added). */
function evaluate(raw: RawInstance, route: number[]) {
  const inst = buildInstance(raw);
  const ev = new RouteEvaluator(inst);
  const seq = Int32Array.from([0, ...route, inst.endDepot]);
  const times = new Float64Array(seq.length);
  const feasible = ev.schedule(seq, seq.length, times);
  return { inst, feasible, times: Array.from(times) };
}

/** The route as a published solution, for the independent checker. */
function asSolution(raw: RawInstance, route: number[], times: number[]) {
  const pts = [raw.nodes[0], ...route.map((v) => raw.nodes[v]), raw.nodes[0]];
  let cost = 0;
  for (let k = 1; k < pts.length; k++) cost += Math.hypot(pts[k].x - pts[k - 1].x, pts[k].y - pts[k - 1].y);
  return {
    instance: raw.name,
    cost,
    routes: [{ vehicle: 0, depart: times[0], return: times[times.length - 1], stops: route.map((node, k) => ({ node, time: times[k + 1] })) }],
  };
}

describe('exact route evaluation', () => {
  // Depot at 0 on a line. Request 1: pickup at x=1 (any time), drop at x=3. Request 2: pickup at x=2 only in
  // [100, 105], drop at x=4. Route 0 → P1 → P2 → D1 → D2 → 0 with L = 30.
  const forwardSlack = tinyRaw({ T: 480, Q: 3, L: 30 }, [
    [0, 0, 0, 0, 0, 480],
    [1, 0, 1, 1, 0, 480],
    [2, 0, 1, 1, 100, 105],
    [3, 0, 1, -1, 0, 480],
    [4, 0, 1, -1, 0, 480],
  ]);

  it('accepts a route whose ride time only fits if the departure and first pickup are delayed (forward time slack)', () => {
    // Leaving at once, passenger 1 would sit in the bus while it waits ~97 min for P2's window: ride > L.
    const naiveP1 = 1, naiveD1 = 100 + 1 + 1;
    expect(naiveD1 - (naiveP1 + 1)).toBeGreaterThan(30);
    const { feasible, times } = evaluate(forwardSlack, [1, 2, 3, 4]);
    expect(feasible).toBe(true);
    expect(times[3] - (times[1] + 1)).toBeLessThanOrEqual(30 + 1e-9); // ride time of request 1 now fits
    expect(checkSolution(forwardSlack, asSolution(forwardSlack, [1, 2, 3, 4], times)).violations).toEqual([]);
  });

  it('publishes the minimum-duration schedule: leaves as late as still allows the earliest return', () => {
    const { times } = evaluate(forwardSlack, [1, 2, 3, 4]);
    // P2 at its window opening (100) is the bottleneck; the bus departs so that it arrives at P2 exactly then.
    expect(times[2]).toBeCloseTo(100, 9);
    expect(times[0]).toBeCloseTo(100 - 1 - 1 - 1, 9); // depot → P1 (1) + service (1) + P1 → P2 (1)
  });

  it('boards a passenger just before the bus moves on, not as early as the ride-time limit would permit', () => {
    // 0 → P3 [10, 15] → D3 → P1 (open) → P2 [100, 105] → D1 → D2: the bus is free long before P2 opens.
    const raw = tinyRaw({ T: 480, Q: 3, L: 30 }, [
      [0, 0, 0, 0, 0, 480],
      [1, 0, 1, 1, 0, 480],
      [2, 0, 1, 1, 100, 105],
      [-1, 0, 1, 1, 10, 15],
      [3, 0, 1, -1, 0, 480],
      [4, 0, 1, -1, 0, 480],
      [-2, 0, 1, -1, 0, 480],
    ]);
    const route = [3, 6, 1, 2, 4, 5];
    const { feasible, times } = evaluate(raw, route);
    expect(feasible).toBe(true);
    const at = (v: number) => times[route.indexOf(v) + 1];
    expect(at(1)).toBeCloseTo(at(2) - 1 - 1, 9); // P1 served right before driving the 1 km to P2
    expect(at(4) - (at(1) + 1)).toBeCloseTo(1 + 1 + 1, 9); // ride: to P2, service there, on to D1
    expect(checkSolution(raw, asSolution(raw, route, times)).violations).toEqual([]);
  });

  it('rejects a route where passenger 1 must be picked up early but the bus has to wait for P2 before dropping them', () => {
    const raw = tinyRaw({ T: 480, Q: 3, L: 30 }, [
      [0, 0, 0, 0, 0, 480],
      [1, 0, 1, 1, 0, 10],
      [2, 0, 1, 1, 100, 105],
      [3, 0, 1, -1, 0, 480],
      [4, 0, 1, -1, 0, 480],
    ]);
    expect(evaluate(raw, [1, 2, 3, 4]).feasible).toBe(false);
    expect(evaluate(raw, [1, 3, 2, 4]).feasible).toBe(true);
  });

  it('rejects a route whose detour alone exceeds the max ride time, whatever the waiting', () => {
    const raw = tinyRaw({ T: 480, Q: 3, L: 30 }, [
      [0, 0, 0, 0, 0, 480],
      [1, 0, 1, 1, 0, 480],
      [40, 0, 1, 1, 0, 480],
      [2, 0, 1, -1, 0, 480],
      [41, 0, 1, -1, 0, 480],
    ]);
    expect(evaluate(raw, [1, 2, 3, 4]).feasible).toBe(false); // 1 → 40 → 2 is 77 > 30
    expect(evaluate(raw, [1, 3, 2, 4]).feasible).toBe(true);
  });

  it('rejects a route that cannot be back at the depot before it closes at T', () => {
    const raw = tinyRaw({ T: 100, Q: 3, L: 30 }, [
      [0, 0, 0, 0, 0, 1440],
      [30, 0, 3, 1, 60, 70],
      [40, 0, 3, -1, 0, 1440],
    ]);
    expect(evaluate(raw, [1, 2]).feasible).toBe(false); // earliest return 60 + 3 + 10 + 3 + 40 = 116 > 100
  });

  it('agrees with a Floyd–Warshall difference-constraint check on random small routes, incl. ones that need forward time slack', () => {
    // Cordeau-style requests: a 15-minute window at the pickup ("outbound") or at the drop-off, the other end open.
    const req = fc.tuple(
      fc.integer({ min: -10, max: 10 }), fc.integer({ min: -10, max: 10 }),
      fc.integer({ min: -10, max: 10 }), fc.integer({ min: -10, max: 10 }),
      fc.integer({ min: 0, max: 80 }), fc.boolean(),
    );
    let feasibleCount = 0, neededSlack = 0;
    fc.assert(
      fc.property(fc.array(req, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), (reqs, shuffle) => {
        const n = reqs.length;
        const rows: Array<[number, number, number, number, number, number]> = [[0, 0, 0, 0, 0, 200]];
        for (const [x, y, , , e, out] of reqs) rows.push([x, y, 2, 1, out ? e : 0, out ? e + 15 : 200]);
        for (const [, , x, y, e, out] of reqs) rows.push([x, y, 2, -1, out ? 0 : e + 15, out ? 200 : e + 30]);
        const raw = tinyRaw({ T: 200, Q: 3, L: 25 }, rows);
        // a random precedence-respecting order: pickups/drop-offs interleaved by the shuffle keys
        const route: number[] = [];
        const open: number[] = [];
        const todo = Array.from({ length: n }, (_, i) => i + 1);
        let s = 0;
        while (todo.length || open.length) {
          const pickNew = todo.length > 0 && (open.length === 0 || shuffle[s++ % 8] % 2 === 0);
          if (pickNew) {
            const i = todo.splice(shuffle[s++ % 8] % todo.length, 1)[0];
            route.push(i);
            open.push(i);
          } else {
            const i = open.splice(shuffle[s++ % 8] % open.length, 1)[0];
            route.push(n + i);
          }
        }
        const { feasible, times } = evaluate(raw, route);
        expect(feasible).toBe(referenceFeasible(raw, route, { capacity: false }));
        if (feasible) {
          feasibleCount++;
          const report = checkSolution({ ...raw, capacity: 99 }, asSolution(raw, route, times));
          expect(report.violations).toEqual([]);
          // Would "leave at once, wait where needed" (no forward time slack) have broken a ride time?
          let t = 0, broken = false;
          const at = new Map<number, number>();
          let prev = raw.nodes[0];
          for (const v of route) {
            const nd = raw.nodes[v];
            t = Math.max(nd.e, t + (prev === raw.nodes[0] ? 0 : prev.service) + Math.hypot(nd.x - prev.x, nd.y - prev.y));
            at.set(v, t);
            if (v > n && t - (at.get(v - n)! + 2) > 25) broken = true;
            prev = nd;
          }
          if (broken) neededSlack++;
        }
      }),
      { seed: 20240607, numRuns: 1000 },
    );
    expect(feasibleCount).toBeGreaterThan(150);
    expect(neededSlack).toBeGreaterThan(40);
  });
});
