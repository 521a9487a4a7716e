import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TRANSITIONS } from './controlCenter.ts';
import type { CommandType } from './types.ts';
import { TeleopWorld } from './world.ts';

/**
 * Property-based proof of the lease invariants over random sequences of: acquire, release, handover request /
 * confirm / cancel, confirm after a stop, heartbeats (automatic from live consoles, plus explicit ones),
 * console freezes, clock advances (10–50 ms steps), vehicle link drops per direction (with or without a socket
 * disconnect event), latency changes, commands from several drivers (right and wrong seq, fresh and stale),
 * emergency stops by any staff, passenger calls. After every action and every step the world's invariants hold
 * (see TeleopWorld.violations):
 *   never two holders · never a moving bus without a holder · every lapse → MRM within the lease timeout ·
 *   every accepted command from the holder and fresh · a driver holds at most one moving bus ·
 *   mode ⇔ holder consistency · on board, remote only with a fresh lease.
 */
const VEHICLES = ['bus-1', 'bus-2', 'bus-s'] as const;
const DRIVERS = ['d1', 'd2', 'd3'] as const;
const CMD_TYPES: CommandType[] = ['stop', 'resume', 'resume', 'speed_cap', 'doors_open', 'doors_close'];

const V = fc.constantFrom(...VEHICLES);
const D = fc.constantFrom(...DRIVERS);
const action = fc.oneof(
  { weight: 4, arbitrary: fc.record({ k: fc.constant('acquire' as const), d: D, v: V }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('release' as const), d: fc.constantFrom(...DRIVERS, 'sim:bus-s'), v: V }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('heartbeat' as const), d: D, v: V }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('handover_request' as const), d: D, v: V }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('handover_confirm' as const), d: D, v: V, to: D }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('handover_cancel' as const), d: D, v: V }) },
  // the full two-step handover with a pause in between (the taker's console heartbeats meanwhile, or is frozen)
  { weight: 3, arbitrary: fc.record({ k: fc.constant('handover' as const), v: V, to: D, pauseMs: fc.integer({ min: 0, max: 700 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('confirm' as const), d: D, v: V }) },
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('command' as const),
      d: fc.constantFrom(...DRIVERS, 'sim:bus-s'),
      v: V,
      type: fc.constantFrom(...CMD_TYPES),
      seqDelta: fc.constantFrom(1, 1, 1, 1, 0, -1, 3),
      ageMs: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 900 })),
      value: fc.integer({ min: 0, max: 14 }),
    }),
  },
  // the same, aimed at whoever holds the bus now (random ids rarely hit the holder)
  { weight: 3, arbitrary: fc.record({ k: fc.constant('holder_release' as const), v: V }) },
  {
    weight: 5,
    arbitrary: fc.record({ k: fc.constant('holder_command' as const), v: V, type: fc.constantFrom(...CMD_TYPES), want: fc.integer({ min: 0, max: 14 }) }),
  },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('recover' as const), d: D, v: V }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('estop' as const), who: fc.constantFrom('disp', 'd1', 'd2', 'd3'), v: V }) },
  { weight: 8, arbitrary: fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 10, max: 1500 }), step: fc.integer({ min: 10, max: 50 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('link_down' as const), v: V, dir: fc.constantFrom('both' as const, 'up' as const, 'down' as const), notify: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('link_up' as const), v: V, notify: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('freeze' as const), d: D, on: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('vehicle_rtt' as const), v: V, extra: fc.constantFrom(0, 0, 100, 250, 450) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('console_rtt' as const), d: D, extra: fc.constantFrom(0, 0, 100, 300) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('want' as const), v: V, speed: fc.integer({ min: 0, max: 14 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('call' as const), v: V }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('ack_call' as const), who: fc.constantFrom('disp', 'd1', 'd2', 'd3'), v: V }) },
);
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never;

const stats = { acquires: 0, takeovers: 0, handovers: 0, mrms: 0, safeStops: 0, confirms: 0, accepted: 0, refused: 0, lapses: 0, maxSpeed: 0 };
const seenTransitions = new Set<string>();

function apply(w: TeleopWorld, a: Action): void {
  switch (a.k) {
    case 'acquire':
      w.acquire(a.d, a.v);
      return;
    case 'release':
      w.release(a.d, a.v);
      return;
    case 'heartbeat':
      w.heartbeat(a.d, a.v);
      return;
    case 'handover_request':
      w.handoverRequest(a.d, a.v);
      return;
    case 'handover_confirm':
      w.handoverConfirm(a.d, a.v, a.to);
      return;
    case 'handover_cancel':
      w.handoverCancel(a.d, a.v);
      return;
    case 'handover': {
      w.handoverRequest(a.to, a.v);
      apply(w, { k: 'advance', ms: Math.max(10, a.pauseMs), step: 20 });
      const h = w.core.view(a.v)?.holder;
      if (h) w.handoverConfirm(h, a.v, a.to);
      return;
    }
    case 'confirm':
      w.confirm(a.d, a.v);
      return;
    case 'command':
      w.sendCommand(a.d, a.v, a.type, { seqDelta: a.seqDelta, ageMs: a.ageMs, value: a.value });
      return;
    case 'holder_release': {
      const h = w.core.view(a.v)?.holder;
      if (h) w.release(h, a.v);
      return;
    }
    case 'holder_command': {
      const h = w.core.view(a.v)?.holder;
      if (h) w.sendCommand(h, a.v, a.type, { value: a.want });
      if (a.type === 'resume') w.setWant(a.v, a.want);
      return;
    }
    case 'recover':
      // a driver takes a stopped bus and confirms (acquire + confirm after safe_stop)
      w.acquire(a.d, a.v);
      w.confirm(a.d, a.v);
      return;
    case 'estop':
      w.sendCommand(a.who, a.v, 'emergency_stop');
      return;
    case 'advance': {
      const end = w.now + a.ms;
      while (w.now < end) {
        w.step(Math.min(a.step, end - w.now));
        assertInvariants(w);
      }
      return;
    }
    case 'link_down':
      w.cutVehicleLink(a.v, a.dir, a.notify);
      return;
    case 'link_up':
      w.restoreVehicleLink(a.v, a.notify);
      return;
    case 'freeze':
      w.freezeConsole(a.d, a.on);
      return;
    case 'vehicle_rtt':
      w.setExtraVehicleRtt(a.v, a.extra);
      return;
    case 'console_rtt':
      w.setExtraConsoleRtt(a.d, a.extra);
      return;
    case 'want':
      w.setWant(a.v, a.speed);
      return;
    case 'call':
      w.passengerCall(a.v);
      return;
    case 'ack_call':
      w.ackCall(a.who, a.v);
      return;
  }
}

