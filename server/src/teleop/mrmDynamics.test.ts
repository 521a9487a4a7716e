import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMS } from '../sim/vehicle-model.ts';
import { DEFAULT_KINEMATICS, stepSpeed, stoppingDistance, stoppingTimeMs } from './mrmDynamics.ts';

describe('MRM kinematics', () => {
  it('uses the simulated bus’s decelerations', () => {
    expect(DEFAULT_KINEMATICS.mrmDecel).toBe(DEFAULT_PARAMS.mrmDecel);
    expect(DEFAULT_KINEMATICS.emergencyDecel).toBe(DEFAULT_PARAMS.emergencyDecel);
    expect(DEFAULT_KINEMATICS.comfortDecel).toBe(DEFAULT_PARAMS.decel);
    expect(DEFAULT_KINEMATICS.accel).toBe(DEFAULT_PARAMS.accel);
  });

  it('an MRM from 50 km/h stands still after 5.6 s / 38.6 m, stepping 10–50 ms', () => {
    const v0 = 50 / 3.6;
    expect(stoppingTimeMs(v0, 2.5)).toBeCloseTo(5555.6, 0);
    expect(stoppingDistance(v0, 2.5)).toBeCloseTo(38.58, 1);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 10, max: 50 }), { minLength: 300, maxLength: 300 }), (steps) => {
        let v = v0;
        let t = 0;
        for (const dt of steps) {
          const next = stepSpeed(v, dt, 'mrm', 0);
          expect(next).toBeGreaterThanOrEqual(0);
          expect(v - next).toBeLessThanOrEqual((2.5 * dt) / 1000 + 1e-9); // never harder than 2.5 m/s²
          v = next;
          t += dt;
          if (v === 0) break;
        }
        expect(v).toBe(0);
        expect(t).toBeLessThan(5556 + 50);
      }),
      { numRuns: 100, seed: 3 },
    );
  });

  it('drives toward the target at bounded acceleration; brakes never reverse', () => {
    expect(stepSpeed(0, 1000, 'none', 10)).toBe(1);
    expect(stepSpeed(10, 1000, 'none', 5)).toBeCloseTo(8.7);
    expect(stepSpeed(1, 1000, 'emergency', 10)).toBe(0);
    expect(stepSpeed(3, 1000, 'hold', 10)).toBeCloseTo(1.7);
  });
});
