import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SnapError } from '@kl/routing';
import type { Clock } from '../core/clock.ts';
import type { Dispatcher } from '../dispatch/dispatcher.ts';
import type { Booking as DispatchBooking, DispatchEvent, Location, VehiclePlan } from '../dispatch/types.ts';
import { ApiError, forbidden, notFound } from '../http/errors.ts';
import type { BookingCreate, BookingStatus, BookingView, PlanUpdate } from '../protocol/events.ts';
import type { Principal } from '../auth/tokens.ts';
import type { RoadOracle } from '../routing/oracle.ts';
import { FencedError, type BookingRecord, type EventRecord, type Store } from '../store/types.ts';
import type { Hub } from '@kl/routing/fixtures.ts';
import { planKey, toPlanUpdate } from './plan-view.ts';

const iso = (t: number) => new Date(t).toISOString();
const toMs = (t: string | number | undefined): number | undefined => (t === undefined ? undefined : typeof t === 'number' ? t : Date.parse(t));

/** Terminal states: nothing changes a booking after these. */
const FINAL = new Set(['completed', 'cancelled', 'rejected', 'expired', 'no_show']);
/** a rider's ETA may be this old (ms) unless the bus's plan changed meanwhile */
const LIVE_PLAN_MS = 1000;

/** Commands that only the dispatcher leader carries out; other instances forward them (cluster/node.ts). */
export type BookingCommand = 'create' | 'confirm' | 'cancel' | 'forgetRider' | 'stopEvent';

/**
 * Several instances on one Redis: only the instance holding the dispatcher lease (with its state loaded) decides.
 * The others forward commands to it, answer with its answer, and mirror what it made durable (records, plans)
 * for reads, snapshots and ETAs. Absent (single instance): this instance decides everything.
 */
export interface BookingCluster {
  leads(): boolean;
  forward<T>(command: BookingCommand, payload: unknown): Promise<T>;
  /** the leader made these durable / published them: tell the other instances */
  replicate(change: { records?: BookingRecord[]; plans?: Array<{ update: PlanUpdate; key: string }> }): void;
}

/** A driver/availability change for the dispatcher (from teleoperation, possibly on another instance). */
export interface VehicleDispatchChange {
  vehicleId: string;
  driverId: string | null;
  available: boolean;
}

export interface BookingServiceEvents {
  booking: [BookingView, BookingRecord];
  plan: [PlanUpdate];
}

/**
 * The booking lifecycle around the pure dispatcher: validated input in, API records out, every change made
 * durable in the store before the caller is answered. Also turns dispatcher plans into `plan:update` messages
 * (with road geometry) for the buses and the Leitstand.
 */
export class BookingService extends EventEmitter<BookingServiceEvents> {
  private readonly records = new Map<string, BookingRecord>();
  /** ids of records that were 'confirmed' when last seen: the ones that may become 'assigned' (afterDispatch looks
   *  at these, not at every record ever kept, which grows without end on a running service) */
  private readonly confirmedIds = new Set<string>();
  private readonly planVersions = new Map<string, { key: string; version: number; update: PlanUpdate }>();
  private readonly livePlans = new Map<string, { version: number; at: number; stops: VehiclePlan['stops'] | undefined }>();
  /** the dispatcher's planVersion of each bus when its plan was last compared (publishPlans) */
  private readonly publishedVersions = new Map<string, number>();
  /** vehicles that have been sent their current plan (their confirmed bookings count as assigned) */
  private readonly connectedVehicles = new Set<string>();
  /** teleoperation: share of its top speed each bus may drive now (latency budget, driver's cap); absent = 1 */
  private readonly speedFactors = new Map<string, number>();
  private cluster: BookingCluster | null = null;

  constructor(
    private dispatcher: Dispatcher,
    private readonly oracle: RoadOracle,
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly hubs: Hub[],
    private readonly serviceArea: (lat: number, lon: number) => boolean,
  ) {
    super();
  }

