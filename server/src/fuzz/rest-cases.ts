import querystring from 'node:querystring';
import type { ZodType } from 'zod';
import type { RouteDef } from '../http/api.ts';
import { NASTY_STRINGS, RAW_NUMBER_TOKENS, fc, isValid, jsonSchemaOf, mutatedFrom, validLooking } from './arbitraries.ts';
import { ROLE_OF, type Who } from './harness.ts';

/**
 * REST cases for one route of the route table. A case starts from an otherwise acceptable request (a token the
 * route allows, valid-looking params/query/body from the route's zod schemas, real ids of the seeded data) and
 * breaks one thing. Whether it must be refused is decided from the route definition itself (access, schemas),
 * so the expectation follows the table when routes change. Requests that could change state (anything but GET)
 * are only ever sent when they must be refused.
 */
export type RestKind =
  | 'auth'
  | 'role'
  | 'params'
  | 'query'
  | 'body'
  | 'json'
  | 'size'
  | 'content-type'
  | 'unexpected-body'
  | 'method'
  | 'header-size'
  | 'valid-shaped'
  | 'unknown-id'
  | 'foreign-id';

export interface RestCase {
  target: string;
  kind: RestKind;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** true: only a 4xx with a JSON error is right; false (GET only): 2xx or a 4xx with a JSON error */
  mustReject: boolean;
}

export interface RestContext {
  tokens: Record<Who, string>;
  expired: Record<Who, string>;
  /** booking id → who booked it */
  bookings: Map<string, Who>;
  vehicleIds: string[];
  hubIds: string[];
}

export const JSON_LIMIT_BYTES = 32 * 1024;
const ALL_WHO: Who[] = ['rider', 'rider2', 'driver', 'dispatcher', 'admin', 'vehicle'];

export function routeTarget(r: RouteDef<any, any>): string {
  return `${r.method.toUpperCase()} ${r.path}`;
}

function allowedWho(r: RouteDef<any, any>): Who[] {
  if (r.access === 'public' || r.access === 'any') return ALL_WHO;
  const roles = r.access;
  return ALL_WHO.filter((w) => roles.includes(ROLE_OF[w]));
}

interface Parts {
  method: string;
  who: Who | null;
  /** Authorization header as sent (undefined: none) */
  authorization?: string;
  authValid: boolean;
  params: Record<string, string>;
  /** encoded params (a value that cannot be percent-encoded is sent as raw invalid UTF-8) */
  encodedParams: Record<string, string>;
  query: string;
  body?: string;
  contentType?: string;
  extraHeaders?: Record<string, string>;
  /** refused by construction (size, malformed JSON, media type, unknown method, unknown or foreign id) */
  forced: boolean;
  kind: RestKind;
  /** the client's address behind the reverse proxy (spreads the cases over the per-client rate limits) */
  client: number;
}

function encodeSegment(v: string): string {
  try {
    return encodeURIComponent(v);
  } catch {
    return '%ED%A0%80'; // a lone surrogate: sent as the (invalid) UTF-8 bytes of one
  }
}

function decodeSegment(v: string): string | null {
  try {
    return decodeURIComponent(v);
  } catch {
    return null;
  }
}

function qsValue(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || v === null ? String(v) : JSON.stringify(v) ?? '';
}

/** A query object as a query string: arrays as repeated keys, objects as JSON text. */
export function encodeQuery(q: unknown): string {
  if (q === undefined) return '';
  if (q === null || typeof q !== 'object' || Array.isArray(q)) return `q=${encodeSegment(qsValue(q))}`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) parts.push(`${encodeSegment(k)}=${encodeSegment(qsValue(x))}`);
  }
  return parts.join('&');
}

/** The query object the route's schema sees (express 5's "simple" parser is node:querystring). */
function parsedQuery(qs: string): Record<string, unknown> {
  return { ...querystring.parse(qs) };
}

/** Would the route refuse these parts? Mirrors the route table's checks (auth, params, query, body). */
function mustReject(r: RouteDef<any, any>, p: Parts): boolean {
  if (p.forced || !p.authValid) return true;
  for (const [name, schema] of Object.entries(r.params ?? {})) {
    const raw = decodeSegment(p.encodedParams[name]);
    if (raw === null || !isValid(schema, raw)) return true;
  }
  const q = parsedQuery(p.query);
  if (r.query ? !isValid(r.query, q) : Object.keys(q).length > 0) return true;
  if (p.body !== undefined && p.body.length > 0) {
    if (p.contentType !== 'application/json') return true;
    let parsed: unknown;
    try {
      parsed = JSON.parse(p.body);
    } catch {
      return true;
    }
    if (parsed === null || typeof parsed !== 'object') return true; // express.json is strict: objects and arrays only
    if (!r.body) return !(typeof parsed === 'object' && !Array.isArray(parsed) && Object.keys(parsed).length === 0);
    return !isValid(r.body, parsed);
  }
  return r.body ? !isValid(r.body, {}) : false;
}

