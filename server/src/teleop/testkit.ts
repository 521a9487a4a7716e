import { expect } from 'vitest';
import { TeleopWorld, type WorldOptions } from './world.ts';
import type { Result, VehicleMode } from './types.ts';

/**
 * Test helpers: a small zero-delay world (two drivers, a dispatcher, bus-1 and bus-2 with human drivers
 * only, bus-s with a simulated driver) and builders that bring bus-1 into each mode the way real events would.
 */
export const BUS = 'bus-1';

export function world(overrides: Partial<WorldOptions> = {}): TeleopWorld {
  const w = new TeleopWorld({
    seed: 42,
    vehicles: [{ id: 'bus-1' }, { id: 'bus-2' }, { id: 'bus-s', simulatedDriver: true }],
    drivers: [{ id: 'd1' }, { id: 'd2' }, { id: 'd3' }, { id: 'disp', role: 'dispatcher' }, { id: 'root', role: 'admin' }],
    heartbeatJitterMs: 0,
    ...overrides,
  });
  return w;
}

export function expectOk<T>(r: Result<T>): T {
  if ('error' in r) throw new Error(`expected data, got ${r.error.code}: ${r.error.message}`);
  return r.data;
}
export function expectError(r: Result<unknown>, code: string): void {
  expect('error' in r ? r.error.code : 'ok').toBe(code);
}

/** Run with the invariants checked after every step. */
export function runChecked(w: TeleopWorld, ms: number, step = 20): void {
  const end = w.now + ms;
  while (w.now < end) {
    w.step(Math.min(step, end - w.now));
    const v = w.violations();
    if (v.length) throw new Error(`invariant violated at +${w.now}: ${v.join('; ')}`);
  }
}

/** Run until `pred` holds (checked), at most `maxMs`. */
export function runUntil(w: TeleopWorld, pred: () => boolean, maxMs = 30_000, step = 20): void {
  const end = w.now + maxMs;
  while (!pred()) {
    if (w.now >= end) throw new Error(`condition not reached within ${maxMs} ms`);
    runChecked(w, step, step);
  }
}

export function mode(w: TeleopWorld, id = BUS): VehicleMode {
  return w.core.view(id)!.mode;
}
export function holder(w: TeleopWorld, id = BUS): string | null {
  return w.core.view(id)!.holder;
}

export type StateName =
  | 'offline'
  | 'standby'
  | 'remote_held'
  | 'remote_moving'
  | 'mrm'
  | 'safe_stop_free'
  | 'safe_stop_held'
  | 'emergency_stop';

/** Builds bus-1 in the named state (d1 involved where a holder is needed). */
export function inState(name: StateName, w: TeleopWorld = world()): TeleopWorld {
  if (name === 'offline') return w;
  w.connectAll();
  runChecked(w, 100);
  if (name === 'standby') return w;
  expectOk(w.acquire('d1', BUS));
  runChecked(w, 100);
  if (name === 'remote_held') return w;
  if (name === 'safe_stop_held') {
    // a link loss stops the bus while d1's console stays alive: d1 keeps the lease
    w.sendCommand('d1', BUS, 'resume');
    w.setWant(BUS, 6);
    runChecked(w, 2000);
    w.cutVehicleLink(BUS, 'both');
    runUntil(w, () => mode(w) === 'mrm');
    runChecked(w, 1500);
    w.restoreVehicleLink(BUS);
    runUntil(w, () => mode(w) === 'safe_stop');
    runChecked(w, 100);
    return w;
  }
  w.sendCommand('d1', BUS, 'resume');
  w.setWant(BUS, 8);
  runChecked(w, 3000);
  if (name === 'remote_moving') return w;
  if (name === 'emergency_stop') return settleEmergency(w);
  // mrm / safe_stop_free: d1's console freezes → lease lapses → MRM
  w.freezeConsole('d1');
  runUntil(w, () => mode(w) === 'mrm');
  w.freezeConsole('d1', false); // the console comes back while the bus brakes: too late, the lease lapsed
  if (name === 'mrm') return w;
  runUntil(w, () => mode(w) === 'safe_stop');
  runChecked(w, 100);
  return w;
}

/** The dispatcher's emergency stop through the console link (so the vehicle gets it), then wait for standstill. */
function settleEmergency(w: TeleopWorld): TeleopWorld {
  w.sendCommand('disp', BUS, 'emergency_stop');
  runUntil(w, () => w.vehicleFor(BUS).speed === 0);
  runChecked(w, 200);
  return w;
}
