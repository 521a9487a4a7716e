import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { BBox, RoutingEngine } from '@kl/routing';
import type { Hub, ServiceArea } from '@kl/routing/fixtures.ts';
import type { StaffDirectory } from '../auth/staff.ts';
import { STAFF_ROLES, type TokenService } from '../auth/tokens.ts';
import type { BookingService } from '../bookings/service.ts';
import type { FleetRegistry } from '../fleet/registry.ts';
import { auditQuerySchema, bboxSchema, bookingCreateSchema, bookingIdSchema, loginSchema, routeQuerySchema } from '../protocol/schemas.ts';
import type { Store } from '../store/types.ts';
import { liveKpis } from '../kpi/live.ts';
import type { RoadOracle } from '../routing/oracle.ts';
import { ApiError, unauthorized } from './errors.ts';
import { defineRoute, type RouteDef } from './api.ts';
import * as R from './responses.ts';
import { BASEMAP_LAYERS, BasemapCache } from './basemap-cache.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import { FIXTURES_DIR } from '@kl/routing/fixtures.ts';
import { geocoderFor } from '@kl/routing/geocode/index.ts';
import { lineDepartures, timetableSchema, type Timetable } from '../dispatch/timetable.ts';
import { systemClock, type Clock } from '../core/clock.ts';
import { gtfsRoutes } from '../gtfs/routes.ts';
import { openDataRoutes } from '../opendata/routes.ts';

export interface RouteDeps {
  tokens: TokenService;
  staff: StaffDirectory;
  bookings: BookingService;
  fleet: FleetRegistry;
  engine: RoutingEngine;
  hubs: Hub[];
  serviceArea: ServiceArea;
  store: Store;
  health: () => object;
  metrics: () => Promise<string>;
  openapi: () => object;
  observeDispatch: (ms: number) => void;
  /** for direct travel times in live KPIs */
  oracle?: RoadOracle;
  /** time for feeds and exports (the app's injected clock) */
  clock?: Clock;
}

const RIDER_TTL_S = 180 * 24 * 3600; // the pseudonymous token lives on the device
const STAFF_TTL_S = 12 * 3600; // one shift

const emptyBody = z.strictObject({});

