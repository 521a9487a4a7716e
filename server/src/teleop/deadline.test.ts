import { describe, expect, it } from 'vitest';
import { mode, runChecked, runUntil, world } from './testkit.ts';

/**
 * The socket layer (service.ts) arms its timer at `nextDeadline()`: a deadline that `tick()` does not clear
 * would make it spin. After every tick, every deadline lies in the future.
 */
describe('nextDeadline after tick', () => {
  it('never lies in the past — also for a simulated driver’s bus during its MRM (no relay then)', () => {
    const w = world();
    w.connectAll();
    runChecked(w, 300);
    expect(w.core.view('bus-s')!.holder).toBe('sim:bus-s');
    w.sendCommand('sim:bus-s', 'bus-s', 'resume');
    w.setWant('bus-s', 8);
    runChecked(w, 2000);
    w.cutVehicleLink('bus-s', 'both', true);
    expect(mode(w, 'bus-s')).toBe('mrm');
    for (let i = 0; i < 20; i++) {
      w.step(20);
      w.core.tick();
      const d = w.core.nextDeadline();
      if (d !== null) expect(d).toBeGreaterThan(w.now);
    }
    w.restoreVehicleLink('bus-s', true);
    runUntil(w, () => mode(w, 'bus-s') === 'safe_stop');
    w.core.tick();
    const d = w.core.nextDeadline();
    if (d !== null) expect(d).toBeGreaterThan(w.now);
  });
});
