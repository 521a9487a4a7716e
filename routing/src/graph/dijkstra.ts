import { IndexedHeap } from '../ch/heap.ts';
import { ebgArcWeight } from '../ch/contract.ts';
import type { SearchProblem, Seed } from './phantom.ts';
import type { RoadGraph } from './types.ts';

export interface PathResult {
  /** total cost in integer ms, Infinity when unreachable */
  weight: number;
  /** EBNs driven, first = source EBN, last = target EBN */
  path: number[];
}

/**
 * Plain Dijkstra on the edge-based graph: the reference every speed-up is tested against, and the baseline
 * in the routing benchmark.
 */
export class Dijkstra {
  private readonly heap: IndexedHeap;
  private readonly dist: Float64Array;
  private readonly parent: Int32Array;
  private readonly touched: number[] = [];

  constructor(private readonly g: RoadGraph) {
    const n = g.numSegs * 2;
    this.heap = new IndexedHeap(n);
    this.dist = new Float64Array(n).fill(Infinity);
    this.parent = new Int32Array(n).fill(-1);
  }

  /** per segment: 1 = closed (road closure); arcs into a closed segment are not relaxed */
  blocked: Uint8Array | null = null;

  route(p: SearchProblem): PathResult {
    const { g, heap, dist, parent, touched, blocked } = this;
    for (const t of touched) {
      dist[t] = Infinity;
      parent[t] = -1;
    }
    touched.length = 0;
    heap.clear();
    for (const s of p.sources) {
      if (s.offset < dist[s.ebn]) {
        if (dist[s.ebn] === Infinity) touched.push(s.ebn);
        dist[s.ebn] = s.offset;
        heap.push(s.ebn, s.offset);
      }
    }
    const targetOffset = new Map<number, number>();
    let minOffset = Infinity;
    for (const t of p.targets) {
      targetOffset.set(t.ebn, t.offset);
      minOffset = Math.min(minOffset, t.offset);
    }
    let best = p.direct, bestEbn = -1;
    while (heap.length) {
      if (heap.minKey() + minOffset >= best) break;
      const u = heap.pop();
      const du = dist[u];
      const off = targetOffset.get(u);
      if (off !== undefined && du + off < best) {
        best = du + off;
        bestEbn = u;
      }
      for (let k = g.arcFirst[u]; k < g.arcFirst[u + 1]; k++) {
        const v = g.arcHead[k];
        if (blocked && blocked[v >> 1]) continue;
        const nd = du + ebgArcWeight(g, k);
        if (nd < dist[v]) {
          if (dist[v] === Infinity) touched.push(v);
          dist[v] = nd;
          parent[v] = u;
          heap.push(v, nd);
        }
      }
    }
    if (best === Infinity) return { weight: Infinity, path: [] };
    if (bestEbn < 0) return { weight: best, path: [p.directEbn] };
    const path: number[] = [];
    for (let v = bestEbn; v >= 0; v = parent[v]) path.push(v);
    path.reverse();
    const via = p.targetVia.get(bestEbn);
    if (via !== undefined) path.push(via);
    return { weight: best, path };
  }

  /**
   * One search from `sources` until every target EBN is settled: the honest plain-Dijkstra baseline for a
   * matrix row. Returns, per target seed list, the best cost.
   */
  oneToMany(sources: Seed[], targets: Seed[][]): Float64Array {
    const { g, heap, dist, parent, touched } = this;
    for (const t of touched) {
      dist[t] = Infinity;
      parent[t] = -1;
    }
    touched.length = 0;
    heap.clear();
    for (const s of sources) {
      if (s.offset < dist[s.ebn]) {
        if (dist[s.ebn] === Infinity) touched.push(s.ebn);
        dist[s.ebn] = s.offset;
        heap.push(s.ebn, s.offset);
      }
    }
    const pending = new Set<number>();
    for (const ts of targets) for (const t of ts) pending.add(t.ebn);
    while (heap.length && pending.size) {
      const u = heap.pop();
      pending.delete(u);
      const du = dist[u];
      for (let k = g.arcFirst[u]; k < g.arcFirst[u + 1]; k++) {
        const v = g.arcHead[k];
        const nd = du + ebgArcWeight(g, k);
        if (nd < dist[v]) {
          if (dist[v] === Infinity) touched.push(v);
          dist[v] = nd;
          parent[v] = u;
          heap.push(v, nd);
        }
      }
    }
    return Float64Array.from(targets, (ts) => Math.min(...ts.map((t) => dist[t.ebn] + t.offset)));
  }
}
