import { describe, expect, it } from 'vitest';
import { BUS, expectError, expectOk, inState, runChecked, runUntil, mode, world } from './testkit.ts';

/** Passenger call: the holder acknowledges; the dispatcher when no human holds the bus, or after escalation. */
describe('passenger call', () => {
  it('goes to the holder, who acknowledges; others may not (yet)', () => {
    const w = inState('remote_moving');
    expect(expectOk(w.passengerCall(BUS)).owner).toBe('d1');
    const alert = w.audit.find((r) => r.type === 'teleop.alert' && r.data.alert === 'passenger_call');
    expect(alert?.data.to).toBe('d1');
    expect(expectOk(w.passengerCall(BUS)).owner).toBe('d1'); // pressing again: same open call
    expectError(w.ackCall('d2', BUS), 'NOT_HOLDER');
    expectError(w.ackCall('disp', BUS), 'NOT_HOLDER');
    runChecked(w, 3000);
    expect(expectOk(w.ackCall('d1', BUS)).afterMs).toBe(3000);
    expectError(w.ackCall('d1', BUS), 'NO_CALL');
    expect(w.audit.find((r) => r.type === 'teleop.passenger_call_ack')).toMatchObject({ actor: 'd1', data: { afterMs: 3000 } });
  });

  it('goes to the dispatcher when no human holds the bus (free or simulated driver)', () => {
    const w = world();
    w.connectAll();
    runChecked(w, 200);
    expect(expectOk(w.passengerCall(BUS)).owner).toBe('dispatcher');
    expect(expectOk(w.passengerCall('bus-s')).owner).toBe('dispatcher');
    expectError(w.ackCall('d1', 'bus-s'), 'NOT_HOLDER');
    expectOk(w.ackCall('disp', 'bus-s'));
    expectOk(w.ackCall('root', BUS)); // an admin may, too
  });

  it('escalates to the dispatcher after 30 s unanswered; then either may acknowledge', () => {
    const w = inState('remote_held');
    expectOk(w.passengerCall(BUS));
    runChecked(w, 29_900);
    expectError(w.ackCall('disp', BUS), 'NOT_HOLDER');
    runChecked(w, 200);
    expect(w.core.view(BUS)!.passengerCall).toMatchObject({ escalated: true, owner: 'd1' });
    expect(w.audit.some((r) => r.data.alert === 'passenger_call_escalated' && r.data.to === 'dispatcher')).toBe(true);
    expectOk(w.ackCall('disp', BUS));
  });

  it("moves to the dispatcher at once when the holder's lease lapses, and to the new holder on a handover", () => {
    const w = inState('remote_moving');
    expectOk(w.handoverRequest('d2', BUS));
    runChecked(w, 100);
    expectOk(w.passengerCall(BUS));
    expectOk(w.handoverConfirm('d1', BUS, 'd2'));
    expect(w.core.view(BUS)!.passengerCall?.owner).toBe('d2');
    expectError(w.ackCall('d1', BUS), 'NOT_HOLDER');
    w.freezeConsole('d2');
    runUntil(w, () => mode(w) === 'mrm');
    expect(w.core.view(BUS)!.passengerCall).toMatchObject({ owner: 'dispatcher', escalated: true });
    expectOk(w.ackCall('disp', BUS));
  });

  it('unknown vehicle', () => {
    const w = world();
    expectError(w.passengerCall('nope'), 'NO_SUCH_VEHICLE');
  });
});
