import type { ZodType } from 'zod';
import { NASTY_STRINGS, fc, hostileValue, isValid, jsonSchemaOf, mutatedFrom, validLooking, viaJson, withOwnKey } from './arbitraries.ts';
import type { Who } from './harness.ts';
import { NO_PAYLOAD, type SocketTarget } from './targets.ts';

/**
 * Socket cases for one event of one namespace: payloads derived from the event's zod schema and mutated, sent
 * with an ack, without one, with something that is not a function where the ack should be, as binary, with
 * extra arguments, over the frame size limit; plus valid-looking payloads that name ids nobody has, and (wrong
 * role / owner) ids that exist but are not the sender's to touch.
 */
export type SocketKind =
  | 'invalid'
  | 'no-ack'
  | 'non-function-ack'
  | 'binary'
  | 'extra-args'
  | 'payload-for-no-payload'
  | 'valid-shaped'
  | 'real-id'
  | 'oversized'
  | 'ack-only'
  | 'deep-raw'
  | 'unknown-event'
  | 'reserved-event'
  | 'generic';

export interface SocketCase {
  target: string;
  namespace: string;
  event: string;
  who: Who;
  kind: SocketKind;
  /** the arguments after the event name (the ack function, if any, is appended by the runner) */
  args: unknown[];
  ack: boolean;
  /** 'error-ack': must be answered {error:{code,message}}; 'any-ack': answered at all; 'none': no answer needed;
   *  'disconnect': the frame is over the transport limit (closing the connection is the answer) */
  expect: 'error-ack' | 'any-ack' | 'none' | 'disconnect';
  /** schema-invalid and delivered to a handler: must show in kl_input_rejected_total */
  counted: boolean;
  /** sent as this raw socket.io packet text (what the client library would refuse to send) */
  raw?: string;
}

export interface SocketContext {
  vehicleIds: string[];
  /** booking id → who booked it */
  bookings: Map<string, Who>;
}

/** Which identities speak on which namespace (the fuzzer's connected consoles, rider apps and bus). */
export const SPEAKERS: Record<string, Who[]> = {
  '/vehicle': ['vehicle'],
  '/leitstand': ['driver', 'dispatcher', 'admin'],
  '/rider': ['rider', 'rider2'],
};

/** The transport limit of the server (socket.io maxHttpBufferSize in app.ts). */
export const FRAME_LIMIT_BYTES = 64 * 1024;

export function socketTarget(t: { namespace: string; event: string }): string {
  return `${t.namespace} ${t.event}`;
}

function topLevelIdFields(schema: ZodType): string[] {
  const js = jsonSchemaOf(schema);
  const required = new Set(js.required ?? []);
  return Object.entries(js.properties ?? {})
    .filter(([k, p]) => required.has(k) && /Id$/.test(k) && (p.type === 'string' || p.pattern !== undefined))
    .map(([k]) => k);
}

/**
 * Nesting deeper than socket.io's client would encode (it walks payloads recursively looking for binary):
 * sent as raw packet text, `2<namespace>,["event",[[[…]]]]`, within the frame limit.
 */
const deepRaw = fc.integer({ min: 5_000, max: (FRAME_LIMIT_BYTES - 512) / 2 });
function rawPacket(namespace: string, event: string, depth: number): string {
  return `2${namespace},[${JSON.stringify(event)},${'['.repeat(depth)}${']'.repeat(depth)}]`;
}

const nonFunctions = fc.constantFrom<unknown>(42, 'ack', null, true, {}, [], { then: 'x' });
const binary = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 2048 }).map((a) => Buffer.from(a)),
  fc.uint8Array({ minLength: 1, maxLength: 64 }).map((a) => ({ vehicleId: Buffer.from(a), bookingId: Buffer.from(a) })),
);