function assertInvariants(w: TeleopWorld): void {
  const v = w.violations();
  if (v.length) throw new Error(`invariant violated at t+${w.now - 1_750_000_000_000} ms: ${v.join('; ')}`);
  for (const s of w.vehicles.values()) stats.maxSpeed = Math.max(stats.maxSpeed, s.speed);
}

function runScenario(actions: Action[], delayed: boolean, seed: number): void {
  const w = play(actions, delayed, seed);
  const h = w.historyViolations();
  if (h.length) throw new Error(h.join('; '));
  for (const r of w.audit) {
    if (r.type === 'teleop.mode') {
      seenTransitions.add(`${String(r.data.from)}→${String(r.data.to)}`);
      if (r.data.to === 'safe_stop') stats.safeStops++;
    }
    if (r.type === 'teleop.acquire') stats.acquires++;
    if (r.type === 'teleop.takeover') stats.takeovers++;
    if (r.type === 'teleop.handover') stats.handovers++;
    if (r.type === 'teleop.mrm') stats.mrms++;
    if (r.type === 'teleop.confirm') stats.confirms++;
    if (r.type === 'teleop.lapse') stats.lapses++;
    if (r.type === 'teleop.command_result') (r.data.accepted ? stats.accepted++ : stats.refused++);
  }
}

/** Plays the actions with the invariants checked after each; `fullSweeps`: the core may never skip its sweep. */
function play(actions: Action[], delayed: boolean, seed: number, fullSweeps = false): TeleopWorld {
  const w = new TeleopWorld({
    seed,
    vehicles: VEHICLES.map((id) => ({ id, simulatedDriver: id === 'bus-s', ...(delayed ? { oneWayMs: 5 + (seed % 30), jitterMs: 10 } : {}) })),
    drivers: [...DRIVERS.map((id) => ({ id, ...(delayed ? { oneWayMs: 5 + (seed % 20), jitterMs: 8 } : {}) })), { id: 'disp', role: 'dispatcher' as const }],
  });
  if (fullSweeps) Object.defineProperty(w.core, 'sweepDueAt', { get: () => -Infinity, set: () => {} });
  w.connectAll();
  w.run(200);
  for (const a of actions) {
    apply(w, a);
    assertInvariants(w);
  }
  // let everything settle, invariants still holding
  const end = w.now + 3000;
  while (w.now < end) {
    w.step(w.rng.int(10, 50));
    assertInvariants(w);
  }
  return w;
}

describe('teleop lease invariants under random operation sequences', () => {
  it('hold on zero-delay links (strict: server and bus see the same instant)', () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 5, maxLength: 60, size: 'max' }), fc.integer({ min: 1, max: 1_000_000 }), (actions, seed) => runScenario(actions, false, seed)),
      { numRuns: 200, seed: 20250604 },
    );
  });

  it('hold with real one-way delays and jitter on every link', () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 5, maxLength: 60, size: 'max' }), fc.integer({ min: 1, max: 1_000_000 }), (actions, seed) => runScenario(actions, true, seed)),
      { numRuns: 100, seed: 4711 },
    );
  });

  it("the sweep's skip-ahead changes nothing: a full sweep on every event gives the same audit trail and answers", () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 5, maxLength: 60, size: 'max' }), fc.integer({ min: 1, max: 1_000_000 }), fc.boolean(), (actions, seed, delayed) => {
        const fast = play(actions, delayed, seed);
        const full = play(actions, delayed, seed, true);
        expect(fast.audit).toEqual(full.audit);
        expect(fast.acks).toEqual(full.acks);
      }),
      { numRuns: 150, seed: 1122 },
    );
  });

  it('the random sequences really exercised leases, handovers, MRMs and commands', () => {
    console.log('property coverage', JSON.stringify(stats), [...seenTransitions].sort().join(' '));
    expect(stats.acquires).toBeGreaterThan(50);
    expect(stats.takeovers).toBeGreaterThan(5);
    expect(stats.handovers).toBeGreaterThan(5);
    expect(stats.lapses).toBeGreaterThan(20);
    expect(stats.mrms).toBeGreaterThan(20);
    expect(stats.safeStops).toBeGreaterThan(20);
    expect(stats.confirms).toBeGreaterThan(3);
    expect(stats.accepted).toBeGreaterThan(50);
    expect(stats.maxSpeed).toBeGreaterThan(3);
    const allowed = new Set(Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}→${to}`)));
    for (const t of seenTransitions) expect(allowed).toContain(t);
  });
});
