import type { SearchProblem, Seed } from '../graph/phantom.ts';
import type { PathResult } from '../graph/dijkstra.ts';
import type { ContractionHierarchy } from './contract.ts';
import { IndexedHeap } from './heap.ts';

/**
 * Bidirectional CH query and many-to-many (bucket) matrices. One instance per thread of use: it reuses its
 * arrays between queries, so a query allocates almost nothing.
 */
export class CHQuery {
  private readonly fHeap: IndexedHeap;
  private readonly bHeap: IndexedHeap;
  private readonly fDist: Float64Array;
  private readonly bDist: Float64Array;
  private readonly fParent: Int32Array;
  private readonly bParent: Int32Array;
  private readonly fTouched: number[] = [];
  private readonly bTouched: number[] = [];

  constructor(private readonly ch: ContractionHierarchy) {
    const n = ch.numNodes;
    this.fHeap = new IndexedHeap(n);
    this.bHeap = new IndexedHeap(n);
    this.fDist = new Float64Array(n).fill(Infinity);
    this.bDist = new Float64Array(n).fill(Infinity);
    this.fParent = new Int32Array(n).fill(-1);
    this.bParent = new Int32Array(n).fill(-1);
  }

  private reset(): void {
    for (const v of this.fTouched) {
      this.fDist[v] = Infinity;
      this.fParent[v] = -1;
    }
    for (const v of this.bTouched) {
      this.bDist[v] = Infinity;
      this.bParent[v] = -1;
    }
    this.fTouched.length = 0;
    this.bTouched.length = 0;
    this.fHeap.clear();
    this.bHeap.clear();
  }

  private seed(seeds: Seed[], dist: Float64Array, heap: IndexedHeap, touched: number[]): void {
    for (const s of seeds) {
      if (s.offset < dist[s.ebn]) {
        if (dist[s.ebn] === Infinity) touched.push(s.ebn);
        dist[s.ebn] = s.offset;
        heap.push(s.ebn, s.offset);
      }
    }
  }

  route(p: SearchProblem): PathResult {
    const ch = this.ch;
    this.reset();
    const { fDist, bDist, fHeap, bHeap, fParent, bParent } = this;
    this.seed(p.sources, fDist, fHeap, this.fTouched);
    this.seed(p.targets, bDist, bHeap, this.bTouched);
    // Target offsets can be negative (the phantom lies before the end of its EBN), so a direction may stop only
    // when its smallest key plus the other side's smallest possible offset cannot beat the best meeting.
    let fMin = Infinity, bMin = Infinity;
    for (const s of p.sources) fMin = Math.min(fMin, s.offset);
    for (const t of p.targets) bMin = Math.min(bMin, t.offset);
    let best = p.direct, meet = -1;
    for (const s of p.sources) {
      const v = s.ebn;
      if (bDist[v] + fDist[v] < best) {
        best = bDist[v] + fDist[v];
        meet = v;
      }
    }
    // Alternate directions; each stops once its smallest key cannot improve the best meeting.
    for (;;) {
      const fGo = fHeap.length > 0 && fHeap.minKey() + bMin < best;
      const bGo = bHeap.length > 0 && bHeap.minKey() + fMin < best;
      if (!fGo && !bGo) break;
      const forward = fGo && (!bGo || fHeap.minKey() <= bHeap.minKey());
      if (forward) {
        const u = fHeap.pop();
        const du = fDist[u];
        for (let k = ch.upFirst[u]; k < ch.upFirst[u + 1]; k++) {
          const v = ch.upHead[k];
          const nd = du + ch.upWeight[k];
          if (nd < fDist[v]) {
            if (fDist[v] === Infinity) this.fTouched.push(v);
            fDist[v] = nd;
            fParent[v] = u;
            fHeap.push(v, nd);
            const total = nd + bDist[v];
            if (total < best) {
              best = total;
              meet = v;
            }
          }
        }
      } else {
        const u = bHeap.pop();
        const du = bDist[u];
        for (let k = ch.downFirst[u]; k < ch.downFirst[u + 1]; k++) {
          const v = ch.downHead[k];
          const nd = du + ch.downWeight[k];
          if (nd < bDist[v]) {
            if (bDist[v] === Infinity) this.bTouched.push(v);
            bDist[v] = nd;
            bParent[v] = u;
            bHeap.push(v, nd);
            const total = nd + fDist[v];
            if (total < best) {
              best = total;
              meet = v;
            }
          }
        }
      }
    }
    if (best === Infinity) return { weight: Infinity, path: [] };
    if (meet < 0) return { weight: best, path: [p.directEbn] };
    // CH path: sources … meet … targets, then unpack every shortcut into original EBN arcs
    const up: number[] = [];
    for (let v = meet; v >= 0; v = fParent[v]) up.push(v);
    up.reverse();
    const down: number[] = [];
    for (let v = bParent[meet]; v >= 0; v = bParent[v]) down.push(v);
    const chPath = up.concat(down);
    const path: number[] = [chPath[0]];
    for (let i = 1; i < chPath.length; i++) this.unpack(chPath[i - 1], chPath[i], path);
    const last = path[path.length - 1];
    const via = p.targetVia.get(last);
    if (via !== undefined) path.push(via);
    return { weight: best, path };
  }

