import { describe, expect, it } from 'vitest';
import { TeleopWorld } from './world.ts';

describe('simulated drivers relay their leases', () => {
  it('spread over the interval in groups, each bus at least every simRelayIntervalMs', () => {
    const ids = Array.from({ length: 20 }, (_, i) => `bus-${i + 1}`);
    const w = new TeleopWorld({ seed: 7, vehicles: ids.map((id) => ({ id, simulatedDriver: true })), drivers: [{ id: 'd1' }] });
    const relays = new Map<string, number[]>();
    const drain = w.core.drain.bind(w.core);
    w.core.drain = () => {
      const out = drain();
      for (const o of out) if (o.kind === 'directive' && o.directive.type === 'lease') relays.set(o.vehicleId, [...(relays.get(o.vehicleId) ?? []), w.now]);
      return out;
    };
    w.connectAll();
    w.run(500, 1, 1);
    const from = w.now;
    for (const l of relays.values()) l.splice(0, l.length);
    w.run(2000, 1, 1);
    const interval = w.core.config.simRelayIntervalMs;
    const perInstant = new Map<number, number>();
    for (const id of ids) {
      const l = relays.get(id) ?? [];
      expect(l.length, id).toBeGreaterThanOrEqual(2000 / interval - 1);
      expect(l[0] - from, id).toBeLessThanOrEqual(interval);
      for (let i = 1; i < l.length; i++) expect(l[i] - l[i - 1], `${id} gap`).toBeLessThanOrEqual(interval);
      for (const t of l) perInstant.set(t, (perInstant.get(t) ?? 0) + 1);
    }
    // 20 buses in 10 groups: two relays at a time, not twenty
    expect(Math.max(...perInstant.values())).toBeLessThanOrEqual(2);
  });
});
