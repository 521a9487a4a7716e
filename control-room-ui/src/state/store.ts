import { createStore } from 'zustand/vanilla';
import { useStore as useZustand } from 'zustand';
import type { Alert, BookingView, PlanUpdate, ReplayFrame, RunInfo } from './types.ts';

/**
 * One vanilla zustand store in slices (session, view, live data, teleoperation, replay). High-frequency vehicle
 * data is not here but in `fleet.ts`; `fleetTick` is bumped a few times a second for tables.
 */
export type Tab = 'map' | 'cockpit' | 'bookings' | 'alerts' | 'kpis' | 'replay';

interface SessionSlice {
  lang: 'de' | 'en';
  auth: { token: string; role: 'driver' | 'dispatcher' | 'admin'; username: string } | null;
  connection: 'connecting' | 'online' | 'offline';
}
interface ViewSlice {
  tab: Tab;
  selectedId: string | null;
  follow: boolean;
  fleetTick: number;
}
interface LiveSlice {
  plans: Record<string, PlanUpdate>;
  bookings: Record<string, BookingView>;
  alerts: Alert[];
}
interface TeleopSlice {
  /** bus the signed-in driver holds, as the server says */
  holding: string | null;
  teleop: Record<string, { holder: string | null; mode: string; lease?: string; permittedSpeed?: number; latencyMs?: number | null; pendingHandover?: string | null }>;
  lastCommandResult: { ok: boolean; text: string; t: number } | null;
}
interface ReplaySlice {
  replay: { active: boolean; runs: RunInfo[]; info: RunInfo | null; frame: ReplayFrame | null; vehicles: string[] };
}

export type State = SessionSlice & ViewSlice & LiveSlice & TeleopSlice & ReplaySlice;

const saved = (() => {
  try {
    return JSON.parse(sessionStorage.getItem('kl-leitstand') ?? 'null') as Partial<SessionSlice> | null;
  } catch {
    return null;
  }
})();

export const store = createStore<State>()(() => ({
  lang: saved?.lang ?? 'de',
  auth: saved?.auth ?? null,
  connection: 'connecting',
  tab: 'map',
  selectedId: null,
  follow: false,
  fleetTick: 0,
  plans: {},
  bookings: {},
  alerts: [],
  holding: null,
  teleop: {},
  lastCommandResult: null,
  replay: { active: false, runs: [], info: null, frame: null, vehicles: [] },
}));

// the session (token, language) survives a reload of the tab, not the closing of the browser
store.subscribe((s, prev) => {
  if (s.auth !== prev.auth || s.lang !== prev.lang) sessionStorage.setItem('kl-leitstand', JSON.stringify({ auth: s.auth, lang: s.lang }));
});

export function useStore<T>(selector: (s: State) => T): T {
  return useZustand(store, selector);
}
export const set = store.setState;
export const get = store.getState;
