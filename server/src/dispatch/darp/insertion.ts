import type { Instance } from './instance.ts';
import { RouteEvaluator } from './evaluate.ts';
import type { Solution } from './solution.ts';

const EPS = 1e-9;

/**
 * Best insertion of one request into one route.
 *
 * Every pickup/drop-off position pair (a, b) is screened with cheap necessary conditions — capacity on the
 * affected arcs, and time windows against the route's earliest (E) and latest (Lt) schedules, which bound
 * any schedule of the longer route since inserting stops only removes schedules — and the survivors are then
 * checked exactly, cheapest detour first, so the first feasible one is the route's best.
 * Ties are broken by (pickup index, drop-off index): candidates are collected in that order and selection is stable.
 */
export class Inserter {
  /** Result of the last {@link best} call: detour cost and positions (pickup after a, drop-off after b). */
  delta = Infinity;
  a = -1;
  b = -1;
  /** Full evaluations performed (for profiling). */
  evaluations = 0;
  private readonly inst: Instance;
  private readonly ev: RouteEvaluator;
  private readonly cand: Float64Array;
  private readonly candA: Int32Array;
  private readonly candB: Int32Array;
  private readonly trial: Int32Array;
  /** Pushed start times per old route position, valid where stampAt === stampNow. */
  private readonly pushed: Float64Array;
  private readonly stampAt: Int32Array;
  private stampNow = 0;

  constructor(inst: Instance, ev = new RouteEvaluator(inst)) {
    this.inst = inst;
    this.ev = ev;
    const maxPairs = ((inst.N + 2) * (inst.N + 3)) / 2;
    this.cand = new Float64Array(maxPairs);
    this.candA = new Int32Array(maxPairs);
    this.candB = new Int32Array(maxPairs);
    this.trial = new Int32Array(inst.N + 2);
    this.pushed = new Float64Array(inst.N + 2);
    this.stampAt = new Int32Array(inst.N + 2);
  }

  /**
   * Fast exact-or-unknown test of inserting request i into route r (pickup after a, drop-off after b).
   * Starts from the route's least schedule E, which bounds the longer route's least schedule from below,
   * and pushes the insertion's delay forward until waiting absorbs it. If the pushed schedule violates a
   * window, no schedule exists (1 → feasible, 0 → infeasible). If it only violates a ride-time or duration
   * limit, delaying earlier stops might still repair it: −1, and the caller runs the full evaluation.
   */
  private quick(sol: Solution, r: number, i: number, a: number, b: number): number {
    const { N, n, e, l, sd, s, L, T } = this.inst;
    const off = r * N, len = sol.len[r];
    const seq = sol.seq, E = sol.E, posOf = sol.posOf;
    const pushed = this.pushed, stampAt = this.stampAt;
    const st = ++this.stampNow;
    const p = i, d = n + i, last = len - 1;
    let tp = E[off + a] + sd[seq[off + a] * N + p];
    if (tp < e[p]) tp = e[p];
    if (tp > l[p] + EPS) return 0;
    let t = tp, prev = p, k = a + 1;
    // stops between the pickup and the drop-off
    for (; k <= b; k++) {
      const v = seq[off + k];
      const tt = t + sd[prev * N + v];
      if (tt <= E[off + k]) {
        // absorbed: stops k..b keep their times
        t = E[off + b];
        prev = seq[off + b];
        k = b + 1;
        break;
      }
      if (tt > l[v] + EPS) return 0;
      pushed[k] = tt;
      stampAt[k] = st;
      t = tt;
      prev = v;
      if (v > n) {
        const pp = posOf[v - n];
        const tpk = stampAt[pp] === st ? pushed[pp] : E[off + pp];
        if (tt - tpk > L + s[v - n] + EPS) return -1;
      }
    }
    let td = t + sd[prev * N + d];
    if (td < e[d]) td = e[d];
    if (td > l[d] + EPS) return 0;
    if (td - tp > L + s[p] + EPS) return -1;
    t = td;
    prev = d;
    // stops after the drop-off
    for (k = b + 1; k < len; k++) {
      const v = seq[off + k];
      const tt = t + sd[prev * N + v];
      if (tt <= E[off + k]) return 1;
      if (tt > l[v] + EPS) return 0;
      pushed[k] = tt;
      stampAt[k] = st;
      t = tt;
      prev = v;
      if (k === last) {
        if (tt - E[off] > T + EPS) return -1;
      } else if (v > n) {
        const pp = posOf[v - n];
        const tpk = stampAt[pp] === st ? pushed[pp] : E[off + pp];
        if (tt - tpk > L + s[v - n] + EPS) return -1;
      }
    }
    return 1;
  }

