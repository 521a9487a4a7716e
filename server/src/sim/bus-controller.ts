import type { PlanUpdate } from '../protocol/events.ts';
import type { VehicleMode, VehicleStateMsg } from '../protocol/schemas.ts';
import { DEFAULT_PARAMS, VehicleModel, type ModelParams } from './vehicle-model.ts';

/** Dwell model of the simulated bus, matching the dispatcher's defaults: fixed part + per person + ramp. */
export const DWELL = { fixedMs: 30_000, perBoardingMs: 10_000, perAlightingMs: 5_000, perWheelchairMs: 90_000 };

export interface StopSignal {
  requestId: string;
  kind: 'pickup' | 'dropoff';
  /** arrived at the place; boarding (doors open, service starts); done (doors closed, leaving) */
  event: 'arrived' | 'boarding' | 'done';
  at: number;
}

/**
 * Executes a bus's plan (pure; advanced by `step(now, dt)`): drives the routed geometry with the kinematic
 * model, stops at each planned stop, opens the doors, lets people board or alight for the dwell time, and
 * reports `arrived`/`done` signals. Used by the live vehicle agent and by the faster-than-real-time runner.
 */
export class BusController {
  readonly model: VehicleModel;
  plan: PlanUpdate | null = null;
  doors: 'open' | 'closed' = 'closed';
  occupancy = { seats: 0, wheelchairs: 0 };
  mode: VehicleMode = 'remote';
  /** a plan arrived during boarding: its route replaces the current one when the bus leaves */
  private routeStale = false;
  /** at a stop: first waiting (doors closed) until boarding may start, then boarding/alighting until `until` */
  private dwell: { doorsAt: number; serviceStart: number; until: number; requests: { requestId: string; kind: 'pickup' | 'dropoff'; seats: number; wheelchairs: number }[]; boarding: boolean } | null = null;

  constructor(start: { lat: number; lon: number }, soc: number, params: Partial<ModelParams> = {}) {
    this.model = new VehicleModel(start, soc, { ...DEFAULT_PARAMS, ...params });
  }

  get dwelling(): boolean {
    return this.dwell !== null;
  }
  get atStop(): string | null {
    return this.dwell?.requests[0]?.requestId ?? null;
  }
  /** boarding started (for KPIs: the moment a rider got on) */
  get boarding(): boolean {
    return this.dwell?.boarding ?? false;
  }

  setPlan(p: PlanUpdate): void {
    if (this.plan && p.vehicleId === this.plan.vehicleId && p.version < this.plan.version) return;
    this.plan = p;
    this.routeStale = false;
    if (this.dwell) {
      // Boarding in progress is finished first. A bus still waiting for a pickup window follows a new plan
      // that no longer starts here (the dispatcher re-planned around it).
      const head = new Set(this.stopsAtHead().map((s) => `${s.kind}:${s.requestId}`));
      const same = this.dwell.requests.every((r) => head.has(`${r.kind}:${r.requestId}`));
      if (this.dwell.boarding || same) {
        this.routeStale = true; // take the new route when the doors close
        return;
      }
      this.dwell = null;
      this.doors = 'closed';
    }
    this.model.setRoute(p.route ? { coordinates: p.route.coordinates, speedsKmh: p.route.speedsKmh, stopIndices: p.route.stopIndices } : null);
  }

  /** Plan stops served at the place the bus has just reached: all consecutive stops at the same coordinates. */
  private stopsAtHead(): PlanUpdate['stops'] {
    const stops = this.plan?.stops ?? [];
    if (!stops.length) return [];
    const first = stops[0];
    const out: PlanUpdate['stops'] = [];
    for (const s of stops) {
      if (Math.abs(s.lat - first.lat) > 1e-6 || Math.abs(s.lon - first.lon) > 1e-6) break;
      out.push(s);
    }
    return out;
  }

