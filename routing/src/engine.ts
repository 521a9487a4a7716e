import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { contract, type ContractionHierarchy } from './ch/contract.ts';
import { CHQuery, type SearchSpace } from './ch/query.ts';
import { buildRoadGraph, type BuildStats } from './graph/build.ts';
import { cachePath, fileHash, readCache, writeCache } from './graph/cache.ts';
import { Dijkstra, type PathResult } from './graph/dijkstra.ts';
import { reverseArcs, searchProblem, sourceSeeds, targetSeeds, type Phantom, type ReverseArcs } from './graph/phantom.ts';
import { Snapper, SnapError } from './graph/snap.ts';
import type { RoadGraph } from './graph/types.ts';
import { readOsmFile } from './osm/read.ts';
import { assembleLeg, drives } from './osrm/assemble.ts';
import { annotateLegs, type Lang } from './osrm/instructions.ts';
import type { LonLat, OsrmLeg, OsrmRouteResponse, OsrmTableResponse, OsrmWaypoint } from './osrm/types.ts';
import { extractMapFeatures, type MapFeatures } from './map/features.ts';

export interface LatLon {
  lat: number;
  lon: number;
}

export interface LoadOptions {
  /** OSM XML (.osm or .osm.gz); default: OSM_FILE or ../shared/osm/kaiserslautern.osm.gz */
  osmFile?: string;
  /** where the built graph is cached; default: <repo>/.cache/routing */
  cacheDir?: string;
  /** ignore an existing cache */
  rebuild?: boolean;
  log?: (msg: string) => void;
}

export interface LoadInfo {
  source: 'cache' | 'build';
  millis: number;
  cacheFile: string;
  stats?: BuildStats;
}

const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const DEFAULT_OSM_FILE = resolve(REPO_ROOT, '..', 'shared', 'osm', 'kaiserslautern.osm.gz');

export function defaultOsmFile(): string {
  return process.env.OSM_FILE ? resolve(process.env.OSM_FILE) : DEFAULT_OSM_FILE;
}


export class RouteError extends Error {
  constructor(
    readonly code: 'NoSegment' | 'NoRoute' | 'InvalidInput',
    message: string,
  ) {
    super(message);
  }
}

/** A travel between two road positions: integer-ms weight and duration, metres. */
export interface Travel {
  weight: number;
  duration: number;
  distance: number;
}

/**
 * The routing engine: road graph + contraction hierarchy + snapping, with OSRM-shaped answers.
 * Load once (`RoutingEngine.load`), then query synchronously; queries are exact and allocation-light.
 */
export class RoutingEngine {
  readonly snapper: Snapper;
  readonly rev: ReverseArcs;
  private readonly chq: CHQuery;
  private dijkstraInstance: Dijkstra | null = null;
  /** road closures: per segment 1 = closed. While any is set, queries use Dijkstra (a CH would need re-contraction). */
  private closed: Uint8Array | null = null;
  private features: MapFeatures | null = null;

  private constructor(
    readonly graph: RoadGraph,
    readonly ch: ContractionHierarchy,
    readonly info: LoadInfo,
    private readonly osmFile: string,
    private readonly cacheDir: string,
  ) {
    this.rev = reverseArcs(graph);
    this.snapper = new Snapper(graph);
    this.chq = new CHQuery(ch);
  }

  static async load(opts: LoadOptions = {}): Promise<RoutingEngine> {
    const t0 = performance.now();
    const osmFile = opts.osmFile ? resolve(opts.osmFile) : defaultOsmFile();
    const cacheDir = opts.cacheDir ?? resolve(REPO_ROOT, '.cache', 'routing');
    try {
      await stat(osmFile);
    } catch {
      throw new Error(`OSM file not found: ${osmFile} (set OSM_FILE to an .osm or .osm.gz extract)`);
    }
    const hash = await fileHash(osmFile);
    const file = cachePath(cacheDir, hash);
    if (!opts.rebuild) {
      const cached = await readCache<RoadGraph & { chData: ContractionHierarchy } & Record<string, unknown>>(file);
      if (cached) {
        const { graph, ch } = splitCached(cached);
        const info: LoadInfo = { source: 'cache', millis: performance.now() - t0, cacheFile: file };
        opts.log?.(`routing: graph loaded from cache ${file} in ${info.millis.toFixed(0)} ms`);
        return new RoutingEngine(graph, ch, info, osmFile, cacheDir);
      }
    }
    opts.log?.(`routing: building graph from ${osmFile} (first start; cached afterwards)`);
    const osm = await readOsmFile(osmFile);
    const { graph, stats } = buildRoadGraph(osm);
    const ch = contract(graph);
    const features = extractMapFeatures(osm);
    await writeCache(file, joinCached(graph, ch));
    await writeCache(featuresPath(file), { features: JSON.stringify(features) });
    const info: LoadInfo = { source: 'build', millis: performance.now() - t0, cacheFile: file, stats };
    opts.log?.(`routing: built ${stats.segments} segments, ${stats.arcs} turns in ${info.millis.toFixed(0)} ms`);
    const engine = new RoutingEngine(graph, ch, info, osmFile, cacheDir);
    engine.features = features;
    return engine;
  }

