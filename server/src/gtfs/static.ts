import { createHash } from 'node:crypto';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { stringify } from 'csv-stringify/sync';
import { strToU8, zipSync } from 'fflate';
import type { Hub, ServiceArea } from '@kl/routing/fixtures.ts';
import { DEFAULT_CONFIG } from '../dispatch/config.ts';
import type { VehicleDef } from '../fleet/registry.ts';
import { localDate, type GtfsConfig } from './config.ts';

/**
 * GTFS static export of the on-demand service, in the GTFS-Flex form adopted into GTFS (2024):
 * - stops.txt: the transfer hubs (passenger stops only; the depot is no stop),
 * - locations.geojson: the service area as a flexible zone,
 * - routes.txt: one route of type 715 (demand and response bus),
 * - trips.txt + stop_times.txt: per hub, "anywhere in the zone → hub" and "hub → anywhere in the zone", with
 *   pickup/drop-off windows over the service hours instead of fixed times,
 * - booking_rules.txt: real-time booking (type 0) and booking ahead (type 1) up to the pre-booking horizon; every
 *   trip exists once per rule, because a stop_time names exactly one booking rule.
 * Door-to-door rides that touch no hub are also bookable; GTFS-Flex would model them as a zone→same-zone trip,
 * which trip planners handle poorly, so the export describes the hub service the product is for.
 */
export interface GtfsStaticInput {
  config: GtfsConfig;
  hubs: Hub[];
  serviceArea: ServiceArea;
  fleet: VehicleDef[];
  now: number;
}

export type GtfsFiles = Record<string, string>;

const RULES = [
  { id: 'now', type: 0 },
  { id: 'ahead', type: 1 },
] as const;

const yyyymmdd = (d: string) => d.replaceAll('-', '');
const csv = (columns: string[], rows: Record<string, string | number | undefined>[]) => stringify(rows, { header: true, columns, record_delimiter: '\r\n' });

/** The zones of the service area (GeoJSON features) with GTFS location ids that do not collide with stop ids. */
export function zonesOf(area: ServiceArea, hubs: Hub[]): { id: string; name: string; desc?: string; feature: ServiceArea['features'][number] }[] {
  const taken = new Set(hubs.map((h) => h.id));
  return area.features.map((f, i) => {
    let id = typeof f.properties.id === 'string' && f.properties.id ? f.properties.id : `zone-${i + 1}`;
    if (taken.has(id)) id = `zone-${id}`;
    taken.add(id);
    const name = typeof f.properties.name === 'string' ? f.properties.name : id;
    const desc = typeof f.properties.description === 'string' ? f.properties.description : undefined;
    return { id, name, ...(desc ? { desc } : {}), feature: f };
  });
}

