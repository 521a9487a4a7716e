import { io, type Socket } from 'socket.io-client';
import { fleet } from './state/fleet.ts';
import { get, set } from './state/store.ts';
import type { Alert, BookingView, FleetState, PlanUpdate, ReplayFrame } from './state/types.ts';

/**
 * The bridge between the /leitstand namespace and the store. On every (re)connect the server sends full
 * snapshots (fleet, bookings, plans, alerts), so a console that lost its connection converges by itself.
 */
let socket: Socket | null = null;
let tickTimer: ReturnType<typeof setInterval> | null = null;

export function getSocket(): Socket | null {
  return socket;
}

export function connect(token: string): Socket {
  disconnect();
  const s = io('/leitstand', { auth: { token }, transports: ['websocket'], reconnectionDelay: 500, reconnectionDelayMax: 3000 });
  socket = s;
  set({ connection: 'connecting' });
  s.on('connect', () => set({ connection: 'online' }));
  s.on('disconnect', () => set({ connection: 'offline' }));
  s.on('connect_error', (e) => {
    set({ connection: 'offline' });
    if (/unauthorized/.test(e.message)) set({ auth: null });
  });
  s.on('fleet:state', (f: FleetState) => fleet.apply(f));
  s.on('plan:update', (p: PlanUpdate) => set((st) => ({ plans: { ...st.plans, [p.vehicleId]: p } })));
  s.on('bookings:snapshot', (list: BookingView[]) => set({ bookings: Object.fromEntries(list.map((b) => [b.id, b])) }));
  s.on('booking:update', (b: BookingView) => set((st) => ({ bookings: { ...st.bookings, [b.id]: b } })));
  s.on('alerts:snapshot', (list: Alert[]) => set({ alerts: list.map(normaliseAlert) }));
  s.on('alert', (a: Alert) =>
    set((st) => {
      const n = normaliseAlert(a);
      const rest = st.alerts.filter((x) => x.id !== n.id);
      if (n.severity === 'critical' && !n.ackedBy && !st.alerts.some((x) => x.id === n.id)) beep();
      return { alerts: [n, ...rest].slice(0, 500) };
    }),
  );
  s.on('teleop:state', (v: { vehicleId: string; holder: string | null; mode: string; lease?: string; permittedSpeed?: number; latencyMs?: number | null; pendingHandover?: string | null }) =>
    set((st) => {
      const me = st.auth?.username;
      const teleop = { ...st.teleop, [v.vehicleId]: v };
      const holding = Object.entries(teleop).find(([, x]) => x.holder === me)?.[0] ?? null;
      return { teleop, holding };
    }),
  );
  s.on('teleop:ping', (p: unknown, ack?: (x: unknown) => void) => {
    // console RTT: the server measures it by our echo
    s.emit('teleop:pong', p);
    if (typeof ack === 'function') ack(p);
  });
  s.on('replay:frame', (f: ReplayFrame) => set((st) => ({ replay: { ...st.replay, frame: f } })));
  // tables re-render a few times a second, not at the 10 Hz of the data
  tickTimer = setInterval(() => set((st) => ({ fleetTick: st.fleetTick + 1 })), 300);
  return s;
}

export function disconnect(): void {
  if (tickTimer) clearInterval(tickTimer);
  tickTimer = null;
  socket?.disconnect();
  socket = null;
  fleet.clear();
}

/** Emits with an ack and a timeout; resolves with the server's `{data}` or `{error}`. */
export function request<T>(event: string, payload?: unknown, timeoutMs = 4000): Promise<{ data: T } | { error: { code: string; message: string } }> {
  const s = socket;
  if (!s || !s.connected) return Promise.resolve({ error: { code: 'OFFLINE', message: 'keine Verbindung zum Server' } });
  return new Promise((resolve) => {
    const args = payload === undefined ? [] : [payload];
    s.timeout(timeoutMs).emit(event, ...args, (err: Error | null, res: { data: T } | { error: { code: string; message: string } }) => {
      resolve(err ? { error: { code: 'TIMEOUT', message: 'keine Antwort vom Server' } } : res);
    });
  });
}

function normaliseAlert(a: Alert): Alert {
  const severity = a.severity ?? (['mrm', 'link_loss', 'breakdown', 'emergency_stop'].includes(a.type) ? 'critical' : a.type === 'passenger_call' || a.type === 'latency_over_budget' ? 'warning' : 'info');
  return { ...a, severity };
}

let audio: AudioContext | null = null;
let lastBeep = 0;
/** A short two-tone signal for critical alerts (no sound files needed); one per 2 s when many arrive at once. */
export function beep(): void {
  if (Date.now() - lastBeep < 2000) return;
  lastBeep = Date.now();
  try {
    audio ??= new AudioContext();
    const now = audio.currentTime;
    for (const [i, f] of [880, 660].entries()) {
      const o = audio.createOscillator();
      const g = audio.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.15, now + i * 0.18);
      g.gain.exponentialRampToValueAtTime(0.001, now + i * 0.18 + 0.16);
      o.connect(g).connect(audio.destination);
      o.start(now + i * 0.18);
      o.stop(now + i * 0.18 + 0.17);
    }
  } catch {
    /* no audio device: the alert is still shown */
  }
}

export const currentUser = () => get().auth?.username ?? null;
