import { io as connect, type Socket } from 'socket.io-client';
import type { Clock } from '../core/clock.ts';
import type { Rng } from '../core/rng.ts';
import type { VehicleClientToServer, VehicleServerToClient } from '../protocol/events.ts';
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
}

/**
 * A simulated bus speaking the real /vehicle protocol over socket.io: a BusController (drive, dwell, board)
 * stepped in real time, streaming `vehicle:state` and reporting `vehicle:stop` progress. The same agent runs
 * inside `npm start` and as a separate process (`npm run fleet`).
 */
export class VehicleAgent {
  readonly bus: BusController;
  private socket: Socket<VehicleServerToClient, VehicleClientToServer> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private last = 0;

  constructor(private readonly o: AgentOptions) {
    this.bus = new BusController(o.start, o.soc, { batteryKWh: o.batteryKWh ?? 80 });
  }

  get vehicleId(): string {
    return this.o.vehicleId;
  }

  start(): Promise<void> {
    const socket: Socket<VehicleServerToClient, VehicleClientToServer> = connect(`${this.o.serverUrl}/vehicle`, {
      auth: { vehicleId: this.o.vehicleId, key: this.o.key },
      transports: ['websocket'],
      reconnectionDelay: 500,
      reconnectionDelayMax: 3000,
    });
    this.socket = socket;
    socket.on('plan:update', (p) => this.bus.setPlan(p));
    this.last = this.o.clock.now();
    this.timer = setInterval(() => this.tick(), 1000 / (this.o.hz ?? 10));
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (e) => reject(e));
    });
  }

  private tick(): void {
    const now = this.o.clock.now();
    const dt = Math.min(1, (now - this.last) / 1000);
    this.last = now;
    for (const sig of this.bus.step(now, dt)) {
      if (sig.event !== 'boarding') this.socket?.emit('vehicle:stop', { requestId: sig.requestId, kind: sig.kind, event: sig.event, at: sig.at }, () => {});
    }
    this.socket?.volatile.emit('vehicle:state', this.bus.stateMessage(now, ++this.seq));
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.socket?.disconnect();
    this.socket = null;
  }
}
