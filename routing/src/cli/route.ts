/**
 * Routing CLI.
 *   npm run route -- --from LAT,LON --to LAT,LON [--via LAT,LON ...] [--lang de|en] [--json]
 *   npm run route -- --pairs FILE        (lines lat1<TAB>lon1<TAB>lat2<TAB>lon2 → duration_s<TAB>distance_m | none)
 * Only results go to stdout; progress and errors go to stderr.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { RoutingEngine } from '../engine.ts';
import { SnapError } from '../graph/snap.ts';
import { LANGUAGES, type Lang } from '../osrm/instructions.ts';

const USAGE = `usage: npm run route -- --from LAT,LON --to LAT,LON [--via LAT,LON]... [--lang de|en] [--json]
       npm run route -- --pairs FILE`;

function fail(msg: string): never {
  process.stderr.write(`route: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

export function parseLatLon(s: string): { lat: number; lon: number } | null {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(s);
  if (!m) return null;
  const lat = Number(m[1]), lon = Number(m[2]);
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return { lat, lon };
}

function fmtDuration(s: number): string {
  const m = Math.floor(s / 60), sec = Math.round(s % 60);
  return m > 0 ? `${m} min ${sec} s` : `${sec} s`;
}

export function pairsLines(engine: RoutingEngine, text: string, warn: (m: string) => void): string[] {
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const f = line.split('\t').map(Number);
    if (f.length !== 4 || f.some((x) => !Number.isFinite(x)) || Math.abs(f[0]) > 90 || Math.abs(f[2]) > 90 || Math.abs(f[1]) > 180 || Math.abs(f[3]) > 180) {
      warn(`line ${i + 1}: expected lat1<TAB>lon1<TAB>lat2<TAB>lon2, got ${JSON.stringify(line)}`);
      out.push('none');
      return;
    }
    try {
      const a = engine.snap(f[0], f[1]), b = engine.snap(f[2], f[3]);
      const t = engine.travel(a, b);
      out.push(t ? `${(t.duration / 1000).toFixed(1)}\t${t.distance.toFixed(1)}` : 'none');
    } catch (e) {
      if (!(e instanceof SnapError)) throw e;
      out.push('none');
    }
  });
  return out;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        from: { type: 'string' },
        to: { type: 'string' },
        via: { type: 'string', multiple: true },
        lang: { type: 'string', default: 'de' },
        json: { type: 'boolean', default: false },
        pairs: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const lang = args.lang as Lang;
  if (!LANGUAGES.includes(lang)) fail(`--lang must be one of ${LANGUAGES.join(', ')}`);
  let pairsText: string | null = null;
  if (args.pairs !== undefined) {
    try {
      pairsText = readFileSync(args.pairs, 'utf8');
    } catch (e) {
      fail(`cannot read ${args.pairs}: ${(e as Error).message}`);
    }
  } else if (!args.from || !args.to) fail('give --from and --to, or --pairs FILE');
  const points = pairsText === null ? [args.from!, ...(args.via ?? []), args.to!].map((s) => parseLatLon(s) ?? fail(`not a LAT,LON coordinate: ${s}`)) : [];

  const engine = await RoutingEngine.load({ log: (m) => process.stderr.write(`${m}\n`) });
  if (pairsText !== null) {
    const lines = pairsLines(engine, pairsText, (m) => process.stderr.write(`route: ${m}\n`));
    process.stdout.write(lines.length ? `${lines.join('\n')}\n` : '');
    return;
  }
  const res = engine.route(points, { lang });
  if (args.json) {
    process.stdout.write(`${JSON.stringify(res)}\n`);
    if (res.code !== 'Ok') process.exitCode = 1;
    return;
  }
  if (res.code !== 'Ok') {
    process.stderr.write(`route: ${res.code}: ${res.message ?? ''}\n`);
    process.exit(1);
  }
  const r = res.routes[0];
  const en = lang === 'en';
  process.stdout.write(`${en ? 'Distance' : 'Strecke'}: ${(r.distance / 1000).toFixed(2)} km\n${en ? 'Duration' : 'Fahrzeit'}: ${fmtDuration(r.duration)} (${r.duration.toFixed(1)} s)\n\n`);
  let n = 1;
  for (const leg of r.legs) {
    for (const step of leg.steps) {
      const dist = step.distance > 0 ? ` (${step.distance < 1000 ? `${Math.round(step.distance)} m` : `${(step.distance / 1000).toFixed(1)} km`})` : '';
      process.stdout.write(`${String(n++).padStart(2)}. ${step.instruction}${dist}\n`);
    }
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    process.stderr.write(`route: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
