import { createClient, type RedisClientType } from 'redis';
import type { DispatcherSnapshot } from '../dispatch/dispatcher.ts';
import { FencedError, type BookingRecord, type EventRecord, type PersistedState, type Store } from './types.ts';

export { FencedError };

const MAX_EVENTS = 1_000_000;

// KEYS: bookings, dispatcher, lease, events; ARGV: owner, snapshot or '', n, n × (id, booking), events …
const FENCED_COMMIT = `
if redis.call('get', KEYS[3]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then redis.call('set', KEYS[2], ARGV[2]) end
local n = tonumber(ARGV[3])
for i = 4, 3 + 2 * n, 2 do redis.call('hset', KEYS[1], ARGV[i], ARGV[i + 1]) end
for i = 4 + 2 * n, #ARGV do redis.call('xadd', KEYS[4], 'MAXLEN', '~', '${MAX_EVENTS}', '*', 'e', ARGV[i]) end
return 1`;

/**
 * Redis store (REDIS_URL): bookings in a hash, the dispatcher's snapshot in a string, both written in one
 * MULTI/EXEC so they never disagree; events in a stream (trimmed to ~1M entries). Durability is Redis's
 * (AOF in the compose file).
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  private lastError: string | null = null;
  private fence: { key: string; owner: string } | null = null;
  private constructor(
    readonly client: RedisClientType,
    private readonly prefix: string,
  ) {
    client.on('error', (e: Error) => {
      this.lastError = e.message;
    });
    client.on('ready', () => {
      this.lastError = null;
    });
  }

  static async connect(url: string, prefix = 'kl:'): Promise<RedisStore> {
    const client = createClient({ url, socket: { reconnectStrategy: (retries) => Math.min(retries * 100, 2000) } }) as RedisClientType;
    const store = new RedisStore(client, prefix);
    await client.connect();
    return store;
  }

  private k(name: string): string {
    return this.prefix + name;
  }

  async load(): Promise<PersistedState> {
    const [snap, all] = await Promise.all([this.client.get(this.k('dispatcher')), this.client.hGetAll(this.k('bookings'))]);
    return {
      dispatcher: snap ? (JSON.parse(snap) as DispatcherSnapshot) : null,
      bookings: Object.values(all).map((v) => JSON.parse(v) as BookingRecord),
    };
  }

  /**
   * Only the dispatcher lease's holder may write bookings and the dispatcher snapshot: with a fence set, the write
   * is one Lua script that first checks the lease, so a deposed leader (paused past its lease, cut off from
   * Redis) can never overwrite what its successor decided.
   */
  setFence(fence: { key: string; owner: string } | null): void {
    this.fence = fence;
  }

  async commit(change: { bookings: BookingRecord[]; dispatcher?: DispatcherSnapshot; events?: EventRecord[] }): Promise<void> {
    const events = change.events ?? [];
    if (this.fence) {
      const args = [this.fence.owner, change.dispatcher ? JSON.stringify(change.dispatcher) : '', String(change.bookings.length)];
      for (const b of change.bookings) args.push(b.id, JSON.stringify(b));
      for (const e of events) args.push(JSON.stringify(e));
      const r = await this.client.eval(FENCED_COMMIT, { keys: [this.k('bookings'), this.k('dispatcher'), this.fence.key, this.k('events')], arguments: args });
      if (r !== 1) throw new FencedError();
      return;
    }
    const m = this.client.multi();
    if (change.bookings.length) m.hSet(this.k('bookings'), Object.fromEntries(change.bookings.map((b) => [b.id, JSON.stringify(b)])));
    if (change.dispatcher) m.set(this.k('dispatcher'), JSON.stringify(change.dispatcher));
    for (const e of events) this.addEvent(m, e);
    await m.exec();
  }

  async appendEvents(events: EventRecord[]): Promise<void> {
    if (!events.length) return;
    const m = this.client.multi();
    for (const e of events) this.addEvent(m, e);
    await m.exec();
  }

  private addEvent(m: ReturnType<RedisClientType['multi']>, e: EventRecord): void {
    m.xAdd(this.k('events'), '*', { e: JSON.stringify(e) }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: MAX_EVENTS } });
  }

  async readEvents(f: { vehicleId?: string; from?: number; to?: number; limit?: number }): Promise<EventRecord[]> {
    // stream ids start with the server's ms clock, so a time range narrows the scan before filtering
    const start = f.from !== undefined ? String(Math.max(0, f.from - 60_000)) : '-';
    const end = f.to !== undefined ? String(f.to + 60_000) : '+';
    const entries = await this.client.xRange(this.k('events'), start, end, { COUNT: 200_000 });
    const out: EventRecord[] = [];
    for (const { message } of entries ?? []) {
      const e = JSON.parse(String(message.e)) as EventRecord;
      if (f.vehicleId && e.vehicleId !== f.vehicleId) continue;
      if (f.from !== undefined && e.t < f.from) continue;
      if (f.to !== undefined && e.t > f.to) continue;
      out.push(e);
    }
    return f.limit ? out.slice(-f.limit) : out;
  }

  async forgetRider(riderId: string): Promise<number> {
    const { bookings } = await this.load();
    const changed = bookings
      .filter((b) => b.riderId === riderId)
      .map((b) => ({ ...b, riderId: null, pickup: { lat: 0, lon: 0, ...(b.pickup.hubId ? { hubId: b.pickup.hubId } : {}) }, dropoff: { lat: 0, lon: 0, ...(b.dropoff.hubId ? { hubId: b.dropoff.hubId } : {}) } }));
    if (changed.length) await this.commit({ bookings: changed });
    return changed.length;
  }

  status() {
    return { ok: this.client.isReady && this.lastError === null, kind: this.kind, detail: this.lastError ?? 'connected' };
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.quit();
  }
}

