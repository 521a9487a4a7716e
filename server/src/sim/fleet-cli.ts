/**
 * Simulated buses as a separate process against any KL Shuttle server, over the real /vehicle protocol:
 *   npm run fleet -- --server http://127.0.0.1:8080 --vehicles 6 [--keys keys.json] [--seed N]
 * Vehicle ids and start positions come from fixtures/fleet.json (bus-1 … bus-N); keys default to the demo keys
 * ("<id>-demo-key"); a keys file maps ids to keys for real deployments. Stop with Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FIXTURES_DIR } from '@kl/routing/fixtures.ts';
import { systemClock } from '../core/clock.ts';
import { Rng } from '../core/rng.ts';
import type { VehicleDef } from '../fleet/registry.ts';
import { VehicleAgent } from './agent.ts';

function fail(msg: string): never {
  process.stderr.write(`fleet: ${msg}\nusage: npm run fleet -- --server URL --vehicles N [--keys FILE] [--seed N]\n`);
  process.exit(2);
}

let values;
try {
  values = parseArgs({ options: { server: { type: 'string' }, vehicles: { type: 'string', default: '6' }, keys: { type: 'string' }, seed: { type: 'string', default: '1' } } }).values;
} catch (e) {
  fail((e as Error).message);
}
if (!values.server || !/^https?:\/\/[^\s]+$/.test(values.server)) fail('--server must be an http(s) URL');
const n = Number(values.vehicles);
if (!Number.isInteger(n) || n < 1 || n > 500) fail('--vehicles must be an integer 1…500');
const defs = (JSON.parse(readFileSync(join(FIXTURES_DIR, 'fleet.json'), 'utf8')) as { vehicles: VehicleDef[] }).vehicles;
if (n > defs.length) fail(`fixtures/fleet.json defines ${defs.length} buses; --vehicles ${n} is more`);
let keys: Record<string, string> = {};
if (values.keys) {
  try {
    keys = JSON.parse(readFileSync(values.keys, 'utf8'));
  } catch (e) {
    fail(`cannot read keys file: ${(e as Error).message}`);
  }
}
const rng = new Rng(Number(values.seed) || 1);
const agents = defs.slice(0, n).map(
  (v) =>
    new VehicleAgent({ serverUrl: values.server!.replace(/\/$/, ''), vehicleId: v.id, key: keys[v.id] ?? `${v.id}-demo-key`, start: v.start, soc: v.soc, batteryKWh: v.batteryKWh, clock: systemClock, rng: rng.fork() }),
);
const results = await Promise.allSettled(agents.map((a) => a.start()));
results.forEach((r, i) => process.stdout.write(`${defs[i].id}: ${r.status === 'fulfilled' ? 'connected' : `failed (${(r.reason as Error).message})`}\n`));
if (results.every((r) => r.status === 'rejected')) process.exit(1);
process.stdout.write(`${results.filter((r) => r.status === 'fulfilled').length} simulated buses driving; Ctrl-C to stop\n`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    for (const a of agents) a.stop();
    process.exit(0);
  });
}
