// api.ts - the hub's REST API under /api/v1, with the key kept in localStorage.
export const KEY_STORAGE = 'hlc.apiKey';

export class ApiError extends Error {
  status: number;
  code: string;
  field: string | null;
  constructor(status: number, code: string, message: string, field: string | null) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
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
    return new ApiError(status, String(d.code ?? status), String(d.message ?? 'error'), d.field ?? null);
  }
  if (typeof d === 'string') return new ApiError(status, String(status), d, null);
  const msg = status === 404 ? 'not found' : status === 401 ? 'API key refused' : `HTTP ${status}`;
  return new ApiError(status, String(status), msg, null);
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const key = getKey();
  if (key) headers['X-API-Key'] = key;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch('/api/v1' + path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  if (text) { try { json = JSON.parse(text); } catch { json = null; } }
  if (!res.ok) {
    const err = parseError(res.status, json);
    if (res.status === 401) window.dispatchEvent(new CustomEvent('hlc-unauthorized'));
    throw err;
  }
  return json as T;
}

/** The hub answers 404 "no such endpoint" for routes it does not have: that feature is not available. */
export function isMissingFeature(e: unknown): boolean {
  return e instanceof ApiError && (e.status === 405 ||
    (e.status === 404 && (e.message === 'no such endpoint' || e.code === '404')));
}
