import { connect as netConnect } from 'node:net';
import { Agent } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRaw } from '../fuzz/harness.ts';
import { api, riderToken, staffToken, startTestServer, type TestServer } from '../testing/server.ts';

/** Regressions found by the bad-input fuzzer (server/src/fuzz) at the REST edge. */
let s: TestServer;
const agent = new Agent({ keepAlive: false });
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(async () => {
  agent.destroy();
  await s.close();
});

const raw = (method: string, path: string, headers: Record<string, string>, body?: string) => httpRaw(s.url, agent, { method, path, headers, body });
const jsonError = (r: Awaited<ReturnType<typeof raw>>) => {
  if ('error' in r) throw new Error(r.error);
  expect(r.contentType).toMatch(/^application\/json/);
  return (JSON.parse(r.text) as { error: { code: string; message: string } }).error;
};

describe('REST edge: bodies the route would never have parsed', () => {
  it('a body in another media type is refused with 415 (it used to be validated as {} and accepted)', async () => {
    const r = await raw('POST', '/api/auth/rider', { 'content-type': 'text/plain' }, '{}');
    expect('status' in r && r.status).toBe(415);
    expect(jsonError(r).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const form = await raw('POST', '/api/auth/rider', { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1');
    expect('status' in form && form.status).toBe(415);
    // the ordinary client still works
    expect((await api(s.url, 'POST', '/api/auth/rider', { body: {} })).status).toBe(201);
  });

  it('a body on a route that takes none is refused and changes nothing (DELETE /api/riders/me used to forget the rider)', async () => {
    const token = await riderToken(s.url);
    // no bus is online: the request is stored as a rejected booking, with the rider's pickup
    const b = await api(s.url, 'POST', '/api/bookings', { token, body: { pickup: { lat: 49.4262, lon: 7.7432 }, dropoff: { hubId: 'hbf' }, passengers: 1 } });
    const id: string = b.json.id ?? b.json.error.details.bookingId;
    for (const [ct, body] of [
      ['application/json', '{"riderId":"someone-else"}'],
      ['application/x-www-form-urlencoded', 'a=1&b=2'],
      ['text/plain', 'please'],
    ]) {
      const r = await raw('DELETE', '/api/riders/me', { authorization: `Bearer ${token}`, 'content-type': ct }, body);
      expect('status' in r && r.status, ct).toBe(400);
      expect(jsonError(r).code).toBe('VALIDATION');
    }
    const after = await api(s.url, 'GET', `/api/bookings/${id}`, { token });
    expect(after.json.pickup).toMatchObject({ lat: 49.4262, lon: 7.7432 });
    // without a body (or with an empty JSON object) the route works as before
    expect((await api(s.url, 'DELETE', '/api/riders/me', { token, body: {} })).status).toBe(200);
  });

  it('GET with a body is refused, GET with an empty JSON object is not', async () => {
    const r = await raw('GET', '/api/hubs', { 'content-type': 'application/json' }, '{"x":1}');
    expect('status' in r && r.status).toBe(400);
    expect(jsonError(r).message).toMatch(/takes no request body/);
    const ok = await raw('GET', '/api/hubs', { 'content-type': 'application/json' }, '{}');
    expect('status' in ok && ok.status).toBe(200);
  });
});

describe('REST edge: query values', () => {
  it('GET /api/audit refuses epoch ms beyond a Date (a 4,000-digit "from" was Infinity: 500 on Redis)', async () => {
    const token = await staffToken(s.url, 'dispatcher');
    for (const from of ['9'.repeat(4000), '99999999999999999', '8640000000000001']) {
      const r = await api(s.url, 'GET', `/api/audit?from=${from}`, { token });
      expect(r.status, from).toBe(400);
      expect(r.json.error.code).toBe('VALIDATION');
    }
    expect((await api(s.url, 'GET', '/api/audit?from=8640000000000000&to=1', { token })).status).toBe(200);
  });
});

describe('REST edge: requests node refuses before express', () => {
  it('headers over the limit get 431 with a JSON error (node used to send a bare status line)', async () => {
    const r = await raw('GET', '/api/hubs', { authorization: `Bearer ${'a'.repeat(20_000)}` });
    expect('status' in r && r.status).toBe(431);
    expect(jsonError(r).code).toBe('HEADERS_TOO_LARGE');
    const url = await raw('GET', `/api/geocode?q=${'9'.repeat(20_000)}`, {});
    expect('status' in url && url.status).toBe(431);
  });

  it('broken HTTP gets 400 with a JSON error', async () => {
    const port = Number(new URL(s.url).port);
    const text = await new Promise<string>((resolve, reject) => {
      const c = netConnect(port, '127.0.0.1', () => c.write('NOT HTTP AT ALL\r\n\r\n'));
      let out = '';
      c.on('data', (d) => (out += String(d)));
      c.on('end', () => resolve(out));
      c.on('error', reject);
    });
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toMatch(/content-type: application\/json/i);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)).error.code).toBe('BAD_REQUEST');
  });
});