function assemble(r: RouteDef<any, any>, p: Parts): RestCase {
  const path = r.path.replace(/\{(\w+)\}/g, (_m, n: string) => p.encodedParams[n] ?? 'x') + (p.query ? `?${p.query}` : '');
  const headers: Record<string, string> = { 'x-forwarded-for': `10.${(p.client >> 16) & 255}.${(p.client >> 8) & 255}.${p.client & 255}`, ...(p.extraHeaders ?? {}) };
  if (p.authorization !== undefined) headers.authorization = p.authorization;
  if (p.body !== undefined && p.contentType) headers['content-type'] = p.contentType;
  return { target: routeTarget(r), kind: p.kind, method: p.method.toUpperCase(), path, headers, body: p.body, mustReject: mustReject(r, p) };
}

/** Header-safe hostile token strings (HTTP headers carry latin-1 without control characters). */
const headerSafe = (s: string) => /^[\x20-\x7e]*$/.test(s);

export function restCaseArbitrary(r: RouteDef<any, any>, ctx: RestContext): fc.Arbitrary<RestCase> {
  const allowed = allowedWho(r);
  const refused = ALL_WHO.filter((w) => !allowed.includes(w));
  const isPublic = r.access === 'public';
  const paramEntries = Object.entries(r.params ?? {}) as [string, ZodType<string>][];
  const pool = [...ctx.bookings.keys(), ...ctx.hubIds, ...ctx.vehicleIds];

  // ---- the otherwise acceptable request
  const paramArb = (schema: ZodType<string>) => {
    const real = pool.filter((x) => isValid(schema, x));
    const random = validLooking(jsonSchemaOf(schema)).map(qsValue);
    return real.length ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...real) }, { weight: 1, arbitrary: random }) : random;
  };
  const base: fc.Arbitrary<Parts> = fc
    .record({
      who: isPublic ? fc.option(fc.constantFrom(...ALL_WHO), { nil: null }) : fc.constantFrom(...(allowed.length ? allowed : ALL_WHO)),
      params: fc.record(Object.fromEntries(paramEntries.map(([n, s]) => [n, paramArb(s)]))) as fc.Arbitrary<Record<string, string>>,
      query: r.query ? validLooking(jsonSchemaOf(r.query)) : fc.constant(undefined),
      body: r.body ? validLooking(jsonSchemaOf(r.body)) : fc.constant(undefined),
      client: fc.nat({ max: 0xffffff }),
    })
    .map(({ who, params, query, body, client }) => ({
      method: r.method,
      who,
      authorization: who ? `Bearer ${ctx.tokens[who]}` : undefined,
      authValid: isPublic || (who !== null && allowed.includes(who)),
      params,
      encodedParams: Object.fromEntries(Object.entries(params).map(([k, v]) => [k, encodeSegment(v)])),
      query: encodeQuery(query),
      body: body === undefined ? undefined : JSON.stringify(body),
      contentType: body === undefined ? undefined : 'application/json',
      forced: false,
      kind: 'valid-shaped' as RestKind,
      client,
    }));

  const dims: fc.WeightedArbitrary<Parts>[] = [];
  const dim = (weight: number, arb: fc.Arbitrary<Parts>) => dims.push({ weight, arbitrary: arb });

  // ---- authentication and authorisation
  if (!isPublic) {
    const anyToken = fc.constantFrom(...ALL_WHO).map((w) => ctx.tokens[w]);
    const badAuth: fc.Arbitrary<string | undefined> = fc.oneof(
      fc.constant(undefined),
      fc.constantFrom('', 'Bearer', 'Bearer ', 'Bearer  ', 'Bearer null', 'Bearer undefined', 'Basic YWRtaW46YWRtaW4=', 'Bearer a.b', 'Bearer .', 'Bearer ..'),
      anyToken.map((t) => t), // no "Bearer " prefix
      anyToken.map((t) => `bearer ${t}`),
      anyToken.map((t) => `Bearer ${t}x`),
      anyToken.map((t) => `Bearer ${t.slice(0, -2)}`),
      anyToken.map((t) => `Bearer ${t} ${t}`),
      // forged: a token claiming admin, signed like someone else's
      anyToken.map((t) => `Bearer ${Buffer.from(JSON.stringify({ sub: 'admin', role: 'admin', exp: 9_999_999_999 })).toString('base64url')}.${t.split('.')[1]}`),
      fc.constantFrom(...ALL_WHO).map((w) => `Bearer ${ctx.expired[w]}`),
      fc.constantFrom(...NASTY_STRINGS.filter(headerSafe)).map((s) => `Bearer ${s}`),
      fc.integer({ min: 2049, max: 8000 }).map((n) => `Bearer ${'a'.repeat(n)}.${'b'.repeat(43)}`),
    );
    dim(30, fc.tuple(base, badAuth).map(([p, a]) => ({ ...p, authorization: a, authValid: false, kind: 'auth' as const })));
    if (refused.length) dim(20, fc.tuple(base, fc.constantFrom(...refused)).map(([p, w]) => ({ ...p, who: w, authorization: `Bearer ${ctx.tokens[w]}`, authValid: false, kind: 'role' as const })));
  }

  // ---- path parameters
  if (paramEntries.length) {
    const badParam = (schema: ZodType<string>) =>
      fc.oneof(
        mutatedFrom(schema).map((m) => qsValue(m.value)),
        fc.constantFrom(...NASTY_STRINGS),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
      ).filter((v) => v.length > 0 && v !== '.' && v !== '..');
    dim(20,
      fc.tuple(base, fc.constantFrom(...paramEntries)).chain(([p, [name, schema]]) =>
        badParam(schema).map((v) => ({ ...p, params: { ...p.params, [name]: v }, encodedParams: { ...p.encodedParams, [name]: encodeSegment(v) }, kind: 'params' as const })),
      ),
    );
    // valid-looking ids nobody has
    dim(10,
      fc.tuple(base, fc.constantFrom(...paramEntries)).chain(([p, [name, schema]]) =>
        validLooking(jsonSchemaOf(schema))
          .map(qsValue)
          .filter((v) => v.length > 0 && !pool.includes(v) && isValid(schema, v))
          .map((v) => ({ ...p, params: { ...p.params, [name]: v }, encodedParams: { ...p.encodedParams, [name]: encodeSegment(v) }, forced: r.method !== 'get', kind: 'unknown-id' as const })),
      ),
    );
    // a rider's booking id with another rider's token
    const riders = allowed.filter((w) => ROLE_OF[w] === 'rider');
    const foreign = riders.flatMap((w) => [...ctx.bookings].filter(([, owner]) => owner !== w).map(([id]) => [w, id] as const));
    if (foreign.length) {
      dim(10,
        fc.tuple(base, fc.constantFrom(...foreign), fc.constantFrom(...paramEntries)).map(([p, [w, id], [name]]) => ({
          ...p,
          who: w,
          authorization: `Bearer ${ctx.tokens[w]}`,
          authValid: true,
          params: { ...p.params, [name]: id },
          encodedParams: { ...p.encodedParams, [name]: encodeSegment(id) },
          forced: true,
          kind: 'foreign-id' as const,
        })),
      );
    }
  }

  // ---- query
  const junkQuery = fc.oneof(
    fc.constantFrom('%', '%%', 'a=%E0%A4%A', '=', '&&&', '==&==', 'a', 'a[b]=1', '__proto__=x', '__proto__[role]=admin', 'constructor[prototype][polluted]=1', 'toString=1', 'hasOwnProperty=1'),
    fc.tuple(fc.constantFrom('q', 'bbox', 'from', 'to', 'lat', 'lon', 'limit', 'format', 'lang', 'vehicleId', 'x'), fc.integer({ min: 2, max: 50 })).map(([k, n]) => Array.from({ length: n }, (_, i) => `${k}=${i}`).join('&')),
    fc.tuple(fc.constantFrom('q', 'bbox', 'from', 'x'), fc.integer({ min: 1000, max: 7000 })).map(([k, n]) => `${k}=${'9'.repeat(n)}`),
    fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.constantFrom(...NASTY_STRINGS), { minKeys: 1, maxKeys: 4 }).map(encodeQuery),
  );
  const badQuery: fc.Arbitrary<string> = r.query
    ? fc.oneof({ weight: 3, arbitrary: mutatedFrom(r.query).map((m) => encodeQuery(m.value)) }, { weight: 1, arbitrary: junkQuery })
    : fc.oneof(junkQuery, fc.tuple(fc.constantFrom('from', 'to', 'format', 'limit', 'debug', 'admin'), fc.constantFrom(...NASTY_STRINGS)).map(([k, v]) => `${k}=${encodeSegment(v)}`));
  dim(30, fc.tuple(base, badQuery).map(([p, q]) => ({ ...p, query: q, kind: 'query' as const })));

  // ---- body
  if (r.body) {
    dim(40, fc.tuple(base, mutatedFrom(r.body)).map(([p, m]) => ({ ...p, body: JSON.stringify(m.value) ?? 'null', contentType: 'application/json', kind: 'body' as const })));
    dim(10,
      fc.tuple(base, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', 'application/jsonp', 'text/json')).map(([p, ct]) => ({
        ...p,
        body: p.body ?? '{}',
        contentType: ct,
        forced: true,
        kind: 'content-type' as const,
      })),
    );
  } else {
    dim(10,
      fc.tuple(base, fc.oneof(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1, maxKeys: 3 }), fc.constant({ riderId: 'someone-else' }))).map(([p, b]) => ({
        ...p,
        body: JSON.stringify(b),
        contentType: 'application/json',
        kind: 'unexpected-body' as const,
      })),
    );
    dim(10, fc.tuple(base, fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream')).map(([p, ct]) => ({ ...p, body: 'a=1&b=2', contentType: ct, forced: true, kind: 'unexpected-body' as const })));
  }
  // malformed JSON (body-parser runs before every route)
  const malformed = fc.tuple(base, fc.nat(), fc.constantFrom(...RAW_NUMBER_TOKENS)).chain(([p, i, tok]) => {
    const text = p.body ?? '{"a":1}';
    return fc
      .constantFrom(
        text.slice(0, Math.max(1, i % text.length)),
        `${text}}`,
        `${text},`,
        `${text}garbage`,
        text.replace(/:(-?\d+(\.\d+)?)/, `:${tok}`),
        text.replace(/"/g, "'"),
        text.replace(/}$/, ',}'),
        `{"a":${tok}}`,
        '{',
        '[',
        '{"a":',
        'nul',
        '"unterminated',
        '{"a":"\\u12"}',
        '{"a":"\\x41"}',
        '{a:1}',
        '\u0000',
        `{"a":${'['.repeat(15_000)}${']'.repeat(15_000)}}`,
      )
      .map((b) => ({ ...p, body: b, contentType: 'application/json', kind: 'json' as const }));
  });
  dim(20, malformed);
  // over the JSON size limit
  dim(10,
    fc.tuple(base, fc.integer({ min: JSON_LIMIT_BYTES + 1, max: 1024 * 1024 })).map(([p, n]) => ({
      ...p,
      body: `{"pad":"${'x'.repeat(n)}"}`,
      contentType: 'application/json',
      forced: true,
      kind: 'size' as const,
    })),
  );
  // a method no route has
  dim(10, fc.tuple(base, fc.constantFrom('put', 'patch')).map(([p, m]) => ({ ...p, method: m, forced: true, kind: 'method' as const })));
  // headers over the server's header size limit
  dim(5,
    fc.tuple(base, fc.integer({ min: 17 * 1024, max: 64 * 1024 }), fc.boolean()).map(([p, n, inAuth]) => ({
      ...p,
      ...(inAuth ? { authorization: `Bearer ${'a'.repeat(n)}` } : { extraHeaders: { 'x-fuzz': 'a'.repeat(n) } }),
      forced: true,
      kind: 'header-size' as const,
    })),
  );
  // plain valid-looking requests: only for GET (they may be accepted and must not fail)
  if (r.method === 'get') dim(20, base);

  return fc.oneof(...dims).map((p) => assemble(r, p));
}

/** `n` cases for the route (only GET may carry requests that are not refused; the rest are regenerated). */
export function restCases(r: RouteDef<any, any>, ctx: RestContext, n: number, seed: number): RestCase[] {
  const arb = restCaseArbitrary(r, ctx);
  const out: RestCase[] = [];
  for (let round = 0; out.length < n && round < 8; round++) {
    for (const c of fc.sample(arb, { seed: seed + round * 7919, numRuns: Math.ceil((n - out.length) * 1.5) + 4 })) {
      if (out.length >= n) break;
      if (c.mustReject || c.method === 'GET') out.push(c);
    }
  }
  return out;
}

