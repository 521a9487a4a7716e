import GtfsRealtimeBindings from 'gtfs-realtime-bindings';
import distance from '@turf/distance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadHubs } from '@kl/routing/fixtures.ts';
import { FleetRegistry, type VehicleDef } from '../fleet/registry.ts';
import type { PlanUpdate } from '../protocol/events.ts';
import type { VehicleStateMsg } from '../protocol/schemas.ts';
import { api, startTestServer, type TestServer } from '../testing/server.ts';
import { encodeFeed, occupancyOf, vehiclePositionsFeed } from './realtime.ts';

const { FeedMessage, VehiclePosition, FeedHeader } = GtfsRealtimeBindings.transit_realtime;
const Occ = VehiclePosition.OccupancyStatus;
const hubs = loadHubs();
const hub = (id: string) => hubs.find((h) => h.id === id)!;

const def = (id: string, seats = 8, wheelchairPlaces = 2): VehicleDef => ({ id, label: `KL-S ${id}`, seats, wheelchairPlaces, batteryKWh: 80, start: { lat: 49.43, lon: 7.75 }, soc: 0.9 });
const state = (seq: number, o: Partial<VehicleStateMsg> = {}): VehicleStateMsg => ({
  seq,
  sentAt: 1_700_000_000_000,
  lat: 49.43,
  lon: 7.75,
  heading: 90,
  speed: 8.5,
  soc: 0.8,
  doors: 'closed',
  occupancy: { seats: 0, wheelchairs: 0 },
  mode: 'remote',
  ...o,
});
const plan = (vehicleId: string, stops: { requestId: string; hubId?: string }[], task: PlanUpdate['task'] = null): PlanUpdate => ({
  vehicleId,
  version: 1,
  stops: stops.map((s, i) => ({ requestId: s.requestId, kind: i % 2 ? 'dropoff' : 'pickup', lat: 49.43, lon: 7.75, arrival: 0, ready: 0, departure: 0, seats: 1, wheelchairs: 0, ...(s.hubId ? { hubId: s.hubId } : {}) })),
  task,
  route: null,
});

describe('VehiclePositions from the fleet registry', () => {
  it('one entity per online bus with position, bearing, speed, timestamp, vehicle and occupancy; offline buses are left out', () => {
    const fleet = new FleetRegistry([def('a'), def('b'), def('c')]);
    fleet.update('a', state(1, { occupancy: { seats: 3, wheelchairs: 0 } }), 1_700_000_001_500);
    fleet.update('b', state(1, { lat: 49.4241, lon: 7.7557, heading: 270, speed: 0 }), 1_700_000_002_000);
    fleet.update('c', state(1), 1_700_000_002_000);
    fleet.setOnline('c', false);
    const bytes = encodeFeed(vehiclePositionsFeed({ fleet, hubs, planOf: () => null }, 1_700_000_003_900));
    const feed = FeedMessage.decode(bytes);
    expect(feed.header.gtfsRealtimeVersion).toBe('2.0');
    expect(feed.header.incrementality).toBe(FeedHeader.Incrementality.FULL_DATASET);
    expect(Number(feed.header.timestamp)).toBe(1_700_000_003);
    expect(feed.entity.map((e) => e.id)).toEqual(['a', 'b']);
    const a = feed.entity[0].vehicle!;
    expect(a.vehicle).toMatchObject({ id: 'a', label: 'KL-S a' });
    expect(a.position!.latitude).toBeCloseTo(49.43, 5);
    expect(a.position!.longitude).toBeCloseTo(7.75, 5);
    expect(a.position!.bearing).toBe(90);
    expect(a.position!.speed).toBe(8.5);
    expect(Number(a.timestamp)).toBe(1_700_000_001);
    expect(a.occupancyStatus).toBe(Occ.MANY_SEATS_AVAILABLE);
    expect(a.occupancyPercentage).toBe(30); // 3 of 10 places
    // b stands at the TUK hub stop: stopped at it, known from its position
    const b = feed.entity[1].vehicle!;
    expect(b.currentStatus).toBe(VehiclePosition.VehicleStopStatus.STOPPED_AT);
    expect(b.stopId).toBe('tuk');
    expect(b.occupancyStatus).toBe(Occ.EMPTY);
    // nothing about riders: the encoded feed holds no booking id
    fleet.update('a', state(2, { atStop: 'bSECRET123' }), 1_700_000_004_000);
    const again = FeedMessage.decode(encodeFeed(vehiclePositionsFeed({ fleet, hubs, planOf: (id) => (id === 'a' ? plan('a', [{ requestId: 'bSECRET123' }]) : null) }, 1_700_000_004_000)));
    expect(JSON.stringify(again.toJSON())).not.toContain('bSECRET123');
    expect(again.entity[0].vehicle!.stopId ?? '').toBe(''); // a door stop is an address: no stop id
  });

  it('occupancy scale: empty, many, few, full; not accepting in a safety stop', () => {
    const v = (seats: number, wheelchairs: number, mode: VehicleStateMsg['mode'] = 'remote') => occupancyOf({ occupancy: { seats, wheelchairs }, capacity: { seats: 8, wheelchairs: 2 }, mode });
    expect(v(0, 0).status).toBe(Occ.EMPTY);
    expect(v(4, 0).status).toBe(Occ.MANY_SEATS_AVAILABLE);
    expect(v(4, 1).status).toBe(Occ.FEW_SEATS_AVAILABLE);
    expect(v(8, 2).status).toBe(Occ.FULL);
    expect(v(8, 2).percentage).toBe(100);
    expect(v(1, 0, 'safe_stop').status).toBe(Occ.NOT_ACCEPTING_PASSENGERS);
    expect(occupancyOf({ occupancy: { seats: 0, wheelchairs: 0 }, capacity: { seats: 0, wheelchairs: 0 }, mode: 'remote' }).status).toBe(Occ.NO_DATA_AVAILABLE);
  });

  it('current status: stopped at a hub stop of the plan, in transit to the next hub stop or rebalancing hub', () => {
    const fleet = new FleetRegistry([def('a')]);
    const far = { lat: 49.432, lon: 7.76 };
    const feedOf = (s: VehicleStateMsg, p: PlanUpdate | null) => {
      fleet.update('a', s, 1_700_000_000_000);
      return vehiclePositionsFeed({ fleet, hubs, planOf: () => p }, 1_700_000_000_000).entity[0].vehicle!;
    };
    const pfaff = hub('pfaff');
    let v = feedOf(state(1, { lat: pfaff.lat + 0.0005, lon: pfaff.lon, speed: 0, atStop: 'b1' }), plan('a', [{ requestId: 'b1', hubId: 'pfaff' }, { requestId: 'b1', hubId: 'hbf' }]));
    expect([v.currentStatus, v.stopId]).toEqual([VehiclePosition.VehicleStopStatus.STOPPED_AT, 'pfaff']);
    v = feedOf(state(2, { ...far }), plan('a', [{ requestId: 'b1', hubId: 'hbf' }]));
    expect([v.currentStatus, v.stopId]).toEqual([VehiclePosition.VehicleStopStatus.IN_TRANSIT_TO, 'hbf']);
    v = feedOf(state(3, { ...far }), plan('a', [], { kind: 'rebalance', lat: 0, lon: 0, hubId: 'uni-wohnstadt' }));
    expect([v.currentStatus, v.stopId]).toEqual([VehiclePosition.VehicleStopStatus.IN_TRANSIT_TO, 'uni-wohnstadt']);
    v = feedOf(state(4, { ...far }), plan('a', [{ requestId: 'b2' }], { kind: 'rebalance', lat: 0, lon: 0, hubId: 'tuk' }));
    expect(v.stopId ?? '').toBe(''); // the next stop is a door: no stop id, even with a hub task behind it
  });
});

