import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createWriteStream, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const ROOT = resolve(import.meta.dirname, '..', '..');

export interface ServerChild {
  url: string;
  pid: number;
  logFile: string;
  /** SIGTERM (the server shuts down cleanly and writes its CPU profile), SIGKILL after 15 s */
  stop(): Promise<void>;
}

/**
 * The server under test as a child process of its own (so its CPU and memory are measured apart from the load),
 * started as `npm start` starts it (main.ts under tsx) with the simulated fleet and demand off: all load is ours.
 * PORT=0: main.ts prints the port it got. Its output goes to `<dataDir>/server.log`.
 */
export async function startServerChild(o: { dataDir: string; fleetFile: string; staffFile: string; redisUrl?: string; cpuProfileDir?: string; startTimeoutMs?: number; cpus?: string }): Promise<ServerChild> {
  const logFile = join(o.dataDir, 'server.log');
  const log = createWriteStream(logFile);
  const args = ['--import', 'tsx', ...(o.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', o.cpuProfileDir] : []), join(ROOT, 'server', 'src', 'main.ts')];
  // `cpus`: on those CPUs only (taskset execs node: same pid); the caller may run on others
  const [cmd, argv] = o.cpus !== undefined ? ['taskset', ['-c', o.cpus, process.execPath, ...args]] : [process.execPath, args];
  const child: ChildProcess = spawn(cmd, argv, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      SIM: 'off',
      SIM_DEMAND_PER_HOUR: '0',
      DATA_DIR: o.dataDir,
      FLEET_FILE: o.fleetFile,
      STAFF_FILE: o.staffFile,
      LOG_LEVEL: 'warn',
      NODE_ENV: 'development',
      // never the caller's REDIS_URL by accident (tests export one): Redis only when asked, under a prefix of its own
      REDIS_URL: o.redisUrl ?? '',
      REDIS_PREFIX: `kl-load-${process.pid}:`,
    },
  });
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // never leave the server behind, whatever ends this process
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  void exited.then(() => process.off('exit', orphan));
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`server did not start within ${(o.startTimeoutMs ?? 180_000) / 1000} s (log: ${logFile})`)), o.startTimeoutMs ?? 180_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /Rider app:\s+(http:\/\/[^\s/]+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        res(m[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`server exited with code ${code} before it listened:\n${tail(logFile)}`));
    });
  });
  return {
    url,
    pid: child.pid!,
    logFile,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
      log.end();
    },
  };
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * CPU seconds, resident memory and bytes written (sockets included) of a process from /proc (Linux), readable even
 * while its event loop is stuck.
 */
export function procUsage(pid: number): { cpuSeconds: number; rssBytes: number; writtenBytes: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name (which may contain spaces): state is field 3, utime/stime are 14/15
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]);
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    const wchar = /wchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return { cpuSeconds: ticks / CLK_TCK, rssBytes: rss ? Number(rss[1]) * 1024 : NaN, writtenBytes: wchar ? Number(wchar[1]) : NaN };
  } catch {
    return null;
  }
}
const METRICS_EVERY_S = 5;
const ACTIVE = ['offered', 'confirmed', 'assigned', 'picked_up'];
/** USER_HZ: 100 on every Linux this runs on (sysconf is not reachable from node) */
const CLK_TCK = 100;

/** Prometheus text → name (with labels) → value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

export interface ResourceSample {
  /** ms since the monitor started */
  t: number;
  serverCpuPct: number | null;
  /** what the server wrote (almost all of it to sockets), MB/s; only for a child server */
  serverWriteMBs: number | null;
  serverRssMB: number | null;
  serverHeapMB: number | null;
  /** the server's heap right after its last full garbage collection (/metrics kl_heap_live_bytes): live data */
  serverHeapLiveMB: number | null;
  /** bookings the server is keeping a promise for (offered, confirmed, assigned, picked up): its live data */
  activeBookings: number | null;
  /** the server's event-loop delay over the last second (/metrics, monitorEventLoopDelay): p99 and max, ms */
  serverLagP99Ms: number | null;
  serverLagMaxMs: number | null;
  /** the load generator: its main process (consoles, riders) and the vehicle process together */
  loadCpuPct: number;
  /** the main load process's event-loop delay (consoles, riders) */
  loadLagP99Ms: number;
  loadLagMaxMs: number;
  /** the vehicle process's longest event-loop delay in the last second it reported (its buses' 10 Hz cadence) */
  vehicleLagMaxMs: number | null;
  /** the drivers' consoles process's, likewise */
  driverLagMaxMs: number | null;
  load1: number;
}

/**
 * Samples once a second: the server's CPU and RSS (from /proc when it is our child, else its /metrics), heap and
 * event-loop delay (/metrics), and the load generator's own CPU and event-loop delay (a busy load generator
 * inflates the latencies it measures, so it is reported beside them).
 */
