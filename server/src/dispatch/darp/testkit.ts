import type { RawInstance, RawNode } from './parse.ts';

/** Test helper: a hand-made instance from rows [x, y, service, load, e, l] (row 0 = depot, then n pickups, n drop-offs). */
export function tinyRaw(
  spec: { vehicles?: number; T: number; Q: number; L: number; name?: string },
  rows: Array<[number, number, number, number, number, number]>,
): RawInstance {
  if (rows.length % 2 !== 1) throw new Error('tinyRaw needs a depot row plus n pickups and n drop-offs');
  const nodes: RawNode[] = rows.map(([x, y, service, load, e, l], id) => ({ id, x, y, service, load, e, l }));
  return {
    name: spec.name ?? 'tiny',
    vehicles: spec.vehicles ?? 1,
    requests: (rows.length - 1) / 2,
    maxRouteDuration: spec.T,
    capacity: spec.Q,
    maxRideTime: spec.L,
    nodes,
  };
}

/**
 * Reference feasibility test for one route, written as plainly as possible: the route's constraints as a
 * difference-constraint graph, Floyd–Warshall, feasible iff no negative cycle. O(k³), for tests only.
 * Uses the raw (untightened) windows; depot closes at T. Also checks capacity unless told not to.
 */
export function referenceFeasible(raw: RawInstance, route: number[], opts: { capacity?: boolean } = {}): boolean {
  const n = raw.requests, T = raw.maxRouteDuration, L = raw.maxRideTime;
  const stops = [0, ...route, 0];
  const k = stops.length;
  const V = k + 1; // vertex k = time origin "zero"
  const Z = k;
  const d: number[][] = Array.from({ length: V }, (_, i) => Array.from({ length: V }, (_, j) => (i === j ? 0 : Infinity)));
  // constraint x_j − x_i ≤ w  ⇒  edge i → j with weight w
  const le = (i: number, j: number, w: number) => {
    if (w < d[i][j]) d[i][j] = w;
  };
  const node = (pos: number) => raw.nodes[stops[pos]];
  const dist = (a: RawNode, b: RawNode) => Math.hypot(a.x - b.x, a.y - b.y);
  for (let p = 0; p < k; p++) {
    const nd = node(p);
    const e = p === 0 || p === k - 1 ? Math.max(0, raw.nodes[0].e) : nd.e;
    const l = p === 0 || p === k - 1 ? T : nd.l;
    le(Z, p, l); // x_p − 0 ≤ l
    le(p, Z, -e); // 0 − x_p ≤ −e
    if (p + 1 < k) le(p + 1, p, -(nd.service * (p === 0 ? 0 : 1) + dist(nd, node(p + 1)))); // x_p − x_{p+1} ≤ −(s+t)
  }
  le(0, k - 1, T); // duration
  for (let p = 1; p < k - 1; p++) {
    const v = stops[p];
    if (v >= 1 && v <= n) {
      const q = stops.indexOf(n + v);
      if (q < p) return false;
      le(p, q, L + raw.nodes[v].service); // x_q − x_p ≤ L + s_p
    }
  }
  for (let m = 0; m < V; m++)
    for (let i = 0; i < V; i++)
      for (let j = 0; j < V; j++) if (d[i][m] + d[m][j] < d[i][j]) d[i][j] = d[i][m] + d[m][j];
  for (let i = 0; i < V; i++) if (d[i][i] < -1e-7) return false;
  if (opts.capacity === false) return true;
  let load = 0;
  for (const v of route) {
    load += raw.nodes[v].load;
    if (load > raw.capacity) return false;
  }
  return true;
}