describe('GET /gtfs-rt/vehicle-positions on a live server with simulated buses', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ vehicles: 2 });
    for (let i = 0; i < 100 && s.app.fleet.onlineCount() < 2; i++) await new Promise((r) => setTimeout(r, 100));
  });
  afterAll(() => s.close());

  it('protobuf: decodes with gtfs-realtime-bindings, one entity per online bus, positions match the registry', async () => {
    const res = await fetch(`${s.url}/gtfs-rt/vehicle-positions`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-protobuf/);
    const feed = FeedMessage.decode(new Uint8Array(await res.arrayBuffer()));
    const online = s.app.fleet.all().filter((v) => v.online);
    expect(online.length).toBe(2);
    expect(feed.entity.map((e) => e.id).sort()).toEqual(online.map((v) => v.id).sort());
    expect(Math.abs(Number(feed.header.timestamp) - Date.now() / 1000)).toBeLessThan(5);
    for (const e of feed.entity) {
      const v = s.app.fleet.vehicle(e.id)!;
      const p = e.vehicle!.position!;
      // the bus moves on between the request and this check: a few metres at most
      expect(distance([p.longitude, p.latitude], [v.lon, v.lat], { units: 'meters' })).toBeLessThan(30);
      expect(e.vehicle!.vehicle!.label).toBe(v.label);
      expect(e.vehicle!.occupancyStatus).toBeDefined();
    }
  });

  it('?format=json is the same feed in the protobuf JSON mapping', async () => {
    const j = await api(s.url, 'GET', '/gtfs-rt/vehicle-positions?format=json');
    expect(j.status).toBe(200);
    expect(j.json.header).toMatchObject({ gtfsRealtimeVersion: '2.0', incrementality: 'FULL_DATASET', timestamp: expect.stringMatching(/^\d+$/) });
    const fromJson = FeedMessage.fromObject(j.json);
    expect(fromJson.entity.map((e) => e.id).sort()).toEqual(['bus-1', 'bus-2']);
    // through the wire format and back it is the same feed: the JSON's decimals are the protobuf's float32 values
    const f32 = (x: unknown) => JSON.parse(JSON.stringify(x), (k, v) => (['latitude', 'longitude', 'bearing', 'speed'].includes(k) ? Math.fround(v) : v));
    expect(f32(FeedMessage.decode(FeedMessage.encode(fromJson).finish()).toJSON())).toEqual(f32(j.json));
    expect(j.json.entity[0].vehicle.position.latitude.toString().length).toBeLessThan(12); // shortest float32 decimals
  });

  it('bad query → 400 with the reason; no token needed', async () => {
    const r = await api(s.url, 'GET', '/gtfs-rt/vehicle-positions?format=xml');
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('format') });
    expect((await api(s.url, 'GET', '/gtfs-rt/vehicle-positions?foo=1')).status).toBe(400);
  });
});
