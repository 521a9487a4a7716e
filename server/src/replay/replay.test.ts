import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetState } from '../protocol/events.ts';
import { runScenario } from '../sim/runner.ts';
import { parseScenario } from '../sim/scenario.ts';
import { connected, sharedEngine, socket, staffToken, startTestServer, waitFor, type TestServer } from '../testing/server.ts';
import type { ReplayFrame } from './replay.ts';

let s: TestServer;
beforeAll(async () => {
  // record the test route (20 simulated minutes) as a run, then start a live server over the same data dir
  const dataDir = await mkdtemp(join(tmpdir(), 'kl-replay-'));
  const sc = parseScenario(JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../fixtures/scenarios/teststrecke.json'), 'utf8')));
  const dir = join(dataDir, 'runs', 'teststrecke');
  mkdirSync(dir, { recursive: true });
  const out = createWriteStream(join(dir, 'events.ndjson'));
  await runScenario({ engine: await sharedEngine(), scenario: { ...sc, durationMin: 20 }, sink: { write: (e) => out.write(`${JSON.stringify(e)}\n`), writeLine: (l) => out.write(`${l}\n`) } });
  await new Promise<void>((r) => out.end(() => r()));
  s = await startTestServer({ vehicles: 2, dataDir });
});
afterAll(() => s.close());

describe('replay of recorded runs on /leitstand', () => {
  it('lists runs, opens one, plays at 60×, pauses, seeks — only to the asking console, never into live state', async () => {
    const token = await staffToken(s.url, 'dispatcher');
    const c = socket(s.url, '/leitstand', { token });
    const other = socket(s.url, '/leitstand', { token });
    await Promise.all([connected(c), connected(other)]);
    const leaked: unknown[] = [];
    other.on('replay:frame', (f) => leaked.push(f));
    const list = await c.timeout(5000).emitWithAck('replay:list');
    expect(list.data.map((r: { id: string }) => r.id)).toContain('teststrecke');
    const opened = await c.timeout(15000).emitWithAck('replay:open', { runId: 'teststrecke' });
    expect(opened.data.vehicles).toEqual(['bus-1']);
    const { start, end } = opened.data.info;
    expect(end - start).toBeGreaterThanOrEqual(19 * 60_000);
    const play = await c.timeout(5000).emitWithAck('replay:play', { speed: 60 });
    expect(play.data.playing).toBe(true);
    const moved = await waitFor<ReplayFrame>(c, 'replay:frame', (f) => f.t > start + 30_000, 10_000);
    expect(moved.vehicles[0].id).toBe('bus-1');
    await c.timeout(5000).emitWithAck('replay:pause');
    const mid = start + Math.round((end - start) / 2);
    const framed = waitFor<ReplayFrame>(c, 'replay:frame', (f) => f.t === mid);
    const seek = await c.timeout(5000).emitWithAck('replay:seek', { t: mid });
    expect(seek.data.t).toBe(mid);
    const f = await framed;
    expect(f.playing).toBe(false);
    expect(f.vehicles[0].lat).toBeGreaterThan(49.4);
    const series = await c.timeout(5000).emitWithAck('replay:series', { vehicleId: 'bus-1' });
    expect(series.data.t.length).toBeGreaterThan(100);
    // bad input is refused, and the live fleet state is untouched by the replay
    expect((await c.timeout(5000).emitWithAck('replay:open', { runId: '../etc' })).error.code).toBe('VALIDATION');
    expect((await c.timeout(5000).emitWithAck('replay:speed', { speed: 1000 })).error.code).toBe('VALIDATION');
    const live = await c.timeout(5000).emitWithAck('fleet:snapshot');
    expect((live.data as FleetState).vehicles.find((v) => v.id === 'bus-1')!.online).toBe(true);
    expect(leaked).toEqual([]);
    c.disconnect();
    other.disconnect();
  });
});
