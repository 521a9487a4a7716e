import { io as connect, type Socket } from 'socket.io-client';
import type { Ack, FleetState, LeitstandAlert, LeitstandClientToServer, LeitstandServerToClient, TeleopPing, TeleopStateView } from '../src/protocol/events.ts';
import type { VehicleCommand } from '../src/teleop/types.ts';
import { whenConnected } from './net.ts';
import { Latency, Tally } from './stats.ts';

type ConsoleSocket = Socket<LeitstandServerToClient, LeitstandClientToServer>;

/**
 * Fan-out bookkeeping: every vehicle state sent while recording is expected at every console (the server merges
 * the states of one 100 ms tick per bus, so a state superseded within its tick reaches no console: "merged").
 * Latency = console receive − vehicle send, both on this process's monotonic clock.
 * A state some console got and another did not within `sweep`'s horizon counts as dropped for the latter.
 */
export class FanoutTracker {
  recording = false;
  readonly latency = new Latency();
  /** the current reporting window (soak minutes) */
  readonly window = new Latency();
  sent = 0;
  /** states that reached at least one console */
  fannedOut = 0;
  /** states that reached no console: superseded within their fan-out tick (or lost before the server) */
  merged = 0;
  delivered = 0;
  dropped = 0;
  /** deliveries of states sent before recording started, or after their sweep (later than its horizon) */
  unmatched = 0;
  private readonly pending = new Map<string, Map<number, { t: number; n: number }>>();

  constructor(readonly consoles: number) {}

  onSent(vehicleId: string, sentAt: number): void {
    if (!this.recording) return;
    this.sent++;
    let m = this.pending.get(vehicleId);
    if (!m) this.pending.set(vehicleId, (m = new Map()));
    if (m.has(sentAt)) this.merged++; // two states in one ms: the first cannot be told apart, count it superseded
    m.set(sentAt, { t: performance.now(), n: 0 });
  }

  onReceived(vehicleId: string, sentAt: number, t: number): void {
    const m = this.pending.get(vehicleId);
    const e = m?.get(sentAt);
    if (!e) {
      if (this.recording) this.unmatched++;
      return;
    }
    const ms = t - e.t;
    this.latency.record(ms);
    this.window.record(ms);
    this.delivered++;
    if (++e.n >= this.consoles) {
      this.fannedOut++;
      m!.delete(sentAt);
    }
  }

  /** Settle the states sent more than `horizonMs` ago (all with 0). */
  sweep(horizonMs: number): void {
    const cutoff = performance.now() - horizonMs;
    for (const m of this.pending.values()) {
      for (const [sentAt, e] of m) {
        if (e.t > cutoff) break; // insertion order = send order
        if (e.n === 0) this.merged++;
        else {
          this.fannedOut++;
          this.dropped += this.consoles - e.n;
        }
        m.delete(sentAt);
      }
    }
  }
}

/**
 * Teleoperation command path: console emit → bus receives (one way) → bus's verdict back at the console (round
 * trip). Only commands that reached the bus have a round trip; the server's refusals are counted by code.
 */
export class TeleopTracker {
  recording = false;
  readonly roundTrip = new Latency();
  readonly oneWay = new Latency();
  readonly window = new Latency();
  readonly outcomes = new Tally();
  /** heartbeat acks that were errors, by code */
  readonly heartbeatErrors = new Tally();
  private readonly inflight = new Map<string, { t0: number; reachedAt: number | null }>();

  issued(vehicleId: string, seq: number): void {
    if (!this.recording) return;
    this.inflight.set(`${vehicleId}#${seq}`, { t0: performance.now(), reachedAt: null });
  }
  /** from the vehicle agent: a forwarded command arrived on board (simulated drivers' own commands are not ours) */
  onVehicle(c: VehicleCommand): void {
    const e = this.inflight.get(`${c.vehicleId}#${c.seq}`);
    if (!e || e.reachedAt !== null || c.by.startsWith('sim:')) return;
    e.reachedAt = performance.now();
    this.oneWay.record(e.reachedAt - e.t0);
  }
  answered(vehicleId: string, seq: number, res: Ack<unknown>): void {
    const key = `${vehicleId}#${seq}`;
    const e = this.inflight.get(key);
    if (!e) return;
    this.inflight.delete(key);
    const t = performance.now();
    if ('data' in res) this.outcomes.inc('accepted');
    else if (res.error.code === 'TIMEOUT') this.outcomes.inc('timeout');
    else this.outcomes.inc(`${e.reachedAt === null ? 'refused by server' : 'refused by bus'}: ${res.error.code}`);
    if (e.reachedAt !== null) {
      this.roundTrip.record(t - e.t0);
      this.window.record(t - e.t0);
    }
  }
  /** commands without any answer at the end */
  get unanswered(): number {
    return this.inflight.size;
  }
}

/**
 * One Leitstand console over the real /leitstand protocol: answers RTT probes like the UI does and feeds the
 * fleet states it receives into the fan-out tracker.
 */
export class LoadConsole {
  socket: ConsoleSocket | null = null;
  readonly received = new Tally();

  constructor(
    readonly username: string,
    readonly role: 'driver' | 'dispatcher',
    private readonly fanout: FanoutTracker,
    private readonly alerts: Map<string, LeitstandAlert> | null,
  ) {}

