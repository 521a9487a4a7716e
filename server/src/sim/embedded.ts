import type { SafetyConfig } from '../teleop/vehicleSafety.ts';
import type { App } from '../app.ts';
import type { Clock } from '../core/clock.ts';
import { Rng } from '../core/rng.ts';
import type { VehicleDef } from '../fleet/registry.ts';
import { SnapError } from '@kl/routing';
import { ApiError } from '../http/errors.ts';
import { VehicleAgent } from './agent.ts';
import { DEFAULT_DEMAND, DemandGenerator } from './demand.ts';

/**
 * The simulated fleet inside the server process (`npm start`): one VehicleAgent per bus connected over the real
 * /vehicle protocol to the server's own port, plus seeded demand booked and confirmed as pseudonymous sim riders.
 * The buses are driven by the server's simulated drivers (`sim:<id>`, teleop/service.ts) until a human takes one
 * over in the Leitstand; each bus runs its own on-board safety layer (dead-man, command checks).
 */
export class EmbeddedSimulation {
  private agents: VehicleAgent[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly app: App,
    private readonly url: string,
    private readonly clock: Clock,
    private readonly opts: { vehicles: number; demandPerHour: number; seed: number; keyOf: (v: VehicleDef) => string; safety?: Partial<SafetyConfig> },
  ) {}

  /** The simulated buses (fault injection in tests: `agent('bus-1').dropLink(2000)`, `.passengerCall()`). */
  get vehicles(): readonly VehicleAgent[] {
    return this.agents;
  }
  agent(vehicleId: string): VehicleAgent {
    const a = this.agents.find((x) => x.vehicleId === vehicleId);
    if (!a) throw new Error(`no simulated bus ${vehicleId}`);
    return a;
  }

  async start(): Promise<void> {
    const rng = new Rng(this.opts.seed);
    const defs = this.app.fleet.defs().slice(0, this.opts.vehicles);
    this.agents = defs.map(
      (v) => new VehicleAgent({ serverUrl: this.url, vehicleId: v.id, key: this.opts.keyOf(v), start: v.start, soc: v.soc, batteryKWh: v.batteryKWh, clock: this.clock, rng: rng.fork(), ...(this.opts.safety ? { safety: this.opts.safety } : {}) }),
    );
    await Promise.all(this.agents.map((a) => a.start()));
    if (this.opts.demandPerHour <= 0) return;
    const demand = new DemandGenerator(rng.fork(), this.app.hubs, { ...DEFAULT_DEMAND, perHour: this.opts.demandPerHour }, this.clock.now());
    let n = 0;
    this.timer = setInterval(() => {
      for (const req of demand.due(this.clock.now())) {
        const who = { sub: `sim-rider-${++n}`, role: 'rider' as const, exp: Number.MAX_SAFE_INTEGER };
        this.app.bookings
          .create({ pickup: req.pickup, dropoff: req.dropoff, passengers: req.passengers, wheelchairs: req.wheelchairs }, who)
          .then(({ status, record }) => (status === 201 ? this.app.bookings.confirm(record.id, who) : null))
          .catch((e) => {
            if (!(e instanceof ApiError) && !(e instanceof SnapError)) this.app.log.warn({ err: e }, 'simulated booking failed');
          });
      }
    }, 1000);
  }

  /** Fault injection for tests and demos: cut one bus's link for `ms`. */
  dropLink(vehicleId: string, ms: number): boolean {
    const a = this.agents.find((x) => x.vehicleId === vehicleId);
    a?.dropLink(ms);
    return !!a;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    for (const a of this.agents) a.stop();
  }
}