  step(now: number, dt: number): StopSignal[] {
    const out: StopSignal[] = [];
    if (this.dwell) {
      const d = this.dwell;
      if (this.doors === 'closed' && now >= d.doorsAt) this.doors = 'open';
      if (!d.boarding && now >= d.serviceStart) {
        d.boarding = true;
        for (const r of d.requests) {
          out.push({ requestId: r.requestId, kind: r.kind, event: 'boarding', at: now });
          const sign = r.kind === 'pickup' ? 1 : -1;
          this.occupancy.seats = Math.max(0, this.occupancy.seats + sign * r.seats);
          this.occupancy.wheelchairs = Math.max(0, this.occupancy.wheelchairs + sign * r.wheelchairs);
        }
      }
      if (d.boarding && now >= d.until) out.push(...this.finishDwell(now));
      return out;
    }
    const reached = this.model.step(dt);
    if (reached >= 0) out.push(...this.beginDwell(now));
    return out;
  }

  /**
   * The dwell follows the dispatcher's model exactly: a fixed part once per place (doors, ramp), service may not
   * start before the pickup window (the planned `ready`), then time per person boarding or alighting.
   */
  private beginDwell(now: number): StopSignal[] {
    const atPlace = this.stopsAtHead();
    if (!atPlace.length) {
      this.model.departStop();
      return [];
    }
    // Riders get off at once; a pickup whose window has not opened yet is served in a second dwell, so nobody
    // sits on a standing bus waiting for somebody else's window.
    const prefix: PlanUpdate['stops'] = [];
    for (const s of atPlace) {
      if (s.kind === 'dropoff' || s.ready <= now + DWELL.fixedMs + 1000) prefix.push(s);
      else break;
    }
    const waitingPickups: PlanUpdate['stops'] = [];
    for (const s of atPlace) {
      if (s.kind !== 'pickup') break;
      waitingPickups.push(s);
    }
    const here = prefix.length ? prefix : waitingPickups;
    const scripted = here.some((s) => s.dwellMs !== undefined);
    const fixed = scripted ? 0 : DWELL.fixedMs;
    let perPerson = 0;
    for (const s of here) {
      const people = s.seats + s.wheelchairs;
      if (s.dwellMs !== undefined) perPerson = Math.max(perPerson, s.dwellMs);
      else {
        perPerson += s.kind === 'pickup' ? people * DWELL.perBoardingMs : people * DWELL.perAlightingMs;
        perPerson += s.wheelchairs * DWELL.perWheelchairMs;
      }
    }
    const readyAt = Math.max(0, ...here.map((s) => (s.kind === 'pickup' && !scripted ? s.ready : 0)));
    const serviceStart = Math.max(now + fixed, Math.min(readyAt, now + 30 * 60_000));
    this.dwell = {
      doorsAt: Math.max(now, serviceStart - fixed),
      serviceStart,
      until: serviceStart + perPerson,
      boarding: false,
      requests: here.map((s) => ({ requestId: s.requestId, kind: s.kind, seats: s.seats, wheelchairs: s.wheelchairs })),
    };
    return here.map((s) => ({ requestId: s.requestId, kind: s.kind, event: 'arrived' as const, at: now }));
  }

  private finishDwell(now: number): StopSignal[] {
    const d = this.dwell!;
    this.dwell = null;
    this.doors = 'closed';
    // every served stop has its own entry in the route's stop list (same place, same index)
    for (let i = 0; i < d.requests.length; i++) this.model.departStop();
    if (this.plan) this.plan = { ...this.plan, stops: this.plan.stops.filter((s) => !d.requests.some((r) => r.requestId === s.requestId && r.kind === s.kind)) };
    if (this.routeStale && this.plan) {
      this.routeStale = false;
      const r = this.plan.route;
      this.model.setRoute(r ? { coordinates: r.coordinates, speedsKmh: r.speedsKmh, stopIndices: r.stopIndices } : null);
    }
    return d.requests.map((r) => ({ requestId: r.requestId, kind: r.kind, event: 'done' as const, at: now }));
  }

  stateMessage(now: number, seq: number): VehicleStateMsg {
    const m = this.model;
    return {
      seq,
      sentAt: now,
      lat: m.lat,
      lon: m.lon,
      heading: Math.min(360, Math.max(0, m.heading)),
      speed: Math.min(60, m.speed),
      soc: m.soc,
      doors: this.doors,
      occupancy: { ...this.occupancy },
      mode: this.mode,
      permittedSpeed: Math.min(60, Number.isFinite(m.speedCap) ? m.speedCap : m.params.maxSpeed),
      atStop: this.atStop,
    };
  }
}
