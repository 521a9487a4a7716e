/**
 * The road graph as flat typed arrays (cheap to cache on disk and to load: a warm start maps them back).
 *
 * - Intersections ("nodes") are OSM nodes where drivable ways meet, end, or carry a turn restriction.
 * - Segments run between two intersections along one way; their shape is a slice of coordLat/coordLon.
 * - The routing graph is edge-based (as OSRM's): an edge-based node (EBN) is a segment driven in one
 *   direction, ebn = 2·seg + dir (dir 0: from→to, 1: to→from). An arc EBN a → EBN b is a legal turn at the node
 *   where a ends and b starts; its cost is the turn penalty plus the cost of driving all of b. This is what lets
 *   turn restrictions and turn costs be exact.
 * - Costs are integer milliseconds, so every search adds integers and CH and Dijkstra agree to the unit.
 *   `weight` is what the search minimises (duration plus a penalty on destination-only roads); `duration` is
 *   the honest travel time reported to users.
 */
export interface RoadGraph {
  numNodes: number;
  nodeLat: Float64Array;
  nodeLon: Float64Array;
  nodeOsmId: Float64Array;
  /** node flags: 1 = traffic signals, 2 = blocking barrier */
  nodeFlags: Uint8Array;
  /** CSR: segments touching each node (value = 2·seg + end, end 0 = segment starts here, 1 = ends here) */
  nodeSegFirst: Uint32Array;
  nodeSegList: Uint32Array;

  numSegs: number;
  segFrom: Uint32Array;
  segTo: Uint32Array;
  /** coordinates of segment s are coord[segGeomFirst[s] .. segGeomFirst[s+1]) */
  segGeomFirst: Uint32Array;
  coordLat: Float64Array;
  coordLon: Float64Array;
  /** cumulative metres along the segment at each of its coordinates (same indexing as coordLat) */
  coordCum: Float64Array;
  segLength: Float64Array;
  /** per EBN (2·seg + dir): -1 when that direction may not be driven */
  ebnWeight: Int32Array;
  ebnDuration: Int32Array;
  /** speed in km/h per EBN, for the simulated buses and the cockpit's speed limit (0 when not drivable) */
  ebnSpeed: Float32Array;
  segClass: Uint8Array;
  segName: Int32Array;
  segRef: Int32Array;
  /** 1 = roundabout, 2 = destination-only, 4 = in the largest strongly connected component (routable) */
  segFlags: Uint8Array;
  segWayId: Float64Array;

  /** edge-based graph (CSR over EBNs): arc → head EBN, turn cost (ms) in weight and in duration */
  arcFirst: Uint32Array;
  arcHead: Uint32Array;
  arcTurnWeight: Int32Array;
  arcTurnDuration: Int32Array;

  strings: string[];
  classes: string[];
  bounds: { minLat: number; minLon: number; maxLat: number; maxLon: number };
}

export const SEG_ROUNDABOUT = 1;
export const SEG_DESTINATION = 2;
export const SEG_MAIN_COMPONENT = 4;
export const NODE_SIGNALS = 1;
export const NODE_BARRIER = 2;

export function ebnOf(seg: number, dir: 0 | 1): number {
  return seg * 2 + dir;
}
export function segOf(ebn: number): number {
  return ebn >> 1;
}
export function dirOf(ebn: number): 0 | 1 {
  return (ebn & 1) as 0 | 1;
}
/** node where an EBN starts / ends */
export function ebnTail(g: RoadGraph, ebn: number): number {
  return ebn & 1 ? g.segTo[ebn >> 1] : g.segFrom[ebn >> 1];
}
export function ebnHead(g: RoadGraph, ebn: number): number {
  return ebn & 1 ? g.segFrom[ebn >> 1] : g.segTo[ebn >> 1];
}
