/**
 * `npm run faults`: the faults of issue 9 against the compose topology as local processes, with a longer load
 * than the test (cluster.test.ts), printing one table: each fault, what was checked, the result.
 *
 *   npm run faults -- [--seconds 20] [--riders 4]      (REDIS_URL, default redis://127.0.0.1:6379)
 *
 * The shared Redis is used under a prefix of this run only (removed afterwards); the Redis restart runs on a
 * redis-server of its own on a free port (skipped when redis-server is not installed). Exit code 1 when a check
 * failed.
 */
import type { VehicleAgent } from '../sim/agent.ts';
import { crossInstance, dropAndRestore, followerBooking, killLeader, restartRedis, roles, startBus, table, type Check } from './faults.ts';
import { cliStart, dropPrefix, haveRedisServer, startLocalCluster, startRedisServer } from './harness.ts';

const { args, redisUrl } = await cliStart('faults', 'npm run faults -- [--seconds 20] [--riders 4]', {
  seconds: { default: 20, min: 4, max: 600 },
  riders: { default: 4, min: 1, max: 50 },
});
const { seconds, riders } = args;

const ALL = ['bus-1', 'bus-2', 'bus-3', 'bus-4', 'bus-5', 'bus-6', 'bus-7', 'bus-8'];
const ENV = { TELEOP_SIM_RECOVER_MS: '600000' };
const half = Math.round((seconds * 1000) / 2);
const checks: Check[] = [];
const agents: VehicleAgent[] = [];
const t0 = Date.now();
const log = (m: string) => process.stdout.write(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${m}\n`);

log(`starting the topology on ${redisUrl} (two instances, proxy) …`);
const main = await startLocalCluster({ redisUrl, env: ENV });
try {
  const r = await roles(main);
  agents.push(...(await Promise.all([1, 2].map((n) => startBus(r.leader.url, `bus-${n}`, n)))));
  agents.push(...(await Promise.all([3, 4, 5, 6].map((n) => startBus(r.follower.url, `bus-${n}`, n)))));
  log(`leader ${r.leader.name}, follower ${r.follower.name}; buses 1–2 on the leader, 3–6 on the follower`);
  checks.push(...(await crossInstance(main, r.leader, r.follower, agents[0])));
  checks.push(...(await followerBooking(main, r)));
  checks.push(...(await dropAndRestore(main, r.leader, r.follower, agents[1])));
  log(`kill -9 of ${r.leader.name} after ${half} ms of load, ${half} ms more after …`);
  checks.push(...(await killLeader(main, r, { riders, paceMs: 250, beforeMs: half, afterMs: half, busIds: ALL, busesOnLeader: ['bus-1', 'bus-2'] })));
} finally {
  for (const a of agents.splice(0)) a.stop();
  await main.close();
  await dropPrefix(redisUrl, main.prefix);
}

if (await haveRedisServer()) {
  log('Redis restart: a redis-server of its own, a second topology on it …');
  const redis = await startRedisServer();
  const c = await startLocalCluster({ redisUrl: redis.url, env: ENV });
  try {
    const r = await roles(c);
    const bus = await startBus(r.leader.url, 'bus-1', 101);
    agents.push(bus, ...(await Promise.all([3, 4, 5].map((n) => startBus(r.follower.url, `bus-${n}`, 100 + n)))));
    checks.push(...(await restartRedis(c, redis, r, bus, { riders, paceMs: 250, beforeMs: half, downMs: 3000, afterMs: half, busIds: ALL })));
  } finally {
    for (const a of agents.splice(0)) a.stop();
    await c.close();
    await redis.close();
  }
} else checks.push({ fault: 'Redis restart', checked: 'not run', ok: true, detail: 'redis-server not installed' });

process.stdout.write(`\n${table(checks)}\n\n${checks.filter((c) => c.ok).length} passed, ${checks.filter((c) => !c.ok).length} failed (load ${seconds} s per fault, ${riders} riders)\n`);
process.exit(checks.every((c) => c.ok) ? 0 : 1);
