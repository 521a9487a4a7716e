import { Rng } from '../core/rng.ts';
import { TeleopWorld } from './world.ts';

/**
 * Seeded fault injection in simulated time (used by faultInjection.test.ts and server/bench/teleop-faults.ts).
 * One case: a bus under a human driver (heartbeats ~10 Hz with jitter, realistic one-way delays), cruising —
 * or, in one case in ten, held at a stop — when one fault strikes at a random time:
 *   console_freeze  the driver's console stops (no heartbeats, no pongs) and never comes back
 *   link_loss       vehicle link cut both ways for 0.6–8 s (sometimes with a socket disconnect event)
 *   uplink_loss     vehicle → server only (reports stop; directives still arrive)
 *   downlink_loss   server → vehicle only (relayed heartbeats stop; reports still arrive)
 * The case passes when, after the link is back, server and bus both show safe_stop with the bus stationary,
 * no MRM happened before the fault, and no invariant was violated on the way.
 *
 * MRM start latency, per fault, from the last evidence of life to the start of braking:
 *   console_freeze  server: MRM start − last console heartbeat the server received (lease lapse)
 *   link/downlink   vehicle: MRM start − last relayed lease heartbeat the bus received (on-board dead-man)
 *   uplink_loss     server: MRM start − last vehicle report the server received (link watchdog)
 * plus, for every case, the on-board figure (MRM start on the bus − last lease heartbeat it received).
 */
