import { Rng } from '../../core/rng.ts';
import type { Instance } from './instance.ts';
import { RouteEvaluator } from './evaluate.ts';
import { Inserter } from './insertion.ts';
import { Solution } from './solution.ts';

/**
 * Adaptive large neighbourhood search for the static DARP (after Ropke & Pisinger 2006):
 * destroy (random, worst, Shaw relatedness, route removal) + repair (greedy, regret-2/3/m, each with or
 * without noise), simulated-annealing acceptance, adaptive operator weights per segment, and a request
 * relocation descent that polishes every new best solution.
 *
 * Unserved requests stay in a request bank and cost a large penalty, so a partial solution is a valid
 * search state (the initial best insertion may not fit every request into the fleet).
 *
 * Determinism: everything random comes from the seeded Rng, and the annealing schedule depends only on the
 * iteration counter (cycles of cooling that restart from the best solution, each cycle 1.5× as long as the
 * previous one, so any time budget ends in a long cycle; a cycle without a new best makes the next one
 * hotter). A deadline only decides where the (seed-determined) trajectory is cut off.
 */
export interface AlnsOptions {
  seed?: number;
  /** Stop after this many ALNS iterations (default: 1000 if no deadline is given, else unbounded). */
  maxIterations?: number;
  /** Stop when now() reaches this value (same unit as now()). */
  deadline?: number;
  /** Time source for the deadline; injected so the core never reads the wall clock itself. */
  now?: () => number;
  /** Iterations of the first annealing cycle; each next cycle is `cycleGrowth` times longer. */
  firstCycle?: number;
  /** Growth factor of the cycle length. */
  cycleGrowth?: number;
  /** Fraction of requests removed at most per iteration. */
  maxRemoveFraction?: number;
  /** Start temperature: a solution this much worse (fraction) than the construction is accepted with p = 1/2. */
  startWorse?: number;
  /** End-of-cycle temperature as a fraction of the start temperature. */
  coolTo?: number;
  /** Largest reheating factor of the start temperature after cycles without a new best. */
  maxHeat?: number;
  /** Polish every new best solution with the request relocation descent (default true). */
  localSearch?: boolean;
}

export interface AlnsResult {
  best: Solution;
  /** Total distance of the best solution. */
  cost: number;
  unassigned: number;
  iterations: number;
  /** Cost of the best-insertion construction (before improvement). */
  initialCost: number;
  initialUnassigned: number;
}

const BIG = 1e7;
const SEGMENT = 100;
const REACTION = 0.1;
const SIGMA_BEST = 33, SIGMA_BETTER = 9, SIGMA_ACCEPTED = 13;

type DestroyOp = (sol: Solution, q: number) => void;
interface RepairOp {
  k: number; // regret degree (1 = greedy)
  noise: boolean;
}

export class Alns {
  readonly inst: Instance;
  readonly rng: Rng;
  readonly ev: RouteEvaluator;
  readonly ins: Inserter;
  /** Insertion cache keyed by (request, route) and the route's version stamp. */
  private readonly cDelta: Float64Array;
  private readonly cA: Int32Array;
  private readonly cB: Int32Array;
  private readonly cVer: Int32Array;
  private readonly noiseArr: Float64Array;
  private readonly bank: Int32Array;
  private bankSize = 0;
  private readonly penalty: number;
  private readonly noiseAmp: number;
  private readonly maxDist: number;
  private readonly horizon: number;
  // scratch
  private readonly keyBuf: Float64Array;
  private readonly idBuf: Int32Array;
  private readonly removed: Int32Array;
  private readonly touched: Uint8Array;
  private readonly stopTime: Float64Array;
  private readonly top: Float64Array;
  private readonly row: Float64Array;
  private readonly active: Uint8Array;

  constructor(inst: Instance, seed: number) {
    this.inst = inst;
    this.rng = new Rng(seed);
    this.ev = new RouteEvaluator(inst);
    this.ins = new Inserter(inst, this.ev);
    const { n, m, N, dist } = inst;
    this.cDelta = new Float64Array((n + 1) * m);
    this.cA = new Int32Array((n + 1) * m);
    this.cB = new Int32Array((n + 1) * m);
    this.cVer = new Int32Array((n + 1) * m);
    this.noiseArr = new Float64Array((n + 1) * m);
    this.bank = new Int32Array(n);
    this.keyBuf = new Float64Array(n + 1);
    this.idBuf = new Int32Array(n + 1);
    this.removed = new Int32Array(n + 1);
    this.touched = new Uint8Array(m);
    this.stopTime = new Float64Array(N);
    this.top = new Float64Array(m);
    this.row = new Float64Array(n * m);
    this.active = new Uint8Array(n);
    let maxD = 0;
    for (let k = 0; k < N * N; k++) if (dist[k] > maxD) maxD = dist[k];
    this.maxDist = maxD;
    this.horizon = Math.max(1, inst.T);
    // Serving a request must always beat leaving it unserved.
    this.penalty = 10 * (4 * maxD + 1);
    this.noiseAmp = 0.025 * maxD;
  }

