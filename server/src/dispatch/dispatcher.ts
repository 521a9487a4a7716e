import type { Clock } from '../core/clock.ts';
import type { Rng } from '../core/rng.ts';
import { resolveConfig, rideRequestSchema, type DispatchConfig, type DispatchConfigInput, type Hub } from './config.ts';
import { driverOption, type DriverOption } from './drivers.ts';
import { findBestInsertion, legsFor, Stage, maxStage, stageReason, type InsertionDecision, type InsertionRequest } from './insertion.ts';
import { LegCache, Legs } from './legs.ts';
import type { TravelTimeOracle } from './oracle.ts';
import { apportion, assignIdleBuses, hubDemandScores, nearestHub } from './rebalancing.ts';
import { localSearch, type ReoptimiseResult, type SearchHost } from './reoptimise.ts';
import { computeSchedule, findViolations, type PlanContext, type Schedule, type Violation } from './schedule.ts';
import { clearHolds, holdPickups, insertRequestStops, pinDueStops, removeRequestStops } from './scheduler.ts';
import { inServiceArea } from './serviceArea.ts';
import { lineDepartures } from './timetable.ts';
import type {
  Booking,
  BookingStatus,
  DesiredTime,
  DispatchEvent,
  DispatchEventType,
  DriverShift,
  Location,
  Offer,
  OnboardRequest,
  PlanStop,
  RebalanceMove,
  Rejection,
  RejectionReason,
  RideRequest,
  RiderPromise,
  VehiclePlan,
  VehicleState,
  VehicleStatus,
  VehicleTask,
  VehicleUpdate,
} from './types.ts';
import { buildVehicleEntry, type VehicleEntry } from './vehicleEntry.ts';

export interface DispatcherDeps {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly oracle: TravelTimeOracle;
  readonly config: DispatchConfigInput;
}

export type ConfirmResult =
  | { readonly ok: true; readonly requestId: string; readonly vehicleId: string; readonly promise: RiderPromise; readonly reassigned: boolean }
  | {
      readonly ok: false;
      readonly requestId?: string;
      readonly reason: RejectionReason | 'unknown-offer' | 'not-pending';
      readonly message: string;
    };

export type NoShowResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'unknown' | 'not-pending' | 'not-arrived' | 'too-early'; readonly waitUntil?: number };

export interface RequestOptions {
  /** Only consider these buses (Leitstand books a caller onto a specific bus). */
  readonly vehicleIds?: readonly string[];
}

export interface TickResult {
  readonly expired: string[];
  readonly reoptimised: ReoptimiseResult | null;
}

/** Serialisable state: confirmed bookings and plans survive a restart (journal/restore). */
export interface DispatcherSnapshot {
  readonly version: 1;
  readonly idSeq: number;
  readonly eventSeq: number;
  readonly lastReoptimiseAt: number;
  readonly roster: DriverShift[];
  readonly vehicles: Array<{
    readonly state: VehicleState;
    readonly stops: PlanStop[];
    readonly onboard: OnboardRequest[];
    readonly reservedDriverId: string | null;
    readonly task: VehicleTask | null;
    readonly charging?: boolean;
    readonly standing?: boolean;
  }>;
  readonly bookings: Booking[];
  readonly demand: Array<{ readonly time: number; readonly hubId: string }>;
}

interface VehicleRecord {
  state: VehicleState;
  stops: PlanStop[];
  onboard: OnboardRequest[];
  reservedDriverId: string | null;
  task: VehicleTask | null;
  /**
   * Sent to the depot to charge by the dispatcher: not plannable until the reported SoC reaches resumeSoc.
   * Kept apart from the server-reported status, which says whether the bus is in service at all.
   */
  charging: boolean;
  /**
   * The bus stands at its reported position after arriving or serving a stop there (until it reports another
   * position): stops due there are pinned (see PlanStop.pinned).
   */
  standing: boolean;
  /** Bumped on every change of plan or state: invalidates cached entries. */
  version: number;
  cache: { version: number; startTime: number; latestEnd: number; activation: number; margin: number; entry: VehicleEntry } | null;
  atRisk: Set<string>;
}

/** One way of serving a request: insertion constraints plus what the promise will say. */
interface Attempt {
  readonly ir: InsertionRequest;
  /** Bounds the promised pickup window is cut from. */
  readonly windowBounds: { readonly start: number; readonly end: number };
  /** Fixed window (re-insertion of an existing promise) instead of one cut around the planned pickup. */
  readonly fixedWindow?: { readonly start: number; readonly end: number };
  readonly transfer?: { readonly hubId: string; readonly departure: number; readonly lineId?: string };
  /** Planning margin the insertion must keep (new requests), 0 for an existing promise. */
  readonly marginMs: number;
}

const MAX_EXACT_RETRIES = 5;
const FINISHED: ReadonlySet<string> = new Set<BookingStatus>(['completed', 'cancelled', 'no-show', 'expired', 'declined']);

/**
 * The online dispatcher, a pure core: clock, rng, routing oracle and config are injected; no I/O.
 * Decide (insertion finder, local search) and apply (scheduler) are separate; every plan change is re-timed
 * and checked exactly before it is committed, so a confirmed promise is never broken by a dispatcher decision.
 */
export class Dispatcher {
  readonly config: DispatchConfig;
  /**
   * Candidates the O(1) estimator accepted but the exact re-check refused. Stays 0 with an oracle that keeps
   * the triangle inequality; anything else points at the oracle (or a bug) and is worth a metric.
   */
  readonly diagnostics = { exactRefusals: 0 };
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly legs: Legs;
  private readonly legCache: LegCache;
  private readonly vehicles = new Map<string, VehicleRecord>();
  private readonly bookingsById = new Map<string, Booking>();
  private readonly offered = new Set<string>();
  /** finished bookings, oldest first: beyond `retainFinished` they are forgotten */
  private finished: string[] = [];
  private readonly driverRoster = new Map<string, DriverShift>();
  private events: DispatchEvent[] = [];
  private demand: Array<{ time: number; hubId: string }> = [];
  private idSeq = 0;
  private eventSeq = 0;
  private lastReoptimiseAt: number;

  constructor(deps: DispatcherDeps) {
    this.config = resolveConfig(deps.config);
    this.clock = deps.clock;
    this.rng = deps.rng;
    this.legs = new Legs(deps.oracle, this.config.dwell.fixedMs);
    this.legCache = new LegCache(this.legs);
    this.lastReoptimiseAt = this.clock.now();
  }

  // ---------------------------------------------------------------- fleet and roster

  addVehicle(state: VehicleState): void {
    if (this.vehicles.has(state.id)) throw new Error(`vehicle ${state.id} already known`);
    this.checkDriverUnique(state.id, state.driverId);
    this.vehicles.set(state.id, {
      state: { status: 'available', ...state },
      stops: [],
      onboard: [],
      reservedDriverId: null,
      task: null,
      charging: state.status === 'charging',
      standing: false,
      version: 0,
      cache: null,
      atRisk: new Set(),
    });
  }

