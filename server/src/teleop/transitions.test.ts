import { afterAll, describe, expect, it } from 'vitest';
import { TRANSITIONS } from './controlCenter.ts';
import { BUS, holder, inState, mode, runChecked, type StateName } from './testkit.ts';
import type { Result, VehicleMode } from './types.ts';
import type { TeleopWorld } from './world.ts';

/**
 * The transition table, explicitly: every (state, event) pair below either changes the mode as listed or is
 * refused with the listed code. All mode changes seen here are collected and compared with TRANSITIONS at the
 * end: each allowed transition is exercised, and nothing outside the table ever happens.
 */
type Event = (w: TeleopWorld) => Result<unknown> | null | void;

const EVENTS: Record<string, Event> = {
  'acquire by d1': (w) => w.acquire('d1', BUS),
  'acquire by d2': (w) => w.acquire('d2', BUS),
  'acquire by the dispatcher': (w) => w.acquire('disp', BUS),
  'release by d1': (w) => w.release('d1', BUS),
  'release by d2': (w) => w.release('d2', BUS),
  'heartbeat by d1': (w) => w.heartbeat('d1', BUS),
  'heartbeat by d2': (w) => w.heartbeat('d2', BUS),
  'handover request by d2': (w) => w.handoverRequest('d2', BUS),
  'confirm by d1': (w) => w.confirm('d1', BUS),
  'confirm by d2': (w) => w.confirm('d2', BUS),
  'resume by d1': (w) => w.command('d1', BUS, 'resume'),
  'resume by d2': (w) => w.command('d2', BUS, 'resume'),
  'stop by d1': (w) => w.command('d1', BUS, 'stop'),
  'doors_open by d1': (w) => w.command('d1', BUS, 'doors_open'),
  'emergency stop by the dispatcher': (w) => w.command('disp', BUS, 'emergency_stop'),
  'emergency stop by d2 (any staff)': (w) => w.command('d2', BUS, 'emergency_stop'),
  'vehicle link down': (w) => w.cutVehicleLink(BUS, 'both', true),
  'vehicle link up': (w) => {
    w.restoreVehicleLink(BUS, true);
  },
  'vehicle reports motion': (w) => {
    w.core.vehicleReport(BUS, { speed: 2, mode: w.vehicleFor(BUS).safety.mode, stamp: w.vehicleFor(BUS).safety.stamp });
    w.flush();
  },
  "d1's console freezes for 600 ms": (w) => {
    w.freezeConsole('d1');
    runChecked(w, 600);
  },
  'latency rises to 650 ms for 300 ms': (w) => {
    w.setExtraVehicleRtt(BUS, 500);
    runChecked(w, 300);
  },
};

interface Row {
  state: StateName;
  event: keyof typeof EVENTS;
  /** error code, or 'ok' */
  result: string;
  mode: VehicleMode;
  holder?: string | null;
}

