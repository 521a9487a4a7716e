import { z } from 'zod';
import type { Hub, ServiceArea } from '@kl/routing/fixtures.ts';
import type { BookingService } from '../bookings/service.ts';
import type { FleetRegistry } from '../fleet/registry.ts';
import { defineRoute, type RouteDef } from '../http/api.ts';
import { loadGtfsConfig } from './config.ts';
import { encodeFeed, feedJson, transitRealtime, vehiclePositionsFeed } from './realtime.ts';
import { gtfsStaticFiles, gtfsZip } from './static.ts';

export interface GtfsRouteDeps {
  fleet: FleetRegistry;
  bookings: Pick<BookingService, 'currentPlan'>;
  hubs: Hub[];
  serviceArea: ServiceArea;
  now: () => number;
}

// enum names (the generated d.ts also types numeric reverse keys; the runtime object has names only)
const names = (e: object) => Object.keys(e).filter((k) => Number.isNaN(Number(k))) as [string, ...string[]];
const uint64 = z.string().regex(/^\d+$/);

/** The JSON form of the feed (protobuf JSON mapping), for the OpenAPI document and its test. */
export const vehiclePositionsJsonSchema = z.strictObject({
  header: z.strictObject({ gtfsRealtimeVersion: z.literal('2.0'), incrementality: z.literal('FULL_DATASET'), timestamp: uint64 }),
  entity: z
    .array(
      z.strictObject({
        id: z.string(),
        vehicle: z.strictObject({
          vehicle: z.strictObject({ id: z.string(), label: z.string() }),
          position: z.strictObject({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180), bearing: z.number().min(0).max(360), speed: z.number().min(0) }),
          timestamp: uint64,
          occupancyStatus: z.enum(names(transitRealtime.VehiclePosition.OccupancyStatus)),
          occupancyPercentage: z.number().int().min(0).optional(),
          currentStatus: z.enum(names(transitRealtime.VehiclePosition.VehicleStopStatus)).optional(),
          stopId: z.string().optional(),
        }),
      }),
    )
    .optional()
    .describe('absent when no bus is online (protobuf JSON omits empty repeated fields)'),
});

export function gtfsRoutes(d: GtfsRouteDeps): RouteDef<any, any>[] {
  return [
    defineRoute({
      method: 'get',
      path: '/gtfs-rt/vehicle-positions',
      summary:
        'GTFS-Realtime VehiclePositions of the buses online (full dataset): position, bearing, speed (m/s), occupancy from seats in use, hub stop where known. Protobuf by default, ?format=json for the protobuf JSON mapping. No rider data.',
      access: 'public',
      query: z.strictObject({ format: z.enum(['protobuf', 'json']).default('protobuf') }),
      responses: { 200: 'FeedMessage', 400: 'invalid query' },
      produces: { 'application/x-protobuf': 'binary' },
      responseSchema: vehiclePositionsJsonSchema,
      handler: ({ query, res }) => {
        const feed = vehiclePositionsFeed({ fleet: d.fleet, hubs: d.hubs, planOf: (id) => d.bookings.currentPlan(id) }, d.now());
        res.setHeader('cache-control', 'no-cache');
        if (query.format === 'json') return feedJson(feed);
        res.type('application/x-protobuf').send(Buffer.from(encodeFeed(feed)));
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/gtfs/static.zip',
      summary:
        'GTFS static feed of the on-demand service (GTFS-Flex): agency, hubs as stops, route type 715, calendar, service area as a flexible zone (locations.geojson), zone↔hub trips with pickup/drop-off windows, booking rules, feed_info',
      access: 'public',
      responses: { 200: 'zip archive' },
      produces: { 'application/zip': 'binary' },
      handler: ({ res }) => {
        const now = d.now();
        const files = gtfsStaticFiles({ config: loadGtfsConfig(), hubs: d.hubs, serviceArea: d.serviceArea, fleet: d.fleet.defs(), now });
        res.type('application/zip').setHeader('content-disposition', 'attachment; filename="gtfs.zip"');
        res.send(Buffer.from(gtfsZip(files, now)));
        return undefined;
      },
    }),
  ];
}