  /**
   * Cost of the fastest path without reconstructing it: weight, and the duration and length of that same path
   * carried as side labels. What the dispatcher asks thousands of times.
   */
  cost(p: SearchProblem): { weight: number; duration: number; length: number } {
    const ch = this.ch;
    this.reset();
    const { fDist, bDist, fHeap, bHeap } = this;
    const fDur = (this.fDur ??= new Float64Array(ch.numNodes));
    const fLen = (this.fLen ??= new Float64Array(ch.numNodes));
    const bDur = (this.bDur ??= new Float64Array(ch.numNodes));
    const bLen = (this.bLen ??= new Float64Array(ch.numNodes));
    let fMin = Infinity, bMin = Infinity;
    for (const s of p.sources) {
      fMin = Math.min(fMin, s.offset);
      if (s.offset < fDist[s.ebn]) {
        if (fDist[s.ebn] === Infinity) this.fTouched.push(s.ebn);
        fDist[s.ebn] = s.offset;
        fDur[s.ebn] = s.dur;
        fLen[s.ebn] = s.len;
        fHeap.push(s.ebn, s.offset);
      }
    }
    for (const t of p.targets) {
      bMin = Math.min(bMin, t.offset);
      if (t.offset < bDist[t.ebn]) {
        if (bDist[t.ebn] === Infinity) this.bTouched.push(t.ebn);
        bDist[t.ebn] = t.offset;
        bDur[t.ebn] = t.dur;
        bLen[t.ebn] = t.len;
        bHeap.push(t.ebn, t.offset);
      }
    }
    let best = p.direct, bestDur = Infinity, bestLen = Infinity;
    if (p.direct < Infinity) {
      const s = p.sources.find((x) => x.ebn === p.directEbn)!, t = p.targets.find((x) => x.ebn === p.directEbn)!;
      bestDur = s.dur + t.dur;
      bestLen = s.len + t.len;
    }
    const meetAt = (v: number) => {
      const total = fDist[v] + bDist[v];
      if (total < best) {
        best = total;
        bestDur = fDur[v] + bDur[v];
        bestLen = fLen[v] + bLen[v];
      }
    };
    for (const s of p.sources) meetAt(s.ebn);
    for (;;) {
      const fGo = fHeap.length > 0 && fHeap.minKey() + bMin < best;
      const bGo = bHeap.length > 0 && bHeap.minKey() + fMin < best;
      if (!fGo && !bGo) break;
      if (fGo && (!bGo || fHeap.minKey() <= bHeap.minKey())) {
        const u = fHeap.pop();
        const du = fDist[u];
        for (let k = ch.upFirst[u]; k < ch.upFirst[u + 1]; k++) {
          const v = ch.upHead[k];
          const nd = du + ch.upWeight[k];
          if (nd < fDist[v]) {
            if (fDist[v] === Infinity) this.fTouched.push(v);
            fDist[v] = nd;
            fDur[v] = fDur[u] + ch.upDur[k];
            fLen[v] = fLen[u] + ch.upLen[k];
            fHeap.push(v, nd);
            if (bDist[v] < Infinity) meetAt(v);
          }
        }
      } else {
        const u = bHeap.pop();
        const du = bDist[u];
        for (let k = ch.downFirst[u]; k < ch.downFirst[u + 1]; k++) {
          const v = ch.downHead[k];
          const nd = du + ch.downWeight[k];
          if (nd < bDist[v]) {
            if (bDist[v] === Infinity) this.bTouched.push(v);
            bDist[v] = nd;
            bDur[v] = bDur[u] + ch.downDur[k];
            bLen[v] = bLen[u] + ch.downLen[k];
            bHeap.push(v, nd);
            if (fDist[v] < Infinity) meetAt(v);
          }
        }
      }
    }
    return { weight: best, duration: bestDur, length: bestLen };
  }
  private fDur: Float64Array | null = null;
  private fLen: Float64Array | null = null;
  private bDur: Float64Array | null = null;
  private bLen: Float64Array | null = null;

