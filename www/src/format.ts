// format.ts - pure presentation logic (unit-tested).
export type Status = 'online' | 'offline' | 'unknown' | string;

export interface Thresholds {
  cpu_warning?: number; cpu_critical?: number;
  memory_warning?: number; memory_critical?: number;
  disk_warning?: number; disk_critical?: number;
}

export const DEFAULT_THRESHOLDS: Required<Thresholds> = {
  cpu_warning: 90, cpu_critical: 98, memory_warning: 85, memory_critical: 95,
  disk_warning: 80, disk_critical: 90,
};

/** Reads thresholds from GET /config/thresholds whatever the nesting ({cpu:{warning}} or flat). */
export function normaliseThresholds(t: any): Required<Thresholds> {
  const out = { ...DEFAULT_THRESHOLDS };
  if (!t || typeof t !== 'object') return out;
  const src = t.thresholds && typeof t.thresholds === 'object' ? t.thresholds : t;
  for (const m of ['cpu', 'memory', 'disk'] as const) {
    for (const lvl of ['warning', 'critical'] as const) {
      const k = `${m}_${lvl}` as keyof Thresholds;
      const flat = src[k] ?? src[`${m}_${lvl}_percent`];
      const nested = src[m]?.[lvl] ?? src[m]?.[`${lvl}_percent`];
      const v = typeof flat === 'number' ? flat : typeof nested === 'number' ? nested : undefined;
      if (v !== undefined) out[k] = v;
    }
  }
  return out;
}

export type Level = 'ok' | 'warning' | 'critical' | 'none';

export function level(value: number | null | undefined, warn: number, crit: number): Level {
  if (value === null || value === undefined || Number.isNaN(value)) return 'none';
  if (value >= crit) return 'critical';
  if (value >= warn) return 'warning';
  return 'ok';
}

/**
 * The PRD colour table: online and healthy = green, a warning = amber, critical or a
 * server offline = red, offline workstation = grey (expected), unknown = grey.
 */
export function cardColour(m: any, th: Required<Thresholds>): 'green' | 'amber' | 'red' | 'grey' {
  if (m.host_key_changed) return 'red';
  if (m.status === 'offline') return m.machine_type === 'workstation' ? 'grey' : 'red';
  if (m.status !== 'online') return 'grey';
  const l = m.latest;
  if (!l) return 'green';
  const lv = [
    level(l.cpu_percent, th.cpu_warning, th.cpu_critical),
    level(l.memory_percent, th.memory_warning, th.memory_critical),
    level(l.disk_percent, th.disk_warning, th.disk_critical),
  ];
  if (lv.includes('critical')) return 'red';
  if (lv.includes('warning')) return 'amber';
  return 'green';
}

export function hasWarning(m: any, th: Required<Thresholds>): boolean {
  const c = cardColour(m, th);
  return m.status === 'online' && (c === 'amber' || c === 'red');
}

export function uptime(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || seconds < 0) return '';
  const d = Math.floor(seconds / 86400);
  if (d >= 1) return `↑ ${d}d`;
  const h = Math.floor(seconds / 3600);
  if (h >= 1) return `↑ ${h}h`;
  return `↑ ${Math.max(0, Math.floor(seconds / 60))}m`;
}

