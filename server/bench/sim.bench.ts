/**
 * Simulation benchmark (not a test): 24 simulated hours, 20 buses, ~3,000 requests, as fast as possible.
 * Target: ≥ 1,440× real time (≤ 60 s wall).   npm run bench:sim
 */
import { RoutingEngine } from '@kl/routing';
import { runScenario } from '../src/sim/runner.ts';
import { parseScenario } from '../src/sim/scenario.ts';

const hubs = ['tuk', 'uni-wohnstadt', 'pfaff', 'hbf'];
// daily demand profile (requests per hour) that sums to ~3,000 over 24 h
const profile = [20, 10, 8, 8, 15, 60, 180, 260, 240, 160, 130, 140, 170, 160, 150, 170, 230, 260, 210, 140, 100, 80, 60, 40];
const scale = 3000 / profile.reduce((a, b) => a + b, 0);
export const benchScenario = parseScenario({
  name: 'bench-24h',
  description: '24 h, 20 buses, ~3,000 requests (benchmark)',
  start: '2026-11-23T00:00:00+01:00',
  durationMin: 24 * 60,
  seed: 2026,
  stateEveryS: 1,
  fleet: Array.from({ length: 20 }, (_, i) => ({ id: `bus-${i + 1}`, seats: i % 3 === 2 ? 12 : 8, wheelchairPlaces: i % 2 ? 1 : 2, soc: 0.95, start: { hubId: hubs[i % 4] } })),
  demand: {
    generator: {
      hourly: profile.map((perHour, h) => ({ fromMin: h * 60, toMin: (h + 1) * 60, perHour: perHour * scale })),
      areas: hubs.map((hubId) => ({ hubId, radiusM: 700, weight: hubId === 'uni-wohnstadt' ? 2 : 1 })),
    },
  },
});

const engine = await RoutingEngine.load();
let events = 0;
let bytes = 0;
const t0 = performance.now();
const res = await runScenario({
  engine,
  scenario: benchScenario,
  sink: {
    write: (e) => {
      events++;
      bytes += JSON.stringify(e).length + 1; // serialised as the CLI would, not written to disk
    },
    writeLine: (l) => {
      events++;
      bytes += l.length + 1;
    },
  },
});
const wall = (performance.now() - t0) / 1000;
const speedup = res.simulatedMs / 1000 / wall;
const rows = [
  ['measure', 'value', 'target'],
  ['simulated time', '24 h', ''],
  ['buses', '20', ''],
  ['requests', String(res.kpis.requests), '≈ 3,000'],
  ['served / rejected', `${res.kpis.served} / ${res.kpis.rejected}`, ''],
  ['promises kept', `${res.kpis.promisesKeptPct} %`, ''],
  ['events (event log size)', `${events} (${(bytes / 1e6).toFixed(0)} MB)`, ''],
  ['wall time', `${wall.toFixed(1)} s`, '≤ 60 s'],
  ['speed-up over real time', `${speedup.toFixed(0)}×`, '≥ 1,440×'],
  ['CPU time (user+sys)', `${((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(1)} s`, ''],
  ['peak RSS', `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`, ''],
];
const w = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length)));
console.log('Simulation benchmark');
for (const [i, r] of rows.entries()) {
  console.log(`| ${r.map((x, c) => x.padEnd(w[c])).join(' | ')} |`);
  if (i === 0) console.log(`|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`);
}
console.log(speedup >= 1440 ? 'target: met' : 'target: NOT met');
