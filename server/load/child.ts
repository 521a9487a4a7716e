import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** What every load child process reports besides its own records. */
export type ChildStatus = { type: 'ready' } | { type: 'failed'; message: string };

/**
 * A load child process (vehicles, drivers' consoles) started with fork under tsx: killed with this process, its
 * messages handed to `onMessage`; `stop()` asks it to send its last records and waits (SIGKILL after 10 s).
 * `ready` settles on its first 'ready' / 'failed' message.
 */
export function forkLoadChild<M extends { type: string; final?: boolean }>(file: string, options: unknown, what: string, onMessage: (m: M) => void) {
  const child = fork(file, [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  let finished: () => void = () => {};
  const final = new Promise<void>((r) => (finished = r));
  const exited = new Promise<void>((r) => child.once('exit', () => (process.off('exit', orphan), finished(), r())));
  let settle: { res: () => void; rej: (e: Error) => void } | null = null;
  const ready = new Promise<void>((res, rej) => (settle = { res, rej }));
  void exited.then(() => settle?.rej(new Error(`${what} ended before it was ready`)));
  child.on('message', (m: M | ChildStatus) => {
    if (m.type === 'ready') return settle?.res();
    if (m.type === 'failed') return settle?.rej(new Error(`${what}: ${(m as { message: string }).message}`));
    onMessage(m as M);
    if ((m as M).final) finished();
  });
  return {
    pid: child.pid!,
    ready,
    send: (m: unknown) => {
      if (child.connected) child.send(m as never);
    },
    async stop(): Promise<void> {
      if (child.exitCode !== null || !child.connected) return;
      child.send({ type: 'stop' });
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await Promise.all([final, exited]);
      clearTimeout(t);
    },
  };
}

/** In a child: its event-loop delay, worst per second (ms over the 10 ms resolution), for the parent's report. */
export function loopLagEverySecond(): () => number | undefined {
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  let last = Date.now();
  return () => {
    const now = Date.now();
    if (now - last < 1000) return undefined;
    const lag = loop.count ? Math.max(0, loop.max / 1e6 - 10) : 0;
    loop.reset();
    last = now;
    return lag;
  };
}
