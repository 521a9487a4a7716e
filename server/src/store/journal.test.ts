import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DispatcherSnapshot } from '../dispatch/dispatcher.ts';
import { JournalStore } from './journal.ts';
import type { BookingRecord } from './types.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function dir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'kl-journal-'));
  dirs.push(d);
  return d;
}

const record = (id: string, status: string): BookingRecord =>
  ({ id, riderId: 'r', status, createdAt: 1, updatedAt: 1, pickup: { lat: 49.4, lon: 7.7 }, dropoff: { lat: 49.43, lon: 7.75 }, passengers: 1, wheelchairs: 0, bookedBy: 'rider' }) as BookingRecord;
const snapshot = (bookings: number, x: number): DispatcherSnapshot =>
  ({
    version: 1,
    idSeq: bookings,
    eventSeq: bookings,
    lastReoptimiseAt: 0,
    roster: [],
    vehicles: [{ state: { id: 'bus-1', x }, stops: [], onboard: [], reservedDriverId: null, task: null }],
    bookings: Array.from({ length: bookings }, (_, i) => ({ id: `b${i}`, status: 'confirmed' })),
    demand: [{ time: 5, hubId: 'tuk' }],
  }) as unknown as DispatcherSnapshot;

describe('embedded journal', () => {
  it('writes the dispatcher as deltas and restores the last state after a restart', async () => {
    const d = await dir();
    const a = new JournalStore(d);
    await a.load();
    for (let n = 1; n <= 30; n++) await a.commit({ bookings: [record(`b${n - 1}`, 'confirmed')], dispatcher: snapshot(n, n % 3) });
    const text = await readFile(join(d, 'journal.ndjson'), 'utf8');
    const last = text.trim().split('\n').at(-1)!;
    expect(JSON.parse(last).dispatcherDelta.bookings).toEqual([{ id: 'b29', status: 'confirmed' }]); // only the new one
    await a.close();
    const b = new JournalStore(d);
    const state = await b.load();
    expect(state.dispatcher).toEqual(JSON.parse(JSON.stringify(snapshot(30, 0))));
    expect(state.bookings).toHaveLength(30);
    await b.close();
  });

  it('events beyond the memory tail are read from the audit file, with the same filters and limit', async () => {
    const d = await dir();
    const a = new JournalStore(d, 10);
    await a.load();
    for (let t = 1; t <= 100; t++) await a.appendEvents([{ t, type: 'teleop.command', vehicleId: t % 2 ? 'bus-1' : 'bus-2' }]);
    const all = await a.readEvents({});
    expect(all.map((e) => e.t)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect((await a.readEvents({ vehicleId: 'bus-2', from: 10, to: 20 })).map((e) => e.t)).toEqual([10, 12, 14, 16, 18, 20]);
    expect((await a.readEvents({ vehicleId: 'bus-1', limit: 3 })).map((e) => e.t)).toEqual([95, 97, 99]);
    expect((await a.readEvents({ from: 95 })).map((e) => e.t)).toEqual([95, 96, 97, 98, 99, 100]); // from memory
    await a.close();
    const b = new JournalStore(d, 10);
    await b.load();
    expect(await b.readEvents({})).toHaveLength(100);
    await b.close();
  });
});