  async connect(url: string, token: string): Promise<void> {
    const s: ConsoleSocket = connect(`${url}/leitstand`, { auth: { token }, transports: ['websocket'], forceNew: true, reconnectionDelay: 500 });
    this.socket = s;
    s.onAny((event: string) => this.received.inc(event));
    s.on('teleop:ping', (p: TeleopPing) => s.emit('teleop:pong', p));
    s.on('fleet:state', (st: FleetState) => {
      const t = performance.now();
      for (const v of st.vehicles) if (v.sentAt !== undefined) this.fanout.onReceived(v.id, v.sentAt, t);
    });
    const alerts = this.alerts;
    if (alerts) s.on('alert', (a) => alerts.set(a.id, a));
    await whenConnected(s, `console ${this.username}`);
  }

  close(): void {
    this.socket?.disconnect();
    this.socket = null;
  }
}

const COMMAND_CYCLE: { type: 'resume' | 'speed_cap' | 'stop'; value?: number }[] = [{ type: 'resume' }, { type: 'speed_cap', value: 8.3 }, { type: 'speed_cap', value: 13.9 }, { type: 'stop' }];

/**
 * A driver at a console: takes one bus over from its simulated driver, keeps the lease alive with heartbeats at
 * 10 Hz, and sends a command every `intervalMs` (resume, speed cap 30 km/h, 50 km/h, stop, …). When the bus ends
 * up in a safe stop or loses its holder (lease lapsed under load), the driver takes it again and confirms.
 */
export class LoadDriver {
  private seq = 0;
  private lastBeat = 0;
  private hbTimer: NodeJS.Timeout | null = null;
  private cmdTimer: NodeJS.Timeout | null = null;
  private holding = false;
  private recovering = false;
  private step = 0;
  /** times the driver had to take the bus again or confirm a stop */
  recoveries = 0;

  constructor(
    private readonly console: LoadConsole,
    readonly vehicleId: string,
    private readonly tracker: TeleopTracker,
    private readonly intervalMs: number,
  ) {}

  private get s(): ConsoleSocket {
    return this.console.socket!;
  }

  async start(): Promise<void> {
    this.s.on('teleop:state', (v: TeleopStateView) => {
      if (v.vehicleId !== this.vehicleId || !this.cmdTimer) return;
      const mine = v.holder === this.console.username;
      this.holding = mine && v.mode === 'remote';
      if (!mine || v.mode === 'safe_stop' || v.mode === 'emergency_stop') void this.recover(v);
    });
    this.hbTimer = setInterval(() => this.heartbeat(), 100);
    await this.acquire();
    this.cmdTimer = setInterval(() => this.command(), this.intervalMs);
  }

  private emit(event: 'teleop:acquire' | 'teleop:confirm_stop', payload: { vehicleId: string }): Promise<Ack<unknown>> {
    const s = this.console.socket;
    if (!s?.connected) return Promise.resolve({ error: { code: 'OFFLINE', message: 'console not connected' } });
    return new Promise((res) => s.timeout(5000).emit(event, payload, (err: Error | null, r: Ack<unknown>) => res(err ? { error: { code: 'TIMEOUT', message: err.message } } : r)));
  }

  /** Right after connecting the console may have no RTT sample yet (LATENCY_UNKNOWN), the bus no link: retry. */
  private async acquire(): Promise<void> {
    for (let i = 0; ; i++) {
      const r = await this.emit('teleop:acquire', { vehicleId: this.vehicleId });
      if ('data' in r) break;
      if (i >= 40) throw new Error(`${this.console.username} could not take ${this.vehicleId}: ${r.error.code} ${r.error.message}`);
      await new Promise((res) => setTimeout(res, 250));
    }
    this.holding = true;
  }

  private async recover(v: TeleopStateView): Promise<void> {
    if (this.recovering || !this.hbTimer) return;
    this.recovering = true;
    this.recoveries++;
    try {
      if (v.holder !== this.console.username) await this.emit('teleop:acquire', { vehicleId: this.vehicleId });
      if (v.mode === 'safe_stop' || v.mode === 'emergency_stop') await this.emit('teleop:confirm_stop', { vehicleId: this.vehicleId });
      this.step = 0; // the bus comes back held: resume first
    } finally {
      this.recovering = false;
    }
  }

  private heartbeat(): void {
    const sentAt = Math.max(this.lastBeat + 1, Date.now());
    this.lastBeat = sentAt;
    this.s.emit('teleop:heartbeat', { vehicleId: this.vehicleId, sentAt }, (r) => {
      if ('error' in r && this.tracker.recording) this.tracker.heartbeatErrors.inc(r.error.code);
    });
  }

  private command(): void {
    if (!this.holding || this.recovering) return;
    const c = COMMAND_CYCLE[this.step++ % COMMAND_CYCLE.length];
    const seq = ++this.seq;
    this.tracker.issued(this.vehicleId, seq);
    this.s.emit('teleop:command', { vehicleId: this.vehicleId, seq, type: c.type, ...(c.value !== undefined ? { value: c.value } : {}), issuedAt: Date.now() }, (r) => this.tracker.answered(this.vehicleId, seq, r));
  }

  stop(): void {
    if (this.hbTimer) clearInterval(this.hbTimer);
    if (this.cmdTimer) clearInterval(this.cmdTimer);
    this.hbTimer = null;
    this.cmdTimer = null;
  }
}
