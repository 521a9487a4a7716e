import type { TravelTimeOracle } from './oracle.ts';
import type { Location, LocationId } from './types.ts';

/**
 * Leg costs in the dispatcher's units (integer ms, metres). The fixed part of the dwell is folded into every leg
 * that changes place: c(a,b) = travel(a,b) + fixedDwell when a ≠ b, 0 when a = b. Consecutive stops at one place
 * then pay the fixed dwell once, and c still satisfies the triangle inequality when travel does.
 */
export class Legs {
  constructor(
    readonly oracle: TravelTimeOracle,
    readonly fixedDwellMs: number,
  ) {}

  /** Pure travel time in ms (the "direct" time of a ride). */
  travelMs(a: Location, b: Location): number {
    if (a.id === b.id) return 0;
    return toMs(this.oracle.time(a, b));
  }

  /** Leg time incl. the fixed dwell at the arrival place. */
  timeMs(a: Location, b: Location): number {
    if (a.id === b.id) return 0;
    return toMs(this.oracle.time(a, b)) + this.fixedDwellMs;
  }

  distM(a: Location, b: Location): number {
    if (a.id === b.id) return 0;
    return this.oracle.distance(a, b);
  }

  /**
   * Legs between many places and the pickup P and drop-off D of one request, batched through the oracle's
   * matrix when it has one.
   */
  requestLegs(places: readonly Location[], P: Location, D: Location): RequestLegs {
    const index = new Map<LocationId, number>();
    const locs: Location[] = [];
    for (const l of places) {
      if (!index.has(l.id)) {
        index.set(l.id, locs.length);
        locs.push(l);
      }
    }
    // Per place k, 8 numbers: [t,d] to P, from P, to D, from D (t in ms incl. fixed dwell, d in metres).
    let data = new Float64Array(Math.max(1, locs.length) * QUAD);
    const fixed = this.fixedDwellMs;
    const put = (k: number, slot: number, same: boolean, s: number, m: number) => {
      data[k * QUAD + slot] = same ? 0 : toMs(s) + fixed;
      data[k * QUAD + slot + 1] = same ? 0 : m;
    };
    if (this.oracle.matrix && locs.length > 0) {
      const into = this.oracle.matrix(locs, [P, D]);
      const out = this.oracle.matrix([P, D], locs);
      const ti = into.times, di = into.distances, to = out.times, dO = out.distances;
      for (let k = 0; k < locs.length; k++) {
        const id = locs[k].id;
        put(k, 0, id === P.id, ti[k][0], di[k][0]);
        put(k, 2, id === P.id, to[0][k], dO[0][k]);
        put(k, 4, id === D.id, ti[k][1], di[k][1]);
        put(k, 6, id === D.id, to[1][k], dO[1][k]);
      }
    } else {
      for (let k = 0; k < locs.length; k++) this.fillOne(data, k, locs[k], P, D);
    }
    // Places not prefetched (e.g. a plan edited during the call) are asked for one by one.
    const slot = (l: Location): number => {
      let k = index.get(l.id);
      if (k === undefined) {
        k = locs.length;
        locs.push(l);
        index.set(l.id, k);
        if (data.length < (k + 1) * QUAD) {
          const grown = new Float64Array(Math.max(data.length * 2, (k + 1) * QUAD));
          grown.set(data);
          data = grown;
        }
        this.fillOne(data, k, l, P, D);
      }
      return k * QUAD;
    };
    const legAt = (l: Location, off: number): Leg => {
      const b = slot(l);
      return { t: data[b + off], d: data[b + off + 1] };
    };
    return {
      P,
      D,
      pd: { t: this.timeMs(P, D), d: this.distM(P, D) },
      copyInto: (l, out, at) => {
        const b = slot(l);
        for (let x = 0; x < QUAD; x++) out[at + x] = data[b + x];
      },
      toP: (l) => legAt(l, 0),
      fromP: (l) => legAt(l, 2),
      toD: (l) => legAt(l, 4),
      fromD: (l) => legAt(l, 6),
    };
  }

  private fillOne(data: Float64Array, k: number, l: Location, P: Location, D: Location): void {
    const b = k * QUAD;
    data[b] = this.timeMs(l, P);
    data[b + 1] = this.distM(l, P);
    data[b + 2] = this.timeMs(P, l);
    data[b + 3] = this.distM(P, l);
    data[b + 4] = this.timeMs(l, D);
    data[b + 5] = this.distM(l, D);
    data[b + 6] = this.timeMs(D, l);
    data[b + 7] = this.distM(D, l);
  }
}

/** Numbers stored per place by RequestLegs.copyInto: [t,d] to P, from P, to D, from D. */
export const QUAD = 8;

export interface Leg {
  /** ms incl. fixed dwell at the arrival place */
  readonly t: number;
  /** metres */
  readonly d: number;
}
const ZERO: Leg = { t: 0, d: 0 };

export interface RequestLegs {
  readonly P: Location;
  readonly D: Location;
  readonly pd: Leg;
  /** Writes the QUAD numbers of one place ([t,d] to P, from P, to D, from D) into out[at…]. */
  copyInto(l: Location, out: Float64Array, at: number): void;
  toP(l: Location): Leg;
  toD(l: Location): Leg;
  fromP(l: Location): Leg;
  fromD(l: Location): Leg;
}

function toMs(seconds: number): number {
  return Number.isFinite(seconds) ? Math.round(seconds * 1000) : Infinity;
}

/**
 * Memo of plan legs (stop → stop) by location id pair. Plans are re-timed often (every insertion check,
 * every local-search move), the legs between their stops rarely change. Two generations: when the current one is
 * full it becomes the old one and a new one starts; a leg found in the old one moves over. The legs plans keep
 * using survive, the rest (from positions a moving bus has left, from requests long served) go with the old
 * generation, so the memo's memory levels off instead of growing to a hard cap and being dropped whole.
 */
export class LegCache {
  private cur = new Map<LocationId, Map<LocationId, Leg>>();
  private old: Map<LocationId, Map<LocationId, Leg>> | null = null;
  private size = 0;
  constructor(
    private readonly legs: Legs,
    private readonly maxEntries = 60_000,
  ) {}
  readonly leg = (a: Location, b: Location): Leg => {
    if (a.id === b.id) return ZERO;
    let row = this.cur.get(a.id);
    let v = row?.get(b.id);
    if (v) return v;
    v = this.old?.get(a.id)?.get(b.id) ?? { t: this.legs.timeMs(a, b), d: this.legs.distM(a, b) };
    if (this.size >= this.maxEntries) {
      this.old = this.cur;
      this.cur = new Map();
      this.size = 0;
      row = undefined;
    }
    if (!row) this.cur.set(a.id, (row = new Map()));
    row.set(b.id, v);
    this.size++;
    return v;
  };
  /** Legs held (both generations): for tests. */
  get entries(): number {
    let n = 0;
    for (const g of [this.cur, this.old]) for (const row of g?.values() ?? []) n += row.size;
    return n;
  }
  clear(): void {
    this.cur.clear();
    this.old = null;
    this.size = 0;
  }
}
