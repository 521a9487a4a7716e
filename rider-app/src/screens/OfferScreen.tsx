import { useEffect, useState } from 'react';
import { cancelBooking, confirmOffer, navigate, refreshBookings, requestAlternative, requestOffer } from '../actions.ts';
import { api } from '../api.ts';
import { fmtCountdown, fmtDate, fmtTime } from '../format.ts';
import type { TextKey } from '../i18n.ts';
import { useStore } from '../store.ts';
import type { BookingView, Departure } from '../types.ts';
import { useFocusHeading, useNow, useT } from '../ui.tsx';

/** The first line departure that can be reached after arriving at the hub (transfer buffer from the timetable). */
function useConnection(hubId: string | undefined, arrival: string | undefined): Departure | null | undefined {
  const [dep, setDep] = useState<Departure | null | undefined>(undefined);
  useEffect(() => {
    if (!hubId || !arrival) return;
    let alive = true;
    const t = Date.parse(arrival);
    api
      .departures(hubId, t, 6)
      .then((d) => {
        const buffer = (d.transferBufferMin ?? 3) * 60_000;
        if (alive) setDep(d.departures.find((x) => Date.parse(x.time) >= t + buffer) ?? null);
      })
      .catch(() => alive && setDep(null));
    return () => {
      alive = false;
    };
  }, [hubId, arrival]);
  return dep;
}

