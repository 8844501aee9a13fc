// Chart.tsx - history chart drawn with uPlot from GET /metrics/{id}?range=.
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, isMissingFeature } from './api';

const RANGES = ['24h', '7d', '30d', '1y'] as const;
const SPAN: Record<string, number> = { '24h': 86400, '7d': 7 * 86400, '30d': 30 * 86400, '1y': 365 * 86400 };
const METRICS: [string, string, string][] = [
  ['cpu_percent', 'CPU %', '#3b82f6'], ['memory_percent', 'RAM %', '#a855f7'], ['disk_percent', 'Disk %', '#f59e0b'],
];

export default function Chart({ id }: { id: string }) {
  const [range, setRange] = useState<(typeof RANGES)[number]>('24h');
  const [state, setState] = useState<string>('loading');
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let plot: uPlot | null = null;
    let alive = true;
    let ro: ResizeObserver | null = null;
    setState('loading');
    api<any>('GET', `/metrics/${encodeURIComponent(id)}?range=${range}&points=300`).then((d) => {
      if (!alive || !box.current) return;
      const ts: number[] = d.timestamps ?? [];
      if (!ts.length) { setState('empty'); return; }
      const t0 = performance.now();
      const data: uPlot.AlignedData = [ts, ...METRICS.map(([k]) => (d.series?.[k]?.avg ?? ts.map(() => null)))] as any;
      const width = Math.max(200, box.current.clientWidth);
      plot = new uPlot({
        width, height: 180,
        scales: { x: { time: true, range: (): [number, number] => { const now = Date.now() / 1000; return [now - SPAN[range], now]; } }, y: { range: [0, 100] } },
        series: [{}, ...METRICS.map(([, label, stroke]) => ({ label, stroke, width: 1.5, spanGaps: false }))],
        axes: [{ stroke: 'currentColor' }, { stroke: 'currentColor', size: 36 }],
        legend: { show: true },
      }, data, box.current);
      const ms = performance.now() - t0;
      box.current.dataset.renderMs = ms.toFixed(2);
      box.current.dataset.points = String(ts.length);
      setState('ready');
      ro = new ResizeObserver(() => { if (plot && box.current) plot.setSize({ width: Math.max(200, box.current.clientWidth), height: 180 }); });
      ro.observe(box.current);
    }).catch((e) => { if (alive) setState(isMissingFeature(e) ? 'missing' : `error: ${e?.message ?? e}`); });
    return () => { alive = false; ro?.disconnect(); plot?.destroy(); };
  }, [id, range]);
  return (
    <div className="chart">
      <div className="seg" role="group" aria-label="Chart range">
        {RANGES.map((r) => <button key={r} type="button" aria-pressed={r === range} onClick={() => setRange(r)}>{r}</button>)}
      </div>
      {state === 'loading' && <p className="muted">Loading history…</p>}
      {state === 'empty' && <p className="muted">No history in this range yet.</p>}
      {state === 'missing' && <p className="muted">History: not available on this hub yet.</p>}
      {state.startsWith('error') && <p className="error">{state}</p>}
      <div ref={box} className="chart-box" data-range={range} data-state={state} />
    </div>
  );
}
