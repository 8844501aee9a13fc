// hooks.ts - polling data loader with loading / error / not-available states.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, getKey, isMissingFeature, peekPrefetched } from './api';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  missing: boolean;
  loading: boolean;
  reload: () => void;
}

// ---- live updates: one EventSource on GET /api/v1/events for the whole app -------
type Listener = (kind: string, id: string) => void;
const listeners = new Set<Listener>();
let source: EventSource | null = null;
let retry = 0;

function connect() {
  if (source || typeof EventSource === 'undefined' || !listeners.size) return;
  const key = getKey();
  if (!key) return;
  // EventSource cannot set headers: the hub takes the key as ?key= on this endpoint.
  const es = new EventSource(`/api/v1/events?key=${encodeURIComponent(key)}`);
  source = es;
  const fire = (kind: string, id: string) => listeners.forEach((l) => l(kind, id));
  const relay = (e: Event) => {
    try { const d = JSON.parse((e as MessageEvent).data); fire(String(d.kind), String(d.id)); } catch { /* not ours */ }
  };
  es.addEventListener('sample', relay);
  es.addEventListener('alert', relay); // raised with no sample behind it (offline, host key changed)
  es.addEventListener('action', relay); // an action finished on that machine (a remediation, say)
  es.addEventListener('resync', () => fire('resync', '*'));
  es.addEventListener('open', () => { if (retry) fire('resync', '*'); }); // missed events while away
  es.addEventListener('error', () => {
    if (es.readyState !== EventSource.CLOSED) { retry++; return; } // the browser reconnects by itself
    // Refused (401, 503 full, a hub without the endpoint): polling carries on; try again later.
    source = null; retry++;
    window.setTimeout(connect, Math.min(30000, 2000 * retry));
  });
}

/** Calls onEvent for every live event from the hub (kind "sample", "alert" or "action" with a machine id, or "resync"). */
export function subscribeLive(onEvent: Listener): () => void {
  listeners.add(onEvent);
  connect();
  return () => {
    listeners.delete(onEvent);
    if (!listeners.size && source) { source.close(); source = null; }
  };
}

/**
 * Loads path now and every intervalMs; with `live` ('*' for any machine, or one
 * machine's id) it also reloads within a moment of a new sample from the hub's
 * event stream, so new figures show within a second.
 */
export function usePoll<T>(path: string | null, intervalMs = 5000, live?: string): Loaded<T> {
  // An answer index.html fetched before the app loaded is drawn in the first render.
  const [first] = useState(() => (path ? peekPrefetched<T>(path) : undefined));
  const [data, setData] = useState<T | null>(first ?? null);
  const [error, setError] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  const [loading, setLoading] = useState(first === undefined);
  const alive = useRef(true);
  const fresh = useRef(first !== undefined ? path : null);
  const load = useCallback(async () => {
    if (!path) return;
    try {
      const d = await api<T>('GET', path);
      if (!alive.current) return;
      setData(d); setError(null); setMissing(false);
    } catch (e: any) {
      if (!alive.current) return;
      if (isMissingFeature(e)) setMissing(true);
      else setError(e?.message ?? String(e));
    } finally {
      if (alive.current) setLoading(false);
    }
  }, [path]);
  useEffect(() => {
    alive.current = true;
    if (fresh.current !== null && fresh.current === path) fresh.current = null; // drawn already
    else {
      setLoading(true); setData(null); setMissing(false); setError(null);
      load();
    }
    const t = intervalMs > 0 ? window.setInterval(load, intervalMs) : 0;
    let soon = 0;
    const off = live ? subscribeLive((kind, id) => {
      if (kind !== 'resync' && live !== '*' && id !== live) return;
      if (!soon) soon = window.setTimeout(() => { soon = 0; load(); }, 150); // one reload per burst
    }) : null;
    return () => { alive.current = false; if (t) window.clearInterval(t); if (soon) window.clearTimeout(soon); off?.(); };
  }, [load, intervalMs, live]);
  return { data, error, missing, loading, reload: load };
}

/** server_id -> the name shown everywhere; from `servers` when the caller has the fleet, else loaded (every minute). */
export function useNames(servers?: any[] | null): (id: string | null) => string {
  const own = usePoll<any>(servers ? null : '/servers', 60000);
  const list: any[] = servers ?? own.data?.servers ?? [];
  const map = new Map<string, string>(list.map((m) => [m.server_id, m.display_name || m.server_id]));
  return (id: string | null) => (id == null ? '' : map.get(id) ?? id); // null: a check from the hub
}
