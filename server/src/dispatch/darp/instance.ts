import type { RawInstance } from './parse.ts';

/**
 * Solver-ready DARP instance: flat typed arrays, a dense travel-time matrix and tightened time windows.
 *
 * Node numbering: 0 = start depot, 1..n = pickups, n+1..2n = drop-offs (request i: pickup i, drop-off n+i),
 * 2n+1 = end depot. Travel time = Euclidean distance (unrounded), which is also the cost.
 */
export interface Instance {
  name: string;
  /** Vehicles (routes) available. */
  m: number;
  /** Requests. */
  n: number;
  /** Node count 2n+2 (both depots included). */
  N: number;
  /** Max route duration, also the depot closing time. */
  T: number;
  /** Vehicle capacity. */
  Q: number;
  /** Max ride time (end of pickup service to start of drop-off service). */
  L: number;
  endDepot: number;
  x: Float64Array;
  y: Float64Array;
  /** Service duration. */
  s: Float64Array;
  /** Load change (+ at pickups, − at drop-offs). */
  q: Float64Array;
  /** Tightened time windows (implied by the original constraints, so never cut off a feasible schedule). */
  e: Float64Array;
  l: Float64Array;
  /** Travel time/distance, row-major N×N. */
  dist: Float64Array;
  /** s[i] + dist[i][j]: the minimum gap between the starts of service at i and at j when j follows i. */
  sd: Float64Array;
}

export function buildInstance(raw: RawInstance): Instance {
  const n = raw.requests;
  const N = 2 * n + 2;
  const end = N - 1;
  const x = new Float64Array(N), y = new Float64Array(N), s = new Float64Array(N), q = new Float64Array(N);
  const e = new Float64Array(N), l = new Float64Array(N);
  for (let i = 0; i <= 2 * n; i++) {
    const r = raw.nodes[i];
    x[i] = r.x; y[i] = r.y; s[i] = r.service; q[i] = r.load; e[i] = r.e; l[i] = r.l;
  }
  const ed = raw.endDepot ?? raw.nodes[0];
  x[end] = ed.x; y[end] = ed.y; s[end] = 0; q[end] = 0;
  const T = raw.maxRouteDuration;
  // The files' depot row says 1440; as in the published benchmark, the depot closes at T.
  e[0] = Math.max(0, raw.nodes[0].e); l[0] = T; s[0] = 0;
  e[end] = e[0]; l[end] = T;

  const dist = new Float64Array(N * N), sd = new Float64Array(N * N);
  for (let i = 0; i < N; i++)
    for (let j = 0; j < N; j++) {
      const d = Math.hypot(x[i] - x[j], y[i] - y[j]);
      dist[i * N + j] = d;
      sd[i * N + j] = s[i] + d;
    }

  // Window tightening (Cordeau 2006): reachability from/to the depot and the coupling of pickup and
  // drop-off through travel time and max ride time. Two rounds reach the fixpoint of these rules.
  const L = raw.maxRideTime;
  for (let round = 0; round < 2; round++)
    for (let i = 1; i <= n; i++) {
      const j = n + i;
      e[i] = Math.max(e[i], e[0] + dist[i]);
      l[j] = Math.min(l[j], l[end] - sd[j * N + end]);
      e[j] = Math.max(e[j], e[i] + sd[i * N + j]);
      l[i] = Math.min(l[i], l[j] - sd[i * N + j]);
      e[i] = Math.max(e[i], e[j] - L - s[i]);
      l[j] = Math.min(l[j], l[i] + s[i] + L);
    }
  return { name: raw.name, m: raw.vehicles, n, N, T, Q: raw.capacity, L, endDepot: end, x, y, s, q, e, l, dist, sd };
}
