import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stepSpeed } from './mrmDynamics.ts';
import type { VehicleCommand } from './types.ts';
import { VehicleSafety } from './vehicleSafety.ts';

/** The bus's own dead-man and command gate, without any server. */
const T = 1_750_000_000_000;
const EPOCH = T - 10_000;

function leased(now = T): VehicleSafety {
  const s = new VehicleSafety('bus-1');
  s.onDirective({ type: 'lease', holder: 'd1', epoch: EPOCH, stamp: now - 1, speedCap: 13 }, now, 0);
  return s;
}
const cmd = (seq: number, issuedAt: number, over: Partial<VehicleCommand> = {}): VehicleCommand => ({ vehicleId: 'bus-1', seq, type: 'stop', issuedAt, by: 'd1', epoch: EPOCH, ...over });

describe('vehicle dead-man', () => {
  it('a lease from standby puts the bus into remote, held', () => {
    const s = leased();
    expect(s.mode).toBe('remote');
    expect(s.isHeld).toBe(true);
    expect(s.mayDrive(T)).toBe(false);
  });

  it('brakes (MRM) exactly when no valid heartbeat arrived for 500 ms — no server needed', () => {
    const s = leased();
    s.onCommand(cmd(1, T, { type: 'resume' }), T, 0);
    expect(s.tick(T + 499, 10)).toMatchObject({ mode: 'remote', brake: 'none', mrmStarted: false });
    const out = s.tick(T + 500, 10);
    expect(out).toMatchObject({ mode: 'mrm', brake: 'mrm', maxSpeed: 0, mrmStarted: true });
    expect(s.mrms[0]).toEqual({ at: T + 500, reason: 'dead_man', lastLeaseAt: T });
    // braking to a standstill, then safe_stop; only the server's clear_stop leaves it
    let v = 10;
    let t = T + 500;
    while (v > 0) {
      t += 20;
      v = stepSpeed(v, 20, s.tick(t, v).brake, 0);
    }
    expect(s.tick(t, 0).mode).toBe('safe_stop');
    s.onDirective({ type: 'lease', holder: 'd1', epoch: EPOCH, stamp: t, speedCap: 13 }, t, 0);
    expect(s.tick(t + 10, 0).mode).toBe('safe_stop'); // a heartbeat alone does not restart it
  });

  it('heartbeats keep it driving; replayed or reordered ones (stamp not newer) do not count', () => {
    const s = leased();
    s.onCommand(cmd(1, T, { type: 'resume' }), T, 0);
    for (let t = T + 100; t <= T + 2000; t += 100) {
      expect(s.onDirective({ type: 'lease', holder: 'd1', epoch: EPOCH, stamp: t, speedCap: 13 }, t, 5)).toBe(true);
      expect(s.tick(t, 5).mode).toBe('remote');
    }
    // a replay of an old heartbeat arrives later: dropped, the dead-man still fires on time
    expect(s.onDirective({ type: 'lease', holder: 'd1', epoch: EPOCH, stamp: T + 1500, speedCap: 13 }, T + 2300, 5)).toBe(false);
    expect(s.tick(T + 2499, 5).mode).toBe('remote');
    expect(s.tick(T + 2500, 5).mode).toBe('mrm');
  });

  it('a heartbeat of an older lease epoch is ignored', () => {
    const s = leased();
    expect(s.onDirective({ type: 'lease', holder: 'd0', epoch: EPOCH - 1, stamp: T + 50, speedCap: 13 }, T + 50, 0)).toBe(false);
    expect(s.holder).toBe('d1');
  });

  it("an MRM order is obeyed even if its stamp is old (fail-safe)", () => {
    const s = leased();
    s.onDirective({ type: 'mrm', reason: 'lease_lapsed', stamp: 1 }, T + 10, 5);
    expect(s.mode).toBe('mrm');
    expect(s.mrms[0].reason).toBe('server:lease_lapsed');
  });

  it('clear_stop leaves safe_stop only for the current, fresh lease and at standstill, back into held remote', () => {
    const s = leased();
    s.onDirective({ type: 'mrm', reason: 'vehicle_link_lost', stamp: T + 1 }, T + 1, 0);
    s.tick(T + 2, 0);
    expect(s.mode).toBe('safe_stop');
    expect(s.onDirective({ type: 'clear_stop', holder: 'd2', epoch: EPOCH, stamp: T + 3 }, T + 3, 0)).toBe(false); // wrong holder
    expect(s.onDirective({ type: 'clear_stop', holder: 'd1', epoch: EPOCH, stamp: T + 600 }, T + 600, 0)).toBe(false); // lease stale
    s.onDirective({ type: 'lease', holder: 'd1', epoch: EPOCH, stamp: T + 700, speedCap: 13 }, T + 700, 0);
    expect(s.onDirective({ type: 'clear_stop', holder: 'd1', epoch: EPOCH, stamp: T + 701 }, T + 701, 0.5)).toBe(false); // moving
    expect(s.onDirective({ type: 'clear_stop', holder: 'd1', epoch: EPOCH, stamp: T + 702 }, T + 702, 0)).toBe(true);
    expect(s.mode).toBe('remote');
    expect(s.isHeld).toBe(true);
  });

  it('lease_end parks a held, stationary bus; on a moving one it starts an MRM', () => {
    const a = leased();
    a.onDirective({ type: 'lease_end', epoch: EPOCH, stamp: T + 10 }, T + 10, 0);
    expect(a.mode).toBe('standby');
    const b = leased();
    b.onCommand(cmd(1, T, { type: 'resume' }), T, 0);
    b.onDirective({ type: 'lease_end', epoch: EPOCH, stamp: T + 10 }, T + 10, 3);
    expect(b.mode).toBe('mrm');
    expect(b.mrms[0].reason).toBe('lease_end_moving');
  });

  it('property: after any heartbeat pattern, remote never outlives the last valid heartbeat by 500 ms', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ gap: fc.integer({ min: 1, max: 700 }), hb: fc.boolean(), stampBack: fc.integer({ min: -3, max: 0 }) }), { maxLength: 80 }), (steps) => {
        const s = leased();
        s.onCommand(cmd(1, T, { type: 'resume' }), T, 0);
        let t = T;
        let lastValid = T;
        let stamp = T;
        for (const st of steps) {
          t += st.gap;
          if (st.hb) {
            const proposed = stamp + 1 + st.stampBack * 1000;
            if (s.onDirective({ type: 'lease', holder: 'd1', epoch: EPOCH, stamp: proposed, speedCap: 13 }, t, 5)) {
              lastValid = t;
              stamp = proposed;
            }
          }
          const out = s.tick(t, 5);
          if (out.mode === 'remote') expect(t - lastValid).toBeLessThan(500);
          if (out.mrmStarted) expect(t - lastValid).toBeGreaterThanOrEqual(500);
        }
      }),
      { numRuns: 300, seed: 99 },
    );
  });
});

