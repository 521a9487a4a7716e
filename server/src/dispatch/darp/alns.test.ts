import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCordeau } from './parse.ts';
import { buildInstance } from './instance.ts';
import { Alns, solve } from './alns.ts';
import { Solution, toSolutionJson } from './solution.ts';
import { checkSolution } from './checker.ts';

const dir = resolve(import.meta.dirname, '../../../../../shared/darp/cordeau-a');
const raw = (name: string) => parseCordeau(readFileSync(`${dir}/${name}.txt`, 'utf8'), name);

describe('ALNS', () => {
  it('is deterministic given the seed and the iteration count', () => {
    const inst = buildInstance(raw('a3-24'));
    const a = toSolutionJson(solve(inst, { seed: 5, maxIterations: 300 }).best);
    const b = toSolutionJson(solve(inst, { seed: 5, maxIterations: 300 }).best);
    expect(b).toEqual(a);
  });

  it('best insertion alone serves every request of a4-40, and ALNS improves on it', () => {
    const r = raw('a4-40');
    const res = solve(buildInstance(r), { seed: 1, maxIterations: 500 });
    expect(res.initialUnassigned).toBe(0);
    expect(res.cost).toBeLessThan(res.initialCost);
    expect(checkSolution(r, toSolutionJson(res.best)).violations).toEqual([]);
  });

  it('stops at the injected deadline without reading the clock itself', () => {
    let t = 0;
    const res = solve(buildInstance(raw('a2-16')), { seed: 1, deadline: 50, now: () => t++ });
    expect(res.iterations).toBeLessThanOrEqual(50);
    expect(res.unassigned).toBe(0);
  });
});

describe('request relocation descent', () => {
  it('never lengthens a solution, keeps every request served and ends in a relocation optimum', () => {
    const r = raw('a5-40');
    const alns = new Alns(buildInstance(r), 3);
    const sol = new Solution(alns.inst);
    alns.repair(sol, { k: 1, noise: false });
    const before = sol.distance();
    alns.relocateDescent(sol);
    const after = sol.distance();
    expect(after).toBeLessThanOrEqual(before + 1e-9);
    expect(sol.unassignedCount()).toBe(0);
    alns.relocateDescent(sol);
    expect(sol.distance()).toBeCloseTo(after, 9); // a second pass finds nothing
    expect(checkSolution(r, toSolutionJson(sol)).violations).toEqual([]);
  });
});
