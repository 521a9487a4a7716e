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
  /** Per bus: the place it stands at (arrived or served there), and the stops (kind:requestId) it serves there. */
  private readonly standing = new Map<string, unknown>();
  private readonly serving = new Map<string, string[]>();
  /** Stops at the place that were in the plan when the bus arrived (later ones begin a dwell of their own). */
  private readonly arrivedFor = new Map<string, Set<string>>();

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

  /**
   * Executes every arrival and every stop due by `t` in time order across the fleet, moving the clock along;
   * ends at t. A bus arrives at its next place (`vehicleArrived` at the physical arrival, i.e. without the
   * fixed dwell the plan's arrival includes), then serves the stops there at their planned departures. In
   * between, the bus stands at the stop: whatever else happens meanwhile must leave the stops it serves there
   * first (see checkPinned). `stopWhenServing`: return as soon as a bus starts serving riders where it stands
   * (it arrived, or the window of the rider it waits for opens); the clock stays there.
   */
  runUntil(t: number, opts: { stopWhenServing?: boolean } = {}): void {
    // Only the executed bus's plan changes while we run (hooks touch that bus alone), so each bus's next
    // event is computed once and refreshed for the bus just executed.
    type Ev = { at: number; kind: 'arrive' | 'open' | 'serve' };
    const next = new Map<string, Ev>();
    const refresh = (vid: string, p = this.d.plan(vid)!) => {
      const s = p.stops[0];
      if (!s) return next.delete(vid);
      if (this.standing.has(vid) && !this.standsAt(vid, p, s.location.id)) {
        // The plan no longer starts where the bus stands: it leaves now (or when the plan says), as a live bus
        // would report once it moves.
        this.standing.delete(vid);
        this.d.updateVehicle({ id: vid, position: p.start.location, time: p.start.time });
        p = this.d.plan(vid)!;
      }
      if (!this.standsAt(vid, p, s.location.id) || !this.arrivedFor.get(vid)?.has(stopKey(s))) {
        // Driving there, or a stop added at the place since the bus arrived: a new dwell there begins.
        next.set(vid, { at: s.arrival - (p.start.location.id === s.location.id ? 0 : this.fixedMs), kind: 'arrive' });
        return;
      }
      const b = this.d.booking(s.requestId)!;
      const opens = b.promise.pickupWindow.start - this.fixedMs;
      if (!this.due(s, this.clock.now()) && opens < s.departure) {
        // Waiting at the stop for the window: the rider becomes due (the doors open) before boarding.
        next.set(vid, { at: Math.max(opens, this.clock.now()), kind: 'open' });
        return;
      }
      const at =
        s.kind === 'pickup' && this.isNoShow(s.requestId)
          ? Math.max(s.arrival, b.promise.pickupWindow.start) + this.d.config.noShowWaitMs
          : s.departure;
      next.set(vid, { at, kind: 'serve' });
    };
    for (const p of this.d.plans()) refresh(p.vehicleId, p);
    for (;;) {
      let best: (Ev & { vid: string }) | null = null;
      for (const [vid, e] of next) if (e.at <= t && (!best || e.at < best.at || (e.at === best.at && vid < best.vid))) best = { vid, ...e };
      if (!best) break;
      if (best.at > this.clock.now()) this.clock.set(best.at);
      const head = stopKey(this.d.plan(best.vid)!.stops[0]);
      if (best.kind === 'arrive') this.arrive(best.vid, best.at);
      else if (best.kind === 'serve') this.executeFirst(best.vid);
      if (best.kind === 'serve' && this.d.plan(best.vid)!.stops[0] && stopKey(this.d.plan(best.vid)!.stops[0]) === head) {
        this.problems.push(`${best.vid}: ${head} could not be served`);
        next.delete(best.vid);
        continue;
      }
      this.checkPinned();
      if (best.kind !== 'serve' && opts.stopWhenServing && this.serving.get(best.vid)?.length) return;
      refresh(best.vid);
    }
    if (t > this.clock.now()) this.clock.set(t);
  }

  /** Buses standing at a stop, serving riders there (alighting, or waiting with their window open). */
  servingBuses(): string[] {
    return this.d.plans().filter((p) => (this.serving.get(p.vehicleId) ?? []).some((k) => p.stops.some((s) => stopKey(s) === k))).map((p) => p.vehicleId);
  }

  /**
   * The invariant of arrival: the stops a bus standing at a place serves there (riders alighting, and riders
   * whose pickup window opens within the fixed dwell: they are waiting) stay first in its plan, in order, until
   * they are served, cancelled, given up or moved off a broken-down bus. Stops whose window opens later may be
   * re-planned; they join once their window opens while the bus still stands there.
   */
  checkPinned(): void {
    const now = this.clock.now();
    for (const p of this.d.plans()) {
      const inPlan = new Set(p.stops.map(stopKey));
      const serving = (this.serving.get(p.vehicleId) ?? []).filter((k) => inPlan.has(k));
      const head = p.stops.slice(0, serving.length).map(stopKey);
      if (head.join() !== serving.join()) {
        this.problems.push(`${p.vehicleId} serves [${serving.join(' ')}] where it stands but its plan starts [${p.stops.slice(0, serving.length + 1).map(stopKey).join(' ')}]`);
        this.serving.delete(p.vehicleId);
        continue;
      }
      const place = this.standing.get(p.vehicleId);
      for (let k = serving.length; k < p.stops.length && place !== undefined && this.standsAt(p.vehicleId, p, p.stops[k].location.id); k++) {
        if (!this.due(p.stops[k], now)) break;
        serving.push(stopKey(p.stops[k]));
      }
      this.serving.set(p.vehicleId, serving);
    }
  }

  /**
   * The rider's stops left the plan and come back as a new insertion within one dispatcher call (a lapsed
   * offer confirmed late): the bus no longer serves them where it stands.
   */
  release(requestId: string): void {
    for (const [vid, keys] of this.serving) this.serving.set(vid, keys.filter((k) => !k.endsWith(`:${requestId}`)));
  }

  private get fixedMs(): number {
    return this.d.config.dwell.fixedMs;
  }

  /** The bus stands at `placeId` (it arrived or served there) and has not been moved elsewhere since. */
  private standsAt(vid: string, p: { start: { location: { id: unknown } } }, placeId: unknown): boolean {
    return this.standing.get(vid) === placeId && p.start.location.id === placeId;
  }

  /** A rider alighting, or a rider whose window opens by the time the doors would be open. */
  private due(s: { kind: string; requestId: string }, at: number): boolean {
    return s.kind === 'dropoff' || this.d.booking(s.requestId)!.promise.pickupWindow.start <= at + this.fixedMs;
  }

  private arrive(vid: string, at: number): void {
    const p = this.d.plan(vid)!;
    const s = p.stops[0];
    const km = this.oracle.distance(p.start.location, s.location) / 1000;
    const cap = this.capacity.get(vid)!;
    const soc = this.soc.get(vid)! - (km * this.d.config.battery.consumptionKWhPerKm) / cap.kWh;
    this.soc.set(vid, soc);
    if (soc < this.d.config.battery.reserveSoc - 1e-9) this.problems.push(`${vid} below reserve: ${soc.toFixed(3)}`);
    const here = new Set<string>();
    for (const x of p.stops) {
      if (x.location.id !== s.location.id) break;
      here.add(stopKey(x));
    }
    const serving = this.standing.get(vid) === s.location.id ? (this.serving.get(vid) ?? []) : [];
    for (const x of p.stops.slice(serving.length)) {
      if (x.location.id !== s.location.id || !this.due(x, at)) break;
      serving.push(stopKey(x));
    }
    this.standing.set(vid, s.location.id);
    this.serving.set(vid, serving);
    this.arrivedFor.set(vid, here);
    // Arrive first (the driven leg leaves the plan), then report the SoC it cost.
    this.d.vehicleArrived(vid, at);
    this.d.updateVehicle({ id: vid, soc });
    const after = this.d.plan(vid)!.stops[0];
    if (after.ready !== s.ready) this.problems.push(`${vid} arrival at ${at} moved ${s.requestId}'s service start ${s.ready} → ${after.ready}`);
  }

  /** Serves the first stop of a bus standing at its place. */
  private executeFirst(vid: string): void {
    const p = this.d.plan(vid)!;
    const s = p.stops[0];
    const cap = this.capacity.get(vid)!;
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

function stopKey(s: { kind: string; requestId: string }): string {
  return `${s.kind}:${s.requestId}`;
}
