import type { Socket } from 'socket.io-client';
import { isValid } from './arbitraries.ts';
import {
  connectOutcome,
  errText,
  httpRaw,
  openSocket,
  rejectedCount,
  sleep,
  compareSnapshots,
  snapshot,
  startFuzzServer,
  type FuzzServer,
  type Who,
} from './harness.ts';
import { restCases, routeTarget, type RestCase } from './rest-cases.ts';
import { SPEAKERS, handshakeCases, socketCases, socketTarget, unknownEventCases, type HandshakeCase, type SocketCase } from './socket-cases.ts';
import { NO_PAYLOAD, RESERVED_EVENTS, declaredEvents, socketTargets, type SocketTarget } from './targets.ts';

/**
 * The bad-input fuzzer: every REST route of the route table, every socket event the server handles (and every
 * one the protocol declares), every namespace's handshake. Per target: seeded cases, the answers checked, the
 * server's liveness and error log watched, and the store and live state compared before and after.
 */
export interface FuzzOptions {
  /** total cases over all targets (each target gets an equal share, at least `minPerTarget`) */
  cases: number;
  seed: number;
  redisUrl?: string;
  minPerTarget?: number;
  /** REST requests in flight */
  concurrency?: number;
  /** only targets whose name matches */
  only?: RegExp;
  log?: (line: string) => void;
  /** an already running fuzz server (kept running afterwards); default: one of its own */
  server?: FuzzServer;
  /** runs once the server is up, before the targets are discovered (the fuzzer's own tests plant defects here) */
  setup?: (s: FuzzServer) => void | Promise<void>;
}

export interface Row {
  target: string;
  cases: number;
  /** 2xx, or an ack with data (only valid-looking GETs / payloads may be accepted) */
  accepted: number;
  /** 4xx with a JSON error, an ack {error}, a refused handshake, a closed over-limit connection, or a fire-and-forget payload the edge counted */
  rejected: number;
  /** 5xx, or an ack with code INTERNAL */
  serverErrors: number;
  /** contract violations: accepted what must be refused, 4xx without a JSON error, no ack, not counted… */
  bad: number;
  crashes: number;
  storeChanged: string[];
  /** refused control attempts the teleoperation audit recorded (allowed: it records every control event) */
  auditedRefusals: number;
  examples: string[];
}

export interface FuzzReport {
  rows: Row[];
  totals: Row;
  /** findings that belong to no single target (protocol declarations, unstable baseline) */
  problems: string[];
  notes: string[];
  seconds: number;
  ok: boolean;
}

const MAX_EXAMPLES = 4;

function newRow(target: string): Row {
  return { target, cases: 0, accepted: 0, rejected: 0, serverErrors: 0, bad: 0, crashes: 0, storeChanged: [], auditedRefusals: 0, examples: [] };
}

function example(row: Row, text: string): void {
  if (row.examples.length < MAX_EXAMPLES) row.examples.push(text);
}

const short = (v: unknown, n = 160): string => {
  let s: string;
  try {
    s = typeof v === 'string' ? v : (JSON.stringify(v, (_k, x: unknown) => (Buffer.isBuffer(x) ? `<Buffer ${x.length}>` : x)) ?? String(v));
  } catch {
    s = String(v);
  }
  return s.length > n ? `${s.slice(0, n)}…(${s.length})` : s;
};

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

function isJsonError(contentType: string, text: string): boolean {
  if (!/^application\/json\b/.test(contentType)) return false;
  try {
    const j = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    return typeof j.error?.code === 'string' && j.error.code.length > 0 && typeof j.error.message === 'string';
  } catch {
    return false;
  }
}