describe('vehicle command gate', () => {
  it('accepts the holder’s fresh, in-order commands', () => {
    const s = leased();
    expect(s.onCommand(cmd(1, T - 500), T, 0)).toEqual({ data: { accepted: true } });
    expect(s.onCommand(cmd(2, T, { type: 'resume' }), T, 0)).toEqual({ data: { accepted: true } });
    expect(s.isHeld).toBe(false);
  });

  it('refuses STALE (> 500 ms on arrival), OUT_OF_ORDER, CLOCK_SKEW and other leases (NOT_HOLDER)', () => {
    const s = leased();
    expect(s.onCommand(cmd(1, T - 501), T, 0)).toMatchObject({ error: { code: 'STALE' } });
    expect(s.onCommand(cmd(3, T), T, 0)).toMatchObject({ data: { accepted: true } });
    expect(s.onCommand(cmd(3, T), T, 0)).toMatchObject({ error: { code: 'OUT_OF_ORDER' } });
    expect(s.onCommand(cmd(2, T), T, 0)).toMatchObject({ error: { code: 'OUT_OF_ORDER' } });
    expect(s.onCommand(cmd(4, T + 500), T, 0)).toMatchObject({ error: { code: 'CLOCK_SKEW' } });
    expect(s.onCommand(cmd(4, T, { by: 'd2' }), T, 0)).toMatchObject({ error: { code: 'NOT_HOLDER' } });
    expect(s.onCommand(cmd(4, T, { epoch: EPOCH - 1 }), T, 0)).toMatchObject({ error: { code: 'NOT_HOLDER' } });
    // no valid lease at all (dead-man expired)
    expect(s.onCommand(cmd(4, T + 600), T + 600, 0)).toMatchObject({ error: { code: 'NOT_HOLDER' } });
  });

  it('a new lease (handover) resets the seq space; the old holder is refused', () => {
    const s = leased();
    s.onCommand(cmd(40, T), T, 0);
    s.onDirective({ type: 'lease', holder: 'd2', epoch: EPOCH + 5, stamp: T + 5, speedCap: 13 }, T + 5, 0);
    expect(s.onCommand(cmd(41, T + 5), T + 5, 0)).toMatchObject({ error: { code: 'NOT_HOLDER' } });
    expect(s.onCommand(cmd(1, T + 5, { by: 'd2', epoch: EPOCH + 5 }), T + 5, 0)).toEqual({ data: { accepted: true } });
  });

  it('emergency stop is always accepted (any sender, age, order) and brakes at the emergency deceleration', () => {
    const s = leased();
    const r = s.onCommand(cmd(0, T - 60_000, { type: 'emergency_stop', by: 'disp', epoch: 0 }), T, 8);
    expect(r).toEqual({ data: { accepted: true } });
    expect(s.tick(T, 8)).toMatchObject({ mode: 'emergency_stop', brake: 'emergency', maxSpeed: 0 });
  });

  it('mode gates: nothing but an emergency stop during an MRM; no resume in safe_stop; doors only at standstill', () => {
    const s = leased();
    expect(s.onCommand(cmd(1, T, { type: 'doors_open' }), T, 2)).toMatchObject({ error: { code: 'BUS_MOVING' } });
    s.onDirective({ type: 'mrm', reason: 'lease_lapsed', stamp: T + 1 }, T, 2);
    expect(s.onCommand(cmd(2, T), T, 2)).toMatchObject({ error: { code: 'WRONG_MODE' } });
    s.tick(T + 1, 0);
    s.onDirective({ type: 'lease', holder: 'd1', epoch: EPOCH, stamp: T + 2, speedCap: 13 }, T + 2, 0);
    expect(s.onCommand(cmd(3, T + 2, { type: 'resume' }), T + 2, 0)).toMatchObject({ error: { code: 'WRONG_MODE' } });
    expect(s.onCommand(cmd(4, T + 2, { type: 'doors_open' }), T + 2, 0)).toEqual({ data: { accepted: true } });
  });

  it('drives only as fast as the last lease heartbeat allows: a cap of 0 (latency unknown) keeps it standing', () => {
    const s = new VehicleSafety('bus-1');
    s.onDirective({ type: 'lease', holder: 'd1', epoch: EPOCH, stamp: T, speedCap: 0 }, T, 0);
    s.onCommand(cmd(1, T, { type: 'resume' }), T, 0);
    expect(s.tick(T + 1, 0)).toMatchObject({ brake: 'none', maxSpeed: 0 });
    s.onDirective({ type: 'lease', holder: 'd1', epoch: EPOCH, stamp: T + 100, speedCap: 11.1 }, T + 100, 0);
    expect(s.tick(T + 101, 0).maxSpeed).toBe(11.1);
  });

  it('the speed it may reach is the smaller of the server’s latency cap and the driver’s cap', () => {
    const s = leased();
    s.onCommand(cmd(1, T, { type: 'resume' }), T, 0);
    s.onDirective({ type: 'speed_cap', value: 9, stamp: T + 1 }, T + 1, 0);
    expect(s.tick(T + 2, 0).maxSpeed).toBe(9);
    s.onCommand(cmd(2, T + 2, { type: 'speed_cap', value: 6 }), T + 2, 0);
    expect(s.tick(T + 3, 0).maxSpeed).toBe(6);
  });
});
