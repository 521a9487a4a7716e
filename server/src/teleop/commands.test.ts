import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.ts';
import { TeleopControlCenter } from './controlCenter.ts';
import { BUS, expectError, expectOk, inState, mode, runChecked, runUntil, world } from './testkit.ts';
import type { Actor, CommandRequest } from './types.ts';

/** Sequenced, expiring commands: only from the holder (emergency stop: any staff), strictly increasing seq, ≤ 500 ms old. */
const d1: Actor = { id: 'd1', role: 'driver' };
const d2: Actor = { id: 'd2', role: 'driver' };

function core() {
  const clock = new ManualClock(1_750_000_000_000);
  const c = new TeleopControlCenter(clock);
  c.addVehicle(BUS);
  c.vehicleLink(BUS, true);
  c.vehicleRtt(BUS, 40);
  c.consoleRtt('d1', 30);
  c.consoleRtt('d2', 30);
  expectOk(c.acquire(d1, BUS));
  c.vehicleReport(BUS, { speed: 0, mode: 'remote', stamp: Number.MAX_SAFE_INTEGER });
  return { clock, c };
}
const cmd = (clock: ManualClock, seq: number, over: Partial<CommandRequest> = {}): CommandRequest => ({ vehicleId: BUS, seq, type: 'stop', issuedAt: clock.now(), ...over });

describe('command checks at the server', () => {
  it('forwards the holder’s fresh, in-order command with its lease epoch', () => {
    const { clock, c } = core();
    const f = expectOk(c.command(d1, cmd(clock, 1))).forward;
    expect(f).toMatchObject({ vehicleId: BUS, seq: 1, type: 'stop', by: 'd1', epoch: c.view(BUS)!.epoch });
  });

  it('refuses non-holders (NOT_HOLDER), repeated or lower seq (OUT_OF_ORDER), old (STALE) and future-dated (CLOCK_SKEW) commands', () => {
    const { clock, c } = core();
    expectError(c.command(d2, cmd(clock, 1)), 'NOT_HOLDER');
    expectOk(c.command(d1, cmd(clock, 5)));
    expectError(c.command(d1, cmd(clock, 5)), 'OUT_OF_ORDER');
    expectError(c.command(d1, cmd(clock, 4)), 'OUT_OF_ORDER');
    expectError(c.command(d1, cmd(clock, 6, { issuedAt: clock.now() - 501 })), 'STALE');
    expectOk(c.command(d1, cmd(clock, 6, { issuedAt: clock.now() - 500 }))); // exactly the limit is still fresh
    expectError(c.command(d1, cmd(clock, 7, { issuedAt: clock.now() + 101 })), 'CLOCK_SKEW');
    // refused commands do not use up their seq
    expectOk(c.command(d1, cmd(clock, 7)));
  });

  it('validates arguments (INVALID) and unknown vehicles (NO_SUCH_VEHICLE)', () => {
    const { clock, c } = core();
    expectError(c.command(d1, cmd(clock, 1, { type: 'speed_cap' })), 'INVALID');
    expectError(c.command(d1, cmd(clock, 1, { type: 'speed_cap', value: -1 })), 'INVALID');
    expectError(c.command(d1, cmd(clock, 1, { type: 'stop', value: 3 })), 'INVALID');
    expectError(c.command(d1, cmd(clock, 0)), 'INVALID');
    expectError(c.command(d1, cmd(clock, 1.5)), 'INVALID');
    expectError(c.command(d1, cmd(clock, 1, { vehicleId: 'nope' })), 'NO_SUCH_VEHICLE');
  });

  it('a new lease starts a new seq space', () => {
    const { clock, c } = core();
    expectOk(c.command(d1, cmd(clock, 90)));
    c.commandResult(expectOk(c.command(d1, cmd(clock, 91))).forward, { data: { accepted: true } });
    c.vehicleReport(BUS, { speed: 0, mode: 'remote' });
    expectOk(c.release(d1, BUS));
    expectOk(c.acquire(d2, BUS));
    expectOk(c.command(d2, cmd(clock, 1)));
  });

  it('every command, forwarded or refused, and every vehicle verdict is audited', () => {
    const { clock, c } = core();
    c.drain();
    const f = expectOk(c.command(d1, cmd(clock, 1))).forward;
    expectError(c.command(d2, cmd(clock, 2)), 'NOT_HOLDER');
    expect(c.commandResult(f, { error: { code: 'STALE', message: 'late' } })).toEqual({ error: { code: 'STALE', message: 'late' } });
    const audit = c.drain().flatMap((o) => (o.kind === 'audit' ? [o.record] : []));
    expect(audit.map((r) => [r.type, r.actor, r.data.status ?? r.data.accepted])).toEqual([
      ['teleop.command', 'd1', 'forwarded'],
      ['teleop.command', 'd2', 'refused'],
      ['teleop.command_result', `vehicle:${BUS}`, false],
    ]);
  });
});

