import type { Rng } from '../core/rng.ts';

/**
 * Seeded demand around the hubs: Poisson arrivals; each request starts near one hub (a "home" within
 * `radiusM`) and goes to another hub, or the reverse (hub → home) for the non-hub-bound share.
 */
export interface DemandOptions {
  perHour: number;
  hubBoundShare: number;
  radiusM: number;
  wheelchairShare: number;
  maxPassengers: number;
}
export const DEFAULT_DEMAND: DemandOptions = { perHour: 40, hubBoundShare: 0.7, radiusM: 700, wheelchairShare: 0.05, maxPassengers: 3 };

export interface GeneratedRequest {
  at: number;
  pickup: { lat: number; lon: number } | { hubId: string };
  dropoff: { lat: number; lon: number } | { hubId: string };
  passengers: number;
  wheelchairs: number;
}

export class DemandGenerator {
  private next: number;
  constructor(
    private readonly rng: Rng,
    private readonly hubs: { id: string; lat: number; lon: number }[],
    private readonly o: DemandOptions,
    start: number,
  ) {
    this.next = start + this.gap();
  }
  private gap(): number {
    return this.o.perHour > 0 ? this.rng.exp(3600_000 / this.o.perHour) : Infinity;
  }
  /** All requests due up to `now`, in time order. */
  due(now: number): GeneratedRequest[] {
    const out: GeneratedRequest[] = [];
    while (this.next <= now) {
      out.push(this.make(this.next));
      this.next += this.gap();
    }
    return out;
  }
  private make(at: number): GeneratedRequest {
    const home = this.rng.pick(this.hubs);
    const others = this.hubs.filter((h) => h.id !== home.id);
    const hub = this.rng.pick(others.length ? others : this.hubs);
    // a point within radiusM of the home hub (uniform on the disc)
    const r = this.o.radiusM * Math.sqrt(this.rng.float());
    const a = this.rng.float() * 2 * Math.PI;
    const place = { lat: home.lat + (r * Math.cos(a)) / 111_320, lon: home.lon + (r * Math.sin(a)) / (111_320 * Math.cos((home.lat * Math.PI) / 180)) };
    const passengers = 1 + (this.rng.bool(0.25) ? this.rng.int(1, this.o.maxPassengers - 1) : 0);
    const wheelchairs = this.rng.bool(this.o.wheelchairShare) ? 1 : 0;
    const toHub = this.rng.bool(this.o.hubBoundShare);
    return { at, pickup: toHub ? place : { hubId: hub.id }, dropoff: toHub ? { hubId: hub.id } : place, passengers, wheelchairs };
  }
}
