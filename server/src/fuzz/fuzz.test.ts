import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'socket.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFuzzServer, type FuzzServer } from './harness.ts';
import { formatReport, runFuzz } from './run.ts';
import { declaredEvents } from './targets.ts';

/**
 * The bad-input fuzzer in its short form (the full run: `npm run fuzz`, 10,000+ cases). Runs on Redis when
 * REDIS_URL is set, on the embedded journal otherwise.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20260519);

let server: FuzzServer;
beforeAll(async () => {
  server = await startFuzzServer({ seed: SEED, redisUrl: process.env.REDIS_URL });
});
afterAll(() => server.close());

describe('bad-input fuzzer', () => {
  it('1,500 seeded cases over every route, socket event and handshake: no 5xx, no crash, every refusal well-formed, nothing changed', async () => {
    const r = await runFuzz({ cases: 1500, seed: SEED, server });
    const text = formatReport(r, SEED);
    expect(r.problems, text).toEqual([]);
    expect(r.totals.cases).toBeGreaterThanOrEqual(1500);
    expect(r.totals.serverErrors, text).toBe(0);
    expect(r.totals.crashes, text).toBe(0);
    expect(r.totals.bad, text).toBe(0);
    expect(r.totals.storeChanged, text).toEqual([]);
    // every declared event and every namespace's handshake was a target with cases
    for (const d of declaredEvents()) expect(r.rows.find((x) => x.target === `${d.namespace} ${d.event}`)?.cases ?? 0, `${d.namespace} ${d.event}`).toBeGreaterThan(0);
    for (const ns of ['/vehicle', '/leitstand', '/rider']) expect(r.rows.find((x) => x.target === `${ns} (handshake)`)?.cases ?? 0).toBeGreaterThan(0);
    expect(r.rows.filter((x) => /^(GET|POST|DELETE) /.test(x.target)).every((x) => x.cases > 0)).toBe(true);
  }, 240_000);

  // last: the defects stay planted in the shared server
  it('catches planted defects: a route that accepts junk, a 500, a socket event that fails or writes the store', async () => {
    const r = await runFuzz({
      server,
      cases: 60,
      minPerTarget: 30,
      seed: SEED,
      only: /^(GET \/api\/hubs|GET \/api\/health|\/leitstand canary:.*)$/,
      setup: (s) => {
        // REST: in front of express, accept any query on /api/hubs and fail on /api/health with one
        const [express] = s.app.http.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
        s.app.http.removeAllListeners('request');
        s.app.http.on('request', (req: IncomingMessage, res: ServerResponse) => {
          if (req.url?.startsWith('/api/hubs?')) return void res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
          if (req.url?.startsWith('/api/health?')) return void res.writeHead(500).end('boom');
          express(req, res);
        });
        // sockets: undeclared events are found by their listeners, and their harm is seen
        s.app.io.of('/leitstand').on('connection', (sock: Socket) => {
          sock.on('canary:write', (p: unknown, ack: unknown) => {
            void s.app.store.appendEvents([{ t: 0, type: 'canary', data: { p: String(p).slice(0, 20) } }]);
            if (typeof ack === 'function') ack({ data: true });
          });
          // (a planted throw would be an uncaught exception the test runner itself fails on: the handler logs)
          sock.on('canary:fail', () => s.app.log.error({ err: new Error('planted failure') }, 'handler failed'));
        });
      },
    });
    const row = (t: string) => r.rows.find((x) => x.target === t)!;
    const text = formatReport(r, SEED);
    expect(row('GET /api/hubs').bad, text).toBeGreaterThan(0);
    expect(row('GET /api/health').serverErrors, text).toBeGreaterThan(0);
    expect(row('/leitstand canary:write').storeChanged.length, text).toBeGreaterThan(0);
    expect(row('/leitstand canary:fail').crashes, text).toBeGreaterThan(0);
    expect(r.ok).toBe(false);
  }, 120_000);
});