function isAckError(x: unknown): x is { error: { code: string; message: string } } {
  const e = (x as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return !!e && typeof e.code === 'string' && e.code.length > 0 && typeof e.message === 'string';
}

// ---------------------------------------------------------------- REST

async function runRest(s: FuzzServer, row: Row, cases: RestCase[], concurrency: number): Promise<void> {
  await pool(cases, concurrency, async (c) => {
    row.cases++;
    const r = await httpRaw(s.url, s.http, { method: c.method, path: c.path, headers: c.headers, body: c.body });
    const what = `${c.kind}: ${c.method} ${short(c.path, 100)}${c.body !== undefined ? ` ${short(c.body, 100)}` : ''}${c.headers['content-type'] && c.headers['content-type'] !== 'application/json' ? ` [${c.headers['content-type']}]` : ''}`;
    if ('error' in r) {
      row.bad++;
      example(row, `${what} → no answer (${r.error})`);
      return;
    }
    if (r.status >= 500) {
      row.serverErrors++;
      example(row, `${what} → ${r.status} ${short(r.text, 120)}`);
    } else if (r.status >= 400) {
      row.rejected++;
      if (!isJsonError(r.contentType, r.text)) {
        row.bad++;
        example(row, `${what} → ${r.status} without a JSON error (${r.contentType || 'no content type'}: ${short(r.text, 80)})`);
      }
    } else if (c.mustReject) {
      row.bad++;
      example(row, `${what} → ${r.status} accepted (must be refused)`);
    } else row.accepted++;
  });
}

// ---------------------------------------------------------------- sockets

class Speakers {
  private readonly sockets = new Map<string, Socket>();
  constructor(private readonly s: FuzzServer) {}

  auth(who: Who): Record<string, unknown> {
    return { token: this.s.tokens[who] };
  }

  async get(namespace: string, who: Who): Promise<Socket> {
    const key = `${namespace} ${who}`;
    const cur = this.sockets.get(key);
    if (cur?.connected) return cur;
    cur?.disconnect();
    const sock = openSocket(this.s.url, namespace, this.auth(who));
    // answer the server's RTT probes like a real console / bus would
    sock.on('teleop:ping', (p: unknown) => sock.emit('teleop:pong', p));
    const o = await connectOutcome(sock);
    if (!o.connected) throw new Error(`fuzz setup: ${who} cannot connect to ${namespace}: ${o.reason}`);
    this.sockets.set(key, sock);
    return sock;
  }

  closeAll(): void {
    for (const s of this.sockets.values()) s.disconnect();
    this.sockets.clear();
  }
}

type SocketOutcome = { kind: 'ack'; value: unknown } | { kind: 'timeout' } | { kind: 'disconnect'; reason: string } | { kind: 'sent' } | { kind: 'throw'; message: string };

function emitCase(sock: Socket, c: SocketCase, ms: number): Promise<SocketOutcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: SocketOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      sock.off('disconnect', onDisconnect);
      resolve(o);
    };
    const onDisconnect = (reason: string) => finish({ kind: 'disconnect', reason });
    sock.on('disconnect', onDisconnect);
    // fire-and-forget cases only wait briefly for an (unexpected) answer
    const wait = c.expect === 'none' ? (c.ack ? 200 : 0) : ms;
    const t = setTimeout(() => finish(c.ack || c.expect === 'disconnect' ? { kind: 'timeout' } : { kind: 'sent' }), wait);
    try {
      if (c.raw !== undefined) (sock.io.engine as unknown as { write(m: string): void }).write(c.raw);
      else if (c.ack) sock.emit(c.event, ...c.args, (value: unknown) => finish({ kind: 'ack', value }));
      else sock.emit(c.event, ...c.args);
    } catch (e) {
      finish({ kind: 'throw', message: errText(e) });
    }
  });
}

/** An event every handler answers at once: after its ack, everything sent before on that socket was handled. */
function barrierOf(targets: SocketTarget[], namespace: string): { event: string; args: unknown[]; counted: number } | null {
  const mine = targets.filter((t) => t.namespace === namespace && t.handled && t.ack);
  const plain = mine.find((t) => t.schema === NO_PAYLOAD);
  if (plain) return { event: plain.event, args: [], counted: 0 };
  const withSchema = mine.find((t) => t.schema !== undefined && t.schema !== NO_PAYLOAD && !isValid(t.schema, null));
  return withSchema ? { event: withSchema.event, args: [null], counted: 1 } : null;
}

