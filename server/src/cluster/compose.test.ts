import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFromEnv } from '../config.ts';
import { localEnv, readCompose, REPO_ROOT, serverInstances } from './topology.ts';

/**
 * docker-compose.yml cannot be run here (no Docker engine), so its promises are checked by reading it: Redis with
 * AOF on a volume, two instances of one image sharing Redis and the token secret, a proxy with websocket upgrade,
 * sticky sessions and health checks in front, health checks everywhere. The local topology (harness.ts, used by
 * `npm run cluster` and cluster.test.ts) is built from the same file; the last test checks that it keeps what
 * the compose file says about each instance.
 */

const compose = readCompose();
const instances = serverInstances(compose);
const svc = (name: string) => compose.services[name];
const namedVolumes = (vols: string[] = []) => vols.map((v) => v.split(':')[0]).filter((v) => !v.startsWith('.') && !v.startsWith('/'));

describe('docker-compose.yml (checked by reading; mirrored by the local topology)', () => {
  it('Redis persists with AOF on a named volume and has a health check', () => {
    const redis = svc('redis');
    expect(redis.image).toMatch(/^redis:7/);
    const cmd = ([] as string[]).concat(redis.command ?? []).join(' ');
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--appendfsync (always|everysec)/);
    expect(redis.volumes).toContain('redis-data:/data');
    expect(redis.healthcheck?.test.join(' ')).toMatch(/redis-cli.*ping/);
  });

  it('two server instances of one image: distinct INSTANCE_ID, same Redis, prefix and token secret, health checks', () => {
    expect(instances.length).toBeGreaterThanOrEqual(2);
    expect(new Set(instances.map((i) => i.instanceId)).size).toBe(instances.length);
    const same = (k: string) => new Set(instances.map((i) => i.env[k])).size === 1 && instances[0].env[k] !== undefined;
    for (const k of ['REDIS_URL', 'REDIS_PREFIX', 'AUTH_SECRET', 'PORT', 'LEADER_LEASE_MS']) expect(same(k), k).toBe(true);
    expect(instances[0].env.REDIS_URL).toBe('redis://redis:6379');
    // the secret comes from the operator, required (compose refuses to start without it), never a default
    expect(instances[0].env.AUTH_SECRET).toMatch(/^\$\{AUTH_SECRET:\?/);
    expect(Number(instances[0].env.LEADER_LEASE_MS)).toBeLessThanOrEqual(4500); // take-over within 5 s
    const dataVolumes = instances.map((i) => svc(i.service).volumes?.find((v) => v.endsWith(`:${i.env.DATA_DIR}`)));
    expect(dataVolumes.every(Boolean)).toBe(true);
    expect(new Set(dataVolumes).size).toBe(instances.length);
    for (const i of instances) {
      const s = svc(i.service);
      expect(s.build).toBe('.');
      expect(s.image).toBe(svc(instances[0].service).image);
      expect(s.depends_on?.redis?.condition).toBe('service_healthy');
      expect(s.healthcheck?.test.join(' ')).toContain(`http://127.0.0.1:${i.env.PORT}/api/health`);
      expect(s.volumes?.some((v) => v.endsWith(`:${i.env.OSM_FILE.replace(/\/[^/]+$/, '')}:ro`))).toBe(true);
      // the compose environment is a valid server configuration
      const cfg = configFromEnv({ ...i.env, AUTH_SECRET: 'x'.repeat(32) });
      expect(cfg.instanceId).toBe(i.instanceId);
      expect(cfg.sim.enabled).toBe(false); // buses come from the fleet service, through the proxy
    }
  });

  it('the proxy in front: every instance upstream, sticky cookie, websocket upgrade, health checks, one published port', () => {
    const proxy = svc('proxy');
    expect(proxy.ports).toEqual(['8080:80']);
    const mount = proxy.volumes?.find((v) => v.includes('Caddyfile'));
    expect(mount).toBe('./deploy/Caddyfile:/etc/caddy/Caddyfile:ro');
    const file = resolve(REPO_ROOT, 'deploy/Caddyfile');
    expect(existsSync(file)).toBe(true);
    const caddy = readFileSync(file, 'utf8').replace(/#.*$/gm, '');
    for (const i of instances) {
      expect(caddy).toContain(`${i.service}:${i.env.PORT}`);
      expect(proxy.depends_on?.[i.service]?.condition).toBe('service_healthy');
    }
    expect(caddy).toMatch(/lb_policy cookie kl_backend/); // same cookie as the local proxy
    expect(caddy).toMatch(/health_uri \/api\/health/);
    expect(caddy).toMatch(/lb_try_duration/);
    // Caddy proxies websocket upgrades by itself; nothing in the file may turn buffering on for them
    expect(caddy).not.toMatch(/buffer_requests|buffer_responses/);
    expect(proxy.healthcheck?.test.join(' ')).toMatch(/\/api\/health/);
  });

  it('every named volume is declared; the image is built from the Dockerfile that starts the server', () => {
    const used = new Set(Object.values(compose.services).flatMap((s) => namedVolumes(s.volumes)));
    for (const v of used) expect(Object.keys(compose.volumes ?? {}), v).toContain(v);
    const docker = readFileSync(resolve(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(docker).toMatch(/^FROM node:20/m);
    expect(docker).toMatch(/RUN npm ci/);
    expect(docker).toMatch(/CMD \["node", "--import", "tsx", "server\/src\/main.ts"\]/);
    expect(docker).toContain(`EXPOSE ${instances[0].env.PORT}`);
    const fleet = svc('fleet');
    expect(fleet.image).toBe(svc(instances[0].service).image);
    expect(([] as string[]).concat(fleet.command ?? []).join(' ')).toContain('--server http://proxy:80');
  });

  it('the local topology keeps each instance\'s compose settings (only addresses, paths and the secret are local)', () => {
    for (const i of instances) {
      const env = localEnv(i, { port: 1234, redisUrl: 'redis://127.0.0.1:9', redisPrefix: 'kl-t:', dataDir: '/tmp/x', authSecret: 's'.repeat(20) });
      expect(env.INSTANCE_ID).toBe(i.instanceId);
      for (const [k, v] of Object.entries(i.env)) {
        if (['PORT', 'HOST', 'REDIS_URL', 'REDIS_PREFIX', 'OSM_FILE', 'DATA_DIR', 'AUTH_SECRET'].includes(k)) continue;
        expect(env[k], k).toBe(v);
      }
      expect(configFromEnv(env).redisUrl).toBe('redis://127.0.0.1:9');
    }
  });
});
