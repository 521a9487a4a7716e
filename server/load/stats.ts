import { build, type Histogram } from 'hdr-histogram-js';

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * A latency distribution in ms. HdrHistogram at µs resolution, 3 significant digits: constant memory however many
 * samples (a 10-minute soak records ~60 million fan-out deliveries).
 */
export class Latency {
  private readonly h: Histogram = build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true, useWebAssembly: false });

  record(ms: number): void {
    this.h.recordValue(Math.max(0, Math.round(ms * 1000)));
  }
  get count(): number {
    return this.h.totalCount;
  }
  add(other: Latency): void {
    this.h.add(other.h);
  }
  reset(): void {
    this.h.reset();
  }
  summary(): Summary | null {
    if (!this.h.totalCount) return null;
    const ms = (us: number) => us / 1000;
    return { n: this.h.totalCount, p50: ms(this.h.getValueAtPercentile(50)), p99: ms(this.h.getValueAtPercentile(99)), max: ms(this.h.maxValue), mean: ms(this.h.mean) };
  }
}

/** Counters by key (outcomes, error codes). */
export class Tally {
  readonly counts = new Map<string, number>();
  inc(key: string, by = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }
  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** A plain-text table: first column left-aligned, the rest right-aligned. */
export function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(cells[0]), `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

export const fmt = (x: number | null | undefined, digits = 1): string => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
