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
  constructor(
    readonly engine: RoutingEngine,
    private readonly maxCached = 100_000,
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

  time(from: Location, to: Location): number {
    if (from.id === to.id) return 0;
    const t = this.engine.travel(this.phantomOf(from), this.phantomOf(to));
    return t ? t.duration / 1000 : Infinity;
  }

  distance(from: Location, to: Location): number {
    if (from.id === to.id) return 0;
    const t = this.engine.travel(this.phantomOf(from), this.phantomOf(to));
    return t ? t.distance : Infinity;
  }

  matrix(froms: readonly Location[], tos: readonly Location[]): OracleMatrix {
    const m = this.engine.matrix(froms.map((l) => this.phantomOf(l)), tos.map((l) => this.phantomOf(l)));
    const times: number[][] = [], distances: number[][] = [];
    for (let i = 0; i < froms.length; i++) {
      const tr: number[] = [], dr: number[] = [];
      for (let j = 0; j < tos.length; j++) {
        const same = froms[i].id === tos[j].id;
        const c = i * tos.length + j;
        tr.push(same ? 0 : m.duration[c] / 1000);
        dr.push(same ? 0 : m.distance[c]);
      }
      times.push(tr);
      distances.push(dr);
    }
    return { times, distances };
  }
}
