import { useEffect, useId, useMemo, useState } from 'react';
import { cancelBooking, refreshBookings } from '../actions.ts';
import { fmtDate, fmtDistance, fmtMinutes, fmtTime, minutesUntil } from '../format.ts';
import { distanceM } from '../geo.ts';
import { MapView, type MapMarker } from '../map/MapView.tsx';
import { ACTIVE, useStore, vehicleLabel } from '../store.ts';
import type { BookingView } from '../types.ts';
import { ConfirmDialog, StatusBadge, useFocusHeading, useMessageText, useNow, useT } from '../ui.tsx';

const LEAD_CHOICES = [5, 10, 15, 20, 30];

/** Reminder settings: how many minutes before pickup, and whether the browser may also notify. */
export function NotifySettings() {
  const t = useT();
  const id = useId();
  const leadMin = useStore((s) => s.leadMin);
  const setLead = useStore((s) => s.setLead);
  const browserNotify = useStore((s) => s.browserNotify);
  const setBrowserNotify = useStore((s) => s.setBrowserNotify);
  const supported = typeof window !== 'undefined' && 'Notification' in window;
  const [denied, setDenied] = useState(supported && Notification.permission === 'denied');
  const options = LEAD_CHOICES.includes(leadMin) ? LEAD_CHOICES : [...LEAD_CHOICES, leadMin].sort((a, b) => a - b);
  return (
    <div className="notify-settings">
      <label className="field" htmlFor={`${id}-lead`}>
        <span className="field-label">{t('notify.lead')}</span>
      </label>
      <select id={`${id}-lead`} className="input" value={leadMin} onChange={(e) => setLead(Number(e.target.value))}>
        {options.map((m) => (
          <option key={m} value={m}>
            {t('notify.minutes', { n: m })}
          </option>
        ))}
      </select>
      <label className="check">
        <input
          type="checkbox"
          checked={browserNotify && supported && !denied}
          disabled={!supported}
          onChange={async (e) => {
            if (!e.target.checked) return setBrowserNotify(false);
            let p = Notification.permission;
            if (p === 'default') p = await Notification.requestPermission();
            setDenied(p === 'denied');
            setBrowserNotify(p === 'granted');
          }}
        />
        <span>{t('notify.browser')}</span>
      </label>
      {!supported && <p className="hint">{t('notify.unsupported')}</p>}
      {denied && <p className="hint">{t('notify.denied')}</p>}
    </div>
  );
}

function statusSentence(b: BookingView, etaIso: string | null, now: number, t: ReturnType<typeof useT>, lang: 'de' | 'en'): string {
  const bus = vehicleLabel(b.vehicleId);
  switch (b.status) {
    case 'offered':
      return t('trip.offered');
    case 'confirmed':
    case 'assigned':
      if (etaIso && bus) return t('trip.busComing', { bus, minutes: fmtMinutes(lang, minutesUntil(etaIso, now)) });
      return bus ? t('trip.busComingNoEta', { bus }) : t('trip.waitingForBus');
    case 'picked_up':
      return etaIso ? t('trip.onBoard', { minutes: fmtMinutes(lang, minutesUntil(etaIso, now)) }) : t('trip.onBoardNoEta');
    case 'completed':
      return t('trip.completed');
    case 'cancelled':
      return t('trip.cancelled');
    case 'no_show':
      return t('trip.noShow');
    case 'expired':
      return t('trip.expired');
    case 'rejected':
      return t('trip.rejected');
  }
}

