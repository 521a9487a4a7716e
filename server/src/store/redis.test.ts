import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { api, riderToken, startTestServer, UNI_WOHNSTADT_HOME } from '../testing/server.ts';
import { FencedError, RedisLease, RedisStore } from './redis.ts';

const REDIS_URL = process.env.REDIS_URL;
const prefix = `kl-test-${randomBytes(4).toString('hex')}:`;
const opened: RedisStore[] = [];

async function store(): Promise<RedisStore> {
  const s = await RedisStore.connect(REDIS_URL!, prefix);
  opened.push(s);
  return s;
}

afterAll(async () => {
  if (!REDIS_URL) return;
  const s = await RedisStore.connect(REDIS_URL, prefix);
  for await (const keys of s.client.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) if (keys.length) await s.client.del(keys);
  await s.close();
  for (const o of opened) await o.close().catch(() => {});
});

// CI exports REDIS_URL (and starts Redis if needed), so these run there; without it they are skipped.
describe.skipIf(!REDIS_URL)('Redis store (real Redis)', () => {
  it('commit is read back by load: bookings upserted, the dispatcher snapshot replaced', async () => {
    const s = await store();
    const rec = { id: 'b1', riderId: 'r1', status: 'confirmed', createdAt: 1, updatedAt: 1, pickup: { lat: 49.4, lon: 7.7 }, dropoff: { lat: 49.43, lon: 7.75, hubId: 'pfaff' }, passengers: 1, wheelchairs: 0, bookedBy: 'rider' };
    await s.commit({ bookings: [rec], dispatcher: { version: 1 } as never });
    await s.commit({ bookings: [{ ...rec, status: 'assigned' }] });
    const loaded = await s.load();
    expect(loaded.bookings).toEqual([{ ...rec, status: 'assigned' }]);
    expect(loaded.dispatcher).toEqual({ version: 1 });
    expect(await s.forgetRider('r1')).toBe(1);
    expect((await s.load()).bookings[0].riderId).toBeNull();
  });

  it('events go to a stream and are filtered by vehicle and time', async () => {
    const s = await store();
    const t = Date.now();
    await s.appendEvents([
      { t, type: 'teleop.acquire', vehicleId: 'bus-1', actor: 'driver1' },
      { t: t + 1, type: 'teleop.acquire', vehicleId: 'bus-2', actor: 'driver2' },
    ]);
    const only1 = await s.readEvents({ vehicleId: 'bus-1', from: t - 1000, to: t + 1000 });
    expect(only1.map((e) => e.actor)).toEqual(['driver1']);
  });

  it('the dispatcher lease has exactly one holder, and another takes over when it is released', async () => {
    const a = await store(), b = await store();
    const key = `${prefix}lease`;
    const la = new RedisLease(a.client, key, 'A', 1000), lb = new RedisLease(b.client, key, 'B', 1000);
    const [ra, rb] = await Promise.all([la.tryAcquire(), lb.tryAcquire()]);
    expect([ra, rb].filter(Boolean)).toHaveLength(1);
    const [leader, other] = ra ? [la, lb] : [lb, la];
    expect(await other.tryAcquire()).toBe(false);
    await leader.stop();
    expect(await other.tryAcquire()).toBe(true);
    expect(await leader.tryAcquire()).toBe(false);
    await other.stop();
  });

  it('a lease that is not renewed expires, so a dead leader is replaced', async () => {
    const a = await store(), b = await store();
    const key = `${prefix}lease2`;
    const la = new RedisLease(a.client, key, 'A', 300), lb = new RedisLease(b.client, key, 'B', 300);
    expect(await la.tryAcquire()).toBe(true);
    expect(await lb.tryAcquire()).toBe(false);
    await new Promise((r) => setTimeout(r, 450)); // A "dies": no renewal
    expect(await lb.tryAcquire()).toBe(true);
    await lb.stop();
  });

  it('with a fence, only the lease holder writes: bookings, snapshot and audit records in one transaction', async () => {
    const s = await store();
    const key = `${prefix}fence-lease`;
    s.setFence({ key, owner: 'A' });
    const rec = { id: 'bf1', riderId: 'r1', status: 'confirmed', createdAt: 1, updatedAt: 1, pickup: { lat: 49.4, lon: 7.7 }, dropoff: { lat: 49.43, lon: 7.75 }, passengers: 1, wheelchairs: 0, bookedBy: 'rider' };
    const ev = { t: Date.now(), type: 'booking.confirmed', bookingId: 'bf1' };
    await expect(s.commit({ bookings: [rec], dispatcher: { version: 1 } as never, events: [ev] })).rejects.toBeInstanceOf(FencedError);
    expect(await s.client.hGet(`${prefix}bookings`, 'bf1')).toBeNull();
    expect(await s.readEvents({ from: ev.t - 1, to: ev.t + 1 })).toEqual([]);
    const lease = new RedisLease(s.client, key, 'A', 2000);
    expect(await lease.tryAcquire()).toBe(true);
    await s.commit({ bookings: [rec], dispatcher: { version: 2 } as never, events: [ev] });
    expect(JSON.parse((await s.client.hGet(`${prefix}bookings`, 'bf1'))!)).toEqual(rec);
    expect((await s.readEvents({ from: ev.t - 1, to: ev.t + 1 })).filter((e) => e.bookingId === 'bf1')).toEqual([ev]);
    await lease.stop();
    s.setFence(null);
  });

  it('a server on Redis keeps a confirmed booking across a restart', async () => {
    const config = { redisUrl: REDIS_URL, redisPrefix: `${prefix}app:` };
    const a = await startTestServer({ vehicles: 2, config });
    expect((await api(a.url, 'GET', '/api/health')).json.store.kind).toBe('redis');
    const token = await riderToken(a.url);
    const o = await api(a.url, 'POST', '/api/bookings', { token, body: { pickup: UNI_WOHNSTADT_HOME, dropoff: { hubId: 'tuk' }, passengers: 1, departAt: Date.now() + 3600_000 } });
    expect(o.status).toBe(201);
    expect((await api(a.url, 'POST', `/api/bookings/${o.json.id}/confirm`, { token })).status).toBe(200);
    await a.close({ keepData: true });
    const b = await startTestServer({ vehicles: 0, config, dataDir: a.dataDir });
    const got = await api(b.url, 'GET', `/api/bookings/${o.json.id}`, { token });
    expect(got.status).toBe(200);
    expect(['confirmed', 'assigned']).toContain(got.json.status);
    await b.close();
  });
});
