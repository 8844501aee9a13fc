// The history charts' data shaping (load 1/5/15, one line per filesystem, one per
// temperature sensor or else the CPU's, and GPU temperatures on one time axis) and the legends the Chart shows from it, with
// fetch mocked at the network boundary and uPlot's canvas drawing left out (jsdom
// has no canvas; the browser test draws for real).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, waitFor } from '@testing-library/react';
import { drawable, filesystemLines, gpuTemps, metricLines, temperatureLines } from './history';
import { describe as describeChart } from './Chart';
import Chart from './Chart';

vi.mock('uplot', () => ({ default: class { setSize() {} destroy() {} } }));
vi.stubGlobal('ResizeObserver', class { observe() {} disconnect() {} });

const iso = (t: number) => new Date(t * 1000).toISOString();
const gpu = (id: string, t: number, temp: number | null, name: string | null = null) => ({
  gpu_id: id, vendor: 'nvidia', name, time: iso(t), util_percent: 10, mem_used_bytes: null, mem_total_bytes: null, temp_c: temp, power_w: null,
});

describe('history shaping', () => {
  it('gives the load chart three lines, 1, 5 and 15 minutes, as the API aligned them', () => {
    const d = { timestamps: [60, 120], series: { load_1m: { avg: [1, 2] }, load_5m: { avg: [0.5, null] }, load_15m: { avg: [0.25, 0.3] } } };
    const a = metricLines(d, [['load_1m', '1 min', '#1'], ['load_5m', '5 min', '#2'], ['load_15m', '15 min', '#3']]);
    expect(a.ts).toEqual([60, 120]);
    expect(a.lines.map((l) => [l.label, l.vals])).toEqual([['1 min', [1, 2]], ['5 min', [0.5, null]], ['15 min', [0.25, 0.3]]]);
    // an older hub without load_5m: a line of nulls, not a crash
    expect(metricLines({ timestamps: [60], series: {} }, [['load_5m', '5 min', '#2']]).lines[0].vals).toEqual([null]);
  });

  it('puts every mount on the union of their buckets, gaps as null, in the API order', () => {
    const a = filesystemLines({ filesystems: [
      { mount: '/', series: [{ t: 0, used_percent: 40 }, { t: 60, used_percent: 41 }] },
      { mount: '/srv/media', series: [{ t: 60, used_percent: 90 }, { t: 120, used_percent: 91.5 }] },
    ] });
    expect(a.ts).toEqual([0, 60, 120]);
    expect(a.lines.map((l) => l.label)).toEqual(['/', '/srv/media']);
    expect(a.lines[0].vals).toEqual([40, 41, null]);
    expect(a.lines[1].vals).toEqual([null, 90, 91.5]);
    expect(new Set(a.lines.map((l) => l.stroke)).size).toBe(2);
    expect(drawable(a)).toBe(true);
    expect(drawable(filesystemLines({ filesystems: [] }))).toBe(false);
    expect(drawable(filesystemLines(null))).toBe(false);
  });

  it('averages each GPU temperature into the metrics buckets and skips GPUs without one', () => {
    const g = { history: [gpu('0', 600, 50, 'RTX 3060'), gpu('0', 660, 54, 'RTX 3060'), gpu('0', 1260, 61, 'RTX 3060'),
      gpu('1', 600, 70), gpu('1', 630, null), gpu('2', 600, null)] };
    const t = gpuTemps(g, 600);
    expect(t.map((x) => [x.gpu, x.label, [...x.at]])).toEqual([
      ['0', 'RTX 3060', [[600, 52], [1200, 61]]],
      ['1', '1', [[600, 70]]],
    ]);
    expect(gpuTemps(g, 0)).toEqual([]);
    expect(gpuTemps({ history: [] }, 60)).toEqual([]);
  });

  it('draws CPU and GPU temperatures on one time axis', () => {
    const d = { timestamps: [600, 1200], bucket_seconds: 600, series: { cpu_temp_c: { avg: [45, 47] } } };
    const g = { history: [gpu('0', 1300, 60), gpu('0', 1900, 62)], resolution: 'sample' as const };
    const a = temperatureLines(d, g);
    expect(a.ts).toEqual([600, 1200, 1800]);
    expect(a.lines.map((l) => [l.label, l.vals, !!l.spanGaps])).toEqual([['CPU', [45, 47, null], false], ['GPU 0', [null, 60, 62], false]]);
    // no CPU sensor: the GPU alone; hourly GPU averages join across finer buckets
    const b = temperatureLines({ ...d, series: { cpu_temp_c: { avg: [null, null] } } }, { ...g, resolution: 'hour' });
    expect(b.lines.map((l) => [l.label, !!l.spanGaps])).toEqual([['GPU 0', true]]);
    // neither: nothing to draw
    expect(drawable(temperatureLines({ ...d, series: { cpu_temp_c: { avg: [null, null] } } }, null))).toBe(false);
  });

  it('draws one line per sensor zone instead of the CPU line, GPUs after them', () => {
    const d = { timestamps: [600, 1200], bucket_seconds: 600, series: { cpu_temp_c: { avg: [45, 47] } } };
    const g = { history: [gpu('0', 1300, 60)], resolution: 'sample' as const };
    const z = { bucket_seconds: 600, truncated: false, temperatures: [
      { zone: 'acpitz', series: [{ t: 600, celsius: 30.5 }, { t: 1200, celsius: 31 }] },
      { zone: 'x86_pkg_temp', series: [{ t: 1200, celsius: 47 }, { t: 1800, celsius: 52.25 }] },
      { zone: 'quiet', series: [] }] };
    const a = temperatureLines(d, g, z);
    expect(a.ts).toEqual([600, 1200, 1800]);
    expect(a.lines.map((l) => [l.key, l.label, l.vals])).toEqual([
      ['zone:acpitz', 'acpitz', [30.5, 31, null]],
      ['zone:x86_pkg_temp', 'x86_pkg_temp', [null, 47, 52.25]],
      ['gpu:0', 'GPU 0', [null, 60, null]],
    ]);
    expect(new Set(a.lines.map((l) => l.stroke)).size).toBe(3);
    // a machine that reports no zones (or a hub without the route): the CPU line as before
    for (const none of [{ temperatures: [] }, { temperatures: [{ zone: 'quiet', series: [] }] }, null, undefined]) {
      expect(temperatureLines(d, null, none).lines.map((l) => [l.label, l.vals])).toEqual([['CPU', [45, 47]]]);
    }
  });

  it('describes each line of a chart in its text alternative', () => {
    const a = filesystemLines({ filesystems: [{ mount: '/', series: [{ t: 0, used_percent: 40 }, { t: 60, used_percent: 45 }] },
      { mount: '/data', series: [] }] });
    expect(describeChart({ title: 'Filesystems', fmt: (v) => `${v}%` }, '1h', a)).toBe('Filesystems over 1h: / 40% to 45%, latest 45%; /data: no data');
  });
});

