// hooks.ts - polling data loader with loading / error / not-available states.
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, isMissingFeature, peekPrefetched } from './api';

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  missing: boolean;
  loading: boolean;
  reload: () => void;
}

export function usePoll<T>(path: string | null, intervalMs = 5000): Loaded<T> {
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
    return () => { alive.current = false; if (t) window.clearInterval(t); };
  }, [load, intervalMs]);
  return { data, error, missing, loading, reload: load };
}
