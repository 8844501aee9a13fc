// history.ts - the history charts' data shaping: API answers (metrics history,
// per-filesystem and per-sensor temperature history, GPU readings) turned into uPlot's aligned columns,
// one line per series, with no drawing in here so that it can be tested alone.
import type { GpuReading } from './ai';

/** One drawn series: its values line up with Aligned.ts. */
export interface Line { key: string; label: string; stroke: string; vals: (number | null)[]; spanGaps?: boolean }
/** What one chart draws: bucket starts (epoch s, ascending) and its lines. */
export interface Aligned { ts: number[]; lines: Line[] }

/** GET /metrics/{id}'s shape (the part the charts read). */
export interface MetricsHistory {
  timestamps?: number[]; bucket_seconds?: number;
  series?: Record<string, { avg: (number | null)[]; min?: (number | null)[]; max?: (number | null)[] }>;
}
/** GET /metrics/{id}/filesystems. */
export interface FsHistory { bucket_seconds?: number; filesystems?: { mount: string; series: { t: number; used_percent: number }[] }[]; truncated?: boolean }
/** GET /metrics/{id}/temperatures. */
export interface TempHistory { bucket_seconds?: number; temperatures?: { zone: string; series: { t: number; celsius: number }[] }[]; truncated?: boolean }
/** GET /servers/{id}/gpus (the history part). */
export interface GpuHistory { history?: GpuReading[]; resolution?: 'sample' | 'hour' }

/** Line colours after a chart's own first ones, for lines counted at run time (mounts, sensors, GPUs). */
export const PALETTE = ['#f59e0b', '#3b82f6', '#a855f7', '#22c55e', '#ef4444', '#14b8a6', '#ec4899', '#84cc16', '#6366f1', '#0ea5e9'];

/** The ?hours= of the GPU route that covers a chart range. */
export const GPU_HOURS: Record<string, number> = { '1h': 1, '6h': 6, '24h': 24, '7d': 168, '30d': 720, '1y': 8760 };

const hasData = (vals: (number | null)[]) => vals.some((v) => v !== null && v !== undefined);

/** The named series of a metrics history, as the API aligned them. */
export function metricLines(d: MetricsHistory | null | undefined, series: [string, string, string][]): Aligned {
  const ts = d?.timestamps ?? [];
  return { ts, lines: series.map(([key, label, stroke]) => ({ key, label, stroke, vals: d?.series?.[key]?.avg ?? ts.map(() => null) })) };
}

/** Puts columns keyed by time onto the sorted union of their times (null where a line has none). */
function align(cols: { line: Omit<Line, 'vals'>; at: Map<number, number | null> }[]): Aligned {
  const all = new Set<number>();
  for (const c of cols) for (const t of c.at.keys()) all.add(t);
  const ts = [...all].sort((a, b) => a - b);
  return { ts, lines: cols.map((c) => ({ ...c.line, vals: ts.map((t) => c.at.get(t) ?? null) })) };
}

/** One line per mount, in the API's order (sorted by mount), on the union of their buckets. */
export function filesystemLines(fs: FsHistory | null | undefined): Aligned {
  return align((fs?.filesystems ?? []).map((f, i) => ({
    line: { key: `fs:${f.mount}`, label: f.mount, stroke: PALETTE[i % PALETTE.length] },
    at: new Map(f.series.map((p) => [p.t, p.used_percent] as [number, number])),
  })));
}

/** Each GPU's temperature averaged into the metrics history's buckets (epoch-aligned,
 * `bucket` seconds), GPUs that reported no temperature left out. */
export function gpuTemps(g: GpuHistory | null | undefined, bucket: number): { gpu: string; label: string; at: Map<number, number> }[] {
  if (!g?.history?.length || !(bucket > 0)) return [];
  const by = new Map<string, { label: string; sums: Map<number, [number, number]> }>();
  for (const r of g.history) {
    const t = Date.parse(r.time) / 1000;
    if (r.temp_c == null || !Number.isFinite(t)) continue;
    const b = Math.floor(t / bucket) * bucket;
    let e = by.get(r.gpu_id);
    if (!e) by.set(r.gpu_id, (e = { label: r.name || r.gpu_id, sums: new Map() }));
    const s = e.sums.get(b) ?? [0, 0];
    s[0] += r.temp_c;
    s[1] += 1;
    e.sums.set(b, s);
  }
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([gpu, e]) => ({
    gpu, label: e.label, at: new Map([...e.sums].map(([b, [sum, n]]) => [b, Math.round((sum / n) * 10) / 10] as [number, number])),
  }));
}

/** One line per sensor zone (in the API's order, sorted by zone) when the machine reports
 * any, else its CPU temperature as the metrics history has it; then each GPU's; all on the
 * union of their buckets. */
export function temperatureLines(d: MetricsHistory | null | undefined, g: GpuHistory | null | undefined, z?: TempHistory | null): Aligned {
  const cols: { line: Omit<Line, 'vals'>; at: Map<number, number | null> }[] = [];
  const zones = (z?.temperatures ?? []).filter((x) => x.series.length > 0);
  zones.forEach((x, i) => cols.push({
    line: { key: `zone:${x.zone}`, label: x.zone, stroke: PALETTE[i % PALETTE.length] },
    at: new Map(x.series.map((p) => [p.t, p.celsius] as [number, number])),
  }));
  const ts = d?.timestamps ?? [];
  const cpu = d?.series?.cpu_temp_c?.avg ?? [];
  if (!zones.length && hasData(cpu)) cols.push({ line: { key: 'cpu_temp_c', label: 'CPU', stroke: '#f97316' }, at: new Map(ts.map((t, i) => [t, cpu[i] ?? null] as [number, number | null])) });
  // Past two days the GPU route gives hourly averages: the line joins them across finer buckets.
  const hourly = g?.resolution === 'hour';
  gpuTemps(g, d?.bucket_seconds ?? 0).forEach((x, i) => cols.push({
    line: { key: `gpu:${x.gpu}`, label: `GPU ${x.label}`, stroke: PALETTE[(zones.length + i + 4) % PALETTE.length], spanGaps: hourly }, at: x.at,
  }));
  return align(cols);
}

/** Whether any line of a chart has a value to draw. */
export function drawable(a: Aligned): boolean {
  return a.ts.length > 0 && a.lines.some((l) => hasData(l.vals));
}
