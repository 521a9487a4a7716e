import type { Location, LocationId } from './types.ts';

/**
 * Routing as the dispatcher sees it. The server plugs in the road-graph engine (many-to-many matrices with
 * caching); tests use hand-built oracles. Contract:
 * - `time` is the bus's travel time in SECONDS, `distance` the driven distance in METRES of the same route.
 * - Both are 0 for the same location id, finite and ≥ 0 otherwise (Infinity = unreachable).
 * - Pure and deterministic for the lifetime of a dispatcher call (the dispatcher may cache answers).
 * - Should (approximately) satisfy the triangle inequality, as shortest paths do; the dispatcher re-checks
 *   every committed plan exactly, so small violations (rounding) cost at most a rejected candidate.
 * - `matrix` is optional: when present the dispatcher fetches all legs to and from a new request's pickup and
 *   drop-off with two calls (one-to-many / many-to-one) instead of one `time`+`distance` pair per leg.
 */
export interface TravelTimeOracle {
  time(from: Location, to: Location): number;
  distance(from: Location, to: Location): number;
  matrix?(froms: readonly Location[], tos: readonly Location[]): OracleMatrix;
}

/** Row-major: `times[i][j]` seconds and `distances[i][j]` metres from `froms[i]` to `tos[j]`. */
export interface OracleMatrix {
  readonly times: ReadonlyArray<ArrayLike<number>>;
  readonly distances: ReadonlyArray<ArrayLike<number>>;
}

const EARTH_R = 6_371_008.8;

/** Great-circle distance in metres (for the crow-fly oracle and hub proximity; not for routing). */
export function haversineM(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_R * Math.asin(Math.min(1, Math.sqrt(s)));
}

/**
 * Straight line × detour factor at a constant speed. For benchmarks, tests and a fallback when no road graph
 * is loaded; it satisfies the triangle inequality.
 */
export class CrowFlyOracle implements TravelTimeOracle {
  private readonly mps: number;
  constructor(
    private readonly opts: { speedKmh?: number; detourFactor?: number } = {},
  ) {
    this.mps = (opts.speedKmh ?? 25) / 3.6;
  }
  distance(from: Location, to: Location): number {
    if (from.id === to.id) return 0;
    return haversineM(from, to) * (this.opts.detourFactor ?? 1.3);
  }
  time(from: Location, to: Location): number {
    return this.distance(from, to) / this.mps;
  }
  matrix(froms: readonly Location[], tos: readonly Location[]): OracleMatrix {
    const distances = froms.map((f) => tos.map((t) => this.distance(f, t)));
    return { times: distances.map((row) => row.map((m) => m / this.mps)), distances };
  }
}

/** Explicit matrix keyed by location id (hand-built test cases). Missing pairs are unreachable. */
export class MatrixOracle implements TravelTimeOracle {
  private readonly t = new Map<LocationId, Map<LocationId, number>>();
  private readonly d = new Map<LocationId, Map<LocationId, number>>();
  /** `entries`: [from, to, seconds, metres?]; metres default to seconds × 8 (≈ 29 km/h). */
  constructor(entries: ReadonlyArray<readonly [LocationId, LocationId, number, number?]>, symmetric = true) {
    for (const [a, b, s, m] of entries) {
      this.set(a, b, s, m ?? s * 8);
      if (symmetric) this.set(b, a, s, m ?? s * 8);
    }
  }
  private set(a: LocationId, b: LocationId, s: number, m: number): void {
    if (!this.t.has(a)) this.t.set(a, new Map()), this.d.set(a, new Map());
    this.t.get(a)!.set(b, s);
    this.d.get(a)!.set(b, m);
  }
  time(from: Location, to: Location): number {
    if (from.id === to.id) return 0;
    return this.t.get(from.id)?.get(to.id) ?? Infinity;
  }
  distance(from: Location, to: Location): number {
    if (from.id === to.id) return 0;
    return this.d.get(from.id)?.get(to.id) ?? Infinity;
  }
}

/**
 * Memoises another oracle's answers per (from, to) id pair, bounded (oldest entries dropped first).
 * The server should wrap a road-graph oracle in this, or cache inside it.
 */
export class CachedOracle implements TravelTimeOracle {
  private readonly cache = new Map<string, readonly [number, number]>();
  constructor(
    private readonly inner: TravelTimeOracle,
    private readonly maxEntries = 200_000,
  ) {}
  private get(from: Location, to: Location): readonly [number, number] {
    const key = `${from.id}\u0000${to.id}`;
    let v = this.cache.get(key);
    if (!v) {
      v = [this.inner.time(from, to), this.inner.distance(from, to)];
      if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(key, v);
    }
    return v;
  }
  time(from: Location, to: Location): number {
    return this.get(from, to)[0];
  }
  distance(from: Location, to: Location): number {
    return this.get(from, to)[1];
  }
  matrix(froms: readonly Location[], tos: readonly Location[]): OracleMatrix {
    if (this.inner.matrix) return this.inner.matrix(froms, tos);
    return {
      times: froms.map((f) => tos.map((t) => this.time(f, t))),
      distances: froms.map((f) => tos.map((t) => this.distance(f, t))),
    };
  }
}