  objective(sol: Solution): number {
    return sol.distance() + this.penalty * sol.unassignedCount();
  }

  // ---------------------------------------------------------------- repair

  private insertionCost(sol: Solution, i: number, r: number): number {
    const k = i * this.inst.m + r;
    if (this.cVer[k] !== sol.ver[r]) {
      this.cDelta[k] = this.ins.best(sol, r, i);
      this.cA[k] = this.ins.a;
      this.cB[k] = this.ins.b;
      this.cVer[k] = sol.ver[r];
    }
    return this.cDelta[k];
  }

  private collectBank(sol: Solution): void {
    this.bankSize = 0;
    for (let i = 1; i <= this.inst.n; i++) if (sol.routeOf[i] < 0) this.bank[this.bankSize++] = i;
  }

  /**
   * Inserts bank requests one at a time: regret-k picks the request whose best insertion would become most
   * expensive if postponed (k = 1: plain greedy, cheapest first). Ties: cost, vehicle, request index.
   */
  repair(sol: Solution, op: RepairOp): void {
    const { m } = this.inst;
    this.collectBank(sol);
    const bank = this.bank, nb = this.bankSize;
    if (op.noise) {
      for (let x = 0; x < nb; x++) {
        const i = bank[x];
        for (let r = 0; r < m; r++) this.noiseArr[i * m + r] = (this.rng.float() * 2 - 1) * this.noiseAmp;
      }
    }
    // row[x·m + r]: (noisy) cost of the best insertion of bank[x] into route r; only the route that
    // received a request is re-evaluated after each step.
    const row = this.row, active = this.active;
    for (let x = 0; x < nb; x++) {
      active[x] = 1;
      for (let r = 0; r < m; r++) row[x * m + r] = this.repairCost(sol, bank[x], r, op.noise);
    }
    const k = Math.min(op.k, m);
    const top = this.top;
    for (let left = nb; left > 0; left--) {
      let bx = -1, bScore = -Infinity, bCost = Infinity, bRoute = -1, bReq = 0;
      for (let x = 0; x < nb; x++) {
        if (!active[x]) continue;
        const i = bank[x];
        for (let j = 0; j < k; j++) top[j] = Infinity;
        let c1r = -1;
        for (let r = 0; r < m; r++) {
          const c = row[x * m + r];
          if (c === Infinity) continue;
          if (c < top[0]) c1r = r;
          // keep the k smallest costs sorted
          if (c < top[k - 1]) {
            let j = k - 1;
            while (j > 0 && top[j - 1] > c) {
              top[j] = top[j - 1];
              j--;
            }
            top[j] = c;
          }
        }
        if (c1r < 0) continue;
        let score: number;
        if (k === 1) score = -top[0];
        else {
          score = 0;
          for (let j = 1; j < k; j++) score += (top[j] === Infinity ? BIG : top[j]) - top[0];
        }
        if (
          score > bScore ||
          (score === bScore && (top[0] < bCost || (top[0] === bCost && (c1r < bRoute || (c1r === bRoute && i < bReq)))))
        ) {
          bScore = score; bCost = top[0]; bRoute = c1r; bReq = i; bx = x;
        }
      }
      if (bx < 0) return; // nothing left fits anywhere
      const key = bReq * m + bRoute;
      const oldVer = sol.ver[bRoute];
      sol.insert(bReq, bRoute, this.cA[key], this.cB[key], this.ev);
      active[bx] = 0;
      const newVer = sol.ver[bRoute];
      for (let x = 0; x < nb; x++) {
        if (!active[x]) continue;
        // A request that fitted nowhere in the route still fits nowhere after another request joined it
        // (a feasible insertion into the longer route, minus that request, would fit the shorter one).
        const kk = bank[x] * m + bRoute;
        if (this.cVer[kk] === oldVer && this.cDelta[kk] === Infinity) this.cVer[kk] = newVer;
        row[x * m + bRoute] = this.repairCost(sol, bank[x], bRoute, op.noise);
      }
    }
  }