  /** Position/time where the bus can divert, SoC, driver lease, status. Unknown ids are added if complete. */
  updateVehicle(update: VehicleUpdate): void {
    const v = this.vehicles.get(update.id);
    if (!v) {
      const u = update as Partial<VehicleState>;
      if (u.seats === undefined || u.wheelchairPlaces === undefined || !u.position || u.time === undefined || u.soc === undefined) {
        throw new Error(`unknown vehicle ${update.id}: add it with a complete state first`);
      }
      this.addVehicle(update as VehicleState);
      return;
    }
    if (update.driverId !== undefined && update.driverId !== v.state.driverId) this.checkDriverUnique(v.state.id, update.driverId);
    const prevDriver = v.state.driverId ?? null;
    if (update.position) v.standing = false; // positions come from a moving bus (none are sent while it stands at a stop)
    v.state = { ...v.state, ...update };
    const now = this.clock.now();
    if (v.state.driverId && v.state.driverId !== prevDriver && v.reservedDriverId && v.reservedDriverId !== v.state.driverId) {
      this.emit('driver-released', { vehicleId: v.state.id, data: { driverId: v.reservedDriverId } });
      v.reservedDriverId = null;
    } else if (v.state.driverId && v.state.driverId === v.reservedDriverId) {
      v.reservedDriverId = null; // the reserved driver took over: now a lease
    }
    if (update.status === 'charging') v.charging = true;
    if (v.charging && v.state.soc >= this.config.battery.resumeSoc) {
      v.charging = false;
      if (v.state.status === 'charging') v.state = { ...v.state, status: 'available' };
      v.task = null;
      this.emit('charged', { vehicleId: v.state.id, data: { soc: v.state.soc } });
    }
    if (v.task?.kind === 'rebalance' && v.task.to.id === v.state.position.id) v.task = null;
    this.touch(v);
    this.flagRisks(v, now);
  }

  /** Drivers and their shifts. A shortened shift can put plans at risk: those riders are flagged. */
  setRoster(drivers: readonly DriverShift[]): void {
    this.driverRoster.clear();
    for (const d of drivers) this.driverRoster.set(d.id, d);
    const now = this.clock.now();
    for (const v of this.sortedVehicles()) {
      this.touch(v);
      this.flagRisks(v, now);
    }
  }

  /**
   * Moves every rider still waiting for a bus that cannot go on (breakdown, taken out of service, no driver)
   * to other buses, keeping each rider's promise. Riders on board cannot be moved; riders no other bus can
   * take as promised stay and are reported as stranded (and flagged at risk).
   */
  reassignFrom(vehicleId: string): { moved: string[]; stranded: string[] } {
    this.catchUp();
    const v = this.vehicleOrThrow(vehicleId);
    const moved: string[] = [], stranded: string[] = [];
    const waiting = v.stops.filter((s) => s.kind === 'pickup').map((s) => s.requestId);
    const others = this.sortedVehicles().filter((x) => x !== v).map((x) => x.state.id);
    for (const id of waiting) {
      const b = this.bookingsById.get(id)!;
      const before = { stops: v.stops, schedule: this.timing(v).schedule };
      const status = b.status === 'offered' ? 'offered' : 'confirmed';
      const keep = v.stops;
      // The bus's driver reservation stays while its riders are tried elsewhere: stranded riders keep it.
      this.removeFromPlan(v, id, before, true);
      const placed = this.place(specOf(b), this.promiseAttempt(b), status, others, b);
      if ('booking' in placed) {
        moved.push(id);
        this.emit('reassign', { requestId: id, vehicleId: b.vehicleId!, data: { from: vehicleId } });
      } else {
        v.stops = keep; // nobody else can keep the promise: it stays where it was
        this.touch(v);
        b.vehicleId = vehicleId;
        stranded.push(id);
      }
    }
    this.releaseDriverIfIdle(v);
    this.flagRisks(v, this.clock.now());
    return { moved, stranded };
  }

  /**
   * Travel times changed (a road closure opened or closed, new traffic speeds): drop cached legs so later
   * decisions use the new times, re-time every plan and flag riders whose promise no longer fits.
   */
  invalidateTravelTimes(): void {
    this.legCache.clear();
    const now = this.clock.now();
    for (const v of this.sortedVehicles()) {
      this.touch(v);
      this.flagRisks(v, now);
    }
  }

  roster(): DriverShift[] {
    return [...this.driverRoster.values()];
  }

  // ---------------------------------------------------------------- requests

  request(req: RideRequest, opts: RequestOptions = {}): Offer | Rejection {
    this.catchUp();
    const r = rideRequestSchema.parse(req);
    const now = this.clock.now();
    const id = r.id ?? this.nextId('r');
    if (this.bookingsById.has(id)) throw new Error(`request id ${id} already used`);
    const time: DesiredTime = r.time ?? { type: 'now' };
    let dropoff: Location = r.dropoff;
    if (r.transfer) {
      const hub = this.hub(r.transfer.hubId);
      if (!hub) throw new Error(`unknown hub ${r.transfer.hubId}`);
      dropoff = hub.location; // a transfer ends at the hub's stop, whatever place the rider picked
      if (dropoff.id === r.pickup.id) throw new Error('a transfer ride cannot start at its own hub');
    }
    const area = this.config.serviceArea;
    if (!inServiceArea(area, r.pickup.lat, r.pickup.lon) || !inServiceArea(area, dropoff.lat, dropoff.lon)) {
      return this.reject(id, 'outside-service-area', 'Pickup or drop-off is outside the service area.');
    }
    const desired = time.type === 'now' ? now : time.type === 'departure' ? time.at : time.by;
    if (desired > now + this.config.promises.prebookHorizonMs) {
      return this.reject(id, 'window', 'The requested time is beyond the pre-booking horizon.');
    }
    const spec: RequestSpec = {
      id,
      riderId: r.riderId,
      pickup: r.pickup,
      dropoff,
      passengers: r.passengers,
      wheelchairs: r.wheelchairs ?? 0,
      time,
      transfer: r.transfer,
    };
    const hubNear = nearestHub(this.config.hubs, r.pickup);
    if (hubNear) this.recordDemand(now, hubNear.id);

    const attempts = this.attemptsFor(spec, now);
    if (attempts === null) return this.reject(id, 'outside-service-area', 'No road connection between pickup and drop-off.');
    let stage: Stage = Stage.Feasible;
    let unavailable: RejectionReason = 'no-driver';
    for (const a of attempts) {
      const placed = this.place(spec, a, 'offered', opts.vehicleIds);
      if ('booking' in placed) return this.offerOf(placed.booking);
      stage = maxStage(stage, placed.stage);
      unavailable = placed.unavailable;
    }
    if (attempts.length === 0) stage = Stage.Window;
    const reason = this.rejectionReason(stage, unavailable, attempts, now, opts.vehicleIds);
    const alternative = reason === 'capacity' && stage === Stage.StaticCapacity ? undefined : this.alternativeFor(spec, now, opts.vehicleIds);
    return this.reject(id, reason, REASON_TEXT[reason], alternative);
  }

  /** Confirmation re-checks the offer against the current plans and commits it. */
  confirm(offerId: string): ConfirmResult {
    this.catchUp();
    const id = offerId.startsWith('o-') ? offerId.slice(2) : offerId;
    const b = this.bookingsById.get(id);
    if (!b) return { ok: false, reason: 'unknown-offer', message: 'Unknown offer.' };
    if (b.status === 'confirmed' || b.status === 'onboard') {
      return { ok: true, requestId: b.id, vehicleId: b.vehicleId!, promise: b.promise, reassigned: false };
    }
    if (b.status !== 'offered' && b.status !== 'expired') {
      return { ok: false, requestId: b.id, reason: 'not-pending', message: `Booking is ${b.status}.` };
    }
    const v = b.vehicleId ? this.vehicles.get(b.vehicleId) : undefined;
    // A bus already standing at the pickup keeps its rider, whatever its plan looks like (pinned stop).
    const pinned = v?.stops.some((x) => x.requestId === b.id && x.pinned) ?? false;
    if (b.status === 'offered' && v && (pinned || this.planViolations(v).length === 0)) {
      this.finishConfirm(b);
      return { ok: true, requestId: b.id, vehicleId: v.state.id, promise: b.promise, reassigned: false };
    }
    // The offer lapsed or its bus fell behind: try to keep the very same promise on any bus.
    const prevVehicle = b.vehicleId;
    if (v && b.status === 'offered') this.removeFromPlan(v, b.id);
    const placed = this.place(specOf(b), this.promiseAttempt(b), 'confirmed', undefined, b);
    if ('booking' in placed) {
      this.finishConfirm(b);
      if (prevVehicle !== b.vehicleId) this.emit('reassign', { requestId: b.id, vehicleId: b.vehicleId!, data: { from: prevVehicle } });
      return { ok: true, requestId: b.id, vehicleId: b.vehicleId!, promise: b.promise, reassigned: prevVehicle !== b.vehicleId };
    }
    b.status = 'expired';
    b.vehicleId = null;
    this.offered.delete(b.id);
    this.finish(b);
    const reason = this.rejectionReason(placed.stage, placed.unavailable, [this.promiseAttempt(b)], this.clock.now());
    this.emit('confirm-failed', { requestId: b.id, data: { reason } });
    return { ok: false, requestId: b.id, reason, message: 'The offer can no longer be kept; please request again.' };
  }

