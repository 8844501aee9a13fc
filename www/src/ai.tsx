// ai.tsx - the machine page's AI widget (its Ollama endpoint: version, models,
// what is loaded and in how much VRAM, or why there is nothing) and GPU widget
// (utilisation, VRAM, temperature, power, and a small history chart).
import { useState } from 'react';
import { api } from './api';
import { usePoll } from './hooks';
import { ago, bytes } from './format';
import { State, StatusDot } from './ui';

const enc = encodeURIComponent;

export interface OllamaModel { name: string; size: number | null; parameter_size?: string | null; quantization?: string | null }
export interface LoadedModel { name: string; size: number | null; size_vram: number | null; expires_at: string | null }
export interface OllamaEndpoint {
  server_id: string; enabled: boolean; configured: boolean; url: string | null; port: number; via: 'hub' | 'ssh';
  state: 'unknown' | 'up' | 'down' | 'not_detected' | 'disabled'; version: string | null;
  models: OllamaModel[]; loaded: LoadedModel[]; error: string | null; checked_at: string | null; since: string | null;
}

const STATE_TEXT: Record<OllamaEndpoint['state'], string> = {
  up: 'answering', down: 'not answering', not_detected: 'not detected', disabled: 'monitoring off', unknown: 'not probed yet',
};
const DOT: Record<OllamaEndpoint['state'], 'green' | 'red' | 'grey' | 'amber'> = {
  up: 'green', down: 'red', not_detected: 'grey', disabled: 'grey', unknown: 'grey',
};

/** "3.5 GB, 100% in VRAM" - where a loaded model sits. */
export function vramText(m: LoadedModel): string {
  if (m.size == null) return '';
  if (m.size_vram == null || m.size === 0) return bytes(m.size);
  return `${bytes(m.size)}, ${Math.round((100 * m.size_vram) / m.size)}% in VRAM`;
}

export function AiWidget({ id }: { id: string }) {
  const q = usePoll<OllamaEndpoint>(`/servers/${enc(id)}/ollama`, 30000, id);
  const [busy, setBusy] = useState(false);
  const [note, setNote] = useState<string | null>(null);
  const act = async (method: 'POST' | 'PUT', path: string, body?: unknown) => {
    setBusy(true); setNote(null);
    try { await api(method, path, body); } catch (e: any) { setNote(`Failed: ${e?.message ?? e}`); }
    setBusy(false); q.reload();
  };
  const e = q.data;
  return (
    <State what="Ollama" loading={q.loading && !e} error={e ? null : q.error} missing={q.missing}>
      {e && <div data-ollama-state={e.state}>
        <p><StatusDot level={DOT[e.state]} text={STATE_TEXT[e.state]} /> Ollama {e.version ? <b>{e.version}</b> : null}{' '}
          <span className="muted">{STATE_TEXT[e.state]}{e.checked_at ? ` · ${ago(e.checked_at)}` : ''}</span></p>
        {e.state === 'not_detected' && <p className="muted small">Nothing answers on port {e.port}. Ollama listens on 127.0.0.1 by default: set OLLAMA_HOST=0.0.0.0 on the machine, or ask it over SSH.</p>}
        {e.error && e.state !== 'not_detected' && <p className="error small">{e.error}</p>}
        {e.state !== 'disabled' && e.models.length > 0 && <>
          <p className="small"><b>Loaded</b>{e.loaded.length === 0 ? <span className="muted"> — none</span> : null}</p>
          {e.loaded.length > 0 && <ul className="plain small">{e.loaded.map((m) => <li key={m.name}>{m.name} <span className="muted">{vramText(m)}{m.expires_at ? ` · unloads ${new Date(m.expires_at).toLocaleTimeString()}` : ''}</span></li>)}</ul>}
          <p className="small"><b>Installed</b> ({e.models.length})</p>
          <ul className="plain small">{e.models.map((m) => <li key={m.name}>{m.name} <span className="muted">{bytes(m.size)}{m.parameter_size ? ` · ${m.parameter_size}` : ''}{m.quantization ? ` ${m.quantization}` : ''}</span></li>)}</ul>
        </>}
        <p className="btns">
          {e.enabled && <button type="button" disabled={busy} onClick={() => act('POST', `/servers/${enc(id)}/ollama/probe`)}>Probe now</button>}
          {e.enabled && e.via !== 'ssh' && e.state !== 'up' && <button type="button" disabled={busy} onClick={() => act('PUT', `/servers/${enc(id)}/ollama`, { via: 'ssh', port: e.port })}>Ask over SSH</button>}
          <button type="button" disabled={busy} onClick={() => act('PUT', `/servers/${enc(id)}/ollama`, e.enabled ? { enabled: false } : { enabled: true, url: e.url, port: e.port, via: e.via })}>
            {e.enabled ? 'Turn off' : 'Turn on'}</button>
        </p>
        {note && <p className="error small" role="status">{note}</p>}
      </div>}
    </State>
  );
}

export interface GpuReading {
  gpu_id: string; vendor: string; name: string | null; time: string; util_percent: number | null;
  mem_used_bytes: number | null; mem_total_bytes: number | null; temp_c: number | null; power_w: number | null;
}

/** SVG polyline points of `vals` (0..max) across w x h; gaps skipped. */
export function spark(vals: (number | null)[], max: number, w = 200, h = 40): string {
  const n = vals.length;
  return vals.map((v, i) => (v == null ? null : `${n > 1 ? ((i * w) / (n - 1)).toFixed(1) : 0},${(h - (Math.min(v, max) / max) * h).toFixed(1)}`))
    .filter((p) => p !== null).join(' ');
}

export function GpuWidget({ id }: { id: string }) {
  const q = usePoll<{ gpus: GpuReading[]; history: GpuReading[] }>(`/servers/${enc(id)}/gpus`, 60000, id);
  const g = q.data;
  return (
    <State what="GPUs" loading={q.loading && !g} error={g ? null : q.error} missing={q.missing}>
      {g && g.gpus.length === 0 && <p className="muted">No GPU seen (nvidia-smi or amdgpu).</p>}
      {g && g.gpus.map((x) => {
        const hist = g.history.filter((h) => h.gpu_id === x.gpu_id);
        return (
          <div key={x.gpu_id} data-gpu={x.gpu_id}>
            <p><b>{x.name || x.gpu_id}</b> <span className="muted small">{x.vendor}</span></p>
            <p className="small">
              {x.util_percent != null ? `${Math.round(x.util_percent)}% busy` : 'busy –'}
              {x.mem_total_bytes != null ? ` · VRAM ${bytes(x.mem_used_bytes)} / ${bytes(x.mem_total_bytes)}` : ''}
              {x.temp_c != null ? ` · ${Math.round(x.temp_c)} °C` : ''}
              {x.power_w != null ? ` · ${Math.round(x.power_w)} W` : ''}
            </p>
            {hist.length > 1 && (
              <svg viewBox="0 0 200 40" width="100%" height="40" role="img" aria-label={`${x.gpu_id} temperature and utilisation, last 24 h`}>
                <polyline fill="none" stroke="#f97316" strokeWidth="1.5" points={spark(hist.map((h) => h.temp_c), 110)} />
                <polyline fill="none" stroke="#3b82f6" strokeWidth="1" points={spark(hist.map((h) => h.util_percent), 100)} />
              </svg>
            )}
          </div>
        );
      })}
    </State>
  );
}
