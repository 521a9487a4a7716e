/**
 * Teleoperation fault-injection benchmark (not a test: it prints tables). Runs the same seeded campaign as
 * server/src/teleop/faultInjection.test.ts: N cases (default 1,000; `-- 5000` for more) of console freezes and
 * vehicle link losses (both ways / uplink / downlink) striking a remotely driven bus in simulated time, and
 * reports per fault kind: how many ended in safe_stop with the bus stationary, and the MRM start latency (from
 * the last heartbeat / last sign of life to the start of braking) p50 / p99 / max.
 *
 * Two timings: the core ticked every 10–50 ms (random), and woken exactly at `nextDeadline()` as a socket
 * layer with a precise timer would be.
 *   usage: tsx server/bench/teleop-faults.ts [cases] [firstSeed]
 */
import { performance } from 'node:perf_hooks';
import { formatSummary, percentile, runFaultCampaign, summarize } from '../src/teleop/faults.ts';

const n = Number(process.argv[2] ?? 1000);
const seed0 = Number(process.argv[3] ?? 1);
if (!Number.isInteger(n) || n < 1 || !Number.isInteger(seed0)) {
  console.error('usage: tsx server/bench/teleop-faults.ts [cases ≥ 1] [firstSeed]');
  process.exit(2);
}

let failed = 0;
for (const precise of [false, true]) {
  const t0 = performance.now();
  const results = runFaultCampaign(n, seed0, { precise });
  const ms = performance.now() - t0;
  console.log(`\n${precise ? 'timer at nextDeadline()' : 'ticks every 10–50 ms'} — ${n} cases, seeds ${seed0}…${seed0 + n - 1}, ${ms.toFixed(0)} ms wall`);
  console.log(formatSummary(summarize(results)));
  const e2e = results.map((r) => r.endToEndMs).filter((x): x is number => x !== null);
  const stop = results.map((r) => r.timeToStandstillMs).filter((x): x is number => x !== null);
  console.log(
    `console freeze, last heartbeat at the server → braking on the bus (incl. one-way delay): p50 ${percentile(e2e, 0.5)} ms, p99 ${percentile(e2e, 0.99)} ms, max ${Math.max(...e2e)} ms`,
  );
  console.log(`fault → standstill: p50 ${percentile(stop, 0.5)} ms, p99 ${percentile(stop, 0.99)} ms, max ${Math.max(...stop)} ms`);
  const bad = results.filter((r) => !r.ok);
  failed += bad.length;
  for (const r of bad.slice(0, 10)) console.log(`FAILED seed ${r.seed} ${r.kind}: server ${r.endServerMode}, bus ${r.endVehicleMode} at ${r.endSpeed} m/s ${r.violations.join('; ')}`);
}
process.exitCode = failed ? 1 : 0;
