import type { Namespace, Socket } from 'socket.io';
import { z } from 'zod';
import type { Clock } from '../core/clock.ts';
import { payloadAndAck } from '../protocol/edge.ts';
import { sampleAt, type LoadedRun, type RunInfo, type RunStore } from './run-store.ts';

/**
 * Replay of recorded runs on the Leitstand namespace. Each console gets its own session: frames go to that
 * socket only, under `replay:*` event names, so replayed state never mixes with live state.
 */
export interface ReplayVehicle {
  id: string;
  lat: number;
  lon: number;
  heading: number;
  speed: number;
  soc: number;
  onboard: number;
  latencyMs: number;
  mode: string;
  doors: string;
}
export interface ReplayFrame {
  runId: string;
  t: number;
  playing: boolean;
  speed: number;
  vehicles: ReplayVehicle[];
  /** run events (requests, pickups, faults, teleop…) between the previous frame and this one */
  events: Record<string, unknown>[];
}
export interface ReplayOpened {
  info: RunInfo;
  vehicles: string[];
  kpis: unknown;
  t: number;
}
export interface ReplaySeries {
  vehicleId: string;
  t: number[];
  speedKmh: number[];
  latencyMs: number[];
  onboard: number[];
}

const FRAME_HZ = 10;
const MAX_EVENTS_PER_FRAME = 50;
const SERIES_POINTS = 1500;

// "." and ".." are directory names, not runs (they would lead out of DATA_DIR/runs)
const openSchema = z.strictObject({ runId: z.string().regex(/^(?!\.\.?$)[\w.-]{1,80}$/, 'not a run id') });
const playSchema = z.strictObject({ speed: z.number().min(1).max(60).optional() });
const seekSchema = z.strictObject({ t: z.number().finite() });
const speedSchema = z.strictObject({ speed: z.number().min(1).max(60) });
const seriesSchema = z.strictObject({ vehicleId: z.string().min(1).max(64) });
/** the payload schemas by event (replay:<name>), for tools that check the edge (server/src/fuzz) */
export const replaySchemas = { open: openSchema, play: playSchema, seek: seekSchema, speed: speedSchema, series: seriesSchema };

type Ack<T> = (r: { data: T } | { error: { code: string; message: string } }) => void;

export class ReplaySession {
  t = 0;
  playing = false;
  speed = 1;
  private lastEmitT = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastWall = 0;

  constructor(
    readonly run: LoadedRun,
    private readonly emit: (f: ReplayFrame) => void,
    private readonly clock: Clock,
  ) {
    this.t = run.info.start;
    this.lastEmitT = this.t;
  }

  frame(events: Record<string, unknown>[] = []): ReplayFrame {
    const vehicles: ReplayVehicle[] = [];
    for (const tr of this.run.tracks.values()) {
      const i = sampleAt(tr.t, this.t);
      if (i < 0) continue;
      vehicles.push({ id: tr.id, lat: tr.lat[i], lon: tr.lon[i], heading: tr.heading[i], speed: tr.speed[i], soc: tr.soc[i], onboard: tr.onboard[i], latencyMs: tr.latencyMs[i], mode: tr.mode[i], doors: tr.doors[i] });
    }
    return { runId: this.run.info.id, t: this.t, playing: this.playing, speed: this.speed, vehicles, events };
  }

  private eventsBetween(from: number, to: number): Record<string, unknown>[] {
    const ev = this.run.events;
    let lo = 0, hi = ev.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ev[mid].t as number) <= from) lo = mid + 1;
      else hi = mid;
    }
    const out: Record<string, unknown>[] = [];
    for (let i = lo; i < ev.length && (ev[i].t as number) <= to && out.length < MAX_EVENTS_PER_FRAME; i++) out.push(ev[i]);
    return out;
  }

  play(speed?: number): void {
    if (speed) this.speed = speed;
    if (this.playing) return;
    this.playing = true;
    this.lastWall = this.clock.now();
    this.timer = setInterval(() => this.advance(), 1000 / FRAME_HZ);
    this.emit(this.frame());
  }

  private advance(): void {
    const now = this.clock.now();
    const dt = (now - this.lastWall) * this.speed;
    this.lastWall = now;
    const from = this.t;
    this.t = Math.min(this.run.info.end, this.t + dt);
    const events = this.eventsBetween(from, this.t);
    if (this.t >= this.run.info.end) this.pause();
    this.lastEmitT = this.t;
    this.emit(this.frame(events));
  }

  pause(): void {
    this.playing = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  seek(t: number): void {
    this.t = Math.min(this.run.info.end, Math.max(this.run.info.start, t));
    this.lastEmitT = this.t;
    this.lastWall = this.clock.now();
    this.emit(this.frame());
  }

  setSpeed(speed: number): void {
    this.speed = speed;
    this.emit(this.frame());
  }

  series(vehicleId: string): ReplaySeries | null {
    const tr = this.run.tracks.get(vehicleId);
    if (!tr) return null;
    const step = Math.max(1, Math.ceil(tr.t.length / SERIES_POINTS));
    const out: ReplaySeries = { vehicleId, t: [], speedKmh: [], latencyMs: [], onboard: [] };
    for (let i = 0; i < tr.t.length; i += step) {
      out.t.push(tr.t[i]);
      out.speedKmh.push(Math.round(tr.speed[i] * 36) / 10);
      out.latencyMs.push(tr.latencyMs[i]);
      out.onboard.push(tr.onboard[i]);
    }
    return out;
  }

  close(): void {
    this.pause();
  }
}

