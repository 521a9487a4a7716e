import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { VehicleDef } from './registry.ts';

/**
 * The fleet file (fixtures/fleet.json, or FLEET_FILE): the buses and the scrypt hashes of their keys. Validated
 * at start-up, so a typo in a deployment's fleet stops the server with the field named instead of surfacing as a
 * bus that never connects.
 */
export const fleetFileSchema = z
  .strictObject({
    $comment: z.string().optional(),
    /** demo keys ("<id>-demo-key"): refused with NODE_ENV=production */
    demo: z.boolean().default(false),
    vehicles: z
      .array(
        z.strictObject({
          id: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'not a vehicle id'),
          label: z.string().min(1).max(64),
          seats: z.number().int().min(1).max(20),
          wheelchairPlaces: z.number().int().min(0).max(4),
          batteryKWh: z.number().positive().max(1000),
          start: z.strictObject({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180), hubId: z.string().min(1).max(64).optional() }),
          soc: z.number().min(0).max(1),
          keyHash: z.string().startsWith('scrypt$').optional(),
        }),
      )
      .min(1)
      .max(2000)
      .refine((vs) => new Set(vs.map((v) => v.id)).size === vs.length, 'vehicle ids must be unique'),
  });
export type FleetFile = z.infer<typeof fleetFileSchema>;

export function loadFleetFile(path: string): { demo: boolean; vehicles: VehicleDef[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`fleet file ${path}: ${(e as Error).message}`);
  }
  const parsed = fleetFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`fleet file ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
