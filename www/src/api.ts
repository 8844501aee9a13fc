// api.ts - the hub's REST API under /api/v1, with the key kept in localStorage.
export const KEY_STORAGE = 'hlc.apiKey';

export class ApiError extends Error {
  status: number;
  code: string;
  field: string | null;
  /** The whole detail object: a refused or failed action carries its outcome there. */
  detail: Record<string, any>;
  constructor(status: number, code: string, message: string, field: string | null, detail: Record<string, any> = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
    this.detail = detail;
  }
}

export function getKey(): string | null {
  try { return localStorage.getItem(KEY_STORAGE); } catch { return null; }
}
export function setKey(k: string | null) {
  if (k === null) localStorage.removeItem(KEY_STORAGE);
  else localStorage.setItem(KEY_STORAGE, k);
}

/** Turns the hub's {"detail":{code,message,field}} (or FastAPI-like lists) into an ApiError. */
export function parseError(status: number, body: unknown): ApiError {
  const d = (body as any)?.detail;
  if (d && typeof d === 'object' && !Array.isArray(d)) {
    return new ApiError(status, String(d.code ?? status), String(d.message ?? 'error'), d.field ?? null, d);
  }
  if (typeof d === 'string') return new ApiError(status, String(status), d, null);
  const msg = status === 404 ? 'not found' : status === 401 ? 'API key refused' : `HTTP ${status}`;
  return new ApiError(status, String(status), msg, null);
}

/** GETs index.html starts before the app loads (its inline script): the first screen. */
export const FIRST_SCREEN = ['/alerts?status=open&limit=1', '/servers', '/config/thresholds', '/costs'];
const PREFETCH_FRESH_MS = 5000;

interface Prefetched { status: number; text: string }
function prefetchStore(key: string | null): any {
  const pre = (window as any).__hlcPre;
  if (!pre || pre.key !== key || Date.now() - pre.at > PREFETCH_FRESH_MS) return null;
  return pre;
}

/** The answer index.html already asked for, once, if it is fresh and for the same key. */
export function takePrefetched(path: string, key: string | null): Promise<Prefetched> | null {
  const pre = prefetchStore(key);
  const r = pre?.answers?.[path];
  if (!r) return null;
  delete pre.answers[path];
  delete pre.done[path];
  return r;
}

/** A successful prefetched answer that has already arrived, parsed; taken once. */
export function peekPrefetched<T>(path: string): T | undefined {
  const pre = prefetchStore(getKey());
  const d: Prefetched | undefined = pre?.done?.[path];
  if (!d || d.status !== 200) return undefined;
  try {
    const v = JSON.parse(d.text) as T;
    delete pre.answers[path];
    delete pre.done[path];
    return v;
  } catch { return undefined; }
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const key = getKey();
  if (key) headers['X-API-Key'] = key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let status: number;
  let text: string;
  const pre = method === 'GET' ? takePrefetched(path, key) : null;
  if (pre) ({ status, text } = await pre);
  else {
    const res = await fetch('/api/v1' + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    status = res.status;
    text = await res.text();
  }
  let json: any = null;
  if (text) { try { json = JSON.parse(text); } catch { json = null; } }
  if (status < 200 || status > 299) {
    const err = parseError(status, json);
    if (status === 401) window.dispatchEvent(new CustomEvent('hlc-unauthorized'));
    throw err;
  }
  return json as T;
}

/** The hub answers 404 "no such endpoint" for routes it does not have: that feature is not available. */
export function isMissingFeature(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 405 ||
    (e.status === 404 && (e.message === 'no such endpoint' || e.code === '404')));
}

// ---- alerts, notifications, costs (TEAM.md contract, TRD §4) ----------------
export type Severity = 'critical' | 'high' | 'medium' | 'low';
export const SEVERITIES: Severity[] = ['critical', 'high', 'medium', 'low'];
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';

export interface Alert {
  alert_id: string; server_id: string | null; /* null: a service check from the hub */ severity: Severity; type: string; subject: string;
  title: string; message: string; metric_value: number | null; threshold_value: number | null;
  status: AlertStatus; created_at: string; acknowledged_at: string | null; resolved_at: string | null;
  auto_resolved: boolean;
  /** raised under a mute rule (no message went out), or one covers it now */
  muted?: boolean;
  auto_remediation?: { available: boolean; action_id: string | null; status: string | null };
}
export interface AlertList { alerts: Alert[]; total: number }

export interface AlertQuery {
  status?: '' | AlertStatus | 'active'; severity?: '' | Severity; server_id?: string; limit?: number; offset?: number;
}
/** The query string of GET /alerts; empty filters are left out. */
export function alertsPath(q: AlertQuery): string {
  const p = new URLSearchParams();
  if (q.status) p.set('status', q.status);
  if (q.severity) p.set('severity', q.severity);
  if (q.server_id) p.set('server_id', q.server_id);
  if (q.limit !== undefined) p.set('limit', String(q.limit));
  if (q.offset) p.set('offset', String(q.offset));
  const s = p.toString();
  return s ? `/alerts?${s}` : '/alerts';
}

export interface ServerCost {
  server_id: string; hostname: string; display_name: string | null; machine_type: string;
  tdp_watts: number | null; hours_per_day: number; basis?: string; daily: number; monthly: number; yearly: number; month_to_date: number;
}
export interface Costs {
  currency: string; electricity_rate_kwh: number;
  fleet: { daily: number; monthly: number; yearly: number; month_to_date: number; watts: number };
  servers: ServerCost[];
}
export interface ChannelResult { channel: string; ok: boolean; status: number | null; error: string | null }