  restore(records: BookingRecord[]): void {
    for (const r of records) this.keep(r);
  }

  private keep(r: BookingRecord): void {
    this.records.set(r.id, r);
    if (r.status === 'confirmed') this.confirmedIds.add(r.id);
  }

  // ------------------------------------------------------------------ several instances

  setCluster(c: BookingCluster | null): void {
    this.cluster = c;
  }

  /** Does this instance decide (single instance, or the dispatcher leader with its state loaded)? */
  leads(): boolean {
    return !this.cluster || this.cluster.leads();
  }

  /** A new leader takes over: the dispatcher and the records as last made durable (Redis). */
  reload(dispatcher: Dispatcher, records: BookingRecord[]): void {
    this.dispatcher = dispatcher;
    this.publishedVersions.clear(); // versions of the predecessor's dispatcher mean nothing here
    this.livePlans.clear();
    this.records.clear();
    this.confirmedIds.clear();
    this.restore(records);
    this.pendingEvents = [];
  }

  /** Records the leader made durable (followers keep them for reads and snapshots). */
  mirror(records: BookingRecord[]): void {
    for (const r of records) this.keep(r);
  }

  /** A plan the leader published (followers keep it for snapshots, buses connecting here, and ETAs). */
  mirrorPlan(update: PlanUpdate, key: string): void {
    const cur = this.planVersions.get(update.vehicleId);
    if (cur && cur.version > update.version) return;
    this.planVersions.set(update.vehicleId, { key, version: update.version, update });
  }

  /** All current plans with their change keys (a follower that missed messages asks the leader for these). */
  planEntries(): Array<{ update: PlanUpdate; key: string }> {
    return [...this.planVersions.values()].map((p) => ({ update: p.update, key: p.key }));
  }

  get dispatcherRef(): Dispatcher {
    return this.dispatcher;
  }

  // ------------------------------------------------------------------ queries

  /**
   * A bus's planned stops with their times, rebuilt when its dispatcher state changed or after LIVE_PLAN_MS: every
   * rider's ETA comes from here once a second, and building the plan (its schedule) once per rider grew with the
   * number of riders on board and waiting.
   */
  private liveStops(vehicleId: string): VehiclePlan['stops'] | undefined {
    const version = this.dispatcher.planVersion(vehicleId);
    const now = this.clock.now();
    const c = this.livePlans.get(vehicleId);
    if (c && c.version === version && now - c.at < LIVE_PLAN_MS) return c.stops;
    const stops = this.dispatcher.plan(vehicleId)?.stops;
    this.livePlans.set(vehicleId, { version, at: now, stops });
    return stops;
  }

  view(r: BookingRecord): BookingView {
    // the leader reads its dispatcher; a follower the plan the leader last published
    const stops = !r.vehicleId ? undefined : this.leads() ? this.liveStops(r.vehicleId) : this.planVersions.get(r.vehicleId)?.update.stops;
    let eta: string | null = null;
    if (stops && (r.status === 'confirmed' || r.status === 'assigned' || r.status === 'picked_up')) {
      const kind = r.status === 'picked_up' ? 'dropoff' : 'pickup';
      const stop = stops.find((s) => s.requestId === r.id && s.kind === kind);
      if (stop) eta = iso(this.stretch(r.vehicleId!, stop.arrival));
    }
    return {
      id: r.id,
      status: r.status as BookingStatus,
      pickup: r.pickup,
      dropoff: r.dropoff,
      passengers: r.passengers,
      wheelchairs: r.wheelchairs,
      createdAt: iso(r.createdAt),
      ...(r.offer
        ? {
            offer: {
              pickupWindow: { from: iso(r.offer.pickupFrom), to: iso(r.offer.pickupTo) },
              arrival: iso(r.offer.arrival),
              latestArrival: iso(r.offer.latestArrival),
              vehicleId: r.offer.vehicleId,
              expiresAt: iso(r.offer.expiresAt),
            },
          }
        : {}),
      vehicleId: r.vehicleId ?? null,
      eta,
      ...(r.rejection
        ? { rejection: { reason: r.rejection.reason, message: r.rejection.message, ...(r.rejection.alternative ? { alternative: { type: r.rejection.alternative.type, time: iso(r.rejection.alternative.time) } } : {}) } }
        : {}),
      ...(r.pickedUpAt ? { pickedUpAt: iso(r.pickedUpAt) } : {}),
      ...(r.droppedOffAt ? { droppedOffAt: iso(r.droppedOffAt) } : {}),
    };
  }

