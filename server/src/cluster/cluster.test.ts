import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VehicleAgent } from '../sim/agent.ts';
import { crossInstance, dropAndRestore, followerBooking, killLeader, restartRedis, roles, startBus, table, type Check, type Roles } from './faults.ts';
import { dropPrefix, haveRedisServer, startLocalCluster, startRedisServer, type LocalCluster, type RedisProc } from './harness.ts';

/**
 * The compose topology as local processes (two real server processes from docker-compose.yml, the sticky proxy,
 * real Redis, real socket.io clients and simulated buses): the short form of `npm run faults`.
 * The shared Redis (REDIS_URL) is used with a prefix of this run only; the Redis restart runs against a
 * redis-server of its own on a free port, never the machine's.
 */

const REDIS_URL = process.env.REDIS_URL;
const ALL_BUSES = ['bus-1', 'bus-2', 'bus-3', 'bus-4', 'bus-5', 'bus-6', 'bus-7', 'bus-8'];
// simulated drivers must not recover the safe stop the test looks for
const ENV = { TELEOP_SIM_RECOVER_MS: '600000' };

function expectAll(checks: Check[]): void {
  process.stdout.write(`${table(checks)}\n`);
  for (const c of checks) expect.soft(c.ok, `${c.fault}: ${c.checked} — ${c.detail}`).toBe(true);
}

describe.skipIf(!REDIS_URL)('several instances on one Redis (the docker-compose topology as local processes)', () => {
  let main: LocalCluster;
  let r: Roles;
  let own: { redis: RedisProc; cluster: LocalCluster; roles: Roles } | null = null;
  const agents: VehicleAgent[] = [];

  beforeAll(async () => {
    const withOwnRedis = async () => {
      if (!(await haveRedisServer())) return null;
      const redis = await startRedisServer();
      const cluster = await startLocalCluster({ redisUrl: redis.url, env: ENV });
      return { redis, cluster, roles: await roles(cluster) };
    };
    [main, own] = await Promise.all([startLocalCluster({ redisUrl: REDIS_URL!, env: ENV }), withOwnRedis()]);
    r = await roles(main);
    // buses 1–2 on the leader (A), 3–5 on the follower (B), straight to the instances (not via the proxy)
    agents.push(...(await Promise.all([1, 2].map((n) => startBus(r.leader.url, `bus-${n}`, n)))));
    agents.push(...(await Promise.all([3, 4, 5].map((n) => startBus(r.follower.url, `bus-${n}`, n)))));
    if (own) {
      agents.push(await startBus(own.roles.leader.url, 'bus-1', 101));
      agents.push(...(await Promise.all([3, 4].map((n) => startBus(own!.roles.follower.url, `bus-${n}`, 100 + n)))));
    }
  });

  afterAll(async () => {
    for (const p of [...(main?.instances ?? []), ...(own?.cluster.instances ?? [])]) {
      if (process.env.CLUSTER_TEST_LOGS) process.stdout.write(`---- ${p.name} (${p.url})\n${p.output().slice(-6000)}\n`);
    }
    for (const a of agents) a.stop();
    await main?.close();
    if (main) await dropPrefix(REDIS_URL!, main.prefix);
    await own?.cluster.close();
    await own?.redis.close();
  });

  it('a console on B sees a bus connected to A (snapshot and stream) and drives it through A', async () => {
    expectAll(await crossInstance(main, r.leader, r.follower, agents[0]));
  });

  it('a booking sent to the follower is decided by the leader and confirmed exactly once', async () => {
    expectAll(await followerBooking(main, r));
  });

  it('a console and a bus lose their connection and come back: clients converge, the bus ends in safe_stop', async () => {
    expectAll(await dropAndRestore(main, r.leader, r.follower, agents[1]));
  });

  it('kill -9 of the dispatching instance under load: take-over within 5 s, nothing confirmed lost or doubled', async () => {
    expectAll(await killLeader(main, r, { riders: 3, paceMs: 300, beforeMs: 2500, afterMs: 2500, busIds: ALL_BUSES, busesOnLeader: ['bus-1', 'bus-2'] }));
  });

  it('Redis restarts under load: the instances reconnect and keep serving, nothing confirmed lost', async (ctx) => {
    if (!own) return ctx.skip();
    const bus = agents.find((a) => a.vehicleId === 'bus-1' && a !== agents[0])!;
    expectAll(await restartRedis(own.cluster, own.redis, own.roles, bus, { riders: 2, paceMs: 300, beforeMs: 2000, downMs: 1500, afterMs: 2500, busIds: ALL_BUSES }));
  });
});
