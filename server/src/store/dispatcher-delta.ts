import type { DispatcherSnapshot } from '../dispatch/dispatcher.ts';
import { sameValue } from '../protocol/fleet-delta.ts';

type VehicleEntry = DispatcherSnapshot['vehicles'][number];
type BookingEntry = DispatcherSnapshot['bookings'][number];
type DemandEntry = DispatcherSnapshot['demand'][number];

/**
 * The fields of a dispatcher Booking that change after it is made; every other field is `readonly`. The check
 * below fails to compile when a writable field is added to Booking without being named here (the delta writer
 * would then miss its changes).
 */
type BookingMutableKey = 'status' | 'vehicleId' | 'offerExpiresAt' | 'pickedUpAt' | 'droppedOffAt' | 'arrivedAt';
type IfEquals<X, Y, A, B> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? A : B;
type WritableKeys<T> = { [K in keyof T]-?: IfEquals<{ [Q in K]: T[K] }, { -readonly [Q in K]: T[K] }, K, never> }[keyof T];
const allMutableNamed: Exclude<WritableKeys<BookingEntry>, BookingMutableKey> extends never ? true : false = true;
void allMutableNamed;
type Fingerprint = Pick<BookingEntry, BookingMutableKey>;
const fingerprint = (b: BookingEntry): Fingerprint => ({ status: b.status, vehicleId: b.vehicleId, offerExpiresAt: b.offerExpiresAt, pickedUpAt: b.pickedUpAt, droppedOffAt: b.droppedOffAt, arrivedAt: b.arrivedAt });
// compared field by field, allocation-free: this runs over every live booking on every commit (several a second)
const sameFingerprint = (f: Fingerprint, b: BookingEntry): boolean =>
  f.status === b.status && f.vehicleId === b.vehicleId && f.offerExpiresAt === b.offerExpiresAt && f.pickedUpAt === b.pickedUpAt && f.droppedOffAt === b.droppedOffAt && f.arrivedAt === b.arrivedAt;

/** One journal line's dispatcher part: what changed since the line before (everything, in the first one). */
export interface DispatcherDelta {
  idSeq: number;
  eventSeq: number;
  lastReoptimiseAt: number;
  roster?: DispatcherSnapshot['roster'];
  /** buses whose record changed, whole */
  vehicles: VehicleEntry[];
  /** bookings that are new or changed, whole */
  bookings: BookingEntry[];
  /** bookings the dispatcher forgot (finished long ago) */
  forgotten: string[];
  /** demand: entries before this time are gone (null: none left); the entries from the tail's first time on are
   *  the tail (idempotent: a line applied twice, or after a compaction that already holds it, changes nothing) */
  demandFrom: number | null;
  demandTail: DemandEntry[];
}

/**
 * The dispatcher's state is written to the journal with every change, but most of it does not change between two
 * changes: hundreds of plans and bookings for one new offer. This remembers what was written (as JSON text per bus
 * and per booking) and turns the next snapshot into the parts that differ, so a journal line is kilobytes, not
 * megabytes, and no megabyte string is built (and collected) several times a second. Replaying the lines in order
 * (`DispatcherReplay`) gives the last snapshot again.
 */
export class DispatcherDeltaWriter {
  private roster = '';
  /** per bus: its parts as last serialised (compared by identity), each part's JSON, and the whole JSON */
  private readonly vehicles = new Map<string, { parts: VehicleEntry; partJson: Map<string, string>; json: string }>();
  /** per booking: the object last serialised, its mutable fields then, and that JSON */
  private readonly bookings = new Map<string, { obj: BookingEntry; fp: Fingerprint; json: string }>();
  /** newest demand time at the last write, and how many entries had that time */
  private demandWritten: { time: number; n: number } | null = null;
  private last: DispatcherSnapshot | null = null;