  /**
   * Teleoperation feeds the bus's latency speed factor (permitted speed / top speed, teleop/service.ts). The
   * dispatcher plans with nominal travel times; a bus slowed by latency gets there later, so the ETAs shown for
   * it are stretched: eta = now + (planned − now) / factor. Conservative: the whole remaining time is stretched,
   * also dwells and stretches where the road's own limit is below the cap. Factor 0 (the bus stands in an MRM /
   * safe stop) leaves the plan's time: nobody knows when a driver takes over; the plan slips as the bus stands
   * (the dispatcher re-times it from the real position) and a long stop makes the bus out of service.
   */
  setSpeedFactor(vehicleId: string, factor: number): void {
    if (factor >= 1 || !Number.isFinite(factor)) this.speedFactors.delete(vehicleId);
    else this.speedFactors.set(vehicleId, Math.max(0, factor));
  }
  speedFactor(vehicleId: string): number {
    return this.speedFactors.get(vehicleId) ?? 1;
  }
  private stretch(vehicleId: string, t: number): number {
    const f = this.speedFactor(vehicleId);
    const now = this.clock.now();
    return f > 0 && f < 1 && t > now ? Math.round(now + (t - now) / f) : t;
  }

  /** A rider sees only their own bookings; staff (dispatcher, admin, driver) see all. */
  get(id: string, who: Principal): BookingRecord {
    const r = this.records.get(id);
    if (!r) throw notFound('booking');
    if (who.role === 'rider' && r.riderId !== who.sub) throw notFound('booking'); // 404, not 403: no existence leak
    return r;
  }

  list(who: Principal): BookingRecord[] {
    const all = [...this.records.values()];
    return (who.role === 'rider' ? all.filter((r) => r.riderId === who.sub) : all).sort((a, b) => a.createdAt - b.createdAt);
  }

  all(): BookingRecord[] {
    return [...this.records.values()];
  }

  // ------------------------------------------------------------------ commands

  private resolvePlace(p: BookingCreate['pickup'], field: string): { loc: Location; input: BookingRecord['pickup'] } {
    if ('hubId' in p) {
      const hub = this.hubs.find((h) => h.id === p.hubId);
      if (!hub) throw new ApiError(400, 'VALIDATION', `${field}.hubId: unknown hub "${p.hubId}"`, [{ path: `${field}.hubId`, message: 'unknown hub' }]);
      return { loc: this.oracle.locate(hub.lat, hub.lon), input: { lat: hub.lat, lon: hub.lon, hubId: hub.id } };
    }
    try {
      return { loc: this.oracle.locate(p.lat, p.lon), input: { lat: p.lat, lon: p.lon } };
    } catch (e) {
      if (e instanceof SnapError) throw new ApiError(422, 'NO_ROAD', `${field}: ${e.message}`);
      throw e;
    }
  }

