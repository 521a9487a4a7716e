import { describe, expect, it } from 'vitest';
import { curveSpeed, DEFAULT_PARAMS, VehicleModel, type DriveRoute } from './vehicle-model.ts';

/** A straight road east along a latitude, 1 km, limit 36 km/h (10 m/s), with a stop at the end. */
function straight(limitKmh = 36): DriveRoute {
  const coordinates: [number, number][] = [];
  for (let i = 0; i <= 10; i++) coordinates.push([7.75 + i * 0.00138, 49.43]); // ≈ 100 m steps
  return { coordinates, speedsKmh: Array(10).fill(limitKmh), stopIndices: [10] };
}

describe('simulated bus kinematics', () => {
  it('accelerates no faster than its limit and never exceeds the road speed', () => {
    const m = new VehicleModel({ lat: 49.43, lon: 7.75 }, 0.9);
    m.setRoute(straight());
    let prev = 0;
    for (let t = 0; t < 40; t++) {
      m.step(0.5);
      expect(m.speed - prev).toBeLessThanOrEqual(DEFAULT_PARAMS.accel * 0.5 + 1e-9);
      expect(m.speed).toBeLessThanOrEqual(10 + 1e-9);
      prev = m.speed;
    }
  });

  it('brakes comfortably and stops exactly at the stop', () => {
    const m = new VehicleModel({ lat: 49.43, lon: 7.75 }, 0.9);
    m.setRoute(straight());
    let reached = -1, steps = 0, maxDecel = 0, prev = 0;
    while (reached < 0 && steps++ < 2000) {
      reached = m.step(0.2);
      if (reached < 0) maxDecel = Math.max(maxDecel, (prev - m.speed) / 0.2);
      prev = m.speed;
    }
    expect(reached).toBe(0);
    expect(m.speed).toBe(0);
    expect(m.lon).toBeCloseTo(7.75 + 10 * 0.00138, 6);
    expect(maxDecel).toBeLessThanOrEqual(DEFAULT_PARAMS.decel + 1e-6);
    expect(m.odometer).toBeGreaterThan(990);
  });

  it('slows for sharp turns', () => {
    expect(curveSpeed(5)).toBe(Infinity);
    expect(curveSpeed(90)).toBeLessThan(6);
    expect(curveSpeed(170)).toBeGreaterThanOrEqual(3);
  });

  it('a minimal risk manoeuvre brakes to a standstill at the MRM deceleration', () => {
    const m = new VehicleModel({ lat: 49.43, lon: 7.75 }, 0.9);
    m.setRoute(straight(50));
    for (let i = 0; i < 100; i++) m.step(0.1);
    const v0 = m.speed;
    expect(v0).toBeGreaterThan(5);
    m.braking = 'mrm';
    let t = 0;
    while (m.speed > 0 && t < 30) {
      m.step(0.1);
      t += 0.1;
    }
    expect(m.speed).toBe(0);
    expect(t).toBeCloseTo(v0 / DEFAULT_PARAMS.mrmDecel, 0);
  });

  it('driving drains the battery by the configured consumption', () => {
    const m = new VehicleModel({ lat: 49.43, lon: 7.75 }, 0.9);
    m.setRoute(straight());
    for (let i = 0; i < 3000 && m.hasRoute(); i++) if (m.step(0.2) >= 0) break;
    expect(m.energyKWh).toBeCloseTo((m.odometer / 1000) * DEFAULT_PARAMS.consumptionKWhPerKm, 6);
    expect(m.soc).toBeCloseTo(0.9 - m.energyKWh / DEFAULT_PARAMS.batteryKWh, 6);
  });
});
