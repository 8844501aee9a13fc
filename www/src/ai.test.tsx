// The AI and GPU widgets: what they show for each Ollama state and for GPU
// readings, and the requests their buttons send, with fetch mocked at the
// network boundary.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { AiWidget, GpuWidget, spark, vramText, type OllamaEndpoint } from './ai';

const at = new Date().toISOString();
const ep = (over: Partial<OllamaEndpoint> = {}): OllamaEndpoint => ({
  server_id: 'gpu-box', enabled: true, configured: false, url: null, port: 11434, via: 'hub', state: 'up', version: '0.5.7',
  models: [{ name: 'llama3.2:latest', size: 2019393189, parameter_size: '3.2B', quantization: 'Q4_K_M' }],
  loaded: [{ name: 'llama3.2:latest', size: 4000000000, size_vram: 3000000000, expires_at: at }],
  error: null, checked_at: at, since: at, ...over,
});

let calls: { method: string; path: string; body: any }[] = [];
function mockHub(handler: (m: string, p: string) => [number, any] | undefined) {
  calls = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: any = {}) => {
    const method = init.method ?? 'GET';
    const path = String(url).replace(/^\/api\/v1/, '');
    calls.push({ method, path, body: init.body ? JSON.parse(init.body) : undefined });
    const r = handler(method, path) ?? [404, { detail: { code: 'NOT_FOUND', message: 'no such endpoint', field: null } }];
    return new Response(JSON.stringify(r[1]), { status: r[0], headers: { 'Content-Type': 'application/json' } });
  }));
}

afterEach(() => { cleanup(); vi.unstubAllGlobals(); });

describe('AI widget', () => {
  it('shows the version, loaded models with VRAM share and installed models', async () => {
    mockHub((m, p) => (m === 'GET' && p === '/servers/gpu-box/ollama' ? [200, ep()] : undefined));
    render(<AiWidget id="gpu-box" />);
    await screen.findByText('0.5.7');
    expect(screen.getByText(/75% in VRAM/)).toBeTruthy();
    expect(document.body.textContent).toContain('Installed (1)');
    expect(document.querySelector('[data-ollama-state="up"]')).toBeTruthy();
  });

  it('says "not detected" with the way to fix it, and turns monitoring off', async () => {
    let state = ep({ state: 'not_detected', version: null, models: [], loaded: [] });
    mockHub((m, p) => {
      if (m === 'GET' && p === '/servers/gpu-box/ollama') return [200, state];
      if (m === 'PUT' && p === '/servers/gpu-box/ollama') { state = ep({ enabled: false, state: 'disabled', models: [], loaded: [] }); return [200, state]; }
      return undefined;
    });
    render(<AiWidget id="gpu-box" />);
    await screen.findByText(/OLLAMA_HOST=0\.0\.0\.0/);
    expect(screen.queryByText(/Installed/)).toBeNull();
    expect(screen.getByText('Ask over SSH')).toBeTruthy();
    fireEvent.click(screen.getByText('Turn off'));
    await screen.findByText('Turn on');
    expect(calls.find((c) => c.method === 'PUT')?.body).toEqual({ enabled: false });
    expect(document.querySelector('[data-ollama-state="disabled"]')).toBeTruthy();
  });

  it('shows why it is down', async () => {
    mockHub(() => [200, ep({ state: 'down', error: '/api/version: Connection refused' })]);
    render(<AiWidget id="gpu-box" />);
    await screen.findByText('/api/version: Connection refused');
    expect(screen.getByRole('img').getAttribute('aria-label')).toBe('status: not answering');
  });
});

describe('GPU widget', () => {
  it('shows each GPU with utilisation, VRAM, temperature, power and a history line', async () => {
    const r = (t: number, temp: number) => ({ gpu_id: 'nvidia0', vendor: 'nvidia', name: 'NVIDIA GeForce RTX 3090', time: new Date(t).toISOString(),
      util_percent: 35, mem_used_bytes: 10737418240, mem_total_bytes: 25769803776, temp_c: temp, power_w: 250.5 });
    mockHub(() => [200, { gpus: [r(2000, 65)], history: [r(1000, 60), r(2000, 65)] }]);
    render(<GpuWidget id="gpu-box" />);
    await screen.findByText('NVIDIA GeForce RTX 3090');
    const line = document.querySelector('[data-gpu="nvidia0"]')!.textContent!;
    expect(line).toContain('35% busy');
    expect(line).toContain('65 °C');
    expect(line).toContain('251 W');
    expect(document.querySelectorAll('polyline').length).toBe(2);
  });

  it('says when there is no GPU', async () => {
    mockHub(() => [200, { gpus: [], history: [] }]);
    render(<GpuWidget id="pi" />);
    await screen.findByText(/No GPU seen/);
  });

  it('draws sparks within the box, skipping gaps', () => {
    expect(spark([0, null, 100], 100, 200, 40)).toBe('0.0,40.0 200.0,0.0');
    expect(vramText({ name: 'x', size: 100, size_vram: 50, expires_at: null })).toContain('50% in VRAM');
  });
});
