import { useEffect, useRef, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import type { UsageSeries } from '../types';
import { ErrorText } from './feedback';

// Distinct on white and for the common colour blindnesses (Okabe–Ito), then greys.
const COLOURS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#000000', '#999999', '#666666'];

/**
 * Pulls per day, one line per customer or repository. uPlot styles its nodes
 * from script, which the CSP allows; it is loaded with the first chart, so the
 * other pages do not wait for it.
 */
export function PullChart({ data }: { data: UsageSeries }) {
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let cleanup = () => {};
    let gone = false;
    import('uplot').then(
      ({ default: UPlot }) => {
        if (!gone) cleanup = draw(UPlot, box.current!, data);
      },
      () => setError('The chart code could not be loaded: reload the page.'),
    );
    return () => {
      gone = true;
      cleanup();
    };
  }, [data]);
  if (error) return <ErrorText error={error} />;
  return <div class="chart" ref={box} role="img" aria-label={`Pulls per day since ${data.days[0] ?? ''}`} />;
}

function draw(UPlot: typeof uPlot, element: HTMLElement, data: UsageSeries): () => void {
  const xs = data.days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  const width = () => Math.max(280, element.clientWidth);
  const opts: uPlot.Options = {
    width: width(),
    height: 280,
    tzDate: (ts) => UPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    // Whole days only: the ticks are days (or weeks, months) and read as dates, never as hours.
    axes: [
      { incrs: [86_400, 7 * 86_400, 30 * 86_400], values: (_u, splits) => splits.map((ts) => new Date(ts * 1000).toISOString().slice(5, 10)) },
      { label: 'pulls', values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')) },
    ],
    series: [
      { label: 'day', value: (_u, v) => (v === null ? '' : new Date(v * 1000).toISOString().slice(0, 10)) },
      ...data.series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, points: { show: data.days.length <= 31 } })),
    ],
    cursor: { drag: { x: false, y: false } },
  };
  const chart = new UPlot(opts, [xs, ...data.series.map((s) => s.counts)], element);
  const resize = new ResizeObserver(() => chart.setSize({ width: width(), height: 280 }));
  resize.observe(element);
  return () => {
    resize.disconnect();
    chart.destroy();
  };
}
