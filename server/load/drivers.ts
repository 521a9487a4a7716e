import { join } from 'node:path';
import { forkLoadChild } from './child.ts';
import type { AnsweredCommand, DriversProcessCommand, DriversProcessOptions, DriversProcessRecords, DriversStarted } from './drivers-process.ts';

/** The drivers' consoles process seen from the load's main process (run.ts). */
export interface DriversProcess {
  pid: number;
  /** resolves when every driver's console is logged in and connected */
  ready: Promise<void>;
  /** every driver takes their bus; resolves when all hold one */
  start(): Promise<void>;
  recording(on: boolean): void;
  /** longest event-loop delay of the process in the last reported second, ms */
  lagMaxMs(): number | null;
  /** consoles connected, as last reported */
  connected(): number;
  /** times a driver had to take their bus again, and commands sent while recording never answered (after stop) */
  recoveries(): number;
  unanswered(): number;
  stop(): Promise<void>;
}

export function startDriversProcess(
  o: DriversProcessOptions,
  on: {
    received: (vehicleId: string, sentAt: number, now: number, receivedAt?: number, fannedOutAt?: number) => void;
    answered: (c: AnsweredCommand) => void;
    heartbeatErrors: (counts: Record<string, number>) => void;
  },
): DriversProcess {
  let lag: number | null = null;
  let recoveries = 0;
  let unanswered = 0;
  let connected = o.drivers.length;
  let started: { res: () => void; rej: (e: Error) => void } | null = null;
  const opt = (x: number) => (Number.isNaN(x) ? undefined : x);
  const child = forkLoadChild<DriversProcessRecords | DriversStarted>(join(import.meta.dirname, 'drivers-process.ts'), o, 'drivers process', (m) => {
    if (m.type === 'started') return m.error ? started?.rej(new Error(`drivers process: ${m.error}`)) : started?.res();
    const r = m.receipts;
    for (let i = 0; i < r.length; i += 5) on.received(o.vehicleIds[r[i]], r[i + 1], r[i + 2], opt(r[i + 3]), opt(r[i + 4]));
    for (const c of m.commands) on.answered(c);
    on.heartbeatErrors(m.heartbeatErrors);
    if (m.lagMaxMs !== undefined) lag = m.lagMaxMs;
    if (m.connected !== undefined) connected = m.connected;
    if (m.recoveries !== undefined) recoveries = m.recoveries;
    if (m.unanswered !== undefined) unanswered = m.unanswered;
  });
  const command = (m: DriversProcessCommand) => child.send(m);
  return {
    pid: child.pid,
    ready: child.ready,
    start: () =>
      new Promise<void>((res, rej) => {
        started = { res, rej };
        void child.ready.catch(rej);
        command({ type: 'start' });
      }),
    recording: (on) => command({ type: 'recording', on }),
    lagMaxMs: () => lag,
    connected: () => connected,
    recoveries: () => recoveries,
    unanswered: () => unanswered,
    stop: () => child.stop(),
  };
}
