import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DispatcherSnapshot } from '../dispatch/dispatcher.ts';
import { DispatcherDeltaWriter, DispatcherReplay, type DispatcherDelta } from './dispatcher-delta.ts';

// Hand-built snapshots: the writer and the replay only look at ids, JSON text and demand times.
type Op =
  | { k: 'bus'; id: number; x: number }
  | { k: 'book'; id: number; status: string }
  | { k: 'forget'; id: number }
  | { k: 'demand'; dt: number; hub: string }
  | { k: 'trim'; n: number }
  | { k: 'roster'; n: number }
  | { k: 'commit' }
  | { k: 'compact' }
  | { k: 'again' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('bus' as const), id: fc.integer({ min: 0, max: 3 }), x: fc.integer({ min: 0, max: 5 }) }),
  fc.record({ k: fc.constant('book' as const), id: fc.integer({ min: 0, max: 8 }), status: fc.constantFrom('offered', 'confirmed', 'completed') }),
  fc.record({ k: fc.constant('forget' as const), id: fc.integer({ min: 0, max: 8 }) }),
  fc.record({ k: fc.constant('demand' as const), dt: fc.integer({ min: 0, max: 2 }), hub: fc.constantFrom('tuk', 'pfaff') }),
  fc.record({ k: fc.constant('trim' as const), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ k: fc.constant('roster' as const), n: fc.integer({ min: 0, max: 2 }) }),
  fc.constant({ k: 'commit' as const }),
  fc.constant({ k: 'compact' as const }),
  fc.constant({ k: 'again' as const }),
);

describe('dispatcher journal deltas', () => {
  it('replaying whole lines and deltas in order gives the last snapshot, also when a line is applied again after a compaction that holds it', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const buses = new Map<string, { x: number }>();
        // the same booking objects, changed in place, as the dispatcher does
        const bookings = new Map<string, { id: string; status: string }>();
        let demand: { time: number; hubId: string }[] = [];
        let t = 1000;
        let rosterN = 0;
        let seq = 0;
        const snapshot = (): DispatcherSnapshot =>
          ({
            version: 1,
            idSeq: seq,
            eventSeq: seq * 2,
            lastReoptimiseAt: t,
            roster: Array.from({ length: rosterN }, (_, i) => ({ id: `d${i}`, start: 0, end: 1 })),
            vehicles: [...buses].map(([id, b]) => ({ state: { id, x: b.x }, stops: [], onboard: [], reservedDriverId: null, task: null })),
            bookings: [...bookings.values()],
            demand: demand.map((d) => ({ ...d })),
          }) as unknown as DispatcherSnapshot;
        const w = new DispatcherDeltaWriter();
        const lines: string[] = []; // the journal file
        let last = '';
        const commit = () => {
          seq++;
          last = `{"dispatcherDelta":${w.delta(snapshot())}}`;
          lines.push(last);
        };
        for (const o of ops) {
          if (o.k === 'bus') buses.set(`b${o.id}`, { x: o.x });
          else if (o.k === 'book') {
            const b = bookings.get(`r${o.id}`);
            if (b) b.status = o.status;
            else bookings.set(`r${o.id}`, { id: `r${o.id}`, status: o.status });
          }
          else if (o.k === 'forget') bookings.delete(`r${o.id}`);
          else if (o.k === 'demand') demand.push({ time: (t += o.dt), hubId: o.hub });
          else if (o.k === 'trim') demand = demand.filter((d) => d.time >= (demand[Math.min(o.n, demand.length - 1)]?.time ?? 0));
          else if (o.k === 'roster') rosterN = o.n;
          else if (o.k === 'commit') commit();
          else if (o.k === 'compact' && lines.length) lines.splice(0, lines.length, `{"dispatcher":${w.full()}}`);
          else if (o.k === 'again' && last) lines.push(last); // a line written after a compaction already holding it
        }
        commit();
        const r = new DispatcherReplay();
        for (const l of lines) {
          const e = JSON.parse(l) as { dispatcher?: DispatcherSnapshot; dispatcherDelta?: DispatcherDelta };
          if (e.dispatcher) r.whole(e.dispatcher);
          if (e.dispatcherDelta) r.delta(e.dispatcherDelta);
        }
        expect(r.snapshot()).toEqual(JSON.parse(JSON.stringify(snapshot())));
        expect(JSON.parse(w.full()!)).toEqual(JSON.parse(JSON.stringify(snapshot())));
      }),
      { numRuns: 500, seed: 20261122 },
    );
  });

  it('a line names only what changed: one new booking among many is a few hundred bytes', () => {
    const w = new DispatcherDeltaWriter();
    const s = (n: number) =>
      ({
        version: 1,
        idSeq: n,
        eventSeq: n,
        lastReoptimiseAt: 0,
        roster: [],
        vehicles: Array.from({ length: 200 }, (_, i) => ({ state: { id: `bus-${i}`, soc: 0.9 }, stops: [], onboard: [], reservedDriverId: null, task: null })),
        bookings: Array.from({ length: n }, (_, i) => ({ id: `r${i}`, status: 'confirmed', promise: { pickupWindow: { start: i, end: i + 600_000 } } })),
        demand: [],
      }) as unknown as DispatcherSnapshot;
    const first = w.delta(s(1000));
    expect(first.length).toBeGreaterThan(50_000);
    const next = w.delta(s(1001));
    expect(next.length).toBeLessThan(400);
    expect(JSON.parse(next).bookings).toEqual([{ id: 'r1000', status: 'confirmed', promise: { pickupWindow: { start: 1000, end: 601_000 } } }]);
  });
});
