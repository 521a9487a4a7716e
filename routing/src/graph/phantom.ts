import type { RoadGraph } from './types.ts';

/**
 * A position on the road: a point on segment `seg` at `fraction` of its length (OSRM's "phantom node").
 * Searches start and end at phantoms, not at intersections, so a bus stopping mid-block is routed exactly.
 */
export interface Phantom {
  seg: number;
  /** 0..1 along the segment's length from segFrom to segTo */
  fraction: number;
  /** index of the segment's coordinate piece the point lies on (piece k runs from coord k to k+1) */
  piece: number;
  lat: number;
  lon: number;
  /** the coordinate that was snapped, and its distance to the road in metres */
  inputLat: number;
  inputLon: number;
  snapDistance: number;
}

/** A search seed: start (or end) at EBN `ebn` with this initial cost, in integer ms. */
export interface Seed {
  ebn: number;
  /** weight (what the search minimises) */
  offset: number;
  /** the same stretch as travel time (ms) and as metres, carried along for matrices */
  dur: number;
  len: number;
}

/**
 * Source seeds: being at the phantom, the cost to reach the end of each drivable direction of its segment.
 * Costs are rounded to integer ms once here, so every algorithm that uses these seeds adds the same integers.
 */
export function sourceSeeds(g: RoadGraph, p: Phantom): Seed[] {
  const seeds: Seed[] = [];
  const fwd = p.seg * 2, bwd = fwd + 1, len = g.segLength[p.seg];
  const ahead = 1 - p.fraction;
  if (g.ebnWeight[fwd] >= 0) seeds.push({ ebn: fwd, offset: Math.round(ahead * g.ebnWeight[fwd]), dur: Math.round(ahead * g.ebnDuration[fwd]), len: ahead * len });
  if (g.ebnWeight[bwd] >= 0) seeds.push({ ebn: bwd, offset: Math.round(p.fraction * g.ebnWeight[bwd]), dur: Math.round(p.fraction * g.ebnDuration[bwd]), len: p.fraction * len });
  return seeds;
}

/** Target seeds: reaching the end of an EBN costs this much more (negative) than reaching the phantom on it. */
export function targetSeeds(g: RoadGraph, p: Phantom): Seed[] {
  return sourceSeeds(g, p).map((s) => ({ ebn: s.ebn, offset: -s.offset, dur: -s.dur, len: -s.len }));
}

/**
 * The exact problem both the CH query and the reference Dijkstra solve: start seeds, end seeds and the
 * direct cost when both phantoms lie on the same segment in driving order.
 *
 * When the target lies *behind* the source on the same EBN, the path must leave and come back; a label-setting
 * search cannot re-enter its start EBN, so that target EBN is replaced by seeds on its predecessors
 * (cost of the arc into it included). Both algorithms then see the same seeds and stay comparable.
 */
export interface SearchProblem {
  sources: Seed[];
  targets: Seed[];
  /** cost of driving straight from source to target along their common segment, or Infinity */
  direct: number;
  /** EBN of the direct path (for path reconstruction), -1 if none */
  directEbn: number;
  /** for a predecessor seed, the target EBN it stands in for */
  targetVia: Map<number, number>;
}

export interface ReverseArcs {
  revFirst: Uint32Array;
  /** tail EBN of the arc */
  revTail: Uint32Array;
  /** index of the arc in the forward CSR */
  revArc: Uint32Array;
}

export function reverseArcs(g: RoadGraph): ReverseArcs {
  const n = g.numSegs * 2;
  const count = new Uint32Array(n + 1);
  for (let k = 0; k < g.arcHead.length; k++) count[g.arcHead[k] + 1]++;
  for (let v = 0; v < n; v++) count[v + 1] += count[v];
  const revFirst = count.slice();
  const fill = count.slice(0, n);
  const revTail = new Uint32Array(g.arcHead.length);
  const revArc = new Uint32Array(g.arcHead.length);
  for (let a = 0; a < n; a++) {
    for (let k = g.arcFirst[a]; k < g.arcFirst[a + 1]; k++) {
      const b = g.arcHead[k];
      revTail[fill[b]] = a;
      revArc[fill[b]++] = k;
    }
  }
  return { revFirst, revTail, revArc };
}

export function searchProblem(g: RoadGraph, rev: ReverseArcs, src: Phantom, tgt: Phantom): SearchProblem {
  const sources = sourceSeeds(g, src);
  const rawTargets = targetSeeds(g, tgt);
  let direct = Infinity, directEbn = -1;
  const targets: Seed[] = [];
  const targetVia = new Map<number, number>();
  for (const t of rawTargets) {
    const s = sources.find((x) => x.ebn === t.ebn);
    if (s) {
      const d = s.offset + t.offset;
      if (d >= 0) {
        // target ahead of source on the same EBN: the direct drive is a candidate, and t stays a normal seed
        if (d < direct) {
          direct = d;
          directEbn = t.ebn;
        }
      } else {
        for (let k = rev.revFirst[t.ebn]; k < rev.revFirst[t.ebn + 1]; k++) {
          const p = rev.revTail[k];
          const arc = rev.revArc[k];
          const seed: Seed = {
            ebn: p,
            offset: t.offset + g.arcTurnWeight[arc] + g.ebnWeight[t.ebn],
            dur: t.dur + g.arcTurnDuration[arc] + g.ebnDuration[t.ebn],
            len: t.len + g.segLength[t.ebn >> 1],
          };
          const existing = targets.find((x) => x.ebn === p);
          if (existing && existing.offset <= seed.offset) continue;
          if (existing) Object.assign(existing, seed);
          else targets.push(seed);
          targetVia.set(p, t.ebn);
        }
        continue;
      }
    }
    const existing = targets.find((x) => x.ebn === t.ebn);
    if (existing) {
      if (t.offset < existing.offset) {
        Object.assign(existing, t);
        targetVia.delete(t.ebn);
      }
    } else targets.push({ ...t });
  }
  return { sources, targets, direct, directEbn, targetVia };
}