const ROWS: Row[] = [
  // offline: never connected
  { state: 'offline', event: 'acquire by d1', result: 'OFFLINE', mode: 'offline', holder: null },
  { state: 'offline', event: 'release by d1', result: 'NOT_HOLDER', mode: 'offline' },
  { state: 'offline', event: 'heartbeat by d1', result: 'NOT_HOLDER', mode: 'offline' },
  { state: 'offline', event: 'handover request by d2', result: 'NOT_HELD', mode: 'offline' },
  { state: 'offline', event: 'confirm by d1', result: 'WRONG_MODE', mode: 'offline' },
  { state: 'offline', event: 'resume by d1', result: 'NOT_HOLDER', mode: 'offline' },
  { state: 'offline', event: 'emergency stop by the dispatcher', result: 'OFFLINE', mode: 'offline' },
  { state: 'offline', event: 'vehicle link up', result: 'ok', mode: 'standby', holder: null },

  // standby: parked, no driver
  { state: 'standby', event: 'acquire by d1', result: 'ok', mode: 'remote', holder: 'd1' },
  { state: 'standby', event: 'acquire by the dispatcher', result: 'FORBIDDEN', mode: 'standby', holder: null },
  { state: 'standby', event: 'release by d1', result: 'NOT_HOLDER', mode: 'standby' },
  { state: 'standby', event: 'heartbeat by d1', result: 'NOT_HOLDER', mode: 'standby' },
  { state: 'standby', event: 'handover request by d2', result: 'NOT_HELD', mode: 'standby' },
  { state: 'standby', event: 'confirm by d1', result: 'WRONG_MODE', mode: 'standby' },
  { state: 'standby', event: 'resume by d1', result: 'NOT_HOLDER', mode: 'standby' },
  { state: 'standby', event: 'emergency stop by the dispatcher', result: 'ok', mode: 'emergency_stop', holder: null },
  { state: 'standby', event: 'vehicle link down', result: 'ok', mode: 'offline' },
  { state: 'standby', event: 'vehicle reports motion', result: 'ok', mode: 'mrm' },

  // remote, held at standstill (just acquired)
  { state: 'remote_held', event: 'acquire by d1', result: 'ok', mode: 'remote', holder: 'd1' },
  { state: 'remote_held', event: 'acquire by d2', result: 'NOT_FREE', mode: 'remote', holder: 'd1' },
  { state: 'remote_held', event: 'release by d1', result: 'ok', mode: 'standby', holder: null },
  { state: 'remote_held', event: 'release by d2', result: 'NOT_HOLDER', mode: 'remote', holder: 'd1' },
  { state: 'remote_held', event: 'heartbeat by d1', result: 'ok', mode: 'remote', holder: 'd1' },
  { state: 'remote_held', event: 'heartbeat by d2', result: 'NOT_HOLDER', mode: 'remote', holder: 'd1' },
  { state: 'remote_held', event: 'handover request by d2', result: 'ok', mode: 'remote', holder: 'd1' },
  { state: 'remote_held', event: 'confirm by d1', result: 'WRONG_MODE', mode: 'remote' },
  { state: 'remote_held', event: 'resume by d1', result: 'ok', mode: 'remote', holder: 'd1' },
  { state: 'remote_held', event: 'resume by d2', result: 'NOT_HOLDER', mode: 'remote', holder: 'd1' },
  { state: 'remote_held', event: 'emergency stop by d2 (any staff)', result: 'ok', mode: 'emergency_stop', holder: 'd1' },
  { state: 'remote_held', event: 'vehicle link down', result: 'ok', mode: 'mrm', holder: 'd1' },
  // stationary: the MRM ends at once in safe_stop; the lapsed lease ends there
  { state: 'remote_held', event: "d1's console freezes for 600 ms", result: 'ok', mode: 'safe_stop', holder: null },
  { state: 'remote_held', event: 'latency rises to 650 ms for 300 ms', result: 'ok', mode: 'safe_stop', holder: 'd1' },

  // remote, driving at ~3 m/s
  { state: 'remote_moving', event: 'release by d1', result: 'BUS_MOVING', mode: 'remote', holder: 'd1' },
  { state: 'remote_moving', event: 'acquire by d2', result: 'NOT_FREE', mode: 'remote', holder: 'd1' },
  { state: 'remote_moving', event: 'doors_open by d1', result: 'BUS_MOVING', mode: 'remote' },
  { state: 'remote_moving', event: 'confirm by d1', result: 'WRONG_MODE', mode: 'remote' },
  { state: 'remote_moving', event: 'handover request by d2', result: 'ok', mode: 'remote', holder: 'd1' },
  { state: 'remote_moving', event: 'emergency stop by the dispatcher', result: 'ok', mode: 'emergency_stop', holder: 'd1' },
  { state: 'remote_moving', event: 'vehicle link down', result: 'ok', mode: 'mrm', holder: 'd1' },
  // the lapsed holder stays responsible while the bus brakes
  { state: 'remote_moving', event: "d1's console freezes for 600 ms", result: 'ok', mode: 'mrm', holder: 'd1' },

  // mrm: d1's lease lapsed, the bus brakes
  { state: 'mrm', event: 'acquire by d1', result: 'WRONG_MODE', mode: 'mrm', holder: 'd1' },
  { state: 'mrm', event: 'acquire by d2', result: 'WRONG_MODE', mode: 'mrm', holder: 'd1' },
  { state: 'mrm', event: 'release by d1', result: 'LEASE_LAPSED', mode: 'mrm', holder: 'd1' },
  { state: 'mrm', event: 'heartbeat by d1', result: 'LEASE_LAPSED', mode: 'mrm' },
  { state: 'mrm', event: 'handover request by d2', result: 'WRONG_MODE', mode: 'mrm' },
  { state: 'mrm', event: 'confirm by d1', result: 'WRONG_MODE', mode: 'mrm' },
  { state: 'mrm', event: 'stop by d1', result: 'LEASE_LAPSED', mode: 'mrm' },
  { state: 'mrm', event: 'emergency stop by the dispatcher', result: 'ok', mode: 'emergency_stop', holder: 'd1' },
  { state: 'mrm', event: 'vehicle link down', result: 'ok', mode: 'mrm', holder: 'd1' },

  // safe_stop after a lapse: nobody holds the bus
  { state: 'safe_stop_free', event: 'confirm by d1', result: 'NOT_HOLDER', mode: 'safe_stop', holder: null },
  { state: 'safe_stop_free', event: 'acquire by d2', result: 'ok', mode: 'safe_stop', holder: 'd2' },
  { state: 'safe_stop_free', event: 'resume by d1', result: 'NOT_HOLDER', mode: 'safe_stop' },
  { state: 'safe_stop_free', event: 'release by d1', result: 'NOT_HOLDER', mode: 'safe_stop' },
  { state: 'safe_stop_free', event: 'handover request by d2', result: 'NOT_HELD', mode: 'safe_stop' },
  { state: 'safe_stop_free', event: 'emergency stop by the dispatcher', result: 'ok', mode: 'emergency_stop', holder: null },
  { state: 'safe_stop_free', event: 'vehicle link down', result: 'ok', mode: 'safe_stop' },
  { state: 'safe_stop_free', event: 'vehicle reports motion', result: 'ok', mode: 'mrm' },

  // safe_stop after a link loss: d1's console stayed alive, d1 still holds
  { state: 'safe_stop_held', event: 'confirm by d1', result: 'ok', mode: 'remote', holder: 'd1' },
  { state: 'safe_stop_held', event: 'confirm by d2', result: 'NOT_HOLDER', mode: 'safe_stop', holder: 'd1' },
  { state: 'safe_stop_held', event: 'acquire by d2', result: 'NOT_FREE', mode: 'safe_stop', holder: 'd1' },
  { state: 'safe_stop_held', event: 'resume by d1', result: 'WRONG_MODE', mode: 'safe_stop' },
  { state: 'safe_stop_held', event: 'doors_open by d1', result: 'ok', mode: 'safe_stop' },
  { state: 'safe_stop_held', event: 'release by d1', result: 'ok', mode: 'safe_stop', holder: null },
  { state: 'safe_stop_held', event: 'handover request by d2', result: 'ok', mode: 'safe_stop', holder: 'd1' },
  { state: 'safe_stop_held', event: 'heartbeat by d1', result: 'ok', mode: 'safe_stop', holder: 'd1' },

  // emergency_stop at standstill, d1 still holds
  { state: 'emergency_stop', event: 'confirm by d1', result: 'ok', mode: 'remote', holder: 'd1' },
  { state: 'emergency_stop', event: 'confirm by d2', result: 'NOT_HOLDER', mode: 'emergency_stop' },
  { state: 'emergency_stop', event: 'acquire by d2', result: 'NOT_FREE', mode: 'emergency_stop', holder: 'd1' },
  { state: 'emergency_stop', event: 'resume by d1', result: 'WRONG_MODE', mode: 'emergency_stop' },
  { state: 'emergency_stop', event: 'release by d1', result: 'ok', mode: 'emergency_stop', holder: null },
  { state: 'emergency_stop', event: 'emergency stop by the dispatcher', result: 'ok', mode: 'emergency_stop', holder: 'd1' },
  { state: 'emergency_stop', event: 'vehicle link down', result: 'ok', mode: 'emergency_stop' },
  { state: 'emergency_stop', event: 'vehicle reports motion', result: 'ok', mode: 'emergency_stop' },
];