  /** The rider turned the offer down: its seats are freed at once. */
  decline(offerId: string): boolean {
    const id = offerId.startsWith('o-') ? offerId.slice(2) : offerId;
    const b = this.bookingsById.get(id);
    if (!b || b.status !== 'offered') return false;
    this.dropBooking(b, 'declined');
    this.emit('decline', { requestId: id });
    return true;
  }

  cancel(requestId: string): boolean {
    this.catchUp();
    const b = this.bookingsById.get(requestId);
    if (!b || (b.status !== 'offered' && b.status !== 'confirmed')) return false;
    this.dropBooking(b, 'cancelled');
    this.emit('cancel', { requestId, vehicleId: b.vehicleId ?? undefined });
    return true;
  }

  /** Allowed once the bus has waited `noShowWaitMs` at the pickup, counted from arrival or window start. */
  noShow(requestId: string): NoShowResult {
    const b = this.bookingsById.get(requestId);
    if (!b) return { ok: false, reason: 'unknown' };
    if (b.status !== 'confirmed') return { ok: false, reason: 'not-pending' };
    if (b.arrivedAt === undefined) return { ok: false, reason: 'not-arrived' };
    const waitUntil = Math.max(b.arrivedAt, b.promise.pickupWindow.start) + this.config.noShowWaitMs;
    const now = this.clock.now();
    if (now < waitUntil) return { ok: false, reason: 'too-early', waitUntil };
    const v = this.vehicleOrThrow(b.vehicleId!);
    // The bus stands at the pickup and leaves now. Holds come from the plan as it was, which was feasible.
    const before = this.snapshotPlan(v);
    v.state = { ...v.state, position: b.pickup, time: Math.max(v.state.time, now) };
    v.standing = true;
    this.removeFromPlan(v, b.id, before);
    b.status = 'no-show';
    this.offered.delete(b.id);
    this.finish(b);
    this.emit('no-show', { requestId, vehicleId: v.state.id });
    this.flagRisks(v, now);
    return { ok: true };
  }

  // ---------------------------------------------------------------- progress hooks (plan shrinks as it is driven)

  /**
   * The bus reached its next stop's place at `time` (wheels stopped, doors still closed). Pickups there start
   * their no-show clock. The stops it serves there now (riders alighting, riders whose window has opened) are
   * pinned: they stay first in the plan until served, cancelled or given up; a pickup whose window opens later
   * is pinned once it opens while the bus still stands there (see `catchUp`). A bus coming from elsewhere can
   * serve from `time` + the fixed dwell on (the plan's legs include it); a bus already standing there (it just
   * served a stop at the same place) goes on at once. Call it once per dwell, as the bus controller does.
   */
  vehicleArrived(vehicleId: string, time = this.clock.now()): void {
    const v = this.vehicleOrThrow(vehicleId);
    const first = v.stops[0];
    if (!first) return;
    const from = v.state.position.id === first.location.id ? time : time + this.config.dwell.fixedMs;
    v.state = { ...v.state, position: first.location, time: Math.max(from, v.state.time) };
    v.standing = true;
    v.stops = pinDueStops(v.stops, first.location.id, time, this.config.dwell.fixedMs);
    for (const s of v.stops) {
      if (s.location.id !== first.location.id) break;
      if (s.kind === 'pickup') {
        const b = this.bookingsById.get(s.requestId);
        if (b && b.arrivedAt === undefined) b.arrivedAt = time;
      }
    }
    this.touch(v);
    this.emit('arrive', { vehicleId, data: { location: first.location.id } });
  }

  /** The rider boarded; `time` is when the bus can leave (doors closed): the ride time counts from here. */
  pickedUp(requestId: string, time = this.clock.now()): void {
    const b = this.bookingOrThrow(requestId);
    if (b.status !== 'confirmed' && b.status !== 'offered') throw new Error(`cannot pick up ${requestId}: ${b.status}`);
    const v = this.vehicleOrThrow(b.vehicleId!);
    const stop = v.stops.find((s) => s.requestId === requestId && s.kind === 'pickup')!;
    const w = b.promise.pickupWindow;
    // `time` is the departure: service started serviceMs earlier and must lie in the promised window.
    if (time - stop.serviceMs < w.start - 1 || time - stop.serviceMs > w.end + 1) {
      this.emit('promise-at-risk', { requestId, vehicleId: v.state.id, data: { kind: 'pickup-window', time } });
    }
    v.stops = v.stops.filter((s) => s !== stop);
    v.onboard = [...v.onboard, { requestId, pickedUpAt: time, seats: b.passengers - b.wheelchairs, wheelchairs: b.wheelchairs }];
    v.state = { ...v.state, position: stop.location, time };
    v.standing = true;
    b.status = 'onboard';
    b.pickedUpAt = time;
    this.offered.delete(requestId);
    this.touch(v);
    this.emit('pickup', { requestId, vehicleId: v.state.id });
  }

  droppedOff(requestId: string, time = this.clock.now()): void {
    const b = this.bookingOrThrow(requestId);
    if (b.status !== 'onboard') throw new Error(`cannot drop off ${requestId}: ${b.status}`);
    const v = this.vehicleOrThrow(b.vehicleId!);
    const stop = v.stops.find((s) => s.requestId === requestId && s.kind === 'dropoff')!;
    v.stops = v.stops.filter((s) => s !== stop);
    v.onboard = v.onboard.filter((o) => o.requestId !== requestId);
    v.state = { ...v.state, position: stop.location, time };
    v.standing = true;
    b.status = 'completed';
    b.droppedOffAt = time;
    this.finish(b);
    this.releaseDriverIfIdle(v);
    this.touch(v);
    this.emit('dropoff', { requestId, vehicleId: v.state.id });
  }

  // ---------------------------------------------------------------- periodic work

  /** Expires lapsed offers and runs the re-optimisation when its interval has passed. */
  tick(): TickResult {
    const expired = this.catchUp();
    const now = this.clock.now();
    const reoptimised = now - this.lastReoptimiseAt >= this.config.reoptimisation.intervalMs ? this.reoptimise() : null;
    return { expired, reoptimised };
  }