export function socketCaseArbitrary(t: SocketTarget, ctx: SocketContext): fc.Arbitrary<SocketCase> {
  const speakers = SPEAKERS[t.namespace] ?? ['admin'];
  const who = fc.constantFrom(...speakers);
  const target = socketTarget(t);
  const answer = t.ack ? 'error-ack' : 'none';
  const mk = (w: Who, kind: SocketKind, args: unknown[], ack: boolean, expect: SocketCase['expect'], counted: boolean): SocketCase => ({
    target,
    namespace: t.namespace,
    event: t.event,
    who: w,
    kind,
    args,
    ack,
    expect,
    counted,
  });
  const dims: fc.WeightedArbitrary<SocketCase>[] = [];
  const dim = (weight: number, arb: fc.Arbitrary<SocketCase>) => dims.push({ weight, arbitrary: arb });
  const oversized = fc.integer({ min: FRAME_LIMIT_BYTES + 1024, max: 4 * FRAME_LIMIT_BYTES }).map((n) => ({ pad: 'x'.repeat(n) }));
  // an oversized frame closes the connection; on /vehicle that is a link loss of a bus (state changes by design)
  const frameTests = t.namespace !== '/vehicle';

  const schema = t.schema;
  if (schema === NO_PAYLOAD) {
    dim(60, fc.tuple(who, hostileValue.filter((v) => v !== undefined)).map(([w, p]) => mk(w, 'payload-for-no-payload', [p], true, 'error-ack', true)));
    dim(20, fc.tuple(who, nonFunctions).map(([w, p]) => mk(w, 'non-function-ack', [p], false, 'none', true)));
    dim(10, fc.tuple(who, binary).map(([w, p]) => mk(w, 'binary', [p], true, 'error-ack', true)));
    dim(3, fc.tuple(who, deepRaw).map(([w, d]) => ({ ...mk(w, 'deep-raw', [], false, 'none', true), raw: rawPacket(t.namespace, t.event, d) })));
    if (frameTests) dim(3, fc.tuple(who, oversized).map(([w, p]) => mk(w, 'oversized', [p], true, 'disconnect', false)));
  } else if (schema === undefined) {
    // handled by the server but unknown to the registry: hostile payloads, any answer, never a crash
    dim(10, fc.tuple(who, hostileValue).map(([w, p]) => mk(w, 'generic', [p], true, 'any-ack', false)));
  } else {
    const invalid = mutatedFrom(schema)
      .map((m) => m.value)
      .filter((v) => v !== undefined && !isValid(schema, viaJson(v)));
    dim(60, fc.tuple(who, invalid).map(([w, p]) => mk(w, 'invalid', [p], true, answer, true)));
    dim(10, fc.tuple(who, invalid).map(([w, p]) => mk(w, 'no-ack', [p], false, 'none', true)));
    dim(10, fc.tuple(who, invalid, nonFunctions).map(([w, p, nf]) => mk(w, 'non-function-ack', [p, nf], false, 'none', true)));
    dim(10, fc.tuple(who, invalid).map(([w, p]) => mk(w, 'extra-args', [p, 'extra'], true, answer, true)));
    dim(10, fc.tuple(who, binary.filter((b) => !isValid(schema, b))).map(([w, p]) => mk(w, 'binary', [p], true, answer, true)));
    // the ack alone, no payload (only where no payload is invalid: a bare passenger call is a real call)
    if (!isValid(schema, undefined)) dim(5, who.map((w) => mk(w, 'ack-only', [], true, answer, true)));
    if (frameTests) dim(3, fc.tuple(who, oversized).map(([w, p]) => mk(w, 'oversized', [p], true, 'disconnect', false)));
    dim(3, fc.tuple(who, deepRaw).map(([w, d]) => ({ ...mk(w, 'deep-raw', [], false, 'none', true), raw: rawPacket(t.namespace, t.event, d) })));

    const ids = topLevelIdFields(schema);
    const real = new Set<string>([...ctx.vehicleIds, ...ctx.bookings.keys()]);
    if (ids.length && t.ack) {
      // valid-looking, but naming nothing that exists
      const shaped = validLooking(jsonSchemaOf(schema)).filter((v) => {
        if (!isValid(schema, viaJson(v))) return false;
        return ids.every((k) => !real.has(String((v as Record<string, unknown>)[k])));
      });
      dim(20, fc.tuple(who, shaped).map(([w, p]) => mk(w, 'valid-shaped', [p], true, 'any-ack', false)));
    }
    // existing ids the sender has no right to act on: a bus for a console that may not drive (dispatcher, admin:
    // teleoperation is for drivers; an emergency stop is every staff member's right, so never sent), another
    // rider's booking for a rider
    if (t.namespace === '/leitstand' && ids.includes('vehicleId') && t.ack) {
      const shaped = fc
        .tuple(validLooking(jsonSchemaOf(schema)), fc.constantFrom(...ctx.vehicleIds))
        .map(([v, id]) => ({ ...(v as object), vehicleId: id }) as Record<string, unknown>)
        .filter((v) => isValid(schema, viaJson(v)) && !Object.values(v).includes('emergency_stop'));
      dim(20, fc.tuple(fc.constantFrom<Who>('dispatcher', 'admin'), shaped).map(([w, p]) => mk(w, 'real-id', [p], true, 'any-ack', false)));
    }
    if (t.namespace === '/rider' && ids.includes('bookingId') && t.ack) {
      const foreign = speakers.flatMap((w) => [...ctx.bookings].filter(([, owner]) => owner !== w).map(([id]) => [w, id] as const));
      if (foreign.length) dim(20, fc.constantFrom(...foreign).map(([w, id]) => mk(w, 'real-id', [{ bookingId: id }], true, 'error-ack', false)));
    }
  }
  return fc.oneof(...dims);
}

