import { describe, expect, it } from 'vitest';
import { BUS, expectOk, inState, mode, runChecked, runUntil } from './testkit.ts';

/** Append-only audit: every lease, handover, command, mode change, MRM and alert, with time and actor. */
describe('audit trail', () => {
  it('records a whole shift in order, each record with time, type, vehicle, actor and data', () => {
    const w = inState('remote_moving'); // acquire, resume
    w.command('d1', BUS, 'speed_cap', { value: 6 });
    expectOk(w.handoverRequest('d2', BUS));
    runChecked(w, 200);
    expectOk(w.handoverConfirm('d1', BUS, 'd2'));
    w.passengerCall(BUS);
    w.ackCall('d2', BUS);
    w.freezeConsole('d2');
    runUntil(w, () => mode(w) === 'safe_stop');
    w.freezeConsole('d2', false);
    runChecked(w, 100);
    expectOk(w.acquire('d3', BUS));
    runChecked(w, 100);
    expectOk(w.confirm('d3', BUS));
    w.command('disp', BUS, 'emergency_stop');

    const recs = w.audit.filter((r) => r.vehicleId === BUS);
    for (let i = 0; i < w.audit.length; i++) {
      const r = w.audit[i];
      expect(Number.isInteger(r.t)).toBe(true);
      expect(r.type).toMatch(/^teleop\./);
      expect(r.actor.length).toBeGreaterThan(0);
      expect(typeof r.data).toBe('object');
      if (i > 0) expect(r.t).toBeGreaterThanOrEqual(w.audit[i - 1].t);
    }
    const story = recs
      .filter((r) => r.type !== 'teleop.alert' && r.type !== 'teleop.link' && r.type !== 'teleop.command_result')
      .map((r) => `${r.type}${r.type === 'teleop.mode' ? `:${String(r.data.from)}→${String(r.data.to)}` : ''}@${r.actor}`);
    expect(story).toEqual([
      'teleop.vehicle_added@system',
      'teleop.mode:offline→standby@system',
      'teleop.acquire@d1',
      'teleop.mode:standby→remote@d1',
      'teleop.command@d1', // resume
      'teleop.command@d1', // speed_cap
      'teleop.handover_request@d2',
      'teleop.handover@d1',
      'teleop.passenger_call@vehicle:bus-1',
      'teleop.passenger_call_ack@d2',
      'teleop.lapse@system',
      'teleop.mode:remote→mrm@system',
      'teleop.mrm@system',
      'teleop.mode:mrm→safe_stop@vehicle:bus-1',
      'teleop.lease_end@system',
      'teleop.acquire@d3',
      'teleop.confirm@d3',
      'teleop.mode:safe_stop→remote@d3',
      'teleop.command@disp',
      'teleop.mode:remote→emergency_stop@disp',
    ]);
    const alerts = recs.filter((r) => r.type === 'teleop.alert').map((r) => `${String(r.data.alert)}→${String(r.data.to)}`);
    expect(alerts).toEqual(
      expect.arrayContaining(['passenger_call→d2', 'lease_lapsed→dispatcher', 'mrm→dispatcher', 'mrm→d2', 'safe_stop→dispatcher', 'emergency_stop→dispatcher', 'emergency_stop→d3', 'handover_requested→d1']),
    );
    const mrm = recs.find((r) => r.type === 'teleop.mrm')!;
    expect(mrm.data).toMatchObject({ reason: 'lease_lapsed', holder: 'd2' });
    expect(mrm.data.sinceHeartbeatMs as number).toBeLessThanOrEqual(520);
  });
});
