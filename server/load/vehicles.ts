import { systemClock } from '../src/core/clock.ts';
import { Rng } from '../src/core/rng.ts';
import { VehicleAgent } from '../src/sim/agent.ts';
import type { FanoutTracker, TeleopTracker } from './consoles.ts';
import { vehicleKey, type LoadVehicle } from './fixtures.ts';

/**
 * The load's buses: the real vehicle agent (sim/agent.ts: /vehicle protocol at `hz`, plans driven on the road
 * graph, on-board teleoperation safety answering commands), one per bus, with the fan-out and command trackers
 * hooked to what each one sends and receives.
 */
export class LoadFleet {
  readonly agents: VehicleAgent[];

  constructor(url: string, vehicles: LoadVehicle[], o: { hz: number; seed: number; fanout: FanoutTracker; teleop: TeleopTracker }) {
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
          onSent: (m) => o.fanout.onSent(v.id, m.sentAt),
          onCommand: (c) => o.teleop.onVehicle(c),
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