  /**
   * The complete upward search space of a set of seeds (forward on `up` arcs, or backward on `down` arcs):
   * every node reached with its weight, duration and length. Two cached spaces answer a matrix cell by a scan,
   * so a location's search is run once, however many matrices it appears in.
   */
  space(seeds: Seed[], dir: 'forward' | 'backward'): SearchSpace {
    const ch = this.ch;
    this.reset();
    const fwd = dir === 'forward';
    const dist = fwd ? this.fDist : this.bDist;
    const heap = fwd ? this.fHeap : this.bHeap;
    const touched = fwd ? this.fTouched : this.bTouched;
    const first = fwd ? ch.upFirst : ch.downFirst;
    const head = fwd ? ch.upHead : ch.downHead;
    const weight = fwd ? ch.upWeight : ch.downWeight;
    // Stall-on-demand: arcs between u and higher nodes in the other direction (into u when searching forward,
    // out of u when searching backward). A node reached more cheaply through such an arc is not on any
    // shortest up-down path, so it neither enters the space nor expands (the spaces, and every matrix scan
    // over them, get smaller; the meeting node of a shortest path always has its exact distance).
    const sFirst = fwd ? ch.downFirst : ch.upFirst;
    const sHead = fwd ? ch.downHead : ch.upHead;
    const sWeight = fwd ? ch.downWeight : ch.upWeight;
    const adur = dir === 'forward' ? ch.upDur : ch.downDur;
    const alen = dir === 'forward' ? ch.upLen : ch.downLen;
    const dur = (this.mDur ??= new Float64Array(ch.numNodes));
    const len = (this.mLen ??= new Float64Array(ch.numNodes));
    for (const s of seeds) {
      if (s.offset < dist[s.ebn]) {
        if (dist[s.ebn] === Infinity) touched.push(s.ebn);
        dist[s.ebn] = s.offset;
        dur[s.ebn] = s.dur;
        len[s.ebn] = s.len;
        heap.push(s.ebn, s.offset);
      }
    }
    const nodes: number[] = [], w: number[] = [], d: number[] = [], l: number[] = [];
    search: while (heap.length) {
      const u = heap.pop();
      const du = dist[u];
      for (let k = sFirst[u]; k < sFirst[u + 1]; k++) if (dist[sHead[k]] + sWeight[k] < du) continue search;
      nodes.push(u);
      w.push(du);
      d.push(dur[u]);
      l.push(len[u]);
      for (let k = first[u]; k < first[u + 1]; k++) {
        const v = head[k];
        const nd = du + weight[k];
        if (nd < dist[v]) {
          if (dist[v] === Infinity) touched.push(v);
          dist[v] = nd;
          dur[v] = dur[u] + adur[k];
          len[v] = len[u] + alen[k];
          heap.push(v, nd);
        }
      }
    }
    return { nodes: Int32Array.from(nodes), weight: Float64Array.from(w), duration: Float64Array.from(d), length: Float64Array.from(l) };
  }

  /**
   * Matrix from search spaces (see `space`). The smaller side's spaces are spread into dense per-node arrays,
   * MATRIX_BLOCK of them at a time, and every space of the other side is scanned once per block: the
   * dispatcher's typical many×2 and 2×many matrices cost one scan per place instead of two, or instead of a
   * spread, two scans and a clean-up per place. A cell is the minimum weight over meeting nodes; ties go to the
   * shorter duration, so the result does not depend on which side is spread.
   */
  matrixFromSpaces(sources: SearchSpace[], targets: SearchSpace[]): { weight: Float64Array; duration: Float64Array; length: Float64Array } {
    const n = sources.length, m = targets.length;
    const out = {
      weight: new Float64Array(n * m).fill(Infinity),
      duration: new Float64Array(n * m).fill(Infinity),
      length: new Float64Array(n * m).fill(Infinity),
    };
    if (m <= n) this.spreadAndScan(targets, sources, out, (d, sc) => sc * m + d);
    else this.spreadAndScan(sources, targets, out, (d, sc) => d * m + sc);
    return out;
  }

