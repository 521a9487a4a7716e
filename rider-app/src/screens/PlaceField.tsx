import { useEffect, useId, useRef, useState } from 'react';
import { api } from '../api.ts';
import { fmtTime } from '../format.ts';
import { insideRing } from '../geo.ts';
import type { TextKey } from '../i18n.ts';
import { useStore, type AddressPlace } from '../store.ts';
import type { Departures, GeocodeHit } from '../types.ts';
import { useT } from '../ui.tsx';

function categoryKey(h: GeocodeHit): TextKey {
  if (h.kind === 'street') return 'cat.street';
  if (h.category === 'bus_stop') return 'cat.bus_stop';
  if (h.category === 'building') return 'cat.building';
  if (h.category === 'place') return 'cat.place';
  if (h.category === 'station') return 'cat.station';
  return 'cat.poi';
}

/** The text under a search result: what kind of place, its street, and warnings in words. */
function hitDetail(h: GeocodeHit, t: ReturnType<typeof useT>, asked: string | null): string {
  const parts: string[] = [];
  if (h.kind === 'address' && h.approximate) parts.push(t('book.approximate', { asked: asked ?? '' }));
  else if (h.kind !== 'address') parts.push(t(categoryKey(h)));
  if (h.kind === 'poi' && h.context) parts.push(h.context);
  if (!h.inServiceArea) parts.push(t('book.outsideArea'));
  return parts.join(' · ');
}

/**
 * Address search as an ARIA combobox: type, arrow keys through the results, Enter (or a tap) takes one.
 * Results come from the server's geocoder over the OSM extract (forgiving of umlauts, "str." and typos).
 */
