import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import type { Lang, Params, TextKey } from './i18n.ts';
import type { BookingView, Hub, RiderVehicleView, ServiceArea } from './types.ts';
import { dateInputValue, timeInputValue } from './format.ts';

export interface AddressPlace {
  lat: number;
  lon: number;
  label: string;
  source: 'search' | 'gps' | 'map';
  /** second line, e.g. "nächste Hausnummer" or "Haltestelle" */
  detail?: string;
  outside?: boolean;
}
export interface Slot {
  mode: 'address' | 'hub';
  hubId: string;
  address: AddressPlace | null;
}
export interface BookingForm {
  from: Slot;
  to: Slot;
  when: 'now' | 'later';
  date: string;
  time: string;
  timeMode: 'depart' | 'arrive';
  passengers: number;
  wheelchairs: number;
  pram: boolean;
}
export interface TripMessage {
  t: number;
  key: TextKey;
  params?: Params;
  /** a vehicle id to show as its label ("bus" parameter) */
  vehicleId?: string;
}
/** What the rider typed or chose, kept on this device only (the server stores coordinates, not these words). */
export interface TripLabels {
  from: string;
  to: string;
  fromHubId?: string;
  toHubId?: string;
}
export interface InAppNotice {
  bookingId: string;
  minutes: number;
  vehicleId: string | null;
  t: number;
}
export interface NoOffer {
  reason: string;
  message: string;
  alternative?: { type: 'departure' | 'arrival'; time: string };
}

export type Route = { name: 'book' } | { name: 'offer'; id: string } | { name: 'trip'; id: string } | { name: 'trips' };

export function parseHash(h: string): Route {
  const m = /^#\/(offer|trip)\/([A-Za-z0-9_-]{1,64})$/.exec(h);
  if (m) return { name: m[1] as 'offer' | 'trip', id: m[2] };
  if (h === '#/trips') return { name: 'trips' };
  return { name: 'book' };
}

export const ACTIVE = new Set(['offered', 'confirmed', 'assigned', 'picked_up']);
const BEFORE_PICKUP = new Set(['confirmed', 'assigned']);
/** An ETA that moves by this much (minutes) is reported in words. */
const SHIFT_MIN = 3;

const emptySlot = (mode: Slot['mode'], hubId: string): Slot => ({ mode, hubId, address: null });

export function defaultForm(defaultHub = 'tuk'): BookingForm {
  const later = Date.now() + 60 * 60_000;
  return {
    from: emptySlot('address', defaultHub),
    to: emptySlot('hub', defaultHub),
    when: 'now',
    date: dateInputValue(later),
    time: timeInputValue(later),
    timeMode: 'depart',
    passengers: 1,
    wheelchairs: 0,
    pram: false,
  };
}

interface State {
  lang: Lang;
  leadMin: number;
  browserNotify: boolean;
  hubs: Hub[];
  area: ServiceArea | null;
  form: BookingForm;
  mapTarget: 'from' | 'to';
  bookings: Record<string, BookingView>;
  positions: Record<string, RiderVehicleView>;
  vehicleLabels: Record<string, string>;
  labels: Record<string, TripLabels>;
  messages: Record<string, TripMessage[]>;
  etaBase: Record<string, number>;
  windowMissed: Record<string, true>;
  notified: string[];
  notices: InAppNotice[];
  cancelledByMe: Record<string, true>;
  noOffer: NoOffer | null;
  connected: boolean;
  route: Route;
  /** polite screen-reader announcement (one line) */
  announcement: string;
  /** bumped when the rider's data is deleted: the live connection starts over with a new pseudonym */
  sessionEpoch: number;

  setLang(l: Lang): void;
  setLead(m: number): void;
  setBrowserNotify(v: boolean): void;
  setStatic(hubs: Hub[], area: ServiceArea): void;
  updateForm(f: Partial<BookingForm>): void;
  updateSlot(which: 'from' | 'to', s: Partial<Slot>): void;
  swap(): void;
  setMapTarget(t: 'from' | 'to'): void;
  setSnapshot(list: BookingView[]): void;
  applyBooking(b: BookingView): void;
  applyPosition(p: RiderVehicleView): void;
  setLabels(id: string, l: TripLabels): void;
  markCancelledByMe(id: string): void;
  pushNotice(n: InAppNotice): void;
  dismissNotice(bookingId: string): void;
  setNoOffer(n: NoOffer | null): void;
  setConnected(c: boolean): void;
  setRoute(r: Route): void;
  announce(s: string): void;
  forgetAll(): void;
}