  reoptimise(): ReoptimiseResult {
    this.catchUp();
    const now = this.clock.now();
    this.lastReoptimiseAt = now;
    const busy = this.busyDrivers();
    const driven: Array<{ v: VehicleRecord; opt: DriverOption }> = [];
    for (const v of this.sortedVehicles()) {
      if (this.statusOf(v) !== 'available') continue;
      const opt = driverOption({ driverId: v.state.driverId, reservedDriverId: v.reservedDriverId }, this.driverRoster, busy, now);
      // Only buses that already have their driver: moving work onto a bus would otherwise wake a new driver.
      if (opt && opt.kind !== 'free') driven.push({ v, opt });
    }
    const options = new Map<string, DriverOption>();
    for (const { v, opt } of this.searchArea(driven)) if (this.planViolations(v).length === 0) options.set(v.state.id, opt);
    const owner = new Map<string, string>();
    for (const id of options.keys()) for (const s of this.vehicles.get(id)!.stops) owner.set(s.requestId, id);
    const before = new Map<string, string>(owner);
    const host: SearchHost = {
      vehicleIds: [...options.keys()],
      stops: (vid) => this.vehicles.get(vid)!.stops,
      context: (vid, stops) => this.planContext(this.vehicles.get(vid)!, stops, options.get(vid)!, now),
      leg: this.legCache.leg,
      legs: this.legs,
      insertionRequest: (rid) => {
        const b = this.bookingsById.get(rid);
        return b && (b.status === 'confirmed' || b.status === 'offered') ? this.promiseAttempt(b).ir : null;
      },
      vehicleOf: (rid) => owner.get(rid) ?? null,
      commit: (vid, stops) => {
        const v = this.vehicles.get(vid)!;
        this.setPlan(v, stops, now);
        for (const s of stops) owner.set(s.requestId, vid);
      },
      rng: this.rng,
    };
    const res = localSearch(host, this.config.reoptimisation);
    for (const [rid, vid] of owner) {
      const b = this.bookingsById.get(rid)!;
      b.vehicleId = vid;
      if (before.get(rid) !== vid) this.emit('reassign', { requestId: rid, vehicleId: vid, data: { from: before.get(rid) } });
    }
    this.emit('reoptimise', {
      data: { before: res.vehicleTimeBeforeMs, after: res.vehicleTimeAfterMs, moves: res.moves.length },
    });
    return res;
  }

  /**
   * The buses one re-optimisation call works on: all of a small fleet; of a bigger one, the `maxVehicles` nearest
   * to a bus drawn at random (a neighbourhood: relocations and exchanges pay off between buses close together).
   * Every call re-times each plan it looks at, so on a fleet of hundreds with a thousand live bookings a call over
   * all of them blocked the server for 15–30 ms every 2 s; the draw covers the whole fleet over a few calls.
   */
  private searchArea<T extends { v: VehicleRecord }>(buses: T[]): T[] {
    const k = this.config.reoptimisation.maxVehicles;
    if (buses.length <= k) return buses;
    const anchor = this.rng.pick(buses).v.state.position;
    const cos = Math.cos((anchor.lat * Math.PI) / 180);
    const near = buses.map((b, i) => {
      const p = b.v.state.position;
      const dy = p.lat - anchor.lat, dx = (p.lon - anchor.lon) * cos;
      return { i, d: dx * dx + dy * dy };
    });
    // ties by index: the buses come sorted by id, so the area is deterministic for a given draw
    near.sort((a, b) => a.d - b.d || a.i - b.i);
    return near.slice(0, k).map((x) => x.i).sort((a, b) => a - b).map((i) => buses[i]);
  }

  /** Moves for idle buses: low battery → depot; otherwise wait at hubs in proportion to demand. */
  idleRebalancing(): RebalanceMove[] {
    this.catchUp();
    const now = this.clock.now();
    const cfg = this.config;
    const moves: RebalanceMove[] = [];
    const idle: VehicleRecord[] = [];
    for (const v of this.sortedVehicles()) {
      if (v.stops.length > 0 || v.onboard.length > 0) continue;
      if (this.statusOf(v) !== 'available' || !v.state.driverId) continue; // only a driven bus moves
      if (v.state.soc <= cfg.battery.lowSoc) {
        if (v.state.position.id !== cfg.depot.id && v.task?.kind !== 'charge') {
          moves.push(this.startTask(v, 'charge', cfg.depot, undefined, now));
        }
        v.charging = true;
        this.touch(v);
        continue;
      }
      idle.push(v);
    }
    if (cfg.hubs.length === 0 || idle.length === 0) return moves;

    const horizon = now + cfg.rebalancing.horizonMs;
    const prebooked: Array<{ time: number; hubId: string }> = [];
    for (const b of this.bookingsById.values()) {
      if (b.status !== 'confirmed' || b.promise.pickupWindow.start < now || b.promise.pickupWindow.start > horizon) continue;
      const h = nearestHub(cfg.hubs, b.pickup);
      if (h) prebooked.push({ time: b.promise.pickupWindow.start, hubId: h.id });
    }
    const lineDeps = new Map<string, number>();
    if (cfg.timetable) for (const h of cfg.hubs) lineDeps.set(h.id, lineDepartures(cfg.timetable, h.id, now, horizon).length);
    const scores = hubDemandScores(cfg.hubs, {
      now,
      halfLifeMs: cfg.rebalancing.demandHalfLifeMs,
      recent: this.demand,
      prebooked,
      prebookedWeight: cfg.rebalancing.prebookedWeight,
      lineDepartures: lineDeps,
      lineDepartureWeight: cfg.rebalancing.lineDepartureWeight,
      baseWeight: cfg.rebalancing.baseWeight,
    });
    const targets = apportion(scores, idle.length);
    const hubAt = (loc: Location) => cfg.hubs.find((h) => h.location.id === loc.id)?.id ?? null;
    const assignment = assignIdleBuses(
      idle.map((v) => ({ id: v.state.id, position: v.state.position, hubId: v.task?.hubId ?? hubAt(v.state.position) })),
      cfg.hubs,
      targets,
      (a, b) => this.legs.travelMs(a, b),
    );
    for (const v of idle) {
      const hubId = assignment.get(v.state.id);
      if (!hubId) continue;
      const current = v.task?.hubId ?? hubAt(v.state.position);
      if (current === hubId) continue;
      const hub = this.hub(hubId)!;
      // Never strand a bus: it must still reach the depot above the reserve after the move.
      const e = this.energyOf(v);
      const need = (this.legs.distM(v.state.position, hub.location) + this.legs.distM(hub.location, cfg.depot)) * e.kWhPerM;
      if (need > e.availableKWh) {
        moves.push(this.startTask(v, 'charge', cfg.depot, undefined, now));
        v.charging = true;
        this.touch(v);
        continue;
      }
      moves.push(this.startTask(v, 'rebalance', hub.location, hubId, now));
    }
    return moves;
  }

  // ---------------------------------------------------------------- views

  /** Changes whenever a bus's plan or state changes: lets a caller rebuild only the plans that changed. */
  planVersion(vehicleId: string): number {
    return this.vehicles.get(vehicleId)?.version ?? -1;
  }

  /** The buses, by id. */
  /** Where every bus can divert from now (its last reported position): the places a request's legs start from. */
  vehiclePositions(): Location[] {
    return Array.from(this.vehicles.values(), (v) => v.state.position);
  }

  /**
   * The places a request's legs may be asked for from and to (every bus's position and planned stops, the depot):
   * a superset, for computing them ahead (RoadOracle.prefetch); the search asks for what it needs either way.
   */
  insertionPlaces(): Location[] {
    const seen = new Set<Location['id']>();
    const out: Location[] = [];
    const add = (l: Location) => {
      if (seen.has(l.id)) return;
      seen.add(l.id);
      out.push(l);
    };
    add(this.config.depot);
    for (const v of this.vehicles.values()) {
      add(v.state.position);
      for (const s of v.stops) add(s.location);
    }
    return out;
  }

  vehicleIds(): string[] {
    return this.sortedVehicles().map((v) => v.state.id);
  }

  /** The buses the dispatcher plans with this driver (one at most, unless a caller is mid-handover). */
  vehiclesWithDriver(driverId: string): string[] {
    const out: string[] = [];
    for (const v of this.vehicles.values()) if (v.state.driverId === driverId) out.push(v.state.id);
    return out;
  }

  plans(): VehiclePlan[] {
    return this.sortedVehicles().map((v) => this.planView(v));
  }

  plan(vehicleId: string): VehiclePlan | undefined {
    const v = this.vehicles.get(vehicleId);
    return v ? this.planView(v) : undefined;
  }

  booking(requestId: string): Readonly<Booking> | undefined {
    return this.bookingsById.get(requestId);
  }