describe('emergency stop', () => {
  it('any staff member may stop any bus, with any seq and any age; drivers, dispatchers and admins alike', () => {
    const { clock, c } = core();
    expectOk(c.command(d1, cmd(clock, 50)));
    const f = expectOk(c.command({ id: 'disp', role: 'dispatcher' }, cmd(clock, 1, { type: 'emergency_stop', issuedAt: clock.now() - 5000 }))).forward;
    expect(f).toMatchObject({ type: 'emergency_stop', by: 'disp' });
    expect(c.view(BUS)!.mode).toBe('emergency_stop');
    expectOk(c.emergencyStop({ id: 'root', role: 'admin' }, BUS));
    expectOk(c.emergencyStop(d2, BUS));
    expectError(c.emergencyStop({ id: 'sim:other', role: 'sim' }, BUS), 'FORBIDDEN');
    expect(c.view(BUS)!.holder).toBe('d1'); // the holder stays responsible
  });

  it('reaches the bus through the console link and stops it at the emergency deceleration', () => {
    const w = inState('remote_moving');
    const v0 = w.vehicleFor(BUS).speed;
    const r = w.command('disp', BUS, 'emergency_stop', { ageMs: 2000 });
    expect(r).toEqual({ data: { accepted: true } });
    const t0 = w.now;
    runUntil(w, () => w.vehicleFor(BUS).speed === 0);
    expect(w.now - t0).toBeLessThanOrEqual((v0 / 5) * 1000 + 40);
    expect(mode(w)).toBe('emergency_stop');
    expect(w.vehicleFor(BUS).safety.mode).toBe('emergency_stop');
  });
});

describe('command checks at the vehicle (through the world)', () => {
  it('the ack carries the vehicle’s verdict', () => {
    const w = inState('remote_held');
    expect(w.command('d1', BUS, 'doors_open')).toEqual({ data: { accepted: true } });
    // the vehicle's interlock: no resume with open doors (the server cannot know the doors' state)
    expect(w.command('d1', BUS, 'resume')).toMatchObject({ error: { code: 'DOORS_OPEN' } });
    expect(w.command('d1', BUS, 'doors_close')).toEqual({ data: { accepted: true } });
    expect(w.command('d1', BUS, 'resume')).toEqual({ data: { accepted: true } });
  });

  it('a command that was fresh at the server but is older than 500 ms on arrival at the bus is refused STALE', () => {
    // a slow downlink: 450 ms one way (latency checks relaxed so the bus stays drivable)
    const w = world({ vehicles: [{ id: BUS, oneWayMs: 450 }], config: { latencyHardLimitMs: 2000 } });
    w.connectAll();
    runChecked(w, 1000);
    expectOk(w.acquire('d1', BUS));
    runChecked(w, 1000);
    w.sendCommand('d1', BUS, 'speed_cap', { value: 4, ageMs: 100 }); // 100 ms at the server, 550 ms at the bus
    runChecked(w, 1000);
    const ack = w.acks.find((a) => a.cmd.type === 'speed_cap');
    expect(ack?.res).toMatchObject({ error: { code: 'STALE' } });
    expect(w.audit.find((r) => r.type === 'teleop.command_result')?.data).toMatchObject({ accepted: false, code: 'STALE' });
  });

  it('the driver’s speed cap lowers the permitted speed the dispatcher plans with', () => {
    const w = inState('remote_moving');
    expect(w.core.permittedSpeed(BUS)).toBeCloseTo(50 / 3.6);
    expect(w.command('d1', BUS, 'speed_cap', { value: 4 })).toEqual({ data: { accepted: true } });
    expect(w.core.permittedSpeed(BUS)).toBe(4);
    runChecked(w, 3000);
    expect(w.vehicleFor(BUS).speed).toBeLessThanOrEqual(4);
  });
});
