import { describe, expect, it } from 'vitest';
import { checkSolution } from './checker.ts';
import { tinyRaw } from './testkit.ts';

// Two requests on a line, one vehicle, Q = 1, L = 10: 0 → P1(x=1) → D1(x=2) → P2(x=3) → D2(x=4) → 0.
const raw = tinyRaw({ vehicles: 2, T: 100, Q: 1, L: 10 }, [
  [0, 0, 0, 0, 0, 100],
  [1, 0, 1, 1, 0, 50],
  [3, 0, 1, 1, 10, 20],
  [2, 0, 1, -1, 0, 100],
  [4, 0, 1, -1, 0, 100],
]);
const good = () => ({
  instance: 'tiny',
  cost: 8,
  routes: [
    {
      vehicle: 0,
      depart: 0,
      return: 18,
      stops: [
        { node: 1, time: 1 },
        { node: 3, time: 3 },
        { node: 2, time: 10 },
        { node: 4, time: 12 },
      ],
    },
  ],
});

describe('independent solution checker', () => {
  it('accepts a correct hand-made solution', () => {
    const r = checkSolution(raw, good());
    expect(r.violations).toEqual([]);
    expect(r.feasible).toBe(true);
    expect(r.cost).toBeCloseTo(8, 12);
  });

  it('rejects service after the time window closes', () => {
    const s = good();
    s.routes[0].stops[2].time = 21; // P2 window is [10, 20]
    s.routes[0].stops[3].time = 23;
    s.routes[0].return = 28;
    expect(checkSolution(raw, s).violations.join('\n')).toMatch(/node 2 served at 21, after its window closes/);
  });

  it('rejects service before the time window opens', () => {
    const s = good();
    s.routes[0].stops[2].time = 9;
    expect(checkSolution(raw, s).violations.join('\n')).toMatch(/before its window opens/);
  });

  it('rejects a load over capacity', () => {
    const s = good();
    // P1, P2, D1, D2: two passengers on board with Q = 1
    s.routes[0].stops = [
      { node: 1, time: 1 },
      { node: 2, time: 10 },
      { node: 3, time: 12 },
      { node: 4, time: 14 },
    ];
    s.cost = 1 + 2 + 1 + 1 + 4;
    s.routes[0].return = 19;
    expect(checkSolution(raw, s).violations.join('\n')).toMatch(/exceeds capacity 1/);
  });

  it('rejects a ride time over L', () => {
    const s = good();
    s.routes[0].stops[1].time = 20; // D1 at 20: ride = 20 − (1 + 1) = 18 > 10
    s.routes[0].stops[2].time = 20 + 1 + 1;
    expect(checkSolution(raw, s).violations.join('\n')).toMatch(/request 1: ride time 18 exceeds 10/);
  });

  it('rejects a drop-off before its pickup', () => {
    const s = good();
    s.routes[0].stops = [
      { node: 3, time: 2 },
      { node: 1, time: 4 },
      { node: 2, time: 10 },
      { node: 4, time: 12 },
    ];
    s.cost = 2 + 1 + 2 + 1 + 4;
    expect(checkSolution(raw, s).violations.join('\n')).toMatch(/request 1: drop-off before pickup/);
  });

  it('rejects times that ignore travel between stops', () => {
    const s = good();
    s.routes[0].stops[1].time = 2.5; // P1 served at 1 for 1 min, D1 is 1 away: cannot start before 3
    expect(checkSolution(raw, s).violations.join('\n')).toMatch(/cannot arrive before 3/);
  });

  it('rejects a request served by two vehicles, a missing request and a wrong cost', () => {
    const split = good();
    split.routes = [
      { vehicle: 0, depart: 0, return: 12, stops: [{ node: 1, time: 1 }, { node: 2, time: 12 }] },
      { vehicle: 1, depart: 0, return: 14, stops: [{ node: 3, time: 3 }] },
    ];
    const v = checkSolution(raw, split).violations.join('\n');
    expect(v).toMatch(/request 2 is not served/);
    expect(v).toMatch(/reported cost 8 differs/);

    const twoVehicles = good();
    twoVehicles.routes = [
      { vehicle: 0, depart: 0, return: 100, stops: [{ node: 1, time: 1 }, { node: 2, time: 10 }, { node: 4, time: 12 }] },
      { vehicle: 1, depart: 0, return: 100, stops: [{ node: 3, time: 3 }] },
    ];
    expect(checkSolution(raw, twoVehicles).violations.join('\n')).toMatch(/request 1: picked up by vehicle 0 but dropped by 1/);
  });

  it('rejects a return after the depot closes at T and a route longer than T', () => {
    const s = good();
    s.routes[0].return = 101;
    expect(checkSolution(raw, s).violations.join('\n')).toMatch(/after the depot closes at 100/);
  });

  it('rejects a malformed solution instead of throwing', () => {
    expect(checkSolution(raw, { routes: 'x' }).feasible).toBe(false);
  });
});
