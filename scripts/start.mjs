#!/usr/bin/env node
// `npm start`: builds what must be built (the UIs, when their sources exist), then runs the server with the
// embedded store and the simulated fleet on (SIM=on unless set otherwise).
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
/** newest modification time under `dir` (ms; 0 when it does not exist) */
function newest(dir) {
  if (!existsSync(dir)) return 0;
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}
for (const ui of ['control-room-ui', 'rider-app']) {
  if (!existsSync(resolve(root, ui, 'vite.config.ts'))) continue;
  const built = resolve(root, ui, 'dist', 'index.html');
  // a build older than its sources or the shared protocol (after a pull) would talk an old protocol: rebuild
  const stale = !existsSync(built) || statSync(built).mtimeMs < Math.max(newest(resolve(root, ui, 'src')), newest(resolve(root, 'server', 'src', 'protocol')));
  if (stale) {
    console.log(`building ${ui} …`);
    const r = spawnSync('npm', ['run', 'build', '-w', ui], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}
const env = { ...process.env, SIM: process.env.SIM ?? 'on' };
const child = spawn(resolve(root, 'node_modules', '.bin', 'tsx'), [resolve(root, 'server', 'src', 'main.ts')], { cwd: root, env, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
