import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

/**
 * Seeded random numbers for core code. Wraps pure-rand's xoroshiro128+ so that the same seed
 * always yields the same sequence (deterministic dispatch, simulation and fault injection).
 */
export class Rng {
  private readonly gen: ReturnType<typeof xoroshiro128plus>;
  constructor(readonly seed: number) {
    this.gen = xoroshiro128plus(seed | 0);
  }
  /** Integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return uniformInt(this.gen, min, max);
  }
  /** Float in [0, 1) with 2^-30 resolution... enough for sampling, not for cryptography. */
  float(): number {
    return uniformInt(this.gen, 0, 0x3fffffff) / 0x40000000;
  }
  bool(p = 0.5): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('Rng.pick on empty list');
    return items[this.int(0, items.length - 1)];
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
  /** Exponentially distributed value with the given mean (inter-arrival times). */
  exp(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }
  /** Normal(mean, sd) by Box–Muller. */
  normal(mean: number, sd: number): number {
    const u = 1 - this.float();
    const v = this.float();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** An independent child generator (derived seed) for a sub-component. */
  fork(): Rng {
    return new Rng(this.int(0, 0x7fffffff));
  }
}