  private repairCost(sol: Solution, i: number, r: number, noise: boolean): number {
    const c = this.insertionCost(sol, i, r);
    if (c === Infinity || !noise) return c;
    return Math.max(0, c + this.noiseArr[i * this.inst.m + r]);
  }

  /**
   * Request relocation descent: take each request out and put it back at its best position in any route,
   * until a full pass finds no improvement. ALNS removes at least a few requests per iteration, so this is
   * the fine-grained intensification it lacks (applied to new best solutions).
   */
  relocateDescent(sol: Solution): void {
    const { n, m } = this.inst;
    let improved = true;
    while (improved) {
      improved = false;
      for (let i = 1; i <= n; i++) {
        const r0 = sol.routeOf[i];
        if (r0 < 0) continue;
        const before = sol.rcost[r0];
        sol.remove(i, this.ev);
        const saving = before - sol.rcost[r0];
        let bc = Infinity, br = -1;
        for (let r = 0; r < m; r++) {
          const c = this.insertionCost(sol, i, r);
          if (c < bc) { bc = c; br = r; }
        }
        // br ≥ 0: at least the old position fits again
        const key = i * m + br;
        sol.insert(i, br, this.cA[key], this.cB[key], this.ev);
        if (bc < saving - 1e-9) improved = true;
      }
    }
  }

  // ---------------------------------------------------------------- destroy

  private assignedList(sol: Solution): number {
    let c = 0;
    for (let i = 1; i <= this.inst.n; i++) if (sol.routeOf[i] >= 0) this.idBuf[c++] = i;
    return c;
  }

  /** Removes the listed requests and refreshes each touched route once. */
  private removeAll(sol: Solution, list: Int32Array, cnt: number): void {
    const touched = this.touched;
    touched.fill(0);
    for (let x = 0; x < cnt; x++) {
      const r = sol.routeOf[list[x]];
      if (r < 0) continue;
      touched[r] = 1;
      sol.remove(list[x], this.ev, false);
    }
    for (let r = 0; r < this.inst.m; r++) if (touched[r]) sol.refresh(r, this.ev);
  }

  readonly randomRemoval: DestroyOp = (sol, q) => {
    const cnt = this.assignedList(sol);
    const ids = this.idBuf;
    const take = Math.min(q, cnt);
    for (let x = 0; x < take; x++) {
      const y = this.rng.int(x, cnt - 1);
      const t = ids[x]; ids[x] = ids[y]; ids[y] = t;
    }
    this.removeAll(sol, ids, take);
  };

  /** Detour saved by taking request i out of its route (the "cost" of i in worst removal). */
  private removalSaving(sol: Solution, i: number): number {
    const { N, n, dist } = this.inst;
    const r = sol.routeOf[i];
    const off = r * N, len = sol.len[r], seq = sol.seq;
    let pp = -1, pd = -1;
    for (let k = 1; k < len - 1; k++) {
      const v = seq[off + k];
      if (v === i) pp = k;
      else if (v === n + i) { pd = k; break; }
    }
    const a = seq[off + pp - 1], b = seq[off + pp + 1], c = seq[off + pd - 1], d = seq[off + pd + 1];
    if (pd === pp + 1) return dist[a * N + i] + dist[i * N + (n + i)] + dist[(n + i) * N + d] - dist[a * N + d];
    return dist[a * N + i] + dist[i * N + b] - dist[a * N + b] + dist[c * N + (n + i)] + dist[(n + i) * N + d] - dist[c * N + d];
  }

  readonly worstRemoval: DestroyOp = (sol, q) => {
    const P_WORST = 3;
    let cnt = this.assignedList(sol);
    const ids = this.idBuf, key = this.keyBuf;
    const take = Math.min(q, cnt);
    // Savings are taken from the solution before removal (Ropke & Pisinger recompute them; the
    // randomised rank selection makes the difference small and this keeps the operator O(q·n)).
    for (let y = 0; y < cnt; y++) key[y] = this.removalSaving(sol, ids[y]);
    let nrem = 0;
    for (let x = 0; x < take; x++) {
      const pick = Math.floor(Math.pow(this.rng.float(), P_WORST) * cnt);
      selectDesc(ids, key, cnt, pick);
      this.removed[nrem++] = ids[pick];
      cnt--;
      ids[pick] = ids[cnt];
      key[pick] = key[cnt];
    }
    this.removeAll(sol, this.removed, nrem);
  };