export function AddressSearch(props: { which: 'from' | 'to'; label: string; onChoose: (p: AddressPlace) => void; inputRef?: React.RefObject<HTMLInputElement | null> }) {
  const t = useT();
  const id = useId();
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<GeocodeHit[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const [state, setState] = useState<'idle' | 'searching' | 'done' | 'error'>('idle');
  const seq = useRef(0);

  useEffect(() => {
    const query = q.trim();
    if (query.length < 2) {
      setHits([]);
      setState('idle');
      return;
    }
    const my = ++seq.current;
    const ctrl = new AbortController();
    setState('searching');
    const timer = setTimeout(() => {
      api
        .geocode(query, ctrl.signal)
        .then((r) => {
          if (my !== seq.current) return;
          setHits(r);
          setActive(r.length ? 0 : -1);
          setOpen(true);
          setState('done');
        })
        .catch((e) => {
          if ((e as Error).name !== 'AbortError' && my === seq.current) setState('error');
        });
    }, 220);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
  }, [q]);

  const askedNumber = /(\d{1,4}\s*[a-zA-Z]?)\s*$/.exec(q.trim())?.[1]?.replace(/\s+/g, '') ?? null;
  const choose = (h: GeocodeHit) => {
    setOpen(false);
    props.onChoose({ lat: h.lat, lon: h.lon, label: h.label, source: 'search', detail: hitDetail(h, t, askedNumber) || undefined, outside: !h.inServiceArea });
  };
  const onKey = (e: React.KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (hits.length ? (a + 1) % hits.length : -1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => (hits.length ? (a - 1 + hits.length) % hits.length : -1));
    } else if (e.key === 'Enter') {
      if (open && hits[active]) {
        e.preventDefault();
        choose(hits[active]);
      }
    } else if (e.key === 'Escape') {
      setOpen(false);
    }
  };
  const listId = `${id}-list`;
  const expanded = open && hits.length > 0;
  const status =
    state === 'searching' ? t('book.searching') : state === 'error' ? t('error.network') : state === 'done' ? (hits.length ? t('book.searchResults', { n: hits.length }) : t('book.searchNone')) : '';
  return (
    <div className="search">
      <label htmlFor={`${id}-input`} className="field-label">
        {props.label}
      </label>
      <p id={`${id}-hint`} className="hint">
        {t('book.searchHint')}
      </p>
      <input
        id={`${id}-input`}
        ref={props.inputRef}
        className="input"
        type="text"
        role="combobox"
        autoComplete="off"
        autoCorrect="off"
        spellCheck={false}
        enterKeyHint="search"
        aria-autocomplete="list"
        aria-expanded={expanded}
        aria-controls={listId}
        aria-describedby={`${id}-hint ${id}-status`}
        aria-activedescendant={expanded && active >= 0 ? `${id}-opt-${active}` : undefined}
        value={q}
        onChange={(e) => {
          setQ(e.target.value);
          setOpen(true);
        }}
        onKeyDown={onKey}
        onBlur={() => setTimeout(() => setOpen(false), 150)}
        onFocus={() => hits.length && setOpen(true)}
        data-field={props.which}
      />
      <p id={`${id}-status`} className="hint search-status" role="status" aria-live="polite">
        {status}
      </p>
      <ul id={listId} role="listbox" aria-label={props.label} className="results" hidden={!expanded}>
        {hits.map((h, i) => (
          <li
            key={`${h.kind}-${h.label}-${h.lat}-${h.lon}`}
            id={`${id}-opt-${i}`}
            role="option"
            aria-selected={i === active}
            className={`result ${i === active ? 'active' : ''}`}
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => choose(h)}
          >
            <span className="result-label">{h.label}</span>
            <span className="result-detail">{hitDetail(h, t, askedNumber)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Next line departures at the chosen hub (from the timetable; the shipped one is marked synthetic). */
export function HubDepartures({ hubId }: { hubId: string }) {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const hub = useStore((s) => s.hubs.find((h) => h.id === hubId));
  const [deps, setDeps] = useState<Departures | null>(null);
  useEffect(() => {
    let alive = true;
    const load = () =>
      api
        .departures(hubId, undefined, 3)
        .then((d) => alive && setDeps(d))
        .catch(() => alive && setDeps(null));
    void load();
    const timer = setInterval(load, 60_000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [hubId]);
  if (!hub || !deps) return null;
  return (
    <div className="departures" aria-live="off">
      <p className="departures-title">{t('book.departures', { stop: hub.stop })}</p>
      {deps.departures.length ? (
        <ul>
          {deps.departures.map((d) => (
            <li key={`${d.lineId}-${d.time}`}>{t('book.departure', { time: fmtTime(lang, d.time), line: d.lineId, headsign: (d.headsign ?? '').replace(/\s*\((synthetisch|synthetic)\)\s*/i, '') })}</li>
          ))}
        </ul>
      ) : (
        <p>{t('book.noDepartures')}</p>
      )}
      {deps.synthetic && <p className="hint">{t('book.syntheticTimetable')}</p>}
    </div>
  );
}

/**
 * One end of the ride: an address (search, my location, or a tap on the map) or a transfer hub.
 */
export function PlaceField({ which }: { which: 'from' | 'to' }) {
  const t = useT();
  const id = useId();
  const slot = useStore((s) => s.form[which]);
  const hubs = useStore((s) => s.hubs);
  const area = useStore((s) => s.area);
  const updateSlot = useStore((s) => s.updateSlot);
  const setMapTarget = useStore((s) => s.setMapTarget);
  const [geo, setGeo] = useState<'idle' | 'locating' | 'denied' | 'failed'>('idle');
  const inputRef = useRef<HTMLInputElement>(null);
  const changeRef = useRef<HTMLButtonElement>(null);
  const focusAfter = useRef<'input' | 'change' | null>(null);
  const title = which === 'from' ? t('book.from') : t('book.to');

  useEffect(() => {
    if (focusAfter.current === 'input') inputRef.current?.focus();
    if (focusAfter.current === 'change') changeRef.current?.focus();
    focusAfter.current = null;
  }, [slot.address]);

  const choose = (p: AddressPlace) => {
    focusAfter.current = 'change';
    updateSlot(which, { address: p });
  };
  const locate = () => {
    if (!('geolocation' in navigator)) {
      setGeo('failed');
      return;
    }
    setGeo('locating');
    navigator.geolocation.getCurrentPosition(
      async (pos) => {
        const p = { lat: pos.coords.latitude, lon: pos.coords.longitude };
        const ring = area?.features[0]?.geometry.coordinates[0];
        let detail: string | undefined;
        try {
          const r = await api.reverse(p.lat, p.lon);
          detail = t('book.nearAddress', { label: r.label });
        } catch {
          /* no named place nearby: the coordinates are enough to book */
        }
        setGeo('idle');
        choose({ ...p, label: t('book.myLocation'), detail, source: 'gps', outside: ring ? !insideRing(ring, p) : false });
      },
      (err) => setGeo(err.code === err.PERMISSION_DENIED ? 'denied' : 'failed'),
      { enableHighAccuracy: true, timeout: 15_000, maximumAge: 60_000 },
    );
  };

  return (
    <fieldset className="place card" data-place={which}>
      <legend className="card-title">{title}</legend>
      <div className="segmented" role="radiogroup" aria-label={`${title}: ${t('book.placeKind')}`}>
        {(['address', 'hub'] as const).map((mode) => (
          <label key={mode} className={`segment ${slot.mode === mode ? 'checked' : ''}`}>
            <input
              type="radio"
              name={`${id}-mode`}
              value={mode}
              checked={slot.mode === mode}
              onChange={() => {
                updateSlot(which, { mode });
                if (mode === 'address') setMapTarget(which);
              }}
            />
            <span>{mode === 'address' ? t('book.kindAddress') : t('book.kindHub')}</span>
          </label>
        ))}
      </div>

      {slot.mode === 'hub' ? (
        <div className="hubs" role="radiogroup" aria-label={`${title}: ${t('book.hubLegend')}`}>
          {hubs.map((h) => (
            <label key={h.id} className={`hub-option ${slot.hubId === h.id ? 'checked' : ''}`}>
              <input type="radio" name={`${id}-hub`} value={h.id} checked={slot.hubId === h.id} onChange={() => updateSlot(which, { hubId: h.id })} />
              <span className="hub-name">{h.name}</span>
              <span className="hub-stop">{t('book.hubStop', { stop: h.stop })}</span>
            </label>
          ))}
          <HubDepartures hubId={slot.hubId} />
        </div>
      ) : slot.address ? (
        <div className="chosen">
          <p>
            <span className="chosen-label">{t('book.chosen', { label: slot.address.label })}</span>
            {slot.address.detail && <span className="chosen-detail">{slot.address.detail}</span>}
            {slot.address.outside && <span className="warning">⚠ {t('book.outsideArea')}</span>}
          </p>
          <button
            ref={changeRef}
            type="button"
            className="btn btn-secondary"
            aria-label={`${title}: ${t('book.change')}`}
            onClick={() => {
              focusAfter.current = 'input';
              updateSlot(which, { address: null });
              setMapTarget(which);
            }}
          >
            {t('book.change')}
          </button>
        </div>
      ) : (
        <>
          <AddressSearch which={which} label={`${title}: ${t('book.search')}`} onChoose={choose} inputRef={inputRef} />
          <div className="row">
            <button type="button" className="btn btn-secondary" onClick={locate} disabled={geo === 'locating'}>
              <span aria-hidden="true">◎ </span>
              {t('book.useLocation')}
            </button>
          </div>
          <p className="hint" role="status">
            {geo === 'locating' ? t('book.locating') : geo === 'denied' ? t('book.locationDenied') : geo === 'failed' ? t('book.locationFailed') : ''}
          </p>
        </>
      )}
    </fieldset>
  );
}
