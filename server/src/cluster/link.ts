import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { createClient, type RedisClientType } from 'redis';
import { z } from 'zod';
import { ApiError } from '../http/errors.ts';

/**
 * The instances' private line over Redis pub/sub (apart from the socket.io adapter's traffic):
 * - broadcast events to every instance (`cluster:events`): vehicle state replication, booking replication …;
 * - RPC to the dispatcher leader (`cluster:leader`, subscribed only while this instance leads) with idempotency
 *   keys: a follower retries the same key until a leader answers or the deadline passes, the leader runs a key
 *   once (in flight: joined; done: answered from `cluster:idem:<key>`, kept 10 min), so a request that outlives
 *   its leader (kill -9) is answered by the successor without being carried out twice;
 * - RPC to one named instance (`cluster:i:<id>`), e.g. teleoperation for a bus connected there.
 * Replies go to the caller's own instance channel. One publishing connection keeps the order of everything an
 * instance sends (a replicated booking arrives before the RPC reply that mentions it).
 * Everything received is parsed and checked (zod); a malformed message is dropped and counted, never thrown.
 */

const requestSchema = z.object({
  t: z.literal('req'),
  id: z.string().min(1).max(64),
  from: z.string().min(1).max(128),
  method: z.string().min(1).max(64),
  payload: z.unknown(),
  key: z.string().min(1).max(128).optional(),
  attempt: z.number().int().min(1).max(1000),
});
const errorBody = z.object({
  status: z.number().int().min(400).max(599),
  code: z.string().max(64),
  message: z.string().max(2000),
  details: z.unknown().optional(),
  extra: z.record(z.string(), z.unknown()).optional(),
});
const replySchema = z.discriminatedUnion('ok', [
  z.object({ t: z.literal('res'), id: z.string(), ok: z.literal(true), data: z.unknown() }),
  z.object({ t: z.literal('res'), id: z.string(), ok: z.literal(false), error: errorBody, retry: z.boolean().optional() }),
]);
const eventSchema = z.object({ t: z.literal('ev'), from: z.string().min(1).max(128), kind: z.string().min(1).max(32), body: z.unknown() });

type Request = z.infer<typeof requestSchema>;
type Reply = z.infer<typeof replySchema>;
type ReplyBody = { ok: true; data: unknown } | { ok: false; error: z.infer<typeof errorBody>; retry?: boolean };

export interface RpcMeta {
  from: string;
  key?: string;
  attempt: number;
}
export type RpcHandler = (payload: unknown, meta: RpcMeta) => unknown;

/** The leader cannot take this request now (lost its lease, still loading): the caller tries again. */
export class NotLeaderError extends Error {
  constructor(message = 'this instance does not lead the dispatcher') {
    super(message);
  }
}

const IDEM_TTL_S = 600;

export class ClusterLink {
  readonly pub: RedisClientType;
  readonly sub: RedisClientType;
  private readonly handlers = new Map<string, RpcHandler>();
  private readonly listeners: Array<(kind: string, body: unknown, from: string) => void> = [];
  private readonly waiting = new Map<string, (r: Reply) => void>();
  private readonly inflight = new Map<string, Promise<ReplyBody>>();
  private leaderOn = false;
  private leaderChange: Promise<void> = Promise.resolve();
  private closed = false;
  /** malformed messages dropped (peer input is validated like any other input) */
  dropped = 0;

  private constructor(
    url: string,
    private readonly prefix: string,
    readonly instanceId: string,
    private readonly log: Logger,
  ) {
    const reconnectStrategy = (retries: number) => Math.min(50 + retries * 100, 1000);
    this.pub = createClient({ url, socket: { reconnectStrategy } }) as RedisClientType;
    this.sub = this.pub.duplicate() as RedisClientType;
    for (const c of [this.pub, this.sub]) c.on('error', () => {}); // reconnects by itself; status via the store
  }

  static async connect(url: string, prefix: string, instanceId: string, log: Logger): Promise<ClusterLink> {
    const link = new ClusterLink(url, prefix, instanceId, log);
    await Promise.all([link.pub.connect(), link.sub.connect()]);
    await link.sub.subscribe(link.ch('events'), (m) => link.onMessage(m));
    await link.sub.subscribe(link.instanceChannel(instanceId), (m) => link.onMessage(m));
    return link;
  }