  /**
   * Work an offer needs, done before the dispatcher's call in slices, each slice its own event-loop turn, so no
   * single task holds up everything else (a remote driver's command among it) for tens of ms. Only the work moves:
   * the dispatcher's answer is the same, and what changed meanwhile (a bus's new position) is computed in the call.
   * - The road search spaces of every bus's position (each second a new place), PREPARE_SLICE buses per turn: they
   *   were most of an offer's time.
   * - The request's legs to and from every place it may be inserted next to (RoadOracle.prefetch), PREFETCH_SLICE
   *   places per turn: with a thousand live bookings they were a third of an offer's 15–40 ms. The caller ends the
   *   prefetch once the dispatcher has answered.
   */
  private async prepareLegs(P: Location, D: Location): Promise<void> {
    const inTurns = async (places: Location[], size: number, work: (slice: Location[]) => void) => {
      for (let i = 0; i < places.length; i += size) {
        work(places.slice(i, i + size));
        await nextTurn();
      }
    };
    try {
      await inTurns(this.dispatcher.vehiclePositions(), PREPARE_SLICE, (slice) => this.oracle.prepare(slice));
      await inTurns(this.dispatcher.insertionPlaces(), PREFETCH_SLICE, (slice) => this.oracle.prefetch(P, D, slice));
    } catch (e) {
      this.oracle.endPrefetch(P, D);
      throw e;
    }
  }

  async create(input: BookingCreate, who: Principal): Promise<{ status: 201 | 422; record: BookingRecord }> {
    if (who.role !== 'rider' && who.role !== 'dispatcher' && who.role !== 'admin') throw forbidden('only riders and dispatchers book rides');
    if (!this.leads()) return this.forwarded('create', { input, who }, (r: { status: 201 | 422; record: BookingRecord }) => [r.record]);
    return this.createHere(input, who);
  }

  /** Runs a command on the leader; the records in its answer are mirrored here before the caller sees them. */
  private async forwarded<T>(command: BookingCommand, payload: unknown, records: (r: T) => BookingRecord[]): Promise<T> {
    const r = await this.cluster!.forward<T>(command, payload);
    this.mirror(records(r));
    return r;
  }

