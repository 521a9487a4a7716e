import type { Instance } from './instance.ts';
import { RouteEvaluator } from './evaluate.ts';

/** Hands out route version stamps, shared by all copies of a solution so that a stamp names one route content. */
export class StampSource {
  private next = 1;
  take(): number {
    return this.next++;
  }
}

/**
 * A (possibly partial) DARP solution: one node sequence per vehicle, each from the start depot (0) to the end
 * depot (2n+1), plus per-route data used by the insertion pre-checks. Flat typed arrays, route r at offset r·N.
 * Requests not in any route form the request bank (routeOf = −1).
 */
export class Solution {
  readonly inst: Instance;
  readonly seq: Int32Array;
  readonly len: Int32Array;
  /** Least (earliest) feasible start-of-service times per position. */
  readonly E: Float64Array;
  /** Greatest (latest) feasible start-of-service times per position. */
  readonly Lt: Float64Array;
  /** Load on board after service at each position. */
  readonly load: Float64Array;
  readonly rcost: Float64Array;
  /** Version stamp per route: changes whenever the route changes (keys the insertion cache). */
  readonly ver: Int32Array;
  /** Route of each request 1..n, or −1 if unassigned. */
  readonly routeOf: Int32Array;
  /** Position of each served node within its route. */
  readonly posOf: Int32Array;
  readonly stamps: StampSource;
  private readonly scratch: Int32Array;

  constructor(inst: Instance, stamps = new StampSource()) {
    const { m, N, n } = inst;
    this.inst = inst;
    this.stamps = stamps;
    this.seq = new Int32Array(m * N);
    this.len = new Int32Array(m);
    this.E = new Float64Array(m * N);
    this.Lt = new Float64Array(m * N);
    this.load = new Float64Array(m * N);
    this.rcost = new Float64Array(m);
    this.ver = new Int32Array(m);
    this.routeOf = new Int32Array(n + 1).fill(-1);
    this.posOf = new Int32Array(N);
    this.scratch = new Int32Array(N);
    const ev = new RouteEvaluator(inst);
    for (let r = 0; r < m; r++) {
      this.seq[r * N] = 0;
      this.seq[r * N + 1] = inst.endDepot;
      this.len[r] = 2;
      this.refresh(r, ev);
    }
  }

  copyFrom(o: Solution): void {
    this.seq.set(o.seq);
    this.len.set(o.len);
    this.E.set(o.E);
    this.Lt.set(o.Lt);
    this.load.set(o.load);
    this.rcost.set(o.rcost);
    this.ver.set(o.ver);
    this.routeOf.set(o.routeOf);
    this.posOf.set(o.posOf);
  }

  clone(): Solution {
    const c = new Solution(this.inst, this.stamps);
    c.copyFrom(this);
    return c;
  }

  /** Total distance of the routes. */
  distance(): number {
    let c = 0;
    for (let r = 0; r < this.inst.m; r++) c += this.rcost[r];
    return c;
  }

  unassignedCount(): number {
    let k = 0;
    for (let i = 1; i <= this.inst.n; i++) if (this.routeOf[i] < 0) k++;
    return k;
  }

  /** Recomputes the cached data of route r after its sequence changed. Throws if the route is infeasible. */
  refresh(r: number, ev: RouteEvaluator): void {
    const { N, dist, q } = this.inst;
    const off = r * N, len = this.len[r];
    const sc = this.scratch;
    for (let k = 0; k < len; k++) sc[k] = this.seq[off + k];
    if (!ev.earliest(sc, len) || !ev.latest(sc, len)) throw new Error(`internal: route ${r} became infeasible`);
    let c = 0, ld = 0;
    for (let k = 0; k < len; k++) {
      this.E[off + k] = ev.B[k];
      this.Lt[off + k] = ev.G[k];
      ld += q[sc[k]];
      this.load[off + k] = ld;
      if (k > 0 && k < len - 1) this.posOf[sc[k]] = k;
      if (k > 0) c += dist[sc[k - 1] * N + sc[k]];
    }
    this.rcost[r] = c;
    this.ver[r] = this.stamps.take();
  }

  /** Inserts request i into route r: pickup after position a, drop-off after position b (b ≥ a, old positions). */
  insert(i: number, r: number, a: number, b: number, ev: RouteEvaluator): void {
    const { N, n } = this.inst;
    const off = r * N, len = this.len[r];
    const s = this.seq;
    // Shift the tail (after b) by two, the middle (a+1..b) by one, then place the two stops.
    for (let k = len - 1; k > b; k--) s[off + k + 2] = s[off + k];
    for (let k = b; k > a; k--) s[off + k + 1] = s[off + k];
    s[off + a + 1] = i;
    s[off + b + 2] = n + i;
    this.len[r] = len + 2;
    this.routeOf[i] = r;
    this.refresh(r, ev);
  }

  /** Removes request i from its route (removing stops never breaks feasibility: triangle inequality). */
  remove(i: number, ev: RouteEvaluator, refresh = true): void {
    const r = this.routeOf[i];
    if (r < 0) return;
    const { N, n } = this.inst;
    const off = r * N, len = this.len[r];
    const s = this.seq;
    let w = off;
    for (let k = 0; k < len; k++) {
      const v = s[off + k];
      if (v !== i && v !== n + i) s[w++] = v;
    }
    this.len[r] = len - 2;
    this.routeOf[i] = -1;
    if (refresh) this.refresh(r, ev);
  }

  /** The node sequence of route r (a copy, depots included). */
  route(r: number): number[] {
    const off = r * this.inst.N;
    return Array.from(this.seq.subarray(off, off + this.len[r]));
  }
}

export interface SolutionStop {
  node: number;
  time: number;
}
export interface SolutionRoute {
  vehicle: number;
  depart: number;
  return: number;
  stops: SolutionStop[];
}
/** The published solution format (node ids as in the instance file, times unrounded). */
export interface SolutionJson {
  instance: string;
  cost: number;
  routes: SolutionRoute[];
}

/** Builds the published solution: non-empty routes with their minimum-duration schedules; cost summed along them. */
export function toSolutionJson(sol: Solution): SolutionJson {
  const inst = sol.inst;
  const ev = new RouteEvaluator(inst);
  const routes: SolutionRoute[] = [];
  const times = new Float64Array(inst.N);
  let cost = 0;
  for (let r = 0; r < inst.m; r++) {
    const len = sol.len[r];
    if (len <= 2) continue;
    const seq = Int32Array.from(sol.route(r));
    if (!ev.schedule(seq, len, times)) throw new Error(`internal: route ${r} has no feasible schedule`);
    const stops: SolutionStop[] = [];
    for (let k = 1; k < len - 1; k++) stops.push({ node: seq[k], time: times[k] });
    for (let k = 1; k < len; k++) cost += inst.dist[seq[k - 1] * inst.N + seq[k]];
    routes.push({ vehicle: r, depart: times[0], return: times[len - 1], stops });
  }
  return { instance: inst.name, cost, routes };
}
