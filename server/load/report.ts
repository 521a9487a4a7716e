import { cpus } from 'node:os';
import type { LoadResult, WindowResult } from './run.ts';
import { fmt, table, type Summary } from './stats.ts';

export const TARGETS = { fanoutP99Ms: 50, teleopP99Ms: 20, dropped: 0, soakGrowthPct: 10 };

const yes = (ok: boolean | null) => (ok === null ? '–' : ok ? 'yes' : 'NO');
const row = (name: string, s: Summary | null, target = '', ok: boolean | null = null): string[] => [name, fmt(s?.p50, 2), fmt(s?.p99, 2), fmt(s?.max, 1), String(s?.n ?? 0), target, target ? yes(ok) : ''];
const sum = (o: Record<string, number>, pred: (k: string) => boolean) => Object.entries(o).reduce((n, [k, v]) => n + (pred(k) ? v : 0), 0);
const list = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';

/** The load run's tables (plain text, markdown-compatible). */
export function loadReport(r: LoadResult): string {
  const o = r.options;
  const f = r.fanout;
  const t = r.teleop;
  const b = r.bookings;
  const res = r.resources;
  const la = (x: number[]) => x.map((v) => v.toFixed(2)).join(' ');
  const head = [
    `KL Shuttle load: ${o.vehicles} vehicles × ${o.hz} Hz, ${o.consoles} consoles (${o.drivers} drivers, a command every ${o.commandIntervalMs} ms each), ${o.riders} riders (~${o.bookingsPerMin} bookings/min), ${r.measuredS.toFixed(0)} s measured (after ${r.settledAfterS.toFixed(0)} s of settling)`,
    `server: ${r.server.child ? `child process pid ${r.server.pid}${o.redisUrl ? ' (Redis store)' : ' (embedded store)'}` : 'given by --url'} ${r.server.url}; connected at the end: ${r.connected.vehicles} vehicles, ${r.connected.consoles} consoles`,
    `machine: ${cpus().length} cores; load average before ${la(r.loadAvgBefore)}, during (1 min) mean ${fmt(res.load1.mean, 2)} max ${fmt(res.load1.max, 2)}, after ${la(r.loadAvgAfter)}`,
    r.server.pinning ? `CPUs: the load generator (consoles, riders, buses, drivers) kept on CPU ${r.server.pinning.load}, the server on any (${r.server.pinning.server}), so CPU 0 is always free for it (--no-pin: both share all)` : 'CPUs: server and load generator share all CPUs',
  ];
  const teleopOk = t.roundTrip ? t.roundTrip.p99 <= TARGETS.teleopP99Ms : null;
  const latency = table(
    ['latency (ms)', 'p50', 'p99', 'max', 'n', 'target', 'met'],
    [
      row('fan-out: vehicle send → console receive', f.latency, `p99 ≤ ${TARGETS.fanoutP99Ms}`, f.latency ? f.latency.p99 <= TARGETS.fanoutP99Ms : null),
      row('  of which bus send → server receive', f.parts.toServer),
      row('  of which held on the server until its fan-out', f.parts.held),
      row('  of which server fan-out → console handler', f.parts.toConsole),
      row('teleop command: console → bus (one way)', t.oneWay),
      row('teleop command: console → bus → verdict at console', t.roundTrip, `p99 ≤ ${TARGETS.teleopP99Ms}`, teleopOk),
      row('booking: offer (POST /api/bookings)', b.offer),
      row('booking: confirm', b.confirm),
      row('booking: offer + confirm', b.total),
      ['server event-loop delay (p99 per 5 s: median, worst; max)', fmt(res.serverLagMs.p99Median, 2), fmt(res.serverLagMs.p99Worst, 2), fmt(res.serverLagMs.max, 1), String(r.samples.filter((x) => x.serverLagP99Ms !== null).length), '', ''],
    ],
  );
  const commands = sum(t.outcomes, () => true);
  const messages = table(
    ['messages', 'count', 'target', 'met'],
    [
      ['vehicle states sent', f.sent, '', ''],
      ['states fanned out (reached ≥ 1 console)', f.fannedOut, '', ''],
      ['states merged before fan-out (superseded within a 100 ms tick)', f.merged, '', ''],
      ['fan-out deliveries expected (fanned out × consoles)', f.expected, '', ''],
      ['fan-out deliveries received', f.delivered, '', ''],
      [`dropped (expected, not at the console within 10 s)`, f.dropped, String(TARGETS.dropped), yes(f.dropped === TARGETS.dropped && f.sent > 0)],
      ['teleop commands answered', commands, '', ''],
      ['  accepted by the bus', t.outcomes.accepted ?? 0, '', ''],
      ['  refused by the bus', sum(t.outcomes, (k) => k.startsWith('refused by bus')), '', ''],
      ['  refused by the server', sum(t.outcomes, (k) => k.startsWith('refused by server')), '', ''],
      ['  timed out (no verdict from the bus in 300 ms)', t.outcomes.timeout ?? 0, '0', yes((t.outcomes.timeout ?? 0) === 0)],
      ['teleop commands never answered', t.unanswered, '0', yes(t.unanswered === 0)],
      ['bookings confirmed', b.outcomes.confirmed ?? 0, '', ''],
      ['bookings without offer / failed', sum(b.outcomes, (k) => k !== 'confirmed'), '', ''],
    ],
  );
  const resources = table(
    ['resources', 'mean', 'max', 'note'],
    [
      ['server CPU % (100 = one core)', fmt(res.serverCpuPct.mean), fmt(res.serverCpuPct.max), r.server.child ? '/proc of the child' : '/metrics'],
      ['server writes MB/s (fan-out volume)', fmt(res.serverWriteMBs.mean), fmt(res.serverWriteMBs.max), r.server.child ? '/proc of the child' : 'only for a child server'],
      ['server RSS MB', fmt(res.serverRssMB.mean), fmt(res.serverRssMB.max), `first ${fmt(res.serverRssMB.first)}, last ${fmt(res.serverRssMB.last)}`],
      ['server heap used MB', fmt(res.serverHeapMB.mean), fmt(res.serverHeapMB.max), '/metrics'],
      ['load generator CPU %', fmt(res.loadCpuPct.mean), fmt(res.loadCpuPct.max), "consoles and riders; vehicles and drivers' consoles in processes of their own"],
      ["drivers' consoles process event-loop delay, worst per second (median, max) ms", fmt(res.driverLagMs.median, 1), fmt(res.driverLagMs.max, 1), 'adds to the teleop round trip'],
      ['consoles/riders event-loop delay p99 (median, worst second) ms', fmt(res.loadLagMs.p99Median, 1), fmt(res.loadLagMs.p99Worst, 1), `max ${fmt(res.loadLagMs.max, 1)}; adds to the latencies above`],
      ['vehicle process event-loop delay, worst per second (median, max) ms', fmt(res.vehicleLagMs.median, 1), fmt(res.vehicleLagMs.max, 1), 'a bus silent 500 ms is a lost link'],
      ['load average (1 min)', fmt(res.load1.mean, 2), fmt(res.load1.max, 2), 'other work shares the machine'],
    ],
  );
  const details = [
    `teleop outcomes: ${list(t.outcomes)}; heartbeat errors: ${list(t.heartbeatErrors)}; drivers re-took a bus ${t.recoveries}×`,
    `booking outcomes: ${list(b.outcomes)}`,
    `Leitstand alerts while recording: ${list(r.alerts)}`,
    `one console received (whole run): ${list(r.received.console)}; KB: ${list(r.received.consoleKB)}; all rider apps: ${list(r.received.rider)}`,
    `unmatched deliveries (sent before recording or later than 10 s): ${f.unmatched}`,
  ];
  return [...head, '', latency, '', messages, '', resources, '', ...details].join('\n');
}

