import { describe, expect, it } from 'vitest';
import { BUS, expectError, expectOk, holder, inState, mode, runChecked, runUntil, world } from './testkit.ts';

/**
 * Hand-built handover sequences: responsibility moves from holder to taker in one step, with no instant in
 * which two or zero drivers are responsible for the moving bus (checked after every 20 ms step and around
 * every call), and the bus keeps driving through it.
 */
describe('two-step handover of a moving bus', () => {
  it('request → confirm moves responsibility atomically; the bus never brakes', () => {
    const w = inState('remote_moving');
    const speedBefore = w.vehicleFor(BUS).speed;
    expect(speedBefore).toBeGreaterThan(2);
    const req = expectOk(w.handoverRequest('d2', BUS));
    expect(req.status).toBe('pending');
    expect(holder(w)).toBe('d1'); // a request changes nothing yet
    runChecked(w, 400); // d2's console heartbeats for the bus meanwhile
    expect(holder(w)).toBe('d1');
    const auditMark = w.audit.length;
    const conf = expectOk(w.handoverConfirm('d1', BUS, 'd2'));
    expect(conf.holder).toBe('d2');
    expect(holder(w)).toBe('d2');
    // one audit record carries both names; no lease_end, no mode change in between
    const recs = w.audit.slice(auditMark).filter((r) => r.vehicleId === BUS);
    expect(recs.map((r) => r.type)).toEqual(['teleop.handover']);
    expect(recs[0].data).toMatchObject({ from: 'd1', to: 'd2' });
    // the bus learns the new lease at once and keeps driving under d2
    expect(w.vehicleFor(BUS).safety.holder).toBe('d2');
    runChecked(w, 2000);
    expect(mode(w)).toBe('remote');
    expect(w.vehicleFor(BUS).speed).toBeGreaterThanOrEqual(speedBefore);
    expect(w.vehicleFor(BUS).safety.mrms).toHaveLength(0);
    // the old holder is now just another driver
    expectError(w.heartbeat('d1', BUS), 'NOT_HOLDER');
    expectError(w.command('d1', BUS, 'stop')!, 'NOT_HOLDER');
    expect(expectOk(w.command('d2', BUS, 'speed_cap', { value: 5 })!)).toEqual({ accepted: true });
  });

  it('the same over links with delay: the bus keeps driving, no MRM', () => {
    const w = world({ vehicles: [{ id: BUS, oneWayMs: 40, jitterMs: 10 }], drivers: [{ id: 'd1', oneWayMs: 25, jitterMs: 5 }, { id: 'd2', oneWayMs: 30, jitterMs: 5 }] });
    w.connectAll();
    runChecked(w, 300);
    expectOk(w.acquire('d1', BUS));
    w.sendCommand('d1', BUS, 'resume');
    w.setWant(BUS, 8);
    runChecked(w, 3000);
    expectOk(w.handoverRequest('d2', BUS));
    runChecked(w, 300);
    expectOk(w.handoverConfirm('d1', BUS, 'd2'));
    runChecked(w, 3000);
    expect(mode(w)).toBe('remote');
    expect(holder(w)).toBe('d2');
    expect(w.vehicleFor(BUS).safety.holder).toBe('d2');
    expect(w.vehicleFor(BUS).safety.mrms).toHaveLength(0);
    expect(w.historyViolations()).toEqual([]);
  });

  it("the taker's lease runs from the taker's own last heartbeat: a taker who froze lapses on time", () => {
    const w = inState('remote_moving');
    expectOk(w.handoverRequest('d2', BUS));
    runChecked(w, 200);
    w.freezeConsole('d2');
    runChecked(w, 200);
    // still within the lease timeout of d2's last heartbeat: confirm is allowed …
    expectOk(w.handoverConfirm('d1', BUS, 'd2'));
    runUntil(w, () => mode(w) === 'mrm');
    const lapse = w.audit.find((r) => r.type === 'teleop.lapse')!;
    expect(lapse.data.holder).toBe('d2');
    expect(lapse.data.sinceMs).toBeLessThanOrEqual(500 + 20);
    expect(holder(w)).toBe('d2'); // … and d2 stays responsible until the bus stands
    runUntil(w, () => mode(w) === 'safe_stop');
    expect(holder(w)).toBe(null);
  });

  it('a taker whose console is silent cannot be handed a bus (TAKER_NOT_READY); the holder keeps it', () => {
    const w = inState('remote_moving');
    expectOk(w.handoverRequest('d2', BUS));
    w.freezeConsole('d2');
    runChecked(w, 600);
    expectError(w.handoverConfirm('d1', BUS, 'd2'), 'TAKER_NOT_READY');
    expect(holder(w)).toBe('d1');
    expect(mode(w)).toBe('remote');
  });

  it('confirm names the taker: another name or no request → NO_HANDOVER; only the holder confirms', () => {
    const w = inState('remote_moving');
    expectError(w.handoverConfirm('d1', BUS, 'd2'), 'NO_HANDOVER');
    expectOk(w.handoverRequest('d2', BUS));
    expectError(w.handoverConfirm('d1', BUS, 'd3'), 'NO_HANDOVER');
    expectError(w.handoverConfirm('d2', BUS, 'd2'), 'NOT_HOLDER');
    expectError(w.handoverConfirm('d3', BUS, 'd2'), 'NOT_HOLDER');
    expect(holder(w)).toBe('d1');
  });

  it('a second taker is refused while a request is pending; the same taker may repeat', () => {
    const w = inState('remote_moving');
    expectOk(w.handoverRequest('d2', BUS));
    expectError(w.handoverRequest('d3', BUS), 'HANDOVER_PENDING');
    expectOk(w.handoverRequest('d2', BUS));
    expectError(w.handoverRequest('d1', BUS), 'INVALID'); // the holder cannot ask for its own bus
  });

  it('withdraw by the taker, decline by the holder, and expiry after 10 s', () => {
    const w = inState('remote_moving');
    expectOk(w.handoverRequest('d2', BUS));
    expectError(w.handoverCancel('d3', BUS), 'NOT_HOLDER');
    expectOk(w.handoverCancel('d2', BUS));
    expectError(w.handoverConfirm('d1', BUS, 'd2'), 'NO_HANDOVER');
    expectOk(w.handoverRequest('d2', BUS));
    expectOk(w.handoverCancel('d1', BUS));
    expectError(w.handoverCancel('d1', BUS), 'NO_HANDOVER');
    expectOk(w.handoverRequest('d3', BUS));
    runChecked(w, 10_000);
    expectError(w.handoverConfirm('d1', BUS, 'd3'), 'NO_HANDOVER');
    expect(w.audit.some((r) => r.type === 'teleop.handover_expired' && r.data.to === 'd3')).toBe(true);
    expect(w.audit.filter((r) => r.type === 'teleop.handover_cancel').map((r) => r.data.reason)).toEqual(['withdrawn', 'declined']);
    expect(holder(w)).toBe('d1');
  });

  it('a taker who already drives another bus is refused (HOLDS_OTHER_MOVING_BUS) at request and at confirm', () => {
    const w = inState('remote_moving');
    expectOk(w.acquire('d2', 'bus-2'));
    w.sendCommand('d2', 'bus-2', 'resume');
    w.setWant('bus-2', 5);
    runChecked(w, 1000);
    expectError(w.handoverRequest('d2', BUS), 'HOLDS_OTHER_MOVING_BUS');
    // d3 asks first, then starts driving bus-2 … no: d3 asks, and meanwhile takes and drives another bus
    expectOk(w.handoverRequest('d3', BUS));
    w.sendCommand('d2', 'bus-2', 'stop');
    runUntil(w, () => w.core.view('bus-2')!.secured);
    expectOk(w.release('d2', 'bus-2'));
    expectOk(w.acquire('d3', 'bus-2'));
    w.sendCommand('d3', 'bus-2', 'resume');
    runChecked(w, 500);
    expectError(w.handoverConfirm('d1', BUS, 'd3'), 'HOLDS_OTHER_MOVING_BUS');
    expect(holder(w)).toBe('d1');
  });

  it("the holder's lapse cancels a pending request and the MRM runs under the lapsed holder", () => {
    const w = inState('remote_moving');
    expectOk(w.handoverRequest('d2', BUS));
    w.freezeConsole('d1');
    runUntil(w, () => mode(w) === 'mrm');
    expect(w.core.view(BUS)!.pendingHandover).toBe(null);
    expect(holder(w)).toBe('d1');
    expectError(w.handoverRequest('d2', BUS), 'WRONG_MODE');
  });

  it('a handover in safe_stop needs no latency check and leaves the bus stopped', () => {
    const w = inState('safe_stop_held');
    expectOk(w.handoverRequest('d2', BUS));
    expectOk(w.handoverConfirm('d1', BUS, 'd2'));
    expect(mode(w)).toBe('safe_stop');
    expect(holder(w)).toBe('d2');
    expectOk(w.confirm('d2', BUS));
    expect(mode(w)).toBe('remote');
  });
});