  bookings(): ReadonlyArray<Readonly<Booking>> {
    return [...this.bookingsById.values()];
  }

  /** Events since the last drain, for the journal and the Leitstand. */
  drainEvents(): DispatchEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  /** Driving + dwell time of all current plans (the re-optimisation objective). */
  totalVehicleTimeMs(): number {
    let t = 0;
    for (const v of this.vehicles.values()) t += this.timing(v).schedule.vehicleTimeMs;
    return t;
  }

  /** Every broken constraint in every plan (empty when all promises hold). For tests and monitoring. */
  audit(): Array<{ vehicleId: string; violation: Violation }> {
    const out: Array<{ vehicleId: string; violation: Violation }> = [];
    for (const v of this.sortedVehicles()) for (const violation of this.planViolations(v)) out.push({ vehicleId: v.state.id, violation });
    return out;
  }

  /**
   * The state to persist, as a view of the live objects, not a copy: serialise it at once (the stores stringify
   * it in `commit`). Copying it first cost more than the serialisation itself with every change.
   */
  toJSON(): DispatcherSnapshot {
    return {
      version: 1 as const,
      idSeq: this.idSeq,
      eventSeq: this.eventSeq,
      lastReoptimiseAt: this.lastReoptimiseAt,
      roster: this.roster(),
      vehicles: this.sortedVehicles().map((v) => ({
        state: v.state,
        stops: v.stops,
        onboard: v.onboard,
        reservedDriverId: v.reservedDriverId,
        task: v.task,
        charging: v.charging,
        standing: v.standing,
      })),
      bookings: [...this.bookingsById.values()],
      demand: this.demand,
    };
  }

  static fromJSON(snapshot: DispatcherSnapshot, deps: DispatcherDeps): Dispatcher {
    if (snapshot.version !== 1) throw new Error(`unsupported dispatcher snapshot version ${String(snapshot.version)}`);
    const s = structuredClone(snapshot);
    const d = new Dispatcher(deps);
    d.idSeq = s.idSeq;
    d.eventSeq = s.eventSeq;
    d.lastReoptimiseAt = s.lastReoptimiseAt;
    d.setRoster(s.roster);
    for (const v of s.vehicles) {
      d.addVehicle(v.state);
      const r = d.vehicles.get(v.state.id)!;
      r.stops = v.stops;
      r.onboard = v.onboard;
      r.reservedDriverId = v.reservedDriverId;
      r.task = v.task;
      r.charging = v.charging ?? false;
      r.standing = v.standing ?? false;
    }
    for (const b of s.bookings) {
      d.bookingsById.set(b.id, b);
      if (b.status === 'offered') d.offered.add(b.id);
      if (FINISHED.has(b.status)) d.finished.push(b.id);
    }
    d.demand = s.demand;
    return d;
  }

  // ---------------------------------------------------------------- internals: placing requests

  /**
   * Decide (best insertion over all plannable buses) then apply (scheduler + exact re-check). A candidate the
   * exact check refuses is excluded and the search repeated.
   */
  private place(
    spec: RequestSpec,
    attempt: Attempt,
    status: 'offered' | 'confirmed',
    onlyVehicles?: readonly string[],
    existing?: Booking,
  ): { booking: Booking } | { stage: Stage; unavailable: RejectionReason } {
    const now = this.clock.now();
    const { entries, stage: unavailStage, unavailable } = this.entries(now, onlyVehicles, attempt.marginMs);
    const legs = legsFor(this.legs, entries, attempt.ir);
    const refused = new Set<string>();
    const exclude = (vid: string, i: number, j: number) => refused.has(`${vid}/${i}/${j}`);
    for (let k = 0; k <= MAX_EXACT_RETRIES; k++) {
      const res = findBestInsertion(entries, attempt.ir, legs, this.config.cost, refused.size ? exclude : undefined);
      if (!res.best) return { stage: maxStage(res.stage, unavailStage), unavailable };
      const booking = this.commitInsertion(spec, attempt, res.best, status, now, existing);
      if (booking) return { booking };
      this.diagnostics.exactRefusals++;
      refused.add(`${res.best.vehicleId}/${res.best.pickupIdx}/${res.best.dropoffIdx}`);
    }
    return { stage: Stage.Window, unavailable };
  }

  private commitInsertion(
    spec: RequestSpec,
    attempt: Attempt,
    d: InsertionDecision,
    status: 'offered' | 'confirmed',
    now: number,
    existing?: Booking,
  ): Booking | null {
    const v = this.vehicles.get(d.vehicleId)!;
    const ir = attempt.ir;
    const window = attempt.fixedWindow ?? cutWindow(attempt.windowBounds, d.pickupTime, this.config.promises.pickupWindowMs);
    // The promise is the hard bound; the insertion request carried it minus the planning margin.
    const latestArrival = Number.isFinite(ir.latestArrival) ? ir.latestArrival + attempt.marginMs : undefined;
    const pickup: PlanStop = {
      kind: 'pickup',
      requestId: spec.id,
      location: ir.pickup,
      serviceMs: ir.pickupServiceMs,
      seats: ir.seats,
      wheelchairs: ir.wheelchairs,
      earliest: window.start,
      latest: window.end,
    };
    const dropoff: PlanStop = {
      kind: 'dropoff',
      requestId: spec.id,
      location: ir.dropoff,
      serviceMs: ir.dropoffServiceMs,
      seats: ir.seats,
      wheelchairs: ir.wheelchairs,
      latest: latestArrival,
      maxRideMs: ir.maxRideMs,
    };
    const opt = this.driverOptionOf(v, now);
    if (!opt) return null;
    const ctx0 = this.planContext(v, v.stops, opt, now);
    const stops = insertRequestStops(v.stops, d.pickupIdx, d.dropoffIdx, pickup, dropoff);
    let ctx = this.planContext(v, stops, opt, now);
    let sch = computeSchedule(ctx, this.legCache.leg);
    if (findViolations(ctx, sch).length > 0) {
      const held = holdPickups(stops, { stops: v.stops, schedule: computeSchedule(ctx0, this.legCache.leg) });
      ctx = this.planContext(v, held, opt, now);
      sch = computeSchedule(ctx, this.legCache.leg);
      if (findViolations(ctx, sch).length > 0) return null;
    }
    // Apply.
    this.setPlan(v, [...ctx.stops], now);
    if (opt.kind === 'free') {
      v.reservedDriverId = opt.driverId;
      this.emit('driver-needed', { vehicleId: v.state.id, data: { driverId: opt.driverId, from: ctx.start.time } });
    }
    this.touch(v);
    const k = v.stops.indexOf(pickup);
    const kd = v.stops.indexOf(dropoff);
    const promise: RiderPromise = { pickupWindow: window, maxRideMs: ir.maxRideMs, latestArrival };
    let b = existing;
    if (!b) {
      b = {
        id: spec.id,
        riderId: spec.riderId,
        pickup: ir.pickup,
        dropoff: ir.dropoff,
        passengers: spec.passengers,
        wheelchairs: spec.wheelchairs,
        time: spec.time,
        requestedAt: now,
        promise,
        transfer: attempt.transfer,
        status,
        vehicleId: v.state.id,
        offerExpiresAt: now + this.config.offerHoldMs,
      };
      this.bookingsById.set(b.id, b);
    } else {
      b.vehicleId = v.state.id;
      b.status = status;
    }
    if (status === 'offered') this.offered.add(b.id);
    this.emit(existing ? 'assign' : 'offer', {
      requestId: b.id,
      vehicleId: v.state.id,
      data: { pickup: sch.ready[k + 1], arrival: sch.ready[kd + 1], cost: d.cost },
    });
    return b;
  }

