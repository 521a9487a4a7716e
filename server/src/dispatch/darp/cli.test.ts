import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { nodeIo, runCli, type CliIo } from './cli.ts';
import { parseCordeau } from './parse.ts';
import { checkSolution } from './checker.ts';

const root = resolve(import.meta.dirname, '../../../..');
const dir = resolve(root, '../shared/darp/cordeau-a');
const raw = (name: string) => parseCordeau(readFileSync(`${dir}/${name}.txt`, 'utf8'), name);

function captureIo(): CliIo & { stdout: string[]; stderr: string[]; files: Map<string, string> } {
  const stdout: string[] = [], stderr: string[] = [], files = new Map<string, string>();
  return {
    ...nodeIo,
    stdout, stderr, files,
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
    writeFile: (p, t) => files.set(p, t),
  };
}

describe('darp CLI', () => {
  it('solves a2-16 in a spawned process; the last line and the --out file agree and pass the independent checker', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'darp-')), 'a2-16.json');
    const r = spawnSync('npx', ['tsx', 'server/src/dispatch/darp/cli.ts', `${dir}/a2-16.txt`, '--time-limit', '1', '--seed', '3', '--out', out], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(r.status).toBe(0);
    const last = r.stdout.trim().split('\n').at(-1)!;
    const m = last.match(/^cost (\S+) feasible (true|false)$/);
    expect(m).not.toBeNull();
    const sol = JSON.parse(readFileSync(out, 'utf8'));
    expect(Number(m![1])).toBe(sol.cost);
    expect(m![2]).toBe('true');
    const report = checkSolution(raw('a2-16'), sol);
    expect(report.violations).toEqual([]);
    expect(sol.cost).toBeLessThan(294.25 * 1.05); // loose: the machine may be busy; the bench measures quality
  });

  it.each([
    ['a5-50', 1.5],
    ['a8-96', 2],
  ])('writes a feasible solution for %s within a short time limit', (name, secs) => {
    const io = captureIo();
    const res = runCli([`${dir}/${name}.txt`, '--time-limit', String(secs), '--out', 'sol.json'], io);
    expect(res.code).toBe(0);
    expect(io.stdout.at(-1)).toMatch(/^cost \d+(\.\d+)? feasible true$/);
    const written = JSON.parse(io.files.get('sol.json')!);
    expect(checkSolution(raw(name), written).violations).toEqual([]);
    expect(written.instance).toBe(name);
  });

  it('exits with code 2 and a one-line message, no stack trace, for a missing file (spawned)', () => {
    const r = spawnSync('npx', ['tsx', 'server/src/dispatch/darp/cli.ts', 'no/such/file.txt'], { cwd: root, encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot read instance file "no\/such\/file.txt"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['--time-limit', '1'], /missing instance FILE/],
    [[`${dir}/a2-16.txt`, '--time-limit', '0'], /--time-limit must be a positive number/],
    [[`${dir}/a2-16.txt`, '--seed', '1.5'], /--seed must be an integer/],
    [[`${dir}/a2-16.txt`, '--frobnicate'], /Unknown option/],
  ])('rejects bad arguments %# with exit code 2', (argv, msg) => {
    const io = captureIo();
    expect(runCli(argv, io).code).toBe(2);
    expect(io.stderr.join('\n')).toMatch(msg);
  });

  it('rejects a malformed instance with exit code 2', () => {
    const io = captureIo();
    io.readFile = () => '2 32 480 3 30\n0 0 0 0 0 0 1440\n1 1 1 3 1 0 1440\n';
    expect(runCli(['broken.txt'], io).code).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/malformed instance: broken: expected 33 node rows/);
  });
});
