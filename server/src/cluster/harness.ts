import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from 'redis';
import { startProxy, type RunningProxy } from './proxy.ts';
import { localEnv, REPO_ROOT, serverInstances, type InstanceSpec } from './topology.ts';

/**
 * The compose topology as local processes (`npm run cluster`, cluster.test.ts, `npm run faults`): every server
 * instance of docker-compose.yml as its own `node server/src/main.ts` (so kill -9 kills a real server), the
 * Node reverse proxy in front, and optionally a private redis-server child on a free port (to restart Redis
 * without touching anybody else's).
 */

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function redisAnswers(url: string): Promise<boolean> {
  const c = createClient({ url, socket: { connectTimeout: 500, reconnectStrategy: false } });
  c.on('error', () => {});
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    if (c.isOpen) await c.quit().catch(() => {});
  }
}

export { redisAnswers };

/**
 * The command-line tools' start: numeric options (`--name N`, checked against their ranges) and a Redis that
 * answers (REDIS_URL, default redis://127.0.0.1:6379). Bad input: a message naming it, the usage, exit code 2.
 */
export async function cliStart<K extends string>(
  name: string,
  usage: string,
  options: Record<K, { default: number; min: number; max: number }>,
): Promise<{ args: Record<K, number>; redisUrl: string; fail: (msg: string) => never }> {
  const fail = (msg: string): never => {
    process.stderr.write(`${name}: ${msg}\nusage: ${usage}   (REDIS_URL, default redis://127.0.0.1:6379)\n`);
    process.exit(2);
  };
  let values: Record<string, string | undefined> = {};
  try {
    values = parseArgs({ options: Object.fromEntries(Object.keys(options).map((k) => [k, { type: 'string' as const }])) }).values as Record<string, string | undefined>;
  } catch (e) {
    fail((e as Error).message);
  }
  const args = {} as Record<K, number>;
  for (const [k, o] of Object.entries(options) as Array<[K, { default: number; min: number; max: number }]>) {
    const v = values[k] === undefined ? o.default : Number(values[k]);
    if (!Number.isInteger(v) || v < o.min || v > o.max) fail(`--${k} must be an integer ${o.min}…${o.max}`);
    args[k] = v;
  }
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  if (!(await redisAnswers(redisUrl))) fail(`no Redis answers at ${redisUrl}: start one (redis-server) or set REDIS_URL`);
  return { args, redisUrl, fail };
}

// ------------------------------------------------------------------ Redis of its own

