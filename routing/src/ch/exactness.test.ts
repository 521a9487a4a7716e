import { beforeAll, describe, expect, it } from 'vitest';
import type { RoutingEngine } from '../engine.ts';
import { seededPhantoms, testEngine } from '../testing/engine.ts';
import { assembleLeg } from '../osrm/assemble.ts';

let engine: RoutingEngine;
beforeAll(async () => {
  engine = await testEngine();
});

describe('contraction hierarchy is exact', () => {
  it('1,000 seeded random pairs: CH weight and duration equal plain Dijkstra on the same graph', () => {
    const pts = seededPhantoms(engine, 20261121, 2000);
    let compared = 0, unreachable = 0;
    const mismatches: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const a = pts[2 * i], b = pts[2 * i + 1];
      const ch = engine.path(a, b, 'ch');
      const dj = engine.path(a, b, 'dijkstra');
      if (dj.weight === Infinity) unreachable++;
      if (ch.weight !== dj.weight) {
        mismatches.push(`pair ${i}: ch ${ch.weight} ≠ dijkstra ${dj.weight}`);
        continue;
      }
      if (dj.weight === Infinity) continue;
      const dCh = assembleLeg(engine.graph, a, b, ch.path).leg.duration;
      const dDj = assembleLeg(engine.graph, a, b, dj.path).leg.duration;
      if (dCh !== dDj) mismatches.push(`pair ${i}: duration ch ${dCh} ≠ dijkstra ${dDj}`);
      compared++;
    }
    expect(mismatches).toEqual([]);
    // snapping only to the main component makes every pair routable
    expect(unreachable).toBe(0);
    expect(compared).toBe(1000);
  });

  it('the unpacked CH path is a real drive: its summed arc costs equal the reported weight', () => {
    const pts = seededPhantoms(engine, 7, 200);
    for (let i = 0; i < 100; i++) {
      const a = pts[2 * i], b = pts[2 * i + 1];
      const r = engine.path(a, b);
      const leg = assembleLeg(engine.graph, a, b, r.path).leg;
      expect(Math.abs(leg.weight - r.weight / 1000)).toBeLessThan(0.051 * leg.steps.length + 0.05);
    }
  });

  it('a target behind the source on the same one-way street goes round the block, never backwards', () => {
    const g = engine.graph;
    // find a one-way segment of some length
    let seg = -1;
    for (let s = 0; s < g.numSegs; s++) {
      if (g.ebnWeight[2 * s] > 0 && g.ebnWeight[2 * s + 1] < 0 && g.segLength[s] > 80 && g.segFlags[s] & 4) {
        seg = s;
        break;
      }
    }
    expect(seg).toBeGreaterThanOrEqual(0);
    const mk = (fraction: number) => ({ seg, fraction, piece: 0, lat: 0, lon: 0, inputLat: 0, inputLon: 0, snapDistance: 0 });
    // put both points on the first piece so the geometry is consistent
    const ahead = engine.path(mk(0.2), mk(0.6));
    const behind = engine.path(mk(0.6), mk(0.2));
    expect(ahead.path).toEqual([2 * seg]);
    expect(behind.weight).toBeGreaterThan(ahead.weight);
    expect(behind.path.length).toBeGreaterThan(1);
    expect(engine.path(mk(0.6), mk(0.2), 'dijkstra').weight).toBe(behind.weight);
  });
});

describe('many-to-many matrix', () => {
  it('every cell equals the point-to-point query', () => {
    const pts = seededPhantoms(engine, 99, 30);
    const src = pts.slice(0, 15), dst = pts.slice(15);
    const m = engine.matrix(src, dst);
    for (let i = 0; i < src.length; i++) {
      for (let j = 0; j < dst.length; j++) {
        const p = engine.path(src[i], dst[j]);
        expect(m.weight[i * dst.length + j]).toBe(p.weight);
      }
    }
  });
});

describe('cost-only query', () => {
  it('gives the same weight, duration and distance as the assembled route', () => {
    const pts = seededPhantoms(engine, 4242, 400);
    for (let i = 0; i < 200; i++) {
      const a = pts[2 * i], b = pts[2 * i + 1];
      const c = engine.cost(a, b)!;
      const t = engine.travel(a, b)!;
      expect(c.weight).toBe(t.weight);
      expect(Math.abs(c.duration - t.duration)).toBeLessThanOrEqual(100); // the leg rounds to 0.1 s
      expect(Math.abs(c.distance - t.distance)).toBeLessThan(0.2);
    }
  });
});
