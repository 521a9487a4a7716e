import { computeKpis, percentile, promiseKept, waitMs, type TripOutcome } from '../kpi/kpis.ts';
import type { RejectionReason } from '../dispatch/types.ts';
import { localDate } from '../gtfs/config.ts';

/**
 * Open-data KPIs per day and hub, with the simulation report's definitions (kpi/kpis.ts) and no personal data:
 * the input is reduced to TripOutcomes (no rider, no place, no booking id leaves this module), the output holds
 * counts and statistics only.
 *
 * Small counts are protected in three steps (statistical disclosure control, as statistics offices do for
 * tables):
 * 1. a (day, hub) row with fewer than k requests is published as suppressed: date and hub only;
 * 2. primary suppression: every count from 1 to k−1 is withheld (null, named in `suppressedCells`);
 * 3. secondary suppression: the counts of a row add up (requested = open + confirmed + cancelled + expired +
 *    rejected; confirmed = upcoming + completed + no-shows; rejected = Σ reasons), so a single withheld count in
 *    one of these sums could be recomputed; more counts are withheld until no sum has exactly one unknown.
 * Statistics (median/p90 wait, promises kept) are published only when based on at least k rides. There are no
 * totals across hubs or days, so rows cannot be differenced against each other.
 */
export const K_ANONYMITY = 3;

/** every rejection reason the dispatcher gives, plus `other` for anything else a stored record carries */
export const REJECTION_REASONS = ['capacity', 'no-driver', 'window', 'battery', 'outside-service-area', 'other'] as const;
// compile-time check that no dispatcher reason is missing from the export's fixed columns
type MissingReason = Exclude<RejectionReason, (typeof REJECTION_REASONS)[number]>;
const _allReasons: MissingReason extends never ? true : never = true;
void _allReasons;

export const COUNT_CELLS = ['requested', 'open', 'confirmed', 'upcoming', 'completed', 'noShows', 'cancelled', 'expired', 'rejected'] as const;
type CountCell = (typeof COUNT_CELLS)[number];
type ReasonCell = `rejected:${(typeof REJECTION_REASONS)[number]}`;
export type Cell = CountCell | ReasonCell;

/** The sums that hold within a row: [total, parts]. */
export const ROW_SUMS: readonly (readonly [Cell, readonly Cell[]])[] = [
  ['requested', ['open', 'confirmed', 'cancelled', 'expired', 'rejected']],
  ['confirmed', ['upcoming', 'completed', 'noShows']],
  ['rejected', REJECTION_REASONS.map((r) => `rejected:${r}` as const)],
];

export interface OpenDataRow {
  /** local service day (YYYY-MM-DD) of the ride's desired time */
  date: string;
  /** the hub the ride goes to or comes from; null = door to door without a hub */
  hubId: string | null;
  /** fewer than k requests: only date and hub are published */
  suppressed: boolean;
  /** counts withheld to protect small numbers (null in the row) */
  suppressedCells: Cell[];
  requested: number | null;
  /** offers not yet confirmed or expired */
  open: number | null;
  /** confirmed and not cancelled: upcoming + completed + no-shows */
  confirmed: number | null;
  upcoming: number | null;
  completed: number | null;
  noShows: number | null;
  cancelled: number | null;
  expired: number | null;
  rejected: number | null;
  rejectedByReason: Record<(typeof REJECTION_REASONS)[number], number | null>;
  waitP50S: number | null;
  waitP90S: number | null;
  promisesKeptPct: number | null;
  /** passenger-km per vehicle-km (kpis.ts); needs the fleet's km, which the booking store does not hold: null live */
  occupancy: number | null;
}

const statusCell = (status: string): Exclude<CountCell, 'requested' | 'confirmed'> => {
  switch (status) {
    case 'confirmed':
    case 'assigned':
    case 'picked_up':
      return 'upcoming';
    case 'completed':
      return 'completed';
    case 'no_show':
      return 'noShows';
    case 'cancelled':
      return 'cancelled';
    case 'expired':
      return 'expired';
    case 'rejected':
      return 'rejected';
    default:
      return 'open'; // 'offered' (and any status a future version adds before this export learns it)
  }
};

/** Withheld cells of one row's counts (steps 2 and 3 above); exported for its property test. */
export function suppressCells(counts: Record<Cell, number>, k = K_ANONYMITY): Set<Cell> {
  const hidden = new Set<Cell>();
  for (const [c, v] of Object.entries(counts) as [Cell, number][]) if (v > 0 && v < k) hidden.add(c);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [total, parts] of ROW_SUMS) {
      const cells = [total, ...parts];
      if (cells.filter((c) => hidden.has(c)).length !== 1) continue;
      // withhold the smallest other count of the sum (a non-zero part first: it hides more than a zero)
      const open = parts.filter((c) => !hidden.has(c)).sort((a, b) => (counts[a] === 0 ? 1 : 0) - (counts[b] === 0 ? 1 : 0) || counts[a] - counts[b]);
      hidden.add(open[0] ?? total);
      changed = true;
    }
  }
  return hidden;
}

function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

const NO_USAGE = { vehicleKm: 0, emptyKm: 0, passengerKm: 0, energyKWh: 0, driverBusyMs: 0, driverShiftMs: 0 };