export function ago(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'never';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${u[i]}`;
}

export function bps(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  return bytes(n) + '/s';
}

export function pct(n: number | null | undefined): string {
  return n === null || n === undefined ? '–' : `${Math.round(n)}%`;
}

export function money(n: number | null | undefined, currency = 'GBP'): string {
  if (n === null || n === undefined) return '–';
  const sym: Record<string, string> = { GBP: '£', USD: '$', EUR: '€' };
  return (sym[currency] ?? currency + ' ') + n.toFixed(2);
}

/** Moves id from one index to another in an ordered list of ids. */
export function moveId(order: string[], from: string, to: string): string[] {
  const a = order.indexOf(from);
  const b = order.indexOf(to);
  if (a < 0 || b < 0 || a === b) return order;
  const out = order.slice();
  out.splice(a, 1);
  out.splice(b, 0, from);
  return out;
}

/** Machines sorted as the hub orders them (sort_order, nulls last, then id). */
export function sortMachines<T extends { sort_order?: number | null; server_id: string }>(ms: T[]): T[] {
  return ms.slice().sort((x, y) => {
    const a = x.sort_order ?? null;
    const b = y.sort_order ?? null;
    if (a === null && b !== null) return 1;
    if (b === null && a !== null) return -1;
    if (a !== null && b !== null && a !== b) return a - b;
    return x.server_id < y.server_id ? -1 : x.server_id > y.server_id ? 1 : 0;
  });
}

/** The whitelisted action types in the operator's words (actions, settings, history). */
export const ACTION_NAMES: Record<string, string> = {
  restart_service: 'Restart a service', start_service: 'Start a service', stop_service: 'Stop a service',
  clear_logs: 'Clear logs', apply_updates: 'Apply updates', container_start: 'Start a container',
  container_stop: 'Stop a container', container_restart: 'Restart a container', custom: 'Run a custom script',
  apply_pack: 'Apply a config pack',
};
export function actionName(t: string): string { return ACTION_NAMES[t] ?? t; }

/** Action types that stop something: asked for before they are sent. */
export const DESTRUCTIVE_ACTIONS = ['stop_service', 'container_stop', 'apply_updates', 'clear_logs'];

/** One status word for a machine, the same on cards, table, summary and pages. */
export type StatusWord = 'online' | 'offline' | 'asleep' | 'unknown';
export function statusWord(m: { status?: string; machine_type?: string }): StatusWord {
  if (m.status === 'online') return 'online';
  if (m.status === 'offline') return m.machine_type === 'workstation' ? 'asleep' : 'offline';
  return 'unknown';
}
export const STATUS_LABEL: Record<StatusWord, string> = { online: 'online', offline: 'offline', asleep: 'asleep', unknown: 'not reached yet' };

/** The name a person gave a machine, else its id. */
export function machineName(m: { display_name?: string | null; server_id: string } | undefined, id?: string): string {
  return m?.display_name || m?.server_id || id || '';
}

/** "14:02" today, "6 Dec 14:02" before: when a stale value was measured. */
export function clock(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return 'never';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return 'never';
  const hm = t.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  return new Date(now).toDateString() === t.toDateString() ? hm : `${t.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${hm}`;
}

/** SVG path ("M x y L …") of a sparkline: values 0-100 at bucket indexes 0..n-1, gaps break the line. */
export function sparkPath(idx: number[], vals: (number | null)[], n: number, w: number, h: number): string {
  let d = '';
  let prev = -2;
  for (let k = 0; k < idx.length; k++) {
    const v = vals[k];
    if (v === null || v === undefined) { prev = -2; continue; }
    const x = n > 1 ? (idx[k] / (n - 1)) * w : 0;
    const y = h - (Math.max(0, Math.min(100, v)) / 100) * h;
    d += `${idx[k] === prev + 1 ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)}`;
    prev = idx[k];
  }
  return d;
}

export interface FleetQuery { text: string; status: '' | StatusWord; type: string; tag: string; sort: string; desc: boolean }

const SORT_KEY: Record<string, (m: any) => number | string> = {
  name: (m) => machineName(m).toLowerCase(),
  status: (m) => ['offline', 'unknown', 'asleep', 'online'].indexOf(statusWord(m)),
  cpu: (m) => m.latest?.cpu_percent ?? -1, ram: (m) => m.latest?.memory_percent ?? -1, disk: (m) => m.latest?.disk_percent ?? -1,
  net: (m) => (m.latest?.network_rx_bps ?? -1) + (m.latest?.network_tx_bps ?? 0), load: (m) => m.latest?.load_1m ?? -1,
  temp: (m) => m.latest?.cpu_temp_c ?? -1000, uptime: (m) => m.latest?.uptime_seconds ?? -1,
  seen: (m) => (m.last_seen ? Date.parse(m.last_seen) : 0),
};
export const SORT_COLUMNS = Object.keys(SORT_KEY);

/** The fleet table's rows: searched by name, filtered by status/type/tag, sorted by a column. */
export function fleetRows<T extends { server_id: string }>(ms: T[], q: FleetQuery): T[] {
  const text = q.text.trim().toLowerCase();
  const key = SORT_KEY[q.sort] ?? SORT_KEY.name;
  const rows = ms.filter((m: any) => (!text || machineName(m).toLowerCase().includes(text) || m.server_id.includes(text)
      || String(m.hostname ?? '').toLowerCase().includes(text))
    && (!q.status || statusWord(m) === q.status) && (!q.type || m.machine_type === q.type)
    && (!q.tag || (Array.isArray(m.tags) && m.tags.includes(q.tag))));
  const keyed = rows.map((m) => [key(m), m] as const);
  keyed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0) * (q.desc ? -1 : 1) || (a[1].server_id < b[1].server_id ? -1 : 1));
  return keyed.map((k) => k[1]);
}

/** Why a machine cannot be reached, in words, and what the operator can do (from the hub's last_error). */
export function unreachable(err: string | null | undefined, user?: string | null): { why: string; todo: string } | null {
  if (!err) return null;
  const e = err.toLowerCase();
  const u = user ? ` for user ${user}` : '';
  if (e.startsWith('authentication refused')) return { why: 'The machine refuses the hub\'s SSH key.', todo: `Add the hub's public key (Settings → SSH key, or GET /api/v1/ssh/public-key) to ~/.ssh/authorized_keys${u} on the machine.` };
  if (e.startsWith('timed out')) return { why: 'The machine did not answer in time.', todo: 'Check that it is switched on, that the address and SSH port are right, and that no firewall drops SSH from the hub.' };
  if (e.startsWith('connection refused')) return { why: 'Nothing listens on the SSH port.', todo: 'Start the SSH server on the machine (systemctl enable --now ssh), or correct the SSH port on Edit.' };
  if (e.startsWith('no route to host')) return { why: 'The address cannot be reached or resolved.', todo: 'Check the IP address or hostname on Edit; for a Tailscale machine, that it is online in the tailnet.' };
  if (e.startsWith('host key')) return { why: 'The machine\'s SSH host key changed.', todo: 'If it was reinstalled, accept the new host key on its page; otherwise find out why before trusting it.' };
  return { why: err.charAt(0).toUpperCase() + err.slice(1) + '.', todo: 'Check the machine and its SSH settings on Edit, then poll again.' };
}
