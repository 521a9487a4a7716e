#!/usr/bin/env node
// Runs a benchmark as production code runs: bundled once with esbuild (no on-the-fly TypeScript transpiling,
// no keep-names helpers), then executed by plain node. Usage: node scripts/bench.mjs path/to/x.bench.ts [args]
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/bench.mjs BENCH.ts [args]');
  process.exit(2);
}
const outdir = resolve(root, '.cache', 'bench');
mkdirSync(outdir, { recursive: true });
const outfile = resolve(outdir, basename(entry).replace(/\.ts$/, '.mjs'));
await build({ entryPoints: [resolve(root, entry)], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'warning' });
const child = spawn(process.execPath, [outfile, ...args], { stdio: 'inherit', cwd: root });
child.on('exit', (code) => process.exit(code ?? 1));
