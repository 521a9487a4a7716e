import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import type { BookingService } from '../bookings/service.ts';
import { defineRoute, type RouteDef } from '../http/api.ts';
import { loadGtfsConfig } from '../gtfs/config.ts';
import { tripOutcomeOf } from '../kpi/live.ts';
import { COUNT_CELLS, CSV_COLUMNS, REJECTION_REASONS, csvRecord, daysBetween, K_ANONYMITY, openDataKpis } from './kpis.ts';

export interface OpenDataRouteDeps {
  bookings: Pick<BookingService, 'all' | 'dispatcherRef'>;
  hubs: { id: string }[];
  now: () => number;
}

export const MAX_DAYS = 366;

export const openDataQuerySchema = z
  .strictObject({
    from: z.iso.date('from: a date YYYY-MM-DD'),
    to: z.iso.date('to: a date YYYY-MM-DD'),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .superRefine((q, ctx) => {
    if (q.from > q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: `to (${q.to}) lies before from (${q.from})` });
    else if (daysBetween(q.from, q.to) > MAX_DAYS) ctx.addIssue({ code: 'custom', path: ['to'], message: `the range covers ${daysBetween(q.from, q.to)} days, at most ${MAX_DAYS} are allowed` });
  });

const count = z.number().int().min(0).nullable();
const cellName = z.enum([...COUNT_CELLS, ...REJECTION_REASONS.map((r) => `rejected:${r}` as const)]);
export const openDataResponseSchema = z.strictObject({
  from: z.iso.date(),
  to: z.iso.date(),
  timeZone: z.string(),
  k: z.number().int(),
  generatedAt: z.iso.datetime(),
  note: z.string(),
  rows: z.array(
    z.strictObject({
      date: z.iso.date(),
      hubId: z.string().nullable(),
      suppressed: z.boolean(),
      suppressedCells: z.array(cellName),
      requested: count,
      open: count,
      confirmed: count,
      upcoming: count,
      completed: count,
      noShows: count,
      cancelled: count,
      expired: count,
      rejected: count,
      rejectedByReason: z.strictObject(Object.fromEntries(REJECTION_REASONS.map((r) => [r, count])) as Record<(typeof REJECTION_REASONS)[number], typeof count>),
      waitP50S: z.number().min(0).nullable(),
      waitP90S: z.number().min(0).nullable(),
      promisesKeptPct: z.number().min(0).max(100).nullable(),
      occupancy: z.number().min(0).nullable(),
    }),
  ),
});

const NOTE =
  `Aggregated per local day and hub (hubId null = door to door); no rider ids, places or booking ids. KPI definitions as in the simulation report. ` +
  `Rows with fewer than ${K_ANONYMITY} requests are suppressed; counts from 1 to ${K_ANONYMITY - 1} and, where needed, further counts of the same sums are withheld (null, listed in suppressedCells); ` +
  `statistics need at least ${K_ANONYMITY} rides. occupancy (passenger-km per vehicle-km) needs fleet kilometres, which the booking store does not hold: null here.`;

export function openDataRoutes(d: OpenDataRouteDeps): RouteDef<any, any>[] {
  return [
    defineRoute({
      method: 'get',
      path: '/api/open-data/kpis',
      summary:
        'Open data: KPIs per day and hub (requested, confirmed, completed, cancelled, no-shows, expired, rejected by reason, median/p90 wait, promises kept), no personal data, small counts withheld (k = 3); JSON or ?format=csv; at most 366 days',
      access: 'public',
      query: openDataQuerySchema,
      responses: { 200: 'rows per day and hub', 400: 'invalid dates, from after to, or more than 366 days' },
      produces: { 'text/csv': 'text' },
      responseSchema: openDataResponseSchema,
      handler: ({ query, res }) => {
        const timeZone = loadGtfsConfig().agency.timezone;
        const trips = d.bookings.all().map((r) => tripOutcomeOf(r, d.bookings, null));
        const rows = openDataKpis(trips, { from: query.from, to: query.to, timeZone, hubIds: d.hubs.map((h) => h.id) });
        if (query.format === 'csv') {
          res.type('text/csv; charset=utf-8').setHeader('content-disposition', `attachment; filename="kl-shuttle-kpis-${query.from}-${query.to}.csv"`);
          res.send(stringify(rows.map(csvRecord), { header: true, columns: CSV_COLUMNS, record_delimiter: '\r\n' }));
          return undefined;
        }
        return { from: query.from, to: query.to, timeZone, k: K_ANONYMITY, generatedAt: new Date(d.now()).toISOString(), note: NOTE, rows };
      },
    }),
  ];
}
