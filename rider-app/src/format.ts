import { locale, translate, type Lang } from './i18n.ts';

/** "14:05" in the device's time zone (riders of the service are in Germany). */
export function fmtTime(lang: Lang, t: string | number | Date): string {
  return new Intl.DateTimeFormat(locale(lang), { hour: '2-digit', minute: '2-digit' }).format(new Date(t));
}

/** "Mo., 2. März" / "Mon 2 March"; "heute"-style words are not used so the text is unambiguous when read later. */
export function fmtDate(lang: Lang, t: string | number | Date): string {
  return new Intl.DateTimeFormat(locale(lang), { weekday: 'short', day: 'numeric', month: 'long' }).format(new Date(t));
}

/** Whole minutes until `t` (never negative), rounded up so "in 1 minute" is not said while 90 s remain. */
export function minutesUntil(t: string | number, now: number): number {
  const ms = new Date(t).getTime() - now;
  return ms <= 0 ? 0 : Math.ceil(ms / 60_000 - 0.25);
}

/** "weniger als einer Minute" / "1 Minute" / "7 Minuten" / "1 Std. 5 Min." */
export function fmtMinutes(lang: Lang, minutes: number): string {
  if (minutes < 1) return translate(lang, 'dur.now');
  if (minutes === 1) return translate(lang, 'dur.minute');
  if (minutes < 60) return translate(lang, 'dur.minutes', { n: minutes });
  return translate(lang, 'dur.hours', { h: Math.floor(minutes / 60), m: minutes % 60 });
}

/** "350 m" (rounded to 10 m) / "1,2 km" */
export function fmtDistance(lang: Lang, metres: number): string {
  if (metres < 1000) return translate(lang, 'dist.m', { n: Math.max(10, Math.round(metres / 10) * 10) });
  return translate(lang, 'dist.km', { n: new Intl.NumberFormat(locale(lang), { maximumFractionDigits: 1 }).format(metres / 1000) });
}

/** "m:ss" for the offer's validity countdown */
export function fmtCountdown(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** yyyy-mm-dd and hh:mm for <input type=date|time>, local time */
export function dateInputValue(t: number): string {
  const d = new Date(t);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}
export function timeInputValue(t: number): string {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
/** local date + time inputs → epoch ms, or null when incomplete */
export function fromInputs(date: string, time: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || !/^\d{2}:\d{2}$/.test(time)) return null;
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const t = new Date(y, m - 1, d, hh, mm).getTime();
  return Number.isFinite(t) ? t : null;
}
