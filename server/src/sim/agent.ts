import { io as connect, type Socket } from 'socket.io-client';
import type { Clock } from '../core/clock.ts';
import type { Rng } from '../core/rng.ts';
import type { PlanUpdate, VehicleClientToServer, VehicleServerToClient } from '../protocol/events.ts';
import type { VehicleMode } from '../protocol/schemas.ts';
import { DEFAULT_PARAMS, VehicleModel } from './vehicle-model.ts';

/** Dwell model of the simulated bus, matching the dispatcher's defaults: fixed part + per person + ramp. */
export const DWELL = { fixedMs: 30_000, perBoardingMs: 10_000, perAlightingMs: 5_000, perWheelchairMs: 90_000 };

export interface AgentOptions {
  serverUrl: string;
  vehicleId: string;
  key: string;
  start: { lat: number; lon: number };
  soc: number;
  batteryKWh?: number;
  clock: Clock;
  rng: Rng;
  /** state messages per second */
  hz?: number;
  log?: (msg: string) => void;
}

interface DwellState {
  until: number;
  requests: { requestId: string; kind: 'pickup' | 'dropoff' }[];
}

/**
 * A simulated bus speaking the real /vehicle protocol over socket.io: it drives the routed plan it is sent,
 * dwells at stops (doors open, boarding), reports progress (`vehicle:stop`) and streams `vehicle:state`.
 * The same agent runs inside `npm start` and as a separate process (`npm run fleet`).
 */
export class VehicleAgent {
  readonly model: VehicleModel;
  private socket: Socket<VehicleServerToClient, VehicleClientToServer> | null = null;
  private plan: PlanUpdate | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private last = 0;
  private dwell: DwellState | null = null;
  private doors: 'open' | 'closed' = 'closed';
  private occupancy = { seats: 0, wheelchairs: 0 };
  mode: VehicleMode = 'remote';

  constructor(private readonly o: AgentOptions) {
    this.model = new VehicleModel(o.start, o.soc, { ...DEFAULT_PARAMS, batteryKWh: o.batteryKWh ?? DEFAULT_PARAMS.batteryKWh });
  }

  start(): Promise<void> {
    const socket: Socket<VehicleServerToClient, VehicleClientToServer> = connect(`${this.o.serverUrl}/vehicle`, {
      auth: { vehicleId: this.o.vehicleId, key: this.o.key },
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
    });
    this.socket = socket;
    socket.on('plan:update', (p) => this.onPlan(p));
    this.last = this.o.clock.now();
    this.timer = setInterval(() => this.tick(), 1000 / (this.o.hz ?? 10));
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (e) => reject(e));
    });
  }

  private onPlan(p: PlanUpdate): void {
    if (this.plan && p.version < this.plan.version && p.vehicleId === this.plan.vehicleId) return;
    this.plan = p;
    if (this.dwell) return; // keep standing; the new route is taken when the dwell ends
    this.model.setRoute(p.route ? { coordinates: p.route.coordinates, speedsKmh: p.route.speedsKmh, stopIndices: p.route.stopIndices } : null);
  }

  /** Requests served at the stop the bus has just reached: all consecutive plan stops at the same place. */
  private stopsAtHead(): PlanUpdate['stops'] {
    const stops = this.plan?.stops ?? [];
    if (!stops.length) return [];
    const first = stops[0];
    const out = [];
    for (const s of stops) {
      if (Math.abs(s.lat - first.lat) > 1e-6 || Math.abs(s.lon - first.lon) > 1e-6) break;
      out.push(s);
    }
    return out;
  }

  private tick(): void {
    const now = this.o.clock.now();
    const dt = Math.min(1, (now - this.last) / 1000);
    this.last = now;
    if (this.dwell) {
      if (now >= this.dwell.until) this.finishDwell();
    } else {
      const reached = this.model.step(dt);
      if (reached >= 0) this.beginDwell(now);
    }
    this.sendState(now);
  }

  private beginDwell(now: number): void {
    const here = this.stopsAtHead();
    if (!here.length) {
      this.model.departStop();
      return;
    }
    this.doors = 'open';
    let ms = DWELL.fixedMs;
    for (const s of here) {
      const people = s.seats + s.wheelchairs;
      ms += s.kind === 'pickup' ? people * DWELL.perBoardingMs : people * DWELL.perAlightingMs;
      ms += s.wheelchairs * DWELL.perWheelchairMs;
      this.socket?.emit('vehicle:stop', { requestId: s.requestId, kind: s.kind, event: 'arrived', at: now }, () => {});
    }
    // never leave before the promised window opens (the planned departure already accounts for it)
    const planned = Math.max(...here.map((s) => s.departure));
    this.dwell = { until: Math.max(now + ms, Math.min(planned, now + 15 * 60_000)), requests: here.map((s) => ({ requestId: s.requestId, kind: s.kind })) };
    for (const s of here) {
      if (s.kind === 'pickup') {
        this.occupancy.seats += s.seats;
        this.occupancy.wheelchairs += s.wheelchairs;
      } else {
        this.occupancy.seats = Math.max(0, this.occupancy.seats - s.seats);
        this.occupancy.wheelchairs = Math.max(0, this.occupancy.wheelchairs - s.wheelchairs);
      }
    }
  }

  private finishDwell(): void {
    const d = this.dwell!;
    this.dwell = null;
    this.doors = 'closed';
    const now = this.o.clock.now();
    for (const r of d.requests) this.socket?.emit('vehicle:stop', { requestId: r.requestId, kind: r.kind, event: 'done', at: now }, () => {});
    // the server answers with a shorter plan; until then continue on the current route
    this.model.departStop();
    if (this.plan) {
      this.plan = { ...this.plan, stops: this.plan.stops.filter((s) => !d.requests.some((r) => r.requestId === s.requestId && r.kind === s.kind)) };
    }
  }

  private sendState(now: number): void {
    const m = this.model;
    this.socket?.volatile.emit('vehicle:state', {
      seq: ++this.seq,
      sentAt: now,
      lat: m.lat,
      lon: m.lon,
      heading: Math.min(360, Math.max(0, m.heading)),
      speed: Math.min(60, m.speed),
      soc: m.soc,
      doors: this.doors,
      occupancy: { ...this.occupancy },
      mode: this.mode,
      permittedSpeed: Math.min(60, Number.isFinite(m.speedCap) ? m.speedCap : m.params.maxSpeed),
      atStop: this.dwell ? (this.dwell.requests[0]?.requestId ?? null) : null,
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.socket?.disconnect();
    this.socket = null;
  }
}
