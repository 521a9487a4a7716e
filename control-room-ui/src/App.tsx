import { useEffect, useState } from 'react';
import { api, ApiError } from './api.ts';
import { useT } from './i18n.ts';
import { BasemapLayer } from './map/BasemapLayer.tsx';
import { MapView } from './map/MapContext.tsx';
import { HubsLayer, PlanLayer, RequestsLayer, ServiceAreaLayer } from './map/StaticLayers.tsx';
import { VehiclesLayer } from './map/VehiclesLayer.tsx';
import { Alerts } from './panels/Alerts.tsx';
import { Bookings } from './panels/Bookings.tsx';
import { Cockpit } from './panels/Cockpit.tsx';
import { FleetList } from './panels/FleetList.tsx';
import { Kpis } from './panels/Kpis.tsx';
import { Replay } from './panels/Replay.tsx';
import { connect, disconnect } from './socket.ts';
import { fleet } from './state/fleet.ts';
import { set, useStore, type Tab } from './state/store.ts';
import type { Map as MLMap } from 'maplibre-gl';

const TABS: Record<'driver' | 'dispatcher' | 'admin', Tab[]> = {
  driver: ['map', 'cockpit', 'alerts'],
  dispatcher: ['map', 'bookings', 'alerts', 'kpis', 'replay'],
  admin: ['map', 'cockpit', 'bookings', 'alerts', 'kpis', 'replay'],
};
const TAB_KEY = { map: 'map', cockpit: 'cockpit', bookings: 'bookings', alerts: 'alerts', kpis: 'kpis', replay: 'replay' } as const;

export function App() {
  const auth = useStore((s) => s.auth);
  useEffect(() => {
    if (!auth) return;
    connect(auth.token);
    return () => disconnect();
  }, [auth]);
  return auth ? <Shell /> : <Login />;
}

function Login() {
  const t = useT();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const submit = async () => {
    setError('');
    try {
      const r = await api<{ token: string; role: 'driver' | 'dispatcher' | 'admin'; username: string }>('POST', '/api/auth/login', { username, password });
      set({ auth: { token: r.token, role: r.role, username: r.username }, tab: 'map' });
    } catch (e) {
      setError(e instanceof ApiError && e.status === 401 ? t('loginFailed') : (e as Error).message);
    }
  };
  return (
    <main className="login">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        aria-labelledby="login-title"
      >
        <h1 id="login-title">{t('title')}</h1>
        <label>
          {t('username')}
          <input name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required autoFocus />
        </label>
        <label>
          {t('password')}
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        <button type="submit">{t('login')}</button>
        <p role="alert" className="error">
          {error}
        </p>
        <LangToggle />
        <p className="attribution">Kartendaten © OpenStreetMap-Mitwirkende (ODbL)</p>
      </form>
    </main>
  );
}

function LangToggle() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  return (
    <button type="button" className="lang" onClick={() => set({ lang: lang === 'de' ? 'en' : 'de' })} lang={lang === 'de' ? 'en' : 'de'}>
      {t('language')}
    </button>
  );
}

function Shell() {
  const t = useT();
  const auth = useStore((s) => s.auth)!;
  const tab = useStore((s) => s.tab);
  const connection = useStore((s) => s.connection);
  const replayActive = useStore((s) => s.replay.active);
  const openAlerts = useStore((s) => s.alerts.filter((a) => !a.ackedBy).length);
  const tabs = TABS[auth.role];
  const current = tabs.includes(tab) ? tab : tabs[0];
  return (
    <div className="shell">
      <header className="top">
        <h1>{t('title')}</h1>
        <span className={`live ${replayActive ? 'replaying' : ''}`} role="status">
          {replayActive ? t('replayMode') : t('live')}
        </span>
        <nav aria-label="Bereiche">
          {tabs.map((x) => (
            <button key={x} aria-current={x === current ? 'page' : undefined} className={x === current ? 'active' : ''} onClick={() => set({ tab: x })}>
              {t(TAB_KEY[x])}
              {x === 'alerts' && openAlerts ? <span className="count"> {openAlerts}</span> : null}
            </button>
          ))}
        </nav>
        <span className="user">
          {auth.username} ({auth.role})
        </span>
        <LangToggle />
        <button
          onClick={() => {
            disconnect();
            set({ auth: null });
          }}
        >
          {t('logout')}
        </button>
      </header>
      {connection !== 'online' ? (
        <div className="banner" role="alert">
          {t('reconnecting')}
        </div>
      ) : null}
      <main className="content">
        {current === 'map' ? <MapScreen /> : null}
        {current === 'cockpit' ? <Cockpit /> : null}
        {current === 'bookings' ? <Bookings /> : null}
        {current === 'alerts' ? <Alerts /> : null}
        {current === 'kpis' ? <Kpis /> : null}
        {current === 'replay' ? <Replay /> : null}
      </main>
    </div>
  );
}

function MapScreen() {
  const t = useT();
  const follow = useStore((s) => s.follow);
  const selectedId = useStore((s) => s.selectedId);
  const [map, setMap] = useState<MLMap | null>(null);
  const fit = () => {
    const vs = [...fleet.vehicles.values()];
    if (!map || !vs.length) return;
    const lons = vs.map((v) => v.lon), lats = vs.map((v) => v.lat);
    map.fitBounds(
      [
        [Math.min(...lons), Math.min(...lats)],
        [Math.max(...lons), Math.max(...lats)],
      ],
      { padding: 80, maxZoom: 15, duration: 500 },
    );
    set({ follow: false });
  };
  return (
    <div className="map-screen">
      <div className="map-wrap">
        <MapView ariaLabel={t('map')} onMap={setMap}>
          <BasemapLayer />
          <ServiceAreaLayer />
          <HubsLayer />
          <RequestsLayer />
          <PlanLayer />
          <VehiclesLayer />
        </MapView>
        <div className="map-buttons">
          <button onClick={fit}>{t('fitFleet')}</button>
          <button onClick={() => set({ follow: !follow })} disabled={!selectedId} aria-pressed={follow}>
            {follow ? t('unfollow') : t('follow')}
          </button>
          <span className="muted">{selectedId ?? t('notSelected')}</span>
        </div>
      </div>
      <div className="side">
        <FleetList />
        <Alerts />
      </div>
    </div>
  );
}