const WINDOW_HEAD = ['minute', 'RSS MB', 'heap floor MB', 'heap after full GC MB', 'live bookings', 'CPU %', 'loop max ms', 'fan-out p99 ms', 'teleop p99 ms', 'booking p99 ms', 'dropped', 'load1'];
const windowCells = (w: WindowResult) => [String(w.index), fmt(w.serverRssMB), fmt(w.serverHeapMinMB), fmt(w.serverHeapLiveMB), fmt(w.activeBookings, 0), fmt(w.serverCpuPct), fmt(w.serverLagMaxMs), fmt(w.fanoutP99Ms, 1), fmt(w.teleopP99Ms, 1), fmt(w.bookingP99Ms, 0), String(w.dropped), fmt(w.load1, 2)];

/** One line per soak minute, printed as it ends. */
export function windowLine(w: WindowResult): string {
  return windowCells(w).map((c, i) => `${WINDOW_HEAD[i]} ${c}`).join(', ');
}
export function windowTable(ws: WindowResult[]): string {
  return table(WINDOW_HEAD, ws.map(windowCells));
}

/** The soak's steady state: latencies and drops of the minutes after the warm-up, together, against the targets. */
export function afterWarmupReport(r: LoadResult): string {
  const a = r.afterWarmup;
  if (!a) return 'after the warm-up: no minute recorded';
  const last = r.windows.length;
  return table(
    [`after the warm-up (minutes ${a.fromWindow}–${last}), ms`, 'p50', 'p99', 'max', 'n', 'target', 'met'],
    [
      row('fan-out: vehicle send → console receive', a.fanout, `p99 ≤ ${TARGETS.fanoutP99Ms}`, a.fanout ? a.fanout.p99 <= TARGETS.fanoutP99Ms : null),
      row('teleop command: console → bus → verdict at console', a.teleop, `p99 ≤ ${TARGETS.teleopP99Ms}`, a.teleop ? a.teleop.p99 <= TARGETS.teleopP99Ms : null),
      row('booking: offer + confirm', a.booking),
      ['dropped', String(a.dropped), '', '', '', String(TARGETS.dropped), yes(a.dropped === TARGETS.dropped)],
    ],
  );
}