async function runSocket(s: FuzzServer, sp: Speakers, row: Row, t: { namespace: string }, cases: SocketCase[], barrier: ReturnType<typeof barrierOf>): Promise<void> {
  const before = await rejectedCount(s);
  const usedSockets = new Set<Who>();
  const judge = (c: SocketCase, o: SocketOutcome) => {
    row.cases++;
    const what = `${c.kind} as ${c.who}: ${short(c.args, 140)}`;
    if (o.kind === 'throw') {
      row.bad++;
      example(row, `${what} → the client could not send it (${o.message})`);
      return;
    }
    if (o.kind === 'ack') {
      if (isAckError(o.value)) {
        if (o.value.error.code === 'INTERNAL') {
          row.serverErrors++;
          example(row, `${what} → INTERNAL ${short(o.value.error.message, 80)}`);
        } else row.rejected++;
        return;
      }
      const hasData = !!o.value && typeof o.value === 'object' && 'data' in o.value;
      if (hasData && c.expect === 'any-ack') row.accepted++;
      else {
        row.bad++;
        example(row, `${what} → ${hasData ? 'accepted' : 'malformed ack'} ${short(o.value, 100)}`);
      }
      return;
    }
    if (o.kind === 'disconnect') {
      if (c.expect === 'disconnect') row.rejected++;
      else {
        row.bad++;
        example(row, `${what} → connection closed (${o.reason})`);
      }
      return;
    }
    if (o.kind === 'timeout' && c.expect === 'none') {
      row.rejected++; // fire-and-forget: whether the edge refused it is checked through the rejected counter below
      return;
    }
    if (o.kind === 'timeout') {
      row.bad++;
      example(row, `${what} → ${c.expect === 'disconnect' ? 'neither refused nor disconnected' : 'no ack'}`);
      return;
    }
    // sent without ack: whether the edge refused it is checked through the rejected counter below
    row.rejected++;
  };
  const normal = cases.filter((c) => c.expect !== 'disconnect');
  const byWho = new Map<Who, SocketCase[]>();
  for (const c of normal) byWho.set(c.who, [...(byWho.get(c.who) ?? []), c]);
  await Promise.all(
    [...byWho].map(async ([who, list]) => {
      usedSockets.add(who);
      await pool(list, 16, async (c) => {
        const sock = await sp.get(c.namespace, who);
        judge(c, await emitCase(sock, c, 4000));
      });
    }),
  );
  // one at a time: each closes its connection
  for (const c of cases.filter((x) => x.expect === 'disconnect')) {
    const sock = await sp.get(c.namespace, c.who);
    judge(c, await emitCase(sock, c, 4000));
  }
  let barrierCounted = 0;
  if (barrier) {
    for (const who of usedSockets) {
      const sock = await sp.get(t.namespace, who);
      const o = await emitCase(sock, { target: '', namespace: t.namespace, event: barrier.event, who, kind: 'invalid', args: barrier.args, ack: true, expect: 'any-ack', counted: false }, 5000);
      if (o.kind !== 'ack') example(row, `barrier ${barrier.event} on ${t.namespace} not answered (${o.kind})`);
      barrierCounted += barrier.counted;
    }
  }
  const after = await rejectedCount(s);
  const expected = cases.filter((c) => c.counted).length;
  const missing = expected - (after - before - barrierCounted);
  if (Number.isFinite(missing) && missing > 0) {
    row.bad += missing;
    example(row, `${missing} of ${expected} invalid payloads were not refused at the edge (kl_input_rejected_total did not count them)`);
  }
}

async function runHandshakes(s: FuzzServer, row: Row, cases: HandshakeCase[]): Promise<void> {
  await pool(cases, 8, async (c) => {
    row.cases++;
    let sock: Socket | null = null;
    try {
      sock = openSocket(s.url, c.namespace, c.auth);
      const o = await connectOutcome(sock);
      if (o.connected) {
        row.bad++;
        example(row, `auth ${short(c.auth, 120)} → connected (must be refused)`);
      } else if (o.reason === 'timeout') {
        row.bad++;
        example(row, `auth ${short(c.auth, 120)} → no answer`);
      } else row.rejected++;
    } catch (e) {
      // the client library refused to send it: nothing reached the server
      row.rejected++;
      example(row, `auth ${short(c.auth, 80)} → not sendable (${errText(e)})`);
    } finally {
      sock?.disconnect();
    }
  });
}

