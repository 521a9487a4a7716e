import { describe, expect, it } from 'vitest';
import { Rng } from './rng.ts';
import { ManualClock } from './clock.ts';

describe('Rng', () => {
  it('same seed gives the same sequence, another seed another', () => {
    const a = new Rng(7), b = new Rng(7), c = new Rng(8);
    const sa = Array.from({ length: 20 }, () => a.int(0, 1000));
    const sb = Array.from({ length: 20 }, () => b.int(0, 1000));
    const sc = Array.from({ length: 20 }, () => c.int(0, 1000));
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
  });
  it('float stays in [0,1) and int in its bounds', () => {
    const r = new Rng(1);
    for (let i = 0; i < 10_000; i++) {
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
      const n = r.int(-3, 3);
      expect(n >= -3 && n <= 3).toBe(true);
    }
  });
});

describe('ManualClock', () => {
  it('refuses to go back in time', () => {
    const c = new ManualClock(100);
    c.advance(50);
    expect(c.now()).toBe(150);
    expect(() => c.set(10)).toThrow();
  });
});
