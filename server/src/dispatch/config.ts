import { z } from 'zod';
import type { Location } from './types.ts';
import { timetableSchema, type Timetable } from './timetable.ts';

/** A transit hub where buses wait and riders transfer. Places are configuration, never hard-coded. */
export interface Hub {
  readonly id: string;
  readonly name?: string;
  readonly location: Location;
}

/** GeoJSON geometry of the service area, coordinates [lon, lat]. */
export type ServiceArea =
  | { readonly type: 'Polygon'; readonly coordinates: ReadonlyArray<ReadonlyArray<readonly [number, number]>> }
  | {
      readonly type: 'MultiPolygon';
      readonly coordinates: ReadonlyArray<ReadonlyArray<ReadonlyArray<readonly [number, number]>>>;
    };

export interface DispatchConfig {
  readonly promises: {
    /** Width of the promised pickup window. */
    readonly pickupWindowMs: number;
    /** Immediate requests: pickup no later than request time + this. */
    readonly maxWaitMs: number;
    /** Max ride time = rideAlpha · direct travel time + rideBetaMs. */
    readonly rideAlpha: number;
    readonly rideBetaMs: number;
    /** Pre-booking horizon (7 days). */
    readonly prebookHorizonMs: number;
    /** Timed transfers: arrive at least this long before the line departure. */
    readonly transferBufferMs: number;
    /**
     * Planning margin: a NEW request is only inserted where its own pickup is planned at least this long
     * before the end of its promised window (and its arrival this long before a promised latest arrival), and
     * where every stop already planned keeps this much time before its latest time (a stop already closer is
     * not delayed at all). Small real-world delays (traffic, boarding) then do not break a confirmed promise.
     * The promise itself is unchanged, and it stays the only hard constraint for confirmed bookings
     * (confirmation re-checks, re-optimisation, breakdown re-assignment, risk flags). At most half the window.
     */
    readonly planningMarginMs: number;
  };
  /** Dwell = fixed part once per place + per boarding/alighting passenger + ramp per wheelchair. */
  readonly dwell: {
    readonly fixedMs: number;
    readonly perBoardingMs: number;
    readonly perAlightingMs: number;
    readonly perWheelchairMs: number;
  };
  /** How long an offer holds (its seats stay reserved) before it expires unconfirmed. */
  readonly offerHoldMs: number;
  /**
   * How many finished bookings (completed, cancelled, expired, declined, no-show) the dispatcher keeps for late
   * events; older ones are forgotten, so its state, and the snapshot persisted with every change, stay bounded
   * (the booking records keep the history).
   */
  readonly retainFinished: number;
  /** How long a bus waits at the pickup (from arrival or window start, whichever is later) before a no-show. */
  readonly noShowWaitMs: number;
  readonly cost: {
    /** Weight of added vehicle time (driving + dwell). */
    readonly vehicleTimeWeight: number;
    /** Weight of the new rider's wait beyond the desired time plus ride time. */
    readonly riderTimeWeight: number;
    /** Weight of delay imposed on riders already planned (passenger-weighted, upper estimate). */
    readonly otherRidersDelayWeight: number;
    /** Penalty for waking a bus that still needs a driver assigned (drivers are the scarce resource). */
    readonly driverActivationMs: number;
  };
  /** Alternative time offered with a rejection: searched within ±searchMs in stepMs steps. */
  readonly alternatives: { readonly searchMs: number; readonly stepMs: number };
  readonly battery: {
    readonly capacityKWh: number;
    readonly consumptionKWhPerKm: number;
    /** Work must finish with at least this SoC left after also reaching the depot. */
    readonly reserveSoc: number;
    /** Idle buses at or below this SoC are sent to charge. */
    readonly lowSoc: number;
    /** A charging bus becomes available again at this SoC. */
    readonly resumeSoc: number;
  };
  readonly reoptimisation: {
    readonly intervalMs: number;
    /** Passes over all requests (relocate + exchange) per call. */
    readonly maxRounds: number;
    /** Relocation targets per request: the buses whose plans pass closest to its pickup. */
    readonly candidateBuses: number;
    /** Relocation attempts + exchange pairs per call (bounds how long one call blocks; big fleets are
     * covered over several calls in a random order). */
    readonly maxEvaluations: number;
    /** Upper bound on exchange pairs tried per pass (keeps a call bounded on big fleets). */
    readonly maxExchangePairs: number;
    /** Plans whose stops are reordered per pass (a random sample when the fleet is bigger; bounds the call too). */
    readonly maxReorderPlans: number;
    /** Buses one call works on: a bigger fleet is searched a neighbourhood at a time (bounds the call's fixed cost,
     * which re-times every plan it looks at). */
    readonly maxVehicles: number;
    /** A move must save at least this much vehicle time to be accepted (avoids churn on rounding noise). */
    readonly minGainMs: number;
  };
  readonly rebalancing: {
    /** Half-life of the weight of a past request in a hub's demand score. */
    readonly demandHalfLifeMs: number;
    /** Pre-booked pickups and line departures within this horizon count as expected demand. */
    readonly horizonMs: number;
    readonly prebookedWeight: number;
    readonly lineDepartureWeight: number;
    /** Every hub keeps this much demand so that idle buses spread out when nothing is known. */
    readonly baseWeight: number;
  };
  readonly hubs: readonly Hub[];
  readonly depot: Location;
  readonly serviceArea?: ServiceArea;
  readonly timetable?: Timetable;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type DispatchConfigInput = DeepPartial<Omit<DispatchConfig, 'depot'>> & { readonly depot: Location };

const MIN = 60_000;

export const DEFAULT_CONFIG: Omit<DispatchConfig, 'depot'> = {
  promises: {
    pickupWindowMs: 10 * MIN,
    maxWaitMs: 15 * MIN,
    rideAlpha: 1.5,
    rideBetaMs: 5 * MIN,
    prebookHorizonMs: 7 * 24 * 60 * MIN,
    transferBufferMs: 3 * MIN,
    planningMarginMs: 60_000,
  },
  dwell: { fixedMs: 30_000, perBoardingMs: 10_000, perAlightingMs: 5_000, perWheelchairMs: 90_000 },
  offerHoldMs: 2 * MIN,
  retainFinished: 200,
  noShowWaitMs: 3 * MIN,
  cost: { vehicleTimeWeight: 1, riderTimeWeight: 0.5, otherRidersDelayWeight: 0.3, driverActivationMs: 5 * MIN },
  alternatives: { searchMs: 60 * MIN, stepMs: 5 * MIN },
  battery: { capacityKWh: 80, consumptionKWhPerKm: 0.35, reserveSoc: 0.15, lowSoc: 0.3, resumeSoc: 0.9 },
  // a small budget every 2 s rather than 400 evaluations once a minute: about the same work, in tasks short enough
  // not to hold up a remote driver's commands behind them (big fleets are covered over several calls anyway)
  reoptimisation: { intervalMs: 2_000, maxRounds: 3, candidateBuses: 8, maxEvaluations: 14, maxExchangePairs: 70, maxReorderPlans: 8, maxVehicles: 40, minGainMs: 1000 },
  rebalancing: {
    demandHalfLifeMs: 30 * MIN,
    horizonMs: 60 * MIN,
    prebookedWeight: 1,
    lineDepartureWeight: 0.05,
    baseWeight: 0.5,
  },
  hubs: [],
};

const locationSchema = z.object({ id: z.union([z.string(), z.number()]), lat: z.number(), lon: z.number() });
const nonNeg = z.number().nonnegative();
const prob = z.number().min(0).max(1);

/** Validates a resolved config; exported so the server can validate config files at the edge. */
export const dispatchConfigSchema = z.object({
  promises: z.object({
    pickupWindowMs: z.number().positive(),
    maxWaitMs: z.number().positive(),
    rideAlpha: z.number().min(1),
    rideBetaMs: nonNeg,
    prebookHorizonMs: nonNeg,
    transferBufferMs: nonNeg,
    planningMarginMs: nonNeg,
  }).refine((p) => p.planningMarginMs <= p.pickupWindowMs / 2, {
    message: 'planningMarginMs must be at most half of pickupWindowMs',
    path: ['planningMarginMs'],
  }),
  dwell: z.object({ fixedMs: nonNeg, perBoardingMs: nonNeg, perAlightingMs: nonNeg, perWheelchairMs: nonNeg }),
  offerHoldMs: z.number().positive(),
  retainFinished: z.number().int().min(0),
  noShowWaitMs: nonNeg,
  cost: z.object({
    vehicleTimeWeight: nonNeg,
    riderTimeWeight: nonNeg,
    otherRidersDelayWeight: nonNeg,
    driverActivationMs: nonNeg,
  }),
  alternatives: z.object({ searchMs: nonNeg, stepMs: z.number().positive() }),
  battery: z.object({
    capacityKWh: z.number().positive(),
    consumptionKWhPerKm: nonNeg,
    reserveSoc: prob,
    lowSoc: prob,
    resumeSoc: prob,
  }),
  reoptimisation: z.object({
    intervalMs: z.number().positive(),
    maxRounds: z.number().int().nonnegative(),
    candidateBuses: z.number().int().positive(),
    maxEvaluations: z.number().int().nonnegative(),
    maxExchangePairs: z.number().int().nonnegative(),
    maxReorderPlans: z.number().int().nonnegative(),
    maxVehicles: z.number().int().positive(),
    minGainMs: nonNeg,
  }),
  rebalancing: z.object({
    demandHalfLifeMs: z.number().positive(),
    horizonMs: nonNeg,
    prebookedWeight: nonNeg,
    lineDepartureWeight: nonNeg,
    baseWeight: nonNeg,
  }),
  hubs: z.array(z.object({ id: z.string().min(1), name: z.string().optional(), location: locationSchema })),
  depot: locationSchema,
  serviceArea: z
    .union([
      z.object({ type: z.literal('Polygon'), coordinates: z.array(z.array(z.tuple([z.number(), z.number()]))) }),
      z.object({
        type: z.literal('MultiPolygon'),
        coordinates: z.array(z.array(z.array(z.tuple([z.number(), z.number()])))),
      }),
    ])
    .optional(),
  timetable: timetableSchema.optional(),
});

/** Defaults filled in, then validated (throws a ZodError on nonsense such as a negative window). */
export function resolveConfig(input: DispatchConfigInput): DispatchConfig {
  const merged = deepMerge(DEFAULT_CONFIG as unknown as Record<string, unknown>, input as Record<string, unknown>);
  dispatchConfigSchema.parse(merged);
  return merged as unknown as DispatchConfig;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = base[k];
    out[k] =
      b && typeof b === 'object' && !Array.isArray(b) && v && typeof v === 'object' && !Array.isArray(v)
        ? deepMerge(b as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** zod schema of a ride request, for the REST/socket edge. */
export const rideRequestSchema = z
  .object({
    id: z.string().min(1).optional(),
    riderId: z.string().min(1).optional(),
    pickup: locationSchema,
    dropoff: locationSchema,
    passengers: z.number().int().min(1).max(8),
    wheelchairs: z.number().int().min(0).max(2).optional(),
    time: z
      .discriminatedUnion('type', [
        z.object({ type: z.literal('now') }),
        z.object({ type: z.literal('departure'), at: z.number() }),
        z.object({ type: z.literal('arrival'), by: z.number() }),
      ])
      .optional(),
    transfer: z
      .object({ hubId: z.string().min(1), departure: z.number().optional(), lineId: z.string().optional() })
      .optional(),
  })
  .refine((r) => (r.wheelchairs ?? 0) <= r.passengers, { message: 'wheelchairs must not exceed passengers' })
  .refine((r) => r.pickup.id !== r.dropoff.id, { message: 'pickup and drop-off must differ' });
