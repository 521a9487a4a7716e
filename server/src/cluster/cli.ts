/**
 * `npm run cluster`: the topology of docker-compose.yml as local processes, for trying it by hand: every server
 * instance of the compose file on its own port, the sticky reverse proxy in front, simulated buses through the
 * proxy. Needs a reachable Redis (REDIS_URL, default redis://127.0.0.1:6379). Ctrl-C stops everything.
 *
 *   npm run cluster -- [--port 8080] [--vehicles 6]
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cliStart, startLocalCluster } from './harness.ts';
import { REPO_ROOT } from './topology.ts';

const { args, redisUrl, fail } = await cliStart('cluster', 'npm run cluster -- [--port 8080] [--vehicles 6]', {
  port: { default: 8080, min: 1, max: 65_000 },
  vehicles: { default: 6, min: 0, max: 8 }, // fixtures/fleet.json
});
const { port, vehicles } = args;

// the web apps, as `npm start` builds them
for (const ui of ['control-room-ui', 'rider-app']) {
  if (existsSync(resolve(REPO_ROOT, ui, 'vite.config.ts')) && !existsSync(resolve(REPO_ROOT, ui, 'dist', 'index.html'))) {
    process.stdout.write(`building ${ui} …\n`);
    if (spawnSync('npm', ['run', 'build', '-w', ui], { cwd: REPO_ROOT, stdio: 'inherit' }).status !== 0) process.exit(1);
  }
}

// one token secret for all instances, kept so logins survive a restart of the cluster
const dataRoot = resolve(REPO_ROOT, 'data', 'cluster');
mkdirSync(dataRoot, { recursive: true });
const secretFile = join(dataRoot, 'auth-secret');
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('base64'), { mode: 0o600 });
const authSecret = process.env.AUTH_SECRET || readFileSync(secretFile, 'utf8').trim();

process.stdout.write(`starting the instances of docker-compose.yml on Redis ${redisUrl} …\n`);
const cluster = await startLocalCluster({
  redisUrl,
  prefix: process.env.REDIS_PREFIX || 'kl:',
  authSecret,
  proxyPort: port,
  ports: Array.from({ length: 8 }, (_, i) => port + 1 + i),
  dataRoot,
  echo: true,
  env: { LOG_LEVEL: process.env.LOG_LEVEL || 'warn' },
}).catch((e: Error) => fail(e.message));

const fleet =
  vehicles > 0
    ? spawn(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'server/src/sim/fleet-cli.ts'), '--server', cluster.proxy!.url, '--vehicles', String(vehicles)], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    : null;
for (const stream of [fleet?.stdout, fleet?.stderr]) stream?.on('data', (d: Buffer) => process.stdout.write(d.toString().replace(/^(?=.)/gm, '[fleet] ')));

const leader = await cluster.leader();
const lines = [
  '',
  'KL Shuttle cluster is running (the topology of docker-compose.yml)',
  `  Proxy:       ${cluster.proxy!.url}/   (Leitstand: ${cluster.proxy!.url}/leitstand/)   sticky cookie kl_backend`,
  ...cluster.instances.map((p) => `  ${p.name.padEnd(12)} ${p.url}/api/health   pid ${p.child?.pid}${p === leader ? '   ← dispatcher leader' : ''}`),
  `  Redis:       ${redisUrl}   prefix ${cluster.prefix}`,
  `  Buses:       ${vehicles ? `${vehicles} simulated, connected through the proxy` : 'none (--vehicles 0)'}`,
  '  Try: kill -9 the leader\'s pid — the other instance takes over within a few seconds.',
  '  Demo logins (Leitstand): dispatcher/dispatcher, driver1/driver1, admin/admin.  Ctrl-C stops everything.',
  '',
];
process.stdout.write(lines.join('\n') + '\n');

let stopping = false;
for (const p of cluster.instances) {
  p.child?.on('exit', (code, sig) => {
    if (!stopping) process.stdout.write(`cluster: ${p.name} exited (${code ?? sig}); the others go on\n`);
  });
}
const stop = async () => {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nstopping …\n');
  fleet?.kill('SIGTERM');
  await cluster.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
