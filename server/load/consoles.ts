import { io as connect, type Socket } from 'socket.io-client';
import type { Ack, FleetState, LeitstandAlert, LeitstandClientToServer, LeitstandServerToClient, TeleopPing, TeleopStateView } from '../src/protocol/events.ts';
import { whenConnected } from './net.ts';
import { Latency, Tally } from './stats.ts';

type ConsoleSocket = Socket<LeitstandServerToClient, LeitstandClientToServer>;

/**
 * Fan-out bookkeeping. Every vehicle state sent within the recording window is expected at every console (the
 * server merges what arrives within its fan-out gap per bus, so a superseded state reaches no console: "merged").
 * Latency = console receive − the bus's `sentAt`, both epoch ms of this machine's clock (the buses run in a process
 * of their own). A state some console got and another did not within the sweep's horizon is dropped for the latter.
 * Send records come from the vehicle process in batches, possibly after the deliveries: both wait for the sweep.
 */
export class FanoutTracker implements FanoutSink {
  /** states with `sentAt` in [from, to) count (epoch ms; set when recording starts and stops) */
  from = Infinity;
  to = Infinity;
  readonly latency = new Latency();
  /** the current reporting window (soak minutes) */
  readonly window = new Latency();
  /** where the time goes (all on this machine's clock): bus send → server receive, held on the server until the
   *  fan-out that carried it, fan-out → console handler */
  readonly parts = { toServer: new Latency(), held: new Latency(), toConsole: new Latency() };
  sent = 0;
  /** states that reached at least one console */
  fannedOut = 0;
  /** states that reached no console: superseded within the server's fan-out gap (or lost before the server) */
  merged = 0;
  /** deliveries of settled states (at most one per console) */
  delivered = 0;
  dropped = 0;
  /** deliveries of a state without a send record (two states of one bus in the same ms) */
  unmatched = 0;
  private readonly sends = new Map<string, number[]>();
  private readonly seen = new Map<string, Map<number, number>>();

  constructor(readonly consoles: number) {}

  private counts(sentAt: number): boolean {
    return sentAt >= this.from && sentAt < this.to;
  }

  onSent(vehicleId: string, sentAt: number): void {
    if (!this.counts(sentAt)) return;
    this.sent++;
    let l = this.sends.get(vehicleId);
    if (!l) this.sends.set(vehicleId, (l = []));
    l.push(sentAt);
  }

  onReceived(vehicleId: string, sentAt: number, now: number, receivedAt?: number, fannedOutAt?: number): void {
    if (!this.counts(sentAt)) return;
    const ms = now - sentAt;
    this.latency.record(ms);
    this.window.record(ms);
    if (receivedAt !== undefined && fannedOutAt !== undefined) {
      this.parts.toServer.record(receivedAt - sentAt);
      this.parts.held.record(fannedOutAt - receivedAt);
      this.parts.toConsole.record(now - fannedOutAt);
    }
    let m = this.seen.get(vehicleId);
    if (!m) this.seen.set(vehicleId, (m = new Map()));
    m.set(sentAt, (m.get(sentAt) ?? 0) + 1);
  }

  /** Settle the states sent more than `horizonMs` ago (all with 0). */
  sweep(horizonMs: number, now = Date.now()): void {
    const cutoff = now - horizonMs;
    for (const [id, l] of this.sends) {
      const m = this.seen.get(id);
      let i = 0;
      for (; i < l.length && l[i] <= cutoff; i++) {
        const n = m?.get(l[i]) ?? 0;
        m?.delete(l[i]);
        if (n === 0) this.merged++;
        else {
          this.fannedOut++;
          this.delivered += Math.min(n, this.consoles); // a console that reconnected may get a state twice
          this.dropped += Math.max(0, this.consoles - n);
        }
      }
      if (i) l.splice(0, i);
    }
    for (const m of this.seen.values()) {
      for (const [sentAt, n] of m) {
        if (sentAt > cutoff) continue;
        this.unmatched += n;
        m.delete(sentAt);
      }
    }
  }
}

/** Where a console's fleet states go (the tracker, or a drivers' process's batch for its parent). */
export interface FanoutSink {
  onReceived(vehicleId: string, sentAt: number, now: number, receivedAt?: number, fannedOutAt?: number): void;
}

/** Where a driver's commands and heartbeat errors go (the drivers' process's batch for its parent). */
export interface CommandSink {
  issued(vehicleId: string, seq: number): void;
  answered(vehicleId: string, seq: number, res: Ack<unknown>): void;
  heartbeatError(code: string): void;
}

/**
 * Teleoperation command path: console emit → bus receives (one way, reported by the vehicle process) → the bus's
 * verdict back at the console (round trip). Arrivals on board and verdicts come from different processes in
 * batches, in either order: a command is settled a second after its verdict, joined with its arrival then.
 */
export class TeleopTracker {
  readonly roundTrip = new Latency();
  readonly oneWay = new Latency();
  readonly window = new Latency();
  readonly outcomes = new Tally();
  /** heartbeat acks that were errors, by code */
  readonly heartbeatErrors = new Tally();
  private readonly inflight = new Map<string, { t0: number; wall: number; answered: { t: number; res: Ack<unknown> } | null }>();
  /** arrivals on board (epoch ms) by command, until their command settles */
  private readonly arrivals = new Map<string, number>();

