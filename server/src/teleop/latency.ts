/**
 * Control latency and the speed it permits.
 *
 * Control latency L = vehicle↔server RTT + console↔server RTT + video delay (camera to the driver's screen).
 *
 * Permitted speed (documented formula, "constant blind distance"):
 *
 *     v(L) = vmax                    for L ≤ budget            (budget = 200 ms)
 *     v(L) = vmax · budget / L       for budget < L ≤ hardLimit (hardLimit = 500 ms → 0.4 · vmax)
 *     v(L) = 0  → MRM                for L > hardLimit, or L unknown
 *
 * Why this shape: during a latency L the bus covers v·L metres before the driver's reaction can take effect.
 * Scaling v by budget/L keeps that "blind distance" equal to the one accepted at the budget
 * (vmax · 200 ms ≈ 2.8 m at 50 km/h) for every L up to the hard limit. It is continuous at the budget
 * and strictly decreasing above it. (A linear cut, e.g. 1 − 0.7·(L−200)/300, lets the blind distance grow by
 * up to 15 % around L ≈ 310 ms; this one never does.)
 */
export interface LatencyLimits {
  latencyBudgetMs: number;
  latencyHardLimitMs: number;
}

/** Factor in [0, 1] applied to vmax; 0 means "not drivable" (MRM). NaN/Infinity (unknown) → 0. */
export function speedFactor(latencyMs: number, limits: LatencyLimits): number {
  if (!Number.isFinite(latencyMs) || latencyMs < 0) return 0;
  if (latencyMs > limits.latencyHardLimitMs) return 0;
  if (latencyMs <= limits.latencyBudgetMs) return 1;
  return limits.latencyBudgetMs / latencyMs;
}

export function permittedSpeedFor(latencyMs: number, vmax: number, limits: LatencyLimits): number {
  return vmax * speedFactor(latencyMs, limits);
}

/**
 * Round-trip samples of one link. The estimate is the maximum over a short window: a single slow round trip
 * is real (the driver saw the world that late), so it counts until it leaves the window. No sample for
 * `maxAgeMs` means "unknown" (Infinity), which the core treats as over the hard limit.
 */
export class RttWindow {
  private samples: { t: number; rtt: number }[] = [];
  /**
   * The last estimate and the time span over which it holds: every event sweeps every bus, so the estimate is
   * asked for thousands of times a second while it changes only when a sample arrives, leaves the window or goes
   * stale. Exact: the span ends where the first of those can happen.
   */
  private memo = { value: 0, from: Infinity, until: -Infinity, windowMs: NaN, maxAgeMs: NaN };

  add(t: number, rttMs: number): void {
    this.samples.push({ t, rtt: rttMs });
    // keep it small: a few seconds of 5 Hz pings at most
    if (this.samples.length > 64) this.samples.splice(0, this.samples.length - 64);
    this.memo.until = -Infinity;
  }

  estimate(now: number, windowMs: number, maxAgeMs: number): number {
    const c = this.memo;
    if (now >= c.from && now <= c.until && windowMs === c.windowMs && maxAgeMs === c.maxAgeMs) return c.value;
    const last = this.samples[this.samples.length - 1];
    if (!last || now - last.t > maxAgeMs) return Infinity;
    let m = last.rtt;
    let oldest = last.t;
    for (let i = this.samples.length - 1; i >= 0; i--) {
      const s = this.samples[i];
      if (now - s.t > windowMs) break;
      if (s.rtt > m) m = s.rtt;
      oldest = s.t;
    }
    // the same answer until the oldest sample in the window leaves it or the newest goes stale
    this.memo = { value: m, from: now, until: Math.min(oldest + windowMs, last.t + maxAgeMs), windowMs, maxAgeMs };
    return m;
  }

  /** Time when the newest sample goes stale (for deadline scheduling), or null without samples. */
  staleAt(maxAgeMs: number): number | null {
    const last = this.samples[this.samples.length - 1];
    return last ? last.t + maxAgeMs : null;
  }
}
