import { memo, useMemo, useRef, useState } from 'react';
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
  const wrap = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
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
  // only the rows in view (and a few around) are in the document: with 200 buses, re-rendering every row a few
  // times a second cost the page hundreds of ms of layout per update and the map dropped frames
  const viewH = wrap.current?.clientHeight ?? 600;
  const first = Math.max(0, Math.floor(scrollTop / ROW_H) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((scrollTop + viewH) / ROW_H) + OVERSCAN);
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
      <div className="table-wrap" ref={wrap} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
        <table aria-rowcount={rows.length + 1}>
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
            {first > 0 ? <tr aria-hidden="true" style={{ height: first * ROW_H }} /> : null}
            {rows.slice(first, last).map((v) => {
              const lat = latencyClass(v.latencyMs);
              const age = ageText(v.receivedAt ? v.receivedAt + skew : 0, now); // 0: never heard from
              return (
                <Row
                  key={v.id}
                  id={v.id}
                  label={v.label}
                  selected={v.id === selectedId}
                  selectText={`${t('selectBus')} ${v.label}`}
                  modeColour={MODE_COLOUR[v.mode] ?? '#888'}
                  modeText={MODE_LABEL[lang][v.mode] ?? v.mode}
                  driver={v.driver ?? '–'}
                  speed={(v.speed * 3.6).toFixed(0)}
                  seats={`${v.occupancy.seats}/${v.capacity.seats}`}
                  wheelchairs={`${v.occupancy.wheelchairs}/${v.capacity.wheelchairs}`}
                  socLow={v.soc < 0.25}
                  soc={`${Math.round(v.soc * 100)} %`}
                  latCls={lat.cls}
                  latText={lat.text}
                  ageText={age.text}
                  stale={age.stale}
                />
              );
            })}
            {last < rows.length ? <tr aria-hidden="true" style={{ height: (rows.length - last) * ROW_H }} /> : null}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** fixed row height (px, as in styles.css), so the rows out of view can be left out */
const ROW_H = 30;
const OVERSCAN = 6;

interface RowProps {
  id: string;
  label: string;
  selected: boolean;
  selectText: string;
  modeColour: string;
  modeText: string;
  driver: string;
  speed: string;
  seats: string;
  wheelchairs: string;
  socLow: boolean;
  soc: string;
  latCls: string;
  latText: string;
  ageText: string;
  stale: boolean;
}

/** One bus; all props are display strings, so React skips the rows whose text did not change. */
const Row = memo(function Row(p: RowProps) {
  return (
    <tr className={p.selected ? 'selected' : ''} aria-selected={p.selected}>
      <td>
        <button className="link" onClick={() => set({ selectedId: p.id })} aria-label={p.selectText}>
          {p.label}
        </button>
      </td>
      <td>
        <span className="mode-dot" style={{ background: p.modeColour }} aria-hidden="true" /> {p.modeText}
      </td>
      <td>{p.driver}</td>
      <td className="num">{p.speed}</td>
      <td className="num">{p.seats}</td>
      <td className="num">{p.wheelchairs}</td>
      <td className={`num ${p.socLow ? 'warn' : ''}`}>{p.soc}</td>
      <td className={`num ${p.latCls}`}>{p.latText}</td>
      <td className={`num ${p.stale ? 'stale' : ''}`}>{p.ageText}</td>
    </tr>
  );
});
