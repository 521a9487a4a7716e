/**
 * Scenario runner:
 *   npm run sim -- SCENARIO.json --out DIR [--seed N] [--speed max|FACTOR]
 * Writes DIR/events.ndjson, DIR/kpis.json, DIR/report.md and SVG charts. A progress bar is drawn only when stdout
 * is a terminal.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { RoutingEngine } from '@kl/routing';
import { runScenario } from './runner.ts';
import { parseScenario, ScenarioError } from './scenario.ts';
import { writeReport } from './report.ts';

const USAGE = 'usage: npm run sim -- SCENARIO.json --out DIR [--seed N] [--speed max|FACTOR]';

function fail(msg: string, code = 2): never {
  process.stderr.write(`sim: ${msg}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, options: { out: { type: 'string' }, seed: { type: 'string' }, speed: { type: 'string', default: 'max' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (positionals.length !== 1) fail(`give exactly one scenario file\n${USAGE}`);
  if (!values.out) fail(`--out DIR is required\n${USAGE}`);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0)) fail('--seed must be a non-negative integer');
  const speed = values.speed === 'max' ? 'max' : Number(values.speed);
  if (speed !== 'max' && !(speed > 0)) fail('--speed must be "max" or a positive factor');

  let json: unknown;
  const file = resolve(positionals[0]);
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    fail(`cannot read ${file}: ${(e as Error).message}`);
  }
  let scenario;
  try {
    scenario = parseScenario(json, file);
  } catch (e) {
    if (e instanceof ScenarioError) fail(e.message);
    throw e;
  }
  const out = resolve(values.out);
  await mkdir(out, { recursive: true });
  const engine = await RoutingEngine.load({ log: (m) => process.stderr.write(`${m}\n`) });
  const stream = createWriteStream(join(out, 'events.ndjson'));
  const tty = process.stdout.isTTY;
  const bar = tty ? new cliProgress.SingleBar({ format: `${scenario.name} [{bar}] {percentage}% | sim {sim} | {eta_formatted} left` }, cliProgress.Presets.shades_classic) : null;
  bar?.start(100, 0, { sim: '00:00' });
  const t0 = performance.now();
  const res = await runScenario({
    engine,
    scenario,
    seed,
    speed,
    sink: { write: (e) => stream.write(`${JSON.stringify(e)}\n`), writeLine: (l) => stream.write(`${l}\n`) },
    onProgress: (done, total) => bar?.update(Math.floor((100 * done) / total), { sim: `${String(Math.floor(done / 3600_000)).padStart(2, '0')}:${String(Math.floor(done / 60_000) % 60).padStart(2, '0')}` }),
  });
  bar?.stop();
  await new Promise<void>((r) => stream.end(() => r()));
  await writeReport(out, scenario, res, seed ?? scenario.seed);
  const wall = (performance.now() - t0) / 1000;
  process.stdout.write(
    `${scenario.name}: ${res.kpis.requests} requests, ${res.kpis.served} served, ${res.kpis.rejected} rejected, promises kept ${res.kpis.promisesKeptPct ?? '–'} %; ${res.events} events; ${(res.simulatedMs / 1000 / wall).toFixed(0)}× real time (${wall.toFixed(1)} s)\nwrote ${join(out, 'events.ndjson')}, kpis.json, report.md\n`,
  );
}

main().catch((e) => fail((e as Error).stack ?? String(e), 1));
