/**
 * The only place that listens. Reads the configuration from the environment, builds the app, starts the
 * embedded simulated fleet when SIM is on, and prints where everything is.
 */
import { createApp } from './app.ts';
import { configFromEnv } from './config.ts';
import { systemClock } from './core/clock.ts';
import { EmbeddedSimulation } from './sim/embedded.ts';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '@kl/routing/fixtures.ts';
import { runScenario } from './sim/runner.ts';
import { parseScenario } from './sim/scenario.ts';
import { writeReport } from './sim/report.ts';

async function main(): Promise<void> {
  const config = configFromEnv();
  const app = await createApp(config);
  const addr = await app.listen();
  const host = addr.address === '0.0.0.0' || addr.address === '::' ? 'localhost' : addr.address;
  const base = `http://${host}:${addr.port}`;
  let sim: EmbeddedSimulation | null = null;
  if (config.sim.enabled) {
    sim = new EmbeddedSimulation(app, `http://127.0.0.1:${addr.port}`, systemClock, {
      vehicles: config.sim.vehicles,
      demandPerHour: config.sim.demandPerHour,
      seed: config.sim.seed,
      keyOf: (v) => `${v.id}-demo-key`,
    });
    await sim.start();
  }
  await ensureDemoRun(config.dataDir, app).catch((e) => app.log.warn({ err: e }, 'could not record the demo run'));
  const lines = [
    '',
    'KL Shuttle is running',
    `  Rider app:   ${base}/`,
    `  Leitstand:   ${base}/leitstand/`,
    `  API:         ${base}/api/health   (OpenAPI: ${base}/api/openapi.json, metrics: ${base}/metrics)`,
    `  Store:       ${app.store.kind === 'redis' ? `Redis ${config.redisUrl}` : `embedded journal in ${config.dataDir}`}`,
    `  Simulation:  ${config.sim.enabled ? `${config.sim.vehicles} simulated buses, ~${config.sim.demandPerHour} requests/hour` : 'off'}`,
    '  Demo logins (Leitstand): dispatcher/dispatcher, driver1/driver1, driver2/driver2, driver3/driver3, admin/admin',
    '  Map data © OpenStreetMap contributors (ODbL)',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  const shutdown = async (sig: string) => {
    app.log.info({ sig }, 'shutting down');
    sim?.stop();
    await app.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((e) => {
  process.stderr.write(`kl-shuttle: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});

/**
 * A first start has no recorded runs yet: record the operators' test route (teststrecke, 45 simulated minutes,
 * under a second) so the Leitstand's replay has something to show right away.
 */
async function ensureDemoRun(dataDir: string, app: Awaited<ReturnType<typeof createApp>>): Promise<void> {
  const runs = join(dataDir, 'runs');
  if (existsSync(runs) && readdirSync(runs).length) return;
  const file = join(FIXTURES_DIR, 'scenarios', 'teststrecke.json');
  if (!existsSync(file)) return;
  const scenario = parseScenario(JSON.parse(readFileSync(file, 'utf8')), file);
  const dir = join(runs, 'teststrecke');
  mkdirSync(dir, { recursive: true });
  const out = createWriteStream(join(dir, 'events.ndjson'));
  const res = await runScenario({ engine: app.engine, scenario, sink: { write: (e) => out.write(`${JSON.stringify(e)}\n`), writeLine: (l) => out.write(`${l}\n`) } });
  await new Promise<void>((r) => out.end(() => r()));
  await writeReport(dir, scenario, res, scenario.seed);
}