  /** Nearest road position; throws SnapError (code NO_ROAD) beyond 500 m. */
  snap(lat: number, lon: number): Phantom {
    return this.snapper.snap(lat, lon);
  }

  /** Shortest path between two road positions with the contraction hierarchy (or plain Dijkstra, for reference). */
  path(src: Phantom, tgt: Phantom, algorithm: 'ch' | 'dijkstra' = 'ch'): PathResult {
    const problem = searchProblem(this.graph, this.rev, src, tgt);
    if (algorithm === 'dijkstra' || this.closed) {
      this.dijkstraInstance ??= new Dijkstra(this.graph);
      this.dijkstraInstance.blocked = this.closed;
      const r = this.dijkstraInstance.route(problem);
      this.dijkstraInstance.blocked = null;
      return r;
    }
    return this.chq.route(problem);
  }

  /**
   * Closes road segments (a road closure) or reopens all with an empty list. Exact answers continue through plain
   * Dijkstra with the closed segments removed: about 1 ms a query here, instead of re-contracting the hierarchy.
   */
  setClosedSegments(segs: Iterable<number>): void {
    const c = new Uint8Array(this.graph.numSegs);
    let any = false;
    for (const s of segs) {
      if (s >= 0 && s < c.length) {
        c[s] = 1;
        any = true;
      }
    }
    this.closed = any ? c : null;
  }

  closedSegments(): number[] {
    const out: number[] = [];
    if (this.closed) for (let s = 0; s < this.closed.length; s++) if (this.closed[s]) out.push(s);
    return out;
  }

  /** Segments of a named street, optionally only those within `radiusM` of a point. */
  segmentsNamed(name: string, near?: { lat: number; lon: number; radiusM: number }): number[] {
    const g = this.graph;
    const id = g.strings.indexOf(name);
    if (id < 0) return [];
    const out: number[] = [];
    for (let s = 0; s < g.numSegs; s++) {
      if (g.segName[s] !== id) continue;
      if (near) {
        const k = g.segGeomFirst[s];
        const dLat = (g.coordLat[k] - near.lat) * 111_320, dLon = (g.coordLon[k] - near.lon) * 111_320 * Math.cos((near.lat * Math.PI) / 180);
        if (Math.hypot(dLat, dLon) > near.radiusM) continue;
      }
      out.push(s);
    }
    return out;
  }

  /** Travel time and distance between two road positions (null when unreachable), without building geometry. */
  cost(src: Phantom, tgt: Phantom): Travel | null {
    if (this.closed) return this.travel(src, tgt);
    const c = this.chq.cost(searchProblem(this.graph, this.rev, src, tgt));
    return c.weight === Infinity ? null : { weight: c.weight, duration: c.duration, distance: c.length };
  }

  /** Travel time and distance between two road positions (null when unreachable). */
  travel(src: Phantom, tgt: Phantom): Travel | null {
    const r = this.path(src, tgt);
    if (r.weight === Infinity) return null;
    const { leg } = assembleLeg(this.graph, src, tgt, r.path);
    return { weight: r.weight, duration: Math.round(leg.duration * 1000), distance: leg.distance };
  }

