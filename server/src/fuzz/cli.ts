import { parseArgs } from 'node:util';
import { formatReport, runFuzz } from './run.ts';

/**
 * `npm run fuzz -- [--cases 10000] [--seed N] [--redis] [--only REGEX]`: the bad-input fuzzer against a real
 * server in this process. Prints one row per target and the totals; exits 1 on any 5xx, crash, contract
 * violation or state change.
 */
const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
    redis: { type: 'boolean', default: false },
    only: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  },
});
const cases = Number(values.cases);
const seed = Number(values.seed);
if (!Number.isInteger(cases) || cases < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--cases N ≥ 1] [--seed INTEGER] [--redis] [--only REGEX]');
  process.exit(2);
}
const redisUrl = values.redis ? (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') : undefined;
const report = await runFuzz({
  cases,
  seed,
  redisUrl,
  only: values.only ? new RegExp(values.only) : undefined,
  log: values.quiet ? undefined : (l) => process.stderr.write(`${l}\n`),
});
console.log(formatReport(report, seed));
process.exit(report.ok ? 0 : 1);
