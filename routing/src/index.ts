export { RoutingEngine, RouteError, defaultOsmFile, DEFAULT_OSM_FILE, type LatLon, type Travel, type LoadOptions, type LoadInfo } from './engine.ts';
export { SnapError, MAX_SNAP_DISTANCE_M } from './graph/snap.ts';
export type { Phantom } from './graph/phantom.ts';
export type { RoadGraph } from './graph/types.ts';
export { instructionFor, annotateLegs, LANGUAGES, type Lang } from './osrm/instructions.ts';
export type * from './osrm/types.ts';
export { basemapLayers, type BBox, type MapFeatures } from './map/features.ts';
export { OsrmHttpBackend } from './osrm/http-backend.ts';
