import type { Instance } from './instance.ts';

/**
 * Exact schedule evaluation of one vehicle route.
 *
 * A route is a node sequence seq[0..len-1] with seq[0] = 0 (start depot) and seq[len-1] = 2n+1 (end depot).
 * With B_k the start of service at position k, the constraints are all difference constraints:
 *   B_{k+1} − B_k ≥ d_k + t_{k,k+1}           (travel; waiting is allowed)
 *   e_k ≤ B_k ≤ l_k                            (time windows; depot closes at T)
 *   B_drop − B_pick ≤ L + d_pick               (max ride time, measured from the end of pickup service)
 *   B_end − B_0 ≤ T                            (max route duration)
 * so the route is feasible iff this simple temporal network has a solution. Its solutions are closed under
 * componentwise min and max, so a least ("earliest") solution exists whenever any solution does; it is the
 * least fixpoint of "push a node later until every lower-bound constraint holds", which we compute by
 * a forward pass plus Bellman–Ford-style rounds that delay a pickup (and everything after it, by its forward
 * time slack) when its ride time is too long — the same move as Cordeau & Laporte's eight-step procedure,
 * iterated until nothing changes, which makes the check exact: it rejects exactly the infeasible sequences.
 */
const EPS = 1e-9;

export class RouteEvaluator {
  /** Least (earliest) schedule of the last sequence passed to {@link earliest}. */
  readonly B: Float64Array;
  /** Greatest (latest) schedule of the last sequence passed to {@link latest}. */
  readonly G: Float64Array;
  private readonly pos: Int32Array;
  private readonly inst: Instance;

  constructor(inst: Instance) {
    this.inst = inst;
    this.B = new Float64Array(inst.N + 2);
    this.G = new Float64Array(inst.N + 2);
    this.pos = new Int32Array(inst.N);
  }

  /**
   * Computes the least schedule into {@link B}; returns false iff the sequence has no feasible schedule.
   * `start` raises the earliest departure from the depot (used to build the minimum-duration schedule).
   */
  earliest(seq: Int32Array, len: number, start = -Infinity): boolean {
    const { e, l, sd, N, n, s, L, T } = this.inst;
    const B = this.B, pos = this.pos;
    const last = len - 1;
    // Forward pass: earliest arrival plus waiting for windows.
    let prev = seq[0];
    pos[prev] = 0;
    let t = Math.max(e[prev], start);
    if (t > l[prev] + EPS) return false;
    B[0] = t;
    for (let k = 1; k < len; k++) {
      const v = seq[k];
      pos[v] = k;
      t += sd[prev * N + v];
      if (t < e[v]) t = e[v];
      if (t > l[v] + EPS) return false;
      B[k] = t;
      prev = v;
    }
    // Ride-time and duration constraints: delay the earlier node of a violated pair, then push the delay
    // forward. A full round that changes nothing means B is the least solution; more rounds than nodes
    // means a positive cycle (no solution) — in practice one round settles it.
    for (let round = 0; round <= len; round++) {
      let changed = false;
      for (let k = 1; k <= last; k++) {
        const v = seq[k];
        let p: number, U: number;
        if (v > n && v <= 2 * n) {
          p = pos[v - n];
          U = L + s[v - n];
        } else if (k === last) {
          p = 0;
          U = T;
        } else continue;
        if (B[k] - B[p] <= U + EPS) continue;
        const np = B[k] - U;
        if (np > l[seq[p]] + EPS) return false;
        B[p] = np;
        let tt = np;
        for (let j = p + 1; j < len; j++) {
          tt += sd[seq[j - 1] * N + seq[j]];
          if (tt <= B[j]) break;
          if (tt > l[seq[j]] + EPS) return false;
          B[j] = tt;
        }
        // If the push reached k, travel alone from p to k exceeds U: no waiting can fix that.
        if (B[k] - B[p] > U + EPS) return false;
        changed = true;
      }
      if (!changed) return true;
    }
    return false;
  }

  /**
   * Computes the greatest schedule into {@link G} with the end-depot arrival capped at `endBy`.
   * Call only for sequences known to be feasible with that cap; returns false otherwise.
   */
  latest(seq: Int32Array, len: number, endBy = Infinity): boolean {
    const { e, l, sd, N, n, s, L, T } = this.inst;
    const G = this.G, pos = this.pos;
    const last = len - 1;
    let next = seq[last];
    pos[next] = last;
    let t = Math.min(l[next], endBy);
    if (t < e[next] - EPS) return false;
    G[last] = t;
    for (let k = last - 1; k >= 0; k--) {
      const v = seq[k];
      pos[v] = k;
      t -= sd[v * N + next];
      if (t > l[v]) t = l[v];
      if (t < e[v] - EPS) return false;
      G[k] = t;
      next = v;
    }
    for (let round = 0; round <= len; round++) {
      let changed = false;
      for (let k = last - 1; k >= 0; k--) {
        const v = seq[k];
        let q: number, U: number;
        if (v >= 1 && v <= n) {
          q = pos[v + n];
          U = L + s[v];
        } else if (k === 0) {
          q = last;
          U = T;
        } else continue;
        if (G[q] - G[k] <= U + EPS) continue;
        const nq = G[k] + U;
        if (nq < e[seq[q]] - EPS) return false;
        G[q] = nq;
        let tt = nq;
        for (let j = q - 1; j >= 0; j--) {
          tt -= sd[seq[j] * N + seq[j + 1]];
          if (tt >= G[j]) break;
          if (tt < e[seq[j]] - EPS) return false;
          G[j] = tt;
        }
        if (G[q] - G[k] > U + EPS) return false;
        changed = true;
      }
      if (!changed) return true;
    }
    return false;
  }

  /**
   * The schedule we publish. Route duration is minimal: earliest possible return E*, and the latest
   * departure that still allows it (any schedule X can be moved to max(earliest, X − (X_end − E*)), which is
   * feasible, returns at E* and is no longer). Given that departure every stop starts as early as possible —
   * so every drop-off is at its earliest possible time among minimum-duration schedules — and then, as in
   * step 7 of Cordeau & Laporte's procedure, each pickup is delayed as far as the next stop allows (the bus
   * waits before boarding rather than with the passenger on board), which only shortens ride times.
   * Writes into `out`; returns false iff the sequence is infeasible.
   */
  schedule(seq: Int32Array, len: number, out: Float64Array): boolean {
    if (!this.earliest(seq, len)) return false;
    const endBy = this.B[len - 1];
    const fallback = Float64Array.from(this.B.subarray(0, len));
    if (!(this.latest(seq, len, endBy) && this.earliest(seq, len, this.G[0]))) {
      out.set(fallback); // only reachable through floating-point noise; the earliest schedule is valid too
      return true;
    }
    const { l, sd, N, n } = this.inst;
    out.set(this.B.subarray(0, len));
    // Delaying a pickup towards its successor breaks nothing: it is the earlier end of its only ride-time
    // constraint, and its window and the successor's start bound it (processed backwards so that runs of
    // consecutive pickups move together).
    for (let k = len - 2; k >= 1; k--) {
      const v = seq[k];
      if (v < 1 || v > n) continue;
      const latest = Math.min(l[v], out[k + 1] - sd[v * N + seq[k + 1]]);
      if (latest > out[k]) out[k] = latest;
    }
    return true;
  }
}