/** Bytes of the frame socket.io sends for these arguments (JSON text; binary goes in frames of its own). */
function frameBytes(event: string, args: unknown[]): number {
  const text = JSON.stringify([event, ...args], (_k, x: unknown) => (Buffer.isBuffer(x) || (x && typeof x === 'object' && (x as { type?: string }).type === 'Buffer') ? 0 : x));
  return Buffer.byteLength(text ?? '') + 8;
}

/**
 * `n` cases for the event. A payload that mutated past the frame limit is an oversized case (the server closes
 * the connection before any handler sees it); on /vehicle such cases are left out (see `socketCaseArbitrary`).
 */
export function socketCases(t: SocketTarget, ctx: SocketContext, n: number, seed: number): SocketCase[] {
  if (n <= 0) return [];
  const out: SocketCase[] = [];
  for (let round = 0; out.length < n && round < 8; round++) {
    for (const c of fc.sample(socketCaseArbitrary(t, ctx), { seed: seed + round * 7919, numRuns: n - out.length + 4 })) {
      if (out.length >= n) break;
      if (frameBytes(c.event, c.args) <= FRAME_LIMIT_BYTES) out.push(c);
      else if (t.namespace !== '/vehicle') out.push({ ...c, kind: 'oversized', expect: 'disconnect', counted: false });
    }
  }
  return out;
}

// ---------------------------------------------------------------- events nobody handles

/** socket.io's reserved names: its client refuses to send them, so they go out as raw packets. */
const RESERVED = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];
const ODD_EVENTS = ['error', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'emit', 'on', 'connection', 'message', 'ping', 'pong', 'teleop:acquire ', 'BOOKING:CREATE', 'booking:create\u0000', ''];

/** Events the namespace does not handle (odd names, random names, huge names, numbers), and reserved ones. */
export function unknownEventCases(namespace: string, handled: string[], n: number, seed: number): SocketCase[] {
  const who = fc.constantFrom(...(SPEAKERS[namespace] ?? ['admin']));
  const target = `${namespace} (unknown events)`;
  const name: fc.Arbitrary<string | number> = fc.oneof(
    fc.constantFrom(...ODD_EVENTS),
    fc.string({ minLength: 1, maxLength: 30 }),
    fc.integer({ min: 1000, max: 20_000 }).map((k) => 'e'.repeat(k)),
    fc.constantFrom(0, 42, -1, 1e21),
  );
  const plain = fc
    .tuple(who, name.filter((e) => !handled.includes(String(e))), hostileValue.filter((v) => frameBytes('x', [v]) < FRAME_LIMIT_BYTES / 2))
    .map(([w, event, p]): SocketCase => ({ target, namespace, event: event as string, who: w, kind: 'unknown-event', args: [p], ack: true, expect: 'error-ack', counted: true }));
  const arbs: fc.WeightedArbitrary<SocketCase>[] = [{ weight: 9, arbitrary: plain }];
  // a reserved name is a protocol violation the server answers by closing the connection (a bus's would be a link loss)
  if (namespace !== '/vehicle') {
    arbs.push({
      weight: 1,
      arbitrary: fc.tuple(who, fc.constantFrom(...RESERVED), hostileValue.filter((v) => frameBytes('x', [v]) < 4096)).map(([w, event, p]): SocketCase => ({
        target,
        namespace,
        event,
        who: w,
        kind: 'reserved-event',
        args: [p],
        ack: false,
        expect: 'disconnect',
        counted: false,
        raw: `2${namespace},${JSON.stringify([event, p])}`,
      })),
    });
  }
  return n <= 0 ? [] : fc.sample(fc.oneof(...arbs), { seed, numRuns: n });
}

