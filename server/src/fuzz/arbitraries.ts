import fc from 'fast-check';
import { z, type ZodType } from 'zod';

/**
 * fast-check arbitraries for the bad-input fuzzer, derived from the server's own zod schemas: first a
 * valid-looking value (through zod's JSON Schema export, so the generator follows the schema and never has to
 * know zod's internals), then a mutation of it (wrong type, missing or extra field, huge string, deep nesting,
 * extreme number, odd unicode, prototype-pollution key). Whether a value is really invalid is decided by the
 * zod schema itself (`isValid`), never by the generator.
 */
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
};

/** JSON Schema of what a zod schema accepts as input ({} — anything — where zod cannot express it). */
export function jsonSchemaOf(schema: ZodType): JsonSchema {
  try {
    return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  } catch {
    return {};
  }
}

export function isValid(schema: ZodType | undefined, value: unknown): boolean {
  if (!schema) return true;
  try {
    return schema.safeParse(value).success;
  } catch {
    return false;
  }
}

/** What the far side sees after JSON transport (undefined fields vanish, NaN/±Infinity become null). */
export function viaJson(value: unknown): unknown {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}

// ---------------------------------------------------------------- hostile building blocks

/** Strings that have broken parsers before: control and bidi characters, lone surrogates, injections, paths. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  '\u0000abc',
  '\t\r\n',
  '\u202e\u202dRTL',
  '\u200b\u200c\u200d\ufeff',
  '\ud800',
  '\udfff\ud800',
  '🚌🚏🧑‍🦽',
  'Kaiserslautern Hbf ä ö ü ß',
  'ｆｕｌｌｗｉｄｔｈ',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '1e309',
  '0x10',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  '../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  '"; DROP TABLE bookings; --',
  '${process.exit(1)}',
  '{{7*7}}',
  '%00%0d%0a',
  '%',
  '%E0%A4%A',
  'a'.repeat(65),
  'a'.repeat(257),
  '9'.repeat(400),
  '49.4,7.7',
  '1,2,3,4',
  '2026-02-30T25:61:61Z',
  '1970-01-01T00:00:00Z',
  '+275760-09-13T00:00:00.001Z',
];

export const NASTY_NUMBERS = [
  -1,
  -0,
  0.5,
  -0.000001,
  1.5,
  1e-320,
  Number.MIN_VALUE,
  Number.EPSILON,
  255,
  256,
  65536,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 32,
  Number.MAX_SAFE_INTEGER + 2,
  -Number.MAX_SAFE_INTEGER - 2,
  8.64e15 + 1,
  1e21,
  1e308,
  -1e308,
  Number.MAX_VALUE,
];

/** Raw JSON number tokens JSON.stringify can never produce (±Infinity after JSON.parse, or invalid JSON). */
export const RAW_NUMBER_TOKENS = ['1e999', '-1e999', 'NaN', 'Infinity', '-Infinity', '0x1F', '01', '1.', '.5', '+1', '1e', '--1'];

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype'];

const hugeString: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom('x', 'ä', '🚌', '\u0000', '%', '\\"', '{'), fc.integer({ min: 300, max: 30_000 }))
  .map(([c, n]) => c.repeat(Math.ceil(n / c.length)));

/** Nested arrays/objects this deep: `[[[…]]]`, `{"a":{"a":…}}` (bounded so the payload still fits the limits). */
export function deepNest(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = 0;
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}
const deep: fc.Arbitrary<unknown> = fc.tuple(fc.integer({ min: 20, max: 1500 }), fc.constantFrom('array' as const, 'object' as const)).map(([d, k]) => deepNest(d, k));

/** An object whose own keys include a prototype-pollution key (as JSON.parse of hostile text would create). */
export function withOwnKey(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const o: Record<string, unknown> = { ...base };
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  return o;
}
const pollution: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(fc.constantFrom(...PROTO_KEYS), fc.constantFrom<unknown>({ polluted: true }, { isAdmin: true, role: 'admin' }, 'x', null, [1]))
  .map(([k, v]) => withOwnKey({}, k, v));

/** Any hostile value of any JSON type. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<unknown>(null, true, false, 0, '', [], {}, [null], { '': '' }) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_NUMBERS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: pollution },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
);

// ---------------------------------------------------------------- valid-looking values from a JSON Schema

const MAX_EPOCH = 8.64e15;

function stringArb(s: JsonSchema): fc.Arbitrary<string> {
  if (s.format === 'date-time') return fc.date({ min: new Date(0), max: new Date(4102444800000), noInvalidDate: true }).map((d) => d.toISOString());
  if (s.pattern) {
    try {
      return fc.stringMatching(new RegExp(s.pattern)).filter((x) => (s.maxLength === undefined || x.length <= s.maxLength) && x.length >= (s.minLength ?? 0));
    } catch {
      /* a pattern fast-check cannot generate from: fall through to a plain string */
    }
  }
  return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 40, 80), unit: 'grapheme' });
}

function numberArb(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : 1e-9) : -1e6);
  const hi = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : 1e-9) : 1e6);
  if (integer) return fc.integer({ min: Math.max(Math.ceil(lo), -Number.MAX_SAFE_INTEGER), max: Math.min(Math.floor(hi), Number.MAX_SAFE_INTEGER) });
  return fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
}