describe('simulated drivers yield to humans', () => {
  it('a simulated driver takes its connected bus; a human takes it at once, even while it drives', () => {
    const w = world();
    w.connectAll();
    runChecked(w, 200);
    expect(holder(w, 'bus-s')).toBe('sim:bus-s');
    expect(mode(w, 'bus-s')).toBe('remote');
    w.sendCommand('sim:bus-s', 'bus-s', 'resume');
    w.setWant('bus-s', 8);
    runChecked(w, 2000);
    expect(w.vehicleFor('bus-s').speed).toBeGreaterThan(1);
    const mark = w.audit.length;
    const r = expectOk(w.acquire('d1', 'bus-s'));
    expect(r.takenFrom).toBe('sim:bus-s');
    expect(holder(w, 'bus-s')).toBe('d1');
    expect(w.audit.slice(mark).find((x) => x.type === 'teleop.takeover')?.data.from).toBe('sim:bus-s');
    runChecked(w, 1000);
    expect(w.vehicleFor('bus-s').speed).toBeGreaterThan(1); // no stop, no MRM: the takeover is seamless
    // the simulated driver never takes it back from a human
    expectError(w.acquire('sim:bus-s', 'bus-s'), 'NOT_FREE');
    // a handover request on a sim-held bus is just a take-over
    const w2 = world();
    w2.connectAll();
    runChecked(w2, 200);
    expect(expectOk(w2.handoverRequest('d2', 'bus-s')).status).toBe('taken');
    expect(holder(w2, 'bus-s')).toBe('d2');
  });

  it('a human releasing a secured bus hands it back to its simulated driver with no gap', () => {
    const w = world();
    w.connectAll();
    runChecked(w, 200);
    expectOk(w.acquire('d1', 'bus-s'));
    runChecked(w, 200);
    const r = expectOk(w.release('d1', 'bus-s'));
    expect(r.holder).toBe('sim:bus-s');
    expect(mode(w, 'bus-s')).toBe('remote');
    runChecked(w, 1000); // the simulated driver's lease is relayed by the server itself
    expect(w.vehicleFor('bus-s').safety.holder).toBe('sim:bus-s');
    expect(mode(w, 'bus-s')).toBe('remote');
  });

  it('a simulated driver only drives its own bus', () => {
    const w = world();
    w.connectAll();
    runChecked(w, 200);
    expectError(w.acquire('sim:bus-s', BUS), 'FORBIDDEN');
  });
});