function statusMessage(prev: BookingView | undefined, b: BookingView, byMe: boolean): TripMessage | null {
  const t = Date.now();
  if (prev?.status === b.status) return null;
  switch (b.status) {
    case 'confirmed':
      return { t, key: 'msg.confirmed' };
    case 'assigned':
      return b.vehicleId ? { t, key: 'msg.assigned', vehicleId: b.vehicleId } : null;
    case 'picked_up':
      return { t, key: 'msg.pickedUp' };
    case 'completed':
      return { t, key: 'msg.completed' };
    case 'cancelled':
      return { t, key: byMe ? 'msg.cancelledByYou' : 'msg.cancelledByService' };
    case 'no_show':
      return { t, key: 'msg.noShow' };
    case 'expired':
      return prev ? { t, key: 'msg.expired' } : null;
    default:
      return null;
  }
}

/** The rider's own trips and what the app derived from them: empty at the start, and again after "delete my data". */
function emptyTrips(): Pick<State, 'bookings' | 'positions' | 'labels' | 'messages' | 'etaBase' | 'windowMissed' | 'notified' | 'notices' | 'cancelledByMe' | 'noOffer'> {
  return { bookings: {}, positions: {}, labels: {}, messages: {}, etaBase: {}, windowMissed: {}, notified: [], notices: [], cancelledByMe: {}, noOffer: null };
}

