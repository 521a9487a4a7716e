import { useEffect, useRef } from 'react';
import uPlot, { type AlignedData, type Options } from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A thin React wrapper around uPlot (fast canvas time-series charts); `cursorT` draws a time marker. */
export function Chart(props: { title: string; data: AlignedData; series: { label: string; stroke: string; fill?: string }[]; height?: number; cursorT?: number | null; yRange?: [number, number]; bars?: boolean }) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const cursor = useRef<number | null>(null);
  cursor.current = props.cursorT ?? null;
  const empty = props.data[0].length === 0;
  useEffect(() => {
    if (!el.current || empty) return;
    const width = el.current.clientWidth || 400;
    const opts: Options = {
      title: props.title,
      width,
      height: props.height ?? 170,
      legend: { show: true },
      // a live series starts with one sample: show at least the last 10 minutes instead of a span of years
      scales: { x: props.bars ? { time: false } : { time: true, range: (_u, min, max) => [Math.min(min, max - 600), max + 5] }, y: props.yRange ? { range: props.yRange } : {} },
      axes: [
        {
          stroke: '#94a3b8',
          grid: { stroke: '#1e293b' },
          ticks: { stroke: '#334155' },
          // 24-hour local time of the service area (uPlot's default is US-style "9:05am 11/23/26")
          ...(props.bars ? {} : { values: (_u: uPlot, splits: number[]) => splits.map((x) => clock(x)) }),
        },
        { stroke: '#94a3b8', grid: { stroke: '#1e293b' }, ticks: { stroke: '#334155' } },
      ],
      series: [props.bars ? {} : { value: (_u: uPlot, x: number | null) => (x == null ? '--' : clock(x, true)) }, ...props.series.map((s) => ({ label: s.label, stroke: s.stroke, fill: s.fill, width: 2, ...(props.bars ? { paths: uPlot.paths.bars!({ size: [0.6, 60] }) } : {}) }))],
      hooks: {
        draw: [
          (u) => {
            const t = cursor.current;
            if (t === null) return;
            const x = u.valToPos(t / 1000, 'x', true);
            const ctx = u.ctx;
            ctx.save();
            ctx.strokeStyle = '#facc15';
            ctx.lineWidth = 2;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    };
    plot.current = new uPlot(opts, props.data, el.current);
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
    // rebuilt when the series definition changes
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.title, props.series.length, props.bars, empty]);
  useEffect(() => {
    plot.current?.setData(props.data);
  }, [props.data]);
  useEffect(() => {
    plot.current?.redraw(false, false);
  }, [props.cursorT]);
  // uPlot cannot lay out axes without data: show the title until the first sample arrives
  if (empty)
    return (
      <div className="chart empty" role="img" aria-label={props.title}>
        <div className="u-title">{props.title}</div>
        <p className="muted">…</p>
      </div>
    );
  return <div className="chart" ref={el} role="img" aria-label={props.title} />;
}

const clockFmt = new Intl.DateTimeFormat('de-DE', { hour: '2-digit', minute: '2-digit', timeZone: 'Europe/Berlin' });
const clockFmtS = new Intl.DateTimeFormat('de-DE', { hour: '2-digit', minute: '2-digit', second: '2-digit', timeZone: 'Europe/Berlin' });
/** epoch seconds → "09:05" (or "09:05:30") in Kaiserslautern time */
function clock(sec: number, seconds = false): string {
  return (seconds ? clockFmtS : clockFmt).format(new Date(sec * 1000));
}
