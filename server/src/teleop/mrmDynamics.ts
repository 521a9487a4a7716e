/**
 * Longitudinal kinematics just detailed enough to prove "the bus ends stationary": speed changes at bounded
 * acceleration/deceleration per step. The decelerations match the simulated bus (sim/vehicle-model.ts
 * DEFAULT_PARAMS; a test keeps them in step): comfortable 1.3 m/s², MRM 2.5 m/s², emergency 5 m/s².
 * The full route-following model lives in sim/; this one has no geometry so fault-injection runs stay fast.
 */
export type Brake = 'none' | 'hold' | 'mrm' | 'emergency';

export interface Kinematics {
  accel: number; // m/s²
  comfortDecel: number; // m/s², normal stop ('hold')
  mrmDecel: number; // m/s², minimal risk manoeuvre
  emergencyDecel: number; // m/s²
}

export const DEFAULT_KINEMATICS: Kinematics = { accel: 1.0, comfortDecel: 1.3, mrmDecel: 2.5, emergencyDecel: 5.0 };

/**
 * Speed after `dtMs`. With brake 'none' the bus approaches `target` (accelerating or braking comfortably);
 * otherwise it brakes to a standstill at the brake's deceleration and never rolls backwards.
 */
export function stepSpeed(speed: number, dtMs: number, brake: Brake, target: number, k: Kinematics = DEFAULT_KINEMATICS): number {
  const dt = dtMs / 1000;
  if (brake === 'none') {
    const goal = Math.max(0, target);
    if (speed < goal) return Math.min(goal, speed + k.accel * dt);
    return Math.max(goal, speed - k.comfortDecel * dt);
  }
  const decel = brake === 'mrm' ? k.mrmDecel : brake === 'emergency' ? k.emergencyDecel : k.comfortDecel;
  return Math.max(0, speed - decel * dt);
}

/** Time (ms) to stop from `speed` at `decel`. */
export function stoppingTimeMs(speed: number, decel: number): number {
  return (speed / decel) * 1000;
}

/** Distance (m) to stop from `speed` at `decel`, after a reaction delay `delayMs` at constant speed. */
export function stoppingDistance(speed: number, decel: number, delayMs = 0): number {
  return (speed * delayMs) / 1000 + (speed * speed) / (2 * decel);
}
