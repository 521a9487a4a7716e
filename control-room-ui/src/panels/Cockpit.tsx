import { useEffect, useRef, useState } from 'react';
import type { Map as MLMap } from 'maplibre-gl';
import { api } from '../api.ts';
import { MODE_COLOUR, MODE_LABEL, useT } from '../i18n.ts';
import { BasemapLayer } from '../map/BasemapLayer.tsx';
import { MapView } from '../map/MapContext.tsx';
import { PlanLayer } from '../map/StaticLayers.tsx';
import { VehiclesLayer } from '../map/VehiclesLayer.tsx';
import { request } from '../socket.ts';
import { fleet } from '../state/fleet.ts';
import { get, set, useStore } from '../state/store.ts';
import type { FleetVehicle } from '../state/types.ts';
import { latencyClass } from './FleetList.tsx';

/**
 * The remote driver's cockpit for the bus under their lease: follow camera (stand-in for the video), speed
 * against the permitted speed, next manoeuvre in German from the OSRM steps, stop list, doors, latency, and the
 * controls with keyboard shortcuts. While it is open and visible it sends the lease heartbeat at 10 Hz; a hidden
 * tab or a frozen console stops the heartbeat, and the bus brakes (as the safety rules require).
 */
const HEARTBEAT_MS = 100;
let seq = 0;

function useVehicle(id: string | null): FleetVehicle | null {
  useStore((s) => s.fleetTick);
  return id ? (fleet.vehicles.get(id) ?? null) : null;
}

function fmtDist(m: number): string {
  return m >= 1000 ? `${(m / 1000).toFixed(1)} km` : `${Math.round(m / 10) * 10} m`;
}

