import type { RoutingEngine } from '@kl/routing';
import { loadDepot, loadHubs, loadServiceArea, FIXTURES_DIR, type Hub } from '@kl/routing/fixtures.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { ManualClock } from '../core/clock.ts';
import { Rng } from '../core/rng.ts';
import { Dispatcher } from '../dispatch/dispatcher.ts';
import { timetableSchema } from '../dispatch/timetable.ts';
import type { Location, RideRequest } from '../dispatch/types.ts';
import { planKey, toPlanUpdate } from '../bookings/plan-view.ts';
import { computeKpis, type FleetUsage, type Kpis, type TripOutcome } from '../kpi/kpis.ts';
import type { PlanUpdate } from '../protocol/events.ts';
import { RoadOracle } from '../routing/oracle.ts';
import { BusController } from './bus-controller.ts';
import { speedFactor } from '../teleop/latency.ts';
import type { Place, Scenario } from './scenario.ts';

/**
 * Runs a scenario faster than real time, deterministically: one ManualClock drives the dispatcher, the buses
 * (the same BusController as the live agents) and the faults; one seeded Rng feeds the demand generator.
 * Every event goes to the sink in simulated-time order, so the same scenario and seed give a byte-identical
 * event log.
 */
export interface EventSink {
  write(e: Record<string, unknown>): void;
  /** optional: takes an already serialised JSON line (without newline) */
  writeLine?(line: string): void;
}

export interface RunOptions {
  engine: RoutingEngine;
  scenario: Scenario;
  seed?: number;
  sink: EventSink;
  /** 'max' = as fast as possible; a number = simulated seconds per real second */
  speed?: 'max' | number;
  onProgress?: (done: number, total: number) => void;
  /** step of the simulation in seconds */
  dtS?: number;
}

export interface SeriesPoint {
  t: number;
  onboard: number;
  seatsInService: number;
  driving: number;
  dwelling: number;
  idle: number;
  stopped: number;
}

export interface RunResult {
  kpis: Kpis;
  trips: TripOutcome[];
  series: SeriesPoint[];
  events: number;
  simulatedMs: number;
}

interface Trip {
  outcome: TripOutcome;
  vehicleId: string | null;
}

interface Bus {
  id: string;
  ctl: BusController;
  scripted: boolean;
  planKey: string;
  planVersion: number;
  mode: 'remote' | 'mrm' | 'safe_stop';
  linkLostUntil: number;
  latencyMs: number;
  latencyUntil: number;
  broken: boolean;
  reacquireAt: number;
  lastOdo: number;
  lastEnergy: number;
}

/** Latency governance: the teleoperation rule itself (constant blind distance, MRM above 500 ms). */
export function permittedSpeedFactor(latencyMs: number): number {
  return speedFactor(latencyMs, { latencyBudgetMs: 200, latencyHardLimitMs: 500 });
}

const r6 = (x: number) => Math.round(x * 1e6) / 1e6;
const r1 = (x: number) => Math.round(x * 10) / 10;

