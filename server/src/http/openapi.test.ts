import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, riderToken, staffToken, startTestServer, UNI_WOHNSTADT_HOME, type TestServer } from '../testing/server.ts';

/**
 * The OpenAPI document (generated from the route table) against the server's real answers: every operation in
 * the document is called with valid input and some error cases, and each answer's status, media type and body
 * must be what the document declares. An operation without calls here fails the first test, so a route added to
 * the table cannot go unchecked.
 */
let s: TestServer;
let doc: { paths: Record<string, Record<string, Operation>>; components: object };
interface Operation {
  parameters?: { name: string; in: string; schema: object }[];
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: object }> }>;
}
const t: Record<'rider' | 'rider2' | 'driver' | 'dispatcher' | 'admin' | 'vehicle', string> = {} as never;

beforeAll(async () => {
  s = await startTestServer({ vehicles: 2 });
  for (let i = 0; i < 100 && s.app.fleet.onlineCount() < 2; i++) await new Promise((r) => setTimeout(r, 100));
  [t.rider, t.rider2] = [await riderToken(s.url), await riderToken(s.url)];
  for (const [who, user] of [['driver', 'driver1'], ['dispatcher', 'dispatcher'], ['admin', 'admin']] as const) t[who] = await staffToken(s.url, user);
  t.vehicle = s.app.tokens.issue('bus-1', 'vehicle', 600);
  doc = (await api(s.url, 'GET', '/api/openapi.json')).json;
});
afterAll(() => s.close());

interface Call {
  path: string;
  method?: string;
  token?: string;
  body?: unknown;
  raw?: string;
  status: number;
}

const ride = { pickup: UNI_WOHNSTADT_HOME, dropoff: { hubId: 'tuk' }, passengers: 1 };
/** a fresh offer of the rider's (the test needs its own bookings to confirm and cancel) */
async function offer(token = t.rider): Promise<string> {
  const r = await api(s.url, 'POST', '/api/bookings', { token, body: ride });
  expect(r.status, r.text).toBe(201);
  return r.json.id;
}

