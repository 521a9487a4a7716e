import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LeitstandAlert } from '../src/protocol/events.ts';
import { FanoutTracker, LoadConsole, TeleopTracker } from './consoles.ts';
import { startDriversProcess, type DriversProcess } from './drivers.ts';
import { loadPlan, writeLoadFixtures } from './fixtures.ts';
import { apiCall } from './net.ts';
import { BookingTracker, LoadRiders } from './riders.ts';
import { cpuPinning, pinSelf, ResourceMonitor, startServerChild, tail, type ResourceSample, type ServerChild } from './server-process.ts';
import { Latency, type Summary } from './stats.ts';
import { startVehiclesProcess, type VehiclesProcess } from './vehicles.ts';

export interface LoadOptions {
  vehicles: number;
  consoles: number;
  /** consoles logged in as drivers, each holding one bus and sending commands */
  drivers: number;
  riders: number;
  bookingsPerMin: number;
  /** vehicle state rate */
  hz: number;
  /** measured seconds (after connecting everything and a short settle) */
  durationS: number;
  /** ms between two commands of one driver */
  commandIntervalMs: number;
  seed: number;
  /** a running server (its FLEET_FILE/STAFF_FILE from `--write-fixtures`); else a child server is started */
  url?: string;
  /** the child server uses this Redis (store and socket.io adapter) */
  redisUrl?: string;
  /** write a CPU profile of the child server (node --cpu-prof) into this directory */
  cpuProfileDir?: string;
  /** keep the load generator off CPU 0, the child server on any CPU (see cpuPinning); ignored with `url` */
  pin?: boolean;
  /** reporting windows (soak: 60 s) */
  windowS?: number;
  /** windows of warm-up (soak): the latencies after them are also summed up on their own (LoadResult.afterWarmup) */
  warmupWindows?: number;
  onWindow?: (w: WindowResult) => void;
  log?: (line: string) => void;
}

export interface WindowResult {
  index: number;
  /** seconds since recording started, at the window's end */
  endS: number;
  serverRssMB: number | null;
  /** lowest heap used in the window: the floor after garbage collections */
  serverHeapMinMB: number | null;
  /** heap after the last full garbage collection in the window (the live data; the floor above includes garbage) */
  serverHeapLiveMB: number | null;
  /** live bookings at the window's end (the server's live data grows with them) */
  activeBookings: number | null;
  serverCpuPct: number | null;
  serverLagMaxMs: number | null;
  fanoutP99Ms: number | null;
  teleopP99Ms: number | null;
  bookingP99Ms: number | null;
  dropped: number;
  load1: number;
}

