import { useEffect, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { useT } from '../i18n.ts';
import { request } from '../socket.ts';
import { useStore } from '../state/store.ts';
import type { BookingView } from '../state/types.ts';

interface Hub {
  id: string;
  name: string;
  lat: number;
  lon: number;
}
interface GeoHit {
  label: string;
  lat: number;
  lon: number;
}

const time = (iso: string | null | undefined, lang: string) => (iso ? new Date(iso).toLocaleTimeString(lang === 'de' ? 'de-DE' : 'en-GB', { hour: '2-digit', minute: '2-digit' }) : '–');

/** A booking is late when its bus is expected after the promised window or latest arrival. */
function isLate(b: BookingView): boolean {
  if (!b.eta || !b.offer) return false;
  const eta = Date.parse(b.eta);
  if (b.status === 'picked_up') return eta > Date.parse(b.offer.latestArrival);
  return (b.status === 'confirmed' || b.status === 'assigned') && eta > Date.parse(b.offer.pickupWindow.to);
}

export function Bookings() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const bookings = useStore((s) => s.bookings);
  const list = Object.values(bookings).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return (
    <section className="panel bookings" aria-label={t('bookings')}>
      <PhoneBooking />
      <h2>
        {t('bookings')} <span className="muted">({list.length})</span>
      </h2>
      <div className="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">ID</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('bus')}</th>
              <th scope="col">{t('passengers')}</th>
              <th scope="col">{t('window')}</th>
              <th scope="col">ETA</th>
              <th scope="col">{t('latestArrival')}</th>
            </tr>
          </thead>
          <tbody>
            {list.slice(0, 200).map((b) => {
              const late = isLate(b);
              return (
                <tr key={b.id} className={late ? 'late' : ''}>
                  <td>{b.id}</td>
                  <td>
                    {b.status}
                    {late ? ` · ⚠ ${t('late')}` : ''}
                  </td>
                  <td>{b.vehicleId ?? '–'}</td>
                  <td className="num">
                    {b.passengers}
                    {b.wheelchairs ? ` (${b.wheelchairs} ♿)` : ''}
                  </td>
                  <td>{b.offer ? `${time(b.offer.pickupWindow.from, lang)}–${time(b.offer.pickupWindow.to, lang)}` : '–'}</td>
                  <td>{time(b.eta, lang)}</td>
                  <td>{time(b.offer?.latestArrival, lang)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** A dispatcher books for a caller: address search, hub, direction, passengers, wheelchair; offer → confirm. */
function PhoneBooking() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const [hubs, setHubs] = useState<Hub[]>([]);
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<GeoHit[]>([]);
  const [place, setPlace] = useState<GeoHit | null>(null);
  const [hubId, setHubId] = useState('tuk');
  const [toHub, setToHub] = useState(true);
  const [passengers, setPassengers] = useState(1);
  const [wheelchairs, setWheelchairs] = useState(0);
  const [offer, setOffer] = useState<BookingView | null>(null);
  const [message, setMessage] = useState('');
  useEffect(() => {
    api<Hub[]>('GET', '/api/hubs').then(setHubs).catch(() => {});
  }, []);
  const search = async () => {
    setMessage('');
    try {
      const r = await api<GeoHit[] | { results: GeoHit[] }>('GET', `/api/geocode?q=${encodeURIComponent(q)}&limit=6`);
      const list = Array.isArray(r) ? r : r.results;
      setHits(list);
      if (list[0]) setPlace(list[0]);
      if (!list.length) setMessage('–');
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  const requestOffer = async () => {
    if (!place) return;
    setOffer(null);
    setMessage('');
    const home = { lat: place.lat, lon: place.lon };
    const body = { pickup: toHub ? home : { hubId }, dropoff: toHub ? { hubId } : home, passengers, wheelchairs };
    const r = await request<BookingView>('booking:create', body);
    if ('data' in r) setOffer(r.data);
    else {
      const alt = (r.error as { details?: { alternative?: { time: string } } }).details?.alternative;
      setMessage(`${t('noOffer')}: ${r.error.message}${alt ? ` · ${t('alternative')}: ${time(alt.time, lang)}` : ''}`);
    }
  };
  const confirm = async () => {
    if (!offer) return;
    const r = await request<BookingView>('booking:confirm', { bookingId: offer.id });
    if ('data' in r) {
      setOffer(r.data);
      setMessage(`✓ ${r.data.id}: ${r.data.status}`);
    } else setMessage(r.error.message);
  };
  return (
    <form
      className="phone-booking"
      aria-label={t('phoneBooking')}
      onSubmit={(e) => {
        e.preventDefault();
        void requestOffer();
      }}
    >
      <h2>{t('phoneBooking')}</h2>
      <div className="row">
        <label>
          {t('address')}
          <input value={q} onChange={(e) => setQ(e.target.value)} placeholder="Trippstadter Str. 100" />
        </label>
        <button type="button" onClick={() => void search()}>
          {t('search')}
        </button>
        <label>
          &nbsp;
          <select aria-label={t('address')} value={place ? hits.indexOf(place) : -1} onChange={(e) => setPlace(hits[Number(e.target.value)] ?? null)}>
            {hits.length === 0 ? <option value={-1}>–</option> : null}
            {hits.map((h, i) => (
              <option key={`${h.label}-${i}`} value={i}>
                {h.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div className="row">
        <label>
          {t('hub')}
          <select value={hubId} onChange={(e) => setHubId(e.target.value)}>
            {hubs.map((h) => (
              <option key={h.id} value={h.id}>
                {h.name}
              </option>
            ))}
          </select>
        </label>
        <fieldset>
          <legend className="sr-only">Richtung</legend>
          <label>
            <input type="radio" checked={toHub} onChange={() => setToHub(true)} /> {t('toHub')}
          </label>
          <label>
            <input type="radio" checked={!toHub} onChange={() => setToHub(false)} /> {t('fromHub')}
          </label>
        </fieldset>
        <label>
          {t('passengers')}
          <input type="number" min={1} max={8} value={passengers} onChange={(e) => setPassengers(Math.max(1, Math.min(8, Number(e.target.value) || 1)))} />
        </label>
        <label>
          ♿ {t('wheelchairs')}
          <input type="number" min={0} max={2} value={wheelchairs} onChange={(e) => setWheelchairs(Math.max(0, Math.min(2, Number(e.target.value) || 0)))} />
        </label>
        <button type="submit" disabled={!place}>
          {t('requestOffer')}
        </button>
      </div>
      {offer?.offer ? (
        <div className="offer" data-testid="phone-offer">
          {t('offer')} {offer.id}: {t('window')} {time(offer.offer.pickupWindow.from, lang)}–{time(offer.offer.pickupWindow.to, lang)}, {t('arrival')} {time(offer.offer.arrival, lang)}, {t('bus')}{' '}
          {offer.offer.vehicleId} · <strong data-testid="phone-status">{offer.status}</strong>{' '}
          {offer.status === 'offered' ? (
            <button type="button" onClick={() => void confirm()}>
              {t('confirm')}
            </button>
          ) : null}
        </div>
      ) : null}
      <p role="status" aria-live="polite" className="muted">
        {message}
      </p>
    </form>
  );
}

export { ApiError };