// ---------------------------------------------------------------- the run

/** The subject (username) behind a fuzz identity's token. */
function principalSub(s: FuzzServer, who: Who): string {
  return s.app.tokens.verify(s.tokens[who])?.sub ?? who;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const s = o.server ?? (await startFuzzServer({ seed: o.seed, redisUrl: o.redisUrl }));
  const sp = new Speakers(s);
  const problems: string[] = [];
  const notes: string[] = [];
  const rows: Row[] = [];
  try {
    await o.setup?.(s);
    // the events the server really listens to, per namespace (read from a connected socket's listeners)
    const handled: Record<string, string[]> = {};
    for (const [ns, who] of Object.entries(SPEAKERS)) {
      const client = await sp.get(ns, who[0]);
      const server = s.app.io.of(ns).sockets.get(client.id ?? '');
      handled[ns] = server ? server.eventNames().map(String) : [];
    }
    const declared = declaredEvents();
    const sockTargets = socketTargets(handled, declared);
    for (const t of sockTargets) {
      if (t.declared && !t.handled) problems.push(`${socketTarget(t)} is declared in protocol/events.ts but the server does not handle it`);
      if (!t.schema) notes.push(`${socketTarget(t)}: no schema in server/src/fuzz/targets.ts (fuzzed with generic payloads)`);
      if (!t.declared) notes.push(`${socketTarget(t)}: handled but not declared in protocol/events.ts`);
    }
    const namespaces = [...new Set([...declared.map((d) => d.namespace), ...Object.keys(handled)])];
    const handshakeNamespaces = [...namespaces, '/no-such-namespace'];
    const routes = s.app.routes;
    const match = (name: string) => !o.only || o.only.test(name);
    const targetCount =
      routes.filter((r) => match(routeTarget(r))).length +
      sockTargets.filter((t) => match(socketTarget(t))).length +
      namespaces.filter((n) => match(`${n} (unknown events)`)).length +
      handshakeNamespaces.filter((n) => match(`${n} (handshake)`)).length;
    const per = Math.max(o.minPerTarget ?? 10, Math.ceil(o.cases / Math.max(1, targetCount)));
    const restCtx = { tokens: s.tokens, expired: s.expired, bookings: s.bookings, vehicleIds: s.vehicleIds, hubIds: s.hubIds };
    const hsCtx = {
      tokens: s.tokens,
      expired: s.expired,
      vehicleIds: s.vehicleIds,
      minted: { unknownBus: s.app.tokens.issue('bus-999', 'vehicle', 600), unknownRole: s.app.tokens.issue('mallory', 'superuser' as never, 600) },
    };

    // baseline: once the set-up's consequences are through, the frozen server must stand still on its own
    const fuzzActors = new Set(['driver', 'dispatcher', 'admin'].map((w) => principalSub(s, w as Who)));
    let prev = await snapshot(s);
    let still = 0;
    let drift: string[] = [];
    for (const until = Date.now() + 20_000; still < 3 && Date.now() < until; ) {
      await sleep(400);
      const next = await snapshot(s);
      drift = compareSnapshots(prev, next, new Set()).changed;
      still = drift.length ? 0 : still + 1;
      prev = next;
    }
    if (still < 3) problems.push(`the state changes without input (baseline not stable): ${drift.join('; ')}`);

    let seed = o.seed;
    const runTarget = async (name: string, body: (row: Row) => Promise<void>) => {
      if (!match(name)) return;
      const row = newRow(name);
      rows.push(row);
      s.crashes.length = 0;
      try {
        await body(row);
      } catch (e) {
        row.bad++;
        example(row, `fuzzer error: ${errText(e)}`);
      }
      await sleep(100); // journal writes and socket handlers settle
      const health = await httpRaw(s.url, s.http, { method: 'GET', path: '/api/health', headers: {} });
      if ('error' in health || health.status !== 200) {
        row.crashes++;
        example(row, `server not healthy afterwards: ${'error' in health ? health.error : health.status}`);
      }
      for (const c of s.crashes.splice(0)) {
        row.crashes++;
        example(row, `${c.kind}: ${c.message}`);
      }
      const next = await snapshot(s);
      const cmp = compareSnapshots(prev, next, fuzzActors);
      row.storeChanged = cmp.changed;
      row.auditedRefusals = cmp.auditedRefusals;
      prev = next;
      log(`${name}: ${row.cases} cases, ${row.bad + row.serverErrors + row.crashes + row.storeChanged.length ? 'FAIL' : 'ok'}`);
    };

    for (const r of routes) {
      const name = routeTarget(r);
      await runTarget(name, (row) => runRest(s, row, restCases(r, restCtx, per, ++seed), o.concurrency ?? 8));
    }
    for (const t of sockTargets) {
      const name = socketTarget(t);
      const barrier = barrierOf(sockTargets, t.namespace);
      await runTarget(name, (row) => runSocket(s, sp, row, t, socketCases(t, { vehicleIds: s.vehicleIds, bookings: s.bookings }, per, ++seed), barrier));
    }
    for (const ns of namespaces) {
      const barrier = barrierOf(sockTargets, ns);
      await runTarget(`${ns} (unknown events)`, (row) => runSocket(s, sp, row, { namespace: ns }, unknownEventCases(ns, (handled[ns] ?? []).filter((e) => !RESERVED_EVENTS.has(e)), per, ++seed), barrier));
    }
    for (const ns of handshakeNamespaces) {
      await runTarget(`${ns} (handshake)`, (row) => runHandshakes(s, row, handshakeCases(ns, hsCtx, per, ++seed)));
    }
  } finally {
    sp.closeAll();
    if (!o.server) await s.close();
  }
  const totals = newRow('total');
  for (const r of rows) {
    totals.cases += r.cases;
    totals.accepted += r.accepted;
    totals.rejected += r.rejected;
    totals.serverErrors += r.serverErrors;
    totals.bad += r.bad;
    totals.crashes += r.crashes;
    totals.auditedRefusals += r.auditedRefusals;
    if (r.storeChanged.length) totals.storeChanged.push(r.target);
  }
  const ok = problems.length === 0 && totals.serverErrors === 0 && totals.bad === 0 && totals.crashes === 0 && totals.storeChanged.length === 0;
  return { rows, totals, problems, notes, seconds: (performance.now() - t0) / 1000, ok };
}