export interface SoakGrowth {
  warmupMin: number;
  rss: { baseline: number | null; last: number | null; pct: number | null };
  /** heap after a full garbage collection (the live data); the minute's floor when the server does not report it */
  heap: { baseline: number | null; last: number | null; pct: number | null; measure: 'after full GC' | 'minute floor' };
  /** live bookings (context: the live data grows with them) */
  bookings: { baseline: number | null; last: number | null };
  met: boolean | null;
}

/** Memory growth after the warm-up: the first minute after it against the last minute. */
export function soakGrowth(windows: WindowResult[], warmupMin: number): SoakGrowth {
  const base = windows[warmupMin];
  const last = windows.at(-1);
  const pct = (a: number | null | undefined, b: number | null | undefined) => (a && b ? (b / a - 1) * 100 : null);
  const rss = { baseline: base?.serverRssMB ?? null, last: last?.serverRssMB ?? null, pct: pct(base?.serverRssMB, last?.serverRssMB) };
  const live = base?.serverHeapLiveMB != null && last?.serverHeapLiveMB != null;
  const h = (w: WindowResult | undefined) => (live ? w?.serverHeapLiveMB : w?.serverHeapMinMB) ?? null;
  const heap = { baseline: h(base), last: h(last), pct: pct(h(base), h(last)), measure: live ? ('after full GC' as const) : ('minute floor' as const) };
  const met = rss.pct === null || heap.pct === null || base === last ? null : rss.pct < TARGETS.soakGrowthPct && heap.pct < TARGETS.soakGrowthPct;
  return { warmupMin, rss, heap, bookings: { baseline: base?.activeBookings ?? null, last: last?.activeBookings ?? null }, met };
}

export function soakReport(g: SoakGrowth): string {
  return table(
    [`memory growth after ${g.warmupMin} min warm-up`, `minute ${g.warmupMin + 1}`, 'last minute', 'growth %', 'target', 'met'],
    [
      ['server RSS MB (minute mean)', fmt(g.rss.baseline), fmt(g.rss.last), fmt(g.rss.pct), `< ${TARGETS.soakGrowthPct}`, yes(g.rss.pct === null ? null : g.rss.pct < TARGETS.soakGrowthPct)],
      [`server heap MB (${g.heap.measure})`, fmt(g.heap.baseline), fmt(g.heap.last), fmt(g.heap.pct), `< ${TARGETS.soakGrowthPct}`, yes(g.heap.pct === null ? null : g.heap.pct < TARGETS.soakGrowthPct)],
      ['live bookings (context)', fmt(g.bookings.baseline, 0), fmt(g.bookings.last, 0), '', '', ''],
    ],
  );
}
