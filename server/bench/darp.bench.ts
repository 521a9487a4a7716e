/**
 * Static DARP benchmark on Cordeau (2006) instances a2-16 … a8-96.
 *
 *   npm run bench:darp -- [--time-limit S] [--seed N] [--only a2-16,a5-] [--dir PATH] [FILTER...]
 *
 * Filters (--only, comma-separated, or positional) keep instances whose name contains any of them.
 *
 * Solves each instance within the time limit (default 10 s), re-validates the written solution with the
 * independent checker and prints a table (instance, best known, cost, gap %, feasible, seconds) and the mean gap.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseCordeau } from '../src/dispatch/darp/parse.ts';
import { buildInstance } from '../src/dispatch/darp/instance.ts';
import { solve } from '../src/dispatch/darp/alns.ts';
import { toSolutionJson } from '../src/dispatch/darp/solution.ts';
import { checkSolution } from '../src/dispatch/darp/checker.ts';
import { BEST_KNOWN } from '../src/dispatch/darp/bestKnown.ts';

const USAGE = 'usage: npm run bench:darp -- [--time-limit S>0] [--seed INT] [--only a2-16,a5-] [--dir PATH] [FILTER...]';
function fail(msg: string): never {
  process.stderr.write(`bench:darp: ${msg}\n${USAGE}\n`);
  process.exit(2);
}
let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: {
      'time-limit': { type: 'string', default: '10' },
      seed: { type: 'string', default: '1' },
      only: { type: 'string' },
      dir: { type: 'string' },
    },
  });
} catch (e) {
  fail((e as Error).message);
}
const { values, positionals } = parsed;
const limit = Number(values['time-limit']);
const seed = Number(values.seed);
if (!(limit > 0)) fail(`--time-limit must be a positive number of seconds`);
if (!Number.isInteger(seed)) fail(`--seed must be an integer`);
const dir = values.dir ?? resolve(import.meta.dirname, '../../../shared/darp/cordeau-a');
const filters = [...(values.only ? values.only.split(',') : []), ...positionals].map((s) => s.trim()).filter(Boolean);
let entries: string[] = [];
try {
  entries = readdirSync(dir);
} catch {
  fail(`cannot read instance directory ${dir}`);
}
const files = entries
  .filter((f) => f.endsWith('.txt'))
  .map((f) => f.slice(0, -4))
  .filter((name) => filters.length === 0 || filters.some((f) => name.includes(f)))
  .sort((a, b) => {
    const [, ma, na] = a.match(/^a(\d+)-(\d+)/) ?? [];
    const [, mb, nb] = b.match(/^a(\d+)-(\d+)/) ?? [];
    return Number(ma) - Number(mb) || Number(na) - Number(nb) || a.localeCompare(b);
  });

if (files.length === 0) fail(`no instance in ${dir} matches ${filters.join(', ')}`);

const cols = [
  ['instance', 9], ['best known', 11], ['cost', 10], ['gap %', 7], ['feasible', 9], ['iterations', 11], ['seconds', 8],
] as const;
const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(cols[i][1]) : c.padStart(cols[i][1]))).join('  ');
console.log(`DARP ALNS, ${limit} s per instance, seed ${seed}`);
console.log(row(cols.map((c) => c[0])));
console.log(row(cols.map((c) => '-'.repeat(c[1]))));

const gaps: number[] = [];
let allFeasible = true;
for (const name of files) {
  const raw = parseCordeau(readFileSync(join(dir, `${name}.txt`), 'utf8'), name);
  const inst = buildInstance(raw);
  const t0 = performance.now();
  const res = solve(inst, { seed, deadline: t0 + limit * 1000, now: () => performance.now() });
  const secs = (performance.now() - t0) / 1000;
  const json = toSolutionJson(res.best);
  const check = checkSolution(raw, json);
  const bk = BEST_KNOWN[name];
  const gap = bk !== undefined && check.feasible ? ((json.cost - bk) / bk) * 100 : NaN;
  if (Number.isFinite(gap)) gaps.push(gap);
  allFeasible &&= check.feasible;
  console.log(
    row([
      name, bk !== undefined ? bk.toFixed(2) : '-', json.cost.toFixed(2), Number.isFinite(gap) ? (Math.abs(gap) < 0.005 ? 0 : gap).toFixed(2) : '-',
      String(check.feasible), String(res.iterations), secs.toFixed(1),
    ]),
  );
  if (!check.feasible) for (const v of check.violations.slice(0, 5)) console.log(`    ${v}`);
}
const mean = gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : NaN;
console.log('');
console.log(`mean gap ${mean.toFixed(2)} % over ${gaps.length} instances; all feasible: ${allFeasible}`);