  private ch(name: string): string {
    return `${this.prefix}cluster:${name}`;
  }
  private instanceChannel(id: string): string {
    return this.ch(`i:${id}`);
  }

  /** Called after the subscriber connection came back (Redis restarted): what was sent meanwhile is lost. */
  onReconnect(fn: () => void): void {
    this.sub.on('ready', fn); // registered after the first connect: every 'ready' from here on is a reconnect
  }

  // ---------------------------------------------------------------- events

  broadcast(kind: string, body: unknown): void {
    if (this.closed) return;
    this.pub.publish(this.ch('events'), JSON.stringify({ t: 'ev', from: this.instanceId, kind, body })).catch(() => {
      /* Redis away: peers resynchronise when it is back (onReconnect) */
    });
  }

  onEvent(fn: (kind: string, body: unknown, from: string) => void): void {
    this.listeners.push(fn);
  }

  // ---------------------------------------------------------------- RPC

  serve(method: string, handler: RpcHandler): void {
    this.handlers.set(method, handler);
  }

  /** Start / stop answering the leader channel (only the dispatcher leader listens there). */
  setLeader(on: boolean): Promise<void> {
    this.leaderChange = this.leaderChange.then(async () => {
      if (on === this.leaderOn || this.closed) return;
      this.leaderOn = on;
      try {
        if (on) await this.sub.subscribe(this.ch('leader'), (m) => this.onMessage(m, true));
        else await this.sub.unsubscribe(this.ch('leader'));
      } catch (e) {
        this.log.warn({ err: e, on }, 'cluster: leader channel (un)subscribe failed');
      }
    });
    return this.leaderChange;
  }

  /**
   * Runs `method` on the dispatcher leader and returns its answer; an error answer is thrown as ApiError.
   * Retries (same idempotency key) while there is no leader, the leader does not answer within `attemptMs`, or
   * it answers "not leader"; gives up with 503 after `deadlineMs`.
   */
  async callLeader<T>(method: string, payload: unknown, o: { key?: string; deadlineMs?: number; attemptMs?: number } = {}): Promise<T> {
    const key = o.key ?? randomUUID();
    const deadline = Date.now() + (o.deadlineMs ?? 12_000);
    for (let attempt = 1; ; attempt++) {
      const left = deadline - Date.now();
      if (left <= 0) throw new ApiError(503, 'NO_LEADER', 'no dispatcher leader answered in time; try again');
      const r = await this.request(this.ch('leader'), method, payload, Math.min(o.attemptMs ?? 3000, left), key, attempt);
      if (r === 'nobody' || r === 'timeout' || (!r.ok && r.retry)) {
        if (r !== 'timeout') await sleep(Math.min(100, Math.max(0, deadline - Date.now())));
        continue;
      }
      return unwrap<T>(r);
    }
  }

  /** Runs `method` on one named instance (one attempt). */
  async callInstance<T>(instanceId: string, method: string, payload: unknown, timeoutMs = 2000): Promise<T> {
    const r = await this.request(this.instanceChannel(instanceId), method, payload, timeoutMs, undefined, 1);
    if (r === 'nobody') throw new ApiError(503, 'INSTANCE_GONE', `instance ${instanceId} is not reachable`);
    if (r === 'timeout') throw new ApiError(504, 'INSTANCE_TIMEOUT', `instance ${instanceId} did not answer within ${timeoutMs} ms`);
    return unwrap<T>(r);
  }