  /**
   * Many-to-many travel times (ms) and distances (m) between road positions, row-major. Pairs on the same
   * segment are answered by a point-to-point query, because a bucket search cannot model "drive round the
   * block back to a point behind you".
   */
  matrix(sources: Phantom[], targets: Phantom[]): { duration: Float64Array; distance: Float64Array; weight: Float64Array } {
    const g = this.graph;
    if (this.closed) {
      // closures: no hierarchy; answer cell by cell with the blocked Dijkstra
      const n = sources.length * targets.length;
      const out = { duration: new Float64Array(n), distance: new Float64Array(n), weight: new Float64Array(n) };
      for (let i = 0; i < sources.length; i++) {
        for (let j = 0; j < targets.length; j++) {
          const t = this.travel(sources[i], targets[j]);
          const c = i * targets.length + j;
          out.weight[c] = t ? t.weight : Infinity;
          out.duration[c] = t ? t.duration : Infinity;
          out.distance[c] = t ? t.distance : Infinity;
        }
      }
      return out;
    }
    const res = this.chq.matrixFromSpaces(
      sources.map((p) => this.spaceOf(p, 'forward')),
      targets.map((p) => this.spaceOf(p, 'backward')),
    );
    for (let i = 0; i < sources.length; i++) {
      for (let j = 0; j < targets.length; j++) {
        if (sources[i].seg !== targets[j].seg) continue;
        const cell = i * targets.length + j;
        const t = this.travel(sources[i], targets[j]);
        res.weight[cell] = t ? t.weight : Infinity;
        res.duration[cell] = t ? t.duration : Infinity;
        res.length[cell] = t ? t.distance : Infinity;
      }
    }
    return { duration: res.duration, distance: res.length, weight: res.weight };
  }

  /**
   * Computes a position's search spaces now (both directions), so a later matrix over it only meets them: lets a
   * caller spread that work over several event-loop turns instead of paying it inside one call.
   */
  prepare(p: Phantom): void {
    if (this.closed) return;
    this.spaceOf(p, 'forward');
    this.spaceOf(p, 'backward');
  }

  private readonly fwdSpaces = new WeakMap<Phantom, SearchSpace>();
  private readonly bwdSpaces = new WeakMap<Phantom, SearchSpace>();
  /** A position's CH search space, computed once per phantom object (callers reuse phantoms for places they revisit). */
  private spaceOf(p: Phantom, dir: 'forward' | 'backward'): SearchSpace {
    const cache = dir === 'forward' ? this.fwdSpaces : this.bwdSpaces;
    let sp = cache.get(p);
    if (!sp) {
      sp = this.chq.space(dir === 'forward' ? sourceSeeds(this.graph, p) : targetSeeds(this.graph, p), dir);
      cache.set(p, sp);
    }
    return sp;
  }

  /** OSRM `table` service: durations (s) and distances (m) between coordinates. */
  table(sources: LatLon[], destinations: LatLon[]): OsrmTableResponse {
    const sp = sources.map((p) => this.snap(p.lat, p.lon));
    const dp = destinations.map((p) => this.snap(p.lat, p.lon));
    const m = this.matrix(sp, dp);
    const rows = (arr: Float64Array, scale: number) =>
      sp.map((_, i) => dp.map((__, j) => (Number.isFinite(arr[i * dp.length + j]) ? Math.round((arr[i * dp.length + j] / scale) * 10) / 10 : null)));
    return {
      code: 'Ok',
      durations: rows(m.duration, 1000),
      distances: rows(m.distance, 1),
      sources: sp.map((p) => this.waypoint(p)),
      destinations: dp.map((p) => this.waypoint(p)),
    };
  }

  /** OSRM `route` service through two or more coordinates (one leg between each consecutive pair). */
  route(points: LatLon[], opts: { lang?: Lang; steps?: boolean } = {}): OsrmRouteResponse {
    if (points.length < 2) throw new RouteError('InvalidInput', 'a route needs at least two coordinates');
    let phantoms: Phantom[];
    try {
      phantoms = points.map((p) => this.snap(p.lat, p.lon));
    } catch (e) {
      if (e instanceof SnapError) return { code: 'NoSegment', message: e.message, routes: [], waypoints: [] };
      throw e;
    }
    return this.routePhantoms(phantoms, opts);
  }