  /**
   * Creates the booking here (single instance or leader). With an idempotency key (a forwarded request that may be
   * retried on a new leader) the booking id derives from the key, so a retry finds the booking instead of making
   * a second one.
   */
  async createHere(input: BookingCreate, who: Principal, idempotencyKey?: string): Promise<{ status: 201 | 422; record: BookingRecord }> {
    if (who.role !== 'rider' && who.role !== 'dispatcher' && who.role !== 'admin') throw forbidden('only riders and dispatchers book rides');
    const keyed = idempotencyKey ? `b${createHash('sha256').update(idempotencyKey).digest('base64url').slice(0, 8).replace(/[-_]/g, 'x')}` : null;
    const existing = keyed ? this.records.get(keyed) : undefined;
    if (existing) return { status: existing.status === 'rejected' ? 422 : 201, record: existing };
    const now = this.clock.now();
    const departAt = toMs(input.departAt), arriveBy = toMs(input.arriveBy);
    for (const [name, t] of [['departAt', departAt], ['arriveBy', arriveBy]] as const) {
      if (t !== undefined && t < now - 60_000) throw new ApiError(400, 'VALIDATION', `${name} lies in the past`, [{ path: name, message: 'in the past' }]);
      if (t !== undefined && t > now + 7 * 24 * 3600_000) throw new ApiError(400, 'VALIDATION', `${name} is more than 7 days ahead`, [{ path: name, message: 'beyond pre-booking horizon' }]);
    }
    const pickup = this.resolvePlace(input.pickup, 'pickup');
    const dropoff = this.resolvePlace(input.dropoff, 'dropoff');
    if (pickup.loc.id === dropoff.loc.id) throw new ApiError(400, 'VALIDATION', 'pickup and drop-off are the same place', [{ path: 'dropoff', message: 'same as pickup' }]);
    const inArea = this.serviceArea(pickup.input.lat, pickup.input.lon) && this.serviceArea(dropoff.input.lat, dropoff.input.lon);
    if (inArea) {
      await this.prepareLegs(pickup.loc, dropoff.loc);
      // a retry of the same forwarded request may have made the booking meanwhile
      const made = keyed ? this.records.get(keyed) : undefined;
      if (made) {
        this.oracle.endPrefetch(pickup.loc, dropoff.loc);
        return { status: made.status === 'rejected' ? 422 : 201, record: made };
      }
    }
    const id = keyed ?? `b${randomBytes(6).toString('base64url').replace(/[-_]/g, 'x')}`;
    const record: BookingRecord = {
      id,
      riderId: who.role === 'rider' ? who.sub : null,
      status: 'offered',
      createdAt: now,
      updatedAt: now,
      pickup: pickup.input,
      dropoff: dropoff.input,
      passengers: input.passengers,
      wheelchairs: input.wheelchairs ?? 0,
      ...(departAt !== undefined ? { departAt } : {}),
      ...(arriveBy !== undefined ? { arriveBy } : {}),
      bookedBy: who.role === 'rider' ? 'rider' : who.sub,
    };
    if (!inArea) {
      record.status = 'rejected';
      record.rejection = { reason: 'outside-service-area', message: 'Pickup or drop-off lies outside the service area.' };
    } else {
      let res;
      try {
        res = this.dispatcher.request({
          id,
          riderId: record.riderId ?? undefined,
          pickup: pickup.loc,
          dropoff: dropoff.loc,
          passengers: input.passengers,
          wheelchairs: input.wheelchairs ?? 0,
          time: departAt !== undefined ? { type: 'departure', at: departAt } : arriveBy !== undefined ? { type: 'arrival', by: arriveBy } : { type: 'now' },
        });
      } finally {
        this.oracle.endPrefetch(pickup.loc, dropoff.loc);
      }
      if (res.kind === 'offer') {
        const promised = this.dispatcher.booking(res.requestId)?.promise;
        record.offer = {
          offerId: res.offerId,
          pickupFrom: res.pickupWindow.start,
          pickupTo: res.pickupWindow.end,
          arrival: res.estimatedArrival,
          latestArrival: res.latestArrival,
          vehicleId: res.vehicleId,
          expiresAt: res.expiresAt,
          maxRideMs: res.maxRideMs,
          ...(promised?.latestArrival !== undefined ? { promisedLatestArrival: promised.latestArrival } : {}),
        };
        record.vehicleId = res.vehicleId;
      } else {
        record.status = 'rejected';
        record.rejection = { reason: res.reason, message: res.message, ...(res.alternative ? { alternative: res.alternative } : {}) };
      }
    }
    this.records.set(id, record);
    // the journal line (the dispatcher's delta: O(live bookings)) in a turn of its own, after the search's
    await nextTurn();
    await this.persist([record], [{ t: now, type: `booking.${record.status === 'rejected' ? 'rejected' : 'offered'}`, bookingId: id, actor: record.bookedBy, data: record.rejection ? { reason: record.rejection.reason } : { vehicleId: record.vehicleId } }]);
    this.emit('booking', this.view(record), record);
    return { status: record.status === 'rejected' ? 422 : 201, record };
  }

  async confirm(id: string, who: Principal): Promise<BookingRecord> {
    if (!this.leads()) return this.forwarded('confirm', { id, who }, (r: BookingRecord) => [r]);
    return this.confirmHere(id, who);
  }

