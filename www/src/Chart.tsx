// Chart.tsx - history per metric (CPU, memory, disk, each filesystem, load 1/5/15,
// network, each temperature sensor (or the CPU's) and GPU) drawn with uPlot from GET
// /metrics/{id}, its /filesystems and /temperatures and the machine's /gpus for one range, the number of points from the
// chart's width, axis colours from the theme.
import { useEffect, useMemo, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, isMissingFeature } from './api';
import { bps } from './format';
import { drawable, filesystemLines, GPU_HOURS, metricLines, temperatureLines, type Aligned, type FsHistory, type GpuHistory, type MetricsHistory, type TempHistory } from './history';

export const RANGES = ['1h', '6h', '24h', '7d', '30d', '1y'] as const;
type Range = (typeof RANGES)[number];
const SPAN: Record<Range, number> = { '1h': 3600, '6h': 6 * 3600, '24h': 86400, '7d': 7 * 86400, '30d': 30 * 86400, '1y': 365 * 86400 };

/** One chart: its lines come from `lines` over the three answers of a range. */
interface Metric {
  id: string; title: string; fmt: (v: number) => string; pct?: boolean; lines: (h: Answers) => Aligned;
  named?: boolean; // lines counted at run time (mounts, sensors, GPUs): the legend names even a lone one
}
/** What the charts of one range are drawn from (filesystems, sensors and GPUs null on a hub without them). */
interface Answers { d: MetricsHistory; fs: FsHistory | null; gpu: GpuHistory | null; temps: TempHistory | null }
const pctf = (v: number) => `${v < 10 ? v.toFixed(1) : Math.round(v)}%`;
const of = (series: [string, string, string][]) => (h: Answers) => metricLines(h.d, series);
const METRICS: Metric[] = [
  { id: 'cpu', title: 'CPU', lines: of([['cpu_percent', 'CPU', '#3b82f6']]), fmt: pctf, pct: true },
  { id: 'memory', title: 'Memory', lines: of([['memory_percent', 'RAM', '#a855f7']]), fmt: pctf, pct: true },
  { id: 'disk', title: 'Disk (fullest filesystem)', lines: of([['disk_percent', 'Disk', '#f59e0b']]), fmt: pctf, pct: true },
  { id: 'filesystems', title: 'Filesystems', lines: (h) => filesystemLines(h.fs), fmt: pctf, pct: true, named: true },
  { id: 'load', title: 'Load', lines: of([['load_1m', '1 min', '#14b8a6'], ['load_5m', '5 min', '#6366f1'], ['load_15m', '15 min', '#ec4899']]), fmt: (v) => v.toFixed(2) },
  { id: 'network', title: 'Network', lines: of([['network_rx_bps', 'rx', '#22c55e'], ['network_tx_bps', 'tx', '#ef4444']]), fmt: bps },
  { id: 'temp', title: 'Temperatures', lines: (h) => temperatureLines(h.d, h.gpu, h.temps), fmt: (v) => `${Math.round(v)} °C`, named: true },
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

/** "CPU over 24h: CPU 3% to 91%, latest 12%" - the chart's text alternative. */
export function describe(m: { title: string; fmt: (v: number) => string }, range: string, a: Aligned): string {
  const parts = a.lines.map(({ label, vals }) => {
    const v = vals.filter((x): x is number => x !== null && x !== undefined);
    if (!v.length) return `${label}: no data`;
    return `${label} ${m.fmt(Math.min(...v))} to ${m.fmt(Math.max(...v))}, latest ${m.fmt(latest(vals)!)}`;
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

function MetricChart({ m, a, range, theme, onDrawn }: { m: Metric; a: Aligned; range: Range; theme: string; onDrawn: (ms: number) => void }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const t0 = performance.now();
    // Canvas cannot use CSS variables: read the theme's colours now (redrawn on a theme change).
    const cs = getComputedStyle(el);
    const fg = cs.getPropertyValue('--muted').trim() || cs.color;
    const grid = cs.getPropertyValue('--line').trim() || '#ccc';
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, font: '11px system-ui, sans-serif' };
    const data = [a.ts, ...a.lines.map((l) => l.vals)] as uPlot.AlignedData;
    const plot = new uPlot({
      width: Math.max(200, el.clientWidth), height: 110,
      scales: { x: { time: true, range: (): [number, number] => { const now = Date.now() / 1000; return [now - SPAN[range], now]; } },
        y: m.pct ? { range: [0, 100] } : { range: (_u, _lo, hi) => [0, Math.max(hi ?? 1, m.id === 'network' ? 1024 : 1) * 1.1] } },
      series: [{}, ...a.lines.map(({ label, stroke, spanGaps }) => ({ label, stroke, width: 1.5, spanGaps: !!spanGaps, value: (_u: uPlot, v: number | null) => (v == null ? '–' : m.fmt(v)) }))],
      axes: [axis, { ...axis, size: m.id === 'network' ? 70 : 44, values: (_u, vals) => vals.map((v) => (m.pct ? `${Math.round(v)}%` : m.fmt(v))) }],
      legend: { show: false },
      cursor: { y: false },
    }, data, el);
    onDrawn(performance.now() - t0);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height: 110 }));
    ro.observe(el);
    return () => { ro.disconnect(); plot.destroy(); };
  }, [a, theme]);
  return (
    <figure className="metric" data-metric={m.id} data-lines={a.lines.length}>
      <figcaption><span>{m.title}</span>{' '}
        <span className="latest" data-testid={`latest-${m.id}`}>{a.lines.length === 1 && !m.named ? fmtLatest(m, a.lines[0]) : a.lines.map((l, i) => (
          <span key={l.key} className="legend-item" data-series={l.label}>{i > 0 ? ' · ' : ''}<i className="swatch" style={{ background: l.stroke }} aria-hidden="true" />{l.label} {fmtLatest(m, l)}</span>))}</span></figcaption>
      <div ref={box} className="metric-plot" role="img" aria-label={describe(m, range, a)} />
    </figure>
  );
}