/** Calls per operation ("METHOD /path/{template}"): valid input first, then error cases. */
const cases: Record<string, () => Promise<Call[]>> = {
  'POST /api/auth/rider': async () => [
    { path: '/api/auth/rider', body: {}, status: 201 },
    { path: '/api/auth/rider', body: { name: 'Alice' }, status: 400 },
  ],
  'POST /api/auth/login': async () => [
    { path: '/api/auth/login', body: { username: 'dispatcher', password: 'dispatcher' }, status: 200 },
    { path: '/api/auth/login', body: { username: 'dispatcher', password: 'wrong' }, status: 401 },
    { path: '/api/auth/login', body: { username: 7 }, status: 400 },
  ],
  'POST /api/bookings': async () => [
    { path: '/api/bookings', token: t.rider, body: ride, status: 201 },
    { path: '/api/bookings', token: t.dispatcher, body: { ...ride, wheelchairs: 1 }, status: 201 },
    { path: '/api/bookings', token: t.rider, body: { pickup: { lat: 49.45, lon: 7.8 }, dropoff: { hubId: 'tuk' }, passengers: 1 }, status: 422 },
    { path: '/api/bookings', token: t.rider, body: { ...ride, passengers: 0 }, status: 400 },
    { path: '/api/bookings', token: t.rider, raw: '{"pickup":', status: 400 },
    { path: '/api/bookings', token: t.rider, raw: JSON.stringify({ ...ride, note: 'x'.repeat(40_000) }), status: 413 },
    { path: '/api/bookings', body: ride, status: 401 },
    { path: '/api/bookings', token: t.driver, body: ride, status: 403 },
  ],
  'POST /api/bookings/{id}/confirm': async () => {
    const id = await offer();
    const gone = await offer();
    await api(s.url, 'DELETE', `/api/bookings/${gone}`, { token: t.rider });
    return [
      { path: `/api/bookings/${id}/confirm`, token: t.rider, status: 200 },
      { path: `/api/bookings/${gone}/confirm`, token: t.rider, status: 409 },
      { path: `/api/bookings/${id}/confirm`, token: t.rider2, status: 404 },
      { path: `/api/bookings/${id}/confirm`, status: 401 },
      { path: `/api/bookings/${id}/confirm`, token: t.driver, status: 403 },
    ];
  },
  'DELETE /api/bookings/{id}': async () => {
    const id = await offer();
    return [
      { path: `/api/bookings/${id}`, token: t.rider, status: 200 },
      { path: `/api/bookings/${id}`, token: t.rider, status: 409 },
      { path: '/api/bookings/bnothere', token: t.rider, status: 404 },
      { path: `/api/bookings/${id}`, token: t.driver, status: 403 },
    ];
  },
  'GET /api/bookings/{id}': async () => {
    const id = await offer();
    return [
      { path: `/api/bookings/${id}`, token: t.rider, status: 200 },
      { path: `/api/bookings/${id}`, token: t.dispatcher, status: 200 },
      { path: `/api/bookings/${id}`, token: t.rider2, status: 404 },
      { path: `/api/bookings/${id}`, token: t.vehicle, status: 403 },
      { path: `/api/bookings/${id}`, status: 401 },
    ];
  },
  'GET /api/bookings': async () => [
    { path: '/api/bookings', token: t.rider, status: 200 },
    { path: '/api/bookings', token: t.dispatcher, status: 200 },
    { path: '/api/bookings', token: t.vehicle, status: 403 },
    { path: '/api/bookings', status: 401 },
  ],
  'DELETE /api/riders/me': async () => {
    const leaving = await riderToken(s.url);
    await offer(leaving);
    return [
      { path: '/api/riders/me', token: leaving, status: 200 },
      { path: '/api/riders/me', token: t.dispatcher, status: 403 },
      { path: '/api/riders/me', status: 401 },
    ];
  },
  'GET /api/vehicles': async () => [
    { path: '/api/vehicles', token: t.dispatcher, status: 200 },
    { path: '/api/vehicles', token: t.rider, status: 403 },
  ],
  'GET /api/hubs': async () => [{ path: '/api/hubs', status: 200 }],
  'GET /api/service-area': async () => [
    { path: '/api/service-area', status: 200 },
    { path: '/api/service-area?x=1', status: 400 },
  ],
  'GET /api/map/basemap': async () => [
    { path: '/api/map/basemap?bbox=7.75,49.42,7.76,49.43', status: 200 },
    { path: '/api/map/basemap?layer=water', status: 200 },
    { path: '/api/map/basemap?bbox=7.76,49.42,7.75,49.43', status: 400 },
  ],
  'GET /api/route': async () => [
    { path: '/api/route?from=49.42411,7.75578&to=49.43609,7.75446', token: t.rider, status: 200 },
    { path: '/api/route?from=49.42411,7.75578&to=49.43609,7.75446&lang=en', token: t.driver, status: 200 },
    { path: '/api/route?from=49.0,7.0&to=49.43609,7.75446', token: t.rider, status: 422 },
    { path: '/api/route?from=north&to=49.43609,7.75446', token: t.rider, status: 400 },
    { path: '/api/route?from=49.42411,7.75578&to=49.43609,7.75446', status: 401 },
  ],
  'GET /api/audit': async () => [
    { path: '/api/audit', token: t.dispatcher, status: 200 },
    { path: `/api/audit?vehicleId=bus-1&from=${Date.now() - 3600_000}`, token: t.admin, status: 200 },
    { path: '/api/audit?from=yesterday', token: t.dispatcher, status: 400 },
    { path: '/api/audit', token: t.rider, status: 403 },
  ],
  'GET /api/kpis': async () => [
    { path: '/api/kpis', token: t.dispatcher, status: 200 },
    { path: '/api/kpis', status: 401 },
  ],
  'GET /api/health': async () => [{ path: '/api/health', status: 200 }],
  'GET /api/openapi.json': async () => [{ path: '/api/openapi.json', status: 200 }],
  'GET /metrics': async () => [{ path: '/metrics', status: 200 }],
  'GET /api/geocode': async () => [
    { path: `/api/geocode?q=${encodeURIComponent('Konrad-Adenauer-Str 20')}&limit=3`, status: 200 },
    { path: `/api/geocode?q=${encodeURIComponent('Mensa')}`, status: 200 },
    { path: '/api/geocode?q=', status: 400 },
  ],
  'GET /api/geocode/reverse': async () => [
    { path: '/api/geocode/reverse?lat=49.4262&lon=7.7432', status: 200 },
    { path: '/api/geocode/reverse?lat=49.0&lon=7.0', status: 404 },
    { path: '/api/geocode/reverse?lat=91&lon=7', status: 400 },
  ],
  'GET /api/hubs/{id}/departures': async () => [
    { path: '/api/hubs/tuk/departures?limit=3', status: 200 },
    { path: '/api/hubs/nowhere/departures', status: 404 },
    { path: '/api/hubs/tuk/departures?limit=99', status: 400 },
  ],
  'GET /gtfs-rt/vehicle-positions': async () => [
    { path: '/gtfs-rt/vehicle-positions', status: 200 },
    { path: '/gtfs-rt/vehicle-positions?format=json', status: 200 },
    { path: '/gtfs-rt/vehicle-positions?format=xml', status: 400 },
  ],
  'GET /gtfs/static.zip': async () => [{ path: '/gtfs/static.zip', status: 200 }],
  'GET /api/open-data/kpis': async () => {
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(Date.now());
    return [
      { path: `/api/open-data/kpis?from=${today}&to=${today}`, status: 200 },
      { path: `/api/open-data/kpis?from=${today}&to=${today}&format=csv`, status: 200 },
      { path: '/api/open-data/kpis?from=2026-01-02&to=2026-01-01', status: 400 },
    ];
  },
};

const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })));

/** `#/components/...` references resolved in place (the document is not itself a JSON Schema). */
function resolveRefs(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(resolveRefs);
  if (!x || typeof x !== 'object') return x;
  const o = x as Record<string, unknown>;
  if (typeof o.$ref === 'string' && o.$ref.startsWith('#/components/')) {
    const target = o.$ref.slice(2).split('/').reduce<unknown>((a, k) => (a as Record<string, unknown>)[k], doc);
    return resolveRefs(target);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveRefs(v)]));
}

