import { z } from 'zod';
import { BASEMAP_LAYERS } from './basemap-cache.ts';

/**
 * Response bodies of the REST routes as zod schemas: they document the API (OpenAPI, output mode: objects are
 * closed unless declared open) and openapi.test.ts checks every route's real responses against them, so a field
 * added to a response without being documented fails a test.
 */
const iso = z.iso.datetime({ offset: true });
const lat = z.number().min(-90).max(90);
const lon = z.number().min(-180).max(180);
const place = z.strictObject({ lat, lon, hubId: z.string().optional() });

export const riderAuthResponse = z.strictObject({ token: z.string(), riderId: z.string() });
export const loginResponse = z.strictObject({ token: z.string(), role: z.enum(['driver', 'dispatcher', 'admin']), username: z.string(), displayName: z.string() });

export const bookingViewResponse = z.strictObject({
  id: z.string(),
  status: z.enum(['offered', 'confirmed', 'assigned', 'picked_up', 'completed', 'cancelled', 'rejected', 'expired', 'no_show']),
  pickup: place,
  dropoff: place,
  passengers: z.number().int(),
  wheelchairs: z.number().int(),
  createdAt: iso,
  offer: z.strictObject({ pickupWindow: z.strictObject({ from: iso, to: iso }), arrival: iso, latestArrival: iso, vehicleId: z.string(), expiresAt: iso }).optional(),
  vehicleId: z.string().nullable().optional(),
  eta: iso.nullable().optional(),
  rejection: z.strictObject({ reason: z.string(), message: z.string(), alternative: z.strictObject({ type: z.enum(['departure', 'arrival']), time: iso }).optional() }).optional(),
  pickedUpAt: iso.optional(),
  droppedOffAt: iso.optional(),
});

export const forgetRiderResponse = z.strictObject({ deleted: z.number().int().min(0) });

const mode = z.enum(['offline', 'standby', 'remote', 'mrm', 'safe_stop', 'emergency_stop']);
export const fleetVehicleResponse = z.strictObject({
  id: z.string(),
  label: z.string(),
  lat,
  lon,
  heading: z.number(),
  speed: z.number(),
  mode,
  soc: z.number().min(0).max(1),
  doors: z.enum(['open', 'closed']),
  occupancy: z.strictObject({ seats: z.number().int(), wheelchairs: z.number().int() }),
  capacity: z.strictObject({ seats: z.number().int(), wheelchairs: z.number().int() }),
  driver: z.string().nullable(),
  latencyMs: z.number().nullable(),
  permittedSpeed: z.number().nullable(),
  receivedAt: z.number(),
  sentAt: z.number().optional(),
  online: z.boolean(),
});

export const hubResponse = z.strictObject({ id: z.string(), name: z.string(), stop: z.string(), lat, lon, osmNodeId: z.number().int().optional() });

const geometry = z.object({ type: z.string(), coordinates: z.array(z.unknown()) });
const featureCollection = (properties: z.ZodType) => z.strictObject({ type: z.literal('FeatureCollection'), features: z.array(z.strictObject({ type: z.literal('Feature'), properties, geometry })) });
export const serviceAreaResponse = featureCollection(z.record(z.string(), z.unknown()));
const anyProperties = z.record(z.string(), z.unknown());
/** the whole base map of a box, or with `layer=` that layer alone */
export const basemapResponse = z.union([
  z.strictObject({
    attribution: z.string(),
    bbox: z.tuple([lon, lat, lon, lat]),
    layers: z.strictObject(Object.fromEntries(BASEMAP_LAYERS.map((l) => [l, featureCollection(anyProperties)])) as Record<(typeof BASEMAP_LAYERS)[number], ReturnType<typeof featureCollection>>),
  }),
  featureCollection(anyProperties),
]);

/** OSRM v5 route response: open objects, OSRM clients expect its full, evolving shape. */
export const osrmRouteResponse = z.object({
  code: z.literal('Ok'),
  routes: z.array(z.object({ distance: z.number(), duration: z.number(), legs: z.array(z.object({ steps: z.array(z.object({ maneuver: z.object({ type: z.string(), location: z.array(z.number()) }).loose() }).loose()) }).loose()) }).loose()),
  waypoints: z.array(z.object({ location: z.array(z.number()) }).loose()),
}).loose();

export const auditResponse = z.array(
  z.strictObject({ t: z.number(), type: z.string(), vehicleId: z.string().optional(), bookingId: z.string().optional(), actor: z.string().optional(), data: z.record(z.string(), z.unknown()).optional() }),
);

const nn = z.number().nullable();
export const liveKpisResponse = z.strictObject({
  t: z.number(),
  kpis: z.strictObject({
    requests: z.number().int(),
    served: z.number().int(),
    rejected: z.number().int(),
    rejectedByReason: z.record(z.string(), z.number().int()),
    cancelled: z.number().int(),
    noShows: z.number().int(),
    waitTimeS: z.strictObject({ mean: nn, p50: nn, p95: nn, max: nn }),
    inVehicleTimeS: z.strictObject({ mean: nn }),
    detourFactor: z.strictObject({ mean: nn, p95: nn }),
    promisesKeptPct: nn,
    occupancy: nn,
    emptyKmShare: nn,
    vehicleKm: z.number(),
    energyKWh: z.number(),
    driverUtilisation: nn,
  }),
  occupancyNow: nn,
});

/** Health: the known parts; open, because instances and stores add their own diagnostics. */
export const healthResponse = z
  .object({
    ok: z.boolean(),
    store: z.object({ ok: z.boolean(), kind: z.enum(['memory', 'redis']), detail: z.string() }).loose(),
    dispatcher: z.object({ leader: z.boolean() }).loose(),
    vehiclesOnline: z.number().int(),
    instance: z.string(),
  })
  .loose();

export const openApiResponse = z.object({ openapi: z.string().regex(/^3\.1\./), info: z.object({ title: z.string(), version: z.string() }).loose(), paths: z.record(z.string(), z.unknown()) }).loose();

const geocodeResult = z.strictObject({
  label: z.string(),
  kind: z.enum(['address', 'street', 'poi']),
  lat,
  lon,
  street: z.string().optional(),
  housenumber: z.string().optional(),
  category: z.string().optional(),
  context: z.string().optional(),
  approximate: z.boolean().optional(),
  score: z.number(),
  distance: z.number().optional(),
  inServiceArea: z.boolean(),
});
export const geocodeResponse = z.array(geocodeResult);
export const reverseGeocodeResponse = geocodeResult;

export const departuresResponse = z.strictObject({
  hubId: z.string(),
  synthetic: z.boolean(),
  transferBufferMin: z.number().optional(),
  departures: z.array(z.strictObject({ lineId: z.string(), headsign: z.string().optional(), time: iso })),
});
