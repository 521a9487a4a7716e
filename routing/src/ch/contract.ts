import type { RoadGraph } from '../graph/types.ts';
import { IndexedHeap } from './heap.ts';

/**
 * Contraction hierarchy over the edge-based graph (Geisberger et al. 2008).
 * Nodes are contracted in order of a lazily updated priority (edge difference + contracted neighbours + level);
 * a shortcut u→x via v is added unless a witness search proves a path u→x no longer than u→v→x without v.
 * The witness search is bounded (settled-node limit), which can only add unneeded shortcuts, never lose a
 * shortest path: queries stay exact.
 *
 * Result: `up` holds arcs v→x with rank(x) > rank(v) (forward search), `down` holds arcs u→v with rank(u) > rank(v),
 * stored at v (backward search). `mid` is the contracted node a shortcut bypasses (-1 for an original arc).
 */
export interface ContractionHierarchy {
  numNodes: number;
  rank: Uint32Array;
  upFirst: Uint32Array;
  upHead: Uint32Array;
  upWeight: Int32Array;
  upMid: Int32Array;
  /** travel time (ms) and length (m) of each arc's unpacked path, for matrices that report more than weight */
  upDur: Int32Array;
  upLen: Float64Array;
  downFirst: Uint32Array;
  downHead: Uint32Array;
  downWeight: Int32Array;
  downMid: Int32Array;
  downDur: Int32Array;
  downLen: Float64Array;
}

const WITNESS_SETTLE_LIMIT = 500;

interface Arc {
  to: number;
  w: number;
  d: number;
  len: number;
  mid: number;
}

/** Arc weights of the edge-based graph: turn cost plus the cost of driving the whole head EBN. */
export function ebgArcWeight(g: RoadGraph, arc: number): number {
  return g.arcTurnWeight[arc] + g.ebnWeight[g.arcHead[arc]];
}