  private spreadAndScan(
    spread: SearchSpace[],
    scanned: SearchSpace[],
    out: { weight: Float64Array; duration: Float64Array; length: Float64Array },
    cellOf: (spreadIdx: number, scannedIdx: number) => number,
  ): void {
    const B = MATRIX_BLOCK;
    const size = this.ch.numNodes * B;
    // interleaved: node v, block slot b at v·B + b
    if (!this.blockW || this.blockW.length !== size) {
      this.blockW = new Float64Array(size).fill(Infinity);
      this.blockD = new Float64Array(size);
      this.blockL = new Float64Array(size);
    }
    const dw = this.blockW, dd = this.blockD!, dl = this.blockL!;
    const bestW = new Float64Array(B), bestK = new Int32Array(B);
    for (let first = 0; first < spread.length; first += B) {
      const count = Math.min(B, spread.length - first);
      for (let b = 0; b < count; b++) {
        const t = spread[first + b];
        for (let k = 0; k < t.nodes.length; k++) {
          const at = t.nodes[k] * B + b;
          dw[at] = t.weight[k];
          dd[at] = t.duration[k];
          dl[at] = t.length[k];
        }
      }
      for (let i = 0; i < scanned.length; i++) {
        const s = scanned[i];
        const nodes = s.nodes, sw = s.weight, sd = s.duration;
        bestW.fill(Infinity);
        bestK.fill(-1);
        // weights only in the hot loop; duration and length are read for the best meeting node afterwards
        for (let k = 0; k < nodes.length; k++) {
          const base = nodes[k] * B;
          const w = sw[k];
          for (let b = 0; b < count; b++) {
            const total = w + dw[base + b];
            if (total < bestW[b]) {
              bestW[b] = total;
              bestK[b] = k;
            } else if (total === bestW[b] && bestK[b] >= 0 && sd[k] + dd[base + b] < sd[bestK[b]] + dd[nodes[bestK[b]] * B + b]) {
              bestK[b] = k;
            }
          }
        }
        for (let b = 0; b < count; b++) {
          const c = cellOf(first + b, i);
          const k = bestK[b];
          if (k < 0) continue; // no meeting node: the cell stays Infinity
          const at = nodes[k] * B + b;
          out.weight[c] = bestW[b];
          out.duration[c] = sd[k] + dd[at];
          out.length[c] = s.length[k] + dl[at];
        }
      }
      for (let b = 0; b < count; b++) {
        const t = spread[first + b];
        for (let k = 0; k < t.nodes.length; k++) dw[t.nodes[k] * B + b] = Infinity;
      }
    }
  }
  private blockW: Float64Array | null = null;
  private blockD: Float64Array | null = null;
  private blockL: Float64Array | null = null;

  /** Appends the original EBNs of arc a→b (excluding a) to `out`. */
  private unpack(a: number, b: number, out: number[]): void {
    const ch = this.ch;
    // a→b is stored either as an up arc at a (rank b > rank a) or as a down arc at b (rank a > rank b)
    let mid = -2;
    if (ch.rank[b] > ch.rank[a]) {
      mid = findMid(ch.upFirst, ch.upHead, ch.upWeight, ch.upMid, a, b);
    } else {
      mid = findMid(ch.downFirst, ch.downHead, ch.downWeight, ch.downMid, b, a);
    }
    if (mid === -2) throw new Error(`CH unpack: no arc ${a}→${b}`);
    if (mid < 0) {
      out.push(b);
      return;
    }
    this.unpack(a, mid, out);
    this.unpack(mid, b, out);
  }