export function Cockpit() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const me = useStore((s) => s.auth?.username ?? '');
  const selectedId = useStore((s) => s.selectedId);
  const holding = useStore((s) => s.holding);
  const teleop = useStore((s) => (selectedId ? s.teleop[selectedId] : undefined));
  const busId = holding ?? selectedId;
  const v = useVehicle(busId);
  const plan = useStore((s) => (busId ? s.plans[busId] : undefined));
  const last = useStore((s) => s.lastCommandResult);
  const [capKmh, setCapKmh] = useState(30);
  const [armedEmergency, setArmedEmergency] = useState(false);
  const [maneuver, setManeuver] = useState<{ text: string; distance: number } | null>(null);
  const camRef = useRef<MLMap | null>(null);
  const capInput = useRef<HTMLInputElement>(null);
  const iHold = !!busId && holding === busId;

  // heartbeat at 10 Hz while this cockpit is open, the tab visible and the driver holds the bus
  useEffect(() => {
    if (!holding) return;
    const timer = setInterval(() => {
      if (document.visibilityState !== 'visible') return;
      void request('teleop:heartbeat', { vehicleId: holding, sentAt: Date.now() }, 1000);
    }, HEARTBEAT_MS);
    return () => clearInterval(timer);
  }, [holding]);

  // follow camera: pitched and rotated to the bus heading
  // (subscribers run once per frame for any bus's update; the camera moves only when this bus's state changed)
  useEffect(() => {
    let shown: unknown = null;
    return fleet.subscribe(() => {
      const cam = camRef.current;
      const bus = busId ? fleet.vehicles.get(busId) : undefined;
      if (!cam || !bus || bus === shown) return;
      shown = bus;
      cam.jumpTo({ center: [bus.lon, bus.lat], bearing: bus.heading, zoom: 17.3, pitch: 62 });
    });
  }, [busId]);

  // next manoeuvre: OSRM steps from the bus to its next stop, refreshed every few seconds
  const next = plan?.stops[0];
  useEffect(() => {
    setManeuver(null);
    if (!busId || !next) return;
    let alive = true;
    const load = async () => {
      const bus = fleet.vehicles.get(busId);
      if (!bus) return;
      try {
        const r = await api<{ routes: { legs: { steps: { instruction?: string; distance: number; maneuver: { type: string } }[] }[] }[] }>(
          'GET',
          `/api/route?from=${bus.lat.toFixed(6)},${bus.lon.toFixed(6)}&to=${next.lat.toFixed(6)},${next.lon.toFixed(6)}&lang=${lang}`,
        );
        const steps = r.routes[0]?.legs[0]?.steps ?? [];
        const nxt = steps[1] ?? steps[0];
        if (alive && nxt) setManeuver({ text: nxt.instruction ?? nxt.maneuver.type, distance: steps[0]?.distance ?? 0 });
      } catch {
        if (alive) setManeuver(null);
      }
    };
    void load();
    const timer = setInterval(load, 3000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, [busId, next?.requestId, next?.kind, lang, next]);

  const result = (label: string, r: { data: unknown } | { error: { code: string; message: string } }) =>
    set({ lastCommandResult: 'error' in r ? { ok: false, text: `${label}: ${r.error.code} – ${r.error.message}`, t: Date.now() } : { ok: true, text: `${label}: OK`, t: Date.now() } });

  const act = async (label: string, event: string, payload: object) => result(label, await request(event, payload));
  const command = async (label: string, type: string, value?: number) => {
    if (!busId) return;
    result(label, await request('teleop:command', { vehicleId: busId, seq: ++seq, type, ...(value !== undefined ? { value } : {}), issuedAt: Date.now() }));
  };
  const emergency = () => {
    if (!armedEmergency) {
      setArmedEmergency(true);
      setTimeout(() => setArmedEmergency(false), 3000);
      return;
    }
    setArmedEmergency(false);
    void command(t('emergencyStop'), 'emergency_stop');
  };

  const actions: { key: string; label: string; run: () => void; enabled: boolean; danger?: boolean }[] = [
    { key: 'A', label: t('acquire'), run: () => busId && act(t('acquire'), 'teleop:acquire', { vehicleId: busId }), enabled: !!busId && !iHold },
    { key: 'L', label: t('release'), run: () => busId && act(t('release'), 'teleop:release', { vehicleId: busId }), enabled: iHold },
    { key: 'U', label: t('handoverRequest'), run: () => busId && act(t('handoverRequest'), 'teleop:handover_request', { vehicleId: busId }), enabled: !!busId && !iHold },
    {
      key: 'B',
      label: t('handoverConfirm'),
      run: () => busId && teleop?.pendingHandover && act(t('handoverConfirm'), 'teleop:handover_confirm', { vehicleId: busId, to: teleop.pendingHandover }),
      enabled: iHold && !!teleop?.pendingHandover,
    },
    { key: 'H', label: t('stop'), run: () => command(t('stop'), 'stop'), enabled: iHold },
    { key: 'W', label: t('resume'), run: () => command(t('resume'), 'resume'), enabled: iHold },
    { key: 'G', label: `${t('speedCap')} ${capKmh} km/h`, run: () => command(t('speedCap'), 'speed_cap', capKmh / 3.6), enabled: iHold },
    { key: 'T', label: t('doorsOpen'), run: () => command(t('doorsOpen'), 'doors_open'), enabled: iHold },
    { key: 'Z', label: t('doorsClose'), run: () => command(t('doorsClose'), 'doors_close'), enabled: iHold },
    { key: 'Q', label: t('confirmSafeStop'), run: () => busId && act(t('confirmSafeStop'), 'teleop:confirm_stop', { vehicleId: busId }), enabled: iHold && (v?.mode === 'safe_stop' || v?.mode === 'emergency_stop') },
    { key: 'N', label: armedEmergency ? t('confirmEmergency') : t('emergencyStop'), run: emergency, enabled: !!busId, danger: true },
  ];

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.target instanceof HTMLTextAreaElement) return;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      const a = actions.find((x) => x.key === e.key.toUpperCase());
      if (a && a.enabled) {
        e.preventDefault();
        a.run();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const picker = (
    <label className="bus-picker">
      {t('selectBus')}
      <select value={busId ?? ''} onChange={(e) => set({ selectedId: e.target.value || null })} disabled={!!holding}>
        <option value="">–</option>
        {[...fleet.vehicles.values()]
          .sort((a, b) => a.label.localeCompare(b.label))
          .map((x) => (
            <option key={x.id} value={x.id}>
              {x.label} · {MODE_LABEL[lang][x.mode]}
            </option>
          ))}
      </select>
    </label>
  );
  if (!busId)
    return (
      <section className="panel cockpit" aria-label={t('cockpit')}>
        <p>{t('noLease')}</p>
        {picker}
      </section>
    );
  const kmh = (v?.speed ?? 0) * 3.6;
  const permitted = (teleop?.permittedSpeed ?? v?.permittedSpeed ?? null);
  const permittedKmh = permitted !== null ? permitted * 3.6 : null;
  const lat = latencyClass(v?.latencyMs ?? teleop?.latencyMs ?? null);
  const latPct = Math.min(100, ((v?.latencyMs ?? 0) / 500) * 100);
  return (
    <section className="panel cockpit" aria-label={t('cockpit')}>
      <div className="cockpit-head">
        <h2>
          {t('cockpit')}: {v?.label ?? busId}{' '}
          <span className="badge" style={{ borderColor: MODE_COLOUR[v?.mode ?? 'offline'] }}>
            {MODE_LABEL[lang][v?.mode ?? 'offline']}
          </span>
        </h2>
        <span className="muted">
          {t('driver')}: {teleop?.holder ?? v?.driver ?? '–'} {iHold ? `(${me})` : ''}
        </span>
        {picker}
      </div>
      <div className="cockpit-grid">
        <div className="camera" aria-label={t('followCamera')}>
          <MapView className="camera-map" interactive={false} pitch={62} zoom={17} ariaLabel={t('followCamera')} onMap={(m) => (camRef.current = m)}>
            <BasemapLayer />
            <PlanLayer />
            <VehiclesLayer />
          </MapView>
          <div className="camera-caption">{t('followCamera')}</div>
        </div>
        <div className="gauges">
          <div className="gauge" aria-live="polite">
            <div className="gauge-label">{t('speed')}</div>
            <div className="gauge-value" data-testid="cockpit-speed">
              {kmh.toFixed(0)} <small>km/h</small>
            </div>
            <div className="gauge-sub">
              {t('permitted')}: {permittedKmh !== null ? `${permittedKmh.toFixed(0)} km/h` : '–'}
            </div>
            <meter min={0} max={Math.max(50, permittedKmh ?? 50)} value={kmh} aria-label={`${t('speed')} km/h`} />
          </div>
          <div className="gauge">
            <div className="gauge-label">{t('latency')} (≤ 200 ms)</div>
            <div className={`gauge-value ${lat.cls}`}>{lat.text}</div>
            <div className="latbar" role="img" aria-label={`${t('latency')} ${lat.text}`}>
              <div className="latbar-fill" style={{ width: `${latPct}%` }} />
              <div className="latbar-mark" style={{ left: '40%' }} title="200 ms" />
            </div>
          </div>
          <div className="gauge">
            <div className="gauge-label">{t('doors')}</div>
            <div className="gauge-value">{v?.doors === 'open' ? `🚪 ${t('open')}` : t('closed')}</div>
            <div className="gauge-sub">
              {t('soc')} {Math.round((v?.soc ?? 0) * 100)} %
            </div>
          </div>
          <div className="gauge maneuver" aria-live="polite">
            <div className="gauge-label">{t('nextManeuver')}</div>
            <div className="maneuver-text" data-testid="next-maneuver">
              {maneuver ? `${maneuver.text}` : next ? '…' : t('noRoute')}
            </div>
            {maneuver ? <div className="gauge-sub">in {fmtDist(maneuver.distance)}</div> : null}
          </div>
        </div>
        <div className="stops">
          <h3>{t('stops')}</h3>
          <ol>
            {(plan?.stops ?? []).slice(0, 8).map((s) => (
              <li key={`${s.kind}-${s.requestId}`}>
                <span className={`stop-kind ${s.kind}`}>{s.kind === 'pickup' ? `↑ ${t('boarding')}` : `↓ ${t('alighting')}`}</span> {s.seats + s.wheelchairs} P
                {s.wheelchairs ? ` (${s.wheelchairs} ♿)` : ''} · {s.hubId ?? s.name ?? `${s.lat.toFixed(4)}, ${s.lon.toFixed(4)}`} ·{' '}
                {new Date(s.arrival).toLocaleTimeString(lang === 'de' ? 'de-DE' : 'en-GB', { hour: '2-digit', minute: '2-digit' })}
              </li>
            ))}
          </ol>
        </div>
      </div>
      <div className="controls" role="toolbar" aria-label="Steuerung">
        {actions.map((a) => (
          <button key={a.key} className={a.danger ? 'danger' : ''} disabled={!a.enabled} onClick={() => a.run()} aria-keyshortcuts={a.key}>
            {a.label} <kbd>{a.key}</kbd>
          </button>
        ))}
        <label className="cap">
          {t('speedCap')} (km/h)
          <input ref={capInput} type="number" min={5} max={80} step={5} value={capKmh} onChange={(e) => setCapKmh(Math.max(5, Math.min(80, Number(e.target.value) || 5)))} />
        </label>
      </div>
      <p className={`result ${last && !last.ok ? 'bad' : 'good'}`} role="status" aria-live="polite">
        {last ? last.text : ''}
      </p>
    </section>
  );
}

export function selectNextBus(): void {
  const ids = [...fleet.vehicles.keys()].sort();
  const cur = get().selectedId;
  set({ selectedId: ids[(ids.indexOf(cur ?? '') + 1) % ids.length] ?? null });
}
