import { useEffect, useState } from 'react';
import type { AlignedData } from 'uplot';
import { useT } from '../i18n.ts';
import { BasemapLayer } from '../map/BasemapLayer.tsx';
import { MapView } from '../map/MapContext.tsx';
import { HubsLayer, ServiceAreaLayer } from '../map/StaticLayers.tsx';
import { VehiclesLayer } from '../map/VehiclesLayer.tsx';
import { request } from '../socket.ts';
import { get, set, useStore } from '../state/store.ts';
import type { RunInfo } from '../state/types.ts';
import { Chart } from './Chart.tsx';

/**
 * Replay of a recorded run (simulated or live): the same map layers, fed by replay frames in simulated time.
 * Live state is untouched: replay frames live in their own store slice and arrive as `replay:frame`.
 */
interface Series {
  vehicleId: string;
  t: number[];
  speedKmh: number[];
  latencyMs: number[];
  onboard: number[];
}

export function Replay() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const replay = useStore((s) => s.replay);
  const selectedId = useStore((s) => s.selectedId);
  const [series, setSeries] = useState<Series | null>(null);
  const [speed, setSpeed] = useState(10);
  const [error, setError] = useState('');
  useEffect(() => {
    void request<RunInfo[]>('replay:list').then((r) => {
      if ('data' in r) set((s) => ({ replay: { ...s.replay, runs: r.data } }));
    });
    return () => {
      // leaving the replay view ends the session: the map shows live data again
      void request('replay:close');
      set((s) => ({ replay: { ...s.replay, active: false, frame: null, info: null } }));
    };
  }, []);
  const open = async (runId: string) => {
    setError('');
    const r = await request<{ info: RunInfo; vehicles: string[] }>('replay:open', { runId }, 30_000);
    if ('error' in r) return setError(r.error.message);
    set((s) => ({ replay: { ...s.replay, active: true, info: r.data.info, vehicles: r.data.vehicles }, selectedId: r.data.vehicles[0] ?? null }));
  };
  useEffect(() => {
    setSeries(null);
    if (!replay.active || !selectedId) return;
    void request<Series>('replay:series', { vehicleId: selectedId }).then((r) => {
      if ('data' in r) setSeries(r.data);
    });
  }, [replay.active, replay.info?.id, selectedId]);
  const frame = replay.frame;
  const info = replay.info;
  const fmt = (ms: number) => new Date(ms).toLocaleTimeString(lang === 'de' ? 'de-DE' : 'en-GB');
  const ts = series?.t.map((x) => x / 1000) ?? [];
  const cursorT = frame?.t ?? null;
  return (
    <section className="panel replay" aria-label={t('replay')}>
      <div className="replay-head">
        <h2>{t('replay')}</h2>
        <label>
          {t('runs')}
          <select aria-label={t('runs')} value={info?.id ?? ''} onChange={(e) => void open(e.target.value)}>
            <option value="">–</option>
            {replay.runs.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name} ({r.kind}) · {new Date(r.start).toLocaleString(lang === 'de' ? 'de-DE' : 'en-GB')}
              </option>
            ))}
          </select>
        </label>
        {info ? (
          <>
            <button onClick={() => void request(frame?.playing ? 'replay:pause' : 'replay:play', frame?.playing ? undefined : { speed })}>{frame?.playing ? `⏸ ${t('pause')}` : `▶ ${t('play')}`}</button>
            <label>
              ×
              <select
                aria-label="Geschwindigkeit"
                value={speed}
                onChange={(e) => {
                  const v = Number(e.target.value);
                  setSpeed(v);
                  void request('replay:speed', { speed: v });
                }}
              >
                {[1, 2, 5, 10, 30, 60].map((v) => (
                  <option key={v} value={v}>
                    {v}×
                  </option>
                ))}
              </select>
            </label>
            <span className="replay-time" data-testid="replay-time">
              {frame ? fmt(frame.t) : '–'}
            </span>
          </>
        ) : null}
        <span className="muted">{error}</span>
      </div>
      {info ? (
        <input
          className="slider"
          type="range"
          aria-label={t('time')}
          data-testid="replay-slider"
          min={info.start}
          max={info.end}
          step={1000}
          value={frame?.t ?? info.start}
          onChange={(e) => void request('replay:seek', { t: Number(e.target.value) })}
        />
      ) : null}
      <div className="replay-body">
        <MapView className="replay-map" ariaLabel={`${t('replay')} – Karte`}>
          <BasemapLayer />
          <ServiceAreaLayer />
          <HubsLayer />
          <VehiclesLayer />
        </MapView>
        <div className="replay-side">
          <label>
            {t('bus')}
            <select value={selectedId ?? ''} onChange={(e) => set({ selectedId: e.target.value })}>
              {replay.vehicles.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
          {series ? (
            <>
              <Chart title={`${t('speed')} (km/h)`} data={[ts, series.speedKmh] as AlignedData} series={[{ label: 'km/h', stroke: '#38bdf8' }]} cursorT={cursorT} height={130} />
              <Chart title={`${t('latency')} (ms)`} data={[ts, series.latencyMs] as AlignedData} series={[{ label: 'ms', stroke: '#f472b6' }]} cursorT={cursorT} height={130} />
              <Chart title={t('occupancy')} data={[ts, series.onboard] as AlignedData} series={[{ label: 'P', stroke: '#fbbf24' }]} cursorT={cursorT} height={130} />
            </>
          ) : null}
          <ul className="replay-events" aria-label="Ereignisse">
            {(frame?.events ?? []).slice(-8).map((e, i) => (
              <li key={`${e.t}-${i}`}>
                {fmt(e.t as number)} {String(e.type)} {e.requestId ? String(e.requestId) : ''} {e.vehicleId ? String(e.vehicleId) : ''}
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}

export const replayActive = () => get().replay.active;