// ---------------------------------------------------------------- handshakes

export interface HandshakeCase {
  target: string;
  namespace: string;
  auth: unknown;
}

export interface HandshakeContext {
  tokens: Record<Who, string>;
  expired: Record<Who, string>;
  vehicleIds: string[];
  /** tokens signed by the server for subjects or roles that do not exist */
  minted: { unknownBus: string; unknownRole: string };
}

/** Which roles each namespace admits (fleet/realtime.ts): every other token is refused at the handshake. */
export const NAMESPACE_ROLES: Record<string, Who[]> = {
  '/vehicle': ['vehicle'],
  '/leitstand': ['driver', 'dispatcher', 'admin'],
  '/rider': ['rider', 'rider2'],
};

export function handshakeCases(namespace: string, ctx: HandshakeContext, n: number, seed: number): HandshakeCase[] {
  const admitted = NAMESPACE_ROLES[namespace] ?? [];
  const all = Object.keys(ctx.tokens) as Who[];
  const wrongRole = all.filter((w) => !admitted.includes(w));
  const anyToken = fc.constantFrom(...all).map((w) => ctx.tokens[w]);
  const badToken: fc.Arbitrary<unknown> = fc.oneof(
    hostileValue,
    fc.constantFrom(...all).map((w) => ctx.expired[w]),
    anyToken.map((t) => `${t}x`),
    anyToken.map((t) => `Bearer ${t}`),
    anyToken.map((t) => `${Buffer.from(JSON.stringify({ sub: 'admin', role: 'admin', exp: 9_999_999_999 })).toString('base64url')}.${t.split('.')[1]}`),
    fc.constant(ctx.minted.unknownRole),
    ...(wrongRole.length ? [fc.constantFrom(...wrongRole).map((w) => ctx.tokens[w])] : []),
    ...(namespace === '/vehicle' ? [fc.constant(ctx.minted.unknownBus)] : []),
  );
  const auths: fc.Arbitrary<unknown>[] = [
    fc.constantFrom<unknown>(undefined, {}, { token: null }, { token: '' }),
    badToken.map((token) => ({ token })),
    fc.tuple(badToken, fc.constantFrom(...PROTO_KEYS_AUTH)).map(([token, k]) => withOwnKey({ token }, k, { role: 'admin' })),
  ];
  if (namespace === '/vehicle') {
    const bus = fc.constantFrom(...ctx.vehicleIds);
    auths.push(
      // a real bus with someone else's, a wrong or an oversized key (the right key is never sent)
      fc.tuple(bus, bus).filter(([a, b]) => a !== b).map(([a, b]) => ({ vehicleId: a, key: `${b}-demo-key` })),
      fc.tuple(bus, fc.oneof(fc.constantFrom(...NASTY_STRINGS), fc.integer({ min: 257, max: 20_000 }).map((k) => 'k'.repeat(k)))).map(([a, key]) => ({ vehicleId: a, key })),
      fc.tuple(hostileValue, bus).map(([vehicleId, b]) => ({ vehicleId, key: `${b}-demo-key` })),
      fc.tuple(bus, hostileValue.filter((k) => typeof k !== 'string')).map(([vehicleId, key]) => ({ vehicleId, key })),
      fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty').map((vehicleId) => ({ vehicleId, key: 'x' })),
    );
  }
  return fc.sample(fc.oneof(...auths), { seed, numRuns: n }).map((auth) => ({ target: `${namespace} (handshake)`, namespace, auth }));
}

const PROTO_KEYS_AUTH = ['__proto__', 'constructor', 'role'];
