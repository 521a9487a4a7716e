/**
 * The drivers' consoles in a process of their own (started by run.ts with fork). A remote driver's console is a
 * machine of its own: its command round trip must not wait behind the fleet states of 40 other consoles that the
 * main load process parses, or the figure measures the load generator instead of the server. These consoles are
 * full Leitstand consoles all the same (fleet states, pings, alerts). Reports to the parent every 100 ms: the
 * fleet states received (flat [bus index, sentAt, received, server receive, server fan-out]), the commands
 * answered (with their round trip on this process's clock), heartbeat errors while recording, and once a second
 * this process's event-loop delay.
 */
import type { Ack } from '../src/protocol/events.ts';
import { loopLagEverySecond, type ChildStatus } from './child.ts';
import { LoadConsole, LoadDriver, type CommandSink, type FanoutSink } from './consoles.ts';
import { apiCall } from './net.ts';

export interface DriversProcessOptions {
  url: string;
  /** every bus of the load, in order: receipts name a bus by its index here */
  vehicleIds: string[];
  drivers: { username: string; vehicleId: string }[];
  commandIntervalMs: number;
}
export interface AnsweredCommand {
  vehicleId: string;
  seq: number;
  /** when it left the console, epoch ms */
  wall: number;
  roundTripMs: number;
  res: Ack<unknown>;
}
export type DriversProcessRecords = {
  type: 'records';
  receipts: number[];
  commands: AnsweredCommand[];
  heartbeatErrors: Record<string, number>;
  lagMaxMs?: number;
  /** consoles connected (once a second) */
  connected?: number;
  recoveries?: number;
  /** at the end: commands sent while recording that never got a verdict */
  unanswered?: number;
  final?: boolean;
};
/** every driver holds their bus, or why not */
export type DriversStarted = { type: 'started'; error?: string; final?: undefined };
export type DriversProcessCommand = { type: 'start' } | { type: 'recording'; on: boolean } | { type: 'stop' };

const send = (m: DriversProcessRecords | ChildStatus | DriversStarted) => process.send?.(m);
const o = JSON.parse(process.argv[2] ?? '{}') as DriversProcessOptions;
const index = new Map(o.vehicleIds.map((id, i) => [id, i]));
let receipts: number[] = [];
let commands: AnsweredCommand[] = [];
let heartbeatErrors: Record<string, number> = {};
let recording = false;
const lag = loopLagEverySecond();

const fanout: FanoutSink = {
  onReceived: (vehicleId, sentAt, now, receivedAt, fannedOutAt) => {
    const i = index.get(vehicleId);
    if (i !== undefined) receipts.push(i, sentAt, now, receivedAt ?? NaN, fannedOutAt ?? NaN);
  },
};
const issued = new Map<string, { wall: number; t0: number; recording: boolean }>();
const sink: CommandSink = {
  issued: (vehicleId, seq) => void issued.set(`${vehicleId}#${seq}`, { wall: Date.now(), t0: performance.now(), recording }),
  answered: (vehicleId, seq, res) => {
    const key = `${vehicleId}#${seq}`;
    const e = issued.get(key);
    if (!e) return;
    issued.delete(key);
    commands.push({ vehicleId, seq, wall: e.wall, roundTripMs: performance.now() - e.t0, res });
  },
  heartbeatError: (code) => {
    if (recording) heartbeatErrors[code] = (heartbeatErrors[code] ?? 0) + 1;
  },
};

const consoles = o.drivers.map((d) => new LoadConsole(d.username, 'driver', fanout, null));
// each driver's commands at their own phase of the interval (ten drivers in lockstep would make every stall of the
// server hit ten commands at once, and their commands queue behind each other)
const drivers = o.drivers.map((d, i) => new LoadDriver(consoles[i], d.vehicleId, sink, o.commandIntervalMs, Math.round((i * o.commandIntervalMs) / o.drivers.length)));

const records = (final: boolean): DriversProcessRecords => {
  const lagMaxMs = lag();
  const m: DriversProcessRecords = {
    type: 'records',
    receipts,
    commands,
    heartbeatErrors,
    ...(lagMaxMs !== undefined ? { lagMaxMs, connected: consoles.filter((c) => c.socket?.connected).length } : {}),
    ...(final ? { final, recoveries: drivers.reduce((n, d) => n + d.recoveries, 0), unanswered: [...issued.values()].filter((e) => e.recording).length } : {}),
  };
  receipts = [];
  commands = [];
  heartbeatErrors = {};
  return m;
};
const timer = setInterval(() => send(records(false)), 100);
process.on('message', (m: DriversProcessCommand) => {
  if (m?.type === 'recording') recording = m.on;
  else if (m?.type === 'start')
    Promise.all(drivers.map((d) => d.start())).then(
      () => send({ type: 'started' }),
      (e: Error) => send({ type: 'started', error: e.message }),
    );
  else if (m?.type === 'stop') {
    clearInterval(timer);
    for (const d of drivers) d.stop();
    process.send?.(records(true), () => {
      for (const c of consoles) c.close();
      process.exit(0);
    });
  }
});
process.on('disconnect', () => process.exit(0));

async function connect(): Promise<void> {
  for (const c of consoles) {
    const r = await apiCall(o.url, 'POST', '/api/auth/login', undefined, { username: c.username, password: c.username });
    if (r.status !== 200) throw new Error(`login ${c.username}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
    await c.connect(o.url, r.json.token);
  }
}
connect().then(
  () => send({ type: 'ready' }),
  (e: Error) => send({ type: 'failed', message: e.message }),
);
