import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildInstance } from './instance.ts';
import { RouteEvaluator } from './evaluate.ts';
import { Inserter } from './insertion.ts';
import { Solution } from './solution.ts';
import { referenceFeasible, tinyRaw } from './testkit.ts';
import type { RawInstance } from './parse.ts';

/** Cheapest feasible insertion by brute force: every (pickup, drop-off) position pair, reference check. */
function bruteForce(raw: RawInstance, route: number[], i: number) {
  const n = raw.requests;
  const pt = (v: number) => raw.nodes[v === 2 * n + 1 ? 0 : v];
  const len = (r: number[]) => {
    const s = [0, ...r, 0];
    let c = 0;
    for (let k = 1; k < s.length; k++) c += Math.hypot(pt(s[k]).x - pt(s[k - 1]).x, pt(s[k]).y - pt(s[k - 1]).y);
    return c;
  };
  const base = len(route);
  let best = Infinity, at: [number, number] = [-1, -1];
  for (let a = 0; a <= route.length; a++)
    for (let b = a; b <= route.length; b++) {
      const r = [...route.slice(0, a), i, ...route.slice(a, b), n + i, ...route.slice(b)];
      if (!referenceFeasible(raw, r)) continue;
      const d = len(r) - base;
      if (d < best - 1e-9) {
        best = d;
        at = [a, b];
      }
    }
  return { best, at };
}

describe('best insertion', () => {
  it('finds the same cheapest feasible position pair as brute force (pre-checks never cut off a feasible insertion)', () => {
    const req = fc.tuple(
      fc.integer({ min: -10, max: 10 }), fc.integer({ min: -10, max: 10 }),
      fc.integer({ min: -10, max: 10 }), fc.integer({ min: -10, max: 10 }),
      fc.integer({ min: 0, max: 120 }), fc.boolean(),
    );
    let nonTrivial = 0;
    fc.assert(
      fc.property(fc.array(req, { minLength: 2, maxLength: 6 }), (reqs) => {
        const n = reqs.length;
        const rows: Array<[number, number, number, number, number, number]> = [[0, 0, 0, 0, 0, 240]];
        // Cordeau-style: either the pickup or the drop-off has a 15-minute window, the other one is open.
        for (const [x, y, , , e, out] of reqs) rows.push([x, y, 3, 1, out ? e : 0, out ? e + 15 : 240]);
        for (const [, , x, y, e, out] of reqs) rows.push([x, y, 3, -1, out ? 0 : e + 20, out ? 240 : e + 35]);
        const raw = tinyRaw({ T: 240, Q: 2, L: 30 }, rows);
        const inst = buildInstance(raw);
        const ev = new RouteEvaluator(inst);
        const ins = new Inserter(inst, ev);
        const sol = new Solution(inst);
        // Build a route from requests 1..n-1 by brute-force best insertion, then test request n.
        let route: number[] = [];
        for (let i = 1; i < n; i++) {
          const bf = bruteForce(raw, route, i);
          expect(ins.best(sol, 0, i)).toBeCloseTo(bf.best, 9);
          if (bf.best === Infinity) continue;
          sol.insert(i, 0, ins.a, ins.b, ev);
          route = sol.route(0).slice(1, -1);
          nonTrivial++;
        }
        const bf = bruteForce(raw, route, n);
        const got = ins.best(sol, 0, n);
        if (bf.best === Infinity) expect(got).toBe(Infinity);
        else {
          expect(got).toBeCloseTo(bf.best, 9);
          expect([ins.a, ins.b]).toEqual(bf.at); // ties broken by pickup index, then drop-off index
        }
      }),
      { seed: 77, numRuns: 300 },
    );
    expect(nonTrivial).toBeGreaterThan(100);
  });
});
