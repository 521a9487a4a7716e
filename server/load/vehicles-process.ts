/**
 * The load's buses in a process of their own (started by run.ts with fork): the consoles' JSON work in the main
 * load process must not delay the buses' 10 Hz states (a bus silent for 500 ms is a lost link to the server).
 * Reports to the parent every 100 ms: the states sent (bus index, sentAt), the commands that arrived (epoch ms),
 * and once a second this process's event-loop delay.
 */
import { loopLagEverySecond, type ChildStatus } from './child.ts';
import type { LoadVehicle } from './fixtures.ts';
import { LoadFleet } from './vehicles.ts';

export interface VehiclesProcessOptions {
  url: string;
  vehicles: LoadVehicle[];
  hz: number;
  seed: number;
}
/** sent: flat [bus index, sentAt, …]; commands: arrivals on board */
export type VehiclesProcessRecords = { type: 'records'; sent: number[]; commands: { vehicleId: string; seq: number; by: string; at: number }[]; lagMaxMs?: number; connected?: number; final?: boolean };

const send = (m: VehiclesProcessRecords | ChildStatus) => process.send?.(m);
const o = JSON.parse(process.argv[2] ?? '{}') as VehiclesProcessOptions;
const index = new Map(o.vehicles.map((v, i) => [v.id, i]));
let sent: number[] = [];
let commands: { vehicleId: string; seq: number; by: string; at: number }[] = [];
const lag = loopLagEverySecond();
const fleet = new LoadFleet(o.url, o.vehicles, {
  hz: o.hz,
  seed: o.seed,
  onSent: (id, sentAt) => sent.push(index.get(id)!, sentAt),
  onCommand: (c) => commands.push({ vehicleId: c.vehicleId, seq: c.seq, by: c.by, at: Date.now() }),
});
const records = (final: boolean): VehiclesProcessRecords => {
  const lagMaxMs = lag();
  const m: VehiclesProcessRecords = { type: 'records', sent, commands, ...(lagMaxMs !== undefined ? { lagMaxMs, connected: fleet.connected } : {}), ...(final ? { final } : {}) };
  sent = [];
  commands = [];
  return m;
};
const timer = setInterval(() => send(records(false)), 100);
process.on('message', (m: { type?: string }) => {
  if (m?.type !== 'stop') return;
  clearInterval(timer);
  fleet.stop();
  process.send?.(records(true), () => process.exit(0));
});
// the parent gone (killed, crashed): stop too
process.on('disconnect', () => process.exit(0));
fleet.start().then(
  () => send({ type: 'ready' }),
  (e: Error) => send({ type: 'failed', message: e.message }),
);