export async function runScenario(o: RunOptions): Promise<RunResult> {
  const sc = o.scenario;
  const seed = o.seed ?? sc.seed;
  const start = Date.parse(sc.start);
  const end = start + sc.durationMin * 60_000;
  const clock = new ManualClock(start);
  const rng = new Rng(seed);
  const demandRng = rng.fork();
  const dt = o.dtS ?? 1;
  const hubs: Hub[] = loadHubs();
  const depot = loadDepot();
  const area = loadServiceArea().features[0];
  const oracle = new RoadOracle(o.engine);
  const ttPath = join(FIXTURES_DIR, 'timetable.json');
  const timetable = existsSync(ttPath) ? timetableSchema.parse(JSON.parse(readFileSync(ttPath, 'utf8'))) : undefined;
  const dispatcher = new Dispatcher({
    clock,
    rng: rng.fork(),
    oracle,
    config: {
      hubs: hubs.map((h) => ({ id: h.id, name: h.name, location: oracle.locate(h.lat, h.lon) })),
      depot: oracle.locate(depot.lat, depot.lon),
      serviceArea: area.geometry,
      ...(timetable ? { timetable } : {}),
    },
  });
  let events = 0;
  const emit = (e: Record<string, unknown>, vehicleState = false) => {
    events++;
    // vehicle states are ~98 % of a run's events: a hand-built line (same bytes as JSON.stringify) when the
    // sink takes lines saves a third of the run time
    if (vehicleState && o.sink.writeLine) {
      o.sink.writeLine(
        `{"t":${clock.now()},"type":"vehicle","vehicleId":${JSON.stringify(e.vehicleId)},"lat":${e.lat},"lon":${e.lon},"heading":${e.heading},"speed":${e.speed},"soc":${e.soc},"mode":"${e.mode}","doors":"${e.doors}","onboard":${e.onboard},"latencyMs":${e.latencyMs},"link":"${e.link}"}`,
      );
      return;
    }
    o.sink.write({ t: clock.now(), ...e });
  };
  const placeOf = (p: Place): { lat: number; lon: number; hubId?: string } => {
    if ('hubId' in p) {
      const h = hubs.find((x) => x.id === p.hubId);
      if (!h) throw new Error(`scenario names unknown hub "${p.hubId}"`);
      return { lat: h.lat, lon: h.lon, hubId: h.id };
    }
    return p;
  };

  // ---- fleet and drivers
  const buses = new Map<string, Bus>();
  const scripted = new Set(sc.script.map((s) => s.vehicleId));
  for (const v of sc.fleet) {
    const p = placeOf(v.start);
    const ctl = new BusController(p, v.soc, { batteryKWh: v.batteryKWh, ...(v.consumptionKWhPerKm ? { consumptionKWhPerKm: v.consumptionKWhPerKm } : {}) });
    buses.set(v.id, { id: v.id, ctl, scripted: scripted.has(v.id), planKey: '', planVersion: 0, mode: 'remote', linkLostUntil: 0, latencyMs: 60, latencyUntil: 0, broken: false, reacquireAt: 0, lastOdo: 0, lastEnergy: 0 });
    if (!scripted.has(v.id)) {
      dispatcher.addVehicle({ id: v.id, seats: v.seats, wheelchairPlaces: v.wheelchairPlaces, position: oracle.locate(p.lat, p.lon), time: start, soc: v.soc, batteryKWh: v.batteryKWh, driverId: null, status: 'available' });
    }
  }
  const drivers = sc.drivers ?? sc.fleet.map((v) => ({ id: `sim:${v.id}`, shifts: [{ fromMin: 0, toMin: sc.durationMin }] }));
  const roster = drivers.flatMap((d) => d.shifts.map((s, i) => ({ id: d.shifts.length > 1 ? `${d.id}#${i}` : d.id, start: start + s.fromMin * 60_000, end: start + s.toMin * 60_000 })));
  dispatcher.setRoster(roster);
  const driverShiftMs = roster.reduce((a, s) => a + Math.max(0, Math.min(s.end, end) - Math.max(s.start, start)), 0);
  emit({ type: 'run.start', scenario: sc.name, seed, buses: sc.fleet.length, drivers: roster.length });

  // ---- scripted test routes: one plan through all stops, all laps
  for (const s of sc.script) {
    const bus = buses.get(s.vehicleId)!;
    const places = [] as { lat: number; lon: number; name: string; dwellMs: number }[];
    for (let lap = 0; lap < s.laps; lap++) for (const st of s.stops) places.push({ ...placeOf(st.place), name: st.name ?? ('hubId' in st.place ? st.place.hubId : 'Halt'), dwellMs: st.dwellS * 1000 });
    const phantoms = [o.engine.snap(bus.ctl.model.lat, bus.ctl.model.lon), ...places.map((p) => o.engine.snap(p.lat, p.lon))];
    const path = o.engine.drivePath(phantoms);
    if (!path) throw new Error(`scripted route of ${s.vehicleId} has no road connection`);
    const plan: PlanUpdate = {
      vehicleId: s.vehicleId,
      version: 1,
      stops: places.map((p, i) => ({ requestId: `script-${i}`, kind: 'pickup', lat: phantoms[i + 1].lat, lon: phantoms[i + 1].lon, arrival: start, ready: start, departure: start, seats: 0, wheelchairs: 0, dwellMs: p.dwellMs, name: p.name })),
      task: null,
      route: { coordinates: path.coordinates, speedsKmh: path.speedsKmh, stopIndices: path.stopIndices },
    };
    bus.ctl.setPlan(plan);
    emit({ type: 'script.plan', vehicleId: s.vehicleId, stops: places.map((p) => p.name), distanceM: Math.round(path.distance) });
  }

  // ---- demand: explicit requests plus the seeded generator, merged in time order
  interface Due {
    at: number;
    pickup: Place;
    dropoff: Place;
    passengers: number;
    wheelchairs: number;
    departAt?: number;
    arriveBy?: number;
  }
  const due: Due[] = sc.demand.requests.map((r) => ({
    at: start + r.atMin * 60_000,
    pickup: r.pickup,
    dropoff: r.dropoff,
    passengers: r.passengers,
    wheelchairs: r.wheelchairs,
    ...(r.departAtMin !== undefined ? { departAt: start + r.departAtMin * 60_000 } : {}),
    ...(r.arriveByMin !== undefined ? { arriveBy: start + r.arriveByMin * 60_000 } : {}),
  }));
  const gen = sc.demand.generator;
  if (gen) {
    const paxDist = Object.entries(gen.passengers).map(([k, w]) => [Number(k), w] as const);
    const paxTotal = paxDist.reduce((a, [, w]) => a + w, 0);
    const areaTotal = gen.areas.reduce((a, x) => a + x.weight, 0);
    for (const h of gen.hourly) {
      let t = start + h.fromMin * 60_000;
      const until = start + h.toMin * 60_000;
      if (h.perHour <= 0) continue;
      for (;;) {
        t += demandRng.exp(3600_000 / h.perHour);
        if (t >= until) break;
        let pick = demandRng.float() * areaTotal;
        const a = gen.areas.find((x) => (pick -= x.weight) < 0) ?? gen.areas[gen.areas.length - 1];
        const home = placeOf({ hubId: a.hubId });
        const others = hubs.filter((x) => x.id !== a.hubId);
        const hub = demandRng.pick(others);
        const rr = a.radiusM * Math.sqrt(demandRng.float()), ang = demandRng.float() * 2 * Math.PI;
        const spot = { lat: r6(home.lat + (rr * Math.cos(ang)) / 111_320), lon: r6(home.lon + (rr * Math.sin(ang)) / (111_320 * Math.cos((home.lat * Math.PI) / 180))) };
        let pp = demandRng.float() * paxTotal;
        const passengers = (paxDist.find(([, w]) => (pp -= w) < 0) ?? paxDist[0])[0];
        const wheelchairs = demandRng.bool(gen.wheelchairShare) ? 1 : 0;
        const toHub = demandRng.bool(gen.hubBoundShare);
        const prebook = demandRng.bool(gen.prebookedShare);
        const lead = gen.prebookLeadMin[0] + demandRng.float() * (gen.prebookLeadMin[1] - gen.prebookLeadMin[0]);
        due.push({
          at: Math.round(t),
          pickup: toHub ? spot : { hubId: hub.id },
          dropoff: toHub ? { hubId: hub.id } : spot,
          passengers,
          wheelchairs: Math.min(wheelchairs, passengers),
          ...(prebook ? { departAt: Math.round(t + lead * 60_000) } : {}),
        });
      }
    }
  }
  due.sort((a, b) => a.at - b.at);
  let nextDue = 0;

  // ---- faults as timed actions
  const faults = sc.faults.map((f) => ({ ...f, at: start + f.atMin * 60_000 })).sort((a, b) => a.at - b.at);
  let nextFault = 0;
  const reopenAt: { at: number; segs: number[]; street: string }[] = [];
  const closed = new Set<number>();

  const trips = new Map<string, Trip>();
  let reqSeq = 0;
  const usage: FleetUsage = { vehicleKm: 0, emptyKm: 0, passengerKm: 0, energyKWh: 0, driverBusyMs: 0, driverShiftMs };
  const series: SeriesPoint[] = [];

  const book = (d: Due | (Omit<Due, 'pickup' | 'dropoff'> & { pickup: Place; dropoff: Place }), id: string) => {
    const now = clock.now();
    const p = placeOf(d.pickup), q = placeOf(d.dropoff);
    const outcome: TripOutcome = {
      id,
      status: 'requested',
      requestedAt: now,
      desired: d.departAt !== undefined ? { type: 'departure', time: d.departAt } : d.arriveBy !== undefined ? { type: 'arrival', time: d.arriveBy } : { type: 'now', time: now },
      directMs: 0,
      passengers: d.passengers,
      ...('hubId' in d.dropoff ? { hubId: d.dropoff.hubId } : 'hubId' in d.pickup ? { hubId: d.pickup.hubId } : {}),
    };
    const trip: Trip = { outcome, vehicleId: null };
    trips.set(id, trip);
    emit({ type: 'request', requestId: id, pickup: { lat: r6(p.lat), lon: r6(p.lon) }, dropoff: { lat: r6(q.lat), lon: r6(q.lon) }, passengers: d.passengers, wheelchairs: d.wheelchairs, desired: outcome.desired });
    const inArea = booleanPointInPolygon([p.lon, p.lat], area) && booleanPointInPolygon([q.lon, q.lat], area);
    let from: Location, to: Location;
    try {
      from = oracle.locate(p.lat, p.lon);
      to = oracle.locate(q.lat, q.lon);
    } catch {
      outcome.status = 'rejected';
      outcome.rejectionReason = 'outside-service-area';
      emit({ type: 'reject', requestId: id, reason: 'outside-service-area', detail: 'no road near the place' });
      return;
    }
    if (!inArea) {
      outcome.status = 'rejected';
      outcome.rejectionReason = 'outside-service-area';
      emit({ type: 'reject', requestId: id, reason: 'outside-service-area' });
      return;
    }
    outcome.directMs = oracle.time(from, to) * 1000;
    const req: RideRequest = { id, pickup: from, dropoff: to, passengers: d.passengers, wheelchairs: d.wheelchairs, time: outcome.desired.type === 'now' ? { type: 'now' } : outcome.desired.type === 'departure' ? { type: 'departure', at: outcome.desired.time } : { type: 'arrival', by: outcome.desired.time } };
    syncPositions(5000);
    plansDirty = true;
    const res = dispatcher.request(req);
    if (res.kind === 'rejection') {
      outcome.status = 'rejected';
      outcome.rejectionReason = res.reason;
      emit({ type: 'reject', requestId: id, reason: res.reason, ...(res.alternative ? { alternative: res.alternative } : {}) });
      return;
    }
    emit({ type: 'offer', requestId: id, vehicleId: res.vehicleId, pickupFrom: res.pickupWindow.start, pickupTo: res.pickupWindow.end, arrival: res.estimatedArrival });
    const c = dispatcher.confirm(res.offerId);
    if (!c.ok) {
      outcome.status = 'expired';
      emit({ type: 'confirm-failed', requestId: id, reason: c.reason });
      return;
    }
    outcome.status = 'confirmed';
    outcome.promise = { pickupFrom: c.promise.pickupWindow.start, pickupTo: c.promise.pickupWindow.end, maxRideMs: c.promise.maxRideMs, ...(c.promise.latestArrival !== undefined ? { latestArrival: c.promise.latestArrival } : {}) };
    trip.vehicleId = c.vehicleId;
    emit({ type: 'confirm', requestId: id, vehicleId: c.vehicleId });
  };

  /**
   * The dispatcher learns where each moving bus can divert. Live, the server does this at 1 Hz; here it is done
   * right before every dispatcher decision, which gives the decisions the same information at a fraction of
   * the cost (snapping and re-timing 20 buses every simulated second dominated the run time).
   */
  let syncedAt = -1;
  const busSyncedAt = new Map<string, number>();
  const syncPositions = (maxAgeMs = 0) => {
    const now = clock.now();
    if (syncedAt === now) return;
    syncedAt = now;
    for (const bus of buses.values()) {
      const m = bus.ctl.model;
      if (bus.scripted || bus.broken || m.speed <= 0) continue;
      // a position a few seconds old is as good as the live server's (1 Hz, plus network) for a booking decision
      if (now - (busSyncedAt.get(bus.id) ?? -Infinity) < maxAgeMs) continue;
      busSyncedAt.set(bus.id, now);
      try {
        dispatcher.updateVehicle({ id: bus.id, position: oracle.locate(m.lat, m.lon), time: now, soc: m.soc });
      } catch {
        /* off the graph for a moment: keep the last position */
      }
    }
  };
  let plansDirty = true;

  const drainDispatch = () => {
    for (const e of dispatcher.drainEvents()) {
      plansDirty = true;
      if (e.type === 'offer' || e.type === 'confirm' || e.type === 'reject') continue; // logged by the runner with more detail
      const trip = e.requestId ? trips.get(e.requestId) : undefined;
      if (trip && (e.type === 'assign' || e.type === 'reassign') && e.vehicleId) trip.vehicleId = e.vehicleId;
      if (trip && e.type === 'expire' && trip.outcome.status === 'confirmed') trip.outcome.status = 'expired';
      emit({ type: `dispatch.${e.type}`, ...(e.requestId ? { requestId: e.requestId } : {}), ...(e.vehicleId ? { vehicleId: e.vehicleId } : {}), ...(e.data ? { data: e.data } : {}) });
    }
  };

  const publishedVersion = new Map<string, number>();
  const publishPlans = (force = false) => {
    if (!force && !plansDirty) return;
    plansDirty = false;
    for (const bus of buses.values()) {
      if (bus.scripted || bus.broken) continue;
      // only buses whose plan or state changed since the last look (the dispatcher's version counter)
      const ver = dispatcher.planVersion(bus.id);
      if (!force && publishedVersion.get(bus.id) === ver) continue;
      publishedVersion.set(bus.id, ver);
      const p = dispatcher.plan(bus.id);
      if (!p) continue;
      const key = planKey(p);
      if (!force && key === bus.planKey) continue;
      bus.planKey = key;
      const upd = toPlanUpdate(p, ++bus.planVersion, oracle, hubs);
      bus.ctl.setPlan(upd);
      emit({ type: 'plan', vehicleId: p.vehicleId, version: upd.version, stops: upd.stops.map((s) => `${s.kind}:${s.requestId}`), task: upd.task?.kind ?? null });
    }
  };

  const applyFault = (f: (typeof faults)[number]) => {
    const now = clock.now();
    if (f.type === 'road_closure') {
      const segs = o.engine.segmentsNamed(f.street, f.near);
      for (const s of segs) closed.add(s);
      o.engine.setClosedSegments(closed);
      dispatcher.invalidateTravelTimes();
      reopenAt.push({ at: now + f.durationMin * 60_000, segs, street: f.street });
      emit({ type: 'fault.road_closure', street: f.street, segments: segs.length, untilMin: f.atMin + f.durationMin });
      publishPlans(true);
      return;
    }
    const bus = buses.get(f.vehicleId)!;
    if (f.type === 'link_loss') {
      bus.linkLostUntil = now + f.durationS * 1000;
      emit({ type: 'fault.link_loss', vehicleId: bus.id, durationS: f.durationS });
    } else if (f.type === 'latency_spike') {
      bus.latencyMs = f.ms;
      bus.latencyUntil = now + f.durationS * 1000;
      emit({ type: 'fault.latency_spike', vehicleId: bus.id, ms: f.ms, durationS: f.durationS });
    } else if (f.type === 'breakdown') {
      bus.broken = true;
      emit({ type: 'fault.breakdown', vehicleId: bus.id, onboard: { ...bus.ctl.occupancy } });
      rescue(bus);
    }
  };

  /**
   * A broken-down bus: riders waiting for it are moved to other buses with their promise kept where possible
   * (the dispatcher's reassignFrom); riders on board get a rescue ride from where the bus stands.
   */
  const rescue = (bus: Bus) => {
    const plan = dispatcher.plan(bus.id);
    syncPositions();
    dispatcher.updateVehicle({ id: bus.id, status: 'out-of-service' });
    const { moved, stranded } = dispatcher.reassignFrom(bus.id);
    for (const id of moved) emit({ type: 'rebook', requestId: id, from: bus.id });
    for (const id of stranded) {
      const trip = trips.get(id);
      if (trip) trip.outcome.status = 'disrupted';
      emit({ type: 'stranded', requestId: id, vehicleId: bus.id });
    }
    const here = { lat: bus.ctl.model.lat, lon: bus.ctl.model.lon };
    for (const ob of plan?.onboard ?? []) {
      const trip = trips.get(ob.requestId);
      const drop = plan!.stops.find((s) => s.requestId === ob.requestId && s.kind === 'dropoff');
      if (!trip || !drop || trip.outcome.status === 'disrupted') continue;
      trip.outcome.status = 'disrupted';
      emit({ type: 'rescue', requestId: ob.requestId, vehicleId: bus.id });
      book({ at: clock.now(), pickup: here, dropoff: { lat: drop.location.lat, lon: drop.location.lon }, passengers: ob.seats + ob.wheelchairs, wheelchairs: ob.wheelchairs }, `${ob.requestId}-rescue`);
    }
    plansDirty = true;
  };

  const onSignal = (bus: Bus, sig: { requestId: string; kind: 'pickup' | 'dropoff'; event: 'arrived' | 'boarding' | 'done'; at: number }) => {
    if (bus.scripted) {
      if (sig.event !== 'boarding') emit({ type: sig.event === 'arrived' ? 'script.arrive' : 'script.depart', vehicleId: bus.id, stop: sig.requestId });
      return;
    }
    const trip = trips.get(sig.requestId);
    if (!trip || trip.outcome.status === 'disrupted') return;
    if (sig.event === 'boarding') {
      // KPIs: pickup = service start (boarding begins); drop-off = the bus's arrival (set on 'arrived')
      if (sig.kind === 'pickup' && trip.outcome.status === 'confirmed') trip.outcome.pickedUpAt = sig.at;
      emit({ type: sig.kind === 'pickup' ? 'boarding' : 'alighting', requestId: sig.requestId, vehicleId: bus.id });
    } else if (sig.event === 'arrived') {
      const plan = dispatcher.plan(bus.id);
      const planned = plan?.stops.find((x) => x.requestId === sig.requestId && x.kind === sig.kind);
      if (plan?.stops[0]?.requestId === sig.requestId) dispatcher.vehicleArrived(bus.id, sig.at);
      if (sig.kind === 'dropoff' && trip.outcome.status === 'picked_up') trip.outcome.droppedOffAt = sig.at;
      // how far the bus is behind (or ahead of) the dispatcher's plan: the sim's check on the dispatcher's model
      emit({ type: 'arrive', requestId: sig.requestId, vehicleId: bus.id, kind: sig.kind, ...(planned ? { vsPlanS: Math.round((sig.at - planned.arrival) / 1000) } : {}) });
    } else if (sig.kind === 'pickup' && trip.outcome.status === 'confirmed') {
      dispatcher.pickedUp(sig.requestId, sig.at);
      trip.outcome.status = 'picked_up';
      trip.outcome.pickedUpAt ??= sig.at;
      trip.outcome.departedAt = sig.at;
      emit({ type: 'pickup', requestId: sig.requestId, vehicleId: bus.id });
    } else if (sig.kind === 'dropoff' && trip.outcome.status === 'picked_up') {
      dispatcher.droppedOff(sig.requestId, sig.at);
      trip.outcome.status = 'completed';
      trip.outcome.droppedOffAt ??= sig.at;
      emit({ type: 'dropoff', requestId: sig.requestId, vehicleId: bus.id });
    }
  };

  // ---- main loop
  const REOPT_MS = dispatcher.config.reoptimisation.intervalMs;
  let lastReopt = start;
  const total = end - start;
  let lastProgress = -1;
  let stepNo = 0;
  const wallStart = performance.now();
  publishPlans();
  while (clock.now() < end) {
    const now = clock.now();
    while (nextFault < faults.length && faults[nextFault].at <= now) applyFault(faults[nextFault++]);
    for (let i = reopenAt.length - 1; i >= 0; i--) {
      if (reopenAt[i].at > now) continue;
      for (const s of reopenAt[i].segs) closed.delete(s);
      o.engine.setClosedSegments(closed);
      dispatcher.invalidateTravelTimes();
      emit({ type: 'fault.road_reopened', street: reopenAt[i].street });
      reopenAt.splice(i, 1);
      publishPlans(true);
    }
    while (nextDue < due.length && due[nextDue].at <= now) book(due[nextDue++], `r${++reqSeq}`);
    if (stepNo % Math.max(1, Math.round(1 / dt)) === 0) {
      if (clock.now() - lastReopt >= REOPT_MS) {
        syncPositions();
        lastReopt = clock.now();
      }
      dispatcher.tick();
      if (stepNo % Math.round(30 / dt) === 0) dispatcher.idleRebalancing();
      drainDispatch();
      publishPlans();
    }

    for (const bus of buses.values()) {
      const ctl = bus.ctl;
      // teleoperation in simulation: link loss or breakdown → MRM → safe stop; a simulated driver re-acquires
      const linkDown = now < bus.linkLostUntil;
      if (now >= bus.latencyUntil && bus.latencyMs !== 60) bus.latencyMs = 60;
      const factor = permittedSpeedFactor(bus.latencyMs + 40);
      if ((linkDown || bus.broken || factor === 0) && bus.mode === 'remote') {
        bus.mode = 'mrm';
        ctl.model.braking = 'mrm';
        ctl.mode = 'mrm';
        emit({ type: 'teleop.mrm', vehicleId: bus.id, reason: bus.broken ? 'breakdown' : linkDown ? 'link_loss' : 'latency' });
      }
      if (bus.mode === 'mrm' && ctl.model.speed === 0) {
        bus.mode = 'safe_stop';
        ctl.mode = 'safe_stop';
        bus.reacquireAt = now + 15_000; // the driver checks the scene before confirming
        emit({ type: 'teleop.safe_stop', vehicleId: bus.id });
      }
      if (bus.mode === 'safe_stop' && !linkDown && !bus.broken && factor > 0 && now >= bus.reacquireAt) {
        bus.mode = 'remote';
        ctl.mode = 'remote';
        ctl.model.braking = 'none';
        emit({ type: 'teleop.reacquire', vehicleId: bus.id, driver: `sim:${bus.id}` });
      }
      ctl.model.speedCap = factor < 1 ? Math.max(0, factor) * ctl.model.params.maxSpeed : Infinity;
      const pax = ctl.occupancy.seats + ctl.occupancy.wheelchairs;
      const signals = ctl.step(now, dt);
      const ds = ctl.model.odometer - bus.lastOdo;
      bus.lastOdo = ctl.model.odometer;
      usage.vehicleKm += ds / 1000;
      usage.passengerKm += (ds / 1000) * pax;
      if (pax === 0) usage.emptyKm += ds / 1000;
      usage.energyKWh += ctl.model.energyKWh - bus.lastEnergy;
      bus.lastEnergy = ctl.model.energyKWh;
      if (ctl.model.hasRoute() || ctl.dwelling || pax > 0) usage.driverBusyMs += dt * 1000;
      for (const s of signals) onSignal(bus, s);
      if (signals.length) {
        plansDirty = true;
        drainDispatch();
        publishPlans();
      }
    }

    if (stepNo % Math.round(sc.stateEveryS / dt) === 0) {
      for (const bus of buses.values()) {
        const m = bus.ctl.model;
        emit({ type: 'vehicle', vehicleId: bus.id, lat: r6(m.lat), lon: r6(m.lon), heading: Math.round(m.heading), speed: r1(m.speed), soc: Math.round(m.soc * 1000) / 1000, mode: bus.mode, doors: bus.ctl.doors, onboard: bus.ctl.occupancy.seats + bus.ctl.occupancy.wheelchairs, latencyMs: bus.latencyMs + 40, link: now < bus.linkLostUntil ? 'lost' : 'up' }, true);
      }
    }
    if (stepNo % Math.round(300 / dt) === 0) {
      let onboard = 0, seats = 0, driving = 0, dwelling = 0, idle = 0, stopped = 0;
      for (const bus of buses.values()) {
        onboard += bus.ctl.occupancy.seats + bus.ctl.occupancy.wheelchairs;
        const v = sc.fleet.find((f) => f.id === bus.id)!;
        if (!bus.broken) seats += v.seats + v.wheelchairPlaces;
        if (bus.mode !== 'remote' || bus.broken) stopped++;
        else if (bus.ctl.dwelling) dwelling++;
        else if (bus.ctl.model.speed > 0.1) driving++;
        else idle++;
      }
      series.push({ t: now, onboard, seatsInService: seats, driving, dwelling, idle, stopped });
    }

    clock.advance(dt * 1000);
    stepNo++;
    const pct = Math.floor(((clock.now() - start) / total) * 100);
    if (pct !== lastProgress) {
      lastProgress = pct;
      o.onProgress?.(clock.now() - start, total);
    }
    if (o.speed !== undefined && o.speed !== 'max') {
      const ahead = (clock.now() - start) / o.speed - (performance.now() - wallStart);
      if (ahead > 5) await new Promise((r) => setTimeout(r, ahead));
    } else if (stepNo % 2000 === 0) {
      await new Promise((r) => setImmediate(r)); // let a progress bar redraw
    }
  }
  if (closed.size) o.engine.setClosedSegments([]);
  const tripList = [...trips.values()].map((t) => t.outcome);
  const kpis = computeKpis(tripList, usage);
  emit({ type: 'run.end', kpis });
  return { kpis, trips: tripList, series, events, simulatedMs: total };
}
