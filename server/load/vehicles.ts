import { join } from 'node:path';
import { systemClock } from '../src/core/clock.ts';
import { Rng } from '../src/core/rng.ts';
import { VehicleAgent } from '../src/sim/agent.ts';
import type { VehicleCommand } from '../src/teleop/types.ts';
import { vehicleKey, type LoadVehicle } from './fixtures.ts';
import { forkLoadChild } from './child.ts';
import type { VehiclesProcessOptions, VehiclesProcessRecords } from './vehicles-process.ts';

/**
 * The load's buses: the real vehicle agent (sim/agent.ts: /vehicle protocol at `hz`, plans driven on the road
 * graph, on-board teleoperation safety answering commands), one per bus, reporting what each one sends and
 * receives. They run in a process of their own (vehicles-process.ts), so the consoles' work never delays them.
 */
export class LoadFleet {
  readonly agents: VehicleAgent[];

  constructor(url: string, vehicles: LoadVehicle[], o: { hz: number; seed: number; onSent: (vehicleId: string, sentAt: number) => void; onCommand: (c: VehicleCommand) => void }) {
    const rng = new Rng(o.seed);
    this.agents = vehicles.map(
      (v) =>
        new VehicleAgent({
          serverUrl: url,
          vehicleId: v.id,
          key: vehicleKey(v.id),
          start: v.start,
          soc: v.soc,
          batteryKWh: v.batteryKWh,
          clock: systemClock,
          rng: rng.fork(),
          hz: o.hz,
          onSent: (m) => o.onSent(v.id, m.sentAt),
          onCommand: o.onCommand,
        }),
    );
  }

  /**
   * Connects in small batches: each connect costs the server a scrypt key check on libuv's thread pool, which on
   * two cores competes with its event loop. A refused or timed-out first attempt is retried by socket.io-client
   * itself; the fleet is up when every bus is connected (or `timeoutMs` has passed: an error naming the missing).
   */
  async start(batch = 10, timeoutMs = 120_000): Promise<void> {
    const until = performance.now() + timeoutMs;
    for (let i = 0; i < this.agents.length; i += batch) {
      await Promise.all(this.agents.slice(i, i + batch).map((a) => a.start().catch(() => undefined)));
    }
    while (this.connected < this.agents.length) {
      if (performance.now() > until) {
        const missing = this.agents.filter((a) => !a.connected).map((a) => a.vehicleId);
        throw new Error(`${missing.length} buses not connected after ${timeoutMs / 1000} s: ${missing.slice(0, 5).join(', ')}…`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  get connected(): number {
    return this.agents.filter((a) => a.connected).length;
  }

  stop(): void {
    for (const a of this.agents) a.stop();
  }
}

/** The vehicle process seen from the load's main process (run.ts). */
export interface VehiclesProcess {
  pid: number;
  /** resolves when every bus is connected */
  ready: Promise<void>;
  /** buses connected, as last reported (once a second) */
  connected(): number;
  /** longest event-loop delay of the vehicle process in the last reported second, ms */
  lagMaxMs(): number | null;
  /** stops the buses; resolves after their last records arrived */
  stop(): Promise<void>;
}

export function startVehiclesProcess(
  o: VehiclesProcessOptions,
  on: { sent: (vehicleId: string, sentAt: number) => void; command: (c: { vehicleId: string; seq: number; by: string; at: number }) => void },
): VehiclesProcess {
  let connected = 0;
  let lag: number | null = null;
  const child = forkLoadChild<VehiclesProcessRecords>(join(import.meta.dirname, 'vehicles-process.ts'), o, 'vehicle process', (m) => {
    for (let i = 0; i < m.sent.length; i += 2) on.sent(o.vehicles[m.sent[i]].id, m.sent[i + 1]);
    for (const c of m.commands) on.command(c);
    if (m.connected !== undefined) connected = m.connected;
    if (m.lagMaxMs !== undefined) lag = m.lagMaxMs;
  });
  return { pid: child.pid, ready: child.ready, connected: () => connected, lagMaxMs: () => lag, stop: () => child.stop() };
}