  /**
   * Many-to-many with buckets (Knopp et al. 2007): one upward backward search per target fills buckets, one upward
   * forward search per source scans them. Row-major results; weight/duration in integer ms, length in metres;
   * Infinity = no route. Duration and length belong to the minimum-weight path.
   */
  matrix(sources: Seed[][], targets: Seed[][]): { weight: Float64Array; duration: Float64Array; length: Float64Array } {
    const ch = this.ch;
    const m = targets.length;
    const weight = new Float64Array(sources.length * m).fill(Infinity);
    const duration = new Float64Array(sources.length * m).fill(Infinity);
    const length = new Float64Array(sources.length * m).fill(Infinity);
    const n = ch.numNodes;
    const bucketStart = (this.bucketStart ??= new Int32Array(n).fill(-1));
    const usedBuckets: number[] = [];
    // bucket entries as a linked list in flat arrays: next, target, weight, duration, length
    const bNext: number[] = [], bTarget: number[] = [], bW: number[] = [], bD: number[] = [], bL: number[] = [];
    const dur = (this.mDur ??= new Float64Array(n));
    const len = (this.mLen ??= new Float64Array(n));
    for (let j = 0; j < m; j++) {
      this.reset();
      const { bDist, bHeap } = this;
      for (const s of targets[j]) {
        if (s.offset < bDist[s.ebn]) {
          if (bDist[s.ebn] === Infinity) this.bTouched.push(s.ebn);
          bDist[s.ebn] = s.offset;
          dur[s.ebn] = s.dur;
          len[s.ebn] = s.len;
          bHeap.push(s.ebn, s.offset);
        }
      }
      while (bHeap.length) {
        const u = bHeap.pop();
        const du = bDist[u];
        if (bucketStart[u] < 0) usedBuckets.push(u);
        bNext.push(bucketStart[u]);
        bTarget.push(j);
        bW.push(du);
        bD.push(dur[u]);
        bL.push(len[u]);
        bucketStart[u] = bNext.length - 1;
        for (let k = ch.downFirst[u]; k < ch.downFirst[u + 1]; k++) {
          const v = ch.downHead[k];
          const nd = du + ch.downWeight[k];
          if (nd < bDist[v]) {
            if (bDist[v] === Infinity) this.bTouched.push(v);
            bDist[v] = nd;
            dur[v] = dur[u] + ch.downDur[k];
            len[v] = len[u] + ch.downLen[k];
            bHeap.push(v, nd);
          }
        }
      }
    }
    for (let i = 0; i < sources.length; i++) {
      this.reset();
      const { fDist, fHeap } = this;
      for (const s of sources[i]) {
        if (s.offset < fDist[s.ebn]) {
          if (fDist[s.ebn] === Infinity) this.fTouched.push(s.ebn);
          fDist[s.ebn] = s.offset;
          dur[s.ebn] = s.dur;
          len[s.ebn] = s.len;
          fHeap.push(s.ebn, s.offset);
        }
      }
      const row = i * m;
      while (fHeap.length) {
        const u = fHeap.pop();
        const du = fDist[u];
        for (let e = bucketStart[u]; e >= 0; e = bNext[e]) {
          const cell = row + bTarget[e];
          const total = du + bW[e];
          if (total < weight[cell]) {
            weight[cell] = total;
            duration[cell] = dur[u] + bD[e];
            length[cell] = len[u] + bL[e];
          }
        }
        for (let k = ch.upFirst[u]; k < ch.upFirst[u + 1]; k++) {
          const v = ch.upHead[k];
          const nd = du + ch.upWeight[k];
          if (nd < fDist[v]) {
            if (fDist[v] === Infinity) this.fTouched.push(v);
            fDist[v] = nd;
            dur[v] = dur[u] + ch.upDur[k];
            len[v] = len[u] + ch.upLen[k];
            fHeap.push(v, nd);
          }
        }
      }
    }
    for (const u of usedBuckets) bucketStart[u] = -1; // leave the reusable buffer clean
    return { weight, duration, length };
  }
  private bucketStart: Int32Array | null = null;
  private mDur: Float64Array | null = null;
  private mLen: Float64Array | null = null;
}

/** Spaces spread at once by matrixFromSpaces: the dispatcher's matrices have a pickup and a drop-off side. */
const MATRIX_BLOCK = 2;

export interface SearchSpace {
  nodes: Int32Array;
  weight: Float64Array;
  duration: Float64Array;
  length: Float64Array;
}

/** Arc from `at` to `head` in one CSR list; returns its mid (-1 original) or -2 if absent. Lists are sorted by head. */
function findMid(first: Uint32Array, head: Uint32Array, weight: Int32Array, mid: Int32Array, at: number, to: number): number {
  let best = -2, bestW = Infinity;
  for (let k = first[at]; k < first[at + 1]; k++) {
    if (head[k] === to && weight[k] < bestW) {
      bestW = weight[k];
      best = mid[k];
    }
  }
  return best;
}
