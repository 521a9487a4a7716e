import { createClient, type RedisClientType } from 'redis';
import type { DispatcherSnapshot } from '../dispatch/dispatcher.ts';
import type { BookingRecord, EventRecord, PersistedState, Store } from './types.ts';

/**
 * Redis store (REDIS_URL): bookings in a hash, the dispatcher's snapshot in a string, both written in one
 * MULTI/EXEC so they never disagree; events in a stream (trimmed to ~1M entries). Durability is Redis's
 * (AOF in the compose file).
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  private lastError: string | null = null;
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

  async commit(change: { bookings: BookingRecord[]; dispatcher?: DispatcherSnapshot }): Promise<void> {
    const m = this.client.multi();
    if (change.bookings.length) m.hSet(this.k('bookings'), Object.fromEntries(change.bookings.map((b) => [b.id, JSON.stringify(b)])));
    if (change.dispatcher) m.set(this.k('dispatcher'), JSON.stringify(change.dispatcher));
    await m.exec();
  }

  async appendEvents(events: EventRecord[]): Promise<void> {
    if (!events.length) return;
    const m = this.client.multi();
    for (const e of events) m.xAdd(this.k('events'), '*', { e: JSON.stringify(e) }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: 1_000_000 } });
    await m.exec();
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
 * Leader lease: exactly one instance runs the dispatcher. The holder renews every ttl/3; compare-and-set scripts
 * make sure nobody renews or releases a lease it does not hold.
 */
export class RedisLease {
  private timer: NodeJS.Timeout | null = null;
  private held = false;
  constructor(
    private readonly client: RedisClientType,
    private readonly key: string,
    private readonly owner: string,
    private readonly ttlMs = 5000,
    private readonly onChange: (leader: boolean) => void = () => {},
  ) {}

  get isLeader(): boolean {
    return this.held;
  }

  async tryAcquire(): Promise<boolean> {
    let ok = false;
    try {
      if (this.held) {
        const r = await this.client.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end", {
          keys: [this.key],
          arguments: [this.owner, String(this.ttlMs)],
        });
        ok = r === 1;
      } else {
        ok = (await this.client.set(this.key, this.owner, { condition: 'NX', expiration: { type: 'PX', value: this.ttlMs } })) === 'OK';
      }
    } catch {
      ok = false; // Redis unreachable: we cannot prove we hold the lease, so we do not
    }
    if (ok !== this.held) {
      this.held = ok;
      this.onChange(ok);
    }
    return ok;
  }

  start(): void {
    void this.tryAcquire();
    this.timer = setInterval(() => void this.tryAcquire(), Math.max(200, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.held) {
      try {
        await this.client.eval("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end", { keys: [this.key], arguments: [this.owner] });
      } catch {
        /* expiry frees it anyway */
      }
      this.held = false;
      this.onChange(false);
    }
  }
}