/**
 * Leader lease: exactly one instance runs the dispatcher. The holder renews every ttl/3; the others try to take it
 * every `pollMs`, so a dead holder is replaced within ttl + pollMs. Compare-and-set scripts make sure nobody
 * renews or releases a lease it does not hold. A renewal that Redis does not answer within ttl/3 counts as lost:
 * an instance that cannot prove it holds the lease stops acting as leader (writes are fenced as well, see
 * RedisStore.setFence).
 */
export class RedisLease {
  private timer: NodeJS.Timeout | null = null;
  private held = false;
  private busy: Promise<boolean> | null = null;
  private stopped = false;
  constructor(
    private readonly client: RedisClientType,
    readonly key: string,
    readonly owner: string,
    private readonly ttlMs = 5000,
    private readonly onChange: (leader: boolean) => void = () => {},
    private readonly pollMs = Math.max(100, Math.min(250, Math.floor(ttlMs / 3))),
  ) {}

  get isLeader(): boolean {
    return this.held;
  }

  /** One attempt (renewal when held); concurrent calls share the attempt in flight. */
  tryAcquire(): Promise<boolean> {
    this.busy ??= this.attempt().finally(() => (this.busy = null));
    return this.busy;
  }

  private async attempt(): Promise<boolean> {
    let ok = false;
    try {
      // one script for taking and renewing: a take that reached Redis after our timeout (offline queue) is
      // recognised as ours on the next attempt instead of blocking everybody until it expires
      const op = this.client.eval(ACQUIRE, { keys: [this.key], arguments: [this.owner, String(this.ttlMs)] }).then((r) => r === 1);
      ok = await withTimeout(op, Math.max(100, Math.floor(this.ttlMs / 3)));
    } catch {
      ok = false; // Redis unreachable or slow: we cannot prove we hold the lease, so we do not
    }
    if (ok !== this.held) {
      this.held = ok;
      this.onChange(ok);
    }
    return ok;
  }

  start(): void {
    this.stopped = false;
    const loop = () => {
      void this.tryAcquire().finally(() => {
        if (this.stopped) return;
        this.timer = setTimeout(loop, this.held ? Math.max(100, Math.floor(this.ttlMs / 3)) : this.pollMs);
        this.timer.unref();
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.busy?.catch(() => {});
    if (this.held) {
      try {
        await withTimeout(this.client.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", { keys: [this.key], arguments: [this.owner] }), 1000);
      } catch {
        /* expiry frees it anyway */
      }
      this.held = false;
      this.onChange(false);
    }
  }
}

const ACQUIRE = `
local v = redis.call('get', KEYS[1])
if v == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) return 1 end
if v then return 0 end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
