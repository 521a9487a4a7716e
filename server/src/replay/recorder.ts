import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../core/clock.ts';
import type { FleetRegistry } from '../fleet/registry.ts';

/**
 * Records the live service as a run the Leitstand can replay: vehicle states at 1 Hz plus every event the
 * server stores (dispatch, bookings, teleop), in the same NDJSON format as the simulation runner.
 */
export class LiveRecorder {
  private out: WriteStream | null = null;
  private timer: NodeJS.Timeout | null = null;
  readonly runId: string;

  constructor(
    private readonly runsDir: string,
    private readonly fleet: FleetRegistry,
    private readonly clock: Clock,
  ) {
    this.runId = `live-${new Date(clock.now()).toISOString().replace(/[:.]/g, '-').slice(0, 19)}`;
  }

  start(): void {
    const dir = join(this.runsDir, this.runId);
    mkdirSync(dir, { recursive: true });
    this.out = createWriteStream(join(dir, 'events.ndjson'), { flags: 'a' });
    this.write({ t: this.clock.now(), type: 'run.start', scenario: 'live', kind: 'live' });
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  private sample(): void {
    const t = this.clock.now();
    for (const v of this.fleet.all()) {
      if (!v.online) continue;
      this.write({ t, type: 'vehicle', vehicleId: v.id, lat: Math.round(v.lat * 1e6) / 1e6, lon: Math.round(v.lon * 1e6) / 1e6, heading: Math.round(v.heading), speed: Math.round(v.speed * 10) / 10, soc: Math.round(v.soc * 1000) / 1000, mode: v.mode, doors: v.doors, onboard: v.occupancy.seats + v.occupancy.wheelchairs, latencyMs: v.latencyMs ?? 0 });
    }
  }

  /** An event of the live service (same shape as the store's EventRecord). */
  write(e: Record<string, unknown>): void {
    this.out?.write(`${JSON.stringify(e)}\n`);
  }

  stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const out = this.out;
    this.out = null;
    return new Promise((r) => (out ? out.end(() => r()) : r()));
  }
}
