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
  /**
   * Snapped places by id, least recently used first. Each phantom carries its CH search spaces (the engine keeps
   * them per phantom object), so this cache is what bounds their memory: a moving bus is a new place every second
   * and must not pin thousands of them, while hubs and plan stops, asked for on every request, stay.
   */
  private readonly phantoms = new Map<string, Phantom>();
  /**
   * Memo of legs, from → to → (seconds, metres): the dispatcher asks for the same legs again and again. Two
   * generations: when the current one is full it becomes the old one and a new one starts; a hit in the old one
   * moves the cell over. Legs in use (plan stops ↔ hubs) survive, and no request pays for a wholesale reset.
   */
  private cur: MemoGeneration;
  private old: MemoGeneration | null = null;
  /**
   * How often each place has been a row / a column of a matrix (bounded). Matrix cells are memoised only
   * between places seen in that role before: a door asked for once (most new requests' pickups and drop-offs)
   * does not churn the memo or the garbage collector; hubs and plan stops, asked for again and again, are kept.
   */
  private readonly seenFrom = new Map<string, number>();
  private readonly seenTo = new Map<string, number>();
  private closedVersion = '';
  /**
   * Legs between many places and one request's pickup and drop-off, computed ahead in slices (`prefetch`) so the
   * insertion search's matrix over every bus's stops (a task of 5–15 ms with a thousand live bookings, holding up
   * every remote driver's command meanwhile) finds them. Keyed by pickup and drop-off id; per place the four legs
   * [to P, to D, from P, from D] as seconds and metres. The same engine answers, so the values are the same.
   */
  private readonly ahead = new Map<string, Map<string, number[]>>();
  constructor(
    readonly engine: RoutingEngine,
    private readonly maxCached = 20_000,
    private readonly maxPhantoms = 4_000,
  ) {
    this.cur = new MemoGeneration(maxCached * 4);
  }

  /** Snaps a coordinate and returns the Location the dispatcher should use (throws SnapError off-road). */
  locate(lat: number, lon: number): Location {
    const p = this.engine.snap(lat, lon);
    const id = `p${p.seg}:${Math.round(p.fraction * 10_000)}`;
    if (!this.phantoms.has(id)) this.remember(id, p);
    return { id, lat: p.lat, lon: p.lon };
  }

  private remember(id: string, p: Phantom): void {
    if (this.phantoms.size >= this.maxPhantoms) this.phantoms.delete(this.phantoms.keys().next().value as string);
    this.phantoms.set(id, p);
  }

  phantomOf(loc: Location): Phantom {
    const key = String(loc.id);
    let p = this.phantoms.get(key);
    if (p) {
      // used again: to the young end (delete + set keeps a Map's insertion order as recency)
      this.phantoms.delete(key);
      this.phantoms.set(key, p);
    } else {
      p = this.engine.snap(loc.lat, loc.lon);
      this.remember(key, p);
    }
    return p;
  }

  /** Snaps the places and computes their search spaces now (see RoutingEngine.prepare). */
  prepare(locs: readonly Location[]): void {
    for (const l of locs) this.engine.prepare(this.phantomOf(l));
  }

  private checkClosures(): void {
    // closures change answers: a new closure set invalidates the memo
    const closed = this.engine.closedSegments();
    const closedKey = closed.length ? closed.join(',') : '';
    if (closedKey !== this.closedVersion) {
      this.cur = new MemoGeneration(this.maxCached * 4);
      this.old = null;
      this.lastLeg = { f: '', t: '', sec: 0, m: 0 };
      this.ahead.clear();
      this.closedVersion = closedKey;
    }
  }

  private seenAgain(seen: Map<string, number>, id: string): boolean {
    const n = (seen.get(id) ?? 0) + 1;
    if (n === 1 && seen.size >= this.maxCached * 4) seen.clear();
    seen.set(id, n);
    return n > 1;
  }

  /** Index of the cell in the current generation (revived from the old one if need be), or -1. */
  private find(from: string, to: string, oldGen = this.old, oldRow = oldGen?.rows.get(from)): number {
    const k = this.cur.rows.get(from)?.get(to);
    if (k !== undefined) return k;
    const o = oldRow?.get(to);
    return o === undefined ? -1 : this.store(from, to, oldGen!.sec[o], oldGen!.m[o]);
  }

  private store(from: string, to: string, sec: number, m: number): number {
    if (this.cur.full) {
      this.old = this.cur;
      this.cur = new MemoGeneration(this.maxCached * 4);
    }
    return this.cur.add(from, to, sec, m);
  }

  /**
   * Looks one leg up (memo, else the engine) into `legSec`/`legM` (no object per call: the schedule asks for
   * millions). Like matrix cells, a leg computed afresh is memoised only between places asked for before: a moving
   * bus is a new place every second, and memoising its legs filled the memo with rows that were never read again
   * (and the garbage collector's old generation with them). The last such leg is kept, for the distance that
   * follows its time.
   */
  private look(from: Location, to: Location): void {
    this.checkClosures();
    const f = String(from.id), t = String(to.id);
    const k = this.find(f, t);
    if (k >= 0) {
      this.legSec = this.cur.sec[k];
      this.legM = this.cur.m[k];
      return;
    }
    if (this.lastLeg.f === f && this.lastLeg.t === t) {
      this.legSec = this.lastLeg.sec;
      this.legM = this.lastLeg.m;
      return;
    }
    // duration and distance of the fastest path, without unpacking it
    const c = this.engine.cost(this.phantomOf(from), this.phantomOf(to));
    this.legSec = c ? c.duration / 1000 : Infinity;
    this.legM = c ? c.distance : Infinity;
    const fromHot = this.seenAgain(this.seenFrom, f), toHot = this.seenAgain(this.seenTo, t);
    if (fromHot && toHot) this.store(f, t, this.legSec, this.legM);
    else this.lastLeg = { f, t, sec: this.legSec, m: this.legM };
  }
  private legSec = 0;
  private legM = 0;
  private lastLeg = { f: '', t: '', sec: 0, m: 0 };

  time(from: Location, to: Location): number {
    if (from.id === to.id) return 0;
    this.look(from, to);
    return this.legSec;
  }

  distance(from: Location, to: Location): number {
    if (from.id === to.id) return 0;
    this.look(from, to);
    return this.legM;
  }

  /**
   * Computes the legs between `places` and the pair (P, D) now, for a matrix over them later (see `ahead`); call
   * with slices of the places to spread the work over event-loop turns, and `endPrefetch` when done.
   */
  prefetch(P: Location, D: Location, places: readonly Location[]): void {
    this.checkClosures();
    const key = aheadKey(String(P.id), String(D.id));
    let legs = this.ahead.get(key);
    if (!legs) this.ahead.set(key, (legs = new Map()));
    const todo = places.filter((l) => !legs.has(String(l.id)));
    if (!todo.length) return;
    const ph = todo.map((l) => this.phantomOf(l));
    const pd = [this.phantomOf(P), this.phantomOf(D)];
    const into = this.engine.matrix(ph, pd), out = this.engine.matrix(pd, ph);
    const n = todo.length;
    todo.forEach((l, k) => {
      legs.set(String(l.id), [
        into.duration[k * 2] / 1000,
        into.distance[k * 2],
        into.duration[k * 2 + 1] / 1000,
        into.distance[k * 2 + 1],
        out.duration[k] / 1000,
        out.distance[k],
        out.duration[n + k] / 1000,
        out.distance[n + k],
      ]);
    });
  }

  endPrefetch(P: Location, D: Location): void {
    this.ahead.delete(aheadKey(String(P.id), String(D.id)));
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
    // a request's prefetched legs (see `ahead`): places into its pickup and drop-off, or those two out to places
    const into = n === 2 ? this.ahead.get(aheadKey(toIds[0], toIds[1])) : undefined;
    const outOf = froms.length === 2 ? this.ahead.get(aheadKey(String(froms[0].id), String(froms[1].id))) : undefined;
    const fromHot = froms.map((l) => this.seenAgain(this.seenFrom, String(l.id)));
    const toHot = toIds.map((id) => this.seenAgain(this.seenTo, id));
    const missRows: number[] = [];
    const missCols = new Set<number>();
    for (let i = 0; i < froms.length; i++) {
      const f = String(froms[i].id);
      const oldGen = this.old, oldRow = oldGen?.rows.get(f);
      let missing = false;
      for (let j = 0; j < tos.length; j++) {
        if (f === toIds[j]) {
          times[i][j] = 0;
          distances[i][j] = 0;
          continue;
        }
        let pre = into?.get(f), at = 2 * j;
        if (!pre && outOf) {
          pre = outOf.get(toIds[j]);
          at = 4 + 2 * i;
        }
        if (pre) {
          times[i][j] = pre[at];
          distances[i][j] = pre[at + 1];
          if (fromHot[i] && toHot[j] && this.find(f, toIds[j], oldGen, oldRow) < 0) this.store(f, toIds[j], pre[at], pre[at + 1]);
          continue;
        }
        const k = this.find(f, toIds[j], oldGen, oldRow);
        if (k >= 0) {
          times[i][j] = this.cur.sec[k];
          distances[i][j] = this.cur.m[k];
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
          times[i][j] = m.duration[c] / 1000;
          distances[i][j] = m.distance[c];
          if (fromHot[i] && toHot[j]) this.store(f, toIds[j], times[i][j], distances[i][j]);
        });
      });
    }
    return { times, distances };
  }
}

const aheadKey = (pickupId: string, dropoffId: string): string => `${pickupId}\u0000${dropoffId}`;

/** One generation of the leg memo: rows of cell indices, the cells packed in typed arrays (no object per leg). */
class MemoGeneration {
  readonly rows = new Map<string, Map<string, number>>();
  readonly sec: Float64Array;
  readonly m: Float64Array;
  private size = 0;
  constructor(readonly capacity: number) {
    this.sec = new Float64Array(capacity);
    this.m = new Float64Array(capacity);
  }
  get full(): boolean {
    return this.size >= this.capacity;
  }
  add(from: string, to: string, sec: number, m: number): number {
    let row = this.rows.get(from);
    if (!row) this.rows.set(from, (row = new Map()));
    let k = row.get(to);
    if (k === undefined) row.set(to, (k = this.size++));
    this.sec[k] = sec;
    this.m[k] = m;
    return k;
  }
}