  /** JSON text of the delta from what was written to `s`; `s` counts as written afterwards. */
  delta(s: DispatcherSnapshot): string {
    this.last = s;
    const vehicles: string[] = [];
    const seenV = new Set<string>();
    for (const v of s.vehicles) {
      const id = v.state.id;
      seenV.add(id);
      // The dispatcher replaces a bus's state, stops, onboard list and task, never changes them in place: the same
      // objects mean the same bus (the dispatcher's property test checks the journal against full snapshots).
      const w = this.vehicles.get(id);
      if (w && sameValue(w.parts, v)) continue;
      // a moving bus changes its state (position) often and its plan seldom: only the parts that changed are
      // serialised again (a plan of a dozen stops is kilobytes, written for every bus that moved, on every commit)
      const partJson = new Map<string, string>();
      const fields: string[] = [];
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) continue;
        const j = w && w.parts[k as keyof VehicleEntry] === x ? w.partJson.get(k)! : JSON.stringify(x);
        partJson.set(k, j);
        fields.push(`${JSON.stringify(k)}:${j}`);
      }
      const json = `{${fields.join(',')}}`;
      this.vehicles.set(id, { parts: { ...v }, partJson, json });
      if (w?.json !== json) vehicles.push(json);
    }
    for (const id of this.vehicles.keys()) if (!seenV.has(id)) this.vehicles.delete(id); // buses are never removed; kept exact anyway
    const bookings: string[] = [];
    const seenB = new Set<string>();
    for (const b of s.bookings) {
      seenB.add(b.id);
      // the same object with the same mutable fields cannot have changed (the rest of a Booking is readonly, see
      // BookingMutableKey): no need to serialise the thousand unchanged bookings again for every new one
      const w = this.bookings.get(b.id);
      if (w && w.obj === b && sameFingerprint(w.fp, b)) continue;
      const json = JSON.stringify(b);
      this.bookings.set(b.id, { obj: b, fp: fingerprint(b), json });
      if (w?.json !== json) bookings.push(json);
    }
    const forgotten: string[] = [];
    for (const id of this.bookings.keys()) {
      if (seenB.has(id)) continue;
      this.bookings.delete(id);
      forgotten.push(id);
    }
    const roster = JSON.stringify(s.roster);
    const rosterPart = roster === this.roster ? '' : `,"roster":${roster}`;
    this.roster = roster;
    const { from, tail } = this.demandDelta(s.demand);
    return `{"idSeq":${s.idSeq},"eventSeq":${s.eventSeq},"lastReoptimiseAt":${JSON.stringify(s.lastReoptimiseAt)}${rosterPart},"vehicles":[${vehicles.join(',')}],"bookings":[${bookings.join(',')}],"forgotten":${JSON.stringify(forgotten)},"demandFrom":${JSON.stringify(from)},"demandTail":${JSON.stringify(tail)}}`;
  }

  /** The whole state as last written, as one snapshot's JSON text (null before anything was written). */
  full(): string | null {
    const s = this.last;
    if (!s) return null;
    const json = (m: Map<string, { json: string }>) => [...m.values()].map((w) => w.json).join(',');
    return `{"version":1,"idSeq":${s.idSeq},"eventSeq":${s.eventSeq},"lastReoptimiseAt":${JSON.stringify(s.lastReoptimiseAt)},"roster":${this.roster || '[]'},"vehicles":[${json(this.vehicles)}],"bookings":[${json(this.bookings)}],"demand":${JSON.stringify(s.demand)}}`;
  }

  /**
   * Demand entries are appended in time order and trimmed from the front: send the cut, and the entries from the
   * time of the first new one on (those at that very time were partly written already: all of them again).
   */
  private demandDelta(demand: readonly DemandEntry[]): { from: number | null; tail: DemandEntry[] } {
    const w = this.demandWritten;
    let firstNew: number | null = demand.length ? demand[0].time : null;
    if (w) {
      let i = demand.length - 1;
      while (i >= 0 && demand[i].time > w.time) i--; // newer than anything written: new
      let atW = 0;
      for (let j = i; j >= 0 && demand[j].time === w.time; j--) atW++;
      firstNew = atW > w.n ? w.time : i < demand.length - 1 ? demand[i + 1].time : null;
    }
    const last = demand.at(-1);
    let n = 0;
    for (let j = demand.length - 1; last && j >= 0 && demand[j].time === last.time; j--) n++;
    this.demandWritten = last ? { time: last.time, n } : null;
    let start = demand.length;
    if (firstNew !== null) {
      start = 0;
      while (start < demand.length && demand[start].time < firstNew) start++;
    }
    return { from: demand.length ? demand[0].time : null, tail: demand.slice(start) };
  }
}

/** Rebuilds the dispatcher snapshot from journal lines: whole snapshots and deltas, in the order written. */
export class DispatcherReplay {
  private base: Omit<DispatcherSnapshot, 'vehicles' | 'bookings' | 'demand'> | null = null;
  private vehicles = new Map<string, VehicleEntry>();
  private bookings = new Map<string, BookingEntry>();
  private demand: DemandEntry[] = [];

  whole(s: DispatcherSnapshot): void {
    const { vehicles, bookings, demand, ...base } = s;
    this.base = base;
    this.vehicles = new Map(vehicles.map((v) => [v.state.id, v]));
    this.bookings = new Map(bookings.map((b) => [b.id, b]));
    this.demand = [...demand];
  }

  delta(d: DispatcherDelta): void {
    this.base = { version: 1, roster: d.roster ?? this.base?.roster ?? [], idSeq: d.idSeq, eventSeq: d.eventSeq, lastReoptimiseAt: d.lastReoptimiseAt };
    for (const v of d.vehicles) this.vehicles.set(v.state.id, v);
    for (const b of d.bookings) this.bookings.set(b.id, b);
    for (const id of d.forgotten) this.bookings.delete(id);
    const from = d.demandFrom, tailFrom = d.demandTail[0]?.time ?? Infinity;
    this.demand = from === null ? [] : this.demand.filter((x) => x.time >= from && x.time < tailFrom);
    this.demand.push(...d.demandTail);
  }

  snapshot(): DispatcherSnapshot | null {
    return this.base ? { ...this.base, vehicles: [...this.vehicles.values()], bookings: [...this.bookings.values()], demand: this.demand } : null;
  }
}