/** A value that follows the JSON Schema's shape (types, ranges, patterns, required fields). */
export function validLooking(s: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 6) return fc.constant(null);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((a) => validLooking(a, depth + 1)));
  if (s.allOf?.length) return validLooking(s.allOf[0], depth + 1);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return stringArb(s);
    case 'integer':
      return numberArb({ minimum: -MAX_EPOCH, maximum: MAX_EPOCH, ...s }, true);
    case 'number':
      return numberArb(s, false);
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      if (s.prefixItems) return fc.tuple(...s.prefixItems.map((p) => validLooking(p, depth + 1)));
      return fc.array(validLooking(s.items ?? {}, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 4, 8) });
    }
    case 'object': {
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, p] of Object.entries(props)) model[k] = validLooking(p, depth + 1);
      const requiredKeys = Object.keys(props).filter((k) => required.has(k));
      return fc.record(model, { requiredKeys });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

// ---------------------------------------------------------------- mutations

type Path = (string | number)[];

function paths(v: unknown, prefix: Path = [], out: Path[] = [], depth = 0): Path[] {
  out.push(prefix);
  if (depth > 8 || v === null || typeof v !== 'object') return out;
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out, depth + 1));
  else for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out, depth + 1);
  return out;
}

function setAt(root: unknown, path: Path, fn: (old: unknown, parent: Record<string | number, unknown> | null, key: string | number | null) => unknown): unknown {
  if (!path.length) return fn(root, null, null);
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let parent = copy;
  for (let i = 0; i < path.length - 1; i++) parent = parent[path[i]] as Record<string | number, unknown>;
  const key = path[path.length - 1];
  const next = fn(parent[key], parent, key);
  if (next === DELETE) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else parent[key] = next;
  return copy;
}
const DELETE = Symbol('delete');

export type Mutation = 'wrong-type' | 'missing-field' | 'extra-field' | 'proto-key' | 'huge-string' | 'extreme-number' | 'unicode' | 'deep-nesting' | 'replace-root';

function differentType(old: unknown): fc.Arbitrary<unknown> {
  const t = old === null ? 'null' : Array.isArray(old) ? 'array' : typeof old;
  return hostileValue.filter((x) => (x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x) !== t);
}

/** A mutation of `value` (a copy; `value` itself is never changed). */
export function mutate(value: unknown): fc.Arbitrary<{ value: unknown; mutation: Mutation }> {
  const ps = paths(value);
  const at = fc.nat({ max: ps.length - 1 }).map((i) => ps[i]);
  const objectPaths = ps.filter((p) => {
    let v: unknown = value;
    for (const k of p) v = (v as Record<string | number, unknown>)[k];
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  });
  const leafPaths = ps.filter((p) => p.length > 0);
  const ops: fc.Arbitrary<{ value: unknown; mutation: Mutation }>[] = [
    fc.tuple(at, fc.nat()).chain(([p]) => {
      let old: unknown = value;
      for (const k of p) old = (old as Record<string | number, unknown>)[k];
      return differentType(old).map((x) => ({ value: setAt(value, p, () => x), mutation: 'wrong-type' as const }));
    }),
    fc.tuple(at, hugeString).map(([p, s]) => ({ value: setAt(value, p, () => s), mutation: 'huge-string' as const })),
    fc.tuple(at, fc.constantFrom(...NASTY_NUMBERS)).map(([p, n]) => ({ value: setAt(value, p, () => n), mutation: 'extreme-number' as const })),
    fc.tuple(at, fc.constantFrom(...NASTY_STRINGS)).map(([p, s]) => ({ value: setAt(value, p, () => s), mutation: 'unicode' as const })),
    fc.tuple(at, deep).map(([p, d]) => ({ value: setAt(value, p, () => d), mutation: 'deep-nesting' as const })),
    hostileValue.map((x) => ({ value: x, mutation: 'replace-root' as const })),
  ];
  if (leafPaths.length) {
    ops.push(fc.constantFrom(...leafPaths).map((p) => ({ value: setAt(value, p, () => DELETE), mutation: 'missing-field' as const })));
  }
  const objs = objectPaths.length ? objectPaths : [[]];
  ops.push(
    fc.tuple(fc.constantFrom(...objs), fc.oneof(fc.constantFrom('extra', 'Passengers', 'role', 'admin', 'isAdmin', ' pickup', 'vehicleid'), fc.string({ minLength: 1, maxLength: 12 })), hostileValue).map(([p, k, x]) => ({
      value: setAt(value, p, (o) => (o !== null && typeof o === 'object' ? { ...(o as object), [k]: x } : { [k]: x })),
      mutation: 'extra-field' as const,
    })),
    fc.tuple(fc.constantFrom(...objs), fc.constantFrom(...PROTO_KEYS), fc.constantFrom<unknown>({ polluted: true }, { role: 'admin' }, 'x', null)).map(([p, k, x]) => ({
      value: setAt(value, p, (o) => withOwnKey(o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : {}, k, x)),
      mutation: 'proto-key' as const,
    })),
  );
  return fc.oneof(...ops);
}

/**
 * Invalid values for `schema`: a valid-looking value, mutated. The caller filters with `isValid` (a mutation can
 * land on something the schema still accepts, e.g. a dropped optional field).
 */
export function mutatedFrom(schema: ZodType | undefined): fc.Arbitrary<{ value: unknown; mutation: Mutation }> {
  const base = schema ? validLooking(jsonSchemaOf(schema)) : fc.jsonValue({ maxDepth: 2 });
  return base.chain((v) => mutate(v));
}

/** Deterministic samples: `n` values of `arb` from `seed` (fast-check's own generator, no shrinking needed). */
export function sample<T>(arb: fc.Arbitrary<T>, n: number, seed: number): T[] {
  return n <= 0 ? [] : fc.sample(arb, { seed, numRuns: n });
}

export { fc };