  /** Constraint sets to try in order (several line departures for an open timed transfer). Null: unreachable. */
  private attemptsFor(spec: RequestSpec, now: number): Attempt[] | null {
    const P = this.config.promises;
    const direct = this.legs.travelMs(spec.pickup, spec.dropoff);
    if (!Number.isFinite(direct)) return null;
    const minRide = this.legs.timeMs(spec.pickup, spec.dropoff);
    const maxRideMs = Math.round(P.rideAlpha * direct + P.rideBetaMs);
    const seats = spec.passengers - spec.wheelchairs;
    const dw = this.config.dwell;
    let E: number, L: number, desired: number, lD = Infinity;
    const t = spec.time;
    if (t.type === 'now') (E = now), (L = now + P.maxWaitMs), (desired = now);
    else if (t.type === 'departure') {
      E = Math.max(now, t.at);
      L = E + P.pickupWindowMs;
      desired = E;
    } else {
      lD = t.by;
      L = t.by - minRide;
      E = Math.max(now, t.by - maxRideMs - P.pickupWindowMs);
      desired = L;
    }
    // The promise is cut from the bounds; the plan keeps the margin inside them (pickup and latest arrival).
    const m = P.planningMarginMs;
    const make = (latestArrival: number, transfer?: Attempt['transfer']): Attempt => ({
      marginMs: m,
      ir: {
        requestId: spec.id,
        pickup: spec.pickup,
        dropoff: spec.dropoff,
        seats,
        wheelchairs: spec.wheelchairs,
        pickupServiceMs: seats * dw.perBoardingMs + spec.wheelchairs * dw.perWheelchairMs,
        dropoffServiceMs: seats * dw.perAlightingMs + spec.wheelchairs * dw.perWheelchairMs,
        earliestPickup: E,
        latestPickup: Math.min(L, latestArrival - minRide) - m,
        latestArrival: latestArrival - m,
        maxRideMs,
        desiredPickup: desired,
      },
      windowBounds: { start: E, end: L },
      transfer,
    });
    if (L < E) return [];
    if (!spec.transfer) return [make(lD)];
    const buffer = P.transferBufferMs;
    if (spec.transfer.departure !== undefined) {
      const dep = spec.transfer.departure;
      return [make(Math.min(lD, dep - buffer), { hubId: spec.transfer.hubId, departure: dep, lineId: spec.transfer.lineId })];
    }
    if (!this.config.timetable) return [];
    // Open transfer: the earliest line departure the bus can make, then later ones.
    const deps = lineDepartures(this.config.timetable, spec.transfer.hubId, E + minRide + buffer, Math.min(L + maxRideMs, lD) + buffer, spec.transfer.lineId);
    return deps.map((x) => make(Math.min(lD, x.time - buffer), { hubId: x.hubId, departure: x.time, lineId: x.lineId }));
  }

  /** A booking's promise as hard insertion constraints (re-insertion on confirm, local search). */
  private promiseAttempt(b: Booking): Attempt {
    const dw = this.config.dwell;
    const seats = b.passengers - b.wheelchairs;
    const w = b.promise.pickupWindow;
    return {
      ir: {
        requestId: b.id,
        pickup: b.pickup,
        dropoff: b.dropoff,
        seats,
        wheelchairs: b.wheelchairs,
        pickupServiceMs: seats * dw.perBoardingMs + b.wheelchairs * dw.perWheelchairMs,
        dropoffServiceMs: seats * dw.perAlightingMs + b.wheelchairs * dw.perWheelchairMs,
        earliestPickup: w.start,
        latestPickup: w.end,
        latestArrival: b.promise.latestArrival ?? Infinity,
        maxRideMs: b.promise.maxRideMs,
        desiredPickup: w.start,
      },
      windowBounds: w,
      fixedWindow: w,
      transfer: b.transfer,
      marginMs: 0,
    };
  }

  /** Nearest time (±searchMs, stepMs steps) at which the request would be feasible now; nothing is committed. */
  private alternativeFor(spec: RequestSpec, now: number, only?: readonly string[]): Rejection['alternative'] {
    const { searchMs, stepMs } = this.config.alternatives;
    const t = spec.time;
    const base = t.type === 'now' ? now : t.type === 'departure' ? t.at : t.by;
    const type = t.type === 'arrival' ? 'arrival' : 'departure';
    const { entries } = this.entries(now, only, this.config.promises.planningMarginMs);
    for (let k = 1; k * stepMs <= searchMs; k++) {
      for (const sign of [1, -1]) {
        const at = base + sign * k * stepMs;
        if (at < now) continue;
        const alt: RequestSpec = { ...spec, time: type === 'arrival' ? { type: 'arrival', by: at } : { type: 'departure', at } };
        for (const a of this.attemptsFor(alt, now) ?? []) {
          const res = findBestInsertion(entries, a.ir, legsFor(this.legs, entries, a.ir), this.config.cost);
          if (res.best) return { type, time: at };
        }
      }
    }
    return undefined;
  }

  /**
   * Names the binding resource: a bus idle for want of a driver (or charge) that could have served → that;
   * else if more room on board would have made it → capacity; else the furthest stage the search reached.
   */
  private rejectionReason(
    stage: Stage,
    unavailable: RejectionReason,
    attempts: readonly Attempt[],
    now: number,
    only?: readonly string[],
  ): RejectionReason {
    const reason = stageReason(stage === Stage.Feasible ? Stage.Window : stage, unavailable);
    const blocker = this.blockedBusCouldServe(attempts, now, only);
    if (blocker) return blocker;
    if (reason !== 'capacity' && this.capacityBinds(attempts, now, only)) return 'capacity';
    return reason;
  }

  /** Would the running buses serve one of the attempts if they had unlimited room on board? */
  private capacityBinds(attempts: readonly Attempt[], now: number, only?: readonly string[]): boolean {
    const { entries } = this.entries(now, only, attempts[0]?.marginMs ?? 0);
    const roomy = entries.map((e) =>
      buildVehicleEntry(e.vehicleId, { ...e.ctx, seats: Number.MAX_SAFE_INTEGER, wheelchairPlaces: Number.MAX_SAFE_INTEGER }, this.legCache.leg, e.activationCostMs, e.schedule),
    );
    if (roomy.length === 0) return false;
    return attempts.some(
      (a) => findBestInsertion(roomy, a.ir, legsFor(this.legs, roomy, a.ir), this.config.cost).best !== null,
    );
  }

  /** Would an unplannable bus (no driver / charging) serve one of the attempts if it had a driver / charge? */
  private blockedBusCouldServe(attempts: readonly Attempt[], now: number, only?: readonly string[]): RejectionReason | null {
    const onlySet = only ? new Set(only) : null;
    const busy = this.busyDrivers();
    const hypothetical: Array<{ entry: VehicleEntry; reason: RejectionReason }> = [];
    for (const v of this.sortedVehicles()) {
      if (onlySet && !onlySet.has(v.state.id)) continue;
      const status = this.statusOf(v);
      const opt = driverOption({ driverId: v.state.driverId, reservedDriverId: v.reservedDriverId }, this.driverRoster, busy, now);
      const reason: RejectionReason | null = status === 'charging' ? 'battery' : status === 'available' && !opt ? 'no-driver' : null;
      if (!reason) continue;
      const any: DriverOption = { kind: 'free', driverId: '?', availableFrom: -Infinity, latestEnd: Infinity };
      const ctx = this.planContext(v, v.stops, any, now, attempts[0]?.marginMs ?? 0);
      const full = reason === 'battery' ? { ...ctx, energy: { ...ctx.energy, availableKWh: Infinity } } : ctx;
      hypothetical.push({ entry: buildVehicleEntry(v.state.id, full, this.legCache.leg), reason });
    }
    if (hypothetical.length === 0) return null;
    for (const a of attempts) {
      const entries = hypothetical.map((h) => h.entry);
      const res = findBestInsertion(entries, a.ir, legsFor(this.legs, entries, a.ir), this.config.cost);
      if (res.best) return hypothetical.find((h) => h.entry.vehicleId === res.best!.vehicleId)!.reason;
    }
    return null;
  }