describe('release', () => {
  it('is refused while the bus moves (BUS_MOVING), allowed once a stop is acknowledged and standstill reported', () => {
    const w = inState('remote_moving');
    expectError(w.release('d1', BUS), 'BUS_MOVING');
    w.sendCommand('d1', BUS, 'stop');
    expectError(w.release('d1', BUS), 'BUS_MOVING'); // acknowledged, but still rolling
    runUntil(w, () => w.core.view(BUS)!.secured);
    expectOk(w.release('d1', BUS));
    expect(mode(w)).toBe('standby');
    expect(w.vehicleFor(BUS).safety.mode).toBe('standby');
  });

  it('a stop acknowledged after an unseen start is not enough: release waits for a standstill report (delayed links)', () => {
    // reports once a second (silence limit raised accordingly) make the server's view of the speed lag
    const w = world({
      vehicles: [{ id: BUS, oneWayMs: 60 }],
      drivers: [{ id: 'd1', oneWayMs: 20 }],
      reportMs: 1000,
      config: { vehicleSilenceMs: 2500 },
    });
    w.connectAll();
    runChecked(w, 400);
    expectOk(w.acquire('d1', BUS));
    runChecked(w, 1200);
    expect(w.core.view(BUS)!.secured).toBe(true);
    // start right after a report left the bus, so the server sees no motion for a second
    runUntil(w, () => w.vehicleFor(BUS).nextReportAt - w.now >= 980, 2000, 10);
    w.setWant(BUS, 8);
    w.sendCommand('d1', BUS, 'resume');
    runChecked(w, 30, 10); // the resume reached the server, not yet the bus
    expect(w.vehicleFor(BUS).speed).toBe(0);
    expectError(w.release('d1', BUS), 'BUS_MOVING'); // a resume is on its way: may move
    runChecked(w, 120, 10);
    expect(w.vehicleFor(BUS).speed).toBeGreaterThan(0); // rolling; the server's last report says 0 m/s
    expect(w.core.view(BUS)!.speed).toBe(0);
    w.sendCommand('d1', BUS, 'stop');
    runChecked(w, 200, 10); // the stop is acknowledged; no report since
    expect(w.core.view(BUS)!.held).toBe(true);
    expect(w.core.view(BUS)!.speed).toBe(0);
    // held, last report 0 m/s — but that report predates the stop: not secured
    expectError(w.release('d1', BUS), 'BUS_MOVING');
    runUntil(w, () => w.core.view(BUS)!.secured, 3000, 10);
    expectOk(w.release('d1', BUS));
    runChecked(w, 500);
    expect(w.vehicleFor(BUS).safety.mrms).toHaveLength(0);
  });

  it('a driver may hold several parked buses but drive only one', () => {
    const w = inState('remote_moving');
    expectOk(w.acquire('d1', 'bus-2')); // parked, comes in held
    expectError(w.command('d1', 'bus-2', 'resume')!, 'HOLDS_OTHER_MOVING_BUS');
    w.sendCommand('d1', BUS, 'stop');
    runUntil(w, () => w.core.view(BUS)!.secured);
    expect(expectOk(w.command('d1', 'bus-2', 'resume')!)).toEqual({ accepted: true });
    expectError(w.command('d1', BUS, 'resume')!, 'HOLDS_OTHER_MOVING_BUS');
  });
});