describe('Chart', () => {
  afterEach(() => { cleanup(); vi.unstubAllGlobals(); vi.stubGlobal('ResizeObserver', class { observe() {} disconnect() {} }); });

  it('shows a filesystems chart and three load lines, each legend with its latest value', async () => {
    const now = Math.floor(Date.now() / 1000 / 60) * 60;
    const ts = [now - 120, now - 60];
    const paths: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      const p = String(url).replace(/^\/api\/v1/, '');
      paths.push(p);
      const body = p.startsWith('/metrics/box/filesystems') ? { bucket_seconds: 60, truncated: false, filesystems: [
        { mount: '/', series: [{ t: ts[0], used_percent: 40 }, { t: ts[1], used_percent: 41.25 }] },
        { mount: '/srv/media', series: [{ t: ts[0], used_percent: 88 }] }] }
        : p.startsWith('/metrics/box') ? { timestamps: ts, bucket_seconds: 60, series: {
          cpu_percent: { avg: [5, 6] }, memory_percent: { avg: [50, 51] }, disk_percent: { avg: [88, 88] },
          load_1m: { avg: [1.5, 1.25] }, load_5m: { avg: [1, 0.75] }, load_15m: { avg: [0.5, 0.5] },
          network_rx_bps: { avg: [1, 2] }, network_tx_bps: { avg: [1, 2] }, cpu_temp_c: { avg: [null, null] } } }
          : p.startsWith('/servers/box/gpus') ? { gpus: [], history: [gpu('0', ts[1], 66, 'Arc')], resolution: 'sample' } : null;
      const temps = p.startsWith('/metrics/box/temperatures') ? { bucket_seconds: 60, truncated: false, temperatures: [
        { zone: 'acpitz', series: [{ t: ts[0], celsius: 30 }, { t: ts[1], celsius: 31.4 }] },
        { zone: 'x86_pkg_temp', series: [{ t: ts[0], celsius: 55.6 }] }] } : null;
      const ok = temps ?? body;
      return new Response(JSON.stringify(ok ?? { detail: { code: 'NOT_FOUND', message: 'no', field: null } }), { status: ok ? 200 : 404, headers: { 'Content-Type': 'application/json' } });
    }));
    const { container } = render(<Chart id="box" />);
    await waitFor(() => expect(container.querySelector('.chart-box[data-state=ready]')).toBeTruthy());
    expect(paths).toContain('/metrics/box/filesystems?range=24h&points=60'); // jsdom lays nothing out: the fewest points
    expect(paths).toContain('/servers/box/gpus?hours=24');
    expect(paths).toContain('/metrics/box/temperatures?range=24h&points=60');
    const figs = [...container.querySelectorAll('figure')].map((f) => (f as HTMLElement).dataset.metric);
    expect(figs).toEqual(['cpu', 'memory', 'disk', 'filesystems', 'load', 'network', 'temp']);
    const legend = (id: string) => container.querySelector(`[data-testid=latest-${id}]`)!.textContent;
    expect(legend('filesystems')).toBe('/ 41% · /srv/media 88%');
    expect(legend('load')).toBe('1 min 1.25 · 5 min 0.75 · 15 min 0.50');
    expect(legend('temp')).toBe('acpitz 31 °C · x86_pkg_temp 56 °C · GPU Arc 66 °C');
    expect(legend('memory')).toBe('51%');
  });

  it('leaves the filesystems and temperature charts out when the hub has neither', async () => {
    vi.stubGlobal('fetch', vi.fn(async (url: string) => {
      const p = String(url).replace(/^\/api\/v1/, '');
      const ok = /^\/metrics\/old\?/.test(p);
      return new Response(JSON.stringify(ok ? { timestamps: [60], bucket_seconds: 60, series: { cpu_percent: { avg: [1] }, load_1m: { avg: [0.5] } } }
        : { detail: { code: 'NOT_FOUND', message: 'no', field: null } }), { status: ok ? 200 : 404, headers: { 'Content-Type': 'application/json' } });
    }));
    const { container } = render(<Chart id="old" />);
    await waitFor(() => expect(container.querySelector('.chart-box[data-state=ready]')).toBeTruthy());
    const figs = [...container.querySelectorAll('figure')].map((f) => (f as HTMLElement).dataset.metric);
    expect(figs).toEqual(['cpu', 'memory', 'disk', 'load', 'network']);
    expect(container.querySelector('[data-testid=latest-load]')!.textContent).toBe('1 min 0.50 · 5 min – · 15 min –');
  });
});