  async confirmHere(id: string, who: Principal): Promise<BookingRecord> {
    const r = this.get(id, who);
    if (who.role === 'driver') throw forbidden('drivers do not confirm bookings');
    if (r.status === 'confirmed' || r.status === 'assigned' || r.status === 'picked_up') return r; // idempotent
    if (r.status !== 'offered') throw new ApiError(409, 'NOT_PENDING', `booking is ${r.status}`);
    const res = this.dispatcher.confirm(r.offer!.offerId);
    const now = this.clock.now();
    if (!res.ok) {
      if (res.reason === 'not-pending' || res.reason === 'unknown-offer' || res.requestId) {
        r.status = 'expired';
        r.updatedAt = now;
        await this.persist([r], [{ t: now, type: 'booking.expired', bookingId: r.id, data: { reason: res.reason } }]);
        this.emit('booking', this.view(r), r);
      }
      throw new ApiError(409, 'OFFER_EXPIRED', res.message, { reason: res.reason });
    }
    r.status = 'confirmed';
    r.vehicleId = res.vehicleId;
    r.updatedAt = now;
    this.confirmedIds.add(r.id);
    this.afterDispatch(now);
    await this.persist([r], [{ t: now, type: 'booking.confirmed', bookingId: r.id, vehicleId: res.vehicleId, actor: who.role === 'rider' ? 'rider' : who.sub }]);
    this.emit('booking', this.view(r), r);
    this.publishPlans();
    return r;
  }

  async cancel(id: string, who: Principal): Promise<BookingRecord> {
    if (!this.leads()) return this.forwarded('cancel', { id, who }, (r: BookingRecord) => [r]);
    return this.cancelHere(id, who);
  }

  /** `retried`: a forwarded cancel repeated on a new leader; the first attempt may have cancelled already. */
  async cancelHere(id: string, who: Principal, retried = false): Promise<BookingRecord> {
    const r = this.get(id, who);
    if (who.role === 'driver') throw forbidden('drivers do not cancel bookings');
    if (retried && r.status === 'cancelled') return r;
    if (FINAL.has(r.status)) throw new ApiError(409, 'NOT_CANCELLABLE', `booking is already ${r.status}`);
    if (r.status === 'picked_up') throw new ApiError(409, 'NOT_CANCELLABLE', 'the rider is on board');
    this.dispatcher.cancel(r.id);
    const now = this.clock.now();
    r.status = 'cancelled';
    r.updatedAt = now;
    this.afterDispatch(now);
    await this.persist([r], [{ t: now, type: 'booking.cancelled', bookingId: r.id, vehicleId: r.vehicleId ?? undefined, actor: who.role === 'rider' ? 'rider' : who.sub }]);
    this.emit('booking', this.view(r), r);
    this.publishPlans();
    return r;
  }

  /** Removes a rider's personal traces (places, pseudonym) from their finished bookings; KPIs stay. */
  async forgetRider(riderId: string): Promise<number> {
    if (!this.leads()) return this.forwarded('forgetRider', { riderId }, () => []);
    return this.forgetRiderHere(riderId);
  }

  async forgetRiderHere(riderId: string): Promise<number> {
    const changed: BookingRecord[] = [];
    for (const r of this.records.values()) {
      if (r.riderId !== riderId) continue;
      if (!FINAL.has(r.status)) {
        this.dispatcher.cancel(r.id);
        r.status = 'cancelled';
      }
      r.riderId = null;
      r.pickup = { lat: 0, lon: 0, ...(r.pickup.hubId ? { hubId: r.pickup.hubId } : {}) };
      r.dropoff = { lat: 0, lon: 0, ...(r.dropoff.hubId ? { hubId: r.dropoff.hubId } : {}) };
      changed.push(r);
    }
    await this.store.forgetRider(riderId);
    await this.persist([], []);
    this.cluster?.replicate({ records: changed });
    this.publishPlans();
    return changed.length;
  }

  // ------------------------------------------------------------------ vehicle progress

  /** Feeds a bus's position, charge and driver into the dispatcher (throttled by the caller). */
  vehicleMoved(id: string, lat: number, lon: number, soc: number, driverId: string | null, available: boolean): void {
    if (!this.leads()) return; // the leader gets every bus's state through the cluster (cluster/node.ts)
    let position: Location;
    try {
      position = this.oracle.locate(lat, lon);
    } catch {
      return; // off the road graph (e.g. in a depot yard): keep the last known position
    }
    this.dispatcher.updateVehicle({ id, position, time: this.clock.now(), soc, driverId, status: available ? 'available' : 'out-of-service' });
  }

