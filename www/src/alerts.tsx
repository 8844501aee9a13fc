// alerts.tsx - one alert row with acknowledge / resolve, shared by the dashboard's
// recent alerts, the machine page and the alerts page (TEAM.md contract).
import { useState } from 'react';
import { api, ApiError, type Alert } from './api';
import { ago } from './format';
import { SnoozeControls } from './snooze';
import { alertDiffHref } from './packassign';

const TYPE_LABEL: Record<string, string> = {
  disk_warning: 'disk', disk_critical: 'disk', memory_warning: 'memory', memory_critical: 'memory',
  cpu_warning: 'CPU', cpu_critical: 'CPU', server_offline: 'offline', service_down: 'service',
  container_down: 'container', update_available: 'updates', security_updates: 'security updates',
  reboot_required: 'reboot', host_key_changed: 'host key',
  config_drift: 'config drift', config_noncompliant: 'not compliant',
};

/** "91% (threshold 80%)" for metric alerts, "" when the alert carries no figures. */
export function alertFigures(a: Pick<Alert, 'type' | 'metric_value' | 'threshold_value'>): string {
  if (a.metric_value === null || a.metric_value === undefined) return '';
  const pctType = /^(disk|memory|cpu)_/.test(a.type);
  const f = (v: number) => (pctType ? `${Math.round(v * 10) / 10}%` : String(Math.round(v * 100) / 100));
  return a.threshold_value === null || a.threshold_value === undefined
    ? f(a.metric_value) : `${f(a.metric_value)} (threshold ${f(a.threshold_value)})`;
}

/** What the operator may still do with an alert. */
export function alertVerbs(status: string): ('acknowledge' | 'resolve')[] {
  if (status === 'open') return ['acknowledge', 'resolve'];
  if (status === 'acknowledged') return ['resolve'];
  return [];
}

/** POSTs acknowledge/resolve; answers the updated alert or a message a person understands. */
export async function alertAction(id: string, verb: 'acknowledge' | 'resolve'): Promise<Alert | string> {
  try {
    return await api<Alert>('POST', `/alerts/${encodeURIComponent(id)}/${verb}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) return `Already resolved: ${e.message}`;
    if (e instanceof ApiError && e.status === 404) return 'This alert no longer exists.';
    return `${verb === 'acknowledge' ? 'Acknowledge' : 'Resolve'} failed: ${(e as any)?.message ?? e}`;
  }
}

export function AlertRow({ a, onChanged, showMachine = true, verbs = ['acknowledge', 'resolve'], name, select, snooze = true }: {
  a: Alert; onChanged: (a: Alert | null) => void; showMachine?: boolean; verbs?: ('acknowledge' | 'resolve')[];
  /** offer Snooze / Mute (not in the dashboard's compact recent list) */
  snooze?: boolean;
  /** the machine's display name (the id when not given) */
  name?: string;
  /** bulk selection on the alerts page */
  select?: { checked: boolean; onChange: (on: boolean) => void };
}) {
  const who = name || a.server_id;
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);
  const run = async (verb: 'acknowledge' | 'resolve') => {
    setBusy(true); setMsg(null);
    const r = await alertAction(a.alert_id, verb);
    setBusy(false);
    if (typeof r === 'string') { setMsg(r); onChanged(null); } else onChanged(r);
  };
  const figures = alertFigures(a);
  const diff = alertDiffHref(a);
  const allowed = alertVerbs(a.status).filter((v) => verbs.includes(v));
  return (
    <li className={`alert sev-${a.severity}`} data-alert-id={a.alert_id} data-status={a.status} data-severity={a.severity} data-muted={a.muted ? 'true' : undefined}>
      <span>
        {select && <input type="checkbox" className="pick" checked={select.checked} onChange={(e) => select.onChange(e.target.checked)}
          aria-label={`Select ${a.title} on ${who}`} />}
        <b className="sev">{a.severity}</b> {a.title}{a.muted && <span className="tag muted-tag" title="No messages are sent about this alert"> muted</span>}
        <span className="muted">
          {showMachine && (a.server_id
            ? <> · <a href={`#/machine/${encodeURIComponent(a.server_id)}`}>{who}</a></>
            : <> · <a href="#/checks">service check from the hub</a></>)}
          {a.subject ? ` · ${a.subject}` : ''} · {TYPE_LABEL[a.type] ?? a.type} · <span className="alert-status">{a.status}</span> · {ago(a.created_at)}
        </span>
        {(a.message || figures) && <><br /><span className="small">{a.message}{a.message && figures ? ' — ' : ''}{figures}</span></>}
        {diff && <><br /><a className="small" href={diff} data-testid="drift-diff">See the diff</a></>}
        {a.status === 'acknowledged' && a.acknowledged_at && <><br /><span className="small muted">acknowledged {ago(a.acknowledged_at)}</span></>}
        {a.status === 'resolved' && a.resolved_at && <><br /><span className="small muted">{a.auto_resolved ? 'cleared by itself' : 'resolved'} {ago(a.resolved_at)}</span></>}
        {a.auto_remediation?.available && <><br /><span className="small muted">auto-remediation: {a.auto_remediation.status ?? 'available'}</span></>}
        {msg && <><br /><span className="error small" role="alert">{msg}</span></>}
        {snooze && a.server_id && a.status !== 'resolved' && !a.muted && <><br /><SnoozeControls a={a} who={who || ''} onDone={() => onChanged(null)} /></>}
      </span>
      {allowed.length > 0 && (
        <span className="btns">{allowed.map((v) => (
          <button key={v} type="button" className={v === 'resolve' ? 'secondary' : undefined} disabled={busy}
            onClick={() => run(v)} aria-label={`${v === 'acknowledge' ? 'Acknowledge' : 'Resolve'} ${a.title}${showMachine ? ` on ${a.server_id ? who : 'the hub'}` : ''}`}>
            {v === 'acknowledge' ? 'Acknowledge' : 'Resolve'}</button>))}
        </span>)}
    </li>
  );
}

