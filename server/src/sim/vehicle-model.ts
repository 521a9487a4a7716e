import turfBearing from '@turf/bearing';
import turfDistance from '@turf/distance';

/**
 * Kinematics of a simulated bus along a routed road geometry (pure: advanced by `step(dt)` from any clock).
 * - speed follows the smallest of: the piece's limit, a command cap, a curve limit at sharp vertices, and what
 *   still lets it brake comfortably for the next lower limit or stop point (look-ahead);
 * - acceleration and braking are bounded (comfort values for standing passengers);
 * - energy use per km drains the battery.
 */
export type LonLat = [number, number];

export interface DriveRoute {
  coordinates: LonLat[];
  /** km/h per piece (piece k: coordinate k → k+1) */
  speedsKmh: number[];
  /** coordinate index at which each stop is reached */
  stopIndices: number[];
}

export interface ModelParams {
  accel: number; // m/s²
  decel: number; // m/s², comfortable braking
  mrmDecel: number; // m/s², minimal risk manoeuvre
  emergencyDecel: number; // m/s²
  batteryKWh: number;
  consumptionKWhPerKm: number;
  maxSpeed: number; // m/s
}

export const DEFAULT_PARAMS: ModelParams = {
  accel: 1.0,
  decel: 1.3,
  mrmDecel: 2.5,
  emergencyDecel: 5.0,
  batteryKWh: 80,
  consumptionKWhPerKm: 0.35,
  maxSpeed: 80 / 3.6,
};

const LOOKAHEAD_M = 200;

/** Speed limit through a vertex turning by `angle` degrees (lateral comfort): 18 km/h at 90°. */
export function curveSpeed(angle: number): number {
  const a = Math.abs(angle);
  if (a < 20) return Infinity;
  return Math.max(3, Math.min(14, 14 - (a - 20) * 0.13));
}

export class VehicleModel {
  lat: number;
  lon: number;
  heading = 0;
  speed = 0;
  odometer = 0;
  soc: number;
  energyKWh = 0;
  /** braking mode overrides route following: 'mrm' and 'emergency' brake to standstill */
  braking: 'none' | 'stop' | 'mrm' | 'emergency' = 'none';
  speedCap = Infinity;

  private route: DriveRoute | null = null;
  private cum: number[] = [];
  private pieceLimits: number[] = [];
  private vertexLimits: number[] = [];
  /** heading of each piece, computed once per route (turf's bearing per step was a hot spot) */
  private pieceHeadings: number[] = [];
  private stopDist: number[] = [];
  private pos = 0;
  private nextStop = 0;

  constructor(
    start: { lat: number; lon: number },
    soc: number,
    readonly params: ModelParams = DEFAULT_PARAMS,
  ) {
    this.lat = start.lat;
    this.lon = start.lon;
    this.soc = soc;
  }

