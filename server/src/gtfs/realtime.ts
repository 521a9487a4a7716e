import GtfsRealtimeBindings from 'gtfs-realtime-bindings';
import distance from '@turf/distance';
import type { Hub } from '@kl/routing/fixtures.ts';
import type { FleetRegistry } from '../fleet/registry.ts';
import type { FleetVehicle, PlanUpdate } from '../protocol/events.ts';

const { transit_realtime: rt } = GtfsRealtimeBindings;
export { rt as transitRealtime };
const Occ = rt.VehiclePosition.OccupancyStatus;
const Stop = rt.VehiclePosition.VehicleStopStatus;

/** A bus standing this close to a hub counts as stopped at it (GPS noise, the bus bay). */
const AT_HUB_M = 30;
const STANDING_MS = 0.5;

/**
 * GTFS-Realtime occupancy from seats in use (wheelchair places count as places). A minibus has no standing room,
 * so the scale ends at FULL; a bus in a minimal-risk manoeuvre or stopped for safety takes nobody on.
 */
export function occupancyOf(v: Pick<FleetVehicle, 'occupancy' | 'capacity' | 'mode'>): { status: GtfsRealtimeBindings.transit_realtime.VehiclePosition.OccupancyStatus; percentage: number | null } {
  const places = v.capacity.seats + v.capacity.wheelchairs;
  const used = v.occupancy.seats + v.occupancy.wheelchairs;
  if (v.mode === 'mrm' || v.mode === 'safe_stop' || v.mode === 'emergency_stop') return { status: Occ.NOT_ACCEPTING_PASSENGERS, percentage: places ? Math.round((100 * used) / places) : null };
  if (!places) return { status: Occ.NO_DATA_AVAILABLE, percentage: null };
  const share = used / places;
  const status = used === 0 ? Occ.EMPTY : share >= 1 ? Occ.FULL : share >= 0.5 ? Occ.FEW_SEATS_AVAILABLE : Occ.MANY_SEATS_AVAILABLE;
  return { status, percentage: Math.round(100 * share) };
}

/**
 * Where the bus is relative to the stops of the static feed. Only hubs are GTFS stops: a door-to-door stop is a
 * rider's address and never leaves the server, so a bus heading to one has no stop_id here.
 */
export function stopStatusOf(v: Pick<FleetVehicle, 'lat' | 'lon' | 'speed'>, atStop: string | null | undefined, plan: PlanUpdate | null, hubs: Hub[]): { status: GtfsRealtimeBindings.transit_realtime.VehiclePosition.VehicleStopStatus; stopId: string } | null {
  const known = new Set(hubs.map((h) => h.id));
  if (atStop) {
    const s = plan?.stops.find((x) => x.requestId === atStop);
    if (s?.hubId && known.has(s.hubId)) return { status: Stop.STOPPED_AT, stopId: s.hubId };
  }
  if (v.speed < STANDING_MS) {
    for (const h of hubs) if (distance([v.lon, v.lat], [h.lon, h.lat], { units: 'meters' }) <= AT_HUB_M) return { status: Stop.STOPPED_AT, stopId: h.id };
  }
  const next = plan?.stops[0];
  if (next) return next.hubId && known.has(next.hubId) ? { status: Stop.IN_TRANSIT_TO, stopId: next.hubId } : null;
  const task = plan?.task?.hubId;
  return task && known.has(task) ? { status: Stop.IN_TRANSIT_TO, stopId: task } : null;
}

export interface FeedSources {
  fleet: FleetRegistry;
  hubs: Hub[];
  planOf: (vehicleId: string) => PlanUpdate | null;
}

/** Full-dataset VehiclePositions feed of the buses online now; nothing about riders. */
export function vehiclePositionsFeed(src: FeedSources, now: number): GtfsRealtimeBindings.transit_realtime.FeedMessage {
  const entity: GtfsRealtimeBindings.transit_realtime.IFeedEntity[] = [];
  for (const v of src.fleet.all()) {
    if (!v.online) continue;
    const occ = occupancyOf(v);
    const stop = stopStatusOf(v, src.fleet.state(v.id)?.atStop, src.planOf(v.id), src.hubs);
    entity.push({
      id: v.id,
      vehicle: {
        vehicle: { id: v.id, label: v.label },
        position: { latitude: v.lat, longitude: v.lon, bearing: v.heading, speed: v.speed },
        timestamp: Math.floor(v.receivedAt / 1000),
        occupancyStatus: occ.status,
        ...(occ.percentage !== null ? { occupancyPercentage: occ.percentage } : {}),
        ...(stop ? { currentStatus: stop.status, stopId: stop.stopId } : {}),
      },
    });
  }
  return rt.FeedMessage.fromObject({
    header: { gtfsRealtimeVersion: '2.0', incrementality: rt.FeedHeader.Incrementality.FULL_DATASET, timestamp: Math.floor(now / 1000) },
    entity,
  });
}

export function encodeFeed(feed: GtfsRealtimeBindings.transit_realtime.FeedMessage): Uint8Array {
  return rt.FeedMessage.encode(feed).finish();
}

/**
 * The protobuf JSON mapping of the feed (enums by name, 64-bit timestamps as strings), as protobufjs writes it,
 * of exactly what the protobuf carries: decoded from the encoding, so positions are the float32 values, written
 * as the shortest decimals that read back to the same float32 (49.42586, not 49.42586135864258).
 */
export function feedJson(feed: GtfsRealtimeBindings.transit_realtime.FeedMessage): Record<string, unknown> {
  const json = rt.FeedMessage.decode(encodeFeed(feed)).toJSON() as { entity?: { vehicle?: { position?: Record<string, number> } }[] };
  for (const e of json.entity ?? []) {
    const p = e.vehicle?.position;
    if (p) for (const k of Object.keys(p)) p[k] = shortestFloat32(p[k]);
  }
  return json;
}

function shortestFloat32(x: number): number {
  const f = Math.fround(x);
  for (let digits = 1; digits < 17; digits++) {
    const y = Number(f.toPrecision(digits));
    if (Math.fround(y) === f) return y;
  }
  return f;
}
