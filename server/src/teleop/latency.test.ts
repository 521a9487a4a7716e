import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { TeleopControlCenter } from './controlCenter.ts';
import { RttWindow, permittedSpeedFor, speedFactor } from './latency.ts';
import { BUS, expectError, expectOk, inState, mode, runChecked, runUntil, world } from './testkit.ts';
import type { Actor } from './types.ts';

const LIMITS = { latencyBudgetMs: 200, latencyHardLimitMs: 500 };
const VMAX = 50 / 3.6;

describe('latency → permitted speed (v = vmax · 200 / L between 200 and 500 ms)', () => {
  it.each([
    [0, 1],
    [150, 1],
    [200, 1],
    [250, 0.8],
    [300, 2 / 3],
    [400, 0.5],
    [500, 0.4],
    [500.1, 0],
    [800, 0],
    [Infinity, 0],
    [NaN, 0],
  ])('L = %s ms → factor %s', (l, f) => {
    expect(speedFactor(l, LIMITS)).toBeCloseTo(f, 9);
  });

  it('is continuous at the budget, non-increasing, and never lets the blind distance v·L exceed the budget’s', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 500, noNaN: true }), fc.double({ min: 0, max: 500, noNaN: true }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(permittedSpeedFor(hi, VMAX, LIMITS)).toBeLessThanOrEqual(permittedSpeedFor(lo, VMAX, LIMITS) + 1e-12);
        expect(permittedSpeedFor(hi, VMAX, LIMITS) * hi).toBeLessThanOrEqual(VMAX * 200 + 1e-9);
      }),
      { numRuns: 500, seed: 7 },
    );
    expect(permittedSpeedFor(200 + 1e-9, VMAX, LIMITS)).toBeCloseTo(VMAX, 6);
  });
});