  // ---------------------------------------------------------------- internals: plans

  private entries(now: number, only?: readonly string[], marginMs = 0): { entries: VehicleEntry[]; stage: Stage; unavailable: RejectionReason } {
    const entries: VehicleEntry[] = [];
    let stage: Stage = Stage.Feasible;
    let unavailable: RejectionReason = 'no-driver';
    const busy = this.busyDrivers();
    const onlySet = only ? new Set(only) : null;
    for (const v of this.sortedVehicles()) {
      if (onlySet && !onlySet.has(v.state.id)) continue;
      const status = this.statusOf(v);
      if (status !== 'available') {
        stage = maxStage(stage, Stage.Unavailable);
        if (status === 'charging') unavailable = 'battery';
        continue;
      }
      const opt = driverOption({ driverId: v.state.driverId, reservedDriverId: v.reservedDriverId }, this.driverRoster, busy, now);
      if (!opt) {
        stage = maxStage(stage, Stage.Unavailable);
        continue;
      }
      const activation = opt.kind === 'free' ? this.config.cost.driverActivationMs : 0;
      const startTime = this.startTime(v, opt, now);
      const c = v.cache;
      if (!c || c.version !== v.version || c.startTime !== startTime || c.latestEnd !== opt.latestEnd || c.activation !== activation || c.margin !== marginMs) {
        const ctx = this.planContext(v, v.stops, opt, now, marginMs);
        v.cache = { version: v.version, startTime, latestEnd: opt.latestEnd, activation, margin: marginMs, entry: buildVehicleEntry(v.state.id, ctx, this.legCache.leg, activation) };
      }
      entries.push(v.cache!.entry);
    }
    return { entries, stage, unavailable };
  }

  private planContext(v: VehicleRecord, stops: readonly PlanStop[], opt: DriverOption | null, now: number, marginMs = 0): PlanContext {
    const startTime = this.startTime(v, opt, now);
    return {
      planningMarginMs: marginMs,
      seats: v.state.seats,
      wheelchairPlaces: v.state.wheelchairPlaces,
      start: { location: v.state.position, time: startTime },
      onboard: v.onboard,
      stops,
      latestEnd: opt ? opt.latestEnd : stops.length > 0 ? -Infinity : Infinity,
      energy: this.energyOf(v),
    };
  }

  private startTime(v: VehicleRecord, opt: DriverOption | null, now: number): number {
    // An idle bus (nothing committed) stands still: it can leave now at the earliest. A busy bus's divert point
    // is as reported by the server (it may lie in the past while the bus drives the committed leg); a bus
    // standing at a stop is brought up to now before every decision (see catchUp).
    const idle = v.stops.length === 0 && v.onboard.length === 0;
    const t = idle ? Math.max(v.state.time, now) : v.state.time;
    // Nor can it move before its driver's shift starts.
    return opt && opt.availableFrom > t ? opt.availableFrom : t;
  }

  private statusOf(v: VehicleRecord): VehicleStatus {
    const s = v.state.status ?? 'available';
    return s === 'available' && v.charging ? 'charging' : s;
  }

  /**
   * Replaces a bus's plan. A bus that was idle starts its new plan from where it stands, now (its reported
   * time may be old); a plan checked with that start must be stored with it.
   */
  private setPlan(v: VehicleRecord, stops: PlanStop[], now: number): void {
    const wasIdle = v.stops.length === 0 && v.onboard.length === 0;
    if (wasIdle && stops.length > 0) {
      const opt = this.driverOptionOf(v, now);
      v.state = { ...v.state, time: this.startTime(v, opt, now) };
      v.task = null;
    }
    v.stops = stops;
    this.touch(v);
  }

  private energyOf(v: VehicleRecord): PlanContext['energy'] {
    const b = this.config.battery;
    const cap = v.state.batteryKWh ?? b.capacityKWh;
    return { availableKWh: (v.state.soc - b.reserveSoc) * cap, kWhPerM: b.consumptionKWhPerKm / 1000, depot: this.config.depot };
  }

  private driverOptionOf(v: VehicleRecord, now: number): DriverOption | null {
    // the busy set walks the fleet: only built when the bus has no driver of its own (else quadratic per request)
    return driverOption({ driverId: v.state.driverId, reservedDriverId: v.reservedDriverId }, this.driverRoster, () => this.busyDrivers(), now);
  }

  private timing(v: VehicleRecord): { ctx: PlanContext; schedule: Schedule } {
    const now = this.clock.now();
    const ctx = this.planContext(v, v.stops, this.driverOptionOf(v, now), now);
    return { ctx, schedule: computeSchedule(ctx, this.legCache.leg) };
  }

  private planViolations(v: VehicleRecord): Violation[] {
    const { ctx, schedule } = this.timing(v);
    return findViolations(ctx, schedule);
  }

  private planView(v: VehicleRecord): VehiclePlan {
    const { ctx, schedule } = this.timing(v);
    return {
      vehicleId: v.state.id,
      driverId: v.state.driverId ?? null,
      reservedDriverId: v.reservedDriverId,
      status: this.statusOf(v),
      start: { location: ctx.start.location, time: ctx.start.time },
      stops: v.stops.map((s, i) => ({
        kind: s.kind,
        requestId: s.requestId,
        location: s.location,
        arrival: schedule.arrival[i + 1],
        ready: schedule.ready[i + 1],
        departure: schedule.departure[i + 1],
        seats: s.seats,
        wheelchairs: s.wheelchairs,
      })),
      onboard: v.onboard.map((o) => ({ requestId: o.requestId, seats: o.seats, wheelchairs: o.wheelchairs })),
      task: v.task,
    };
  }

  /** Removes a request's stops; if that would pull a pickup earlier and lengthen a ride, pickups keep their times. */
  private removeFromPlan(v: VehicleRecord, requestId: string, before = this.snapshotPlan(v), keepDriver = false): void {
    const now = this.clock.now();
    const opt = this.driverOptionOf(v, now);
    const reduced = removeRequestStops(v.stops, requestId);
    const released = clearHolds(reduced);
    const candidates = released === reduced ? [reduced, holdPickups(reduced, before)] : [released, reduced, holdPickups(reduced, before)];
    let chosen = candidates[candidates.length - 1];
    for (const c of candidates) {
      const ctx = this.planContext(v, c, opt, now);
      if (findViolations(ctx, computeSchedule(ctx, this.legCache.leg)).length === 0) {
        chosen = c;
        break;
      }
    }
    v.stops = chosen;
    if (!keepDriver) this.releaseDriverIfIdle(v);
    this.touch(v);
  }

  private snapshotPlan(v: VehicleRecord): { stops: readonly PlanStop[]; schedule: Schedule } {
    return { stops: v.stops, schedule: this.timing(v).schedule };
  }

  private dropBooking(b: Booking, status: 'cancelled' | 'no-show' | 'expired' | 'declined'): void {
    const v = b.vehicleId ? this.vehicles.get(b.vehicleId) : undefined;
    if (v) this.removeFromPlan(v, b.id);
    b.status = status;
    this.offered.delete(b.id);
    this.finish(b);
  }

  /** A booking reached a final state; the oldest finished ones beyond `retainFinished` are forgotten. */
  private finish(b: Booking): void {
    this.finished.push(b.id);
    const keep = this.config.retainFinished;
    // in batches, so each finish costs O(1) amortised
    if (this.finished.length < 2 * keep + 64) return;
    const drop = this.finished.length - keep;
    for (let i = 0; i < drop; i++) {
      const id = this.finished[i];
      if (FINISHED.has(this.bookingsById.get(id)?.status ?? '')) this.bookingsById.delete(id);
    }
    this.finished = this.finished.slice(drop);
  }

