import type { OsmData, OsmRelationRec } from '../osm/read.ts';
import {
  carAccess,
  DESTINATION_PENALTY_FACTOR,
  drivableClass,
  isRoundabout,
  onewayOf,
  TRAFFIC_SIGNAL_PENALTY_S,
  turnPenaltySeconds,
  wayspeedKmh,
  type Tags,
} from '../profile.ts';
import { bearingDeg, distanceM, turnAngle } from './geo.ts';
import { NODE_BARRIER, NODE_SIGNALS, SEG_DESTINATION, SEG_MAIN_COMPONENT, SEG_ROUNDABOUT, type RoadGraph } from './types.ts';

/** Barriers a car cannot pass (OSRM car.lua treats the rest — gates, lift gates, cattle grids — as passable). */
const BLOCKING_BARRIERS = new Set(['bollard', 'block', 'chain', 'jersey_barrier', 'kerb', 'log', 'fence', 'wall', 'debris', 'planter', 'bus_trap', 'sump_buster', 'rope', 'kissing_gate', 'stile', 'turnstile', 'swing_gate', 'full-height_turnstile', 'motorcycle_barrier']);

export interface BuildStats {
  drivableWays: number;
  segments: number;
  arcs: number;
  restrictions: { applied: number; skipped: number };
  mainComponentSegments: number;
}

interface Restriction {
  fromWay: number;
  toWay: number;
  only: boolean;
}

/** `except=psv;bicycle` exempts our minibus (a public service vehicle) from the restriction. */
function exemptsBus(tags: Tags): boolean {
  const except = tags.except;
  if (!except) return false;
  return except.split(';').some((v) => ['psv', 'bus', 'motorcar', 'motor_vehicle'].includes(v.trim()));
}

function parseRestriction(rel: OsmRelationRec): (Restriction & { via: number }) | null {
  const kind = rel.tags['restriction:motorcar'] ?? rel.tags['restriction:bus'] ?? rel.tags.restriction;
  if (!kind || exemptsBus(rel.tags)) return null;
  if (!/^(no|only)_/.test(kind)) return null;
  const from = rel.members.filter((m) => m.role === 'from' && m.type === 'way');
  const to = rel.members.filter((m) => m.role === 'to' && m.type === 'way');
  const via = rel.members.filter((m) => m.role === 'via');
  // Only node-via restrictions: way-via ones are rare here and would need a path-based check.
  if (from.length !== 1 || to.length !== 1 || via.length !== 1 || via[0].type !== 'node') return null;
  return { fromWay: from[0].ref, toWay: to[0].ref, via: via[0].ref, only: kind.startsWith('only_') };
}