  /** Follow a new route. It starts where the bus is (or close ahead): the bus joins it at the nearest piece. */
  setRoute(route: DriveRoute | null): void {
    this.route = route && route.coordinates.length >= 2 ? route : null;
    this.pos = 0;
    this.nextStop = 0;
    if (!this.route) return;
    const c = this.route.coordinates;
    this.cum = [0];
    for (let i = 1; i < c.length; i++) this.cum.push(this.cum[i - 1] + turfDistance(c[i - 1], c[i], { units: 'meters' }));
    this.pieceLimits = this.route.speedsKmh.map((s) => Math.min(s / 3.6, this.params.maxSpeed));
    this.pieceHeadings = [];
    for (let i = 0; i + 1 < c.length; i++) {
      const same = c[i][0] === c[i + 1][0] && c[i][1] === c[i + 1][1];
      const h = same ? NaN : turfBearing(c[i], c[i + 1]);
      this.pieceHeadings.push(h < 0 ? h + 360 : h);
    }
    this.vertexLimits = c.map((_, i) => {
      if (i === 0 || i === c.length - 1) return Infinity;
      let a = this.pieceHeadings[i] - this.pieceHeadings[i - 1];
      if (Number.isNaN(a)) return Infinity;
      while (a > 180) a -= 360;
      while (a < -180) a += 360;
      return curveSpeed(a);
    });
    this.stopDist = this.route.stopIndices.map((k) => this.cum[Math.min(k, c.length - 1)]);
    // join at the nearest of the first pieces (the plan was computed from a slightly older position)
    let best = 0, bestD = Infinity;
    for (let i = 0; i < Math.min(c.length, 60); i++) {
      const d = turfDistance([this.lon, this.lat], c[i], { units: 'meters' });
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    this.pos = bestD < 80 ? this.cum[best] : 0;
    while (this.nextStop < this.stopDist.length && this.stopDist[this.nextStop] < this.pos - 1) this.nextStop++;
  }

  hasRoute(): boolean {
    return this.route !== null;
  }
  /** metres left to the next stop (Infinity without one) */
  distanceToNextStop(): number {
    return this.nextStop < this.stopDist.length ? this.stopDist[this.nextStop] - this.pos : Infinity;
  }
  remainingDistance(): number {
    return this.route ? this.cum[this.cum.length - 1] - this.pos : 0;
  }

  private pieceAt(d: number): number {
    // cum is increasing: binary search for the piece containing distance d
    let lo = 0, hi = this.cum.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.cum[mid] <= d) lo = mid;
      else hi = mid - 1;
    }
    return Math.max(0, lo);
  }

  /** Highest speed now that still allows every lower limit ahead to be met with comfortable braking. */
  private targetSpeed(): number {
    if (!this.route) return 0;
    const dec = this.params.decel;
    let v = Math.min(this.params.maxSpeed, this.speedCap);
    const k0 = this.pieceAt(this.pos);
    v = Math.min(v, this.pieceLimits[k0] ?? 0);
    for (let k = k0 + 1; k < this.cum.length - 1 && this.cum[k] - this.pos < LOOKAHEAD_M; k++) {
      const d = this.cum[k] - this.pos;
      const lim = Math.min(this.pieceLimits[k], this.vertexLimits[k]);
      v = Math.min(v, Math.sqrt(lim * lim + 2 * dec * d));
    }
    const toStop = Math.min(this.distanceToNextStop(), this.remainingDistance());
    v = Math.min(v, Math.sqrt(2 * dec * Math.max(0, toStop)));
    return v;
  }

  /**
   * Advances by dt seconds. Returns the index (into the route's stopIndices) of a stop reached in this step,
   * or -1. The bus stops exactly at a stop point; the caller handles the dwell and calls `departStop()`.
   */
  step(dt: number): number {
    let target: number;
    let decel = this.params.decel;
    if (this.braking === 'mrm') {
      target = 0;
      decel = this.params.mrmDecel;
    } else if (this.braking === 'emergency') {
      target = 0;
      decel = this.params.emergencyDecel;
    } else if (this.braking === 'stop') target = 0;
    else target = this.targetSpeed();
    if (this.speed < target) this.speed = Math.min(target, this.speed + this.params.accel * dt);
    else this.speed = Math.max(target, this.speed - decel * dt);
    // the braking curve toward a stop point can leave a crawl: snap onto the stop when within a step
    let ds = this.speed * dt;
    let reached = -1;
    if (this.route && this.braking === 'none') {
      const toStop = this.distanceToNextStop();
      if (toStop <= Math.max(ds, 0.5) && toStop !== Infinity) {
        ds = Math.max(0, toStop);
        this.speed = 0;
        reached = this.nextStop;
      } else if (this.speed < 0.3 && target < 0.3 && toStop < 3) {
        ds = Math.max(0, toStop);
        this.speed = 0;
        reached = this.nextStop;
      }
    }
    if (this.route && ds > 0) {
      const end = this.cum[this.cum.length - 1];
      this.pos = Math.min(end, this.pos + ds);
      this.odometer += ds;
      const kwh = (this.params.consumptionKWhPerKm * ds) / 1000;
      this.energyKWh += kwh;
      this.soc = Math.max(0, this.soc - kwh / this.params.batteryKWh);
      this.place();
      if (this.pos >= end - 1e-6 && reached < 0 && this.nextStop >= this.stopDist.length) {
        this.speed = 0;
        this.route = null; // end of a stop-less route (rebalancing target)
      }
    }
    if (reached >= 0) this.place();
    return reached;
  }

  /** After the dwell at the stop just reached, continue toward the next one. */
  departStop(): void {
    this.nextStop++;
    if (this.route && this.nextStop >= this.stopDist.length && this.remainingDistance() < 1) this.route = null;
  }

  charge(kw: number, dt: number): void {
    this.soc = Math.min(1, this.soc + (kw * dt) / 3600 / this.params.batteryKWh);
  }

  private place(): void {
    if (!this.route) return;
    const c = this.route.coordinates;
    const k = this.pieceAt(this.pos);
    const a = c[k], b = c[Math.min(k + 1, c.length - 1)];
    const len = this.cum[k + 1] - this.cum[k] || 1;
    const f = Math.min(1, Math.max(0, (this.pos - this.cum[k]) / len));
    this.lon = a[0] + (b[0] - a[0]) * f;
    this.lat = a[1] + (b[1] - a[1]) * f;
    const h = this.pieceHeadings[k];
    if (h !== undefined && !Number.isNaN(h)) this.heading = h;
  }
}
