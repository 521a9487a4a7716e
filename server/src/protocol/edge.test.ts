import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunStore } from '../replay/run-store.ts';
import { api, connected, riderToken, socket, staffToken, startTestServer, type TestServer } from '../testing/server.ts';

/** Regressions found by the bad-input fuzzer (server/src/fuzz) at the socket edge. */
let s: TestServer;
let dispatcher: Socket;
let rider: Socket;
beforeAll(async () => {
  s = await startTestServer();
  dispatcher = socket(s.url, '/leitstand', { token: await staffToken(s.url, 'dispatcher') });
  rider = socket(s.url, '/rider', { token: await riderToken(s.url) });
  await Promise.all([connected(dispatcher), connected(rider)]);
});
afterAll(async () => {
  dispatcher.disconnect();
  rider.disconnect();
  await s.close();
});

type Answer = { data?: unknown; error?: { code: string; message: string } };
const ask = (c: Socket, event: string, ...args: unknown[]): Promise<Answer> => c.timeout(3000).emitWithAck(event, ...args);
const rejected = async (): Promise<Record<string, number>> => {
  const text = (await api(s.url, 'GET', '/metrics')).text;
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^kl_input_rejected_total\{where="([^"]+)"\} (\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
};

describe('socket edge: every refusal is answered', () => {
  it('extra arguments before the ack: VALIDATION (the ack used to land in the wrong parameter: no answer)', async () => {
    expect((await ask(dispatcher, 'booking:confirm', { bookingId: 'nope' }, 'extra')).error?.code).toBe('VALIDATION');
    expect((await ask(dispatcher, 'teleop:acquire', { vehicleId: 'bus-1' }, 1, 2)).error?.code).toBe('VALIDATION');
    expect((await ask(dispatcher, 'replay:open', { runId: 'x' }, null)).error?.code).toBe('VALIDATION');
  });

  it('an event nobody handles: UNKNOWN_EVENT (it used to be dropped in silence)', async () => {
    for (const ev of ['no:such', 'error', 'constructor', '__proto__', 'toString']) expect((await ask(dispatcher, ev, {}).catch((e: Error) => ({ error: { code: e.message, message: '' } }))).error?.code, ev).toBe('UNKNOWN_EVENT');
    expect((await ask(rider, 'teleop:acquire', { vehicleId: 'bus-1' })).error?.code).toBe('UNKNOWN_EVENT');
  });

  it('a non-function where the ack belongs is refused and counted', async () => {
    const before = (await rejected())['socket:arguments'] ?? 0;
    dispatcher.emit('booking:create', { pickup: { hubId: 'tuk' }, dropoff: { hubId: 'hbf' }, passengers: 1 }, 42);
    await ask(dispatcher, 'teleop:snapshot'); // in order: the packet before was handled
    expect((await rejected())['socket:arguments']).toBe(before + 1);
    expect(s.app.bookings.all()).toEqual([]);
  });

  it('events without a payload refuse one (fleet:snapshot, bookings:snapshot and replay:list used to leave it unanswered, teleop:snapshot ignored it)', async () => {
    for (const [c, ev] of [
      [dispatcher, 'fleet:snapshot'],
      [dispatcher, 'teleop:snapshot'],
      [dispatcher, 'replay:list'],
      [dispatcher, 'replay:pause'],
      [dispatcher, 'replay:close'],
      [rider, 'bookings:snapshot'],
    ] as const) {
      expect((await ask(c, ev, { junk: 1 })).error?.code, ev).toBe('VALIDATION');
      expect((await ask(c, ev, 0)).error?.code, ev).toBe('VALIDATION');
      expect((await ask(c, ev)).error?.code ?? 'ok', ev).not.toBe('VALIDATION');
    }
    expect((await ask(dispatcher, 'fleet:snapshot')).data).toMatchObject({ full: true });
  });

  it('the ack alone for an event that needs a payload: VALIDATION (it used to get no answer)', async () => {
    for (const ev of ['booking:create', 'booking:confirm', 'plan:get', 'teleop:acquire', 'teleop:command', 'alert:ack', 'replay:open', 'replay:seek']) {
      expect((await ask(dispatcher, ev)).error?.code, ev).toBe('VALIDATION');
    }
    expect((await ask(rider, 'booking:confirm')).error?.code).toBe('VALIDATION');
  });

  it('replay:play needs its payload like every other event (a missing one used to count as {})', async () => {
    expect((await ask(dispatcher, 'replay:play')).error?.code).toBe('VALIDATION');
    expect((await ask(dispatcher, 'replay:play', {})).error?.code).toBe('NO_RUN');
  });
});

describe('replay run ids', () => {
  it('"." and ".." are not runs: the event log in DATA_DIR could be opened as one', async () => {
    for (const runId of ['..', '.']) expect((await ask(dispatcher, 'replay:open', { runId })).error?.code, runId).toBe('VALIDATION');
    // the store itself refuses them too (a run-looking events.ndjson one level up)
    const dir = await mkdtemp(join(tmpdir(), 'kl-runs-'));
    mkdirSync(join(dir, 'runs'));
    writeFileSync(join(dir, 'events.ndjson'), `${JSON.stringify({ t: 1, type: 'x' })}\n${JSON.stringify({ t: 2, type: 'y' })}\n`);
    const runs = new RunStore(join(dir, 'runs'));
    expect(await runs.info('..')).toBeNull();
    expect(await runs.load('..')).toBeNull();
  });
});
