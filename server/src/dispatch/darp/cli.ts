/**
 * Static dial-a-ride solver, command line edge.
 *
 *   npm run darp -- FILE [--time-limit S] [--seed N] [--out SOLUTION.json]
 *
 * Last stdout line: `cost <total distance> feasible <true|false>`; feasibility is decided by the independent
 * checker on the solution as written. Bad input → message on stderr, exit code 2. This is the only module that
 * reads the clock and the file system; the solver core gets a deadline and a `now` function.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { DarpInputError, parseCordeau } from './parse.ts';
import { buildInstance } from './instance.ts';
import { solve } from './alns.ts';
import { toSolutionJson, type SolutionJson } from './solution.ts';
import { checkSolution, type CheckReport } from './checker.ts';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  now: () => number;
  readFile: (path: string) => string;
  writeFile: (path: string, text: string) => void;
}

export const nodeIo: CliIo = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (l) => process.stderr.write(l + '\n'),
  now: () => performance.now(),
  readFile: (p) => readFileSync(p, 'utf8'),
  writeFile: (p, t) => writeFileSync(p, t),
};

const USAGE = 'usage: npm run darp -- FILE [--time-limit SECONDS] [--seed INT] [--out SOLUTION.json]';

export interface CliResult {
  code: number;
  solution?: SolutionJson;
  check?: CheckReport;
}

class UsageError extends Error {}

function parseCli(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'time-limit': { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new UsageError('');
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing instance FILE' : 'exactly one instance FILE expected');
  const timeLimit = values['time-limit'] === undefined ? 10 : Number(values['time-limit']);
  if (!Number.isFinite(timeLimit) || timeLimit <= 0) throw new UsageError(`--time-limit must be a positive number of seconds, got "${values['time-limit']}"`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isSafeInteger(seed)) throw new UsageError(`--seed must be an integer, got "${values.seed}"`);
  return { file: positionals[0], timeLimit, seed, out: values.out };
}

/** Runs the CLI; returns the exit code (and, for tests, the solution and its check). */
export function runCli(argv: string[], io: CliIo = nodeIo): CliResult {
  let args: ReturnType<typeof parseCli>;
  try {
    args = parseCli(argv);
  } catch (e) {
    const msg = (e as Error).message;
    io.err(msg ? `darp: ${msg}\n${USAGE}` : USAGE);
    return { code: 2 };
  }
  const started = io.now();
  let text: string;
  try {
    text = io.readFile(args.file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    io.err(`darp: cannot read instance file "${args.file}"${code ? ` (${code})` : ''}`);
    return { code: 2 };
  }
  const name = basename(args.file, extname(args.file));
  let raw;
  try {
    raw = parseCordeau(text, name);
  } catch (e) {
    if (e instanceof DarpInputError) {
      io.err(`darp: malformed instance: ${e.message}`);
      return { code: 2 };
    }
    throw e;
  }
  const inst = buildInstance(raw);
  const res = solve(inst, { seed: args.seed, deadline: started + args.timeLimit * 1000, now: io.now });
  const solution = toSolutionJson(res.best);
  const check = checkSolution(raw, solution);
  if (args.out) {
    try {
      io.writeFile(args.out, JSON.stringify(solution) + '\n');
    } catch (e) {
      io.err(`darp: cannot write "${args.out}": ${(e as Error).message}`);
      return { code: 1, solution, check };
    }
  }
  const secs = (io.now() - started) / 1000;
  io.out(`instance ${name} requests ${inst.n} vehicles ${inst.m} iterations ${res.iterations} seconds ${secs.toFixed(2)}`);
  if (res.unassigned > 0) io.err(`darp: ${res.unassigned} request(s) could not be served`);
  for (const v of check.violations.slice(0, 10)) io.err(`darp: check: ${v}`);
  io.out(`cost ${solution.cost} feasible ${check.feasible}`);
  return { code: 0, solution, check };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = runCli(process.argv.slice(2)).code;
  } catch (e) {
    process.stderr.write(`darp: internal error: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
