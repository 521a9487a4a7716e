import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { DispatcherSnapshot } from '../dispatch/dispatcher.ts';
import type { BookingRecord, EventRecord, PersistedState, Store } from './types.ts';

/**
 * Embedded store: state in memory, every commit appended to `DATA_DIR/journal.ndjson` and fsync'd before the
 * caller hears "ok". At start the journal is replayed (a torn last line from a crash is ignored) and compacted
 * into one line, so it never grows without bound across restarts. Events go to `events.ndjson`.
 */
export class JournalStore implements Store {
  readonly kind = 'memory' as const;
  private bookings = new Map<string, BookingRecord>();
  private dispatcher: DispatcherSnapshot | null = null;
  private events: EventRecord[] = [];
  private journal: FileHandle | null = null;
  private eventsFile: FileHandle | null = null;
  private queue: Promise<void> = Promise.resolve();
  private linesSinceCompact = 0;
  private lastError: string | null = null;

  constructor(private readonly dir: string, private readonly maxEventsInMemory = 200_000) {}

  async load(): Promise<PersistedState> {
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, 'journal.ndjson');
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch {
      /* first start */
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let entry: { bookings?: BookingRecord[]; dispatcher?: DispatcherSnapshot };
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a line torn by a crash mid-write: everything before it is intact
      }
      for (const b of entry.bookings ?? []) this.bookings.set(b.id, b);
      if (entry.dispatcher) this.dispatcher = entry.dispatcher;
    }
    try {
      const ev = await readFile(join(this.dir, 'events.ndjson'), 'utf8');
      for (const line of ev.split('\n')) {
        if (!line.trim()) continue;
        try {
          this.events.push(JSON.parse(line));
        } catch {
          /* torn line */
        }
      }
      if (this.events.length > this.maxEventsInMemory) this.events = this.events.slice(-this.maxEventsInMemory);
    } catch {
      /* none yet */
    }
    await this.compact();
    this.eventsFile = await open(join(this.dir, 'events.ndjson'), 'a');
    return { dispatcher: this.dispatcher, bookings: [...this.bookings.values()] };
  }

  /** Rewrites the journal as one line with the current state (write to a temp file, fsync, rename). */
  private async compact(): Promise<void> {
    const path = join(this.dir, 'journal.ndjson');
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w');
    await fh.writeFile(`${JSON.stringify({ bookings: [...this.bookings.values()], dispatcher: this.dispatcher })}\n`);
    await fh.sync();
    await fh.close();
    await this.journal?.close();
    await rename(tmp, path);
    this.journal = await open(path, 'a');
    this.linesSinceCompact = 0;
  }

  commit(change: { bookings: BookingRecord[]; dispatcher?: DispatcherSnapshot; events?: EventRecord[] }): Promise<void> {
    const { events, ...state } = change;
    for (const b of state.bookings) this.bookings.set(b.id, structuredClone(b));
    if (state.dispatcher) this.dispatcher = state.dispatcher;
    const line = `${JSON.stringify(state)}\n`;
    const job = this.queue.then(async () => {
      if (!this.journal) throw new Error('journal not open');
      await this.journal.write(line);
      await this.journal.datasync();
      if (++this.linesSinceCompact >= 2000) await this.compact();
    });
    this.queue = job.catch((e) => {
      this.lastError = (e as Error).message;
    });
    // the change's audit records go to their own file, queued right behind its journal line
    if (events?.length) void this.appendEvents(events).catch(() => {});
    return job;
  }

  appendEvents(events: EventRecord[]): Promise<void> {
    if (!events.length) return Promise.resolve();
    this.events.push(...events);
    if (this.events.length > this.maxEventsInMemory * 1.2) this.events = this.events.slice(-this.maxEventsInMemory);
    const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const job = this.queue.then(async () => {
      await this.eventsFile?.write(text);
    });
    this.queue = job.catch((e) => {
      this.lastError = (e as Error).message;
    });
    return job;
  }

  async readEvents(f: { vehicleId?: string; from?: number; to?: number; limit?: number }): Promise<EventRecord[]> {
    const out: EventRecord[] = [];
    for (const e of this.events) {
      if (f.vehicleId && e.vehicleId !== f.vehicleId) continue;
      if (f.from !== undefined && e.t < f.from) continue;
      if (f.to !== undefined && e.t > f.to) continue;
      out.push(e);
    }
    return f.limit ? out.slice(-f.limit) : out;
  }

  async forgetRider(riderId: string): Promise<number> {
    const changed: BookingRecord[] = [];
    for (const b of this.bookings.values()) {
      if (b.riderId !== riderId) continue;
      changed.push({ ...b, riderId: null, pickup: { lat: 0, lon: 0, ...(b.pickup.hubId ? { hubId: b.pickup.hubId } : {}) }, dropoff: { lat: 0, lon: 0, ...(b.dropoff.hubId ? { hubId: b.dropoff.hubId } : {}) } });
    }
    if (changed.length) await this.commit({ bookings: changed });
    // the compacted journal holds only the anonymised records from now on
    await this.queue.then(() => this.compact());
    return changed.length;
  }

  status() {
    return { ok: this.lastError === null && this.journal !== null, kind: this.kind, detail: this.lastError ?? join(this.dir, 'journal.ndjson') };
  }

  async close(): Promise<void> {
    await this.queue;
    await this.journal?.close();
    await this.eventsFile?.close();
    this.journal = null;
    this.eventsFile = null;
  }
}
