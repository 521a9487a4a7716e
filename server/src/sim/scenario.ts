import { z } from 'zod';

/**
 * Scenario files (JSON): fleet, drivers and shifts, demand (explicit list and/or seeded generator), scripted
 * test routes, faults, duration and seed. Validated with zod; errors name the exact field
 * (e.g. `fleet[2].seats: Too small: expected number to be >=8`).
 */
const place = z.union([z.strictObject({ hubId: z.string().min(1) }), z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) })]);
const minutes = z.number().min(0).max(7 * 24 * 60);

export const scenarioSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z.string().min(1).max(100),
    description: z.string().max(2000).optional(),
    /** ISO date-time with offset: simulated time starts here */
    start: z.iso.datetime({ offset: true }),
    durationMin: z.number().positive().max(7 * 24 * 60),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    fleet: z
      .array(
        z.strictObject({
          id: z.string().regex(/^[\w-]{1,32}$/),
          label: z.string().min(1).max(40).optional(),
          seats: z.number().int().min(8).max(12),
          wheelchairPlaces: z.number().int().min(0).max(2),
          batteryKWh: z.number().positive().max(500).default(80),
          soc: z.number().min(0).max(1).default(0.9),
          consumptionKWhPerKm: z.number().positive().max(5).optional(),
          start: place,
        }),
      )
      .min(1)
      .max(500),
    drivers: z
      .array(z.strictObject({ id: z.string().regex(/^[\w:-]{1,40}$/), shifts: z.array(z.strictObject({ fromMin: minutes, toMin: minutes })).min(1) }))
      .optional(),
    demand: z
      .strictObject({
        requests: z
          .array(
            z.strictObject({
              atMin: minutes,
              pickup: place,
              dropoff: place,
              passengers: z.number().int().min(1).max(8).default(1),
              wheelchairs: z.number().int().min(0).max(2).default(0),
              departAtMin: minutes.optional(),
              arriveByMin: minutes.optional(),
            }),
          )
          .default([]),
        generator: z
          .strictObject({
            hourly: z.array(z.strictObject({ fromMin: minutes, toMin: minutes, perHour: z.number().min(0).max(10_000) })).min(1),
            areas: z.array(z.strictObject({ hubId: z.string().min(1), radiusM: z.number().min(50).max(5000).default(700), weight: z.number().positive().default(1) })).min(1),
            hubBoundShare: z.number().min(0).max(1).default(0.7),
            passengers: z.record(z.string().regex(/^[1-8]$/), z.number().min(0)).default({ '1': 0.75, '2': 0.2, '3': 0.05 }),
            wheelchairShare: z.number().min(0).max(1).default(0.03),
            prebookedShare: z.number().min(0).max(1).default(0.2),
            prebookLeadMin: z.tuple([minutes, minutes]).default([20, 120]),
          })
          .optional(),
      })
      .default({ requests: [] }),
    script: z
      .array(
        z.strictObject({
          vehicleId: z.string().min(1),
          laps: z.number().int().min(1).max(100).default(1),
          stops: z.array(z.strictObject({ place, name: z.string().max(80).optional(), dwellS: z.number().min(0).max(3600).default(30) })).min(2),
        }),
      )
      .default([]),
    faults: z
      .array(
        z.discriminatedUnion('type', [
          z.strictObject({ type: z.literal('link_loss'), atMin: minutes, vehicleId: z.string().min(1), durationS: z.number().positive().max(3600) }),
          z.strictObject({ type: z.literal('latency_spike'), atMin: minutes, vehicleId: z.string().min(1), ms: z.number().min(0).max(10_000), durationS: z.number().positive().max(3600) }),
          z.strictObject({ type: z.literal('breakdown'), atMin: minutes, vehicleId: z.string().min(1) }),
          z.strictObject({
            type: z.literal('road_closure'),
            atMin: minutes,
            street: z.string().min(1).max(100),
            near: z.strictObject({ lat: z.number(), lon: z.number(), radiusM: z.number().positive().max(5000) }).optional(),
            durationMin: z.number().positive().max(7 * 24 * 60),
          }),
        ]),
      )
      .default([]),
    /** seconds between vehicle-state records in events.ndjson */
    stateEveryS: z.number().int().min(1).max(60).default(1),
  })
  .superRefine((s, ctx) => {
    const ids = new Set<string>();
    s.fleet.forEach((v, i) => {
      if (ids.has(v.id)) ctx.addIssue({ code: 'custom', path: ['fleet', i, 'id'], message: `duplicate vehicle id "${v.id}"` });
      ids.add(v.id);
    });
    s.faults.forEach((f, i) => {
      if ('vehicleId' in f && !ids.has(f.vehicleId)) ctx.addIssue({ code: 'custom', path: ['faults', i, 'vehicleId'], message: `unknown vehicle "${f.vehicleId}"` });
      if (f.atMin > s.durationMin) ctx.addIssue({ code: 'custom', path: ['faults', i, 'atMin'], message: 'after the end of the scenario' });
    });
    s.script.forEach((sc, i) => {
      if (!ids.has(sc.vehicleId)) ctx.addIssue({ code: 'custom', path: ['script', i, 'vehicleId'], message: `unknown vehicle "${sc.vehicleId}"` });
    });
    s.drivers?.forEach((d, i) =>
      d.shifts.forEach((sh, j) => {
        if (sh.toMin <= sh.fromMin) ctx.addIssue({ code: 'custom', path: ['drivers', i, 'shifts', j, 'toMin'], message: 'shift ends before it starts' });
      }),
    );
    s.demand.requests.forEach((r, i) => {
      if (r.wheelchairs > r.passengers) ctx.addIssue({ code: 'custom', path: ['demand', 'requests', i, 'wheelchairs'], message: 'more wheelchairs than passengers' });
    });
  });

export type Scenario = z.infer<typeof scenarioSchema>;
export type Place = z.infer<typeof place>;

export class ScenarioError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(message);
  }
}

/** Parses and validates; throws ScenarioError listing every bad field as `path: message`. */
export function parseScenario(json: unknown, source = 'scenario'): Scenario {
  const r = scenarioSchema.safeParse(json);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
  throw new ScenarioError(`${source} is invalid:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`, issues);
}

function formatPath(path: PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}