export const FAULT_KINDS = ['console_freeze', 'link_loss', 'uplink_loss', 'downlink_loss'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultResult {
  seed: number;
  kind: FaultKind;
  stationaryAtFault: boolean;
  faultAt: number;
  durationMs: number | null;
  endServerMode: string;
  endVehicleMode: string;
  endSpeed: number;
  /** passed: both ends in safe_stop, stationary, no early MRM, no violation */
  ok: boolean;
  falseMrm: boolean;
  /** headline MRM start latency (see above), ms */
  mrmLatencyMs: number | null;
  /** MRM start on the bus − last lease heartbeat received on the bus, ms */
  onboardLatencyMs: number | null;
  /** console_freeze only: MRM start on the bus − last heartbeat at the server (includes the one-way delay) */
  endToEndMs: number | null;
  speedAtFault: number;
  timeToStandstillMs: number | null;
  largestStepMs: number;
  violations: string[];
}

const DRIVER = 'd1';
const BUS = 'bus-1';

export interface FaultCaseOptions {
  kind?: FaultKind;
  /**
   * Timer-driven: besides the random 10–50 ms steps, wake exactly at the next deadline of the server core
   * (`nextDeadline()`) and of the bus (`VehicleSafety.nextDeadline()`), as a socket layer with a precise timer would.
   */
  precise?: boolean;
}

export function runFaultCase(seed: number, opts: FaultCaseOptions = {}): FaultResult {
  const kindOverride = opts.kind;
  const p = new Rng(mix(seed)); // scrambled: consecutive seeds give correlated first draws otherwise
  const kind = kindOverride ?? FAULT_KINDS[seed % FAULT_KINDS.length];
  const stationary = p.bool(0.1);
  const w = new TeleopWorld({
    seed,
    vehicles: [{ id: BUS, oneWayMs: p.int(10, 40), jitterMs: p.int(0, 15), videoDelayMs: p.int(60, 120) }],
    drivers: [{ id: DRIVER, oneWayMs: p.int(5, 30), jitterMs: p.int(0, 10) }],
  });
  const violations: string[] = [];
  const check = () => {
    if (violations.length < 5) violations.push(...w.violations().slice(0, 5 - violations.length));
  };
  w.connectAll();
  w.run(300);
  const acq = w.acquire(DRIVER, BUS);
  if ('error' in acq) violations.push(`setup: acquire refused ${acq.error.code}`);
  w.run(200);
  if (!stationary) {
    w.sendCommand(DRIVER, BUS, 'resume');
    w.setWant(BUS, p.int(6, 14));
  }
  const faultAfter = p.int(2000, 12_000);
  const end0 = w.now + faultAfter;
  while (w.now < end0) {
    w.step(Math.min(end0 - w.now, w.rng.int(10, 50)));
    check();
  }
  const bus = w.vehicleFor(BUS);
  const falseMrm = w.audit.some((r) => r.type === 'teleop.mrm') || bus.safety.mrms.length > 0;
  const faultAt = w.now;
  const speedAtFault = bus.speed;
  const mrmsBefore = bus.safety.mrms.length;
  const auditBefore = w.audit.length;

  let durationMs: number | null = null;
  let notify = false;
  if (kind === 'console_freeze') w.freezeConsole(DRIVER);
  else {
    durationMs = p.int(600, 8000);
    notify = kind === 'link_loss' && p.bool(0.3);
    w.cutVehicleLink(BUS, kind === 'link_loss' ? 'both' : kind === 'uplink_loss' ? 'up' : 'down', notify);
  }
  const restoreAt = durationMs === null ? faultAt : faultAt + durationMs;
  let restored = durationMs === null;
  let standstillAt: number | null = null;
  const deadline = restoreAt + 30_000;
  const settled = () => restored && w.core.view(BUS)!.mode === 'safe_stop' && bus.safety.mode === 'safe_stop' && bus.speed === 0;
  const nextDeadline = () => {
    let d = Infinity;
    for (const x of [w.core.nextDeadline(), bus.safety.nextDeadline()]) if (x !== null && x > w.now) d = Math.min(d, x);
    return d;
  };
  while (w.now < deadline && !settled()) {
    let dt = w.rng.int(10, 50);
    if (!restored && w.now + dt > restoreAt) dt = Math.max(1, restoreAt - w.now);
    if (opts.precise) dt = Math.min(dt, nextDeadline() - w.now);
    w.step(dt);
    if (!restored && w.now >= restoreAt) {
      w.restoreVehicleLink(BUS, notify);
      restored = true;
    }
    if (standstillAt === null && bus.speed === 0) standstillAt = w.now;
    check();
  }
  violations.push(...w.historyViolations().slice(0, 3));

  const serverMrm = w.audit.slice(auditBefore).find((r) => r.type === 'teleop.mrm' && r.vehicleId === BUS);
  const onboard = bus.safety.mrms[mrmsBefore];
  const onboardLatencyMs = onboard && onboard.lastLeaseAt !== null ? onboard.at - onboard.lastLeaseAt : null;
  let mrmLatencyMs: number | null = null;
  let endToEndMs: number | null = null;
  if (kind === 'console_freeze') {
    const hb = serverMrm?.data.lastHeartbeatAt as number | null | undefined;
    if (serverMrm && typeof hb === 'number') {
      mrmLatencyMs = serverMrm.t - hb;
      if (onboard) endToEndMs = onboard.at - hb;
    }
  } else if (kind === 'uplink_loss') {
    const rep = serverMrm?.data.lastReportAt as number | null | undefined;
    if (serverMrm && typeof rep === 'number') mrmLatencyMs = serverMrm.t - rep;
  } else mrmLatencyMs = onboardLatencyMs;

  const view = w.core.view(BUS)!;
  const okEnd = view.mode === 'safe_stop' && bus.safety.mode === 'safe_stop' && bus.speed === 0;
  return {
    seed,
    kind,
    stationaryAtFault: speedAtFault === 0,
    faultAt,
    durationMs,
    endServerMode: view.mode,
    endVehicleMode: bus.safety.mode,
    endSpeed: bus.speed,
    ok: okEnd && !falseMrm && violations.length === 0 && mrmLatencyMs !== null,
    falseMrm,
    mrmLatencyMs,
    onboardLatencyMs,
    endToEndMs,
    speedAtFault,
    timeToStandstillMs: standstillAt === null ? null : standstillAt - faultAt,
    largestStepMs: w.largestStepMs,
    violations,
  };
}

export function runFaultCampaign(n: number, seed0 = 1, opts: Omit<FaultCaseOptions, 'kind'> = {}): FaultResult[] {
  const out: FaultResult[] = [];
  for (let i = 0; i < n; i++) out.push(runFaultCase(seed0 + i, opts));
  return out;
}

/** Nearest-rank percentile. */
export function percentile(xs: number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

export interface FaultSummaryRow {
  group: string;
  count: number;
  okPct: number;
  p50: number;
  p99: number;
  max: number;
  onboardMax: number;
}

export function summarize(results: FaultResult[]): FaultSummaryRow[] {
  const row = (group: string, rs: FaultResult[]): FaultSummaryRow => {
    const lat = rs.map((r) => r.mrmLatencyMs).filter((x): x is number => x !== null);
    const onb = rs.map((r) => r.onboardLatencyMs).filter((x): x is number => x !== null);
    return {
      group,
      count: rs.length,
      okPct: rs.length ? (100 * rs.filter((r) => r.ok).length) / rs.length : 0,
      p50: percentile(lat, 0.5),
      p99: percentile(lat, 0.99),
      max: lat.length ? Math.max(...lat) : NaN,
      onboardMax: onb.length ? Math.max(...onb) : NaN,
    };
  };
  return [...FAULT_KINDS.map((k) => row(k, results.filter((r) => r.kind === k))), row('all', results)];
}

export function formatSummary(rows: FaultSummaryRow[]): string {
  const head = ['fault', 'count', 'safe_stop+stationary', 'MRM start p50', 'p99', 'max', 'on-board max'];
  const lines = rows.map((r) => [r.group, String(r.count), `${r.okPct.toFixed(1)} %`, `${r.p50} ms`, `${r.p99} ms`, `${r.max} ms`, `${r.onboardMax} ms`]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(fmt)].join('\n');
}

/** Integer hash (murmur3 finaliser) so that case parameters of neighbouring seeds are independent. */
function mix(x: number): number {
  let h = x | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