  private finishConfirm(b: Booking): void {
    b.status = 'confirmed';
    this.offered.delete(b.id);
    this.emit('confirm', { requestId: b.id, vehicleId: b.vehicleId!, data: { window: b.promise.pickupWindow } });
  }

  /**
   * Brings the state up to now before a decision. At a bus standing at a stop, pickups whose window has opened
   * are pinned (the rider is waiting, the bus must not leave without them); a bus standing there without
   * serving anybody (early for a window) can leave from now on, not from when it arrived. Lapsed offers expire.
   */
  private catchUp(): string[] {
    const now = this.clock.now();
    for (const v of this.vehicles.values()) {
      if (!v.standing || v.stops.length === 0) continue;
      const pinned = pinDueStops(v.stops, v.state.position.id, now, this.config.dwell.fixedMs);
      if (pinned !== v.stops) {
        v.stops = pinned;
        this.touch(v);
      }
      if (!v.stops[0].pinned && v.state.time < now) {
        v.state = { ...v.state, time: now };
        this.touch(v);
      }
    }
    const expired: string[] = [];
    for (const id of [...this.offered].sort()) {
      const b = this.bookingsById.get(id)!;
      if (b.status === 'offered' && b.offerExpiresAt < now) {
        this.dropBooking(b, 'expired');
        expired.push(id);
        this.emit('expire', { requestId: id });
      }
    }
    return expired;
  }

  private releaseDriverIfIdle(v: VehicleRecord): void {
    if (v.stops.length === 0 && v.onboard.length === 0 && v.reservedDriverId) {
      this.emit('driver-released', { vehicleId: v.state.id, data: { driverId: v.reservedDriverId } });
      v.reservedDriverId = null;
    }
  }

  private busyDrivers(): Set<string> {
    const s = new Set<string>();
    for (const v of this.vehicles.values()) {
      if (v.state.driverId) s.add(v.state.driverId);
      if (v.reservedDriverId) s.add(v.reservedDriverId);
    }
    return s;
  }

  private checkDriverUnique(vehicleId: string, driverId: string | null | undefined): void {
    if (!driverId) return;
    for (const v of this.vehicles.values()) {
      if (v.state.id !== vehicleId && v.state.driverId === driverId) {
        throw new Error(`driver ${driverId} already drives ${v.state.id}: one driver drives one bus`);
      }
    }
  }

  /** Emits promise-at-risk once per request when reality (delays, SoC, lost driver) breaks its plan. */
  private flagRisks(v: VehicleRecord, now: number): void {
    const viol = this.planViolations(v);
    const ids = new Set<string>();
    for (const x of viol) {
      if (x.requestId) ids.add(x.requestId);
      else for (const s of v.stops) ids.add(s.requestId);
    }
    // A bus out of service does not drive its plan at all.
    if (this.statusOf(v) === 'out-of-service') for (const s of v.stops) ids.add(s.requestId);
    for (const id of ids) {
      if (!v.atRisk.has(id)) this.emit('promise-at-risk', { requestId: id, vehicleId: v.state.id, data: { at: now } });
    }
    v.atRisk = ids;
  }

  private startTask(v: VehicleRecord, kind: 'rebalance' | 'charge', to: Location, hubId: string | undefined, now: number): RebalanceMove {
    v.task = { kind, hubId, to, since: now };
    const move: RebalanceMove = { vehicleId: v.state.id, kind, hubId, to, travelTimeMs: this.legs.travelMs(v.state.position, to) };
    this.emit(kind, { vehicleId: v.state.id, data: { to: to.id, hubId } });
    return move;
  }

  private recordDemand(now: number, hubId: string): void {
    const horizon = now - 4 * this.config.rebalancing.demandHalfLifeMs;
    if (this.demand.length > 0 && this.demand[0].time < horizon) this.demand = this.demand.filter((d) => d.time >= horizon);
    this.demand.push({ time: now, hubId });
  }

  private offerOf(b: Booking): Offer {
    const v = this.vehicles.get(b.vehicleId!)!;
    const { schedule } = this.timing(v);
    const kp = v.stops.findIndex((s) => s.requestId === b.id && s.kind === 'pickup');
    const kd = v.stops.findIndex((s) => s.requestId === b.id && s.kind === 'dropoff');
    const pickupAt = schedule.ready[kp + 1];
    return {
      kind: 'offer',
      offerId: `o-${b.id}`,
      requestId: b.id,
      vehicleId: v.state.id,
      pickupWindow: b.promise.pickupWindow,
      estimatedPickup: pickupAt,
      estimatedArrival: schedule.ready[kd + 1],
      latestArrival: Math.min(
        b.promise.latestArrival ?? Infinity,
        b.promise.pickupWindow.end + v.stops[kp].serviceMs + b.promise.maxRideMs,
      ),
      maxRideMs: b.promise.maxRideMs,
      expiresAt: b.offerExpiresAt,
      transfer: b.transfer?.departure !== undefined ? { hubId: b.transfer.hubId, departure: b.transfer.departure, lineId: b.transfer.lineId } : undefined,
    };
  }

  private reject(requestId: string, reason: RejectionReason, message: string, alternative?: Rejection['alternative']): Rejection {
    this.emit('reject', { requestId, data: { reason, alternative } });
    return { kind: 'rejection', requestId, reason, message, alternative };
  }

  private emit(type: DispatchEventType, e: { requestId?: string; vehicleId?: string; data?: Record<string, unknown> }): void {
    this.events.push({ seq: ++this.eventSeq, time: this.clock.now(), type, ...e });
  }

  private touch(v: VehicleRecord): void {
    v.version++;
  }

  private nextId(prefix: string): string {
    let id: string;
    do id = `${prefix}${++this.idSeq}`;
    while (this.bookingsById.has(id));
    return id;
  }

  private hub(id: string): Hub | undefined {
    return this.config.hubs.find((h) => h.id === id);
  }

  private sortedVehicles(): VehicleRecord[] {
    return [...this.vehicles.values()].sort((a, b) => (a.state.id < b.state.id ? -1 : a.state.id > b.state.id ? 1 : 0));
  }

  private vehicleOrThrow(id: string): VehicleRecord {
    const v = this.vehicles.get(id);
    if (!v) throw new Error(`unknown vehicle ${id}`);
    return v;
  }

  private bookingOrThrow(id: string): Booking {
    const b = this.bookingsById.get(id);
    if (!b) throw new Error(`unknown request ${id}`);
    return b;
  }
}

interface RequestSpec {
  readonly id: string;
  readonly riderId?: string;
  readonly pickup: Location;
  readonly dropoff: Location;
  readonly passengers: number;
  readonly wheelchairs: number;
  readonly time: DesiredTime;
  readonly transfer?: { readonly hubId: string; readonly departure?: number; readonly lineId?: string };
}

function specOf(b: Booking): RequestSpec {
  return { id: b.id, riderId: b.riderId, pickup: b.pickup, dropoff: b.dropoff, passengers: b.passengers, wheelchairs: b.wheelchairs, time: b.time, transfer: b.transfer };
}

/** A window of `width` inside `bounds` containing `at`, centred on it where the bounds allow. */
export function cutWindow(bounds: { start: number; end: number }, at: number, width: number): { start: number; end: number } {
  let start = Math.max(bounds.start, at - width / 2);
  let end = start + width;
  if (end > bounds.end) {
    end = Math.max(bounds.end, at);
    start = Math.max(bounds.start, end - width);
  }
  return { start: Math.round(start), end: Math.round(end) };
}

const REASON_TEXT: Record<RejectionReason, string> = {
  capacity: 'No bus has enough free seats or wheelchair places at that time.',
  'no-driver': 'No remote driver is available to drive a bus for this trip.',
  window: 'No bus can keep the pickup window and ride time.',
  battery: 'No bus has enough battery charge left for this trip.',
  'outside-service-area': 'Pickup or drop-off is outside the service area.',
};