  /** Finds the cheapest feasible insertion of request i into route r; returns its detour (Infinity if none). */
  best(sol: Solution, r: number, i: number): number {
    const { N, n, e, l, sd, dist, Q, q, L, s } = this.inst;
    const off = r * N;
    const len = sol.len[r];
    const seq = sol.seq, E = sol.E, Lt = sol.Lt, load = sol.load;
    const p = i, d = n + i;
    const qp = q[p], ep = e[p], lp = l[p], ed = e[d], ld = l[d];
    const cand = this.cand, candA = this.candA, candB = this.candB;
    let nc = 0;
    this.delta = Infinity;
    this.a = -1;
    this.b = -1;

    // Skip the route prefix that must be served before p's window even opens: Lt is increasing, and a
    // stop after p cannot start before e_p + d_p (binary search for the first candidate position).
    let lo = 0, hi = len - 2;
    const minAfterP = ep + s[p];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Lt[off + mid + 1] + EPS < minAfterP) lo = mid + 1;
      else hi = mid;
    }
    for (let a = lo; a < len - 1; a++) {
      const va = seq[off + a];
      if (E[off + a] > lp + EPS) break; // E is non-decreasing: later positions are too late as well
      if (load[off + a] + qp > Q) continue;
      let tP = E[off + a] + sd[va * N + p];
      if (tP > lp + EPS) continue;
      if (tP < ep) tP = ep;
      const va1 = seq[off + a + 1];
      const addP = dist[va * N + p] - dist[va * N + va1];

      // b = a: drop-off right after the pickup.
      {
        let tD = tP + sd[p * N + d];
        if (tD < ed) tD = ed;
        if (tD <= ld + EPS && tD + sd[d * N + va1] <= Lt[off + a + 1] + EPS) {
          cand[nc] = addP + dist[p * N + d] + dist[d * N + va1];
          candA[nc] = a;
          candB[nc] = a;
          nc++;
        }
      }
      // b > a: stops a+1..b ride along with the new passenger.
      let t = tP + sd[p * N + va1];
      if (t > Lt[off + a + 1] + EPS) continue;
      const addP2 = addP + dist[p * N + va1];
      let ride = dist[p * N + va1]; // travel + service between end of pickup service and the drop-off (lower bound)
      let prev = va1;
      for (let b = a + 1; b < len - 1; b++) {
        const vb = seq[off + b];
        if (b > a + 1) {
          t += sd[prev * N + vb];
          ride += sd[prev * N + vb];
        }
        if (t < E[off + b]) t = E[off + b];
        if (t > Lt[off + b] + EPS) break;
        if (load[off + b] + qp > Q) break;
        if (t > ld + EPS) break;
        if (ride + s[vb] + dist[vb * N + d] > L + EPS) break;
        prev = vb;
        let tD = t + sd[vb * N + d];
        if (tD > ld + EPS) continue;
        if (tD < ed) tD = ed;
        const vb1 = seq[off + b + 1];
        if (tD + sd[d * N + vb1] > Lt[off + b + 1] + EPS) continue;
        cand[nc] = addP2 + dist[vb * N + d] + dist[d * N + vb1] - dist[vb * N + vb1];
        candA[nc] = a;
        candB[nc] = b;
        nc++;
      }
    }
    if (nc === 0) return Infinity;

    // Exact check in order of increasing detour; the first feasible candidate is the best.
    const trial = this.trial, ev = this.ev;
    for (;;) {
      let bi = -1, bc = Infinity;
      for (let c = 0; c < nc; c++) if (cand[c] < bc) { bc = cand[c]; bi = c; }
      if (bi < 0) return Infinity;
      const a = candA[bi], b = candB[bi];
      const quick = this.quick(sol, r, i, a, b);
      if (quick === 1) {
        this.delta = bc;
        this.a = a;
        this.b = b;
        return bc;
      }
      if (quick === 0) {
        cand[bi] = Infinity;
        continue;
      }
      let w = 0;
      for (let k = 0; k <= a; k++) trial[w++] = seq[off + k];
      trial[w++] = p;
      for (let k = a + 1; k <= b; k++) trial[w++] = seq[off + k];
      trial[w++] = d;
      for (let k = b + 1; k < len; k++) trial[w++] = seq[off + k];
      this.evaluations++;
      if (ev.earliest(trial, w)) {
        this.delta = bc;
        this.a = a;
        this.b = b;
        return bc;
      }
      cand[bi] = Infinity;
    }
  }
}
