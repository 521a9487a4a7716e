import { useMemo, useState } from 'react';
import { MODE_COLOUR, MODE_LABEL, useT } from '../i18n.ts';
import { fleet } from '../state/fleet.ts';
import { set, useStore } from '../state/store.ts';
import type { FleetVehicle } from '../state/types.ts';

type SortKey = 'label' | 'mode' | 'driver' | 'speed' | 'occupancy' | 'soc' | 'latency' | 'age';

/** Latency against the 200 ms control budget: text and colour (never colour alone). */
export function latencyClass(ms: number | null): { cls: string; text: string } {
  if (ms === null) return { cls: 'lat-unknown', text: '–' };
  if (ms <= 150) return { cls: 'lat-ok', text: `${Math.round(ms)} ms` };
  if (ms <= 200) return { cls: 'lat-warn', text: `${Math.round(ms)} ms ⚠` };
  return { cls: 'lat-bad', text: `${Math.round(ms)} ms ✕` };
}

export function ageText(receivedAt: number, now: number): { text: string; stale: boolean } {
  if (!receivedAt) return { text: '–', stale: true };
  const s = Math.max(0, (now - receivedAt) / 1000);
  return { text: s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`, stale: s > 2 };
}

export function FleetList() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  useStore((s) => s.fleetTick); // re-render a few times a second
  const selectedId = useStore((s) => s.selectedId);
  const [sort, setSort] = useState<{ key: SortKey; dir: 1 | -1 }>({ key: 'label', dir: 1 });
  const now = Date.now();
  // the server's receive time is on the server clock; the age is measured against our last receive
  const skew = fleet.lastReceived && fleet.lastServerT ? fleet.lastReceived - fleet.lastServerT : 0;
  const rows = useMemo(() => {
    const list = [...fleet.vehicles.values()];
    const val = (v: FleetVehicle): string | number => {
      switch (sort.key) {
        case 'label':
          return v.label;
        case 'mode':
          return v.mode;
        case 'driver':
          return v.driver ?? '';
        case 'speed':
          return v.speed;
        case 'occupancy':
          return v.occupancy.seats + v.occupancy.wheelchairs;
        case 'soc':
          return v.soc;
        case 'latency':
          return v.latencyMs ?? Infinity;
        case 'age':
          return -v.receivedAt;
      }
    };
    return list.sort((a, b) => {
      const x = val(a), y = val(b);
      return (x < y ? -1 : x > y ? 1 : a.id.localeCompare(b.id)) * sort.dir;
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [sort, fleet.vehicles.size, now]);
  const header = (key: SortKey, label: string) => (
    <th scope="col" aria-sort={sort.key === key ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
      <button className="sort" onClick={() => setSort((s) => ({ key, dir: s.key === key ? (-s.dir as 1 | -1) : 1 }))}>
        {label}
        {sort.key === key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}
      </button>
    </th>
  );
  return (
    <section className="panel fleet" aria-label={t('fleet')}>
      <h2>
        {t('fleet')} <span className="muted">({rows.length})</span>
      </h2>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              {header('label', t('bus'))}
              {header('mode', t('mode'))}
              {header('driver', t('driver'))}
              {header('speed', `${t('speed')} km/h`)}
              {header('occupancy', t('occupancy'))}
              <th scope="col">{t('wheelchairs')}</th>
              {header('soc', t('soc'))}
              {header('latency', t('latency'))}
              {header('age', t('age'))}
            </tr>
          </thead>
          <tbody>
            {rows.map((v) => {
              const lat = latencyClass(v.latencyMs);
              const age = ageText(v.receivedAt + skew, now);
              return (
                <tr key={v.id} className={v.id === selectedId ? 'selected' : ''} aria-selected={v.id === selectedId}>
                  <td>
                    <button className="link" onClick={() => set({ selectedId: v.id })} aria-label={`${t('selectBus')} ${v.label}`}>
                      {v.label}
                    </button>
                  </td>
                  <td>
                    <span className="mode-dot" style={{ background: MODE_COLOUR[v.mode] }} aria-hidden="true" /> {MODE_LABEL[lang][v.mode] ?? v.mode}
                  </td>
                  <td>{v.driver ?? '–'}</td>
                  <td className="num">{(v.speed * 3.6).toFixed(0)}</td>
                  <td className="num">
                    {v.occupancy.seats}/{v.capacity.seats}
                  </td>
                  <td className="num">
                    {v.occupancy.wheelchairs}/{v.capacity.wheelchairs}
                  </td>
                  <td className={`num ${v.soc < 0.25 ? 'warn' : ''}`}>{Math.round(v.soc * 100)} %</td>
                  <td className={`num ${lat.cls}`}>{lat.text}</td>
                  <td className={`num ${age.stale ? 'stale' : ''}`}>{age.text}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