  private relatedness(sol: Solution, i: number, j: number, time: Float64Array): number {
    const { N, n, dist } = this.inst;
    const dd = dist[i * N + j] + dist[(n + i) * N + (n + j)];
    const dt = Math.abs(time[i] - time[j]) + Math.abs(time[n + i] - time[n + j]);
    return (9 * dd) / this.maxDist + (3 * dt) / this.horizon + (sol.routeOf[i] === sol.routeOf[j] ? 0 : 0.5);
  }

  readonly shawRemoval: DestroyOp = (sol, q) => {
    const P_SHAW = 6;
    const { N, n, m } = this.inst;
    // Service times of the current schedule (earliest), window centres for unserved stops.
    const time = this.stopTime;
    for (let v = 1; v <= 2 * n; v++) time[v] = (this.inst.e[v] + this.inst.l[v]) / 2;
    for (let r = 0; r < m; r++) for (let k = 1; k < sol.len[r] - 1; k++) time[sol.seq[r * N + k]] = sol.E[r * N + k];
    let cnt = this.assignedList(sol);
    const ids = this.idBuf, key = this.keyBuf;
    const take = Math.min(q, cnt);
    if (take === 0) return;
    let nrem = 0;
    const first = this.rng.int(0, cnt - 1);
    this.removed[nrem++] = ids[first];
    ids[first] = ids[--cnt];
    while (nrem < take) {
      const ref = this.removed[this.rng.int(0, nrem - 1)];
      for (let y = 0; y < cnt; y++) key[y] = -this.relatedness(sol, ref, ids[y], time);
      const pick = Math.floor(Math.pow(this.rng.float(), P_SHAW) * cnt);
      selectDesc(ids, key, cnt, pick); // rank `pick` by relatedness, most related first
      this.removed[nrem++] = ids[pick];
      ids[pick] = ids[--cnt];
    }
    this.removeAll(sol, this.removed, nrem);
  };

  readonly routeRemoval: DestroyOp = (sol, q) => {
    const { m, N } = this.inst;
    let nonEmpty = 0;
    for (let r = 0; r < m; r++) if (sol.len[r] > 2) nonEmpty++;
    if (nonEmpty === 0) return;
    let pickIdx = this.rng.int(0, nonEmpty - 1), r = 0;
    for (; r < m; r++) if (sol.len[r] > 2 && pickIdx-- === 0) break;
    let nrem = 0;
    for (let k = 1; k < sol.len[r] - 1; k++) {
      const v = sol.seq[r * N + k];
      if (v <= this.inst.n) this.removed[nrem++] = v;
    }
    this.removeAll(sol, this.removed, nrem);
    if (nrem < q) this.randomRemoval(sol, q - nrem);
  };

  // ---------------------------------------------------------------- main loop

