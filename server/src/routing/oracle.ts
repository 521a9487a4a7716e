import type { Phantom, RoutingEngine } from '@kl/routing';
import type { OracleMatrix, TravelTimeOracle } from '../dispatch/oracle.ts';
import type { Location } from '../dispatch/types.ts';

/**
 * The dispatcher's TravelTimeOracle on the real road graph. A Location's id names its snapped road position
 * (segment + fraction), so equal ids are the same place; the phantom is cached per id and, if evicted, snapped
 * again from the Location's own coordinates. Answers come from the contraction hierarchy (exact), matrices from
 * its bucket many-to-many search.
 */
export class RoadOracle implements TravelTimeOracle {
  private readonly phantoms = new Map<string, Phantom>();
  /** from → to → [seconds, metres]; the dispatcher asks for the same legs again and again (nested maps: no key strings) */
  private pairs = new Map<string, Map<string, readonly [number, number]>>();
  private pairCount = 0;
  private closedVersion = '';
  constructor(
    readonly engine: RoutingEngine,
    private readonly maxCached = 20_000,
  ) {}

  /** Snaps a coordinate and returns the Location the dispatcher should use (throws SnapError off-road). */
  locate(lat: number, lon: number): Location {
    const p = this.engine.snap(lat, lon);
    const id = `p${p.seg}:${Math.round(p.fraction * 10_000)}`;
    if (!this.phantoms.has(id)) this.remember(id, p);
    return { id, lat: p.lat, lon: p.lon };
  }

  private remember(id: string, p: Phantom): void {
    if (this.phantoms.size >= this.maxCached) this.phantoms.delete(this.phantoms.keys().next().value as string);
    this.phantoms.set(id, p);
  }

  phantomOf(loc: Location): Phantom {
    const key = String(loc.id);
    let p = this.phantoms.get(key);
    if (!p) {
      p = this.engine.snap(loc.lat, loc.lon);
      this.remember(key, p);
    }
    return p;
  }

  private checkClosures(): void {
    // closures change answers: a new closure set invalidates the memo
    const closed = this.engine.closedSegments();
    const closedKey = closed.length ? closed.join(',') : '';
    if (closedKey !== this.closedVersion) {
      this.pairs = new Map();
      this.pairCount = 0;
      this.closedVersion = closedKey;
    }
  }

  private memo(from: string, to: string): readonly [number, number] | undefined {
    return this.pairs.get(from)?.get(to);
  }

  private store(from: string, to: string, v: readonly [number, number]): void {
    if (this.pairCount >= this.maxCached * 4) {
      this.pairs = new Map(); // crude but bounded: start over rather than track recency per cell
      this.pairCount = 0;
    }
    let row = this.pairs.get(from);
    if (!row) this.pairs.set(from, (row = new Map()));
    if (!row.has(to)) this.pairCount++;
    row.set(to, v);
  }

  private pair(from: Location, to: Location): readonly [number, number] {
    this.checkClosures();
    const f = String(from.id), t = String(to.id);
    let v = this.memo(f, t);
    if (!v) {
      // duration and distance of the fastest path, without unpacking it
      const c = this.engine.cost(this.phantomOf(from), this.phantomOf(to));
      v = c ? [c.duration / 1000, c.distance] : [Infinity, Infinity];
      this.store(f, t, v);
    }
    return v;
  }

  time(from: Location, to: Location): number {
    if (from.id === to.id) return 0;
    return this.pair(from, to)[0];
  }

  distance(from: Location, to: Location): number {
    if (from.id === to.id) return 0;
    return this.pair(from, to)[1];
  }

  /**
   * Matrix from the memo where possible (re-optimisation asks for the same legs round after round); the cells
   * that miss are computed in one engine call over the rows and columns that have gaps (cached CH search spaces).
   */
  matrix(froms: readonly Location[], tos: readonly Location[]): OracleMatrix {
    this.checkClosures();
    // one buffer per answer, rows as views: fewer small arrays for the garbage collector
    const n = tos.length;
    const tBuf = new Float64Array(froms.length * n).fill(NaN), dBuf = new Float64Array(froms.length * n);
    const times: Float64Array[] = [], distances: Float64Array[] = [];
    for (let i = 0; i < froms.length; i++) {
      times.push(tBuf.subarray(i * n, (i + 1) * n));
      distances.push(dBuf.subarray(i * n, (i + 1) * n));
    }
    const toIds = tos.map((l) => String(l.id));
    const missRows: number[] = [];
    const missCols = new Set<number>();
    for (let i = 0; i < froms.length; i++) {
      const f = String(froms[i].id);
      const row = this.pairs.get(f);
      let missing = false;
      for (let j = 0; j < tos.length; j++) {
        if (f === toIds[j]) {
          times[i][j] = 0;
          distances[i][j] = 0;
          continue;
        }
        const v = row?.get(toIds[j]);
        if (v) {
          times[i][j] = v[0];
          distances[i][j] = v[1];
        } else {
          missing = true;
          missCols.add(j);
        }
      }
      if (missing) missRows.push(i);
    }
    if (missRows.length) {
      const cols = [...missCols];
      const m = this.engine.matrix(missRows.map((i) => this.phantomOf(froms[i])), cols.map((j) => this.phantomOf(tos[j])));
      missRows.forEach((i, a) => {
        const f = String(froms[i].id);
        cols.forEach((j, b) => {
          if (!Number.isNaN(times[i][j])) return;
          const c = a * cols.length + b;
          const v = [m.duration[c] / 1000, m.distance[c]] as const;
          this.store(f, toIds[j], v);
          times[i][j] = v[0];
          distances[i][j] = v[1];
        });
      });
    }
    return { times, distances };
  }
}
