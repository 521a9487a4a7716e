/** OSRM v5 response shapes (the subset we emit), so that OSRM clients and osrm-text-instructions accept them. */
export type LonLat = [number, number];

export interface OsrmManeuver {
  type: string;
  modifier?: string;
  location: LonLat;
  bearing_before: number;
  bearing_after: number;
  exit?: number;
}
export interface OsrmIntersection {
  location: LonLat;
  bearings: number[];
  entry: boolean[];
  in?: number;
  out?: number;
}
export interface OsrmStep {
  distance: number;
  duration: number;
  weight: number;
  name: string;
  ref?: string;
  mode: 'driving';
  driving_side: 'right';
  geometry: { type: 'LineString'; coordinates: LonLat[] };
  maneuver: OsrmManeuver;
  intersections: OsrmIntersection[];
  /** text instruction, added by the engine when a language is requested (not part of OSRM's own output) */
  instruction?: string;
}
export interface OsrmLeg {
  distance: number;
  duration: number;
  weight: number;
  summary: string;
  steps: OsrmStep[];
}
export interface OsrmRoute {
  distance: number;
  duration: number;
  weight: number;
  weight_name: 'routability';
  geometry: { type: 'LineString'; coordinates: LonLat[] };
  legs: OsrmLeg[];
}
export interface OsrmWaypoint {
  name: string;
  location: LonLat;
  distance: number;
  hint?: string;
}
export interface OsrmRouteResponse {
  code: 'Ok' | 'NoRoute' | 'NoSegment' | 'InvalidInput';
  message?: string;
  routes: OsrmRoute[];
  waypoints: OsrmWaypoint[];
}
export interface OsrmTableResponse {
  code: 'Ok' | 'NoSegment' | 'InvalidInput';
  durations: (number | null)[][];
  distances: (number | null)[][];
  sources: OsrmWaypoint[];
  destinations: OsrmWaypoint[];
}