  /** A command that left a console at `wall` (epoch ms), `t0` on this process's performance clock. */
  track(vehicleId: string, seq: number, wall: number, t0: number): void {
    this.inflight.set(`${vehicleId}#${seq}`, { t0, wall, answered: null });
  }
  /** from the vehicle process: a forwarded command arrived on board at `at` (epoch ms); simulated drivers' are not ours */
  onVehicle(c: { vehicleId: string; seq: number; by: string; at: number }): void {
    const key = `${c.vehicleId}#${c.seq}`;
    if (c.by.startsWith('sim:') || this.arrivals.has(key)) return;
    this.arrivals.set(key, c.at);
  }
  answered(vehicleId: string, seq: number, res: Ack<unknown>, t = performance.now()): void {
    const e = this.inflight.get(`${vehicleId}#${seq}`);
    if (e && !e.answered) e.answered = { t, res };
  }
  /** Settles the commands answered more than `graceMs` ago. */
  settle(graceMs = 1000): void {
    const now = performance.now();
    for (const [key, e] of this.inflight) {
      if (!e.answered || now - e.answered.t < graceMs) continue;
      this.inflight.delete(key);
      const at = this.arrivals.get(key);
      this.arrivals.delete(key);
      const res = e.answered.res;
      if ('data' in res) this.outcomes.inc('accepted');
      else if (res.error.code === 'TIMEOUT') this.outcomes.inc('timeout');
      else this.outcomes.inc(`${at !== undefined ? 'refused by bus' : 'refused by server'}: ${res.error.code}`);
      if (at !== undefined) {
        this.oneWay.record(at - e.wall);
        this.roundTrip.record(e.answered.t - e.t0);
        this.window.record(e.answered.t - e.t0);
      }
    }
    // arrivals of commands sent before the recording (or never answered) are not waited for
    const stale = Date.now() - 60_000;
    for (const [key, at] of this.arrivals) if (at < stale) this.arrivals.delete(key);
  }
  /** commands without any answer at the end */
  get unanswered(): number {
    return [...this.inflight.values()].filter((e) => !e.answered).length;
  }
}

/**
 * One Leitstand console over the real /leitstand protocol: answers RTT probes like the UI does and feeds the
 * fleet states it receives into the fan-out tracker.
 */
export class LoadConsole {
  socket: ConsoleSocket | null = null;
  readonly received = new Tally();
  /** JSON bytes received by event (only for the console asked to measure them: re-serialising costs) */
  readonly bytes = new Tally();

  constructor(
    readonly username: string,
    readonly role: 'driver' | 'dispatcher',
    private readonly fanout: FanoutSink,
    private readonly alerts: Map<string, LeitstandAlert> | null,
  ) {}

  async connect(url: string, token: string): Promise<void> {
    const s: ConsoleSocket = connect(`${url}/leitstand`, { auth: { token }, transports: ['websocket'], forceNew: true, reconnectionDelay: 500 });
    this.socket = s;
    s.onAny((event: string, ...args: unknown[]) => {
      this.received.inc(event);
      if (this.alerts) this.bytes.inc(event, JSON.stringify(args).length);
    });
    s.on('teleop:ping', (p: TeleopPing) => s.emit('teleop:pong', p));
    s.on('fleet:state', (st: FleetState) => {
      const now = Date.now();
      for (const v of st.vehicles) if (v.sentAt !== undefined) this.fanout.onReceived(v.id, v.sentAt, now, v.receivedAt, st.t);
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
  /** holds its bus and looks after it (between the first acquire and stop) */
  private live = false;
  private holding = false;
  private recovering = false;
  private step = 0;
  /** times the driver had to take the bus again or confirm a stop */
  recoveries = 0;

  constructor(
    private readonly console: LoadConsole,
    readonly vehicleId: string,
    private readonly tracker: CommandSink,
    private readonly intervalMs: number,
    /** when within the interval this driver's commands go out: drivers at different desks are not in step */
    private readonly phaseMs = 0,
  ) {}

  private get s(): ConsoleSocket {
    return this.console.socket!;
  }

  async start(): Promise<void> {
    this.s.on('teleop:state', (v: TeleopStateView) => {
      if (v.vehicleId !== this.vehicleId || !this.live) return;
      const mine = v.holder === this.console.username;
      this.holding = mine && v.mode === 'remote';
      if (!mine || v.mode === 'safe_stop' || v.mode === 'emergency_stop') void this.recover(v);
    });
    this.hbTimer = setInterval(() => this.heartbeat(), 100);
    await this.acquire();
    this.live = true;
    await new Promise((res) => setTimeout(res, this.phaseMs));
    if (!this.hbTimer) return; // stopped meanwhile
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
      if ('error' in r) this.tracker.heartbeatError(r.error.code);
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
    this.live = false;
    if (this.cmdTimer) clearInterval(this.cmdTimer);
    this.hbTimer = null;
    this.cmdTimer = null;
  }
}
