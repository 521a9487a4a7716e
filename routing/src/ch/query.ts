import type { SearchProblem, Seed } from '../graph/phantom.ts';
import type { PathResult } from '../graph/dijkstra.ts';
import type { ContractionHierarchy } from './contract.ts';
import { IndexedHeap } from './heap.ts';

/**
 * Bidirectional CH query and many-to-many matrices from cached search spaces. One instance per thread of use:
 * it reuses its arrays between queries, so a query allocates almost nothing.
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
  /** side labels: duration and length of the path that gave each node its weight */
  private readonly fDur: Float64Array;
  private readonly fLen: Float64Array;
  private readonly bDur: Float64Array;
  private readonly bLen: Float64Array;

  constructor(private readonly ch: ContractionHierarchy) {
    const n = ch.numNodes;
    this.fHeap = new IndexedHeap(n);
    this.bHeap = new IndexedHeap(n);
    this.fDist = new Float64Array(n).fill(Infinity);
    this.bDist = new Float64Array(n).fill(Infinity);
    this.fParent = new Int32Array(n).fill(-1);
    this.bParent = new Int32Array(n).fill(-1);
    this.fDur = new Float64Array(n);
    this.fLen = new Float64Array(n);
    this.bDur = new Float64Array(n);
    this.bLen = new Float64Array(n);
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

  /** Seeds one direction: the seed's offset is its key; its duration and length start the side labels. */
  private seed(seeds: Seed[], fwd: boolean): void {
    const dist = fwd ? this.fDist : this.bDist, heap = fwd ? this.fHeap : this.bHeap, touched = fwd ? this.fTouched : this.bTouched;
    const dur = fwd ? this.fDur : this.bDur, len = fwd ? this.fLen : this.bLen;
    for (const s of seeds) {
      if (s.offset < dist[s.ebn]) {
        if (dist[s.ebn] === Infinity) touched.push(s.ebn);
        dist[s.ebn] = s.offset;
        dur[s.ebn] = s.dur;
        len[s.ebn] = s.len;
        heap.push(s.ebn, s.offset);
      }
    }
  }

  /**
   * Settles `u` in one direction (forward on `up` arcs, backward on `down` arcs): relaxes its arcs, carrying
   * parent, duration and length with the weight, and reports each improved node the other side has reached.
   */
  private relax(u: number, fwd: boolean, reached: (v: number) => void): void {
    const ch = this.ch;
    const dist = fwd ? this.fDist : this.bDist, other = fwd ? this.bDist : this.fDist;
    const heap = fwd ? this.fHeap : this.bHeap, touched = fwd ? this.fTouched : this.bTouched, parent = fwd ? this.fParent : this.bParent;
    const dur = fwd ? this.fDur : this.bDur, len = fwd ? this.fLen : this.bLen;
    const first = fwd ? ch.upFirst : ch.downFirst, head = fwd ? ch.upHead : ch.downHead, weight = fwd ? ch.upWeight : ch.downWeight;
    const adur = fwd ? ch.upDur : ch.downDur, alen = fwd ? ch.upLen : ch.downLen;
    const du = dist[u];
    for (let k = first[u]; k < first[u + 1]; k++) {
      const v = head[k];
      const nd = du + weight[k];
      if (nd < dist[v]) {
        if (dist[v] === Infinity) touched.push(v);
        dist[v] = nd;
        parent[v] = u;
        dur[v] = dur[u] + adur[k];
        len[v] = len[u] + alen[k];
        heap.push(v, nd);
        if (other[v] < Infinity) reached(v);
      }
    }
  }

  /**
   * Bidirectional up-down search shared by `route` and `cost`: the best meeting node (-1 when the same-EBN direct
   * answer is best) and its weight. The labels of the meeting node hold the duration and length of that path.
   */
  private meet(p: SearchProblem): { weight: number; node: number } {
    this.reset();
    const { fDist, bDist, fHeap, bHeap } = this;
    this.seed(p.sources, true);
    this.seed(p.targets, false);
    // Target offsets can be negative (the phantom lies before the end of its EBN), so a direction may stop only
    // when its smallest key plus the other side's smallest possible offset cannot beat the best meeting.
    let fMin = Infinity, bMin = Infinity;
    for (const s of p.sources) fMin = Math.min(fMin, s.offset);
    for (const t of p.targets) bMin = Math.min(bMin, t.offset);
    let best = p.direct, node = -1;
    const consider = (v: number) => {
      const total = fDist[v] + bDist[v];
      if (total < best) {
        best = total;
        node = v;
      }
    };
    for (const s of p.sources) consider(s.ebn);
    // Alternate directions; each stops once its smallest key cannot improve the best meeting.
    for (;;) {
      const fGo = fHeap.length > 0 && fHeap.minKey() + bMin < best;
      const bGo = bHeap.length > 0 && bHeap.minKey() + fMin < best;
      if (!fGo && !bGo) break;
      const forward = fGo && (!bGo || fHeap.minKey() <= bHeap.minKey());
      this.relax((forward ? fHeap : bHeap).pop(), forward, consider);
    }
    return { weight: best, node };
  }

  route(p: SearchProblem): PathResult {
    const { weight: best, node: meet } = this.meet(p);
    const { fParent, bParent } = this;
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
    const { weight, node } = this.meet(p);
    if (node >= 0) return { weight, duration: this.fDur[node] + this.bDur[node], length: this.fLen[node] + this.bLen[node] };
    if (weight === Infinity) return { weight, duration: Infinity, length: Infinity };
    const s = p.sources.find((x) => x.ebn === p.directEbn)!, t = p.targets.find((x) => x.ebn === p.directEbn)!;
    return { weight, duration: s.dur + t.dur, length: s.len + t.len };
  }

  /**
   * The complete upward search space of a set of seeds (forward on `up` arcs, or backward on `down` arcs):
   * every node reached with its weight, duration and length. Two cached spaces answer a matrix cell by a scan,
   * so a location's search is run once, however many matrices it appears in.
   */
  space(seeds: Seed[], dir: 'forward' | 'backward'): SearchSpace {
    const ch = this.ch;
    this.reset();
    const fwd = dir === 'forward';
    const dist = fwd ? this.fDist : this.bDist, heap = fwd ? this.fHeap : this.bHeap;
    const dur = fwd ? this.fDur : this.bDur, len = fwd ? this.fLen : this.bLen;
    // Stall-on-demand: arcs between u and higher nodes in the other direction (into u when searching forward,
    // out of u when searching backward). A node reached more cheaply through such an arc is not on any
    // shortest up-down path, so it neither enters the space nor expands (the spaces, and every matrix scan
    // over them, get smaller; the meeting node of a shortest path always has its exact distance).
    const sFirst = fwd ? ch.downFirst : ch.upFirst;
    const sHead = fwd ? ch.downHead : ch.upHead;
    const sWeight = fwd ? ch.downWeight : ch.upWeight;
    this.seed(seeds, fwd);
    const nodes: number[] = [], w: number[] = [], d: number[] = [], l: number[] = [];
    search: while (heap.length) {
      const u = heap.pop();
      const du = dist[u];
      for (let k = sFirst[u]; k < sFirst[u + 1]; k++) if (dist[sHead[k]] + sWeight[k] < du) continue search;
      nodes.push(u);
      w.push(du);
      d.push(dur[u]);
      l.push(len[u]);
      this.relax(u, fwd, noMeeting); // the other side is empty: nothing meets
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

}

const noMeeting = (): void => {};

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