  async stopEvent(vehicleId: string, e: StopEvent): Promise<boolean> {
    if (!this.leads()) return this.forwarded('stopEvent', { vehicleId, e }, () => []);
    return this.stopEventHere(vehicleId, e);
  }

  async stopEventHere(vehicleId: string, e: StopEvent): Promise<boolean> {
    const r = this.records.get(e.requestId);
    if (!r || r.vehicleId !== vehicleId) return false;
    const now = this.clock.now();
    const plan = this.dispatcher.plan(vehicleId);
    try {
      if (e.event === 'arrived') {
        if (plan?.stops[0]?.requestId === e.requestId) this.dispatcher.vehicleArrived(vehicleId, now);
      } else if (e.event === 'done' && e.kind === 'pickup' && (r.status === 'confirmed' || r.status === 'assigned')) {
        this.dispatcher.pickedUp(e.requestId, now);
        r.status = 'picked_up';
        r.pickedUpAt = now;
      } else if (e.event === 'done' && e.kind === 'dropoff' && r.status === 'picked_up') {
        this.dispatcher.droppedOff(e.requestId, now);
        r.status = 'completed';
        r.droppedOffAt = now;
      } else if (e.event === 'no_show' && (r.status === 'confirmed' || r.status === 'assigned')) {
        const res = this.dispatcher.noShow(e.requestId);
        if (!res.ok) return false;
        r.status = 'no_show';
      } else return false;
    } catch {
      return false;
    }
    r.updatedAt = now;
    this.afterDispatch(now);
    await this.persist([r], [{ t: now, type: `stop.${e.kind}.${e.event}`, bookingId: r.id, vehicleId }]);
    this.emit('booking', this.view(r), r);
    this.publishPlans();
    return true;
  }

  /**
   * Driver and availability the dispatcher plans a bus with (teleoperation decides them). A driver is unique in
   * the dispatcher: one who moved here from another bus is first taken off that bus.
   */
  vehicleDispatch(changes: VehicleDispatchChange[], onError: (e: unknown, vehicleId: string) => void): void {
    if (!this.leads()) return;
    for (const c of changes) {
      try {
        if (c.driverId) {
          for (const id of this.dispatcher.vehiclesWithDriver(c.driverId)) if (id !== c.vehicleId) this.dispatcher.updateVehicle({ id, driverId: null });
        }
        this.dispatcher.updateVehicle({ id: c.vehicleId, driverId: c.driverId, status: c.available ? 'available' : 'out-of-service' });
      } catch (e) {
        onError(e, c.vehicleId);
      }
    }
  }

  vehicleConnected(id: string, connected: boolean): void {
    if (connected) this.connectedVehicles.add(id);
    else this.connectedVehicles.delete(id);
    if (connected && this.leads()) {
      const cur = this.planVersions.get(id);
      if (cur) this.emit('plan', cur.update);
    }
  }

  // ------------------------------------------------------------------ periodic

  /** Expiry, re-optimisation and idle rebalancing; persists and publishes what changed. */
  async tick(): Promise<void> {
    this.dispatcher.tick();
    // the parts in turns of their own: re-optimisation, rebalancing and the plans they changed in one task held up
    // every remote driver's command that arrived meanwhile (tens of ms on a big fleet)
    await nextTurn();
    this.dispatcher.idleRebalancing();
    const now = this.clock.now();
    const changed = this.afterDispatch(now);
    if (changed.length) await this.persist(changed, []);
    else {
      const events = this.drainEventRecords();
      if (events.length) await this.persist([], events);
    }
    for (const r of changed) this.emit('booking', this.view(r), r);
    await nextTurn();
    this.publishPlans();
  }

  private pendingEvents: EventRecord[] = [];