  private async request(channel: string, method: string, payload: unknown, ms: number, key: string | undefined, attempt: number): Promise<Reply | 'nobody' | 'timeout'> {
    const id = randomUUID();
    let timer: NodeJS.Timeout | undefined;
    const reply = new Promise<Reply | 'timeout'>((resolve) => {
      this.waiting.set(id, resolve);
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    try {
      const msg: Request = { t: 'req', id, from: this.instanceId, method, payload, attempt, ...(key ? { key } : {}) };
      let receivers: number;
      try {
        receivers = await this.pub.publish(channel, JSON.stringify(msg));
      } catch {
        return 'nobody'; // Redis away: same as nobody listening, the caller retries or gives up
      }
      if (receivers === 0) return 'nobody';
      return await reply;
    } finally {
      clearTimeout(timer);
      this.waiting.delete(id);
    }
  }

  private onMessage(raw: string, leaderChannel = false): void {
    let msg: unknown;
    try {
      msg = JSON.parse(raw);
    } catch {
      this.dropped++;
      return;
    }
    const t = (msg as { t?: unknown })?.t;
    if (t === 'ev') {
      const e = eventSchema.safeParse(msg);
      if (!e.success) return void this.dropped++;
      if (e.data.from === this.instanceId) return;
      for (const l of this.listeners) {
        try {
          l(e.data.kind, e.data.body, e.data.from);
        } catch (err) {
          this.log.warn({ err, kind: e.data.kind }, 'cluster: event handler failed');
        }
      }
    } else if (t === 'res') {
      const r = replySchema.safeParse(msg);
      if (!r.success) return void this.dropped++;
      this.waiting.get(r.data.id)?.(r.data);
    } else if (t === 'req') {
      const r = requestSchema.safeParse(msg);
      if (!r.success) return void this.dropped++;
      void this.answer(r.data, leaderChannel);
    } else this.dropped++;
  }

  private async answer(req: Request, leaderChannel: boolean): Promise<void> {
    let body: ReplyBody;
    if (leaderChannel && !this.leaderOn) body = { ok: false, error: { status: 503, code: 'NOT_LEADER', message: 'not the leader' }, retry: true };
    else if (req.key) body = await this.runKeyed(req);
    else body = await this.run(req);
    if (this.closed) return;
    await this.pub.publish(this.instanceChannel(req.from), JSON.stringify({ t: 'res', id: req.id, ...body })).catch(() => {
      /* the caller retries */
    });
  }

  /** A keyed request runs at most once per key: joined while in flight, answered from Redis once done. */
  private runKeyed(req: Request): Promise<ReplyBody> {
    const key = req.key!;
    let p = this.inflight.get(key);
    if (!p) {
      p = (async () => {
        const idem = this.ch(`idem:${key}`);
        const done = await this.pub.get(idem).catch(() => null);
        if (done) return JSON.parse(done) as ReplyBody;
        const body = await this.run(req);
        if (!(!body.ok && body.retry)) await this.pub.set(idem, JSON.stringify(body), { expiration: { type: 'EX', value: IDEM_TTL_S } }).catch(() => {});
        return body;
      })().finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  private async run(req: Request): Promise<ReplyBody> {
    const h = this.handlers.get(req.method);
    if (!h) return { ok: false, error: { status: 501, code: 'NO_SUCH_METHOD', message: `no cluster method ${req.method}` } };
    try {
      return { ok: true, data: await h(req.payload, { from: req.from, attempt: req.attempt, ...(req.key ? { key: req.key } : {}) }) };
    } catch (e) {
      if (e instanceof NotLeaderError) return { ok: false, error: { status: 503, code: 'NOT_LEADER', message: e.message }, retry: true };
      if (e instanceof ApiError) {
        return { ok: false, error: { status: e.status, code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}), ...(e.extra ? { extra: e.extra } : {}) } };
      }
      this.log.error({ err: e, method: req.method }, 'cluster: request failed');
      return { ok: false, error: { status: 500, code: 'INTERNAL', message: 'internal error' } };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of this.waiting.values()) w({ t: 'res', id: '', ok: false, error: { status: 503, code: 'SHUTTING_DOWN', message: 'instance shutting down' } });
    await Promise.all([this.sub, this.pub].map((c) => (c.isOpen ? c.quit().catch(() => c.destroy()) : undefined)));
  }
}

/**
 * The socket.io Redis adapter publishes without handling the promise: a publish in flight when Redis goes away
 * would be an unhandled rejection and end the process. Broadcasts lost while Redis is away are lost anyway
 * (the instances resynchronise, ClusterNode), so the adapter's publishing client swallows them.
 */
export function withQuietPublish<C extends { publish: (...a: never[]) => Promise<unknown> }>(client: C): C {
  const publish = client.publish.bind(client) as (...a: unknown[]) => Promise<unknown>;
  Object.assign(client, { publish: (...a: unknown[]) => publish(...a).catch(() => 0) });
  return client;
}

function unwrap<T>(r: Reply): T {
  if (r.ok) return r.data as T;
  throw new ApiError(r.error.status, r.error.code, r.error.message, r.error.details, r.error.extra);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
