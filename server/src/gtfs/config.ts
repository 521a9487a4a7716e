import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FIXTURES_DIR } from '@kl/routing/fixtures.ts';

/**
 * How the deployment presents itself to the transit world (fixtures/gtfs.json): agency, route names, booking
 * contacts, service hours. A file, not code, so another town publishes its own feed; validated at load.
 */
const gtfsTime = z.string().regex(/^([0-4]?\d):[0-5]\d:[0-5]\d$/, 'HH:MM:SS (hours may exceed 24)');
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone');

export const gtfsConfigSchema = z.object({
  demo: z.boolean().optional(),
  agency: z.object({
    id: z.string().regex(/^[\w.-]{1,64}$/),
    name: z.string().min(1),
    url: z.url(),
    timezone: timeZone,
    lang: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]+)*$/).optional(),
    phone: z.string().min(3).optional(),
  }),
  route: z.object({
    id: z.string().regex(/^[\w.-]{1,64}$/),
    shortName: z.string().min(1).optional(),
    longName: z.string().min(1),
    desc: z.string().optional(),
  }),
  booking: z.object({
    phone: z.string().min(3).optional(),
    infoUrl: z.url().optional(),
    bookingUrl: z.url().optional(),
    message: z.string().optional(),
  }),
  serviceHours: z.object({ start: gtfsTime, end: gtfsTime }),
  feed: z.object({
    publisherName: z.string().min(1),
    publisherUrl: z.url(),
    lang: z.string().min(2),
    validityDays: z.number().int().min(1).max(3650),
  }),
});
export type GtfsConfig = z.infer<typeof gtfsConfigSchema>;

let cache: { path: string; config: GtfsConfig } | null = null;

/** The deployment's GTFS description (read once per fixtures folder); a broken file stops with its reasons. */
export function loadGtfsConfig(dir = FIXTURES_DIR): GtfsConfig {
  const path = join(dir, 'gtfs.json');
  if (cache?.path === path) return cache.config;
  if (!existsSync(path)) throw new Error(`${path} is missing: the GTFS export needs the agency description`);
  const parsed = gtfsConfigSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  cache = { path, config: parsed.data };
  return parsed.data;
}

/** YYYY-MM-DD of an instant in a time zone (GTFS service dates and KPI days are local dates). */
export function localDate(t: number, tz: string): string {
  // en-CA formats as YYYY-MM-DD
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(t);
}