export function contract(g: RoadGraph): ContractionHierarchy {
  const n = g.numSegs * 2;
  const outs: Map<number, Arc>[] = Array.from({ length: n }, () => new Map());
  const ins: Map<number, Arc>[] = Array.from({ length: n }, () => new Map());
  const addArc = (u: number, x: number, w: number, d: number, len: number, mid: number): void => {
    const cur = outs[u].get(x);
    if (cur && cur.w <= w) return;
    outs[u].set(x, { to: x, w, d, len, mid });
    ins[x].set(u, { to: u, w, d, len, mid });
  };
  for (let a = 0; a < n; a++) {
    if (g.ebnWeight[a] < 0) continue;
    for (let k = g.arcFirst[a]; k < g.arcFirst[a + 1]; k++) {
      const b = g.arcHead[k];
      if (b !== a) addArc(a, b, ebgArcWeight(g, k), g.arcTurnDuration[k] + g.ebnDuration[b], g.segLength[b >> 1], -1);
    }
  }

  const contracted = new Uint8Array(n);
  const level = new Int32Array(n);
  const contractedNeighbours = new Int32Array(n);
  const dist = new Float64Array(n).fill(Infinity);
  const touched: number[] = [];
  const witnessHeap = new IndexedHeap(n);

  /** Dijkstra from u avoiding `skip`, up to `bound`; leaves distances in `dist` (reset via touched). */
  const witness = (u: number, skip: number, bound: number): void => {
    for (const t of touched) dist[t] = Infinity;
    touched.length = 0;
    witnessHeap.clear();
    dist[u] = 0;
    touched.push(u);
    witnessHeap.push(u, 0);
    let settled = 0;
    while (witnessHeap.length) {
      const d = witnessHeap.minKey();
      if (d > bound) break;
      const v = witnessHeap.pop();
      if (++settled > WITNESS_SETTLE_LIMIT) break;
      for (const arc of outs[v].values()) {
        const x = arc.to;
        if (x === skip || contracted[x]) continue;
        const nd = d + arc.w;
        if (nd < dist[x]) {
          if (dist[x] === Infinity) touched.push(x);
          dist[x] = nd;
          witnessHeap.push(x, nd);
        }
      }
    }
  };

  /** Shortcuts contracting v would need (and, when `apply`, adds them). */
  const simulate = (v: number, apply: boolean): number => {
    let count = 0;
    for (const inArc of ins[v].values()) {
      const u = inArc.to;
      if (contracted[u]) continue;
      let bound = 0;
      for (const outArc of outs[v].values()) if (!contracted[outArc.to] && outArc.to !== u) bound = Math.max(bound, inArc.w + outArc.w);
      if (bound === 0) continue;
      witness(u, v, bound);
      for (const outArc of outs[v].values()) {
        const x = outArc.to;
        if (contracted[x] || x === u) continue;
        const via = inArc.w + outArc.w;
        if (dist[x] <= via) continue;
        count++;
        if (apply) addArc(u, x, via, inArc.d + outArc.d, inArc.len + outArc.len, v);
      }
    }
    return count;
  };

  const priority = (v: number): number => {
    let degree = 0;
    for (const a of ins[v].values()) if (!contracted[a.to]) degree++;
    for (const a of outs[v].values()) if (!contracted[a.to]) degree++;
    const shortcuts = simulate(v, false);
    return 4 * (shortcuts - degree) + 2 * contractedNeighbours[v] + level[v];
  };

  const queue = new IndexedHeap(n);
  for (let v = 0; v < n; v++) queue.push(v, priority(v));

  const rank = new Uint32Array(n);
  const upLists: Arc[][] = Array.from({ length: n }, () => []);
  const downLists: Arc[][] = Array.from({ length: n }, () => []);
  let next = 0;
  while (queue.length) {
    const v = queue.pop();
    // lazy update: if v's priority grew beyond the next candidate's, put it back
    const p = priority(v);
    if (queue.length && p > queue.minKey()) {
      queue.push(v, p);
      continue;
    }
    simulate(v, true);
    contracted[v] = 1;
    rank[v] = next++;
    for (const a of outs[v].values()) {
      if (contracted[a.to]) continue;
      upLists[v].push(a);
      contractedNeighbours[a.to]++;
      level[a.to] = Math.max(level[a.to], level[v] + 1);
    }
    for (const a of ins[v].values()) {
      if (contracted[a.to]) continue;
      downLists[v].push(a);
      contractedNeighbours[a.to]++;
      level[a.to] = Math.max(level[a.to], level[v] + 1);
    }
  }

  const pack = (lists: Arc[][]) => {
    const first = new Uint32Array(n + 1);
    for (let v = 0; v < n; v++) first[v + 1] = first[v] + lists[v].length;
    const head = new Uint32Array(first[n]);
    const weight = new Int32Array(first[n]);
    const mid = new Int32Array(first[n]);
    const dur = new Int32Array(first[n]);
    const len = new Float64Array(first[n]);
    for (let v = 0; v < n; v++) {
      // sorted by head so unpacking can find an arc deterministically
      const sorted = lists[v].slice().sort((a, b) => a.to - b.to || a.w - b.w);
      let k = first[v];
      for (const a of sorted) {
        head[k] = a.to;
        weight[k] = a.w;
        mid[k] = a.mid;
        dur[k] = a.d;
        len[k] = a.len;
        k++;
      }
    }
    return { first, head, weight, mid, dur, len };
  };
  const up = pack(upLists);
  const down = pack(downLists);
  return {
    numNodes: n,
    rank,
    upFirst: up.first,
    upHead: up.head,
    upWeight: up.weight,
    upMid: up.mid,
    upDur: up.dur,
    upLen: up.len,
    downFirst: down.first,
    downHead: down.head,
    downWeight: down.weight,
    downMid: down.mid,
    downDur: down.dur,
    downLen: down.len,
  };
}