describe('RTT window', () => {
  it('is the maximum of the last second, unknown (Infinity) without a fresh sample', () => {
    const w = new RttWindow();
    expect(w.estimate(0, 1000, 3000)).toBe(Infinity);
    w.add(0, 40);
    w.add(300, 120);
    w.add(600, 50);
    expect(w.estimate(700, 1000, 3000)).toBe(120);
    expect(w.estimate(1400, 1000, 3000)).toBe(50); // the spike left the window
    expect(w.estimate(3601, 1000, 3000)).toBe(Infinity);
  });

  it('answers a repeated question from its memo exactly as a fresh computation would', () => {
    // samples and questions interleaved at non-decreasing times; a window asked every time against one asked once
    const step = fc.record({ dt: fc.integer({ min: 0, max: 700 }), rtt: fc.option(fc.integer({ min: 0, max: 900 }), { nil: undefined }), asks: fc.integer({ min: 0, max: 3 }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const memo = new RttWindow();
        const plain: { t: number; rtt: number }[] = [];
        let t = 0;
        for (const s of steps) {
          t += s.dt;
          if (s.rtt !== undefined) {
            memo.add(t, s.rtt);
            plain.push({ t, rtt: s.rtt });
          }
          for (let k = 0; k <= s.asks; k++) {
            const at = t + k * 137;
            const fresh = new RttWindow();
            for (const p of plain.slice(-64)) fresh.add(p.t, p.rtt);
            expect(memo.estimate(at, 1000, 3000)).toBe(fresh.estimate(at, 1000, 3000));
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('control latency in the core', () => {
  const d1: Actor = { id: 'd1', role: 'driver' };
  function rig() {
    const clock = new ManualClock(1_750_000_000_000);
    const c = new TeleopControlCenter(clock, { videoDelayMs: 100 });
    c.addVehicle(BUS);
    c.vehicleLink(BUS, true);
    return { clock, c };
  }

  it('is vehicle RTT + console RTT + video delay; acquire needs it known and within the hard limit', () => {
    const { c } = rig();
    expectError(c.acquire(d1, BUS), 'LATENCY_UNKNOWN');
    c.vehicleRtt(BUS, 60);
    c.consoleRtt('d1', 350);
    expectError(c.acquire(d1, BUS), 'LATENCY_TOO_HIGH');
    c.consoleRtt('d1', 40);
    // the window remembers the 350 ms sample for a second: conservative
    expectError(c.acquire(d1, BUS), 'LATENCY_TOO_HIGH');
  });

  it('above the budget the speed cap follows the formula and the dispatcher sees it', () => {
    const { clock, c } = rig();
    c.vehicleRtt(BUS, 60);
    c.consoleRtt('d1', 40);
    expectOk(c.acquire(d1, BUS));
    expect(c.latencyMs(BUS)).toBe(200);
    expect(c.permittedSpeed(BUS)).toBeCloseTo(VMAX);
    c.drain();
    clock.advance(100);
    c.heartbeat(d1, BUS);
    c.vehicleReport(BUS, { speed: 5 });
    c.vehicleRtt(BUS, 160); // L = 160 + 40 + 100 = 300 ms
    c.tick();
    expect(c.latencyMs(BUS)).toBe(300);
    expect(c.permittedSpeed(BUS)).toBeCloseTo((VMAX * 2) / 3);
    const out = c.drain();
    const cap = out.find((o) => o.kind === 'directive' && o.directive.type === 'speed_cap');
    expect(cap && cap.kind === 'directive' && cap.directive.type === 'speed_cap' ? cap.directive.value : null).toBe(Math.floor(((VMAX * 2) / 3) * 10) / 10);
    expect(out.some((o) => o.kind === 'alert' && o.alert.type === 'latency_high')).toBe(true);
    expect(c.view(BUS)!.mode).toBe('remote');
  });

  it('above the hard limit → MRM (latency_over_limit); RTT samples going stale → MRM (latency_unknown)', () => {
    const { clock, c } = rig();
    c.vehicleRtt(BUS, 60);
    c.consoleRtt('d1', 40);
    expectOk(c.acquire(d1, BUS));
    clock.advance(100);
    c.heartbeat(d1, BUS);
    c.vehicleReport(BUS, { speed: 5 });
    c.vehicleRtt(BUS, 361); // L = 501 ms
    expect(c.view(BUS)!.mode).toBe('mrm');
    expect(c.view(BUS)!.mrm?.reason).toBe('latency_over_limit');

    const r2 = rig();
    r2.c.vehicleRtt(BUS, 60);
    r2.c.consoleRtt('d1', 40);
    expectOk(r2.c.acquire(d1, BUS));
    for (let t = 0; t < 3100; t += 100) {
      r2.clock.advance(100);
      r2.c.heartbeat(d1, BUS);
      r2.c.vehicleReport(BUS, { speed: 5 });
      r2.c.consoleRtt('d1', 40); // the vehicle link is no longer measured
      r2.c.tick();
    }
    expect(r2.c.view(BUS)!.mrm?.reason).toBe('latency_unknown');
  });

  it('in the closed loop: a latency rise slows the bus to the cap, a spike over 500 ms stops it', () => {
    const w = inState('remote_moving');
    w.setWant(BUS, 14);
    runChecked(w, 8000);
    expect(w.vehicleFor(BUS).speed).toBeGreaterThan(10);
    w.setExtraVehicleRtt(BUS, 220); // L = 80 video + 220 = 300 ms → 2/3 vmax = 9.26 m/s
    runChecked(w, 5000);
    expect(w.vehicleFor(BUS).speed).toBeLessThanOrEqual(9.26);
    expect(w.vehicleFor(BUS).speed).toBeGreaterThan(8.5);
    w.setExtraVehicleRtt(BUS, 450);
    runUntil(w, () => mode(w) === 'mrm', 1000);
    runUntil(w, () => mode(w) === 'safe_stop');
    expect(w.vehicleFor(BUS).speed).toBe(0);
  });

  it('a simulated driver has console RTT 0, the video delay still counts', () => {
    const w = world();
    w.connectAll();
    runChecked(w, 300);
    expect(w.core.latencyMs('bus-s')).toBe(80);
  });
});
