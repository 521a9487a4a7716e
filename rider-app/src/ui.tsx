import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { translate, type Params, type TextKey } from './i18n.ts';
import { fmtTime } from './format.ts';
import { useStore, vehicleLabel, type TripMessage } from './store.ts';
import type { BookingStatus } from './types.ts';

export function useT() {
  const lang = useStore((s) => s.lang);
  return useCallback((key: TextKey, params?: Params) => translate(lang, key, params), [lang]);
}

/** A stored message in the current language ("time" parameters are epoch ms, the bus is shown by its label). */
export function useMessageText() {
  const lang = useStore((s) => s.lang);
  useStore((s) => s.vehicleLabels); // re-render when labels arrive
  return (m: TripMessage) => {
    const p: Params = { ...(m.params ?? {}) };
    if (typeof p.time === 'number') p.time = fmtTime(lang, p.time);
    if (m.vehicleId) p.bus = vehicleLabel(m.vehicleId);
    return translate(lang, m.key, p);
  };
}

/** − count + with large buttons; the count is announced when it changes. */
export function Stepper(props: { label: string; value: number; min: number; max: number; onChange: (v: number) => void; hint?: string }) {
  const t = useT();
  const id = useId();
  return (
    <div className="stepper" role="group" aria-labelledby={`${id}-l`}>
      <span id={`${id}-l`} className="stepper-label">
        {props.label}
      </span>
      <div className="stepper-controls">
        <button type="button" className="btn btn-round" aria-label={t('book.less', { what: props.label })} disabled={props.value <= props.min} onClick={() => props.onChange(props.value - 1)}>
          <span aria-hidden="true">−</span>
        </button>
        <output className="stepper-value" aria-live="polite" aria-label={`${props.label}: ${props.value}`}>
          {props.value}
        </output>
        <button type="button" className="btn btn-round" aria-label={t('book.more', { what: props.label })} disabled={props.value >= props.max} onClick={() => props.onChange(props.value + 1)}>
          <span aria-hidden="true">+</span>
        </button>
      </div>
    </div>
  );
}

/** A modal confirmation (native <dialog>: focus stays inside, Esc closes, focus returns to the opener). */
export function ConfirmDialog(props: { open: boolean; title: string; text: string; yes: string; no: string; onYes: () => void; onNo: () => void; danger?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) {
      opener.current = document.activeElement;
      d.showModal();
    } else if (!props.open && d.open) {
      d.close();
      (opener.current as HTMLElement | null)?.focus?.();
    }
  }, [props.open]);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={`${id}-t`} aria-describedby={`${id}-d`} onCancel={(e) => { e.preventDefault(); props.onNo(); }}>
      <h2 id={`${id}-t`}>{props.title}</h2>
      <p id={`${id}-d`}>{props.text}</p>
      <div className="actions">
        <button type="button" className="btn btn-secondary" autoFocus onClick={props.onNo}>
          {props.no}
        </button>
        <button type="button" className={`btn ${props.danger ? 'btn-danger' : 'btn-primary'}`} onClick={props.onYes}>
          {props.yes}
        </button>
      </div>
    </dialog>
  );
}

const STATUS_ICON: Record<BookingStatus, string> = {
  offered: '…',
  confirmed: '✓',
  assigned: '✓',
  picked_up: '➜',
  completed: '✓',
  cancelled: '✕',
  rejected: '✕',
  expired: '✕',
  no_show: '!',
};
/** Status as words plus a symbol, never by colour alone. */
export function StatusBadge({ status }: { status: BookingStatus }) {
  const t = useT();
  return (
    <span className={`badge badge-${status}`}>
      <span aria-hidden="true">{STATUS_ICON[status]} </span>
      {t(`status.${status}` as TextKey)}
    </span>
  );
}

export function Section(props: { title: string; children: ReactNode; className?: string; headingLevel?: 2 | 3 }) {
  const id = useId();
  const H = props.headingLevel === 3 ? 'h3' : 'h2';
  return (
    <section className={`card ${props.className ?? ''}`} aria-labelledby={id}>
      <H id={id}>{props.title}</H>
      {props.children}
    </section>
  );
}

/** Moves focus to the screen's heading after navigation, so screen readers and keyboards start at the top. */
export function useFocusHeading<T extends HTMLElement>(dep: unknown) {
  const ref = useRef<T>(null);
  useEffect(() => {
    // not on the first screen after loading: there the reader starts at the top of the page anyway
    if (firstScreen) {
      firstScreen = false;
      return;
    }
    ref.current?.focus();
  }, [dep]);
  return ref;
}
let firstScreen = true;

/** The current time, re-rendering every `ms` (countdowns, "in 3 minutes"). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const i = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(i);
  }, [ms]);
  return now;
}
