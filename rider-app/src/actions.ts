import { api, ApiFailure, forgetToken, type BookingRequest } from './api.ts';
import { fromInputs } from './format.ts';
import type { TextKey } from './i18n.ts';
import { useStore, type BookingForm, type Slot } from './store.ts';

export function navigate(hash: string): void {
  if (location.hash !== hash) location.hash = hash;
}

export function slotLabel(slot: Slot): string {
  if (slot.mode === 'hub') return useStore.getState().hubs.find((h) => h.id === slot.hubId)?.name ?? slot.hubId;
  return slot.address?.label ?? '';
}

const place = (s: Slot): BookingRequest['pickup'] | null => (s.mode === 'hub' ? { hubId: s.hubId } : s.address ? { lat: s.address.lat, lon: s.address.lon } : null);

/** What is wrong with the form, in words (empty when it can be sent). */
export function validate(f: BookingForm, now = Date.now()): TextKey[] {
  const errs: TextKey[] = [];
  if (!place(f.from)) errs.push('book.missingFrom');
  if (!place(f.to)) errs.push('book.missingTo');
  const a = place(f.from), b = place(f.to);
  if (a && b && JSON.stringify(a) === JSON.stringify(b)) errs.push('book.samePlace');
  const wheel = f.wheelchairs + (f.pram ? 1 : 0);
  if (wheel > 2 || wheel > f.passengers) errs.push('book.tooManyWheel');
  if (f.when === 'later') {
    const t = fromInputs(f.date, f.time);
    if (t === null) errs.push('book.missingTime');
    else if (t < now - 60_000) errs.push('book.pastTime');
  }
  return errs;
}

export function requestBody(f: BookingForm): BookingRequest {
  const body: BookingRequest = {
    pickup: place(f.from)!,
    dropoff: place(f.to)!,
    passengers: f.passengers,
    // a pram takes the multi-purpose space of a wheelchair place
    wheelchairs: f.wheelchairs + (f.pram ? 1 : 0),
  };
  if (f.when === 'later') {
    const iso = new Date(fromInputs(f.date, f.time)!).toISOString();
    if (f.timeMode === 'arrive') body.arriveBy = iso;
    else body.departAt = iso;
  }
  return body;
}

/**
 * Asks for an offer with the form as it is. On an offer or a refusal, goes to the offer screen (which shows the
 * offer, or the reason and the alternative time). Returns what to tell the rider when nothing was sent.
 */
export async function requestOffer(): Promise<TextKey[]> {
  const s = useStore.getState();
  const errs = validate(s.form);
  if (errs.length) return errs;
  const labels = {
    from: slotLabel(s.form.from),
    to: slotLabel(s.form.to),
    ...(s.form.from.mode === 'hub' ? { fromHubId: s.form.from.hubId } : {}),
    ...(s.form.to.mode === 'hub' ? { toHubId: s.form.to.hubId } : {}),
  };
  s.setNoOffer(null);
  try {
    const view = await api.book(requestBody(s.form));
    s.setLabels(view.id, labels);
    s.applyBooking(view);
    navigate(`#/offer/${view.id}`);
    return [];
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 422 && e.code === 'NO_OFFER') {
      const details = (e.body?.error?.details ?? {}) as { bookingId?: string; reason?: string };
      s.setNoOffer({ reason: details.reason ?? 'unknown', message: e.message, ...(e.body?.error?.alternative ? { alternative: e.body.error.alternative } : {}) });
      if (details.bookingId) {
        s.setLabels(details.bookingId, labels);
        navigate(`#/offer/${details.bookingId}`);
      }
      return details.bookingId ? [] : ['reason.unknown'];
    }
    if (e instanceof ApiFailure && e.code === 'NO_ROAD') return ['reason.no-road'];
    if (e instanceof ApiFailure && e.status === 0) return ['error.network'];
    return ['error.generic'];
  }
}

/** Takes the alternative time of a refusal into the form and asks again. */
export async function requestAlternative(alt: { type: 'departure' | 'arrival'; time: string }): Promise<TextKey[]> {
  const t = new Date(alt.time);
  const pad = (n: number) => String(n).padStart(2, '0');
  useStore.getState().updateForm({
    when: 'later',
    timeMode: alt.type === 'arrival' ? 'arrive' : 'depart',
    date: `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}`,
    // round up to the next minute: never earlier than what the service said is possible
    time: `${pad(new Date(t.getTime() + 59_999).getHours())}:${pad(new Date(t.getTime() + 59_999).getMinutes())}`,
  });
  return requestOffer();
}

export async function confirmOffer(id: string): Promise<'ok' | 'expired' | 'error'> {
  try {
    const v = await api.confirm(id);
    useStore.getState().applyBooking(v);
    navigate(`#/trip/${id}`);
    return 'ok';
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 409) {
      void refreshBookings();
      return 'expired';
    }
    return 'error';
  }
}

export async function cancelBooking(id: string): Promise<boolean> {
  const s = useStore.getState();
  s.markCancelledByMe(id);
  try {
    s.applyBooking(await api.cancel(id));
    return true;
  } catch {
    void refreshBookings();
    return false;
  }
}

export async function refreshBookings(): Promise<void> {
  try {
    useStore.getState().setSnapshot(await api.bookings());
  } catch {
    /* the socket keeps trying */
  }
}

/** "Delete my data": the server forgets this rider's places and pseudonym; this device forgets everything too. */
export async function deleteMyData(): Promise<number | null> {
  try {
    const r = await api.deleteMe();
    useStore.getState().forgetAll();
    forgetToken();
    return r.deleted;
  } catch {
    return null;
  }
}
