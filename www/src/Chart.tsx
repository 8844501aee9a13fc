// Chart.tsx - history per metric (CPU, memory, disk, load, network, temperature)
// drawn with uPlot from one GET /metrics/{id}?range=&points=, the number of points
// from the chart's width, axis colours from the theme.
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, isMissingFeature } from './api';
import { bps } from './format';

export const RANGES = ['1h', '6h', '24h', '7d', '30d', '1y'] as const;
type Range = (typeof RANGES)[number];
const SPAN: Record<Range, number> = { '1h': 3600, '6h': 6 * 3600, '24h': 86400, '7d': 7 * 86400, '30d': 30 * 86400, '1y': 365 * 86400 };

interface Metric { id: string; title: string; series: [string, string, string][]; fmt: (v: number) => string; pct?: boolean }
const pctf = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)}%`;
const METRICS: Metric[] = [
  { id: 'cpu', title: 'CPU', series: [['cpu_percent', 'CPU', '#3b82f6']], fmt: pctf, pct: true },
  { id: 'memory', title: 'Memory', series: [['memory_percent', 'RAM', '#a855f7']], fmt: pctf, pct: true },
  { id: 'disk', title: 'Disk (fullest filesystem)', series: [['disk_percent', 'Disk', '#f59e0b']], fmt: pctf, pct: true },
  { id: 'load', title: 'Load (1 min)', series: [['load_1m', 'Load', '#14b8a6']], fmt: (v) => v.toFixed(2) },
  { id: 'network', title: 'Network', series: [['network_rx_bps', 'rx', '#22c55e'], ['network_tx_bps', 'tx', '#ef4444']], fmt: bps },
  { id: 'temp', title: 'CPU temperature', series: [['cpu_temp_c', 'Temp', '#f97316']], fmt: (v) => `${Math.round(v)} °C` },
];

/** Points to ask for: about one per 3 px of chart, within what the API gives. */
export function pointsFor(width: number): number {
  return Math.max(60, Math.min(600, Math.round(width / 3)));
}

/** The last non-null value of a series. */
export function latest(vals: (number | null)[] | undefined): number | null {
  if (!vals) return null;
  for (let i = vals.length - 1; i >= 0; i--) if (vals[i] !== null && vals[i] !== undefined) return vals[i];
  return null;
}

/** "CPU over 24h: 3% to 91%, latest 12%" - the chart's text alternative. */
export function describe(m: Metric, range: string, d: any): string {
  const parts = m.series.map(([k, label]) => {
    const v = ((d.series?.[k]?.avg ?? []) as (number | null)[]).filter((x): x is number => x !== null);
    if (!v.length) return `${label}: no data`;
    return `${label} ${m.fmt(Math.min(...v))} to ${m.fmt(Math.max(...v))}, latest ${m.fmt(latest(d.series[k].avg)!)}`;
  });
  return `${m.title} over ${range}: ${parts.join('; ')}`;
}

/** The theme's name, re-read when the toggle changes it. */
function useThemeName(): string {
  const [t, setT] = useState(() => document.documentElement.dataset.theme ?? 'light');
  useEffect(() => {
    const mo = new MutationObserver(() => setT(document.documentElement.dataset.theme ?? 'light'));
    mo.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    return () => mo.disconnect();
  }, []);
  return t;
}

function MetricChart({ m, d, range, theme, onDrawn }: { m: Metric; d: any; range: Range; theme: string; onDrawn: (ms: number) => void }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ts: number[] = d.timestamps ?? [];
    const t0 = performance.now();
    // Canvas cannot use CSS variables: read the theme's colours now (redrawn on a theme change).
    const cs = getComputedStyle(el);
    const fg = cs.getPropertyValue('--muted').trim() || cs.color;
    const grid = cs.getPropertyValue('--line').trim() || '#ccc';
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px system-ui, sans-serif' };
    const data = [ts, ...m.series.map(([k]) => d.series?.[k]?.avg ?? ts.map(() => null))] as uPlot.AlignedData;
    const plot = new uPlot({
      width: Math.max(200, el.clientWidth), height: 110,
      scales: { x: { time: true, range: (): [number, number] => { const now = Date.now() / 1000; return [now - SPAN[range], now]; } },
        y: m.pct ? { range: [0, 100] } : { range: (_u, _lo, hi) => [0, Math.max(hi ?? 1, m.id === 'load' ? 1 : 1024) * 1.1] } },
      series: [{}, ...m.series.map(([, label, stroke]) => ({ label, stroke, width: 1.5, spanGaps: false, value: (_u: uPlot, v: number | null) => (v == null ? '–' : m.fmt(v)) }))],
      axes: [axis, { ...axis, size: m.id === 'network' ? 70 : 44, values: (_u, vals) => vals.map((v) => (m.pct ? `${Math.round(v)}%` : m.fmt(v))) }],
      legend: { show: false },
      cursor: { y: false },
    }, data, el);
    onDrawn(performance.now() - t0);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height: 110 }));
    ro.observe(el);
    return () => { ro.disconnect(); plot.destroy(); };
  }, [d, theme]);
  return (
    <figure className="metric" data-metric={m.id}>
      <figcaption><span>{m.title}</span>{' '}
        <span className="latest" data-testid={`latest-${m.id}`}>{m.series.map(([k, label]) => {
          const v = latest(d.series?.[k]?.avg);
          return `${m.series.length > 1 ? label + ' ' : ''}${v === null ? '–' : m.fmt(v)}`;
        }).join(' · ')}</span></figcaption>
      <div ref={box} className="metric-plot" role="img" aria-label={describe(m, range, d)} />
    </figure>
  );
}

export default function Chart({ id }: { id: string }) {
  const [range, setRange] = useState<Range>('24h');
  const [state, setState] = useState<string>('loading');
  const [d, setD] = useState<any>(null);
  const outer = useRef<HTMLDivElement>(null);
  const drawn = useRef(0);
  const theme = useThemeName();
  useEffect(() => {
    let alive = true;
    setState('loading');
    const points = pointsFor(outer.current?.clientWidth ?? 900);
    api<any>('GET', `/metrics/${encodeURIComponent(id)}?range=${range}&points=${points}`).then((x) => {
      if (!alive) return;
      drawn.current = 0;
      setD(x);
      setState((x.timestamps ?? []).length ? 'ready' : 'empty');
    }).catch((e) => { if (alive) setState(isMissingFeature(e) ? 'missing' : `error: ${e?.message ?? e}`); });
    return () => { alive = false; };
  }, [id, range]);
  const shown = d && state === 'ready'
    ? METRICS.filter((m) => m.id !== 'temp' || latest(d.series?.cpu_temp_c?.avg) !== null) : [];
  const onDrawn = (ms: number) => {
    drawn.current += ms;
    if (outer.current) outer.current.dataset.renderMs = drawn.current.toFixed(2);
  };
  return (
    <div className="chart">
      <div className="seg" role="group" aria-label="Chart range">
        {RANGES.map((r) => <button key={r} type="button" aria-pressed={r === range} onClick={() => setRange(r)}>{r}</button>)}
      </div>
      {state === 'loading' && <p className="muted">Loading history…</p>}
      {state === 'empty' && <p className="muted">No history in this range yet.</p>}
      {state === 'missing' && <p className="muted">History: not available on this hub yet.</p>}
      {state.startsWith('error') && <p className="error">{state}</p>}
      <div ref={outer} className="chart-box" data-range={range} data-state={state} data-points={d?.timestamps?.length ?? 0}
        data-bucket={d?.bucket_seconds ?? ''}>
        {shown.map((m) => <MetricChart key={m.id} m={m} d={d} range={range} theme={theme} onDrawn={onDrawn} />)}
      </div>
    </div>
  );
}