/** A line's newest value as its chart formats values, '–' when it has none. */
function fmtLatest(m: Metric, l: { vals: (number | null)[] }): string {
  const v = latest(l.vals);
  return v === null ? '–' : m.fmt(v);
}

/** A chart's lines for one range's answers, memoised per answer so a re-render does not redraw. */
function chartsOf(h: Answers | null): { m: Metric; a: Aligned }[] {
  if (!h) return [];
  return METRICS.map((m) => ({ m, a: m.lines(h) }))
    // the always-there metrics keep their (empty) chart; filesystems and temperatures only with data
    .filter(({ m, a }) => (m.id === 'filesystems' || m.id === 'temp' ? drawable(a) : true));
}

export default function Chart({ id }: { id: string }) {
  const [range, setRange] = useState<Range>('24h');
  const [state, setState] = useState<string>('loading');
  const [h, setH] = useState<Answers | null>(null);
  const outer = useRef<HTMLDivElement>(null);
  const drawn = useRef(0);
  const theme = useThemeName();
  useEffect(() => {
    let alive = true;
    setState('loading');
    const points = pointsFor(outer.current?.clientWidth ?? 900);
    const enc = encodeURIComponent(id);
    // Filesystems, sensors and GPUs are extras: a hub (or machine) without them still charts the rest.
    const extra = <T,>(p: Promise<T>) => p.catch(() => null);
    Promise.all([
      api<MetricsHistory>('GET', `/metrics/${enc}?range=${range}&points=${points}`),
      extra(api<FsHistory>('GET', `/metrics/${enc}/filesystems?range=${range}&points=${points}`)),
      extra(api<GpuHistory>('GET', `/servers/${enc}/gpus?hours=${GPU_HOURS[range]}`)),
      extra(api<TempHistory>('GET', `/metrics/${enc}/temperatures?range=${range}&points=${points}`)),
    ]).then(([d, fs, gpu, temps]) => {
      if (!alive) return;
      drawn.current = 0;
      setH({ d, fs, gpu, temps });
      setState((d.timestamps ?? []).length ? 'ready' : 'empty');
    }).catch((e) => { if (alive) setState(isMissingFeature(e) ? 'missing' : `error: ${e?.message ?? e}`); });
    return () => { alive = false; };
  }, [id, range]);
  const charts = useMemo(() => chartsOf(h), [h]);
  const shown = state === 'ready' ? charts : [];
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
      <div ref={outer} className="chart-box" data-range={range} data-state={state} data-points={h?.d.timestamps?.length ?? 0}
        data-bucket={h?.d.bucket_seconds ?? ''}>
        {shown.map(({ m, a }) => <MetricChart key={m.id} m={m} a={a} range={range} theme={theme} onDrawn={onDrawn} />)}
      </div>
    </div>
  );
}