function Row(props: { term: string; children: React.ReactNode }) {
  return (
    <div className="dl-row">
      <dt>{props.term}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}

function OfferDetails({ b }: { b: BookingView }) {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const labels = useStore((s) => s.labels[b.id]);
  const hubs = useStore((s) => s.hubs);
  const now = useNow(1000);
  const [state, setState] = useState<'idle' | 'confirming' | 'expired' | 'error'>('idle');
  const offer = b.offer!;
  const toHub = b.dropoff.hubId ?? labels?.toHubId;
  const fromHub = hubs.find((h) => h.id === (b.pickup.hubId ?? labels?.fromHubId));
  const connection = useConnection(toHub, offer.arrival);
  const left = Date.parse(offer.expiresAt) - now;
  const expired = state === 'expired' || left <= 0 || b.status === 'expired';
  const sameDay = new Date(offer.pickupWindow.from).toDateString() === new Date(now).toDateString();

  return (
    <>
      <p className="route-line">{t('offer.route', { from: labels?.from ?? '…', to: labels?.to ?? '…' })}</p>
      <dl className="card facts">
        <Row term={t('offer.pickup')}>
          {!sameDay && <>{fmtDate(lang, offer.pickupWindow.from)}, </>}
          {t('offer.pickupWindow', { from: fmtTime(lang, offer.pickupWindow.from), to: fmtTime(lang, offer.pickupWindow.to) })}
        </Row>
        <Row term={t('offer.walk')}>{fromHub ? t('offer.walkHub', { stop: fromHub.stop }) : t('offer.walkNone')}</Row>
        <Row term={t('offer.arrival')}>{t('offer.arrivalAt', { time: fmtTime(lang, offer.arrival), latest: fmtTime(lang, offer.latestArrival) })}</Row>
        {toHub && connection !== undefined && (
          <Row term={t('offer.connection')}>
            {connection
              ? t('offer.connectionAt', { line: connection.lineId, headsign: (connection.headsign ?? '').replace(/\s*\((synthetisch|synthetic)\)\s*/i, ''), time: fmtTime(lang, connection.time) })
              : t('offer.connectionNone')}
          </Row>
        )}
        <Row term={t('offer.seats')}>
          {b.passengers === 1 ? t('offer.people1') : t('offer.peopleN', { n: b.passengers })},{' '}
          {b.wheelchairs === 0 ? t('offer.wheel0') : b.wheelchairs === 1 ? t('offer.wheel1') : t('offer.wheelN', { n: b.wheelchairs })}
        </Row>
      </dl>
      {expired ? (
        <div className="card notice-box" role="alert">
          <p>{t('offer.expired')}</p>
          <button type="button" className="btn btn-primary btn-block" onClick={() => void requestOffer()}>
            {t('offer.again')}
          </button>
        </div>
      ) : (
        <>
          <p className="validity">
            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
              <path fill="currentColor" d="M15 1H9v2h6V1zm4.03 6.39 1.42-1.42-1.41-1.41-1.42 1.42A9 9 0 1 0 21 13a8.96 8.96 0 0 0-1.97-5.61zM12 20a7 7 0 1 1 0-14 7 7 0 0 1 0 14zm1-11h-2v5l4 2.4.9-1.5-2.9-1.7V9z" />
            </svg>{' '}
            {t('offer.valid', { time: fmtCountdown(left) })}
          </p>
          {state === 'error' && (
            <p className="errors" role="alert">
              {t('error.generic')}
            </p>
          )}
          <div className="actions stack">
            <button
              type="button"
              className="btn btn-primary btn-block"
              disabled={state === 'confirming'}
              aria-busy={state === 'confirming'}
              onClick={async () => {
                setState('confirming');
                const r = await confirmOffer(b.id);
                setState(r === 'ok' ? 'idle' : r);
              }}
            >
              {state === 'confirming' ? t('offer.confirming') : t('offer.confirm')}
            </button>
            <button
              type="button"
              className="btn btn-secondary btn-block"
              onClick={async () => {
                await cancelBooking(b.id);
                navigate('#/');
              }}
            >
              {t('offer.discard')}
            </button>
          </div>
        </>
      )}
    </>
  );
}

const KNOWN_REASONS = new Set(['capacity', 'no-driver', 'window', 'battery', 'outside-service-area']);

function NoOfferDetails({ reason, alternative }: { reason: string; alternative?: { type: 'departure' | 'arrival'; time: string } }) {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const [errors, setErrors] = useState<TextKey[]>([]);
  const [busy, setBusy] = useState(false);
  const key: TextKey = KNOWN_REASONS.has(reason) ? (`reason.${reason}` as TextKey) : 'reason.unknown';
  return (
    <div className="card notice-box" role="alert">
      <h2>{t('offer.none')}</h2>
      <p>{t(key)}</p>
      {alternative && (
        <>
          <p>{t('offer.alternative', { type: alternative.type === 'arrival' ? t('offer.altArrival') : t('offer.altDeparture'), time: fmtTime(lang, alternative.time) })}</p>
          <button
            type="button"
            className="btn btn-primary btn-block"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              setErrors(await requestAlternative(alternative));
              setBusy(false);
            }}
          >
            {t('offer.takeAlternative', { time: fmtTime(lang, alternative.time) })}
          </button>
        </>
      )}
      {errors.map((k) => (
        <p key={k} className="errors">
          {t(k)}
        </p>
      ))}
      <button type="button" className="btn btn-secondary btn-block" onClick={() => navigate('#/')}>
        {t('offer.back')}
      </button>
    </div>
  );
}

export function OfferScreen({ id }: { id: string }) {
  const t = useT();
  const b = useStore((s) => s.bookings[id]);
  const noOffer = useStore((s) => s.noOffer);
  const heading = useFocusHeading<HTMLHeadingElement>(id);
  useEffect(() => {
    if (!b) void refreshBookings();
  }, [b]);
  useEffect(() => {
    // once booked, this is a trip
    if (b && ['confirmed', 'assigned', 'picked_up', 'completed'].includes(b.status)) navigate(`#/trip/${id}`);
  }, [b, id]);

  let body: React.ReactNode;
  if (b?.status === 'rejected' || (!b && noOffer)) {
    const r = b?.rejection;
    body = <NoOfferDetails reason={r?.reason ?? noOffer?.reason ?? 'unknown'} alternative={r?.alternative ?? noOffer?.alternative} />;
  } else if (b?.offer && (b.status === 'offered' || b.status === 'expired')) body = <OfferDetails b={b} />;
  else if (b?.status === 'cancelled') body = <p>{t('trip.cancelled')}</p>;
  else body = <p>{t('loading')}</p>;
  return (
    <div className="screen offer">
      <h1 ref={heading} tabIndex={-1}>
        {t('offer.heading')}
      </h1>
      {body}
    </div>
  );
}
