import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * The deployment topology as docker-compose.yml declares it, read by `npm run cluster` and the cluster tests so
 * the local processes mirror the compose file instead of a second description of it: which server instances
 * there are (services that build the server image and set INSTANCE_ID) and their environment. compose.test.ts
 * checks the rest of the file (Redis AOF and volume, proxy, health checks).
 */

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const COMPOSE_FILE = resolve(REPO_ROOT, 'docker-compose.yml');

const env = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String));
const service = z.looseObject({
  image: z.string().optional(),
  build: z.unknown().optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  environment: env.optional(),
  volumes: z.array(z.string()).optional(),
  ports: z.array(z.string()).optional(),
  depends_on: z.record(z.string(), z.looseObject({ condition: z.string() })).optional(),
  healthcheck: z.looseObject({ test: z.array(z.string()) }).optional(),
  profiles: z.array(z.string()).optional(),
});
const composeSchema = z.looseObject({ services: z.record(z.string(), service), volumes: z.record(z.string(), z.unknown().nullable()).optional() });

export type ComposeFile = z.infer<typeof composeSchema>;
export type ComposeService = z.infer<typeof service>;

export interface InstanceSpec {
  service: string;
  instanceId: string;
  /** the compose environment of the service (variables like ${AUTH_SECRET:?…} as written) */
  env: Record<string, string>;
}

export function readCompose(file = COMPOSE_FILE): ComposeFile {
  // merge keys (<<: *server) as docker compose resolves them
  return composeSchema.parse(parse(readFileSync(file, 'utf8'), { merge: true }));
}

/** The server instances: services with a build and an INSTANCE_ID, in file order. */
export function serverInstances(c: ComposeFile = readCompose()): InstanceSpec[] {
  return Object.entries(c.services)
    .filter(([, s]) => s.build !== undefined && s.environment?.INSTANCE_ID)
    .map(([name, s]) => ({ service: name, instanceId: s.environment!.INSTANCE_ID, env: s.environment! }));
}

/**
 * The environment a local process of an instance gets: the compose environment minus what only makes sense in
 * containers (addresses, paths, the interpolated secret), plus the local values.
 */
export function localEnv(spec: InstanceSpec, local: { port: number; redisUrl: string; redisPrefix: string; dataDir: string; authSecret: string; extra?: Record<string, string> }): Record<string, string> {
  const { PORT: _p, HOST: _h, REDIS_URL: _r, REDIS_PREFIX: _x, OSM_FILE: _o, DATA_DIR: _d, AUTH_SECRET: _a, ...rest } = spec.env;
  return {
    ...rest,
    PORT: String(local.port),
    HOST: '127.0.0.1',
    REDIS_URL: local.redisUrl,
    REDIS_PREFIX: local.redisPrefix,
    DATA_DIR: local.dataDir,
    AUTH_SECRET: local.authSecret,
    ...local.extra,
  };
}
