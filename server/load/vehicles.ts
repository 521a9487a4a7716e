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

  /** Connects in batches (each connect costs the server a scrypt key check). */
  async start(batch = 25): Promise<void> {
    for (let i = 0; i < this.agents.length; i += batch) {
      await Promise.all(this.agents.slice(i, i + batch).map((a) => a.start().catch((e: Error) => Promise.reject(new Error(`${a.vehicleId}: ${e.message}`)))));
    }
  }

  get connected(): number {
    return this.agents.filter((a) => a.connected).length;
  }

  stop(): void {
    for (const a of this.agents) a.stop();
  }
}
