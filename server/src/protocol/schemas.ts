import { z } from 'zod';

/**
 * Runtime schemas for everything that crosses the edge (REST bodies and queries, socket payloads).
 * Objects are strict: unknown fields are rejected, so a typo never silently changes meaning.
 * Shared by server and UIs (the UIs import the inferred types).
 */
export const latLonSchema = z.strictObject({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
});
export const hubRefSchema = z.strictObject({ hubId: z.string().min(1).max(64) });
export const placeSchema = z.union([latLonSchema, hubRefSchema]);

/** ISO 8601 date-time or epoch milliseconds */
export const timeInputSchema = z.union([
  z.iso.datetime({ offset: true }),
  z.number().int().min(0).max(8.64e15),
]);

export const bookingCreateSchema = z
  .strictObject({
    pickup: placeSchema,
    dropoff: placeSchema,
    passengers: z.number().int().min(1).max(8),
    wheelchairs: z.number().int().min(0).max(2).default(0),
    departAt: timeInputSchema.optional(),
    arriveBy: timeInputSchema.optional(),
  })
  .refine((b) => !(b.departAt !== undefined && b.arriveBy !== undefined), { message: 'give departAt or arriveBy, not both', path: ['arriveBy'] })
  .refine((b) => b.wheelchairs <= b.passengers, { message: 'wheelchair users are passengers too: wheelchairs ≤ passengers', path: ['wheelchairs'] });
export type BookingCreate = z.infer<typeof bookingCreateSchema>;

export const loginSchema = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});
export const riderAuthSchema = z.strictObject({}).optional();

export const bookingIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'not a booking id');

export const bboxSchema = z
  .string()
  .transform((s) => s.split(',').map(Number))
  .pipe(z.tuple([z.number().min(-180).max(180), z.number().min(-90).max(90), z.number().min(-180).max(180), z.number().min(-90).max(90)]))
  .refine(([w, s, e, n]) => w < e && s < n, 'bbox is minLon,minLat,maxLon,maxLat with min < max')
  .refine(([w, s, e, n]) => e - w <= 0.5 && n - s <= 0.5, 'bbox larger than 0.5° is refused');

export const latLonQuerySchema = z
  .string()
  .transform((s) => s.split(',').map(Number))
  .pipe(z.tuple([z.number().min(-90).max(90), z.number().min(-180).max(180)]))
  .transform(([lat, lon]) => ({ lat, lon }));

export const routeQuerySchema = z.strictObject({
  from: latLonQuerySchema,
  to: latLonQuerySchema,
  lang: z.enum(['de', 'en']).default('de'),
});

/** epoch ms as query text, within a Date's range (longer digit strings became Infinity and broke the Redis query) */
const epochMsText = z.string().regex(/^\d{1,16}$/, 'epoch ms').transform(Number).pipe(z.number().max(8.64e15));

export const auditQuerySchema = z.strictObject({
  vehicleId: z.string().max(64).optional(),
  from: timeInputSchema.or(epochMsText).optional(),
  to: timeInputSchema.or(epochMsText).optional(),
});

/** Vehicle → server, ~10 Hz */
export const vehicleModeSchema = z.enum(['offline', 'standby', 'remote', 'mrm', 'safe_stop', 'emergency_stop']);
export type VehicleMode = z.infer<typeof vehicleModeSchema>;

export const vehicleStateSchema = z.strictObject({
  seq: z.number().int().min(0),
  sentAt: z.number().int().min(0),
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  heading: z.number().min(0).max(360),
  speed: z.number().min(0).max(60),
  soc: z.number().min(0).max(1),
  doors: z.enum(['open', 'closed']),
  occupancy: z.strictObject({ seats: z.number().int().min(0).max(20), wheelchairs: z.number().int().min(0).max(4) }),
  mode: vehicleModeSchema,
  /** permitted speed after the latency reduction (m/s) */
  permittedSpeed: z.number().min(0).max(60).optional(),
  link: z.strictObject({ rttMs: z.number().min(0).max(60_000), lossPct: z.number().min(0).max(100) }).optional(),
  /** the stop the bus is standing at, if any */
  atStop: z.string().max(64).nullable().optional(),
  /**
   * teleoperation: the highest directive stamp the bus has applied (VehicleSafety.stamp), so the server can tell
   * a report sent before the bus saw the latest acquire/confirm from a current one (teleop/protocol.ts)
   */
  teleopStamp: z.number().int().min(0).max(8.64e15).optional(),
});
export type VehicleStateMsg = z.infer<typeof vehicleStateSchema>;

/** Vehicle → server: progress along its plan */
export const stopEventSchema = z.strictObject({
  requestId: z.string().min(1).max(64),
  kind: z.enum(['pickup', 'dropoff']),
  event: z.enum(['arrived', 'done', 'no_show']),
  at: z.number().int().min(0),
});
export type StopEvent = z.infer<typeof stopEventSchema>;

export const subscribeBookingSchema = z.strictObject({ bookingId: bookingIdSchema });
export const confirmBookingSchema = z.strictObject({ bookingId: bookingIdSchema });
