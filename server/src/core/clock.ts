/**
 * Injected time source. Core code (dispatch, simulation, teleoperation) never calls Date.now():
 * it receives a Clock, so runs are deterministic and can go faster than real time.
 * Times are epoch milliseconds.
 */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to: for tests and simulated time. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    if (t < this.t) throw new Error(`ManualClock cannot go back (${t} < ${this.t})`);
    this.t = t;
  }
  advance(ms: number): number {
    if (ms < 0) throw new Error('ManualClock.advance needs ms >= 0');
    this.t += ms;
    return this.t;
  }
}