  run(opts: AlnsOptions = {}): AlnsResult {
    const inst = this.inst;
    const now = opts.now ?? (() => 0);
    const deadline = opts.deadline ?? Infinity;
    const maxIt = opts.maxIterations ?? (opts.deadline === undefined ? 1000 : Infinity);
    const rng = this.rng;

    const cur = new Solution(inst);
    this.repair(cur, { k: 1, noise: false }); // best-insertion construction
    const initialCost = cur.distance(), initialUnassigned = cur.unassignedCount();
    const best = cur.clone();
    const work = cur.clone();
    let fCur = this.objective(cur), fBest = fCur;

    const destroys: DestroyOp[] = [this.randomRemoval, this.worstRemoval, this.shawRemoval, this.routeRemoval];
    const repairs: RepairOp[] = [
      { k: 1, noise: false }, { k: 2, noise: false }, { k: 3, noise: false }, { k: inst.m, noise: false },
      { k: 1, noise: true }, { k: 2, noise: true }, { k: 3, noise: true }, { k: inst.m, noise: true },
    ];
    const wD = new Float64Array(destroys.length).fill(1), sD = new Float64Array(destroys.length), uD = new Float64Array(destroys.length);
    const wR = new Float64Array(repairs.length).fill(1), sR = new Float64Array(repairs.length), uR = new Float64Array(repairs.length);

    const n = inst.n;
    const qMin = Math.min(n, 4);
    const qMax = Math.max(qMin, Math.min(100, Math.floor((opts.maxRemoveFraction ?? 0.4) * n)));
    // Start temperature: a solution 0.5% worse than the construction is accepted with probability 1/2.
    // Ropke & Pisinger start at 5% for one long run; our cycles restart from the best solution, so they
    // start cooler and rely on reheating (below) to escape. On a4-48…a8-96 both measured alike.
    const T0 = ((opts.startWorse ?? 0.005) * Math.max(1, initialCost)) / Math.LN2, Tend = T0 * (opts.coolTo ?? 0.02);
    const growth = opts.cycleGrowth ?? 1.5;
    let cycleLen = opts.firstCycle ?? 4000, cycleStart = 0;
    // Reheating: a cycle that found no new best is followed by a hotter one (up to MAX_HEAT× the start
    // temperature), so a small instance that has converged to a local optimum gets shaken harder.
    const MAX_HEAT = opts.maxHeat ?? 16;
    let heat = 1, improvedInCycle = false, T0c = T0;

    const polish = opts.localSearch ?? true;
    let it = 0;
    while (it < maxIt && now() < deadline && fBest > 0) {
      if (it - cycleStart >= cycleLen) {
        cycleStart = it;
        cycleLen = Math.round(cycleLen * growth);
        heat = improvedInCycle ? 1 : Math.min(heat * 2, MAX_HEAT);
        improvedInCycle = false;
        T0c = T0 * heat;
        cur.copyFrom(best);
        fCur = fBest;
      }
      const temp = T0c * Math.pow(Tend / T0c, (it - cycleStart) / cycleLen);
      const di = roulette(wD, rng), ri = roulette(wR, rng);
      const q = rng.int(qMin, qMax);
      work.copyFrom(cur);
      destroys[di](work, q);
      this.repair(work, repairs[ri]);
      let f = this.objective(work);
      // Polishing only new bests measured best (a4-48…a8-96, 10 s): polishing every improvement of the
      // current solution costs more iterations than it gains, and an exchange (swap) descent did not pay off.
      if (polish && f < fBest - 1e-9) {
        this.relocateDescent(work);
        f = this.objective(work);
      }
      let score = 0;
      if (f < fBest - 1e-9) {
        best.copyFrom(work);
        fBest = f;
        cur.copyFrom(work);
        fCur = f;
        score = SIGMA_BEST;
        improvedInCycle = true;
      } else if (f < fCur - 1e-9) {
        cur.copyFrom(work);
        fCur = f;
        score = SIGMA_BETTER;
      } else if (f <= fCur + 1e-9 || rng.float() < Math.exp((fCur - f) / temp)) {
        // equal cost: always move (plateau walk); worse: Metropolis criterion
        cur.copyFrom(work);
        const worse = f > fCur + 1e-9;
        fCur = f;
        if (worse) score = SIGMA_ACCEPTED;
      }
      sD[di] += score; uD[di]++;
      sR[ri] += score; uR[ri]++;
      it++;
      if (it % SEGMENT === 0) {
        updateWeights(wD, sD, uD);
        updateWeights(wR, sR, uR);
      }
    }
    return { best, cost: best.distance(), unassigned: best.unassignedCount(), iterations: it, initialCost, initialUnassigned };
  }
}

function roulette(w: Float64Array, rng: Rng): number {
  let tot = 0;
  for (let k = 0; k < w.length; k++) tot += w[k];
  let x = rng.float() * tot;
  for (let k = 0; k < w.length; k++) {
    x -= w[k];
    if (x < 0) return k;
  }
  return w.length - 1;
}

function updateWeights(w: Float64Array, s: Float64Array, u: Float64Array): void {
  for (let k = 0; k < w.length; k++) {
    if (u[k] > 0) w[k] = w[k] * (1 - REACTION) + (REACTION * s[k]) / u[k];
    if (w[k] < 0.05) w[k] = 0.05;
    s[k] = 0;
    u[k] = 0;
  }
}

/**
 * Quickselect: reorders ids/key[0..cnt) so that position `rank` holds the element of that rank in
 * descending key order (deterministic middle pivot, so the result depends only on the input order).
 */
function selectDesc(ids: Int32Array, key: Float64Array, cnt: number, rank: number): void {
  let lo = 0, hi = cnt - 1;
  while (lo < hi) {
    const pivot = key[(lo + hi) >> 1];
    let i = lo, j = hi;
    while (i <= j) {
      while (key[i] > pivot) i++;
      while (key[j] < pivot) j--;
      if (i <= j) {
        const tk = key[i]; key[i] = key[j]; key[j] = tk;
        const ti = ids[i]; ids[i] = ids[j]; ids[j] = ti;
        i++;
        j--;
      }
    }
    if (rank <= j) hi = j;
    else if (rank >= i) lo = i;
    else return;
  }
}

export function solve(inst: Instance, opts: AlnsOptions = {}): AlnsResult {
  return new Alns(inst, opts.seed ?? 1).run(opts);
}