export function apiRoutes(d: RouteDeps): RouteDef<any, any>[] {
  const STAFF = STAFF_ROLES;
  const BOOKERS = ['rider', 'dispatcher', 'admin'] as const;
  // load the geocoder index now, at start-up, not in the middle of a live service (its first load blocks the
  // event loop for ~0.2 s from the cache, seconds on a first run, long enough to stall vehicle heartbeats)
  void geocoderFor(d.engine).catch(() => undefined);
  const now = () => (d.clock ?? systemClock).now();
  // the same holds for the base map: the default view is built now, each other view once (see BasemapCache)
  const basemap = new BasemapCache(() => d.engine.mapFeatures(), '© OpenStreetMap contributors (ODbL)');
  const defaultBox = areaBox(d.serviceArea, 0.03, 0.02);
  void basemap.get(defaultBox).catch(() => undefined);
  return [
    defineRoute({
      method: 'post',
      path: '/api/auth/rider',
      summary: 'Start as a rider: a pseudonymous token, no personal data',
      access: 'public',
      body: emptyBody,
      responses: { 201: 'token issued', 400: 'invalid body' },
      responseSchema: R.riderAuthResponse,
      handler: ({ res }) => {
        const riderId = `rider_${randomBytes(9).toString('base64url')}`;
        res.status(201);
        return { token: d.tokens.issue(riderId, 'rider', RIDER_TTL_S), riderId };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/auth/login',
      summary: 'Staff login (driver, dispatcher, admin)',
      access: 'public',
      body: loginSchema,
      responses: { 200: 'token and role', 400: 'invalid body', 401: 'wrong username or password' },
      responseSchema: R.loginResponse,
      handler: async ({ body }) => {
        const s = await d.staff.authenticate(body.username, body.password);
        if (!s) throw unauthorized('wrong username or password');
        return { token: d.tokens.issue(s.username, s.role, STAFF_TTL_S), role: s.role, username: s.username, displayName: s.displayName ?? s.username };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/bookings',
      summary: 'Request a ride: returns an offer to confirm, or 422 NO_OFFER with the reason and an alternative time',
      access: BOOKERS,
      body: bookingCreateSchema,
      responses: { 201: 'offer', 400: 'invalid body', 401: 'no token', 403: 'role may not book', 422: 'no offer (NO_OFFER) or no road near a point (NO_ROAD)' },
      responseSchema: R.bookingViewResponse,
      handler: async ({ body, who, res }) => {
        const t0 = performance.now();
        const { status, record } = await d.bookings.create(body, who!);
        d.observeDispatch(performance.now() - t0);
        const view = d.bookings.view(record);
        if (status === 422) {
          const alternative = view.rejection?.alternative;
          throw new ApiError(422, 'NO_OFFER', record.rejection!.message, { bookingId: record.id, reason: record.rejection!.reason }, alternative ? { alternative } : undefined);
        }
        res.status(201);
        return view;
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/bookings/{id}/confirm',
      summary: 'Confirm an offer (re-checked against the current plans)',
      access: BOOKERS,
      params: { id: bookingIdSchema },
      body: emptyBody.optional(),
      responses: { 200: 'confirmed', 401: 'no token', 403: 'role', 404: 'no such booking of yours', 409: 'offer expired or booking not pending' },
      responseSchema: R.bookingViewResponse,
      handler: async ({ params, who }) => d.bookings.view(await d.bookings.confirm(params.id, who!)),
    }),
    defineRoute({
      method: 'delete',
      path: '/api/bookings/{id}',
      summary: 'Cancel a booking',
      access: BOOKERS,
      params: { id: bookingIdSchema },
      responses: { 200: 'cancelled', 401: 'no token', 403: 'role', 404: 'no such booking of yours', 409: 'not cancellable' },
      responseSchema: R.bookingViewResponse,
      handler: async ({ params, who }) => d.bookings.view(await d.bookings.cancel(params.id, who!)),
    }),
    defineRoute({
      method: 'get',
      path: '/api/bookings/{id}',
      summary: 'One booking (riders: only their own)',
      access: 'any',
      params: { id: bookingIdSchema },
      responses: { 200: 'booking', 401: 'no token', 403: 'vehicle tokens have no bookings', 404: 'no such booking of yours' },
      responseSchema: R.bookingViewResponse,
      handler: ({ params, who }) => {
        if (who!.role === 'vehicle') throw new ApiError(403, 'FORBIDDEN', 'vehicle tokens have no access to bookings');
        return d.bookings.view(d.bookings.get(params.id, who!));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/bookings',
      summary: 'Bookings (riders: their own; staff: all)',
      access: ['rider', ...STAFF],
      responses: { 200: 'list', 401: 'no token', 403: 'role' },
      responseSchema: z.array(R.bookingViewResponse),
      handler: ({ who }) => d.bookings.list(who!).map((r) => d.bookings.view(r)),
    }),
    defineRoute({
      method: 'delete',
      path: '/api/riders/me',
      summary: "Delete my data: removes the rider's personal traces from bookings, keeps anonymous statistics",
      access: ['rider'],
      responses: { 200: 'deleted', 401: 'no token', 403: 'riders only' },
      responseSchema: R.forgetRiderResponse,
      handler: async ({ who }) => ({ deleted: await d.bookings.forgetRider(who!.sub) }),
    }),
    defineRoute({
      method: 'get',
      path: '/api/vehicles',
      summary: 'The fleet with live state (staff)',
      access: STAFF,
      responses: { 200: 'vehicles', 401: 'no token', 403: 'staff only' },
      responseSchema: z.array(R.fleetVehicleResponse),
      handler: () => d.fleet.all(),
    }),
    defineRoute({
      method: 'get',
      path: '/api/hubs',
      summary: 'Transfer hubs',
      access: 'public',
      responses: { 200: 'hubs' },
      responseSchema: z.array(R.hubResponse),
      handler: () => d.hubs,
    }),
    defineRoute({
      method: 'get',
      path: '/api/service-area',
      summary: 'Service area (GeoJSON)',
      access: 'public',
      responses: { 200: 'GeoJSON FeatureCollection' },
      responseSchema: R.serviceAreaResponse,
      handler: () => d.serviceArea,
    }),
    defineRoute({
      method: 'get',
      path: '/api/map/basemap',
      summary:
        'Offline base map layers (GeoJSON) from the OSM extract for bbox=minLon,minLat,maxLon,maxLat (widened to a 0.01° grid; default: the service area with a margin). Sent gzipped when the client accepts it.',
      access: 'public',
      query: z.strictObject({ bbox: bboxSchema.optional(), layer: z.enum(BASEMAP_LAYERS).optional() }),
      responses: { 200: '{attribution, bbox, layers: {roads, buildings, water, green, rail}}, or with layer= that layer alone as a GeoJSON FeatureCollection', 304: 'not modified (ETag)', 400: 'invalid bbox' },
      responseSchema: R.basemapResponse,
      handler: async ({ query, req, res }) => {
        const b = query.bbox as [number, number, number, number] | undefined;
        const body = await basemap.get(b ? { minLon: b[0], minLat: b[1], maxLon: b[2], maxLat: b[3] } : defaultBox, query.layer ?? 'all');
        res.setHeader('cache-control', 'public, max-age=3600');
        res.setHeader('etag', body.etag);
        res.setHeader('vary', 'accept-encoding');
        if (req.headers['if-none-match'] === body.etag) {
          res.status(304).end();
          return undefined;
        }
        res.type('application/json');
        if (/\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
          res.setHeader('content-encoding', 'gzip');
          res.send(body.gzip);
        } else res.send(body.json);
        return undefined;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/route',
      summary: 'Route between two points as OSRM v5 JSON with German or English instructions',
      access: 'any',
      query: routeQuerySchema,
      responses: { 200: 'OSRM route response', 400: 'invalid query', 401: 'no token', 422: 'no road near a point or no route' },
      responseSchema: R.osrmRouteResponse,
      handler: ({ query }) => {
        const r = d.engine.route([query.from, query.to], { lang: query.lang });
        if (r.code !== 'Ok') throw new ApiError(422, r.code === 'NoSegment' ? 'NO_ROAD' : 'NO_ROUTE', r.message ?? r.code);
        return r;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/audit',
      summary: 'Audit and event log (staff), filtered by vehicle and time (epoch ms or ISO)',
      access: STAFF,
      query: auditQuerySchema,
      responses: { 200: 'events', 400: 'invalid query', 401: 'no token', 403: 'staff only' },
      responseSchema: R.auditResponse,
      handler: async ({ query }) => {
        const t = (v: unknown) => (v === undefined ? undefined : typeof v === 'number' ? v : Date.parse(String(v)));
        return d.store.readEvents({ vehicleId: query.vehicleId, from: t(query.from), to: t(query.to), limit: 5000 });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/kpis',
      summary: 'Live KPIs (staff), same definitions as the simulation report, no personal data',
      access: STAFF,
      responses: { 200: 'KPIs', 401: 'no token', 403: 'staff only' },
      responseSchema: R.liveKpisResponse,
      handler: () => liveKpis(d.bookings, d.fleet, d.oracle ?? null, Date.now()),
    }),
    defineRoute({
      method: 'get',
      path: '/api/health',
      summary: 'Health: store and dispatcher status',
      access: 'public',
      responses: { 200: 'healthy', 503: 'unhealthy' },
      responseSchema: R.healthResponse,
      handler: ({ res }) => {
        const h = d.health() as { ok: boolean };
        res.status(h.ok ? 200 : 503);
        return h;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/openapi.json',
      summary: 'This OpenAPI 3.1 document',
      access: 'public',
      responses: { 200: 'OpenAPI document' },
      responseSchema: R.openApiResponse,
      handler: () => d.openapi(),
    }),
    defineRoute({
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus metrics',
      access: 'public',
      responses: { 200: 'text/plain exposition format' },
      produces: { 'text/plain': 'text' },
      handler: async ({ res }) => {
        res.type('text/plain; version=0.0.4').send(await d.metrics());
        return undefined;
      },
    }),
    // ---- rider app: geocoder and line departures (public map data, no personal data)
    defineRoute({
      method: 'get',
      path: '/api/geocode',
      summary: 'Search a street (with house number) or a named place in the OSM extract; forgiving of umlauts, "str." and typos',
      access: 'public',
      query: geocodeQuerySchema,
      responses: { 200: 'results, best first: {label, kind: address|street|poi, lat, lon, street?, housenumber?, approximate?, inServiceArea}', 400: 'invalid query' },
      responseSchema: R.geocodeResponse,
      handler: async ({ query }) => {
        const g = await geocoderFor(d.engine);
        const area = d.serviceArea.features[0];
        return g.search(query.q, { limit: query.limit, focus: areaCentre(d.serviceArea) }).map((r) => ({ ...r, inServiceArea: area ? booleanPointInPolygon([r.lon, r.lat], area) : true }));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/geocode/reverse',
      summary: 'The address (within 40 m) or named road (within 200 m) nearest to a point',
      access: 'public',
      query: reverseQuerySchema,
      responses: { 200: 'result', 400: 'invalid query', 404: 'nothing named near the point' },
      responseSchema: R.reverseGeocodeResponse,
      handler: async ({ query }) => {
        const r = (await geocoderFor(d.engine)).reverse(query.lat, query.lon);
        if (!r) throw new ApiError(404, 'NOT_FOUND', 'no address or named road near this point');
        const area = d.serviceArea.features[0];
        return { ...r, inServiceArea: area ? booleanPointInPolygon([query.lon, query.lat], area) : true };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/hubs/{id}/departures',
      summary: 'Next line departures at a hub from the timetable (fixtures/timetable.json; the shipped one is synthetic)',
      access: 'public',
      params: { id: z.string().regex(/^[a-z0-9-]{1,64}$/, 'not a hub id') },
      query: departuresQuerySchema,
      responses: { 200: '{hubId, synthetic, transferBufferMin?, departures: [{lineId, headsign, time}]}', 400: 'invalid query', 404: 'no such hub' },
      responseSchema: R.departuresResponse,
      handler: ({ params, query }) => {
        if (!d.hubs.some((h) => h.id === params.id)) throw new ApiError(404, 'NOT_FOUND', 'hub not found');
        const tt = timetable();
        const from = query.from === undefined ? Date.now() : typeof query.from === 'number' ? query.from : Date.parse(query.from);
        const deps = tt ? lineDepartures(tt, params.id, from, from + 3 * 3600_000).slice(0, query.limit) : [];
        return {
          hubId: params.id,
          synthetic: tt?.synthetic ?? false,
          ...(tt?.transferBufferMin !== undefined ? { transferBufferMin: tt.transferBufferMin } : {}),
          departures: deps.map((x) => ({ lineId: x.lineId, ...(x.headsign ? { headsign: x.headsign } : {}), time: new Date(x.time).toISOString() })),
        };
      },
    }),
    // ---- ecosystem interfaces: GTFS-Realtime, GTFS static (Flex), open-data KPIs
    ...gtfsRoutes({ fleet: d.fleet, bookings: d.bookings, hubs: d.hubs, serviceArea: d.serviceArea, now }),
    ...openDataRoutes({ bookings: d.bookings, hubs: d.hubs, now }),
  ];
}


// ---- rider app helpers (geocoder, departures)
const geocodeQuerySchema = z.strictObject({
  q: z.string().trim().min(1).max(120),
  limit: z.coerce.number().int().min(1).max(20).default(8),
});
const reverseQuerySchema = z.strictObject({
  lat: z.coerce.number().min(-90).max(90),
  lon: z.coerce.number().min(-180).max(180),
});
const departuresQuerySchema = z.strictObject({
  from: z.union([z.string().regex(/^\d{1,16}$/).transform(Number), z.iso.datetime({ offset: true })]).optional(),
  limit: z.coerce.number().int().min(1).max(20).default(4),
});

/** Ties in the geocoder are ranked by distance to the service area's centre (mean of its outline). */
function areaCentre(area: ServiceArea): { lat: number; lon: number } | undefined {
  const ring = area.features[0]?.geometry.coordinates[0];
  if (!ring?.length) return undefined;
  const pts = ring.length > 1 ? ring.slice(0, -1) : ring;
  return { lon: pts.reduce((a, p) => a + p[0], 0) / pts.length, lat: pts.reduce((a, p) => a + p[1], 0) / pts.length };
}

let timetableCache: { dir: string; tt: (Timetable & { transferBufferMin?: number }) | null } | null = null;
/** The deployment's line timetable (read once); null when the deployment has none. */
function timetable(): (Timetable & { transferBufferMin?: number }) | null {
  if (timetableCache?.dir !== FIXTURES_DIR) {
    const path = join(FIXTURES_DIR, 'timetable.json');
    const raw = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as { transferBufferMin?: unknown }) : null;
    const buffer = typeof raw?.transferBufferMin === 'number' ? raw.transferBufferMin : undefined;
    timetableCache = { dir: FIXTURES_DIR, tt: raw ? { ...timetableSchema.parse(raw), ...(buffer !== undefined ? { transferBufferMin: buffer } : {}) } : null };
  }
  return timetableCache.tt;
}

/** The service area's bounding box widened by a margin in degrees (the map's default view). */
function areaBox(area: ServiceArea, dLon: number, dLat: number): BBox {
  const ring = area.features[0]?.geometry.coordinates[0] ?? [];
  const lons = ring.map((p) => p[0]!), lats = ring.map((p) => p[1]!);
  return { minLon: Math.min(...lons) - dLon, minLat: Math.min(...lats) - dLat, maxLon: Math.max(...lons) + dLon, maxLat: Math.max(...lats) + dLat };
}