export function buildRoadGraph(osm: OsmData): { graph: RoadGraph; stats: BuildStats } {
  // 1. drivable ways, split where the extract cut off nodes
  interface WayPiece {
    wayId: number;
    refs: number[]; // osm node indices
    tags: Tags;
    cls: string;
  }
  const pieces: WayPiece[] = [];
  let drivableWays = 0;
  for (const w of osm.ways) {
    const cls = drivableClass(w.tags);
    if (!cls) continue;
    drivableWays++;
    let run: number[] = [];
    for (const ref of w.refs) {
      const idx = osm.nodeIndex.get(ref);
      if (idx === undefined) {
        if (run.length >= 2) pieces.push({ wayId: w.id, refs: run, tags: w.tags, cls });
        run = [];
      } else run.push(idx);
    }
    if (run.length >= 2) pieces.push({ wayId: w.id, refs: run, tags: w.tags, cls });
  }

  // 2. which OSM nodes become intersections
  const restrictions = new Map<number, Restriction[]>(); // via osm node index → restrictions
  let skipped = 0;
  for (const rel of osm.relations) {
    if (rel.tags.type !== 'restriction') continue;
    const r = parseRestriction(rel);
    const viaIdx = r ? osm.nodeIndex.get(r.via) : undefined;
    if (!r || viaIdx === undefined) {
      skipped++;
      continue;
    }
    const list = restrictions.get(viaIdx) ?? [];
    list.push({ fromWay: r.fromWay, toWay: r.toWay, only: r.only });
    restrictions.set(viaIdx, list);
  }
  const nodeFlagOf = (osmIdx: number): number => {
    const t = osm.nodeTags.get(osm.nodeIds[osmIdx]);
    if (!t) return 0;
    let f = 0;
    if (t.highway === 'traffic_signals') f |= NODE_SIGNALS;
    if (t.barrier && BLOCKING_BARRIERS.has(t.barrier) && carAccess(t) !== 'yes') f |= NODE_BARRIER;
    if (t.barrier && BLOCKING_BARRIERS.has(t.barrier) && !t.access && !t.motor_vehicle && !t.motorcar) f |= NODE_BARRIER;
    return f;
  };
  const useCount = new Map<number, number>();
  for (const p of pieces) {
    for (let i = 0; i < p.refs.length; i++) {
      const bump = i === 0 || i === p.refs.length - 1 ? 2 : 1;
      useCount.set(p.refs[i], (useCount.get(p.refs[i]) ?? 0) + bump);
    }
  }
  const graphNodeOf = new Map<number, number>();
  const nodeLat: number[] = [], nodeLon: number[] = [], nodeOsm: number[] = [], nodeFlags: number[] = [];
  const nodeFor = (osmIdx: number): number => {
    let n = graphNodeOf.get(osmIdx);
    if (n === undefined) {
      n = nodeLat.length;
      graphNodeOf.set(osmIdx, n);
      nodeLat.push(osm.lat[osmIdx]);
      nodeLon.push(osm.lon[osmIdx]);
      nodeOsm.push(osm.nodeIds[osmIdx]);
      nodeFlags.push(nodeFlagOf(osmIdx));
    }
    return n;
  };
  const isIntersection = (osmIdx: number): boolean =>
    (useCount.get(osmIdx) ?? 0) >= 2 || restrictions.has(osmIdx) || nodeFlagOf(osmIdx) !== 0;

  // 3. segments between intersections
  const strings: string[] = [];
  const stringId = new Map<string, number>();
  const str = (s: string | undefined): number => {
    if (!s) return -1;
    let id = stringId.get(s);
    if (id === undefined) {
      id = strings.length;
      strings.push(s);
      stringId.set(s, id);
    }
    return id;
  };
  const classes: string[] = [];
  const classId = (c: string): number => {
    let i = classes.indexOf(c);
    if (i < 0) i = classes.push(c) - 1;
    return i;
  };
  const segFrom: number[] = [], segTo: number[] = [], segGeomFirst: number[] = [], coordLat: number[] = [], coordLon: number[] = [], coordCum: number[] = [];
  const segLength: number[] = [], ebnWeight: number[] = [], ebnDuration: number[] = [], ebnSpeed: number[] = [];
  const segClass: number[] = [], segName: number[] = [], segRef: number[] = [], segFlags: number[] = [], segWayId: number[] = [];

  for (const p of pieces) {
    const oneway = onewayOf(p.tags, p.cls);
    const fwdSpeed = wayspeedKmh(p.tags, p.cls, 'forward');
    const bwdSpeed = wayspeedKmh(p.tags, p.cls, 'backward');
    const destination = carAccess(p.tags) === 'destination';
    const flags = (isRoundabout(p.tags) ? SEG_ROUNDABOUT : 0) | (destination ? SEG_DESTINATION : 0);
    const name = str(p.tags.name);
    const ref = str(p.tags.ref);
    const cls = classId(p.cls);
    let start = 0;
    for (let i = 1; i < p.refs.length; i++) {
      if (i !== p.refs.length - 1 && !isIntersection(p.refs[i])) continue;
      const refs = p.refs.slice(start, i + 1);
      start = i;
      segGeomFirst.push(coordLat.length);
      let len = 0;
      for (let k = 0; k < refs.length; k++) {
        if (k > 0) len += distanceM(osm.lat[refs[k - 1]], osm.lon[refs[k - 1]], osm.lat[refs[k]], osm.lon[refs[k]]);
        coordLat.push(osm.lat[refs[k]]);
        coordLon.push(osm.lon[refs[k]]);
        coordCum.push(len);
      }
      segFrom.push(nodeFor(refs[0]));
      segTo.push(nodeFor(refs[refs.length - 1]));
      segLength.push(len);
      for (const [allowed, speed] of [
        [oneway !== 'backward', fwdSpeed],
        [oneway !== 'forward', bwdSpeed],
      ] as const) {
        if (!allowed || len === 0) {
          ebnWeight.push(-1);
          ebnDuration.push(-1);
          ebnSpeed.push(0);
          continue;
        }
        const ms = Math.max(1, Math.round((len / (speed / 3.6)) * 1000));
        ebnDuration.push(ms);
        ebnWeight.push(destination ? ms * DESTINATION_PENALTY_FACTOR : ms);
        ebnSpeed.push(speed);
      }
      segClass.push(cls);
      segName.push(name);
      segRef.push(ref);
      segFlags.push(flags);
      segWayId.push(p.wayId);
    }
  }
  segGeomFirst.push(coordLat.length);
  const numSegs = segFrom.length;
  const numNodes = nodeLat.length;

  // node → incident segment ends (CSR)
  const deg = new Uint32Array(numNodes + 1);
  for (let s = 0; s < numSegs; s++) {
    deg[segFrom[s]]++;
    deg[segTo[s]]++;
  }
  const nodeSegFirst = new Uint32Array(numNodes + 1);
  for (let n = 0; n < numNodes; n++) nodeSegFirst[n + 1] = nodeSegFirst[n] + deg[n];
  const nodeSegList = new Uint32Array(nodeSegFirst[numNodes]);
  const fill = nodeSegFirst.slice(0, numNodes);
  for (let s = 0; s < numSegs; s++) {
    nodeSegList[fill[segFrom[s]]++] = s * 2;
    nodeSegList[fill[segTo[s]]++] = s * 2 + 1;
  }

  // 4. turns (edge-based arcs)
  const inBearing = (ebn: number): number => {
    // bearing of the last piece of the EBN, pointing into its head node
    const s = ebn >> 1, a = segGeomFirst[s], b = segGeomFirst[s + 1] - 1;
    return ebn & 1 ? bearingDeg(coordLat[a + 1], coordLon[a + 1], coordLat[a], coordLon[a]) : bearingDeg(coordLat[b - 1], coordLon[b - 1], coordLat[b], coordLon[b]);
  };
  const outBearing = (ebn: number): number => {
    const s = ebn >> 1, a = segGeomFirst[s], b = segGeomFirst[s + 1] - 1;
    return ebn & 1 ? bearingDeg(coordLat[b], coordLon[b], coordLat[b - 1], coordLon[b - 1]) : bearingDeg(coordLat[a], coordLon[a], coordLat[a + 1], coordLon[a + 1]);
  };
  const nodeOsmIdx = new Int32Array(numNodes);
  for (const [osmIdx, n] of graphNodeOf) nodeOsmIdx[n] = osmIdx;

  const arcsFrom: number[][] = Array.from({ length: numSegs * 2 }, () => []);
  const arcTurnW: number[][] = Array.from({ length: numSegs * 2 }, () => []);
  let applied = 0;
  for (let v = 0; v < numNodes; v++) {
    const ins: number[] = [], outs: number[] = [];
    for (let k = nodeSegFirst[v]; k < nodeSegFirst[v + 1]; k++) {
      const s = nodeSegList[k] >> 1, end = nodeSegList[k] & 1;
      // end 1: segment ends here → forward arrives, backward leaves; end 0: the other way round
      const arrive = end === 1 ? s * 2 : s * 2 + 1;
      const leave = end === 1 ? s * 2 + 1 : s * 2;
      if (ebnWeight[arrive] >= 0) ins.push(arrive);
      if (ebnWeight[leave] >= 0) outs.push(leave);
    }
    const degree = nodeSegFirst[v + 1] - nodeSegFirst[v];
    const barrier = (nodeFlags[v] & NODE_BARRIER) !== 0;
    const signals = (nodeFlags[v] & NODE_SIGNALS) !== 0;
    const rs = restrictions.get(nodeOsmIdx[v]);
    if (rs) applied += rs.length;
    for (const a of ins) {
      const fromWay = segWayId[a >> 1];
      const only = rs?.find((r) => r.only && r.fromWay === fromWay);
      for (const b of outs) {
        const uTurn = b === (a ^ 1);
        // U-turns only where the road ends (or a barrier closes it), as OSRM does by default.
        if (uTurn && degree > 1 && !barrier) continue;
        if (barrier && !uTurn) continue;
        const toWay = segWayId[b >> 1];
        if (only && toWay !== only.toWay) continue;
        if (rs?.some((r) => !r.only && r.fromWay === fromWay && r.toWay === toWay)) continue;
        const angle = uTurn ? 180 : turnAngle(inBearing(a), outBearing(b));
        let turnS = degree > 2 || uTurn ? turnPenaltySeconds(angle) : 0;
        if (signals) turnS += TRAFFIC_SIGNAL_PENALTY_S;
        arcsFrom[a].push(b);
        arcTurnW[a].push(Math.round(turnS * 1000));
      }
    }
  }
  const numEbn = numSegs * 2;
  const arcFirst = new Uint32Array(numEbn + 1);
  for (let e = 0; e < numEbn; e++) arcFirst[e + 1] = arcFirst[e] + arcsFrom[e].length;
  const arcHead = new Uint32Array(arcFirst[numEbn]);
  const arcTurnWeight = new Int32Array(arcFirst[numEbn]);
  for (let e = 0; e < numEbn; e++) {
    arcHead.set(arcsFrom[e], arcFirst[e]);
    arcTurnWeight.set(arcTurnW[e], arcFirst[e]);
  }

  const graph: RoadGraph = {
    numNodes,
    nodeLat: Float64Array.from(nodeLat),
    nodeLon: Float64Array.from(nodeLon),
    nodeOsmId: Float64Array.from(nodeOsm),
    nodeFlags: Uint8Array.from(nodeFlags),
    nodeSegFirst,
    nodeSegList,
    numSegs,
    segFrom: Uint32Array.from(segFrom),
    segTo: Uint32Array.from(segTo),
    segGeomFirst: Uint32Array.from(segGeomFirst),
    coordLat: Float64Array.from(coordLat),
    coordLon: Float64Array.from(coordLon),
    coordCum: Float64Array.from(coordCum),
    segLength: Float64Array.from(segLength),
    ebnWeight: Int32Array.from(ebnWeight),
    ebnDuration: Int32Array.from(ebnDuration),
    ebnSpeed: Float32Array.from(ebnSpeed),
    segClass: Uint8Array.from(segClass),
    segName: Int32Array.from(segName),
    segRef: Int32Array.from(segRef),
    segFlags: Uint8Array.from(segFlags),
    segWayId: Float64Array.from(segWayId),
    arcFirst,
    arcHead,
    arcTurnWeight,
    // turn costs are time, so weight and duration of a turn are the same
    arcTurnDuration: arcTurnWeight,
    strings,
    classes,
    bounds: osm.bounds ?? boundsOf(nodeLat, nodeLon),
  };
  const mainSegs = markMainComponent(graph);
  return {
    graph,
    stats: { drivableWays, segments: numSegs, arcs: arcHead.length, restrictions: { applied, skipped }, mainComponentSegments: mainSegs },
  };
}

