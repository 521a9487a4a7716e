import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, riderToken, staffToken, startTestServer, type TestServer } from '../testing/server.ts';

let s: TestServer;
const tokens: Record<string, string | undefined> = {};
let bookingOfRider = '';
beforeAll(async () => {
  s = await startTestServer({ vehicles: 2 });
  tokens.rider = await riderToken(s.url);
  tokens.otherRider = await riderToken(s.url);
  tokens.driver = await staffToken(s.url, 'driver1');
  tokens.dispatcher = await staffToken(s.url, 'dispatcher');
  tokens.admin = await staffToken(s.url, 'admin');
  tokens.vehicle = s.app.tokens.issue('bus-1', 'vehicle', 600);
  tokens.none = undefined;
  const b = await api(s.url, 'POST', '/api/bookings', { token: tokens.rider, body: { pickup: { hubId: 'tuk' }, dropoff: { hubId: 'pfaff' }, passengers: 1 } });
  bookingOfRider = b.json.id;
});
afterAll(() => s.close());

type Who = 'none' | 'rider' | 'otherRider' | 'driver' | 'dispatcher' | 'admin' | 'vehicle';
const ALL: Who[] = ['none', 'rider', 'otherRider', 'driver', 'dispatcher', 'admin', 'vehicle'];
const ok = (...w: Who[]) => Object.fromEntries(ALL.map((x) => [x, w.includes(x)])) as Record<Who, boolean>;

/** route × role: true = allowed (2xx), false = refused (401 without token, else 403/404) */
const table: [string, string, () => string, unknown, Record<Who, boolean>][] = [
  ['GET', '/api/health', () => '/api/health', undefined, ok(...ALL)],
  ['GET', '/api/hubs', () => '/api/hubs', undefined, ok(...ALL)],
  ['GET', '/api/openapi.json', () => '/api/openapi.json', undefined, ok(...ALL)],
  ['GET', '/api/vehicles', () => '/api/vehicles', undefined, ok('driver', 'dispatcher', 'admin')],
  ['GET', '/api/bookings', () => '/api/bookings', undefined, ok('rider', 'otherRider', 'driver', 'dispatcher', 'admin')],
  ['GET', '/api/bookings/{id}', () => `/api/bookings/${bookingOfRider}`, undefined, ok('rider', 'driver', 'dispatcher', 'admin')],
  ['GET', '/api/audit', () => '/api/audit', undefined, ok('driver', 'dispatcher', 'admin')],
  ['GET', '/api/route', () => '/api/route?from=49.42411,7.75578&to=49.43609,7.75446', undefined, ok('rider', 'otherRider', 'driver', 'dispatcher', 'admin', 'vehicle')],
  ['POST', '/api/bookings', () => '/api/bookings', { pickup: { hubId: 'tuk' }, dropoff: { hubId: 'hbf' }, passengers: 1 }, ok('rider', 'otherRider', 'dispatcher', 'admin')],
  ['DELETE', '/api/riders/me', () => '/api/riders/me', undefined, ok('rider', 'otherRider')],
];

describe('authorisation: every route × every role', () => {
  for (const [method, route, path, body, allowed] of table) {
    for (const who of ALL) {
      it(`${method} ${route} as ${who} → ${allowed[who] ? 'allowed' : 'refused'}`, async () => {
        const r = await api(s.url, method, path(), { token: tokens[who], body });
        if (allowed[who]) expect(r.status, r.text).toBeLessThan(300);
        else {
          expect(r.status).toBe(who === 'none' ? 401 : r.status === 404 ? 404 : 403);
          expect(r.json.error.code).toMatch(/UNAUTHORIZED|FORBIDDEN|NOT_FOUND/);
        }
      });
    }
  }

  it('a forged or expired token is 401', async () => {
    expect((await api(s.url, 'GET', '/api/bookings', { token: `${tokens.rider}x` })).status).toBe(401);
    expect((await api(s.url, 'GET', '/api/bookings', { token: s.app.tokens.issue('x', 'dispatcher', -10) })).status).toBe(401);
  });

  it('wrong password is 401 and does not say which part was wrong', async () => {
    const r = await api(s.url, 'POST', '/api/auth/login', { body: { username: 'dispatcher', password: 'nope' } });
    expect(r.status).toBe(401);
    expect(r.json.error.message).toBe('wrong username or password');
    const u = await api(s.url, 'POST', '/api/auth/login', { body: { username: 'nobody', password: 'nope' } });
    expect(u.json.error.message).toBe('wrong username or password');
  });

  it('demo logins give the documented roles', async () => {
    for (const [u, role] of [['dispatcher', 'dispatcher'], ['driver1', 'driver'], ['driver2', 'driver'], ['driver3', 'driver'], ['admin', 'admin']]) {
      const r = await api(s.url, 'POST', '/api/auth/login', { body: { username: u, password: u } });
      expect(r.json.role).toBe(role);
    }
  });
});
