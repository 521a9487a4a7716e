import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DarpInputError, parseCordeau } from './parse.ts';
import { buildInstance } from './instance.ts';

const dir = resolve(import.meta.dirname, '../../../../../shared/darp/cordeau-a');
const load = (name: string) => parseCordeau(readFileSync(`${dir}/${name}.txt`, 'utf8'), name);

describe('Cordeau instance reader', () => {
  it('reads a file with an end-depot row (a2-20) and one without (a8-80)', () => {
    const a = load('a2-20');
    expect([a.vehicles, a.requests, a.maxRouteDuration, a.capacity, a.maxRideTime]).toEqual([2, 20, 600, 3, 30]);
    expect(a.nodes).toHaveLength(41);
    expect(a.endDepot?.id).toBe(41);
    const b = load('a8-80');
    expect(b.nodes).toHaveLength(161);
    expect(b.endDepot).toBeUndefined();
  });

  it('uses T as the depot closing time and tightens windows only as the constraints imply', () => {
    const inst = buildInstance(load('a2-16'));
    expect(inst.l[0]).toBe(480);
    expect(inst.l[inst.endDepot]).toBe(480);
    // pickup 9 has window [276, 291]; its drop-off 25 can then only be served within [279 + t, 291 + 3 + 30]
    expect(inst.l[25]).toBeCloseTo(324, 9);
    expect(inst.e[25]).toBeCloseTo(276 + 3 + inst.dist[9 * inst.N + 25], 9);
  });

  it.each([
    ['', /empty file/],
    ['2 32 480', /header needs/],
    ['2 3 480 3 30\n0 0 0 0 0 0 1440', /even integer/],
    ['1 2 480 3 30\n0 0 0 0 0 0 1440\n1 1 1 3 1 0 1440', /expected 3 node rows/],
    ['1 2 480 3 30\n0 0 0 0 0 0 1440\n1 1 x 3 1 0 1440\n2 2 2 3 -1 0 1440', /"x" is not a number/],
    ['1 2 480 3 30\n0 0 0 0 0 0 1440\n1 1 1 3 1 0 1440\n2 2 2 3 1 0 1440', /does not cancel/],
    ['1 2 480 3 30\n0 0 0 0 0 0 1440\n1 1 1 3 1 50 10\n2 2 2 3 -1 0 1440', /is empty/],
  ])('rejects malformed input %#', (text, msg) => {
    expect(() => parseCordeau(text, 'bad')).toThrow(DarpInputError);
    expect(() => parseCordeau(text, 'bad')).toThrow(msg);
  });
});
