import type { BookingView, RiderVehicleView } from './types.ts';

/** Bookings whose bus is still to come (the reminder is about the pickup). */
const WAITING = new Set(['confirmed', 'assigned']);

export interface DueNotice {
  bookingId: string;
  /** estimated pickup, epoch ms */
  eta: number;
}

/**
 * The "your bus is N minutes away" reminder: due once per booking when the estimated pickup is within the
 * rider's lead time (default 10 minutes; the rider can choose). A booking made when the bus is already closer
 * than the lead time is reminded at once. Pure, so it is unit-tested with made-up clocks.
 */
export function dueNotices(
  bookings: BookingView[],
  positions: Record<string, RiderVehicleView | undefined>,
  leadMin: number,
  now: number,
  alreadyNotified: ReadonlySet<string>,
): DueNotice[] {
  const out: DueNotice[] = [];
  for (const b of bookings) {
    if (!WAITING.has(b.status) || alreadyNotified.has(b.id)) continue;
    const etaIso = positions[b.id]?.eta ?? b.eta;
    if (!etaIso) continue;
    const eta = Date.parse(etaIso);
    if (!Number.isFinite(eta)) continue;
    if (eta - now <= leadMin * 60_000) out.push({ bookingId: b.id, eta });
  }
  return out;
}
