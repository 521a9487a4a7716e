import { mergeFleetState } from '../../../server/src/protocol/fleet-delta.ts';
import type { FleetState, FleetVehicle } from './types.ts';

/**
 * The live fleet outside React: `fleet:state` deltas at 10 Hz are merged per vehicle here, and subscribers
 * (map layers) are notified once per animation frame. React tables read it through a throttled version counter,
 * so a 200-bus fleet at 10 Hz never re-renders the component tree at 10 Hz.
 */
type Listener = () => void;

class FleetBuffer {
  readonly vehicles = new Map<string, FleetVehicle>();
  /** server time of the last message, and local receive time, to show the age of every figure */
  lastServerT = 0;
  lastReceived = 0;
  private listeners = new Set<Listener>();
  private scheduled = false;

  apply(s: FleetState): void {
    mergeFleetState(this.vehicles, s);
    this.lastServerT = s.t;
    this.lastReceived = Date.now();
    this.schedule();
  }

  clear(): void {
    this.vehicles.clear();
    this.schedule();
  }

  subscribe(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      for (const l of this.listeners) l();
    };
    if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible') requestAnimationFrame(run);
    else setTimeout(run, 100);
  }
}

export const fleet = new FleetBuffer();

// Test hook (browser tests check that positions change): a compact fingerprint of every bus position.
(globalThis as unknown as { __klFleet?: () => string }).__klFleet = () =>
  [...fleet.vehicles.values()].map((v) => `${v.id}:${v.lat.toFixed(6)},${v.lon.toFixed(6)}`).join(';');
