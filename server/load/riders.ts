import { io as connect, type Socket } from 'socket.io-client';
import { loadHubs } from '@kl/routing/fixtures.ts';
import { Rng } from '../src/core/rng.ts';
import type { RiderClientToServer, RiderServerToClient } from '../src/protocol/events.ts';
import { DEFAULT_DEMAND, DemandGenerator, type GeneratedRequest } from '../src/sim/demand.ts';
import { apiCall, whenConnected } from './net.ts';
import { Latency, Tally } from './stats.ts';

export class BookingTracker {
  recording = false;
  readonly offer = new Latency();
  readonly confirm = new Latency();
  readonly total = new Latency();
  readonly window = new Latency();
  readonly outcomes = new Tally();
}

interface Rider {
  token: string;
  socket: Socket<RiderServerToClient, RiderClientToServer>;
  busy: boolean;
}

/**
 * Riders with pseudonymous tokens (POST /api/auth/rider) and a rider-app socket each, booking over the REST API
 * as the rider app does: request an offer, confirm it. Requests arrive as a Poisson stream at the given mean
 * rate (the simulation's seeded demand around the hubs) and go to the next rider without a booking in flight.
 */
export class LoadRiders {
  private riders: Rider[] = [];
  private timer: NodeJS.Timeout | null = null;
  private next = 0;
  private readonly inflight = new Set<Promise<void>>();
  readonly received = new Tally();

  constructor(
    private readonly url: string,
    private readonly count: number,
    private readonly perMinute: number,
    private readonly seed: number,
    readonly tracker: BookingTracker,
  ) {}

  async connect(batch = 20): Promise<void> {
    for (let i = 0; i < this.count; i += batch) {
      const n = Math.min(batch, this.count - i);
      this.riders.push(
        ...(await Promise.all(
          Array.from({ length: n }, async () => {
            const r = await apiCall(this.url, 'POST', '/api/auth/rider', undefined, {});
            if (r.status !== 201) throw new Error(`rider token: HTTP ${r.status} ${JSON.stringify(r.json)}`);
            const socket: Socket<RiderServerToClient, RiderClientToServer> = connect(`${this.url}/rider`, { auth: { token: r.json.token }, transports: ['websocket'], forceNew: true });
            socket.onAny((event: string) => this.received.inc(event));
            await whenConnected(socket, 'rider socket');
            return { token: r.json.token as string, socket, busy: false };
          }),
        )),
      );
    }
  }

  start(): void {
    // a small seed's first xoroshiro outputs are close to 1 (a first gap of ~20 mean gaps): spread the seed's bits
    const demand = new DemandGenerator(new Rng(Math.imul(this.seed, 0x9e3779b1)), loadHubs(), { ...DEFAULT_DEMAND, perHour: this.perMinute * 60 }, Date.now());
    this.timer = setInterval(() => {
      for (const req of demand.due(Date.now())) {
        const rider = this.idleRider();
        if (!rider) {
          this.tracker.outcomes.inc('skipped: every rider busy');
          continue;
        }
        const p = this.book(rider, req).finally(() => this.inflight.delete(p));
        this.inflight.add(p);
      }
    }, 100);
  }

  private idleRider(): Rider | null {
    for (let i = 0; i < this.riders.length; i++) {
      const r = this.riders[(this.next + i) % this.riders.length];
      if (!r.busy) {
        this.next = (this.next + i + 1) % this.riders.length;
        return r;
      }
    }
    return null;
  }

  private async book(rider: Rider, req: GeneratedRequest): Promise<void> {
    const t = this.tracker;
    const counted = t.recording;
    rider.busy = true;
    try {
      const t0 = performance.now();
      const offer = await apiCall(this.url, 'POST', '/api/bookings', rider.token, { pickup: req.pickup, dropoff: req.dropoff, passengers: req.passengers, wheelchairs: req.wheelchairs });
      const t1 = performance.now();
      if (counted) t.offer.record(t1 - t0);
      if (offer.status !== 201) {
        if (counted) t.outcomes.inc(offer.status === 422 ? `no offer: ${offer.json?.error?.details?.reason ?? offer.json?.error?.code ?? '?'}` : `offer failed: HTTP ${offer.status}`);
        return;
      }
      const conf = await apiCall(this.url, 'POST', `/api/bookings/${encodeURIComponent(offer.json.id)}/confirm`, rider.token, {});
      const t2 = performance.now();
      if (!counted) return;
      t.confirm.record(t2 - t1);
      if (conf.status === 200) {
        t.total.record(t2 - t0);
        t.window.record(t2 - t0);
        t.outcomes.inc('confirmed');
      } else t.outcomes.inc(`confirm failed: HTTP ${conf.status} ${conf.json?.error?.code ?? ''}`.trim());
    } finally {
      rider.busy = false;
    }
  }

  /** Stops new requests and waits for the ones in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.inflight]);
  }

  close(): void {
    for (const r of this.riders) r.socket.disconnect();
  }
}