export const useStore = create<State>()(
  persist(
    (set, get) => {
      /** Compares a new pickup ETA with the last one reported and says so in words when it moved noticeably. */
      const observeEta = (b: BookingView, etaIso: string | null | undefined, msgs: TripMessage[]): void => {
        if (!etaIso || !BEFORE_PICKUP.has(b.status)) return;
        const eta = Date.parse(etaIso);
        if (!Number.isFinite(eta)) return;
        const s = get();
        const base = s.etaBase[b.id];
        if (base === undefined) {
          set({ etaBase: { ...s.etaBase, [b.id]: eta } });
          return;
        }
        const shift = Math.round((eta - base) / 60_000);
        if (Math.abs(shift) >= SHIFT_MIN) {
          msgs.push({ t: Date.now(), key: shift > 0 ? 'msg.later' : 'msg.earlier', params: { n: Math.abs(shift), time: eta } });
          set({ etaBase: { ...get().etaBase, [b.id]: eta } });
        }
        const windowEnd = b.offer ? Date.parse(b.offer.pickupWindow.to) : NaN;
        if (Number.isFinite(windowEnd) && eta > windowEnd + 60_000 && !s.windowMissed[b.id]) {
          msgs.push({ t: Date.now(), key: 'msg.outsideWindow', params: { time: eta } });
          set({ windowMissed: { ...get().windowMissed, [b.id]: true } });
        }
      };
      const addMessages = (id: string, msgs: TripMessage[]) => {
        if (!msgs.length) return;
        const s = get();
        set({ messages: { ...s.messages, [id]: [...(s.messages[id] ?? []), ...msgs].slice(-30) } });
      };
      return {
        lang: 'de',
        leadMin: 10,
        browserNotify: false,
        hubs: [],
        area: null,
        form: defaultForm(),
        mapTarget: 'from',
        ...emptyTrips(),
        vehicleLabels: {},
        connected: true,
        route: typeof location !== 'undefined' ? parseHash(location.hash) : { name: 'book' },
        announcement: '',
        sessionEpoch: 0,

        setLang: (lang) => set({ lang }),
        setLead: (leadMin) => set({ leadMin }),
        setBrowserNotify: (browserNotify) => set({ browserNotify }),
        setStatic: (hubs, area) =>
          set((s) => {
            // the first hub of the deployment is the default destination, unless the form already names a known one
            const def = hubs[0]?.id ?? 'tuk';
            const fix = (slot: Slot): Slot => (hubs.some((h) => h.id === slot.hubId) ? slot : { ...slot, hubId: def });
            return { hubs, area, form: { ...s.form, from: fix(s.form.from), to: fix(s.form.to) } };
          }),
        updateForm: (f) => set((s) => ({ form: { ...s.form, ...f } })),
        updateSlot: (which, slot) => set((s) => ({ form: { ...s.form, [which]: { ...s.form[which], ...slot } } })),
        swap: () => set((s) => ({ form: { ...s.form, from: s.form.to, to: s.form.from }, mapTarget: s.mapTarget })),
        setMapTarget: (mapTarget) => set({ mapTarget }),
        setSnapshot: (list) => {
          for (const b of list) get().applyBooking(b);
          // bookings the server no longer has for us (e.g. after "delete my data") disappear here too
          const ids = new Set(list.map((b) => b.id));
          set((s) => ({ bookings: Object.fromEntries(Object.entries(s.bookings).filter(([id]) => ids.has(id))) }));
        },
        applyBooking: (b) => {
          const s = get();
          const prev = s.bookings[b.id];
          const msgs: TripMessage[] = [];
          const m = statusMessage(prev, b, !!s.cancelledByMe[b.id]);
          if (m && prev) msgs.push(m);
          else if (m && !prev && !['offered', 'expired'].includes(b.status) && !(s.messages[b.id]?.length)) msgs.push(m);
          if (prev?.vehicleId && b.vehicleId && prev.vehicleId !== b.vehicleId && ACTIVE.has(b.status)) msgs.push({ t: Date.now(), key: 'msg.vehicleChanged', vehicleId: b.vehicleId });
          set({ bookings: { ...get().bookings, [b.id]: b } });
          // the reminder is about a bus still to come: it goes once the rider is on board or the ride ended
          if (!BEFORE_PICKUP.has(b.status) && get().notices.some((n) => n.bookingId === b.id)) get().dismissNotice(b.id);
          observeEta(b, b.eta, msgs);
          addMessages(b.id, msgs);
        },
        applyPosition: (p) => {
          const s = get();
          set({ positions: { ...s.positions, [p.bookingId]: p }, vehicleLabels: s.vehicleLabels[p.vehicleId] === p.label ? s.vehicleLabels : { ...s.vehicleLabels, [p.vehicleId]: p.label } });
          const b = s.bookings[p.bookingId];
          if (b) {
            const msgs: TripMessage[] = [];
            observeEta(b, p.eta, msgs);
            addMessages(b.id, msgs);
          }
        },
        setLabels: (id, l) => set((s) => ({ labels: { ...s.labels, [id]: l } })),
        markCancelledByMe: (id) => set((s) => ({ cancelledByMe: { ...s.cancelledByMe, [id]: true } })),
        pushNotice: (n) => set((s) => ({ notices: [...s.notices.filter((x) => x.bookingId !== n.bookingId), n], notified: [...s.notified, n.bookingId].slice(-200) })),
        dismissNotice: (bookingId) => set((s) => ({ notices: s.notices.filter((x) => x.bookingId !== bookingId) })),
        setNoOffer: (noOffer) => set({ noOffer }),
        setConnected: (connected) => set({ connected }),
        setRoute: (route) => set({ route }),
        announce: (announcement) => set({ announcement }),
        forgetAll: () =>
          set({
            ...emptyTrips(),
            form: defaultForm(get().hubs[0]?.id),
            sessionEpoch: get().sessionEpoch + 1,
          }),
      };
    },
    {
      name: 'kl-shuttle.rider.state',
      version: 1,
      storage: createJSONStorage(() => localStorage),
      // settings and what the rider typed for their own rides; everything else comes from the server
      partialize: (s) => ({ lang: s.lang, leadMin: s.leadMin, browserNotify: s.browserNotify, labels: s.labels, messages: s.messages, notified: s.notified, etaBase: s.etaBase, cancelledByMe: s.cancelledByMe }),
    },
  ),
);

/** A vehicle's label when known ("KL-S 102"), else its id. */
export function vehicleLabel(vehicleId: string | null | undefined): string {
  if (!vehicleId) return '';
  return useStore.getState().vehicleLabels[vehicleId] ?? vehicleId;
}
