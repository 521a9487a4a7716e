import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookingView, FleetState, FleetVehicle } from '../protocol/events.ts';
import { mergeFleetState } from '../protocol/fleet-delta.ts';
import { api, connected, riderToken, socket, staffToken, startTestServer, UNI_WOHNSTADT_HOME, waitFor, type TestServer } from '../testing/server.ts';

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ vehicles: 5 });
});
afterAll(() => s.close());

describe('real-time namespaces with real socket.io clients', () => {
  it('a Leitstand console gets a full fleet snapshot, then 10 Hz deltas in which buses move', async () => {
    const token = await staffToken(s.url, 'dispatcher');
    const c = socket(s.url, '/leitstand', { token });
    const first = await waitFor<FleetState>(c, 'fleet:state', (f) => f.full);
    expect(first.vehicles.length).toBeGreaterThanOrEqual(5);
    expect(first.vehicles.filter((v) => v.online).length).toBe(5);
    for (const v of first.vehicles) expect(['remote', 'standby', 'offline', 'mrm', 'safe_stop', 'emergency_stop']).toContain(v.mode);
    // deltas arrive at ~10 Hz
    let deltas = 0;
    const onDelta = (f: FleetState) => {
      if (!f.full) deltas++;
    };
    c.on('fleet:state', onDelta);
    await new Promise((r) => setTimeout(r, 1500));
    c.off('fleet:state', onDelta);
    expect(deltas).toBeGreaterThanOrEqual(8);
    c.disconnect();
  });

  it('a confirmed booking makes its bus drive: the position in fleet:state changes', async () => {
    const rider = await riderToken(s.url);
    const o = await api(s.url, 'POST', '/api/bookings', { token: rider, body: { pickup: UNI_WOHNSTADT_HOME, dropoff: { hubId: 'tuk' }, passengers: 1 } });
    expect(o.status).toBe(201);
    await api(s.url, 'POST', `/api/bookings/${o.json.id}/confirm`, { token: rider });
    const vid = o.json.offer.vehicleId as string;
    const c = socket(s.url, '/leitstand', { token: await staffToken(s.url, 'dispatcher') });
    const snap = await waitFor<FleetState>(c, 'fleet:state', (f) => f.full);
    const start = snap.vehicles.find((v) => v.id === vid)!;
    // deltas carry only what changed: the console's merged view is what moves
    const fleet = new Map<string, FleetVehicle>();
    mergeFleetState(fleet, snap);
    await waitFor<FleetState>(c, 'fleet:state', (f) => {
      mergeFleetState(fleet, f);
      const v = fleet.get(vid)!;
      return v.lat !== start.lat || v.lon !== start.lon;
    }, 8000);
    const now = fleet.get(vid)!;
    expect(now.speed).toBeGreaterThanOrEqual(0);
    c.disconnect();
  });

  it('a rider gets only their own bookings and their bus’s position', async () => {
    const alice = await riderToken(s.url), bob = await riderToken(s.url);
    const ca = socket(s.url, '/rider', { token: alice });
    const cb = socket(s.url, '/rider', { token: bob });
    await Promise.all([connected(ca), connected(cb)]);
    const seenByBob: BookingView[] = [];
    cb.on('booking:update', (b: BookingView) => seenByBob.push(b));
    const o = await api(s.url, 'POST', '/api/bookings', { token: alice, body: { pickup: { hubId: 'pfaff' }, dropoff: { hubId: 'hbf' }, passengers: 1 } });
    const upd = waitFor<BookingView>(ca, 'booking:update', (b) => b.id === o.json.id && (b.status === 'confirmed' || b.status === 'assigned'));
    const ack = await ca.timeout(5000).emitWithAck('booking:confirm', { bookingId: o.json.id });
    expect(ack.data.id).toBe(o.json.id);
    await upd;
    const pos = await waitFor<{ bookingId: string; vehicleId: string; eta: string | null }>(ca, 'vehicle:position', (p) => p.bookingId === o.json.id, 5000);
    expect(pos.vehicleId).toBe(o.json.offer.vehicleId);
    expect(Object.keys(pos).sort()).toEqual(['bookingId', 'eta', 'heading', 'label', 'lat', 'lon', 't', 'vehicleId']);
    // bob cannot confirm alice's booking over the socket either
    const bad = await cb.timeout(5000).emitWithAck('booking:confirm', { bookingId: o.json.id });
    expect(bad.error.code).toBe('NOT_FOUND');
    await new Promise((r) => setTimeout(r, 300));
    expect(seenByBob).toEqual([]);
    ca.disconnect();
    cb.disconnect();
  });

  it('the vehicle namespace refuses rider and staff tokens and wrong keys', async () => {
    for (const auth of [{ token: await riderToken(s.url) }, { token: await staffToken(s.url, 'admin') }, { vehicleId: 'bus-1', key: 'guess' }, { vehicleId: 'bus-99', key: 'bus-99-demo-key' }, {}]) {
      const v = socket(s.url, '/vehicle', auth);
      await expect(connected(v)).rejects.toThrow(/unauthorized/);
      v.disconnect();
    }
    const r = socket(s.url, '/leitstand', { token: await riderToken(s.url) });
    await expect(connected(r)).rejects.toThrow(/unauthorized/);
    r.disconnect();
  });

  it('malformed socket payloads get an error ack and never crash the server', async () => {
    const c = socket(s.url, '/leitstand', { token: await staffToken(s.url, 'dispatcher') });
    await connected(c);
    for (const bad of [null, 42, 'x', { pickup: 1 }, { pickup: { hubId: 'tuk' }, dropoff: { hubId: 'pfaff' }, passengers: 99 }, { bookingId: '../../x' }]) {
      const ack = await c.timeout(5000).emitWithAck('booking:create', bad);
      expect(ack.error.code).toBe('VALIDATION');
    }
    c.emit('booking:confirm', { bookingId: 'nope' }); // no ack function: must not throw
    const v = socket(s.url, '/vehicle', { vehicleId: 'bus-5', key: 'bus-5-demo-key' });
    await connected(v);
    v.emit('vehicle:state', { lat: 'north' });
    v.emit('vehicle:state', null);
    const ack = await v.timeout(5000).emitWithAck('vehicle:stop', { requestId: 1 });
    expect(ack.error.code).toBe('VALIDATION');
    v.disconnect();
    expect((await api(s.url, 'GET', '/api/health')).status).toBe(200);
    c.disconnect();
  });

  it('a console that reconnects converges: its fresh snapshot equals the server’s view', async () => {
    const token = await staffToken(s.url, 'dispatcher');
    const c1 = socket(s.url, '/leitstand', { token });
    await waitFor<FleetState>(c1, 'fleet:state', (f) => f.full);
    c1.disconnect();
    // meanwhile a booking happens
    const rider = await riderToken(s.url);
    const o = await api(s.url, 'POST', '/api/bookings', { token: rider, body: { pickup: { hubId: 'tuk' }, dropoff: { hubId: 'uni-wohnstadt' }, passengers: 1 } });
    const c2 = socket(s.url, '/leitstand', { token });
    const snapP = waitFor<FleetState>(c2, 'fleet:state', (f) => f.full);
    const bookingsP = waitFor<BookingView[]>(c2, 'bookings:snapshot');
    const [snap, bookings] = await Promise.all([snapP, bookingsP]);
    expect(bookings.some((b) => b.id === o.json.id)).toBe(true);
    const rest = (await api(s.url, 'GET', '/api/vehicles', { token })).json as { id: string }[];
    expect(snap.vehicles.map((v) => v.id).sort()).toEqual(rest.map((v) => v.id).sort());
    c2.disconnect();
  });
});
