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
};
export function actionName(t: string): string { return ACTION_NAMES[t] ?? t; }

/** Action types that stop something: asked for before they are sent. */
export const DESTRUCTIVE_ACTIONS = ['stop_service', 'container_stop', 'apply_updates', 'clear_logs'];