/** The report as a plain table, then every failing target's examples. */
export function formatReport(r: FuzzReport, seed: number): string {
  const head = ['target', 'cases', 'accepted', '4xx/refused', '5xx', 'bad', 'crashes', 'store changed', 'audited refusals'];
  const line = (x: Row) =>
    [x.target, x.cases, x.accepted, x.rejected, x.serverErrors, x.bad, x.crashes, x.target === 'total' ? x.storeChanged.length : x.storeChanged.length ? 'YES' : 'no', x.auditedRefusals].map(String);
  const table = [head, ...r.rows.map(line), line(r.totals)];
  const widths = head.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const fmt = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1, -1).map(fmt), widths.map((w) => '-'.repeat(w)).join('  '), fmt(table[table.length - 1])];
  out.push('', `seed ${seed}, ${r.totals.cases} cases in ${r.seconds.toFixed(1)} s: ${r.ok ? 'PASS' : 'FAIL'}`);
  out.push('accepted = 2xx / ack with data (only valid-looking reads); 4xx/refused = 4xx with a JSON error, ack {error}, refused handshake, over-limit frame closed, or counted fire-and-forget payload');
  out.push('audited refusals = well-formed but refused teleoperation requests the audit log recorded (it records every control event; nothing else may change)');
  for (const p of r.problems) out.push(`PROBLEM: ${p}`);
  for (const n of r.notes) out.push(`note: ${n}`);
  for (const row of r.rows) {
    if (!row.examples.length && !row.storeChanged.length) continue;
    const failing = row.bad + row.serverErrors + row.crashes + row.storeChanged.length > 0;
    out.push('', `${failing ? 'FAIL' : 'info'} ${row.target}`);
    for (const e of row.examples) out.push(`  - ${e}`);
    for (const d of row.storeChanged) out.push(`  - state: ${d}`);
  }
  return out.join('\n');
}
