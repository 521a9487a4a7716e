import { io as connect, type Socket } from 'socket.io-client';
import type { Clock } from '../core/clock.ts';
import type { Rng } from '../core/rng.ts';
import type { Ack, TeleopPing, VehicleClientToServer, VehicleServerToClient } from '../protocol/events.ts';
import { pingSchema, vehicleCommandSchema, vehicleDirectiveSchema } from '../teleop/protocol.ts';
import type { Result, VehicleCommand } from '../teleop/types.ts';
import type { VehicleStateMsg } from '../protocol/schemas.ts';
import { VehicleSafety, type SafetyConfig, type SafetyOutput } from '../teleop/vehicleSafety.ts';
import { BusController } from './bus-controller.ts';

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
  /** the bus's own safety layer (dead-man 500 ms, command age 500 ms) */
  safety?: Partial<SafetyConfig>;
  /** measurement hooks (server/load): every state message as it is sent, every forwarded command on arrival */
  onSent?: (msg: VehicleStateMsg) => void;
  onCommand?: (c: VehicleCommand) => void;
}

/**
 * A simulated bus speaking the real /vehicle protocol over socket.io: a BusController (drive, dwell, board)
 * stepped in real time, streaming `vehicle:state` and reporting `vehicle:stop` progress. The same agent runs
 * inside `npm start` and as a separate process (`npm run fleet`).
 *
 * Teleoperation on board: a `VehicleSafety` (teleop/vehicleSafety.ts) gets the server's relayed lease
 * heartbeats and directives (`teleop:directive`) and judges every forwarded command (`teleop:command`, its
 * verdict is the ack). Its output drives the model's brake: held → comfortable stop, MRM → 2.5 m/s²,
 * emergency stop → 5 m/s²; its speed limit caps the drive. The dead-man is armed on a timer of its own at the
 * lease's deadline, so without a valid lease heartbeat for 500 ms the bus starts its MRM — also when the
 * server is gone. The agent echoes the server's `teleop:ping` for the link RTT.
 */
export class VehicleAgent {
  readonly bus: BusController;
  readonly safety: VehicleSafety;
  /** fault injection: extra delay (ms) before the pong of an RTT probe leaves (the link looks this much slower) */
  linkDelayMs = 0;
  private socket: Socket<VehicleServerToClient, VehicleClientToServer> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private deadMan: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private seq = 0;
  private last = 0;

  constructor(private readonly o: AgentOptions) {
    this.bus = new BusController(o.start, o.soc, { batteryKWh: o.batteryKWh ?? 80 });
    this.safety = new VehicleSafety(o.vehicleId, o.safety);
    this.apply(this.safety.tick(o.clock.now(), 0));
  }

  get vehicleId(): string {
    return this.o.vehicleId;
  }
  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  start(): Promise<void> {
    const socket: Socket<VehicleServerToClient, VehicleClientToServer> = connect(`${this.o.serverUrl}/vehicle`, {
      auth: { vehicleId: this.o.vehicleId, key: this.o.key },
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
    });
    this.socket = socket;
    // only what reaches the transport counts as sent (a volatile state is discarded while the link is busy)
    const onSent = this.o.onSent;
    if (onSent) socket.onAnyOutgoing((event, msg) => event === 'vehicle:state' && onSent(msg as VehicleStateMsg));
    socket.on('plan:update', (p) => this.bus.setPlan(p));
    socket.on('teleop:directive', (d: unknown) => {
      const p = vehicleDirectiveSchema.safeParse(d);
      if (!p.success) return;
      const now = this.o.clock.now();
      this.safety.onDirective(p.data, now, this.bus.model.speed);
      this.safetyTick(now);
    });
    socket.on('teleop:command', (c: unknown, ack: unknown) => {
      const reply = typeof ack === 'function' ? (ack as (r: Ack<{ accepted: true }>) => void) : () => {};
      const p = vehicleCommandSchema.safeParse(c);
      if (!p.success) return reply({ error: { code: 'INVALID', message: 'malformed command' } });
      this.o.onCommand?.(p.data);
      const now = this.o.clock.now();
      const res: Result<{ accepted: true }> = this.safety.onCommand(p.data, now, this.bus.model.speed);
      this.safetyTick(now);
      reply(res);
    });
    socket.on('teleop:ping', (ping: unknown) => {
      const p = pingSchema.safeParse(ping);
      if (!p.success) return;
      const echo: TeleopPing = p.data;
      if (this.linkDelayMs > 0) setTimeout(() => this.socket?.emit('teleop:pong', echo), this.linkDelayMs);
      else socket.emit('teleop:pong', echo);
    });
    this.last = this.o.clock.now();
    this.timer = setInterval(() => this.tick(), 1000 / (this.o.hz ?? 10));
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (e) => reject(e));
    });
  }

  /** A passenger pressed the call button; resolves with the server's answer (who must respond). */
  passengerCall(): Promise<Ack<{ owner: string }>> {
    const s = this.socket;
    if (!s?.connected) return Promise.resolve({ error: { code: 'OFFLINE', message: 'no connection to the server' } });
    return new Promise((resolve) => s.emit('vehicle:passenger_call', { at: this.o.clock.now() }, resolve));
  }

  /** Fault injection: cut the link for `ms` (the socket disconnects; the bus drives on under its own safety). */
  dropLink(ms: number): void {
    const s = this.socket;
    if (!s) return;
    s.disconnect();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.socket === s) s.connect();
    }, ms);
  }

  /** Safety decision now (also re-arms the dead-man timer at the lease's deadline). */
  private safetyTick(now: number): void {
    this.apply(this.safety.tick(now, this.bus.model.speed));
    if (this.deadMan) clearTimeout(this.deadMan);
    this.deadMan = null;
    const d = this.safety.nextDeadline();
    if (d !== null && this.timer) this.deadMan = setTimeout(() => this.safetyTick(this.o.clock.now()), Math.max(0, d - now));
  }

  private apply(out: SafetyOutput): void {
    const m = this.bus.model;
    m.braking = out.brake === 'none' ? 'none' : out.brake === 'hold' ? 'stop' : out.brake;
    m.speedCap = out.brake === 'none' ? out.maxSpeed : this.safety.speedLimit;
    this.bus.mode = out.mode;
  }

  private tick(): void {
    const now = this.o.clock.now();
    const dt = Math.min(1, (now - this.last) / 1000);
    this.last = now;
    this.safetyTick(now);
    for (const sig of this.bus.step(now, dt)) {
      if (sig.event !== 'boarding') this.socket?.emit('vehicle:stop', { requestId: sig.requestId, kind: sig.kind, event: sig.event, at: sig.at }, () => {});
    }
    // standstill reached within this step: on board, the MRM ends in safe_stop at once
    if (this.bus.model.speed === 0 && this.safety.mode === 'mrm') this.safetyTick(now);
    const msg = this.bus.stateMessage(now, ++this.seq);
    if (this.safety.doorState === 'open') msg.doors = 'open';
    msg.teleopStamp = this.safety.stamp;
    this.socket?.volatile.emit('vehicle:state', msg);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.deadMan) clearTimeout(this.deadMan);
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.timer = null;
    this.deadMan = null;
    this.reconnectTimer = null;
    this.socket?.disconnect();
    this.socket = null;
  }
}