/**
 * CPUs for a load on this machine: the load generator (its consoles, riders, buses and drivers, ~300 simulated
 * machines) on every CPU but the first, the server under test anywhere. The server's event loop then always finds
 * CPU 0 free, while its garbage collector's helper threads may still use the others; on a 2-core machine the two
 * otherwise take turns on both cores, and the server's latencies measure the load generator's scheduling as much as
 * the server. Null when the machine has one CPU or no taskset (Linux util-linux).
 */
export function cpuPinning(): { load: string } | null {
  const n = availableParallelism();
  if (n < 2 || spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status !== 0) return null;
  return { load: n === 2 ? '1' : `1-${n - 1}` };
}

/** Puts this process (all its threads; children forked later inherit it) on the given CPUs. */
export function pinSelf(cpus: string): void {
  const r = spawnSync('taskset', ['-a', '-cp', cpus, String(process.pid)], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`taskset -a -cp ${cpus} ${process.pid} failed`);
}

export class ResourceMonitor {
  readonly samples: ResourceSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly t0 = performance.now();
  private lastServer: { t: number; cpu: number } | null = null;
  private lastWritten: { t: number; bytes: number } | null = null;
  private lastLoad: { t: number; cpu: number } | null = null;
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });
  private busy = false;
  private ticks = 0;

  constructor(
    private readonly url: string,
    private readonly pid: number | null,
    private readonly loadAvg: () => number,
    /** the load generator's child processes (their CPU counts as the load's) */
    private readonly loadChildren: () => number[] = () => [],
    private readonly vehicleLag: () => number | null = () => null,
    private readonly driverLag: () => number | null = () => null,
  ) {}

  start(): void {
    this.loop.enable();
    this.timer = setInterval(() => void this.sample(), 1000);
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.loop.disable();
  }

  private async sample(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const now = performance.now();
      // /metrics costs the server a few tens of ms to render: every METRICS_EVERY_S seconds (its event-loop delay
      // figures cover the time since the previous scrape); CPU and RSS of a child server come from /proc each second
      const scrape = this.pid === null || this.ticks++ % METRICS_EVERY_S === 0;
      const metrics = scrape
        ? await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(5000) })
            .then((r) => r.text())
            .then(parseMetrics)
            .catch(() => null)
        : null;
      const proc = this.pid !== null ? procUsage(this.pid) : null;
      const cpu = proc?.cpuSeconds ?? metrics?.get('kl_node_process_cpu_seconds_total') ?? null;
      const rss = proc?.rssBytes ?? metrics?.get('kl_node_process_resident_memory_bytes') ?? null;
      let serverCpuPct: number | null = null;
      if (cpu !== null && cpu !== undefined) {
        if (this.lastServer) serverCpuPct = ((cpu - this.lastServer.cpu) / ((now - this.lastServer.t) / 1000)) * 100;
        this.lastServer = { t: now, cpu };
      }
      let serverWriteMBs: number | null = null;
      if (proc && Number.isFinite(proc.writtenBytes)) {
        if (this.lastWritten) serverWriteMBs = (proc.writtenBytes - this.lastWritten.bytes) / 2 ** 20 / ((now - this.lastWritten.t) / 1000);
        this.lastWritten = { t: now, bytes: proc.writtenBytes };
      }
      const own = process.cpuUsage();
      const loadCpu = (own.user + own.system) / 1e6 + this.loadChildren().reduce((sum, pid) => sum + (procUsage(pid)?.cpuSeconds ?? 0), 0);
      const loadCpuPct = this.lastLoad ? ((loadCpu - this.lastLoad.cpu) / ((now - this.lastLoad.t) / 1000)) * 100 : 0;
      this.lastLoad = { t: now, cpu: loadCpu };
      const delay = (ns: number) => (this.loop.count ? Math.max(0, ns / 1e6 - 10) : 0);
      const lagSec = (name: string) => {
        const v = metrics?.get(name);
        return v === undefined ? null : v * 1000;
      };
      this.samples.push({
        t: now - this.t0,
        serverCpuPct,
        serverWriteMBs,
        serverRssMB: rss === null || rss === undefined ? null : rss / 2 ** 20,
        serverHeapMB: metrics?.has('kl_node_nodejs_heap_size_used_bytes') ? metrics.get('kl_node_nodejs_heap_size_used_bytes')! / 2 ** 20 : null,
        serverHeapLiveMB: metrics?.get('kl_heap_live_bytes') ? metrics.get('kl_heap_live_bytes')! / 2 ** 20 : null,
        activeBookings: metrics ? ACTIVE.reduce((n, st) => n + (metrics.get(`kl_bookings{status="${st}"}`) ?? 0), 0) : null,
        serverLagP99Ms: lagSec('kl_event_loop_lag_seconds'),
        serverLagMaxMs: lagSec('kl_event_loop_lag_max_seconds'),
        loadCpuPct,
        loadLagP99Ms: delay(this.loop.percentile(99)),
        loadLagMaxMs: delay(this.loop.max),
        vehicleLagMaxMs: this.vehicleLag(),
        driverLagMaxMs: this.driverLag(),
        load1: this.loadAvg(),
      });
      this.loop.reset();
    } finally {
      this.busy = false;
    }
  }
}
