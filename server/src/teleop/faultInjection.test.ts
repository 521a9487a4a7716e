import { describe, expect, it } from 'vitest';
import { formatSummary, percentile, runFaultCampaign, summarize } from './faults.ts';

/**
 * 1,000 seeded faults in simulated time (console freezes, link losses both ways / up / down; see faults.ts):
 * every case ends in safe_stop with the bus stationary, and braking starts ≤ 500 ms (+ one 10–50 ms tick)
 * after the last heartbeat. A second run wakes at the cores' deadlines, as a precise timer would: then ≤ 500 ms.
 */
describe('fault injection', () => {
  it('1,000 seeded link losses and console freezes: 100 % end in safe_stop, stationary; MRM start ≤ 500 ms + one tick', () => {
    const results = runFaultCampaign(1000, 1);
    const rows = summarize(results);
    console.log(`\n${formatSummary(rows)}\n`);
    const failed = results.filter((r) => !r.ok);
    expect(failed.map((r) => ({ seed: r.seed, kind: r.kind, end: [r.endServerMode, r.endVehicleMode, r.endSpeed], v: r.violations }))).toEqual([]);
    const all = rows[rows.length - 1];
    expect(all.count).toBe(1000);
    expect(all.okPct).toBe(100);
    const tick = Math.max(...results.map((r) => r.largestStepMs));
    expect(tick).toBeLessThanOrEqual(50);
    expect(all.max).toBeLessThanOrEqual(500 + tick);
    expect(all.onboardMax).toBeLessThanOrEqual(500 + tick);
    const lat = results.map((r) => r.mrmLatencyMs as number);
    expect(percentile(lat, 0.5)).toBeGreaterThanOrEqual(500); // no early (false) MRM either
    expect(results.some((r) => r.falseMrm)).toBe(false);
    // the faults hit buses at speed (and some standing)
    expect(results.filter((r) => r.speedAtFault > 3).length).toBeGreaterThan(700);
    expect(results.filter((r) => r.stationaryAtFault).length).toBeGreaterThan(50);
  });

  it('woken at the deadlines (nextDeadline), MRM starts exactly 500 ms after the last heartbeat', () => {
    const results = runFaultCampaign(100, 5001, { precise: true });
    expect(results.every((r) => r.ok)).toBe(true);
    expect(Math.max(...results.map((r) => r.mrmLatencyMs as number))).toBeLessThanOrEqual(500);
    expect(Math.max(...results.map((r) => r.onboardLatencyMs as number))).toBeLessThanOrEqual(500);
  });
});
