import { useEffect, useState } from 'react';
import { api, ensureToken, forgetToken } from './api.ts';
import { fmtMinutes, minutesUntil } from './format.ts';
import { translate, type TextKey } from './i18n.ts';
import { dueNotices } from './notify.ts';
import { BookScreen } from './screens/BookScreen.tsx';
import { OfferScreen } from './screens/OfferScreen.tsx';
import { TripScreen } from './screens/TripScreen.tsx';
import { TripsScreen } from './screens/TripsScreen.tsx';
import { connectRider } from './socket.ts';
import { parseHash, useStore, vehicleLabel, type InAppNotice } from './store.ts';
import { useT } from './ui.tsx';

/** A browser notification, if the rider allowed it (Android needs the service worker's showNotification). */
async function browserNotification(title: string, body: string, tag: string): Promise<void> {
  if (!('Notification' in window) || Notification.permission !== 'granted') return;
  try {
    new Notification(title, { body, tag, lang: document.documentElement.lang });
  } catch {
    const reg = await navigator.serviceWorker?.getRegistration();
    await reg?.showNotification(title, { body, tag });
  }
}

function noticeText(n: InAppNotice, lang: 'de' | 'en'): string {
  return translate(lang, 'notice.soon', { bus: vehicleLabel(n.vehicleId), minutes: fmtMinutes(lang, n.minutes) });
}

/** A reminder waits this long for the bus's first position report, which brings its label ("KL-S 102"). */
const LABEL_GRACE_MS = 8000;

/** Checks every second whether a "your bus is N minutes away" reminder is due. */
function useReminders() {
  useEffect(() => {
    const dueSince = new Map<string, number>();
    const timer = setInterval(() => {
      const s = useStore.getState();
      const now = Date.now();
      for (const d of dueNotices(Object.values(s.bookings), s.positions, s.leadMin, now, new Set(s.notified))) {
        const vehicleId = s.bookings[d.bookingId]?.vehicleId;
        if (vehicleId && !s.vehicleLabels[vehicleId]) {
          if (!dueSince.has(d.bookingId)) dueSince.set(d.bookingId, now);
          if (now - dueSince.get(d.bookingId)! < LABEL_GRACE_MS) continue;
        }
        const n: InAppNotice = { bookingId: d.bookingId, minutes: minutesUntil(d.eta, now), vehicleId: s.bookings[d.bookingId]?.vehicleId ?? null, t: now };
        s.pushNotice(n);
        if (s.browserNotify) void browserNotification(translate(s.lang, 'notice.title'), noticeText(n, s.lang), `kl-shuttle-${d.bookingId}`);
      }
    }, 1000);
    return () => clearInterval(timer);
  }, []);
}

function Notices() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const notices = useStore((s) => s.notices);
  const dismiss = useStore((s) => s.dismissNotice);
  useStore((s) => s.vehicleLabels);
  return (
    <div className="notices" role="alert" aria-atomic="false">
      {notices.map((n) => (
        <div key={n.bookingId} className="notice" data-testid="notice">
          <svg className="notice-icon" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">
            <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3a1.5 1.5 0 0 0-3 0v1.16A7 7 0 0 0 5 11v5l-2 2v1h18v-1z" />
          </svg>
          <p>
            <a href={`#/trip/${n.bookingId}`}>{noticeText(n, lang)}</a>
          </p>
          <button type="button" className="btn btn-icon" aria-label={t('notice.close')} onClick={() => dismiss(n.bookingId)}>
            <span aria-hidden="true">✕</span>
          </button>
        </div>
      ))}
    </div>
  );
}

const TITLES: Record<string, TextKey> = { book: 'book.heading', offer: 'offer.heading', trip: 'trip.heading', trips: 'trips.heading' };

export function App() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const setLang = useStore((s) => s.setLang);
  const route = useStore((s) => s.route);
  const connected = useStore((s) => s.connected);
  const hubs = useStore((s) => s.hubs);
  const announcement = useStore((s) => s.announcement);
  const epoch = useStore((s) => s.sessionEpoch);
  const [loadFailed, setLoadFailed] = useState(false);
  useReminders();

  // the deployment's hubs and service area
  useEffect(() => {
    let alive = true;
    const load = () =>
      Promise.all([api.hubs(), api.serviceArea()])
        .then(([h, a]) => alive && (useStore.getState().setStatic(h, a), setLoadFailed(false)))
        .catch(() => {
          if (!alive) return;
          setLoadFailed(true);
          setTimeout(load, 3000);
        });
    void load();
    return () => {
      alive = false;
    };
  }, []);

  // the live connection, with this device's pseudonymous token (a new one after "delete my data")
  useEffect(() => {
    let socket: ReturnType<typeof connectRider> | null = null;
    let alive = true;
    const start = () =>
      ensureToken()
        .then((token) => {
          if (!alive) return;
          socket = connectRider(token, () => {
            socket?.close();
            forgetToken();
            if (alive) setTimeout(start, 500);
          });
        })
        .catch(() => alive && setTimeout(start, 3000));
    void start();
    return () => {
      alive = false;
      socket?.close();
    };
  }, [epoch]);

  useEffect(() => {
    const on = () => useStore.getState().setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = `${t(TITLES[route.name])} – ${t('app.title')}`;
  }, [lang, route.name, t]);

  let screen: React.ReactNode;
  if (!hubs.length) screen = <p>{loadFailed ? t('error.network') : t('loading')}</p>;
  else if (route.name === 'offer') screen = <OfferScreen key={route.id} id={route.id} />;
  else if (route.name === 'trip') screen = <TripScreen key={route.id} id={route.id} />;
  else if (route.name === 'trips') screen = <TripsScreen />;
  else screen = <BookScreen />;

  const other = lang === 'de' ? 'en' : 'de';
  return (
    <>
      <a className="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        {t('app.skip')}
      </a>
      <header className="top">
        <a className="brand" href="#/">
          <img src="/icons/icon.svg" alt="" width="32" height="32" />
          <span>
            <span className="brand-name">{t('app.title')}</span>
            <span className="brand-tag">{t('app.tagline')}</span>
          </span>
        </a>
        <button type="button" className="lang" lang={other} aria-label={t('lang.switchLabel')} onClick={() => setLang(other)}>
          {t('lang.switch')}
        </button>
        <nav aria-label={t('nav.main')}>
          <ul>
            <li>
              <a href="#/" aria-current={route.name === 'book' ? 'page' : undefined}>
                {t('nav.book')}
              </a>
            </li>
            <li>
              <a href="#/trips" aria-current={route.name === 'trips' ? 'page' : undefined}>
                {t('nav.trips')}
              </a>
            </li>
          </ul>
        </nav>
      </header>
      {!connected && (
        <p className="offline" role="status">
          <span aria-hidden="true">⚠ </span>
          {t('offline')}
        </p>
      )}
      <Notices />
      <main id="main" tabIndex={-1}>
        {screen}
      </main>
      <footer className="foot">
        <p>{t('map.attribution')}</p>
      </footer>
      <p className="sr-only" role="status" aria-live="polite">
        {announcement}
      </p>
    </>
  );
}