export function TripScreen({ id }: { id: string }) {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const b = useStore((s) => s.bookings[id]);
  const pos = useStore((s) => s.positions[id]);
  const labels = useStore((s) => s.labels[id]);
  const hubs = useStore((s) => s.hubs);
  const messages = useStore((s) => s.messages[id]);
  useStore((s) => s.vehicleLabels);
  const msgText = useMessageText();
  const now = useNow(1000);
  const heading = useFocusHeading<HTMLHeadingElement>(id);
  const [asking, setAsking] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const [cancelFailed, setCancelFailed] = useState(false);

  useEffect(() => {
    if (!b) void refreshBookings().finally(() => setLoaded(true));
  }, [b]);

  const live = b && ACTIVE.has(b.status) && b.status !== 'offered';
  const etaIso = live ? (pos?.eta ?? b?.eta ?? null) : null;
  const pickupHub = hubs.find((h) => h.id === (b?.pickup.hubId ?? labels?.fromHubId));
  const beforePickup = b?.status === 'confirmed' || b?.status === 'assigned';
  const distance = pos && b ? distanceM(pos, beforePickup ? b.pickup : b.dropoff) : null;

  const markers = useMemo(() => {
    if (!b) return [];
    const m: MapMarker[] = [
      { id: 'pickup', kind: 'pickup', lat: b.pickup.lat, lon: b.pickup.lon },
      { id: 'dropoff', kind: 'dropoff', lat: b.dropoff.lat, lon: b.dropoff.lon },
    ];
    if (pos && live) m.push({ id: 'bus', kind: 'bus', lat: pos.lat, lon: pos.lon, text: pos.label, heading: pos.heading });
    return m;
  }, [b, pos, live]);
  const hasBus = markers.some((m) => m.kind === 'bus');
  const fitTo = markers.filter((m) => m.kind === 'bus' || (beforePickup ? m.kind === 'pickup' : true));

  if (!b) {
    return (
      <div className="screen trip">
        <h1 ref={heading} tabIndex={-1}>
          {t('trip.heading')}
        </h1>
        <p>{loaded ? t('trip.notFound') : t('loading')}</p>
        <a className="btn btn-secondary" href="#/trips">
          {t('trip.toTrips')}
        </a>
      </div>
    );
  }

  const cancellable = ['offered', 'confirmed', 'assigned'].includes(b.status);
  return (
    <div className="screen trip">
      <h1 ref={heading} tabIndex={-1}>
        {t('trip.heading')}
      </h1>
      <div className="card trip-status">
        <p className="route-line">
          {labels?.from ?? '…'} → {labels?.to ?? '…'}
        </p>
        <StatusBadge status={b.status} />
        <p className="big" data-testid="trip-sentence">
          {statusSentence(b, etaIso, now, t, lang)}
        </p>
        {live && distance !== null && beforePickup && (
          <p className="distance" data-testid="bus-distance">
            {t('trip.distance', { distance: fmtDistance(lang, distance) })}
          </p>
        )}
      </div>

      {live && <MapView label={t('trip.mapLabel')} markers={markers} fitTo={fitTo} fitKey={`${id}|${b.status}|${hasBus}`} follow className="map-trip" />}

      <dl className="card facts">
        {b.vehicleId && live && (
          <div className="dl-row">
            <dt>{t('trip.vehicle')}</dt>
            <dd data-testid="bus-label">{vehicleLabel(b.vehicleId)}</dd>
          </div>
        )}
        {etaIso && (
          <div className="dl-row">
            <dt>{beforePickup ? t('trip.eta') : t('offer.arrival')}</dt>
            <dd data-testid="eta" data-eta={etaIso}>
              {t('trip.etaAt', { time: fmtTime(lang, etaIso) })}
            </dd>
          </div>
        )}
        <div className="dl-row">
          <dt>{t('trip.stop')}</dt>
          <dd>{pickupHub ? t('offer.walkHub', { stop: pickupHub.stop }) : t('trip.stopDoor', { label: labels?.from ?? `${b.pickup.lat.toFixed(5)}, ${b.pickup.lon.toFixed(5)}` })}</dd>
        </div>
        {b.offer && (
          <div className="dl-row">
            <dt>{t('trip.window')}</dt>
            <dd>
              {new Date(b.offer.pickupWindow.from).toDateString() !== new Date(now).toDateString() && <>{fmtDate(lang, b.offer.pickupWindow.from)}, </>}
              {t('trip.windowText', { from: fmtTime(lang, b.offer.pickupWindow.from), to: fmtTime(lang, b.offer.pickupWindow.to) })}
            </dd>
          </div>
        )}
        <div className="dl-row">
          <dt>{t('trip.destination')}</dt>
          <dd>{labels?.to ?? '…'}</dd>
        </div>
      </dl>
      {pos && live && <p className="hint updated">{t('trip.updated', { time: new Date(pos.t).toLocaleTimeString(lang === 'de' ? 'de-DE' : 'en-GB') })}</p>}

      {live && (
        <section className="card" aria-labelledby={`${id}-notify`}>
          <h2 id={`${id}-notify`}>{t('notify.heading')}</h2>
          <NotifySettings />
        </section>
      )}

      <section className="card" aria-labelledby={`${id}-msgs`}>
        <h2 id={`${id}-msgs`}>{t('trip.messages')}</h2>
        <ol className="messages" aria-live="polite" aria-relevant="additions">
          {[...(messages ?? [])].reverse().map((m) => (
            <li key={`${m.t}-${m.key}`}>
              <time dateTime={new Date(m.t).toISOString()}>{fmtTime(lang, m.t)}</time> {msgText(m)}
            </li>
          ))}
        </ol>
        {!messages?.length && <p className="hint">{t('trip.noMessages')}</p>}
      </section>

      {cancelFailed && (
        <p className="errors" role="alert">
          {t('error.generic')}
        </p>
      )}
      <div className="actions stack">
        {cancellable && (
          <button type="button" className="btn btn-danger-outline btn-block" onClick={() => setAsking(true)}>
            {t('trip.cancel')}
          </button>
        )}
        <a className="btn btn-secondary btn-block" href="#/trips">
          {t('trip.toTrips')}
        </a>
        <a className="btn btn-secondary btn-block" href="#/">
          {t('trip.bookAnother')}
        </a>
      </div>
      <ConfirmDialog
        open={asking}
        title={t('trip.cancelConfirmTitle')}
        text={t('trip.cancelConfirmText')}
        yes={t('trip.cancelYes')}
        no={t('trip.cancelNo')}
        danger
        onNo={() => setAsking(false)}
        onYes={async () => {
          setAsking(false);
          const ok = await cancelBooking(id);
          setCancelFailed(!ok);
          if (ok) heading.current?.focus();
        }}
      />
    </div>
  );
}