const mediaType = (h: string | null) => (h ?? '').split(';')[0].trim();

describe('OpenAPI document × real responses of every REST route', () => {
  it('every operation of the route table has calls here, and every call names a documented operation', () => {
    const documented = operations().map((o) => o.key).sort();
    expect(documented.length).toBeGreaterThan(20);
    expect(documented.filter((k) => !cases[k]), 'operations without calls in openapi.test.ts').toEqual([]);
    expect(Object.keys(cases).filter((k) => !documented.includes(k)), 'calls for operations no longer in the document').toEqual([]);
  });

  it('every schema in the document compiles (JSON Schema 2020-12, strict): parameters, bodies, responses', () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    for (const { key, op } of operations()) {
      for (const p of op.parameters ?? []) expect(() => ajv.compile(p.schema), `${key} parameter ${p.name}`).not.toThrow();
      for (const [type, c] of Object.entries(op.requestBody?.content ?? {})) expect(() => ajv.compile(c.schema), `${key} body ${type}`).not.toThrow();
      for (const [status, r] of Object.entries(op.responses)) {
        for (const [type, c] of Object.entries(r.content ?? {})) expect(() => ajv.compile(resolveRefs(c.schema) as object), `${key} ${status} ${type}`).not.toThrow();
      }
    }
  });

  it('each call: documented status, documented media type, body valid against the documented schema', async () => {
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats(ajv);
    const compiled = new Map<object, ValidateFunction>();
    const validatorOf = (schema: object) => {
      let v = compiled.get(schema);
      if (!v) compiled.set(schema, (v = ajv.compile(resolveRefs(schema) as object)));
      return v;
    };
    const failures: string[] = [];
    let calls = 0, jsonChecked = 0;
    for (const { key, op } of operations()) {
      const method = key.split(' ')[0];
      const list = await cases[key]();
      expect(list.some((c) => c.status < 300), `${key}: needs a successful call`).toBe(true);
      for (const c of list) {
        calls++;
        const where = `${key} → ${c.path} (expected ${c.status})`;
        const res = await fetch(s.url + c.path, {
          method: c.method ?? method,
          headers: { ...(c.token ? { authorization: `Bearer ${c.token}` } : {}), ...(c.body !== undefined || c.raw !== undefined ? { 'content-type': 'application/json' } : {}) },
          body: c.raw ?? (c.body !== undefined ? JSON.stringify(c.body) : undefined),
        });
        const bytes = new Uint8Array(await res.arrayBuffer());
        if (res.status !== c.status) {
          failures.push(`${where}: got ${res.status} ${new TextDecoder().decode(bytes.slice(0, 300))}`);
          continue;
        }
        const declared = op.responses[String(res.status)];
        if (!declared) {
          failures.push(`${where}: status ${res.status} not in the document (${Object.keys(op.responses).join(', ')})`);
          continue;
        }
        const type = mediaType(res.headers.get('content-type'));
        const content = declared.content?.[type];
        if (!content) {
          failures.push(`${where}: media type ${type} not declared (${Object.keys(declared.content ?? {}).join(', ')})`);
          continue;
        }
        if (type !== 'application/json') {
          // binary and text bodies: declared as strings; the feature tests decode them
          if (bytes.length === 0) failures.push(`${where}: empty ${type} body`);
          continue;
        }
        jsonChecked++;
        const validate = validatorOf(content.schema);
        const body = JSON.parse(new TextDecoder().decode(bytes));
        if (!validate(body)) failures.push(`${where}: body does not match the schema: ${ajv.errorsText(validate.errors, { separator: '; ' }).slice(0, 600)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(calls).toBeGreaterThan(60);
    expect(jsonChecked).toBeGreaterThan(calls - 10);
  }, 120_000);

  it('the check bites: a body that breaks the documented schema is refused', () => {
    const ajv = new Ajv2020({ strict: true });
    addFormats(ajv);
    const schema = (path: string, status: string) => resolveRefs(doc.paths[path].get.responses[status].content!['application/json'].schema) as object;
    const hubs = ajv.compile(schema('/api/hubs', '200'));
    expect(hubs([{ id: 'tuk', name: 'TUK', stop: 'Uni Ost', lat: 49.4, lon: 7.7 }])).toBe(true);
    expect(hubs([{ id: 'tuk', name: 'TUK', stop: 'Uni Ost', lat: 49.4, lon: 7.7, secret: 1 }])).toBe(false); // undocumented field
    expect(hubs([{ id: 'tuk', name: 'TUK', stop: 'Uni Ost', lat: '49.4', lon: 7.7 }])).toBe(false);
    const err = ajv.compile(schema('/api/hubs/{id}/departures', '404'));
    expect(err({ error: { code: 'NOT_FOUND', message: 'x' } })).toBe(true);
    expect(err({ message: 'x' })).toBe(false);
  });
});