export interface RedisProc {
  url: string;
  port: number;
  /** stop (SIGTERM: Redis writes its AOF and exits) */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Is redis-server installed (CI installs it; the restart fault needs it)? */
export function haveRedisServer(): Promise<boolean> {
  return new Promise((res) => {
    const p = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    p.on('error', () => res(false));
    p.on('exit', (code) => res(code === 0));
  });
}

export async function startRedisServer(): Promise<RedisProc> {
  const dir = await mkdtemp(join(tmpdir(), 'kl-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    // the compose file's durability: AOF, fsync per write; no RDB snapshots
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if (await redisAnswers(url)) return;
      await sleep(50);
    }
    throw new Error(`redis-server on ${port} did not start`);
  };
  const stop = async () => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  };
  await start();
  return {
    url,
    port,
    start,
    stop,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Removes every key of a test run (unique prefix) from a shared Redis. */
export async function dropPrefix(url: string, prefix: string): Promise<void> {
  const c = createClient({ url });
  c.on('error', () => {});
  await c.connect();
  for await (const keys of c.scanIterator({ MATCH: `${prefix}*`, COUNT: 200 })) if (keys.length) await c.del(keys);
  await c.quit();
}

// ------------------------------------------------------------------ server instances

export interface InstanceProc {
  spec: InstanceSpec;
  name: string;
  url: string;
  port: number;
  readonly child: ChildProcess | null;
  /** everything the process printed (last 64 kB) */
  output(): string;
  /** kill -9 (no shutdown hook runs) and wait for the exit */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit */
  stop(): Promise<void>;
  /** start again on the same port */
  start(): Promise<void>;
}

export interface InstanceOptions {
  redisUrl: string;
  redisPrefix: string;
  authSecret: string;
  dataDir: string;
  port: number;
  /** extra environment (LOG_LEVEL, TELEOP_SIM_RECOVER_MS …) */
  env?: Record<string, string>;
  /** echo the output with a `[name]` prefix (npm run cluster) */
  echo?: boolean;
}

export function instance(spec: InstanceSpec, o: InstanceOptions): InstanceProc {
  let child: ChildProcess | null = null;
  let out = '';
  const url = `http://127.0.0.1:${o.port}`;
  const append = (d: Buffer) => {
    out = (out + d.toString()).slice(-65_536);
    if (o.echo) for (const line of d.toString().split('\n')) if (line.trim()) process.stdout.write(`[${spec.instanceId}] ${line}\n`);
  };
  const start = () =>
    new Promise<void>((res, rej) => {
      // node itself is the child (tsx as a loader), so SIGKILL really kills the server and not just a wrapper
      const c = spawn(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'server/src/main.ts')], {
        cwd: REPO_ROOT,
        env: { ...process.env, LOG_LEVEL: 'warn', SIM: 'off', ...localEnv(spec, o), ...o.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = c;
      let ready = false;
      const t = setTimeout(() => rej(new Error(`${spec.instanceId} did not start within 90 s:\n${out}`)), 90_000);
      c.stdout!.on('data', (d: Buffer) => {
        append(d);
        if (!ready && out.includes('Rider app:')) {
          ready = true;
          clearTimeout(t);
          res();
        }
      });
      c.stderr!.on('data', append);
      c.on('exit', (code, sig) => {
        if (ready) return;
        clearTimeout(t);
        rej(new Error(`${spec.instanceId} exited (${code ?? sig}) before it was ready:\n${out}`));
      });
    });
  const waitExit = async (sig: NodeJS.Signals) => {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(sig);
    await exited;
  };
  return {
    spec,
    name: spec.instanceId,
    url,
    port: o.port,
    get child() {
      return child;
    },
    output: () => out,
    kill9: () => waitExit('SIGKILL'),
    stop: () => waitExit('SIGTERM'),
    start,
  };
}

// ------------------------------------------------------------------ the whole topology

export interface LocalCluster {
  redisUrl: string;
  prefix: string;
  authSecret: string;
  instances: InstanceProc[];
  proxy: RunningProxy | null;
  /** the instance that leads the dispatcher now (by /api/health), or null */
  leader(): Promise<InstanceProc | null>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  redisUrl: string;
  /** unique per run so parallel runs on one Redis never collide; default kl-<random>: */
  prefix?: string;
  authSecret?: string;
  /** proxy port (0: any free one); null: no proxy */
  proxyPort?: number | null;
  /** instance ports; default free ones */
  ports?: number[];
  env?: Record<string, string>;
  echo?: boolean;
  /** keep the instances' data directories (npm run cluster keeps them under ./data/cluster) */
  dataRoot?: string;
}

export async function health(url: string): Promise<{ status: number; json: any } | null> {
  try {
    const r = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(2000) });
    return { status: r.status, json: await r.json() };
  } catch {
    return null;
  }
}

export async function startLocalCluster(o: ClusterOptions): Promise<LocalCluster> {
  const prefix = o.prefix ?? `kl-${randomBytes(4).toString('hex')}:`;
  const authSecret = o.authSecret ?? randomBytes(24).toString('base64');
  const specs = serverInstances();
  const tmpRoot = o.dataRoot ? null : await mkdtemp(join(tmpdir(), 'kl-cluster-'));
  const root = o.dataRoot ?? tmpRoot!;
  const instances: InstanceProc[] = [];
  for (const [i, spec] of specs.entries()) {
    const port = o.ports?.[i] ?? (await freePort());
    instances.push(instance(spec, { redisUrl: o.redisUrl, redisPrefix: prefix, authSecret, dataDir: join(root, spec.instanceId), port, env: o.env, echo: o.echo }));
  }
  try {
    await Promise.all(instances.map((p) => p.start()));
  } catch (e) {
    await Promise.all(instances.map((p) => p.kill9()));
    if (tmpRoot) await rm(tmpRoot, { recursive: true, force: true });
    throw e;
  }
  const proxy = o.proxyPort === null ? null : await startProxy({ backends: instances.map((p) => ({ name: p.name, url: p.url })), port: o.proxyPort ?? 0 });
  return {
    redisUrl: o.redisUrl,
    prefix,
    authSecret,
    instances,
    proxy,
    async leader() {
      for (const p of instances) {
        if (!p.child) continue;
        const h = await health(p.url);
        if (h?.json?.dispatcher?.leader) return p;
      }
      return null;
    },
    async close() {
      await proxy?.close();
      await Promise.all(instances.map((p) => p.stop()));
      if (tmpRoot) await rm(tmpRoot, { recursive: true, force: true });
    },
  };
}
