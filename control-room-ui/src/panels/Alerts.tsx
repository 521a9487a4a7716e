import { useT } from '../i18n.ts';
import { request } from '../socket.ts';
import { set, useStore } from '../state/store.ts';

const ORDER = { critical: 0, warning: 1, info: 2 } as const;
const ICON = { critical: '⛔', warning: '⚠', info: 'ℹ' } as const;

/** Alerts by severity (critical ones also sound), acknowledged with the actor recorded by the server. */
export function Alerts() {
  const t = useT();
  const lang = useStore((s) => s.lang);
  const alerts = useStore((s) => s.alerts);
  const list = [...alerts].sort((a, b) => Number(!!a.ackedBy) - Number(!!b.ackedBy) || ORDER[a.severity] - ORDER[b.severity] || b.t - a.t);
  const ack = async (id: string) => {
    const r = await request<{ ackedBy: string }>('alert:ack', { alertId: id });
    if ('data' in r) set((s) => ({ alerts: s.alerts.map((a) => (a.id === id ? { ...a, ackedBy: r.data.ackedBy ?? s.auth?.username ?? '?', ackedAt: Date.now() } : a)) }));
  };
  return (
    <section className="panel alerts" aria-label={t('alerts')}>
      <h2>
        {t('alerts')} <span className="muted">({alerts.filter((a) => !a.ackedBy).length})</span>
      </h2>
      {list.length === 0 ? <p className="muted">{t('noAlerts')}</p> : null}
      <ul className="alert-list">
        {list.slice(0, 100).map((a) => (
          <li key={a.id} className={`alert ${a.severity} ${a.ackedBy ? 'acked' : ''}`}>
            <span className="alert-sev">
              {ICON[a.severity]} {t(a.severity === 'critical' ? 'critical' : a.severity === 'warning' ? 'warning' : 'info')}
            </span>
            <span className="alert-text">
              <strong>{a.type}</strong> {a.vehicleId ? `· ${a.vehicleId}` : ''} {a.message ? `· ${a.message}` : ''}
              <span className="muted"> · {new Date(a.t).toLocaleTimeString(lang === 'de' ? 'de-DE' : 'en-GB')}</span>
            </span>
            {a.ackedBy ? (
              <span className="muted">
                {t('acknowledged')} {a.ackedBy}
              </span>
            ) : (
              <button onClick={() => void ack(a.id)}>{t('acknowledge')}</button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
