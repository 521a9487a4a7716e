import { parse } from 'csv-parse/sync';
import { strFromU8, unzipSync } from 'fflate';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDepot, loadHubs, loadServiceArea, type ServiceArea } from '@kl/routing/fixtures.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { loadGtfsConfig } from './config.ts';
import { gtfsStaticFiles, gtfsZip } from './static.ts';

type Row = Record<string, string>;
interface Feed {
  names: string[];
  csv: Record<string, { header: string[]; rows: Row[] }>;
  locations: { type: string; features: { type: string; id: unknown; properties: Record<string, unknown>; geometry: { type: string; coordinates: number[][][] } }[] };
}

function readZip(bytes: Uint8Array): Feed {
  const files = unzipSync(bytes);
  const csv: Feed['csv'] = {};
  for (const [name, data] of Object.entries(files)) {
    if (!name.endsWith('.txt')) continue;
    const text = strFromU8(data);
    const header = (parse(text, { to_line: 1 }) as string[][])[0];
    csv[name] = { header, rows: parse(text, { columns: true, skip_empty_lines: true }) as Row[] };
  }
  return { names: Object.keys(files), csv, locations: JSON.parse(strFromU8(files['locations.geojson'])) };
}

/** Required columns per file (GTFS reference, incl. the Flex additions). */
const REQUIRED: Record<string, string[]> = {
  'agency.txt': ['agency_id', 'agency_name', 'agency_url', 'agency_timezone'],
  'stops.txt': ['stop_id', 'stop_name', 'stop_lat', 'stop_lon'],
  'routes.txt': ['route_id', 'agency_id', 'route_type'],
  'trips.txt': ['route_id', 'service_id', 'trip_id'],
  'stop_times.txt': ['trip_id', 'stop_sequence', 'pickup_type', 'drop_off_type'],
  'calendar.txt': ['service_id', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'start_date', 'end_date'],
  'feed_info.txt': ['feed_publisher_name', 'feed_publisher_url', 'feed_lang'],
  'booking_rules.txt': ['booking_rule_id', 'booking_type'],
};

const secs = (t: string) => {
  const [h, m, s] = t.split(':').map(Number);
  return h * 3600 + m * 60 + s;
};

