import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import { waitMs } from '../kpi/kpis.ts';
import type { RunResult } from './runner.ts';
import type { Scenario } from './scenario.ts';

/** Renders a Vega-Lite spec to an SVG string headlessly (no browser, no canvas). */
async function svg(spec: object): Promise<string> {
  const compiled = vl.compile({ $schema: 'https://vega.github.io/schema/vega-lite/v6.json', width: 560, height: 220, ...spec } as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const out = await view.toSVG();
  view.finalize();
  return out;
}

const hhmm = (t: number, tz = 'Europe/Berlin') => new Date(t).toLocaleTimeString('de-DE', { hour: '2-digit', minute: '2-digit', timeZone: tz });

/** Writes kpis.json, report.md and the charts (SVG) beside it. */
export async function writeReport(dir: string, sc: Scenario, res: RunResult, seed: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'kpis.json'), `${JSON.stringify(res.kpis, null, 2)}\n`);
  const waits = res.trips.map(waitMs).filter((w): w is number => w !== null).map((w) => ({ waitMin: Math.round((w / 60_000) * 10) / 10 }));
  const wait = await svg({
    title: 'Wartezeit bis zum Einstieg (Minuten)',
    data: { values: waits },
    mark: { type: 'bar', color: '#2b6cb0' },
    encoding: { x: { field: 'waitMin', bin: { step: 1 }, title: 'Minuten' }, y: { aggregate: 'count', title: 'Fahrgäste' } },
  });
  const occ = await svg({
    title: 'Fahrgäste an Bord',
    data: { values: res.series.map((p) => ({ time: hhmm(p.t), t: p.t, onboard: p.onboard })) },
    mark: { type: 'line', point: true, color: '#2f855a' },
    encoding: { x: { field: 't', type: 'temporal', title: 'Uhrzeit' }, y: { field: 'onboard', type: 'quantitative', title: 'Personen' } },
  });
  const states = res.series.flatMap((p) =>
    (['driving', 'dwelling', 'idle', 'stopped'] as const).map((k) => ({ t: p.t, state: { driving: 'fährt', dwelling: 'hält', idle: 'wartet', stopped: 'MRM/Stopp' }[k], n: p[k] })),
  );
  const fleet = await svg({
    title: 'Flottenzustand',
    data: { values: states },
    mark: 'area',
    encoding: { x: { field: 't', type: 'temporal', title: 'Uhrzeit' }, y: { field: 'n', type: 'quantitative', stack: 'zero', title: 'Busse' }, color: { field: 'state', type: 'nominal', title: 'Zustand' } },
  });
  await writeFile(join(dir, 'wait-time-histogram.svg'), wait);
  await writeFile(join(dir, 'occupancy-over-time.svg'), occ);
  await writeFile(join(dir, 'fleet-state-over-time.svg'), fleet);
  const k = res.kpis;
  const fmt = (x: number | null, unit = '') => (x === null ? '–' : `${x}${unit}`);
  const md = `# Simulation report: ${sc.name}

${sc.description ?? ''}

- Scenario start: ${sc.start}, duration ${sc.durationMin} min, seed ${seed}
- Fleet: ${sc.fleet.length} buses; events recorded: ${res.events}

## KPIs

| KPI | value |
|---|---|
| requests | ${k.requests} |
| served (completed) | ${k.served} |
| rejected | ${k.rejected} ${Object.keys(k.rejectedByReason).length ? `(${Object.entries(k.rejectedByReason).map(([r, n]) => `${r}: ${n}`).join(', ')})` : ''} |
| cancelled / no-shows | ${k.cancelled} / ${k.noShows} |
| wait time mean / p50 / p95 / max | ${fmt(k.waitTimeS.mean, ' s')} / ${fmt(k.waitTimeS.p50, ' s')} / ${fmt(k.waitTimeS.p95, ' s')} / ${fmt(k.waitTimeS.max, ' s')} |
| in-vehicle time mean | ${fmt(k.inVehicleTimeS.mean, ' s')} |
| detour factor mean / p95 | ${fmt(k.detourFactor.mean)} / ${fmt(k.detourFactor.p95)} |
| promises kept | ${fmt(k.promisesKeptPct, ' %')} |
| occupancy (passenger-km ÷ vehicle-km) | ${fmt(k.occupancy)} |
| empty-km share | ${fmt(k.emptyKmShare)} |
| vehicle-km | ${k.vehicleKm} |
| energy | ${k.energyKWh} kWh |
| driver utilisation | ${fmt(k.driverUtilisation)} |

Definitions (shared with the live server, \`server/src/kpi/kpis.ts\`): wait = boarding time − desired time (request
time for immediate rides, the asked departure for pre-bookings); a promise is kept when the pickup lies in the
promised window and the ride stays within the promised maximum ride time (and arrival-by time); detour factor =
ride time ÷ direct travel time.

## Charts

![Wartezeit](wait-time-histogram.svg)

![Fahrgäste an Bord](occupancy-over-time.svg)

![Flottenzustand](fleet-state-over-time.svg)

Map data © OpenStreetMap contributors (ODbL).
`;
  await writeFile(join(dir, 'report.md'), md);
}