  routePhantoms(phantoms: Phantom[], opts: { lang?: Lang; steps?: boolean } = {}): OsrmRouteResponse {
    const legs: OsrmLeg[] = [];
    const coords: LonLat[] = [];
    for (let i = 1; i < phantoms.length; i++) {
      const r = this.path(phantoms[i - 1], phantoms[i]);
      if (r.weight === Infinity) {
        return { code: 'NoRoute', message: `no route between waypoints ${i - 1} and ${i}`, routes: [], waypoints: phantoms.map((p) => this.waypoint(p)) };
      }
      const { leg, coords: c } = assembleLeg(this.graph, phantoms[i - 1], phantoms[i], r.path);
      legs.push(leg);
      for (const p of c) {
        const last = coords[coords.length - 1];
        if (!last || last[0] !== p[0] || last[1] !== p[1]) coords.push(p);
      }
    }
    if (opts.lang) annotateLegs(legs, opts.lang);
    if (opts.steps === false) for (const l of legs) l.steps = [];
    const sum = (k: 'distance' | 'duration' | 'weight') => Math.round(legs.reduce((x, l) => x + l[k], 0) * 10) / 10;
    return {
      code: 'Ok',
      routes: [
        {
          distance: sum('distance'),
          duration: sum('duration'),
          weight: sum('weight'),
          weight_name: 'routability',
          geometry: { type: 'LineString', coordinates: coords.length >= 2 ? coords : [coords[0], coords[0]] },
          legs,
        },
      ],
      waypoints: phantoms.map((p) => this.waypoint(p)),
    };
  }

  /**
   * The road geometry through a sequence of positions for a vehicle to drive: coordinates, the speed (km/h) of
   * each piece (piece k runs from coordinate k to k+1), and the coordinate index at which each waypoint after
   * the first is reached. Null when a leg has no route.
   */
  drivePath(phantoms: Phantom[]): { coordinates: LonLat[]; speedsKmh: number[]; stopIndices: number[]; durationMs: number; distance: number } | null {
    const coordinates: LonLat[] = [];
    const speedsKmh: number[] = [];
    const stopIndices: number[] = [];
    let durationMs = 0, distance = 0;
    for (let i = 1; i < phantoms.length; i++) {
      const r = this.path(phantoms[i - 1], phantoms[i]);
      if (r.weight === Infinity) return null;
      for (const d of drives(this.graph, phantoms[i - 1], phantoms[i], r.path)) {
        durationMs += d.durationMs;
        distance += d.distance;
        const speed = this.graph.ebnSpeed[d.ebn];
        for (const c of d.coords) {
          const last = coordinates[coordinates.length - 1];
          if (last && last[0] === c[0] && last[1] === c[1]) continue;
          if (coordinates.length) speedsKmh.push(speed);
          coordinates.push(c);
        }
      }
      if (coordinates.length === 0) coordinates.push([phantoms[i].lon, phantoms[i].lat]);
      stopIndices.push(coordinates.length - 1);
    }
    if (coordinates.length === 0 && phantoms.length) coordinates.push([phantoms[0].lon, phantoms[0].lat]);
    return { coordinates, speedsKmh, stopIndices, durationMs, distance };
  }

  waypoint(p: Phantom): OsrmWaypoint {
    const s = this.graph.segName[p.seg];
    return { name: s >= 0 ? this.graph.strings[s] : '', location: [round6(p.lon), round6(p.lat)], distance: Math.round(p.snapDistance * 100) / 100 };
  }

  /** Map features (roads, buildings, water, green, rail) of the extract; loaded lazily from the cache. */
  async mapFeatures(): Promise<MapFeatures> {
    if (this.features) return this.features;
    const cached = await readCache<{ features: string }>(featuresPath(this.info.cacheFile));
    if (cached) this.features = JSON.parse(cached.features) as MapFeatures;
    else {
      this.features = extractMapFeatures(await readOsmFile(this.osmFile));
      await writeCache(featuresPath(this.info.cacheFile), { features: JSON.stringify(this.features) });
    }
    return this.features;
  }

  get cacheDirectory(): string {
    return this.cacheDir;
  }
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
const featuresPath = (graphFile: string) => graphFile.replace(/\.bin$/, '.features.bin');

const CH_PREFIX = 'ch_';
function joinCached(g: RoadGraph, ch: ContractionHierarchy): Record<string, unknown> {
  const out: Record<string, unknown> = { ...g };
  for (const [k, v] of Object.entries(ch)) out[CH_PREFIX + k] = v;
  return out;
}
function splitCached(obj: Record<string, unknown>): { graph: RoadGraph; ch: ContractionHierarchy } {
  const graph: Record<string, unknown> = {};
  const ch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k.startsWith(CH_PREFIX)) ch[k.slice(CH_PREFIX.length)] = v;
    else graph[k] = v;
  }
  return { graph: graph as unknown as RoadGraph, ch: ch as unknown as ContractionHierarchy };
}
