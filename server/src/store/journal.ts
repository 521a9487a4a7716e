import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { DispatcherSnapshot } from '../dispatch/dispatcher.ts';
import { DispatcherDeltaWriter, DispatcherReplay, type DispatcherDelta } from './dispatcher-delta.ts';
import type { BookingRecord, EventRecord, PersistedState, Store } from './types.ts';

/** a compaction (the whole state in one line, written to a new file) replaces every this many lines */
const COMPACT_EVERY_LINES = 2000;

/**
 * Embedded store: state in memory, every commit appended to `DATA_DIR/journal.ndjson` and fsync'd before the
 * caller hears "ok". A line holds the changed booking records and what changed in the dispatcher's state (a delta,
 * dispatcher-delta.ts); a compaction writes everything as one line. At start the journal is replayed (a torn last
 * line from a crash is ignored) and compacted, so it never grows without bound across restarts. Events go to
 * `events.ndjson`.
 */
export class JournalStore implements Store {
  readonly kind = 'memory' as const;
  /**
   * Every booking record as the JSON text last written: a commit serialises the records it changes once, for its
   * line and for here, and a compaction joins these texts instead of serialising every record ever kept again (a
   * task that grew with the service's age, every few minutes). Also a copy the caller cannot change afterwards.
   */
  private bookings = new Map<string, string>();
  /** what of the dispatcher's state is in the journal: the next line holds only what changed */
  private readonly written = new DispatcherDeltaWriter();
  private events: EventRecord[] = [];
  private journal: FileHandle | null = null;
  private eventsFile: FileHandle | null = null;
  private queue: Promise<void> = Promise.resolve();
  private linesSinceCompact = 0;
  private lastError: string | null = null;

  /** false once events were dropped from memory: older ones are then read from the file */
  private eventsComplete = true;

  constructor(private readonly dir: string, private readonly maxEventsInMemory = 10_000) {}

  async load(): Promise<PersistedState> {
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, 'journal.ndjson');
    let text = '';
    const replay = new DispatcherReplay();
    try {
      text = await readFile(path, 'utf8');
    } catch {
      /* first start */
    }
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let entry: { bookings?: BookingRecord[]; dispatcher?: DispatcherSnapshot | null; dispatcherDelta?: DispatcherDelta };
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // a line torn by a crash mid-write: everything before it is intact
      }
      for (const b of entry.bookings ?? []) this.bookings.set(b.id, JSON.stringify(b));
      if (entry.dispatcher) replay.whole(entry.dispatcher);
      if (entry.dispatcherDelta) replay.delta(entry.dispatcherDelta);
    }
    const dispatcher = replay.snapshot();
    if (dispatcher) this.written.delta(dispatcher); // the compaction below writes it; later lines are deltas from it
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
      if (this.events.length > this.maxEventsInMemory) {
        this.events = this.events.slice(-this.maxEventsInMemory);
        this.eventsComplete = false;
      }
    } catch {
      /* none yet */
    }
    await this.compact();
    this.eventsFile = await open(join(this.dir, 'events.ndjson'), 'a');
    return { dispatcher, bookings: this.records() };
  }

  private records(): BookingRecord[] {
    return [...this.bookings.values()].map((j) => JSON.parse(j) as BookingRecord);
  }

  /** The whole state as one journal line, as of now (records, and the dispatcher as last written). */
  private wholeLine(): string {
    return `{"bookings":[${[...this.bookings.values()].join(',')}],"dispatcher":${this.written.full() ?? 'null'}}\n`;
  }

  /** Rewrites the journal as one line with the current state (write to a temp file, fsync, rename). */
  private compact(): Promise<void> {
    return this.replaceJournal(this.wholeLine());
  }

  private async replaceJournal(line: string): Promise<void> {
    const path = join(this.dir, 'journal.ndjson');
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w');
    await fh.writeFile(line);
    await fh.sync();
    await fh.close();
    await this.journal?.close();
    await rename(tmp, path);
    this.journal = await open(path, 'a');
  }

  commit(change: { bookings: BookingRecord[]; dispatcher?: DispatcherSnapshot; events?: EventRecord[] }): Promise<void> {
    const { events, bookings, dispatcher } = change;
    const texts = bookings.map((b) => JSON.stringify(b));
    bookings.forEach((b, i) => this.bookings.set(b.id, texts[i]));
    // Serialised here, at once: the snapshot is a view of the live dispatcher (Dispatcher.toJSON), not a copy. A
    // compaction's content is also taken now, so the lines queued before it and the deltas after it fit around it.
    const delta = dispatcher ? this.written.delta(dispatcher) : null;
    const compacting = ++this.linesSinceCompact >= COMPACT_EVERY_LINES;
    if (compacting) this.linesSinceCompact = 0;
    const line = compacting ? this.wholeLine() : `{"bookings":[${texts.join(',')}]${delta ? `,"dispatcherDelta":${delta}` : ''}}\n`;
    const job = this.queue.then(async () => {
      if (!this.journal) throw new Error('journal not open');
      if (compacting) return this.replaceJournal(line);
      await this.journal.write(line);
      await this.journal.datasync();
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
    if (this.events.length > this.maxEventsInMemory * 1.2) {
      this.events = this.events.slice(-this.maxEventsInMemory);
      this.eventsComplete = false;
    }
    const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const job = this.queue.then(async () => {
      await this.eventsFile?.write(text);
    });
    this.queue = job.catch((e) => {
      this.lastError = (e as Error).message;
    });
    return job;
  }

  /**
   * The recent events come from memory; a query reaching further back (or without a start) reads `events.ndjson`,
   * the audit log itself, line by line. Memory holds a bounded tail only: an always-on service writes tens of events
   * a second, and keeping them all would grow the process without end.
   */
  async readEvents(f: { vehicleId?: string; from?: number; to?: number; limit?: number }): Promise<EventRecord[]> {
    const match = (e: EventRecord) => !((f.vehicleId && e.vehicleId !== f.vehicleId) || (f.from !== undefined && e.t < f.from) || (f.to !== undefined && e.t > f.to));
    const keep = (out: EventRecord[], e: EventRecord) => {
      out.push(e);
      if (f.limit && out.length >= 2 * f.limit) out.splice(0, out.length - f.limit);
    };
    const out: EventRecord[] = [];
    const covered = this.eventsComplete || (f.from !== undefined && this.events.length > 0 && f.from >= this.events[0].t);
    if (covered) {
      for (const e of this.events) if (match(e)) keep(out, e);
    } else {
      await this.queue; // what was appended is in the file
      const lines = createInterface({ input: createReadStream(join(this.dir, 'events.ndjson'), 'utf8'), crlfDelay: Infinity });
      for await (const line of lines) {
        if (!line.trim()) continue;
        let e: EventRecord;
        try {
          e = JSON.parse(line) as EventRecord;
        } catch {
          continue; // torn by a crash
        }
        if (match(e)) keep(out, e);
      }
    }
    return f.limit ? out.slice(-f.limit) : out;
  }

  async forgetRider(riderId: string): Promise<number> {
    const changed: BookingRecord[] = [];
    for (const b of this.records()) {
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