function boundsOf(lat: number[], lon: number[]) {
  return { minLat: Math.min(...lat), minLon: Math.min(...lon), maxLat: Math.max(...lat), maxLon: Math.max(...lon) };
}

/**
 * Marks segments whose EBNs lie in the largest strongly connected component of the edge-based graph.
 * Snapping uses only those, so that any two snapped points are mutually reachable (OSRM does the same by
 * preferring "big components").
 */
function markMainComponent(g: RoadGraph): number {
  const n = g.numSegs * 2;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const comp = new Int32Array(n).fill(-1);
  const stack: number[] = [];
  const callStack: number[] = []; // pairs (node, next arc)
  let idx = 0, compCount = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1 || g.ebnWeight[root] < 0) continue;
    callStack.push(root, g.arcFirst[root]);
    index[root] = low[root] = idx++;
    stack.push(root);
    onStack[root] = 1;
    while (callStack.length) {
      const v = callStack[callStack.length - 2];
      const ai = callStack[callStack.length - 1];
      if (ai < g.arcFirst[v + 1]) {
        callStack[callStack.length - 1] = ai + 1;
        const w = g.arcHead[ai];
        if (index[w] === -1) {
          index[w] = low[w] = idx++;
          stack.push(w);
          onStack[w] = 1;
          callStack.push(w, g.arcFirst[w]);
        } else if (onStack[w]) low[v] = Math.min(low[v], index[w]);
      } else {
        callStack.length -= 2;
        if (callStack.length) {
          const parent = callStack[callStack.length - 2];
          low[parent] = Math.min(low[parent], low[v]);
        }
        if (low[v] === index[v]) {
          let w: number;
          do {
            w = stack.pop()!;
            onStack[w] = 0;
            comp[w] = compCount;
          } while (w !== v);
          compCount++;
        }
      }
    }
  }
  const size = new Int32Array(compCount);
  for (let e = 0; e < n; e++) if (comp[e] >= 0) size[comp[e]]++;
  let best = 0;
  for (let c = 1; c < compCount; c++) if (size[c] > size[best]) best = c;
  let count = 0;
  for (let s = 0; s < g.numSegs; s++) {
    if (comp[2 * s] === best || comp[2 * s + 1] === best) {
      g.segFlags[s] |= SEG_MAIN_COMPONENT;
      count++;
    }
  }
  return count;
}
