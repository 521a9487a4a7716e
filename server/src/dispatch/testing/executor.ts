import type { ManualClock } from '../../core/clock.ts';
import type { Dispatcher } from '../dispatcher.ts';
import type { TravelTimeOracle } from '../oracle.ts';
import type { RebalanceMove } from '../types.ts';

/**
 * Drives the dispatcher's plans exactly as planned, in simulated time (tests and the benchmark): every stop is
 * executed at its planned times through the progress hooks, SoC drops with the driven distance, and what
 * riders actually experienced is checked against what they were promised.
 */
export interface ServedRide {
  readonly requestId: string;
  readonly vehicleId: string;
  readonly pickupStart: number;
  readonly pickedUpAt: number;
  readonly droppedOffAt: number;
}

export class PlanExecutor {
  readonly served: ServedRide[] = [];
  readonly problems: string[] = [];
  readonly noShows: string[] = [];
  private readonly soc = new Map<string, number>();
  private readonly capacity = new Map<string, { seats: number; wheelchairs: number; kWh: number }>();
  private readonly load = new Map<string, { seats: number; wheelchairs: number }>();
  private readonly pickups = new Map<string, { at: number; start: number; vehicleId: string }>();

  constructor(
    private readonly d: Dispatcher,
    private readonly clock: ManualClock,
    private readonly oracle: TravelTimeOracle,
    fleet: ReadonlyArray<{ id: string; soc: number; seats: number; wheelchairPlaces: number; batteryKWh?: number }>,
    /** Riders who will not show up (decided by the test). */
    private readonly isNoShow: (requestId: string) => boolean = () => false,
  ) {
    for (const v of fleet) {
      this.soc.set(v.id, v.soc);
      this.capacity.set(v.id, { seats: v.seats, wheelchairs: v.wheelchairPlaces, kWh: v.batteryKWh ?? d.config.battery.capacityKWh });
      this.load.set(v.id, { seats: 0, wheelchairs: 0 });
    }
  }

  socOf(vehicleId: string): number {
    return this.soc.get(vehicleId)!;
  }

  /** A rebalancing/charging move: the bus will be free at its target after driving there. */
  applyMove(m: RebalanceMove): void {
    const p = this.d.plan(m.vehicleId)!;
    const cap = this.capacity.get(m.vehicleId)!;
    const km = this.oracle.distance(p.start.location, m.to) / 1000;
    const soc = this.soc.get(m.vehicleId)! - (km * this.d.config.battery.consumptionKWhPerKm) / cap.kWh;
    this.soc.set(m.vehicleId, soc);
    if (m.kind === 'rebalance' && soc < this.d.config.battery.reserveSoc - 1e-9) this.problems.push(`${m.vehicleId} rebalanced below reserve`);
    this.d.updateVehicle({ id: m.vehicleId, position: m.to, time: this.clock.now() + m.travelTimeMs, soc });
  }

  /** Executes every stop due by `t` in time order across the fleet, moving the clock along; ends at t. */
  runUntil(t: number): void {
    // Only the executed bus's plan changes while we run (hooks touch that bus alone), so each bus's next
    // event is computed once and refreshed for the bus just executed.
    const next = new Map<string, number>();
    const refresh = (vid: string, p = this.d.plan(vid)!) => {
      const s = p.stops[0];
      if (!s) return next.delete(vid);
      const b = this.d.booking(s.requestId)!;
      const at =
        s.kind === 'pickup' && this.isNoShow(s.requestId)
          ? Math.max(s.arrival, b.promise.pickupWindow.start) + this.d.config.noShowWaitMs
          : s.departure;
      next.set(vid, at);
    };
    for (const p of this.d.plans()) refresh(p.vehicleId, p);
    for (;;) {
      let best: { vid: string; at: number } | null = null;
      for (const [vid, at] of next) if (at <= t && (!best || at < best.at || (at === best.at && vid < best.vid))) best = { vid, at };
      if (!best) break;
      if (best.at > this.clock.now()) this.clock.set(best.at);
      this.executeFirst(best.vid);
      refresh(best.vid);
    }
    if (t > this.clock.now()) this.clock.set(t);
  }

  private executeFirst(vid: string): void {
    const p = this.d.plan(vid)!;
    const s = p.stops[0];
    const km = this.oracle.distance(p.start.location, s.location) / 1000;
    const cap = this.capacity.get(vid)!;
    const soc = this.soc.get(vid)! - (km * this.d.config.battery.consumptionKWhPerKm) / cap.kWh;
    this.soc.set(vid, soc);
    if (soc < this.d.config.battery.reserveSoc - 1e-9) this.problems.push(`${vid} below reserve: ${soc.toFixed(3)}`);
    // Arrive first (the driven leg leaves the plan), then report the SoC it cost.
    this.d.vehicleArrived(vid, s.arrival);
    this.d.updateVehicle({ id: vid, soc });
    const b = this.d.booking(s.requestId)!;
    const load = this.load.get(vid)!;
    if (s.kind === 'pickup') {
      if (b.status === 'offered') {
        // The rider never confirmed before the bus came: the offer is given up.
        this.d.decline(`o-${s.requestId}`);
        return;
      }
      if (this.isNoShow(s.requestId)) {
        const r = this.d.noShow(s.requestId);
        if (!r.ok) this.problems.push(`no-show refused for ${s.requestId}: ${r.reason}`);
        else this.noShows.push(s.requestId);
        return;
      }
      if (b.status !== 'confirmed') this.problems.push(`${s.requestId} picked up while ${b.status}`);
      const w = b.promise.pickupWindow;
      if (s.ready < w.start - 1 || s.ready > w.end + 1) this.problems.push(`${s.requestId} pickup ${s.ready} outside [${w.start}, ${w.end}]`);
      this.d.pickedUp(s.requestId, s.departure);
      load.seats += s.seats;
      load.wheelchairs += s.wheelchairs;
      if (load.seats > cap.seats || load.wheelchairs > cap.wheelchairs) this.problems.push(`${vid} over capacity`);
      this.pickups.set(s.requestId, { at: s.departure, start: s.ready, vehicleId: vid });
    } else {
      const pu = this.pickups.get(s.requestId)!;
      const ride = s.ready - pu.at;
      if (ride > b.promise.maxRideMs + 1) this.problems.push(`${s.requestId} ride ${ride} > ${b.promise.maxRideMs}`);
      if (b.promise.latestArrival !== undefined && s.ready > b.promise.latestArrival + 1) this.problems.push(`${s.requestId} arrived late`);
      this.d.droppedOff(s.requestId, s.departure);
      load.seats -= s.seats;
      load.wheelchairs -= s.wheelchairs;
      this.served.push({ requestId: s.requestId, vehicleId: vid, pickupStart: pu.start, pickedUpAt: pu.at, droppedOffAt: s.departure });
    }
  }
}
