import { z } from 'zod';

/**
 * Line-bus timetable at the hubs, as configuration (fixtures/timetable.json is a SYNTHETIC one).
 * A pattern is "every `headwayMin` minutes from `first` to `last`" in the timetable's local time zone;
 * `last` may exceed 24:00 for service after midnight.
 */
export interface TimetablePattern {
  readonly hubId: string;
  readonly lineId: string;
  readonly headsign?: string;
  /** "HH:MM" local time of the first departure of a service day. */
  readonly first: string;
  /** "HH:MM" local time of the last departure; may be ≥ 24:00. */
  readonly last: string;
  readonly headwayMin: number;
}

export interface Timetable {
  readonly synthetic?: boolean;
  readonly note?: string;
  /** IANA zone the HH:MM times are in, e.g. Europe/Berlin. */
  readonly timeZone: string;
  readonly hubs?: ReadonlyArray<{ readonly id: string; readonly name?: string; readonly stop?: string; readonly lat: number; readonly lon: number }>;
  readonly departures: readonly TimetablePattern[];
}

export interface LineDeparture {
  readonly hubId: string;
  readonly lineId: string;
  readonly headsign?: string;
  readonly time: number;
}

const hhmm = z.string().regex(/^\d{1,2}:\d{2}$/);
export const timetableSchema = z.object({
  synthetic: z.boolean().optional(),
  note: z.string().optional(),
  timeZone: z.string().min(1),
  hubs: z
    .array(z.object({ id: z.string(), name: z.string().optional(), stop: z.string().optional(), lat: z.number(), lon: z.number() }))
    .optional(),
  departures: z.array(
    z.object({
      hubId: z.string().min(1),
      lineId: z.string().min(1),
      headsign: z.string().optional(),
      first: hhmm,
      last: hhmm,
      headwayMin: z.number().positive(),
    }),
  ),
});

const DAY = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // Intl is deterministic (ICU data), no I/O: fine for the pure core.
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Local wall-clock fields of an instant. */
function localParts(t: number, timeZone: string): { y: number; m: number; d: number; wallMs: number } {
  const parts = formatter(timeZone).formatToParts(new Date(t));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const y = get('year'), m = get('month'), d = get('day');
  const wallMs = Date.UTC(y, m - 1, d, get('hour'), get('minute'), get('second')) + (((t % 1000) + 1000) % 1000);
  return { y, m, d, wallMs };
}

/** Offset of local wall time from UTC at instant t (ms). */
function offsetAt(t: number, timeZone: string): number {
  return localParts(t, timeZone).wallMs - t;
}

/** Epoch ms of a local wall time given as a UTC-encoded wall value. */
function wallToEpoch(wall: number, timeZone: string): number {
  const o1 = offsetAt(wall, timeZone);
  const t = wall - o1;
  const o2 = offsetAt(t, timeZone);
  return o2 === o1 ? t : wall - o2;
}

function minutesOf(s: string): number {
  const [h, m] = s.split(':').map(Number);
  return h * 60 + m;
}

/** Line departures at a hub within [from, to], sorted by time (then line id). */
export function lineDepartures(
  tt: Timetable,
  hubId: string,
  from: number,
  to: number,
  lineId?: string,
): LineDeparture[] {
  const patterns = tt.departures.filter((p) => p.hubId === hubId && (lineId === undefined || p.lineId === lineId));
  if (patterns.length === 0 || to < from) return [];
  const out: LineDeparture[] = [];
  // Service days from the day before `from` (after-midnight trips) to the day of `to`.
  const first = localParts(from - DAY, tt.timeZone);
  const lastDay = localParts(to, tt.timeZone);
  const lastMidnight = Date.UTC(lastDay.y, lastDay.m - 1, lastDay.d);
  for (let midnight = Date.UTC(first.y, first.m - 1, first.d); midnight <= lastMidnight; midnight += DAY) {
    const o0 = offsetAt(midnight - offsetAt(midnight, tt.timeZone), tt.timeZone);
    const oEnd = offsetAt(midnight + 2 * DAY - o0, tt.timeZone);
    const sameOffset = o0 === oEnd; // not a DST-change day: one subtraction is enough
    for (const p of patterns) {
      const a = minutesOf(p.first), b = minutesOf(p.last);
      for (let min = a; min <= b; min += p.headwayMin) {
        const wall = midnight + min * 60_000;
        const t = sameOffset ? wall - o0 : wallToEpoch(wall, tt.timeZone);
        if (t >= from && t <= to) out.push({ hubId, lineId: p.lineId, headsign: p.headsign, time: t });
      }
    }
  }
  out.sort((x, y) => x.time - y.time || (x.lineId < y.lineId ? -1 : x.lineId > y.lineId ? 1 : 0));
  return out;
}
