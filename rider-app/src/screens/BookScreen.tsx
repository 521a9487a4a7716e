import { useId, useMemo, useRef, useState } from 'react';
import { requestOffer, slotLabel } from '../actions.ts';
import { api } from '../api.ts';
import { dateInputValue } from '../format.ts';
import { insideRing, type LatLon } from '../geo.ts';
import type { TextKey } from '../i18n.ts';
import { MapView, type MapMarker } from '../map/MapView.tsx';
import { useStore } from '../store.ts';
import { Stepper, useFocusHeading, useT } from '../ui.tsx';
import { PlaceField } from './PlaceField.tsx';

export function BookScreen() {
  const t = useT();
  const id = useId();
  const form = useStore((s) => s.form);
  const hubs = useStore((s) => s.hubs);
  const area = useStore((s) => s.area);
  const mapTarget = useStore((s) => s.mapTarget);
  const updateForm = useStore((s) => s.updateForm);
  const updateSlot = useStore((s) => s.updateSlot);
  const setMapTarget = useStore((s) => s.setMapTarget);
  const swap = useStore((s) => s.swap);
  const announce = useStore((s) => s.announce);
  const [errors, setErrors] = useState<TextKey[]>([]);
  const [busy, setBusy] = useState(false);
  const errorRef = useRef<HTMLDivElement>(null);
  const heading = useFocusHeading<HTMLHeadingElement>('book');

  // map taps choose the place of an address field: the one last chosen, else whichever is an address
  const target: 'from' | 'to' | null = form[mapTarget].mode === 'address' ? mapTarget : form.from.mode === 'address' ? 'from' : form.to.mode === 'address' ? 'to' : null;
  const fieldName = (w: 'from' | 'to') => (w === 'from' ? t('book.from') : t('book.to'));

  const onPick = async (p: LatLon) => {
    if (!target) return;
    const ring = area?.features[0]?.geometry.coordinates[0];
    let label = t('book.mapPicked');
    let detail: string | undefined = `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}`;
    try {
      const r = await api.reverse(p.lat, p.lon);
      label = r.label;
      detail = t('book.mapPicked');
    } catch {
      /* no name nearby: keep the coordinates */
    }
    updateSlot(target, { address: { ...p, label, detail, source: 'map', outside: ring ? !insideRing(ring, p) : false } });
    announce(t('book.chosen', { label }));
    // after the pickup, the next tap chooses the destination when that is an address too
    if (target === 'from' && form.to.mode === 'address' && !form.to.address) setMapTarget('to');
  };

  const markers = useMemo(() => {
    const m: MapMarker[] = hubs.map((h) => ({ id: `hub-${h.id}`, kind: 'hub', lat: h.lat, lon: h.lon, text: h.name }));
    const add = (w: 'from' | 'to') => {
      const s = form[w];
      const pos = s.mode === 'hub' ? hubs.find((h) => h.id === s.hubId) : s.address;
      if (pos) m.push({ id: w, kind: w === 'from' ? 'pickup' : 'dropoff', lat: pos.lat, lon: pos.lon });
    };
    add('from');
    add('to');
    return m;
  }, [hubs, form]);
  // zoom in once the pickup is known (with the destination when that is known too); before, show the whole area
  const fitPts = markers.some((m) => m.kind === 'pickup') ? markers.filter((m) => m.kind !== 'hub') : [];
  const fitKey = fitPts.map((m) => `${m.id}:${m.lat.toFixed(5)},${m.lon.toFixed(5)}`).join('|');

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    const errs = await requestOffer();
    setBusy(false);
    setErrors(errs);
    if (errs.length) setTimeout(() => errorRef.current?.focus(), 0);
  };

  const today = Date.now();
  return (
    <div className="screen book">
      <h1 ref={heading} tabIndex={-1}>
        {t('book.heading')}
      </h1>
      <p className="intro">{t('book.intro')}</p>
      <form className="book-layout" onSubmit={submit} noValidate aria-describedby={errors.length ? `${id}-errors` : undefined}>
        <div className="area-from">
          <PlaceField which="from" />
        </div>
        <div className="area-map">
          <MapView label={t('map.label')} markers={markers} onPick={onPick} fitTo={fitPts} fitKey={fitKey} className="map-book" />
          {target && (
            <div className="map-hint">
              <p className="hint">{t('book.mapHint', { field: fieldName(target) })}</p>
              {form.from.mode === 'address' && form.to.mode === 'address' && (
                <div className="segmented small" role="radiogroup" aria-label={t('book.mapFor')}>
                  {(['from', 'to'] as const).map((w) => (
                    <label key={w} className={`segment ${target === w ? 'checked' : ''}`}>
                      <input type="radio" name={`${id}-maptarget`} checked={target === w} onChange={() => setMapTarget(w)} />
                      <span>{fieldName(w)}</span>
                    </label>
                  ))}
                </div>
              )}
            </div>
          )}
        </div>
        <div className="area-rest">
          <div className="swap-row">
            <button
              type="button"
              className="btn btn-secondary"
              onClick={() => {
                swap();
                const f = useStore.getState().form;
                announce(t('book.swapDone', { from: slotLabel(f.from) || t('book.kindAddress'), to: slotLabel(f.to) || t('book.kindAddress') }));
              }}
            >
              <span aria-hidden="true">⇅ </span>
              {t('book.swap')}
            </button>
          </div>
          <PlaceField which="to" />

          <fieldset className="card">
            <legend className="card-title">{t('book.when')}</legend>
            <div className="segmented" role="radiogroup" aria-label={t('book.when')}>
              {(['now', 'later'] as const).map((w) => (
                <label key={w} className={`segment ${form.when === w ? 'checked' : ''}`}>
                  <input type="radio" name={`${id}-when`} value={w} checked={form.when === w} onChange={() => updateForm({ when: w })} />
                  <span>{w === 'now' ? t('book.now') : t('book.later')}</span>
                </label>
              ))}
            </div>
            {form.when === 'later' && (
              <div className="later">
                <div className="segmented" role="radiogroup" aria-label={`${t('book.departAt')} / ${t('book.arriveBy')}`}>
                  {(['depart', 'arrive'] as const).map((m) => (
                    <label key={m} className={`segment ${form.timeMode === m ? 'checked' : ''}`}>
                      <input type="radio" name={`${id}-mode`} value={m} checked={form.timeMode === m} onChange={() => updateForm({ timeMode: m })} />
                      <span>{m === 'depart' ? t('book.departAt') : t('book.arriveBy')}</span>
                    </label>
                  ))}
                </div>
                <div className="row wrap">
                  <label className="field">
                    <span className="field-label">{t('book.date')}</span>
                    <input className="input" type="date" value={form.date} min={dateInputValue(today)} max={dateInputValue(today + 7 * 86_400_000)} onChange={(e) => updateForm({ date: e.target.value })} />
                  </label>
                  <label className="field">
                    <span className="field-label">{t('book.time')}</span>
                    <input className="input" type="time" value={form.time} onChange={(e) => updateForm({ time: e.target.value })} />
                  </label>
                </div>
              </div>
            )}
          </fieldset>

          <fieldset className="card">
            <legend className="card-title">{t('book.who')}</legend>
            <Stepper label={t('book.passengers')} value={form.passengers} min={1} max={8} onChange={(v) => updateForm({ passengers: v })} />
            <Stepper label={t('book.wheelchairs')} value={form.wheelchairs} min={0} max={2} onChange={(v) => updateForm({ wheelchairs: v })} />
            <label className="check">
              <input type="checkbox" checked={form.pram} onChange={(e) => updateForm({ pram: e.target.checked })} aria-describedby={`${id}-pram`} />
              <span>{t('book.pram')}</span>
            </label>
            <p id={`${id}-pram`} className="hint">
              {t('book.pramHint')}
            </p>
          </fieldset>

          {errors.length > 0 && (
            <div id={`${id}-errors`} ref={errorRef} tabIndex={-1} className="errors" role="alert">
              <ul>
                {errors.map((k) => (
                  <li key={k}>
                    <span aria-hidden="true">⚠ </span>
                    {t(k)}
                  </li>
                ))}
              </ul>
            </div>
          )}
          <button type="submit" className="btn btn-primary btn-block" disabled={busy} aria-busy={busy}>
            {busy ? t('book.requesting') : t('book.submit')}
          </button>
        </div>
      </form>
    </div>
  );
}