/** Structural and referential checks a GTFS validator makes for these files. */
function checkFeed(f: Feed, hubs: { id: string; lat: number; lon: number }[], area: ServiceArea) {
  for (const name of ['agency.txt', 'stops.txt', 'routes.txt', 'trips.txt', 'stop_times.txt', 'calendar.txt', 'feed_info.txt', 'booking_rules.txt', 'locations.geojson']) expect(f.names).toContain(name);
  for (const [file, cols] of Object.entries(REQUIRED)) {
    for (const c of cols) expect(f.csv[file].header, `${file} lacks ${c}`).toContain(c);
    for (const r of f.csv[file].rows) for (const c of cols) expect(r[c], `${file}.${c} empty`).not.toBe('');
  }
  const unique = (file: string, col: string) => {
    const ids = f.csv[file].rows.map((r) => r[col]);
    expect(new Set(ids).size, `${file}.${col} unique`).toBe(ids.length);
    return new Set(ids);
  };

  const [agency] = f.csv['agency.txt'].rows;
  expect(() => new Intl.DateTimeFormat('en', { timeZone: agency.agency_timezone })).not.toThrow();
  expect(() => new URL(agency.agency_url)).not.toThrow();

  const stopIds = unique('stops.txt', 'stop_id');
  expect([...stopIds].sort()).toEqual(hubs.map((h) => h.id).sort());
  expect(stopIds.has(loadDepot().id)).toBe(false); // the depot is no passenger stop
  for (const s of f.csv['stops.txt'].rows) {
    const h = hubs.find((x) => x.id === s.stop_id)!;
    expect(Number(s.stop_lat)).toBeCloseTo(h.lat, 5);
    expect(Number(s.stop_lon)).toBeCloseTo(h.lon, 5);
  }

  const routeIds = unique('routes.txt', 'route_id');
  for (const r of f.csv['routes.txt'].rows) {
    expect(r.route_type).toBe('715');
    expect(r.agency_id).toBe(agency.agency_id);
    expect(r.route_short_name || r.route_long_name).toBeTruthy();
  }
  const serviceIds = unique('calendar.txt', 'service_id');
  for (const c of f.csv['calendar.txt'].rows) {
    expect(c.start_date).toMatch(/^\d{8}$/);
    expect(c.end_date).toMatch(/^\d{8}$/);
    expect(c.start_date <= c.end_date).toBe(true);
  }
  const [info] = f.csv['feed_info.txt'].rows;
  expect(info.feed_start_date <= f.csv['calendar.txt'].rows[0].start_date && info.feed_end_date >= f.csv['calendar.txt'].rows[0].end_date).toBe(true);

  // locations.geojson: a FeatureCollection of polygons with ids outside the stops' id space
  expect(f.locations.type).toBe('FeatureCollection');
  const locationIds = new Set<string>();
  for (const z of f.locations.features) {
    expect(z.type).toBe('Feature');
    expect(typeof z.id).toBe('string');
    expect(stopIds.has(z.id as string)).toBe(false);
    locationIds.add(z.id as string);
    expect(['Polygon', 'MultiPolygon']).toContain(z.geometry.type);
    for (const k of Object.keys(z.properties)) expect(['stop_name', 'stop_desc']).toContain(k);
    const ring = z.geometry.coordinates[0];
    expect(ring[0]).toEqual(ring[ring.length - 1]);
  }
  expect(locationIds.size).toBe(area.features.length);

  const rules = new Map(f.csv['booking_rules.txt'].rows.map((r) => [r.booking_rule_id, r]));
  expect(rules.size).toBe(f.csv['booking_rules.txt'].rows.length);
  for (const r of rules.values()) {
    expect(['0', '1', '2']).toContain(r.booking_type);
    if (r.booking_type === '0') for (const c of ['prior_notice_duration_min', 'prior_notice_duration_max', 'prior_notice_last_day', 'prior_notice_start_day']) expect(r[c] ?? '').toBe('');
    if (r.booking_type === '1') {
      expect(Number(r.prior_notice_duration_min)).toBeGreaterThanOrEqual(0);
      if (r.prior_notice_duration_max) expect(Number(r.prior_notice_duration_max)).toBeGreaterThan(Number(r.prior_notice_duration_min));
    }
    expect(r.phone_number || r.info_url || r.booking_url).toBeTruthy();
  }

  const tripIds = unique('trips.txt', 'trip_id');
  for (const t of f.csv['trips.txt'].rows) {
    expect(routeIds.has(t.route_id)).toBe(true);
    expect(serviceIds.has(t.service_id)).toBe(true);
  }
  const byTrip = new Map<string, Row[]>();
  const usedRules = new Set<string>();
  for (const st of f.csv['stop_times.txt'].rows) {
    expect(tripIds.has(st.trip_id), `stop_times trip ${st.trip_id}`).toBe(true);
    // exactly one of stop_id / location_id, and it exists
    expect(Number(!!st.stop_id) + Number(!!st.location_id)).toBe(1);
    if (st.stop_id) expect(stopIds.has(st.stop_id)).toBe(true);
    if (st.location_id) expect(locationIds.has(st.location_id)).toBe(true);
    // flexible service: windows instead of times; pickup/drop-off types the Flex spec allows with windows
    expect(st.arrival_time ?? '').toBe('');
    expect(st.departure_time ?? '').toBe('');
    expect(secs(st.start_pickup_drop_off_window)).toBeLessThan(secs(st.end_pickup_drop_off_window));
    expect(['1', '2']).toContain(st.pickup_type);
    expect(['1', '2', '3']).toContain(st.drop_off_type);
    if (st.pickup_type === '2') expect(rules.has(st.pickup_booking_rule_id)).toBe(true);
    if (st.drop_off_type === '2') expect(rules.has(st.drop_off_booking_rule_id)).toBe(true);
    for (const id of [st.pickup_booking_rule_id, st.drop_off_booking_rule_id]) if (id) usedRules.add(id);
    const list = byTrip.get(st.trip_id) ?? [];
    list.push(st);
    byTrip.set(st.trip_id, list);
  }
  expect([...usedRules].sort()).toEqual([...rules.keys()].sort()); // no unused booking rule
  for (const id of tripIds) {
    const sts = byTrip.get(id)!;
    expect(sts.length).toBeGreaterThanOrEqual(2);
    const seq = sts.map((s) => Number(s.stop_sequence));
    expect(seq).toEqual([...seq].sort((a, b) => a - b));
    expect(sts[0].pickup_type).toBe('2'); // board at the first, alight at the last
    expect(sts[sts.length - 1].drop_off_type).toBe('2');
  }
  return { stopIds, locationIds, tripIds, rules };
}