  /** Applies dispatcher events (expiry, reassignment …) to the API records; returns the records that changed. */
  private afterDispatch(now: number): BookingRecord[] {
    const changed = new Map<string, BookingRecord>();
    for (const e of this.dispatcher.drainEvents()) {
      this.pendingEvents.push(toEventRecord(e));
      const r = e.requestId ? this.records.get(e.requestId) : undefined;
      if (!r) continue;
      if (e.type === 'expire' && r.status === 'offered') r.status = 'expired';
      else if ((e.type === 'reassign' || e.type === 'assign') && e.vehicleId && r.status !== 'offered') r.vehicleId = e.vehicleId;
      else continue;
      r.updatedAt = now;
      changed.set(r.id, r);
    }
    // confirmed bookings on a bus that has received its plan are "assigned"
    for (const id of this.confirmedIds) {
      const r = this.records.get(id);
      if (r?.status !== 'confirmed') this.confirmedIds.delete(id); // assigned elsewhere, cancelled, forgotten
      else if (r.vehicleId && this.connectedVehicles.has(r.vehicleId)) {
        r.status = 'assigned';
        r.updatedAt = now;
        changed.set(r.id, r);
        this.confirmedIds.delete(id);
      }
    }
    return [...changed.values()];
  }

  private drainEventRecords(): EventRecord[] {
    const e = this.pendingEvents;
    this.pendingEvents = [];
    return e;
  }

  private async persist(records: BookingRecord[], events: EventRecord[]): Promise<void> {
    const all = [...events, ...this.drainEventRecords()];
    try {
      // the audit records go with the change (one transaction on Redis)
      await this.store.commit({ bookings: records, dispatcher: this.dispatcher.toJSON(), ...(all.length ? { events: all } : {}) });
    } catch (e) {
      if (e instanceof FencedError) throw new ApiError(503, 'NOT_LEADER', 'this instance lost the dispatcher lease; try again');
      throw e;
    }
    if (records.length) this.cluster?.replicate({ records });
  }

  /**
   * Sends `plan:update` for every bus whose plan changed since last published. Only buses whose dispatcher state
   * changed (planVersion) are looked at: building all 200 plans with their schedules for every driver change or
   * stop event made this a long task that delayed teleoperation commands.
   */
  publishPlans(): void {
    for (const id of this.dispatcher.vehicleIds()) {
      const version = this.dispatcher.planVersion(id);
      if (this.publishedVersions.get(id) === version) continue;
      this.publishedVersions.set(id, version);
      const p = this.dispatcher.plan(id)!;
      this.livePlans.set(id, { version, at: this.clock.now(), stops: p.stops }); // riders' ETAs need not build it again
      const key = planKey(p);
      const cur = this.planVersions.get(p.vehicleId);
      if (cur && cur.key === key) continue;
      const update = toPlanUpdate(p, (cur?.version ?? 0) + 1, this.oracle, this.hubs);
      this.planVersions.set(p.vehicleId, { key, version: update.version, update });
      this.cluster?.replicate({ plans: [{ update, key }] });
      this.emit('plan', update);
    }
  }

  currentPlan(vehicleId: string): PlanUpdate | null {
    return this.planVersions.get(vehicleId)?.update ?? null;
  }

}

/** buses whose search spaces are computed per event-loop turn before a request (about 2–4 ms) */
const PREPARE_SLICE = 25;
/** places whose legs to and from a request are computed per event-loop turn before it */
const PREFETCH_SLICE = 400;

export type StopEvent = { requestId: string; kind: 'pickup' | 'dropoff'; event: 'arrived' | 'done' | 'no_show'; at: number };

function toEventRecord(e: DispatchEvent): EventRecord {
  return { t: e.time, type: `dispatch.${e.type}`, ...(e.vehicleId ? { vehicleId: e.vehicleId } : {}), ...(e.requestId ? { bookingId: e.requestId } : {}), ...(e.data ? { data: { ...e.data } } : {}) };
}

export type { DispatchBooking };