/** A row of the alerts list: one alert, or a machine's "updates" and "security updates" as one. */
export type AlertItem = { kind: 'one'; a: Alert } | { kind: 'updates'; server_id: string; alerts: Alert[] };
const UPDATE_TYPES = ['update_available', 'security_updates'];

/** Groups each machine's active update alerts into one row (in the place of the first); the rest stay as they are. */
export function groupUpdates(list: Alert[]): AlertItem[] {
  const byMachine = new Map<string, Alert[]>();
  for (const a of list)
    if (a.server_id && a.status !== 'resolved' && UPDATE_TYPES.includes(a.type))
      byMachine.set(a.server_id, [...(byMachine.get(a.server_id) ?? []), a]);
  const out: AlertItem[] = [];
  const placed = new Set<string>();
  for (const a of list) {
    const group = a.server_id ? byMachine.get(a.server_id) : undefined;
    if (!group || group.length < 2 || !group.includes(a)) { out.push({ kind: 'one', a }); continue; }
    if (placed.has(a.server_id!)) continue;
    placed.add(a.server_id!);
    out.push({ kind: 'updates', server_id: a.server_id!, alerts: group });
  }
  return out;
}

/** One machine's update alerts as one row, with one set of buttons for all of them. */
export function UpdatesRow({ alerts, name, onChanged, select, verbs: offered = ['acknowledge', 'resolve'] }: {
  alerts: Alert[]; name: string; onChanged: () => void;
  select?: { checked: boolean; onChange: (on: boolean) => void };
  verbs?: ('acknowledge' | 'resolve')[];
}) {
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);
  const run = async (verb: 'acknowledge' | 'resolve') => {
    setBusy(true); setMsg(null);
    const failed: string[] = [];
    for (const a of alerts) if (alertVerbs(a.status).includes(verb)) { const r = await alertAction(a.alert_id, verb); if (typeof r === 'string') failed.push(r); }
    setBusy(false);
    if (failed.length) setMsg(failed[0]);
    onChanged();
  };
  const verbs = offered.filter((v) => alerts.some((a) => alertVerbs(a.status).includes(v)));
  const worst = alerts.find((a) => a.type === 'security_updates') ?? alerts[0];
  return (
    <li className={`alert sev-${worst.severity}`} data-updates-of={alerts[0].server_id} data-alert-ids={alerts.map((a) => a.alert_id).join(' ')}>
      <span>
        {select && <input type="checkbox" className="pick" checked={select.checked} onChange={(e) => select.onChange(e.target.checked)}
          aria-label={`Select the updates on ${name}`} />}
        <b className="sev">{worst.severity}</b> Updates on <a href={`#/machine/${encodeURIComponent(alerts[0].server_id!)}`}>{name}</a>
        <span className="muted"> · {alerts.map((a) => a.title).join(' · ')} · {[...new Set(alerts.map((a) => a.status))].join(', ')} · {ago(alerts[0].created_at)}</span>
        {msg && <><br /><span className="error small" role="alert">{msg}</span></>}
      </span>
      {verbs.length > 0 && (
        <span className="btns">{verbs.map((v) => (
          <button key={v} type="button" className={v === 'resolve' ? 'secondary' : undefined} disabled={busy} onClick={() => run(v)}
            aria-label={`${v === 'acknowledge' ? 'Acknowledge' : 'Resolve'} the updates on ${name}`}>
            {v === 'acknowledge' ? 'Acknowledge' : 'Resolve'}</button>))}</span>)}
    </li>
  );
}
