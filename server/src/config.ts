import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * Server configuration from the environment, validated once at start-up: a bad value stops the process with a
 * message naming the variable, instead of surfacing later as a strange failure.
 */
const bool = z
  .enum(['1', '0', 'true', 'false', 'on', 'off', 'yes', 'no'])
  .transform((v) => ['1', 'true', 'on', 'yes'].includes(v));

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('./data'),
  REDIS_URL: z.string().url().optional(),
  REDIS_PREFIX: z.string().regex(/^[\w:.-]{1,40}$/).default('kl:'),
  OSM_FILE: z.string().optional(),
  OSRM_URL: z.string().url().optional(),
  SIM: bool.default(false),
  SIM_VEHICLES: z.coerce.number().int().min(0).max(500).default(6),
  SIM_DEMAND_PER_HOUR: z.coerce.number().min(0).max(10_000).default(40),
  SIM_SEED: z.coerce.number().int().default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  NODE_ENV: z.string().default('development'),
  AUTH_SECRET: z.string().min(16).optional(),
  STAFF_FILE: z.string().optional(),
  FLEET_FILE: z.string().optional(),
  INSTANCE_ID: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, _ . - (at most 64)').optional(),
  LEADER_LEASE_MS: z.coerce.number().int().min(500).max(60_000).optional(),
  TELEOP_LEASE_TIMEOUT_MS: z.coerce.number().int().min(100).max(10_000).optional(),
  TELEOP_LATENCY_BUDGET_MS: z.coerce.number().int().min(10).max(10_000).optional(),
  TELEOP_LATENCY_LIMIT_MS: z.coerce.number().int().min(10).max(10_000).optional(),
  TELEOP_VIDEO_DELAY_MS: z.coerce.number().int().min(0).max(5_000).optional(),
  TELEOP_SIM_RECOVER_MS: z.coerce.number().int().min(0).max(3_600_000).optional(),
  TELEOP_SIM_DRIVERS: bool.optional(),
});

/** Teleoperation settings (defaults in teleop/types.ts DEFAULT_TELEOP_CONFIG and teleop/service.ts). */
export interface TeleopSettings {
  /** the console heartbeat lease lapses after this (→ MRM); default 500 ms */
  leaseTimeoutMs?: number;
  /** control latency above which the permitted speed is reduced; default 200 ms */
  latencyBudgetMs?: number;
  /** control latency above which the bus runs an MRM; default 500 ms */
  latencyHardLimitMs?: number;
  /** camera-to-screen delay added to the two RTTs; default 80 ms */
  videoDelayMs?: number;
  /** simulated drivers staff every bus no human holds; default true */
  simulatedDrivers?: boolean;
  /** a simulated driver re-acquires and confirms a bus in safe_stop / emergency_stop after this; default 15 s */
  simRecoverMs?: number;
}

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  redisUrl?: string;
  /** key prefix in Redis, so several deployments (or test runs) can share one Redis */
  redisPrefix: string;
  osmFile?: string;
  osrmUrl?: string;
  sim: { enabled: boolean; vehicles: number; demandPerHour: number; seed: number };
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  production: boolean;
  /** HMAC secret for tokens; generated and kept in DATA_DIR when not configured. */
  authSecret?: string;
  /** staff logins; the demo file fixtures/staff.json is refused in production */
  staffFile?: string;
  /** the buses and their key hashes; default fixtures/fleet.json (demo keys, refused in production) */
  fleetFile?: string;
  instanceId: string;
  /** dispatcher leader lease with Redis: a dead leader is replaced within this (+ ~250 ms); default 3000 */
  leaderLeaseMs?: number;
  teleop?: TeleopSettings;
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  // an empty variable (REDIS_URL=) means "not set", as in most twelve-factor apps
  const parsed = envSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${issues}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: resolve(e.DATA_DIR),
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    osmFile: e.OSM_FILE,
    osrmUrl: e.OSRM_URL,
    sim: { enabled: e.SIM, vehicles: e.SIM_VEHICLES, demandPerHour: e.SIM_DEMAND_PER_HOUR, seed: e.SIM_SEED },
    logLevel: e.LOG_LEVEL,
    production: e.NODE_ENV === 'production',
    authSecret: e.AUTH_SECRET,
    staffFile: e.STAFF_FILE,
    fleetFile: e.FLEET_FILE,
    instanceId: e.INSTANCE_ID ?? `${process.pid}`,
    ...(e.LEADER_LEASE_MS !== undefined ? { leaderLeaseMs: e.LEADER_LEASE_MS } : {}),
    teleop: {
      ...(e.TELEOP_LEASE_TIMEOUT_MS !== undefined ? { leaseTimeoutMs: e.TELEOP_LEASE_TIMEOUT_MS } : {}),
      ...(e.TELEOP_LATENCY_BUDGET_MS !== undefined ? { latencyBudgetMs: e.TELEOP_LATENCY_BUDGET_MS } : {}),
      ...(e.TELEOP_LATENCY_LIMIT_MS !== undefined ? { latencyHardLimitMs: e.TELEOP_LATENCY_LIMIT_MS } : {}),
      ...(e.TELEOP_VIDEO_DELAY_MS !== undefined ? { videoDelayMs: e.TELEOP_VIDEO_DELAY_MS } : {}),
      ...(e.TELEOP_SIM_RECOVER_MS !== undefined ? { simRecoverMs: e.TELEOP_SIM_RECOVER_MS } : {}),
      ...(e.TELEOP_SIM_DRIVERS !== undefined ? { simulatedDrivers: e.TELEOP_SIM_DRIVERS } : {}),
    },
  };
}

let testInstances = 0;

/**
 * Defaults for tests and embedding: ephemeral port, no simulation, quiet logs; simulated drivers recover a safe
 * stop after 2 s (a stall of the test process can stop the simulated buses: see teleop/README.md).
 */
export function testConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    dataDir: resolve('data-test'),
    redisPrefix: 'kl-test:',
    sim: { enabled: false, vehicles: 0, demandPerHour: 0, seed: 1 },
    logLevel: 'silent',
    production: false,
    // unique per server: two test servers on one Redis must not share a lease owner
    instanceId: `test-${process.pid}-${++testInstances}`,
    teleop: { simRecoverMs: 2000 },
    ...overrides,
  };
}
