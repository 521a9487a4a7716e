import { useEffect, useState } from 'react';
import type { AlignedData } from 'uplot';
import { api } from '../api.ts';
import { MODE_COLOUR, MODE_LABEL, useT } from '../i18n.ts';
import { fleet } from '../state/fleet.ts';
import { useStore } from '../state/store.ts';
import { Chart } from './Chart.tsx';

/** Live KPIs from the server (same definitions as the simulation report), sampled into time series here. */
interface LiveKpis {
  t: number;
  kpis: {
    requests: number;
    served: number;
    rejected: number;
    rejectedByReason: Record<string, number>;
    waitTimeS: { mean: number | null; p50: number | null; p95: number | null; max: number | null };
    promisesKeptPct: number | null;
    detourFactor: { mean: number | null };
  };
  occupancyNow: number | null;
  fleetByMode: Record<string, number>;
}

const MODES = ['remote', 'standby', 'mrm', 'safe_stop', 'emergency_stop', 'offline'];

export function Kpis() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const [samples, setSamples] = useState<LiveKpis[]>([]);
  useEffect(() => {
    let alive = true;
    const load = async () => {
      try {
        const k = await api<LiveKpis>('GET', '/api/kpis');
        if (!alive) return;
        // fleet by mode from the live fleet buffer: it is fresher than any poll
        const byMode: Record<string, number> = {};
        for (const v of fleet.vehicles.values()) byMode[v.mode] = (byMode[v.mode] ?? 0) + 1;
        setSamples((s) => [...s.slice(-360), { ...k, fleetByMode: byMode }]);
      } catch {
        /* keep the last samples */
      }
    };
    void load();
    const timer = setInterval(load, 5000);
    return () => {
      alive = false;
      clearInterval(timer);
    };
  }, []);
  const last = samples[samples.length - 1];
  const ts = samples.map((s) => s.t / 1000);
  const waitData: AlignedData = [ts, samples.map((s) => s.kpis.waitTimeS.p50 ?? null), samples.map((s) => s.kpis.waitTimeS.p95 ?? null)];
  const keptData: AlignedData = [ts, samples.map((s) => s.kpis.promisesKeptPct ?? null)];
  const occData: AlignedData = [ts, samples.map((s) => (s.occupancyNow === null ? null : Math.round(s.occupancyNow * 1000) / 10))];
  const reasons = last ? Object.entries(last.kpis.rejectedByReason) : [];
  const rejData: AlignedData = [reasons.map((_, i) => i), reasons.map(([, n]) => n)];
  const modeData: AlignedData = [ts, ...MODES.map((m) => samples.map((s) => s.fleetByMode[m] ?? 0))];
  return (
    <section className="panel kpis" aria-label={t('kpis')}>
      <h2>{t('kpis')}</h2>
      {last ? (
        <dl className="kpi-tiles">
          <div>
            <dt>{t('requests')}</dt>
            <dd>{last.kpis.requests}</dd>
          </div>
          <div>
            <dt>{t('served')}</dt>
            <dd>{last.kpis.served}</dd>
          </div>
          <div>
            <dt>{t('waitTime')} p50 / p95</dt>
            <dd>
              {last.kpis.waitTimeS.p50 !== null ? Math.round(last.kpis.waitTimeS.p50 / 60) : '–'} / {last.kpis.waitTimeS.p95 !== null ? Math.round(last.kpis.waitTimeS.p95 / 60) : '–'} min
            </dd>
          </div>
          <div>
            <dt>{t('promisesKept')}</dt>
            <dd>{last.kpis.promisesKeptPct ?? '–'} %</dd>
          </div>
          <div>
            <dt>{t('occupancy')}</dt>
            <dd>{last.occupancyNow === null ? '–' : `${Math.round(last.occupancyNow * 100)} %`}</dd>
          </div>
          <div>
            <dt>{t('rejectedByReason')}</dt>
            <dd>{last.kpis.rejected}</dd>
          </div>
        </dl>
      ) : (
        <p className="muted">…</p>
      )}
      <div className="charts">
        <Chart title={`${t('waitTime')} (s)`} data={waitData} series={[{ label: 'p50', stroke: '#38bdf8' }, { label: 'p95', stroke: '#f472b6' }]} />
        <Chart title={`${t('promisesKept')} (%)`} data={keptData} series={[{ label: '%', stroke: '#34d399' }]} yRange={[0, 100]} />
        <Chart title={`${t('occupancy')} (%)`} data={occData} series={[{ label: '%', stroke: '#fbbf24' }]} yRange={[0, 100]} />
        <Chart title={`${t('rejectedByReason')}: ${reasons.map(([r, n]) => `${r} ${n}`).join(', ') || '–'}`} data={rejData} series={[{ label: 'n', stroke: '#f87171', fill: '#f8717155' }]} bars />
        <Chart title={t('fleetState')} data={modeData} series={MODES.map((m) => ({ label: MODE_LABEL[lang][m], stroke: MODE_COLOUR[m] }))} />
      </div>
    </section>
  );
}