export function attachReplay(leitstand: Namespace, runs: RunStore, clock: Clock, onBad: (where: string) => void = () => {}): void {
  leitstand.on('connection', (socket: Socket) => {
    let session: ReplaySession | null = null;
    // (payload, ack) or (ack) alone (protocol/edge.ts); an event without a payload refuses one
    const reply = <T>(a: unknown, b: unknown, fn: (payload: unknown) => Promise<T> | T, noPayload?: string) => {
      const { payload, ack } = payloadAndAck(a, b);
      const send: Ack<T> = ack ?? (() => {});
      Promise.resolve()
        .then(() => {
          if (noPayload && payload !== undefined) {
            onBad(noPayload);
            throw Object.assign(new Error(`${noPayload} takes no payload`), { code: 'VALIDATION' });
          }
          return fn(payload);
        })
        .then(
          (data) => send({ data }),
          (e: Error & { code?: string }) => send({ error: { code: e.code ?? 'REPLAY', message: e.message } }),
        );
    };
    const need = (): ReplaySession => {
      if (!session) throw Object.assign(new Error('no run is open: send replay:open first'), { code: 'NO_RUN' });
      return session;
    };
    const parse = <T>(schema: z.ZodType<T>, payload: unknown, where: string): T => {
      const r = schema.safeParse(payload);
      if (!r.success) {
        onBad(where);
        throw Object.assign(new Error(`invalid payload: ${r.error.issues[0]?.path.join('.') || '(root)'}: ${r.error.issues[0]?.message}`), { code: 'VALIDATION' });
      }
      return r.data;
    };
    socket.on('replay:list', (a: unknown, b: unknown) => reply(a, b, () => runs.list(), 'replay:list'));
    socket.on('replay:open', (a: unknown, b: unknown) =>
      reply(a, b, async (payload): Promise<ReplayOpened> => {
        const { runId } = parse(openSchema, payload, 'replay:open');
        const run = await runs.load(runId);
        if (!run) throw Object.assign(new Error(`no recorded run "${runId}"`), { code: 'NOT_FOUND' });
        session?.close();
        session = new ReplaySession(run, (f) => socket.emit('replay:frame', f), clock);
        socket.emit('replay:frame', session.frame());
        return { info: run.info, vehicles: [...run.tracks.keys()], kpis: run.kpis, t: session.t };
      }),
    );
    socket.on('replay:play', (a: unknown, b: unknown) =>
      reply(a, b, (payload) => {
        const { speed } = parse(playSchema, payload, 'replay:play');
        need().play(speed);
        return { playing: true };
      }),
    );
    socket.on('replay:pause', (a: unknown, b: unknown) =>
      reply(
        a,
        b,
        () => {
          need().pause();
          return { playing: false };
        },
        'replay:pause',
      ),
    );
    socket.on('replay:seek', (a: unknown, b: unknown) =>
      reply(a, b, (payload) => {
        const { t } = parse(seekSchema, payload, 'replay:seek');
        need().seek(t);
        return { t: need().t };
      }),
    );
    socket.on('replay:speed', (a: unknown, b: unknown) =>
      reply(a, b, (payload) => {
        const { speed } = parse(speedSchema, payload, 'replay:speed');
        need().setSpeed(speed);
        return { speed };
      }),
    );
    socket.on('replay:series', (a: unknown, b: unknown) =>
      reply(a, b, (payload) => {
        const { vehicleId } = parse(seriesSchema, payload, 'replay:series');
        const s = need().series(vehicleId);
        if (!s) throw Object.assign(new Error(`no vehicle ${vehicleId} in this run`), { code: 'NOT_FOUND' });
        return s;
      }),
    );
    socket.on('replay:close', (a: unknown, b: unknown) =>
      reply(
        a,
        b,
        () => {
          session?.close();
          session = null;
          return { closed: true };
        },
        'replay:close',
      ),
    );
    socket.on('disconnect', () => session?.close());
  });
}