const seen = new Set<string>();
function recordTransitions(w: TeleopWorld): void {
  for (const r of w.audit) if (r.type === 'teleop.mode') seen.add(`${String(r.data.from)}→${String(r.data.to)}`);
}

describe('teleop transition table', () => {
  it.each(ROWS)('$state + $event → $result, $mode', (row) => {
    const w = inState(row.state);
    const r = EVENTS[row.event](w);
    const got = r === undefined ? 'ok' : r === null ? 'no ack' : 'error' in r ? r.error.code : 'ok';
    expect(got).toBe(row.result);
    expect(mode(w)).toBe(row.mode);
    if (row.holder !== undefined) expect(holder(w)).toBe(row.holder);
    expect(w.violations()).toEqual([]);
    expect(w.historyViolations()).toEqual([]);
    recordTransitions(w);
  });

  it('the latency MRM names its reason', () => {
    const w = inState('remote_held');
    EVENTS['latency rises to 650 ms for 300 ms'](w);
    const mrm = w.audit.find((r) => r.type === 'teleop.mrm');
    expect(mrm?.data.reason).toBe('latency_over_limit');
    recordTransitions(w);
  });

  afterAll(() => {
    const allowed = new Set(Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => `${from}→${to}`)));
    // nothing outside the table happened …
    for (const t of seen) expect(allowed, `unexpected transition ${t}`).toContain(t);
    // … and every allowed transition was exercised
    for (const t of allowed) expect(seen, `transition ${t} never exercised`).toContain(t);
  });
});

describe('every mode pair outside the table is refused', () => {
  const modes: VehicleMode[] = ['offline', 'standby', 'remote', 'mrm', 'safe_stop', 'emergency_stop'];
  it('the table is exactly the documented one (and nothing goes back to offline except from standby)', () => {
    const refused = modes.flatMap((a) => modes.filter((b) => a !== b && !TRANSITIONS[a].includes(b)).map((b) => `${a}→${b}`));
    expect(refused.sort()).toEqual(
      [
        'emergency_stop→mrm',
        'emergency_stop→offline',
        'emergency_stop→safe_stop',
        'emergency_stop→standby',
        'mrm→offline',
        'mrm→remote',
        'mrm→standby',
        'offline→emergency_stop',
        'offline→mrm',
        'offline→remote',
        'offline→safe_stop',
        'remote→offline',
        'remote→safe_stop',
        'safe_stop→offline',
        'safe_stop→standby',
        'standby→safe_stop',
      ].sort(),
    );
  });
});
