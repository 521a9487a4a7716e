import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

const LOOP_RESOLUTION_MS = 10;

/** Prometheus metrics of one server instance (own registry, so several apps in one test process do not clash). */
export class Metrics {
  readonly registry = new Registry();
  readonly vehiclesConnected = new Gauge({ name: 'kl_vehicles_connected', help: 'vehicles connected on /vehicle', registers: [this.registry] });
  readonly consolesConnected = new Gauge({ name: 'kl_consoles_connected', help: 'Leitstand consoles connected', registers: [this.registry] });
  readonly ridersConnected = new Gauge({ name: 'kl_riders_connected', help: 'rider apps connected', registers: [this.registry] });
  readonly bookings = new Gauge({ name: 'kl_bookings', help: 'bookings by status', labelNames: ['status'], registers: [this.registry] });
  readonly dispatchLatency = new Histogram({
    name: 'kl_dispatch_decision_seconds',
    help: 'time to answer a booking request (insertion search)',
    buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly eventLoopLag = new Gauge({ name: 'kl_event_loop_lag_seconds', help: 'event loop delay p99 over the last scrape interval', registers: [this.registry] });
  readonly eventLoopLagMax = new Gauge({ name: 'kl_event_loop_lag_max_seconds', help: 'longest event loop delay over the last scrape interval', registers: [this.registry] });
  readonly inputRejected = new Counter({ name: 'kl_input_rejected_total', help: 'payloads rejected at the edge', labelNames: ['where'], registers: [this.registry] });
  /**
   * The heap's live data: bytes in use right after the last full (mark-compact) collection. Heap in use at any other
   * moment includes garbage not yet collected, so its minimum over a minute depends on when the collector ran.
   */
  readonly heapLive = new Gauge({ name: 'kl_heap_live_bytes', help: 'V8 heap in use right after the last full garbage collection', registers: [this.registry] });
  private readonly loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  private readonly gc = new PerformanceObserver((list) => {
    if (list.getEntries().some((e: PerformanceEntry) => (e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) this.heapLive.set(getHeapStatistics().used_heap_size);
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'kl_node_' });
    this.loop.enable();
    this.gc.observe({ entryTypes: ['gc'] });
  }

  async render(bookingCounts: Record<string, number>): Promise<string> {
    this.bookings.reset();
    for (const [status, n] of Object.entries(bookingCounts)) this.bookings.set({ status }, n);
    // the histogram holds the intervals between its timer's ticks: the delay is what exceeds the resolution
    const delay = (ns: number) => (this.loop.count ? Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) / 1000 : 0);
    this.eventLoopLag.set(delay(this.loop.percentile(99)));
    this.eventLoopLagMax.set(delay(this.loop.max));
    this.loop.reset();
    return this.registry.metrics();
  }

  stop(): void {
    this.loop.disable();
    this.gc.disconnect();
  }
}
