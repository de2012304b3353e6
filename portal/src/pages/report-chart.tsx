// One uPlot chart over labelled periods or days (x is the index of a label). uPlot draws on a canvas,
// which a screen reader cannot read: the chart is hidden from them, and every chart on the reports
// page has a table beside it that says the same in words and numbers.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: number[];
}

/** Colours with enough contrast on white, told apart by the legend's names as well. */
const PALETTE = ['#0550ae', '#cf222e', '#1a7f37', '#8250df', '#9a6700', '#57606a'];

export function seriesColour(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

/** `labels` name each x; `ticks`, when given, are shorter names for the axis (the day of the month). */
export function Chart({ labels, ticks, series, bars = false, height = 220 }: { labels: string[]; ticks?: string[]; series: ChartSeries[]; bars?: boolean; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = () => Math.max(200, el.clientWidth);
    const opts: uPlot.Options = {
      width: width(),
      height,
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [
        {
          values: (_u, splits) => splits.map((i) => (Number.isInteger(i) ? ((ticks ?? labels)[i] ?? '') : '')),
          stroke: '#1b1f24',
        },
        { stroke: '#1b1f24', values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')) },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: seriesColour(i),
          width: 2,
          ...(bars ? { fill: seriesColour(i), paths: uPlot.paths.bars!({ size: [0.6, 40] }), points: { show: false } } : {}),
        })),
      ],
    };
    const data: uPlot.AlignedData = [labels.map((_, i) => i), ...series.map((s) => s.values)];
    const plot = new uPlot(opts, data, el);
    // Follows the page's width (a phone turned, a window resized).
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [labels, ticks, series, bars, height]);
  return (
    <div class="chart">
      <div ref={box} aria-hidden="true" />
      {series.length > 1 && (
        <ul class="legend" aria-hidden="true">
          {series.map((s, i) => (
            <li key={s.label}>
              <span class="swatch" style={{ background: seriesColour(i) }} /> {s.label}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