function row(date: string, hubId: string | null, trips: TripOutcome[], k: number): OpenDataRow {
  const reasons = Object.fromEntries(REJECTION_REASONS.map((r) => [r, null])) as OpenDataRow['rejectedByReason'];
  const empty: OpenDataRow = {
    date,
    hubId,
    suppressed: false,
    suppressedCells: [],
    requested: null,
    open: null,
    confirmed: null,
    upcoming: null,
    completed: null,
    noShows: null,
    cancelled: null,
    expired: null,
    rejected: null,
    rejectedByReason: reasons,
    waitP50S: null,
    waitP90S: null,
    promisesKeptPct: null,
    occupancy: null,
  };
  if (trips.length > 0 && trips.length < k) return { ...empty, suppressed: true };

  const kpis = computeKpis(trips, NO_USAGE);
  const counts = Object.fromEntries([...COUNT_CELLS, ...REJECTION_REASONS.map((r) => `rejected:${r}`)].map((c) => [c, 0])) as Record<Cell, number>;
  counts.requested = kpis.requests;
  counts.completed = kpis.served;
  counts.cancelled = kpis.cancelled;
  counts.noShows = kpis.noShows;
  counts.rejected = kpis.rejected;
  for (const [reason, n] of Object.entries(kpis.rejectedByReason)) {
    const r = (REJECTION_REASONS as readonly string[]).includes(reason) ? reason : 'other';
    counts[`rejected:${r}` as ReasonCell] += n;
  }
  for (const t of trips) {
    const c = statusCell(t.status);
    if (c === 'upcoming' || c === 'open' || c === 'expired') counts[c]++;
  }
  counts.confirmed = counts.upcoming + counts.completed + counts.noShows;

  const hidden = suppressCells(counts, k);
  const shown = (c: Cell) => (hidden.has(c) ? null : counts[c]);
  for (const r of REJECTION_REASONS) reasons[r] = shown(`rejected:${r}`);
  const waits = trips.map(waitMs).filter((w): w is number => w !== null).map((w) => w / 1000).sort((a, b) => a - b);
  const judged = trips.filter((t) => promiseKept(t) !== null).length;
  const r2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
  return {
    ...empty,
    suppressedCells: [...hidden].sort(),
    requested: shown('requested'),
    open: shown('open'),
    confirmed: shown('confirmed'),
    upcoming: shown('upcoming'),
    completed: shown('completed'),
    noShows: shown('noShows'),
    cancelled: shown('cancelled'),
    expired: shown('expired'),
    rejected: shown('rejected'),
    rejectedByReason: reasons,
    waitP50S: waits.length >= k ? kpis.waitTimeS.p50 : null,
    waitP90S: waits.length >= k ? r2(percentile(waits, 90)) : null,
    promisesKeptPct: judged >= k ? kpis.promisesKeptPct : null,
    occupancy: kpis.occupancy,
  };
}

/** Rows for every day from..to (inclusive, local dates) and every hub (fixture order, then door-to-door). */
export function openDataKpis(trips: TripOutcome[], o: { from: string; to: string; timeZone: string; hubIds: string[]; k?: number }): OpenDataRow[] {
  const k = o.k ?? K_ANONYMITY;
  const groups = new Map<string, TripOutcome[]>();
  const hubs = [...o.hubIds];
  for (const t of trips) {
    const date = localDate(t.desired.time, o.timeZone);
    if (date < o.from || date > o.to) continue;
    const hub = t.hubId ?? null;
    if (hub !== null && !hubs.includes(hub)) hubs.push(hub); // a hub since removed from the fixtures keeps its rows
    const key = `${date}|${hub ?? ''}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(t);
  }
  const rows: OpenDataRow[] = [];
  for (let date = o.from; date <= o.to; date = addDays(date, 1)) {
    for (const hub of [...hubs, null]) rows.push(row(date, hub, groups.get(`${date}|${hub ?? ''}`) ?? [], k));
  }
  return rows;
}

export const CSV_COLUMNS = [
  'date',
  'hub_id',
  'suppressed',
  'requested',
  'open',
  'confirmed',
  'upcoming',
  'completed',
  'no_shows',
  'cancelled',
  'expired',
  'rejected',
  ...REJECTION_REASONS.map((r) => `rejected_${r.replaceAll('-', '_')}`),
  'wait_p50_s',
  'wait_p90_s',
  'promises_kept_pct',
  'occupancy',
  'suppressed_cells',
];

/** One CSV record per row; null (withheld or not available) is an empty cell. */
export function csvRecord(r: OpenDataRow): (string | number)[] {
  const v = (x: number | null) => (x === null ? '' : x);
  return [
    r.date,
    r.hubId ?? '',
    r.suppressed ? 1 : 0,
    v(r.requested),
    v(r.open),
    v(r.confirmed),
    v(r.upcoming),
    v(r.completed),
    v(r.noShows),
    v(r.cancelled),
    v(r.expired),
    v(r.rejected),
    ...REJECTION_REASONS.map((x) => v(r.rejectedByReason[x])),
    v(r.waitP50S),
    v(r.waitP90S),
    v(r.promisesKeptPct),
    v(r.occupancy),
    r.suppressedCells.join(';'),
  ];
}