export interface LoadResult {
  options: Omit<LoadOptions, 'onWindow' | 'log'>;
  /** pinning: the CPUs the load generator was kept on (the server may use all), when it was */
  server: { url: string; pid: number | null; child: boolean; pinning: { load: string; server: string } | null };
  connected: { vehicles: number; consoles: number; riders: number };
  loadAvgBefore: number[];
  loadAvgAfter: number[];
  measuredS: number;
  /** seconds between everything connected and the start of recording (the server's event loop calmed down) */
  settledAfterS: number;
  fanout: { latency: Summary | null; parts: { toServer: Summary | null; held: Summary | null; toConsole: Summary | null }; sent: number; fannedOut: number; merged: number; expected: number; delivered: number; dropped: number; unmatched: number };
  teleop: { roundTrip: Summary | null; oneWay: Summary | null; outcomes: Record<string, number>; heartbeatErrors: Record<string, number>; unanswered: number; recoveries: number };
  bookings: { offer: Summary | null; confirm: Summary | null; total: Summary | null; outcomes: Record<string, number> };
  /** what one console and one rider app received over the whole run, by event */
  received: { console: Record<string, number>; consoleKB: Record<string, number>; rider: Record<string, number> };
  /** Leitstand alerts raised while recording, by type and cause (`link_loss (silence)`, `mrm (lease_lapsed)`, …) */
  alerts: Record<string, number>;
  resources: {
    serverCpuPct: Stat;
    serverWriteMBs: Stat;
    serverRssMB: Stat & { first: number | null; last: number | null };
    serverHeapMB: Stat;
    /** p99 of the server's event-loop delay per /metrics interval (5 s): median and worst; max = longest single delay */
    serverLagMs: { p99Median: number | null; p99Worst: number | null; max: number | null };
    loadCpuPct: Stat;
    loadLagMs: { p99Median: number | null; p99Worst: number | null; max: number | null };
    /** the vehicle process's longest event-loop delay per second: median and worst second */
    vehicleLagMs: { median: number | null; max: number | null };
    /** the drivers' consoles process's, likewise */
    driverLagMs: { median: number | null; max: number | null };
    load1: Stat;
  };
  windows: WindowResult[];
  /** the windows after the warm-up (soak), together: the steady state's latencies and drops */
  afterWarmup: { fromWindow: number; fanout: Summary | null; teleop: Summary | null; booking: Summary | null; dropped: number } | null;
  samples: ResourceSample[];
}
interface Stat {
  mean: number | null;
  max: number | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SETTLE_MS = 3000;
const SETTLE_MAX_MS = 30_000;
/** the server's longest event-loop delay in each of the last two /metrics intervals below this: settled */
const SETTLED_LAG_MS = 100;
/** a state not at every console this long after it was sent counts as dropped there */
const DELIVERY_HORIZON_MS = 10_000;

/**
 * One load run: server (child or given), consoles, riders, vehicles, drivers; then `durationS` of recording;
 * then everything is taken down again (also on failure), and the figures come back.
 */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const log = o.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'kl-load-'));
  const cleanup: (() => unknown)[] = [];
  const loadAvgBefore = loadavg();
  try {
    let server: ServerChild | null = null;
    let url = o.url?.replace(/\/$/, '');
    const pins = o.pin && !url ? cpuPinning() : null;
    const allCpus = `0-${availableParallelism() - 1}`;
    const pinning = pins ? { load: pins.load, server: allCpus } : null;
    if (!url) {
      log(`writing a fleet of ${o.vehicles} buses and ${o.consoles} console logins to ${dir}`);
      const fx = await writeLoadFixtures(dir, o);
      log('starting the server (child process, simulated fleet and demand off)');
      if (pinning) {
        log(`CPUs: the load generator on CPU ${pinning.load}, the server on any (${pinning.server})`);
        pinSelf(pinning.load);
      }
      server = await startServerChild({ dataDir: dir, fleetFile: fx.fleetFile, staffFile: fx.staffFile, redisUrl: o.redisUrl, cpuProfileDir: o.cpuProfileDir, cpus: pinning?.server });
      cleanup.push(() => server!.stop());
      url = server.url;
      log(`server ${url} (pid ${server.pid})`);
    }
    const plan = loadPlan(o);
    let vehicles: VehiclesProcess | null = null;
    let driversProc: DriversProcess | null = null;
    // commands count when they left their console within [recordFrom, recordTo) (epoch ms)
    let recordFrom = Infinity;
    let recordTo = Infinity;
    const monitor = new ResourceMonitor(url, server?.pid ?? null, () => loadavg()[0], () => [vehicles?.pid, driversProc?.pid].filter((p): p is number => p !== undefined), () => vehicles?.lagMaxMs() ?? null, () => driversProc?.lagMaxMs() ?? null);
    monitor.start();
    cleanup.push(() => monitor.stop());

    const fanout = new FanoutTracker(o.consoles);
    const teleop = new TeleopTracker();
    const bookingTracker = new BookingTracker();
    const alerts = new Map<string, LeitstandAlert>();

    log(`${o.consoles} consoles log in and connect`);
    // the drivers' consoles run in a process of their own (drivers-process.ts); the others here
    const driverPlans = plan.consoles.filter((c) => c.role === 'driver').slice(0, o.drivers);
    const consoles = plan.consoles.filter((c) => !driverPlans.includes(c)).map((c, i) => new LoadConsole(c.username, c.role, fanout, i === 0 ? alerts : null));
    cleanup.push(() => consoles.forEach((c) => c.close()));
    for (let i = 0; i < consoles.length; i += 10) {
      await Promise.all(
        consoles.slice(i, i + 10).map(async (c) => {
          const r = await apiCall(url!, 'POST', '/api/auth/login', undefined, { username: c.username, password: c.username });
          if (r.status !== 200) throw new Error(`login ${c.username}: HTTP ${r.status} ${JSON.stringify(r.json)} (a server started elsewhere needs FLEET_FILE/STAFF_FILE from --write-fixtures)`);
          await c.connect(url!, r.json.token);
        }),
      );
    }

    driversProc = driverPlans.length
      ? startDriversProcess(
          { url, vehicleIds: plan.vehicles.map((v) => v.id), drivers: driverPlans.map((c, i) => ({ username: c.username, vehicleId: plan.vehicles[Math.floor((i * o.vehicles) / o.drivers)].id })), commandIntervalMs: o.commandIntervalMs },
          {
            received: (id, sentAt, now, receivedAt, fannedOutAt) => fanout.onReceived(id, sentAt, now, receivedAt, fannedOutAt),
            answered: (c) => {
              if (c.wall < recordFrom || c.wall >= recordTo) return;
              const now = performance.now();
              teleop.track(c.vehicleId, c.seq, c.wall, now - c.roundTripMs);
              teleop.answered(c.vehicleId, c.seq, c.res, now);
            },
            heartbeatErrors: (counts) => Object.entries(counts).forEach(([code, n]) => teleop.heartbeatErrors.inc(code, n)),
          },
        )
      : null;
    if (driversProc) {
      const d = driversProc;
      cleanup.push(() => d.stop());
      await d.ready;
    }

    log(`${o.riders} riders get tokens and connect`);
    const riders = new LoadRiders(url, o.riders, o.bookingsPerMin, o.seed, bookingTracker);
    cleanup.push(() => riders.close());
    await riders.connect();

    log(`${o.vehicles} vehicle agents connect (${o.hz} Hz, in a process of their own)`);
    const fleet = startVehiclesProcess({ url, vehicles: plan.vehicles, hz: o.hz, seed: o.seed }, { sent: (id, sentAt) => fanout.onSent(id, sentAt), command: (c) => teleop.onVehicle(c) });
    vehicles = fleet;
    cleanup.push(() => fleet.stop());
    await fleet.ready;

    log(`${o.drivers} drivers take a bus each (their consoles in a process of their own)`);
    if (driversProc) await driversProc.start();
    riders.start();
    // measure the steady state, not the backlog of connecting everything: wait until the server's event loop
    // has been calm for a few seconds (at most SETTLE_MAX_MS)
    const settleFrom = performance.now();
    await sleep(SETTLE_MS);
    while (performance.now() - settleFrom < SETTLE_MAX_MS) {
      const recent = monitor.samples.filter((x) => x.serverLagMaxMs !== null).slice(-2);
      if (recent.length === 2 && recent.every((x) => x.serverLagMaxMs! < SETTLED_LAG_MS)) break;
      await sleep(500);
    }
    const settledAfterS = (performance.now() - settleFrom) / 1000;
    log(`settled after ${settledAfterS.toFixed(1)} s`);

    log(`recording for ${o.durationS} s`);
    recordFrom = Date.now();
    const t0 = performance.now();
    fanout.from = recordFrom;
    bookingTracker.recording = true;
    driversProc?.recording(true);
    const firstSample = monitor.samples.length;
    const windows: WindowResult[] = [];
    const windowMs = (o.windowS ?? o.durationS) * 1000;
    let windowStart = { sample: firstSample, dropped: 0 };
    const sweeper = setInterval(() => {
      fanout.sweep(DELIVERY_HORIZON_MS);
      teleop.settle();
    }, 1000);
    cleanup.push(() => clearInterval(sweeper));
    const warm = o.warmupWindows ?? null;
    const steady = { fanout: new Latency(), teleop: new Latency(), booking: new Latency(), dropped: 0 };
    const closeWindow = (endS: number) => {
      const ss = monitor.samples.slice(windowStart.sample);
      const w: WindowResult = {
        index: windows.length + 1,
        endS,
        serverRssMB: mean(ss.map((s) => s.serverRssMB)),
        serverHeapMinMB: min(ss.map((s) => s.serverHeapMB)),
        serverHeapLiveMB: ss.map((s) => s.serverHeapLiveMB).filter((x): x is number => x !== null).at(-1) ?? null,
        activeBookings: ss.map((s) => s.activeBookings).filter((x): x is number => x !== null).at(-1) ?? null,
        serverCpuPct: mean(ss.map((s) => s.serverCpuPct)),
        serverLagMaxMs: max(ss.map((s) => s.serverLagMaxMs)),
        fanoutP99Ms: fanout.window.summary()?.p99 ?? null,
        teleopP99Ms: teleop.window.summary()?.p99 ?? null,
        bookingP99Ms: bookingTracker.window.summary()?.p99 ?? null,
        dropped: fanout.dropped - windowStart.dropped,
        load1: loadavg()[0],
      };
      if (warm !== null && w.index > warm) {
        steady.fanout.add(fanout.window);
        steady.teleop.add(teleop.window);
        steady.booking.add(bookingTracker.window);
        steady.dropped += w.dropped;
      }
      fanout.window.reset();
      teleop.window.reset();
      bookingTracker.window.reset();
      windowStart = { sample: monitor.samples.length, dropped: fanout.dropped };
      windows.push(w);
      o.onWindow?.(w);
    };
    const end = t0 + o.durationS * 1000;
    for (let next = t0 + windowMs; ; next += windowMs) {
      await sleep(Math.max(0, Math.min(next, end) - performance.now()));
      if (o.windowS && next <= end + 1) closeWindow(Math.round((performance.now() - t0) / 1000));
      if (next >= end) break;
    }
    fanout.to = Date.now();
    bookingTracker.recording = false;
    driversProc?.recording(false);
    recordTo = fanout.to;
    const measuredS = (performance.now() - t0) / 1000;
    log('stopping: bookings in flight finish, last deliveries arrive');
    await riders.stop();
    await sleep(1500);
    const connectedVehicles = fleet.connected();
    const connectedDrivers = driversProc?.connected() ?? 0;
    await driversProc?.stop(); // its last records are in
    await fleet.stop(); // and the buses'
    fanout.sweep(0);
    teleop.settle(0);
    const samples = monitor.samples.slice(firstSample);
    const connected = { vehicles: connectedVehicles, consoles: consoles.filter((c) => c.socket?.connected).length + connectedDrivers, riders: o.riders };
    const lagP99s = (f: (s: ResourceSample) => number | null) => samples.map(f).filter((x): x is number => x !== null).sort((a, b) => a - b);
    const serverLag = lagP99s((s) => s.serverLagP99Ms);
    const loadLag = lagP99s((s) => s.loadLagP99Ms);
    const alertCounts: Record<string, number> = {};
    for (const a of alerts.values()) {
      // only the recording: taking the buses down at the end drops every link on purpose
      if (a.t < recordFrom || a.t >= fanout.to) continue;
      // the cause says whether a link loss was a silent bus or a dropped socket, an MRM's why
      const why = a.data.cause ?? a.data.reason;
      const key = typeof why === 'string' ? `${a.type} (${why})` : a.type;
      alertCounts[key] = (alertCounts[key] ?? 0) + 1;
    }
    const { onWindow: _w, log: _l, ...options } = o;
    return {
      options,
      server: { url, pid: server?.pid ?? null, child: server !== null, pinning },
      connected,
      loadAvgBefore,
      loadAvgAfter: loadavg(),
      measuredS,
      settledAfterS,
      fanout: {
        latency: fanout.latency.summary(),
        parts: { toServer: fanout.parts.toServer.summary(), held: fanout.parts.held.summary(), toConsole: fanout.parts.toConsole.summary() },
        sent: fanout.sent,
        fannedOut: fanout.fannedOut,
        merged: fanout.merged,
        expected: fanout.fannedOut * o.consoles,
        delivered: fanout.delivered,
        dropped: fanout.dropped,
        unmatched: fanout.unmatched,
      },
      teleop: {
        roundTrip: teleop.roundTrip.summary(),
        oneWay: teleop.oneWay.summary(),
        outcomes: teleop.outcomes.toJSON(),
        heartbeatErrors: teleop.heartbeatErrors.toJSON(),
        unanswered: teleop.unanswered + (driversProc?.unanswered() ?? 0),
        recoveries: driversProc?.recoveries() ?? 0,
      },
      bookings: { offer: bookingTracker.offer.summary(), confirm: bookingTracker.confirm.summary(), total: bookingTracker.total.summary(), outcomes: bookingTracker.outcomes.toJSON() },
      alerts: alertCounts,
      received: { console: consoles[0]?.received.toJSON() ?? {}, consoleKB: Object.fromEntries(Object.entries(consoles[0]?.bytes.toJSON() ?? {}).map(([k, v]) => [k, Math.round(v / 1024)])), rider: riders.received.toJSON() },
      resources: {
        serverCpuPct: stat(samples.map((s) => s.serverCpuPct)),
        serverWriteMBs: stat(samples.map((s) => s.serverWriteMBs)),
        serverRssMB: { ...stat(samples.map((s) => s.serverRssMB)), first: samples[0]?.serverRssMB ?? null, last: samples.at(-1)?.serverRssMB ?? null },
        serverHeapMB: stat(samples.map((s) => s.serverHeapMB)),
        serverLagMs: { p99Median: quantile(serverLag, 0.5), p99Worst: serverLag.at(-1) ?? null, max: max(samples.map((s) => s.serverLagMaxMs)) },
        loadCpuPct: stat(samples.map((s) => s.loadCpuPct)),
        loadLagMs: { p99Median: quantile(loadLag, 0.5), p99Worst: loadLag.at(-1) ?? null, max: max(samples.map((s) => s.loadLagMaxMs)) },
        vehicleLagMs: { median: quantile(lagP99s((s) => s.vehicleLagMaxMs), 0.5), max: max(samples.map((s) => s.vehicleLagMaxMs)) },
        driverLagMs: { median: quantile(lagP99s((s) => s.driverLagMaxMs), 0.5), max: max(samples.map((s) => s.driverLagMaxMs)) },
        load1: stat(samples.map((s) => s.load1)),
      },
      windows,
      afterWarmup: warm !== null && windows.length > warm ? { fromWindow: warm + 1, fanout: steady.fanout.summary(), teleop: steady.teleop.summary(), booking: steady.booking.summary(), dropped: steady.dropped } : null,
      samples,
    };
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(`${msg}${o.url ? '' : `\n--- server log (tail) ---\n${tail(join(dir, 'server.log'))}`}`);
  } finally {
    for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

const nums = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null && Number.isFinite(x));
function mean(xs: (number | null)[]): number | null {
  const v = nums(xs);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}
function max(xs: (number | null)[]): number | null {
  const v = nums(xs);
  return v.length ? Math.max(...v) : null;
}
function min(xs: (number | null)[]): number | null {
  const v = nums(xs);
  return v.length ? Math.min(...v) : null;
}
function stat(xs: (number | null)[]): Stat {
  return { mean: mean(xs), max: max(xs) };
}
function quantile(sorted: number[], q: number): number | null {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null;
}