export function gtfsStaticFiles(i: GtfsStaticInput): GtfsFiles {
  const { config: c, hubs, now } = i;
  const tz = c.agency.timezone;
  const start = localDate(now, tz);
  const end = localDate(now + c.feed.validityDays * 86_400_000, tz);
  const zones = zonesOf(i.serviceArea, hubs);
  const serviceId = 'daily';
  // every bus carries wheelchairs → 1; some do → unknown per trip (0); none → 2
  const wc = i.fleet.length && i.fleet.every((v) => v.wheelchairPlaces > 0) ? 1 : i.fleet.some((v) => v.wheelchairPlaces > 0) ? 0 : 2;
  const phone = c.booking.phone ?? c.agency.phone;

  const files: GtfsFiles = {};
  files['agency.txt'] = csv(['agency_id', 'agency_name', 'agency_url', 'agency_timezone', 'agency_lang', 'agency_phone'], [
    { agency_id: c.agency.id, agency_name: c.agency.name, agency_url: c.agency.url, agency_timezone: tz, agency_lang: c.agency.lang, agency_phone: c.agency.phone },
  ]);
  files['stops.txt'] = csv(
    ['stop_id', 'stop_name', 'stop_desc', 'stop_lat', 'stop_lon', 'location_type'],
    hubs.map((h) => ({ stop_id: h.id, stop_name: h.stop, stop_desc: h.name !== h.stop ? h.name : undefined, stop_lat: h.lat.toFixed(6), stop_lon: h.lon.toFixed(6), location_type: 0 })),
  );
  files['routes.txt'] = csv(['route_id', 'agency_id', 'route_short_name', 'route_long_name', 'route_desc', 'route_type'], [
    { route_id: c.route.id, agency_id: c.agency.id, route_short_name: c.route.shortName, route_long_name: c.route.longName, route_desc: c.route.desc, route_type: 715 },
  ]);
  files['calendar.txt'] = csv(['service_id', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday', 'start_date', 'end_date'], [
    { service_id: serviceId, monday: 1, tuesday: 1, wednesday: 1, thursday: 1, friday: 1, saturday: 1, sunday: 1, start_date: yyyymmdd(start), end_date: yyyymmdd(end) },
  ]);

  const p = DEFAULT_CONFIG.promises;
  const message = [c.booking.message, `Abholung innerhalb von ${Math.round(p.maxWaitMs / 60_000)} min (sofort) oder zur gewünschten Zeit bis ${Math.round(p.prebookHorizonMs / 86_400_000)} Tage im Voraus. / Pickup within ${Math.round(p.maxWaitMs / 60_000)} min (now) or at the time you choose up to ${Math.round(p.prebookHorizonMs / 86_400_000)} days ahead.`]
    .filter(Boolean)
    .join(' ');
  files['booking_rules.txt'] = csv(
    ['booking_rule_id', 'booking_type', 'prior_notice_duration_min', 'prior_notice_duration_max', 'message', 'phone_number', 'info_url', 'booking_url'],
    RULES.map((r) => ({
      booking_rule_id: r.id,
      booking_type: r.type,
      // booking ahead: from the immediate-pickup horizon (sooner is a "now" booking) up to the pre-booking horizon
      prior_notice_duration_min: r.type === 1 ? Math.round(p.maxWaitMs / 60_000) : undefined,
      prior_notice_duration_max: r.type === 1 ? Math.round(p.prebookHorizonMs / 60_000) : undefined,
      message,
      phone_number: phone,
      info_url: c.booking.infoUrl,
      booking_url: c.booking.bookingUrl,
    })),
  );

  const trips: Record<string, string | number | undefined>[] = [];
  const stopTimes: Record<string, string | number | undefined>[] = [];
  const window = { start_pickup_drop_off_window: c.serviceHours.start, end_pickup_drop_off_window: c.serviceHours.end };
  // pickup_type/drop_off_type 2 = arranged with the agency (booked); 1 = none there
  const board = (rule: string) => ({ pickup_type: 2, drop_off_type: 1, pickup_booking_rule_id: rule });
  const alight = (rule: string) => ({ pickup_type: 1, drop_off_type: 2, drop_off_booking_rule_id: rule });
  for (const z of zones) {
    for (const h of hubs) {
      if (!booleanPointInPolygon([h.lon, h.lat], z.feature)) continue;
      for (const r of RULES) {
        const toHub = `${z.id}-to-${h.id}-${r.id}`, fromHub = `${h.id}-to-${z.id}-${r.id}`;
        trips.push({ route_id: c.route.id, service_id: serviceId, trip_id: toHub, trip_headsign: h.name, direction_id: 0, wheelchair_accessible: wc });
        trips.push({ route_id: c.route.id, service_id: serviceId, trip_id: fromHub, trip_headsign: z.name, direction_id: 1, wheelchair_accessible: wc });
        stopTimes.push({ trip_id: toHub, stop_sequence: 1, location_id: z.id, ...window, ...board(r.id) });
        stopTimes.push({ trip_id: toHub, stop_sequence: 2, stop_id: h.id, ...window, ...alight(r.id) });
        stopTimes.push({ trip_id: fromHub, stop_sequence: 1, stop_id: h.id, ...window, ...board(r.id) });
        stopTimes.push({ trip_id: fromHub, stop_sequence: 2, location_id: z.id, ...window, ...alight(r.id) });
      }
    }
  }
  files['trips.txt'] = csv(['route_id', 'service_id', 'trip_id', 'trip_headsign', 'direction_id', 'wheelchair_accessible'], trips);
  files['stop_times.txt'] = csv(
    ['trip_id', 'stop_sequence', 'stop_id', 'location_id', 'start_pickup_drop_off_window', 'end_pickup_drop_off_window', 'pickup_type', 'drop_off_type', 'pickup_booking_rule_id', 'drop_off_booking_rule_id'],
    stopTimes,
  );
  files['locations.geojson'] = `${JSON.stringify(
    {
      type: 'FeatureCollection',
      features: zones.map((z) => ({ type: 'Feature', id: z.id, properties: { stop_name: z.name, ...(z.desc ? { stop_desc: z.desc } : {}) }, geometry: z.feature.geometry })),
    },
    null,
    1,
  )}\n`;

  // the version names the content, so an unchanged service keeps its version across days' exports
  const hash = createHash('sha256');
  for (const [name, text] of Object.entries(files)) if (name !== 'calendar.txt') hash.update(name).update(text);
  files['feed_info.txt'] = csv(['feed_publisher_name', 'feed_publisher_url', 'feed_lang', 'feed_start_date', 'feed_end_date', 'feed_version'], [
    { feed_publisher_name: c.feed.publisherName, feed_publisher_url: c.feed.publisherUrl, feed_lang: c.feed.lang, feed_start_date: yyyymmdd(start), feed_end_date: yyyymmdd(end), feed_version: hash.digest('hex').slice(0, 12) },
  ]);
  return files;
}

/** The files as one zip (GTFS wants the files at the archive's root). */
export function gtfsZip(files: GtfsFiles, now: number): Uint8Array {
  const entries: Record<string, [Uint8Array, { mtime: number }]> = {};
  for (const [name, text] of Object.entries(files)) entries[name] = [strToU8(text), { mtime: now }];
  return zipSync(entries, { level: 6 });
}
