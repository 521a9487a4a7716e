import { useEffect, useId, useState } from 'react';
import { deleteMyData, refreshBookings } from '../actions.ts';
import { fmtDate, fmtTime } from '../format.ts';
import { ACTIVE, useStore } from '../store.ts';
import type { BookingView } from '../types.ts';
import { ConfirmDialog, StatusBadge, useFocusHeading, useT } from '../ui.tsx';
import { NotifySettings } from './TripScreen.tsx';

function when(b: BookingView): number {
  return Date.parse(b.offer?.pickupWindow.from ?? b.createdAt);
}

function TripItem({ b }: { b: BookingView }) {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const labels = useStore((s) => s.labels[b.id]);
  const hubs = useStore((s) => s.hubs);
  // after "delete my data" the server keeps no places; labels of this device may still name them
  const name = (p: BookingView['pickup'], l?: string) => l ?? hubs.find((h) => h.id === p.hubId)?.name ?? '…';
  const from = name(b.pickup, labels?.from), to = name(b.dropoff, labels?.to);
  const date = `${fmtDate(lang, when(b))}, ${fmtTime(lang, when(b))}`;
  return (
    <li className="trip-item">
      <a href={`#/${b.status === 'offered' || b.status === 'rejected' ? 'offer' : 'trip'}/${b.id}`}>
        <span className="trip-route">
          {from} <span aria-hidden="true">→</span>
          <span className="sr-only"> {t('trips.to')} </span> {to}
        </span>
        <span className="trip-when">{date}</span>
        <StatusBadge status={b.status} />
      </a>
    </li>
  );
}

export function TripsScreen() {
  const t = useT();
  const id = useId();
  const bookings = useStore((s) => s.bookings);
  const heading = useFocusHeading<HTMLHeadingElement>('trips');
  const [asking, setAsking] = useState(false);
  const [deleted, setDeleted] = useState<number | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    void refreshBookings();
  }, []);
  const all = Object.values(bookings);
  const upcoming = all.filter((b) => ACTIVE.has(b.status)).sort((a, b) => when(a) - when(b));
  const past = all.filter((b) => !ACTIVE.has(b.status)).sort((a, b) => when(b) - when(a));

  return (
    <div className="screen trips">
      <h1 ref={heading} tabIndex={-1}>
        {t('trips.heading')}
      </h1>
      {deleted !== null && (
        <p className="notice-box card" role="status">
          {t('trips.deleted', { n: deleted })}
        </p>
      )}
      <section className="card" aria-labelledby={`${id}-up`}>
        <h2 id={`${id}-up`}>{t('trips.upcoming')}</h2>
        {upcoming.length ? (
          <ul className="trip-list">
            {upcoming.map((b) => (
              <TripItem key={b.id} b={b} />
            ))}
          </ul>
        ) : (
          <p>{t('trips.none')}</p>
        )}
      </section>
      <section className="card" aria-labelledby={`${id}-past`}>
        <h2 id={`${id}-past`}>{t('trips.past')}</h2>
        {past.length ? (
          <ul className="trip-list">
            {past.map((b) => (
              <TripItem key={b.id} b={b} />
            ))}
          </ul>
        ) : (
          <p>{t('trips.none')}</p>
        )}
      </section>
      <section className="card" aria-labelledby={`${id}-set`}>
        <h2 id={`${id}-set`}>{t('trips.settings')}</h2>
        <NotifySettings />
      </section>
      <section className="card" aria-labelledby={`${id}-priv`}>
        <h2 id={`${id}-priv`}>{t('trips.privacy')}</h2>
        <p>{t('trips.privacyText')}</p>
        {failed && (
          <p className="errors" role="alert">
            {t('error.generic')}
          </p>
        )}
        <button type="button" className="btn btn-danger-outline btn-block" onClick={() => setAsking(true)}>
          {t('trips.delete')}
        </button>
      </section>
      <ConfirmDialog
        open={asking}
        title={t('trips.deleteConfirmTitle')}
        text={t('trips.deleteConfirmText')}
        yes={t('trips.deleteYes')}
        no={t('trips.deleteNo')}
        danger
        onNo={() => setAsking(false)}
        onYes={async () => {
          setAsking(false);
          const n = await deleteMyData();
          setFailed(n === null);
          if (n !== null) {
            setDeleted(n);
            heading.current?.focus();
          }
        }}
      />
    </div>
  );
}
