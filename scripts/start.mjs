#!/usr/bin/env node
// `npm start`: builds what must be built (the UIs, when their sources exist), then runs the server with the
// embedded store and the simulated fleet on (SIM=on unless set otherwise).
import { spawnSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
for (const ui of ['control-room-ui', 'rider-app']) {
  if (existsSync(resolve(root, ui, 'vite.config.ts')) && !existsSync(resolve(root, ui, 'dist', 'index.html'))) {
    console.log(`building ${ui} …`);
    const r = spawnSync('npm', ['run', 'build', '-w', ui], { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}
const env = { ...process.env, SIM: process.env.SIM ?? 'on' };
const child = spawn(resolve(root, 'node_modules', '.bin', 'tsx'), [resolve(root, 'server', 'src', 'main.ts')], { cwd: root, env, stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
