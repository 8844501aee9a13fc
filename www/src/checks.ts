// checks.ts - service checks (GET/POST /api/v1/checks): types and the pure
// helpers the checks page, the dashboard widget and the card dots share.
export type CheckType = 'http' | 'tcp' | 'dns' | 'ping';
export interface CheckLatest {
  place: string; ok: boolean; fails: number; last_at: string; response_ms: number | null;
  status_code: number | null; cert_days: number | null; error: string | null; since: string;
}
export interface Check {
  id: number; name: string; type: CheckType; interval_seconds: number; run_from: string[];
  url?: string; keyword?: string; host?: string; port?: number; query?: string; resolver?: string;
  resolver_port?: number; expect?: string; server_id?: string; service?: string; latest: CheckLatest[];
}
export type CheckState = 'up' | 'down' | 'degraded' | 'pending';

/** What a check looks at, in one line. */
export function checkTarget(c: Check): string {
  if (c.type === 'http') return c.url ?? '';
  if (c.type === 'tcp') return `${c.host}:${c.port}`;
  if (c.type === 'ping') return c.host ?? '';
  return `${c.query} via ${c.resolver ? `${c.resolver}${c.resolver_port && c.resolver_port !== 53 ? `:${c.resolver_port}` : ''}` : 'the system resolver'}${c.expect ? ` = ${c.expect}` : ''}`;
}

/** up everywhere, down everywhere, degraded where places disagree, pending before the first run. */
export function checkState(c: Check): CheckState {
  const seen = c.latest.filter((l) => c.run_from.includes(l.place));
  if (!seen.length) return 'pending';
  const up = seen.filter((l) => l.ok).length;
  return up === seen.length ? 'up' : up === 0 ? 'down' : 'degraded';
}

export const STATE_COLOUR: Record<CheckState, string> = { up: 'green', down: 'red', degraded: 'amber', pending: 'grey' };

export interface Dot { id: number; name: string; ok: boolean; place: string; /** the place in words (a machine's name) */ where?: string }
/** Per machine, the checks about it: tied to it (server_id) or run from it. */
export function dotsByMachine(checks: Check[]): Record<string, Dot[]> {
  const out: Record<string, Dot[]> = {};
  const add = (m: string, d: Dot) => { (out[m] ??= []).push(d); };
  for (const c of checks) {
    for (const l of c.latest) {
      if (!c.run_from.includes(l.place)) continue;
      const d = { id: c.id, name: c.name, ok: l.ok, place: l.place };
      if (c.server_id) add(c.server_id, d);
      else if (l.place !== 'hub') add(l.place, d);
    }
  }
  return out;
}

export interface CheckForm {
  name: string; type: CheckType; url: string; keyword: string; host: string; port: string;
  query: string; resolver: string; expect: string; interval: string; run_from: string[];
}
export const EMPTY_FORM: CheckForm = {
  name: '', type: 'http', url: '', keyword: '', host: '', port: '', query: '', resolver: '', expect: '',
  interval: '60', run_from: ['hub'],
};

/** The POST /checks body for a form: only the chosen type's fields, empty ones left out. */
export function checkBody(f: CheckForm): Record<string, unknown> {
  const b: Record<string, unknown> = { name: f.name.trim(), type: f.type, interval_seconds: Number(f.interval), run_from: f.run_from };
  const put = (k: string, v: string) => { if (v.trim()) b[k] = v.trim(); };
  if (f.type === 'http') { put('url', f.url); put('keyword', f.keyword); }
  else if (f.type === 'tcp') { put('host', f.host); if (f.port.trim()) b.port = Number(f.port); }
  else if (f.type === 'ping') put('host', f.host);
  else { put('query', f.query); put('resolver', f.resolver); put('expect', f.expect); }
  return b;
}