describe('GTFS static export', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(() => s.close());

  it('GET /gtfs/static.zip: a zip of consistent GTFS(-Flex) files for the hubs and the service area', async () => {
    const res = await fetch(`${s.url}/gtfs/static.zip`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/zip/);
    expect(res.headers.get('content-disposition')).toContain('gtfs.zip');
    const feed = readZip(new Uint8Array(await res.arrayBuffer()));
    const hubs = loadHubs(), area = loadServiceArea();
    const { tripIds } = checkFeed(feed, hubs, area);
    // every hub is served in both directions with both booking rules
    expect(tripIds.size).toBe(hubs.length * 2 * 2);
    const [rNow, rAhead] = ['now', 'ahead'].map((id) => feed.csv['booking_rules.txt'].rows.find((r) => r.booking_rule_id === id)!);
    expect(rNow.booking_type).toBe('0');
    expect(rAhead.booking_type).toBe('1');
    expect(Number(rAhead.prior_notice_duration_max)).toBe(7 * 24 * 60); // the dispatcher's pre-booking horizon
    const cfg = loadGtfsConfig();
    expect(feed.csv['agency.txt'].rows[0]).toMatchObject({ agency_name: cfg.agency.name, agency_timezone: 'Europe/Berlin' });
    expect(feed.csv['calendar.txt'].rows[0].start_date).toBe(new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(Date.now()).replaceAll('-', ''));
    // wheelchair places on every demo bus
    for (const t of feed.csv['trips.txt'].rows) expect(t.wheelchair_accessible).toBe('1');
  });

  it('no route needs a token, and the export is stable: same content → same feed_version', async () => {
    const a = readZip(new Uint8Array(await (await fetch(`${s.url}/gtfs/static.zip`)).arrayBuffer()));
    const b = readZip(new Uint8Array(await (await fetch(`${s.url}/gtfs/static.zip`)).arrayBuffer()));
    expect(a.csv['feed_info.txt'].rows[0].feed_version).toMatch(/^[0-9a-f]{12}$/);
    expect(a.csv['feed_info.txt'].rows[0].feed_version).toBe(b.csv['feed_info.txt'].rows[0].feed_version);
    expect((await fetch(`${s.url}/gtfs/static.zip?x=1`)).status).toBe(400);
  });

  it('another town: a hub outside the area gets a stop but no zone trip; a zone id equal to a hub id is renamed', () => {
    const area: ServiceArea = {
      type: 'FeatureCollection',
      features: [{ type: 'Feature', properties: { id: 'centre', name: 'Zentrum' }, geometry: { type: 'Polygon', coordinates: [[[7, 49], [7.1, 49], [7.1, 49.1], [7, 49.1], [7, 49]]] } }],
    };
    const hubs = [
      { id: 'centre', name: 'Centre', stop: 'Markt', lat: 49.05, lon: 7.05 },
      { id: 'far', name: 'Far', stop: 'Far', lat: 50, lon: 8 },
    ];
    const files = gtfsStaticFiles({ config: loadGtfsConfig(), hubs, serviceArea: area, fleet: [], now: Date.UTC(2026, 0, 15, 12) });
    const feed = readZip(gtfsZip(files, Date.UTC(2026, 0, 15, 12)));
    const { locationIds, tripIds } = checkFeed(feed, hubs, area);
    expect([...locationIds]).toEqual(['zone-centre']);
    expect([...tripIds].every((t) => !t.includes('far'))).toBe(true);
    expect(tripIds.size).toBe(4);
    expect(feed.csv['calendar.txt'].rows[0]).toMatchObject({ start_date: '20260115', end_date: '20270115' });
    for (const t of feed.csv['trips.txt'].rows) expect(t.wheelchair_accessible).toBe('2'); // no bus with a wheelchair place
  });

  it('stops are the hubs of the fixtures, all inside the service area', () => {
    const area = loadServiceArea();
    for (const h of loadHubs()) expect(area.features.some((f) => booleanPointInPolygon([h.lon, h.lat], f))).toBe(true);
  });
});
