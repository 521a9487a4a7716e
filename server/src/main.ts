/**
 * The only place that listens. Reads the configuration from the environment, builds the app, starts the
 * embedded simulated fleet when SIM is on, and prints where everything is.
 */
import { createApp } from './app.ts';
import { configFromEnv } from './config.ts';
import { systemClock } from './core/clock.ts';
import { EmbeddedSimulation } from './sim/embedded.ts';

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
