/**
 * Load and soak test of one KL Shuttle server (or a cluster behind --url):
 *   npm run load -- --vehicles 200 --consoles 50 --riders 200 --duration 60 [--url URL]
 *   npm run soak -- [--minutes 10] [--warmup 15]   (runs warm-up + minutes; memory and latencies after the warm-up)
 * Without --url the server runs as a child process (simulated fleet and demand off) with a generated fleet and
 * console logins; --write-fixtures DIR writes those files for a server started elsewhere (FLEET_FILE, STAFF_FILE).
 * Prints tables; the targets (fan-out p99 ≤ 50 ms, teleop command p99 ≤ 20 ms, 0 dropped, soak growth < 10 %) are
 * marked met or not; --strict exits 3 when one is not met.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { writeLoadFixtures } from './fixtures.ts';
import { TARGETS, afterWarmupReport, loadReport, soakGrowth, soakReport, windowLine, windowTable } from './report.ts';
import { runLoad } from './run.ts';

const USAGE = `usage: npm run load -- [--vehicles 200] [--consoles 50] [--riders 200] [--duration 60] [--url URL]
         [--drivers N] [--bookings-per-min N] [--hz 10] [--command-interval 500] [--seed 1]
         [--redis URL] [--cpu-prof DIR] [--json FILE] [--strict] [--write-fixtures DIR] [--no-pin]
       npm run soak -- [--minutes 10] [--warmup 15] (and the options above): warm-up, then the minutes measured`;

function fail(msg: string): never {
  process.stderr.write(`load: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

const int = (lo: number, hi: number) => z.coerce.number().int().min(lo).max(hi);
const argsSchema = z
  .object({
    vehicles: int(1, 2000).default(200),
    consoles: int(1, 500).default(50),
    riders: int(0, 5000).default(200),
    duration: int(5, 24 * 3600).default(60),
    url: z.string().regex(/^https?:\/\/\S+$/, 'must be an http(s) URL').optional(),
    drivers: int(0, 500).optional(),
    'bookings-per-min': z.coerce.number().min(0).max(10_000).optional(),
    hz: z.coerce.number().min(0.2).max(50).default(10),
    'command-interval': int(50, 60_000).default(500),
    seed: int(0, 2 ** 31 - 1).default(1),
    redis: z.string().regex(/^rediss?:\/\/\S+$/, 'must be a redis:// URL').optional(),
    'cpu-prof': z.string().min(1).optional(),
    json: z.string().min(1).optional(),
    strict: z.boolean().default(false),
    'write-fixtures': z.string().min(1).optional(),
    soak: z.boolean().default(false),
    'no-pin': z.boolean().default(false),
    minutes: int(1, 24 * 60).default(10),
    // rides live ~15 minutes at this load (pick-up and ride), so the live bookings, and the server's live data with
    // them, grow for about that long: the default warm-up lets them level off before memory growth is measured
    warmup: int(0, 120).default(15),
  })
  .refine((a) => (a.drivers ?? 0) <= a.consoles && (a.drivers ?? 0) <= a.vehicles, { message: 'drivers ≤ consoles and ≤ vehicles', path: ['drivers'] })
  .refine((a) => !a.soak || a.minutes >= 2, { message: 'growth needs two minutes after the warm-up', path: ['minutes'] });

let raw;
try {
  raw = parseArgs({
    options: {
      vehicles: { type: 'string' },
      consoles: { type: 'string' },
      riders: { type: 'string' },
      duration: { type: 'string' },
      url: { type: 'string' },
      drivers: { type: 'string' },
      'bookings-per-min': { type: 'string' },
      hz: { type: 'string' },
      'command-interval': { type: 'string' },
      seed: { type: 'string' },
      redis: { type: 'string' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string' },
      strict: { type: 'boolean' },
      'write-fixtures': { type: 'string' },
      soak: { type: 'boolean' },
      'no-pin': { type: 'boolean' },
      minutes: { type: 'string' },
      warmup: { type: 'string' },
    },
  }).values;
} catch (e) {
  fail((e as Error).message);
}
const parsed = argsSchema.safeParse(raw);
if (!parsed.success) fail(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; '));
const a = parsed.data;
// one driver console in five by default: they hold a bus each and send commands; the rest watch
const drivers = a.drivers ?? Math.min(a.vehicles, Math.max(1, Math.round(a.consoles / 5)));
const log = (line: string) => process.stderr.write(`load: ${line}\n`);

if (a['write-fixtures']) {
  const dir = resolve(a['write-fixtures']);
  const fx = await writeLoadFixtures(dir, { vehicles: a.vehicles, consoles: a.consoles, drivers, seed: a.seed });
  process.stdout.write(`wrote ${fx.fleetFile} and ${fx.staffFile}; start the server (or cluster) with\n  FLEET_FILE=${fx.fleetFile} STAFF_FILE=${fx.staffFile} SIM=off\nthen: npm run load -- --url URL --vehicles ${a.vehicles} --consoles ${a.consoles} --drivers ${drivers}\n`);
  process.exit(0);
}

// Ctrl-C: exit handlers take the child server down (a signal's default action would skip them)
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

const durationS = a.soak ? (a.warmup + a.minutes) * 60 : a.duration;
let cpuProfileDir: string | undefined;
if (a['cpu-prof']) {
  if (a.url) fail('--cpu-prof needs the child server (no --url)');
  cpuProfileDir = resolve(a['cpu-prof']);
  mkdirSync(cpuProfileDir, { recursive: true });
}
if (a.soak) log(`soak: a ${a.warmup}-minute warm-up, then ${a.minutes} minutes measured (memory growth, latencies)`);

try {
  const result = await runLoad({
    vehicles: a.vehicles,
    consoles: a.consoles,
    drivers,
    riders: a.riders,
    bookingsPerMin: a['bookings-per-min'] ?? a.riders / 2,
    hz: a.hz,
    durationS,
    commandIntervalMs: a['command-interval'],
    seed: a.seed,
    url: a.url,
    redisUrl: a.redis,
    cpuProfileDir,
    pin: !a['no-pin'],
    ...(a.soak ? { windowS: 60, warmupWindows: a.warmup, onWindow: (w) => log(windowLine(w)) } : {}),
    log,
  });
  const growth = a.soak ? soakGrowth(result.windows, a.warmup) : null;
  const out = [loadReport(result)];
  if (growth) out.push('', windowTable(result.windows), '', afterWarmupReport(result), '', soakReport(growth));
  if (cpuProfileDir) out.push('', `server CPU profile (.cpuprofile) in ${cpuProfileDir}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (a.json) writeFileSync(resolve(a.json), JSON.stringify({ ...result, ...(growth ? { soak: growth } : {}) }, null, 1));
  // a soak is judged on its steady state (after the warm-up); the whole run's figures are printed too
  const steady = result.afterWarmup;
  const [fan, tele, dropped] = growth ? [steady?.fanout, steady?.teleop, steady?.dropped] : [result.fanout.latency, result.teleop.roundTrip, result.fanout.dropped];
  const met = (fan?.p99 ?? Infinity) <= TARGETS.fanoutP99Ms && (tele?.p99 ?? (drivers ? Infinity : 0)) <= TARGETS.teleopP99Ms && dropped === TARGETS.dropped && (growth ? growth.met === true : true);
  process.exit(a.strict && !met ? 3 : 0);
} catch (e) {
  process.stderr.write(`load: failed: ${(e as Error).message}\n`);
  process.exit(1);
}
