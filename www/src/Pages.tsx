// Pages.tsx - alerts, actions, costs, settings, add/edit machine.
import { useEffect, useState } from 'react';
import {
  api, ApiError, setKey, alertsPath, isMissingFeature, SEVERITIES, type AlertList, type AlertStatus, type ChannelResult, type Costs, type Severity,
} from './api';
import { AlertRow, alertAction, groupUpdates, UpdatesRow } from './alerts';
import { MuteList } from './alertrules';
import { useNames, usePoll } from './hooks';
import { ACTION_NAMES, actionName, ago, machineName, money } from './format';
import { State } from './ui';
import { PendingActions } from './Dashboard';
import { TailscaleCredential } from './Discover';
import { TagPacksPanel } from './packassign';
import { go, useUnsaved } from './unsaved';
import { addPrefill, ConnectGuide } from './addflow';

const PAGE = 50;

export function AlertsPage() {
  const [view, setView] = useState<'active' | 'history'>('active');
  const [status, setStatus] = useState<'' | AlertStatus>('');
  const [severity, setSeverity] = useState<'' | Severity>('');
  const [server, setServer] = useState('');
  const [offset, setOffset] = useState(0);
  useEffect(() => setOffset(0), [view, status, severity, server]);
  const path = alertsPath({ status: view === 'active' ? 'active' : status, severity, server_id: server, limit: PAGE, offset });
  const q = usePoll<AlertList>(path, 5000, '*');
  const machines = usePoll<any>('/servers', 60000);
  const names = useNames(machines.data?.servers ?? []);
  const list = q.data?.alerts ?? [];
  const total = q.data?.total ?? 0;
  // Bulk acknowledge: the open alerts ticked on this page, one POST each (the hub's own rules per alert).
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [bulkMsg, setBulkMsg] = useState<string | null>(null);
  const [muted, setMuted] = useState(0); // bumped when a row adds a mute rule: the list reloads
  const open = list.filter((a) => a.status === 'open');
  const pick = (id: string, on: boolean) => setPicked((p) => { const n = new Set(p); if (on) n.add(id); else n.delete(id); return n; });
  const ackPicked = async () => {
    const ids = open.filter((a) => picked.has(a.alert_id)).map((a) => a.alert_id);
    let ok = 0;
    const failed: string[] = [];
    for (const id of ids) { const r = await alertAction(id, 'acknowledge'); if (typeof r === 'string') failed.push(r); else ok++; }
    setPicked(new Set());
    setBulkMsg(`${ok} of ${ids.length} acknowledged.${failed.length ? ` ${failed[0]}` : ''}`);
    q.reload();
  };
  return (
    <>
      <h1>Alerts</h1>
      <div className="seg" role="group" aria-label="Alert view">
        <button type="button" aria-pressed={view === 'active'} onClick={() => setView('active')}>Active</button>
        <button type="button" aria-pressed={view === 'history'} onClick={() => setView('history')}>History</button>
      </div>
      <div className="filters">
        {view === 'history' && (
          <label>Status <select name="status" value={status} onChange={(e) => setStatus(e.target.value as any)}>
            <option value="">any</option><option value="open">open</option><option value="acknowledged">acknowledged</option>
            <option value="resolved">resolved</option></select></label>)}
        <label>Severity <select name="severity" value={severity} onChange={(e) => setSeverity(e.target.value as any)}>
          <option value="">any</option>{SEVERITIES.map((s) => <option key={s} value={s}>{s}</option>)}</select></label>
        <label>Machine <select name="server_id" value={server} onChange={(e) => setServer(e.target.value)}>
          <option value="">all machines</option>
          {(machines.data?.servers ?? []).map((m: any) => <option key={m.server_id} value={m.server_id}>{m.display_name || m.server_id}</option>)}
        </select></label>
      </div>
      <MuteList name={names} changed={muted} />
      <State what="alerts" loading={q.loading && !q.data} error={q.data ? null : q.error} missing={q.missing}>
        {q.error && <p className="error small" role="alert">Refresh failed: {q.error}</p>}
        {list.length === 0 ? <p className="muted">{view === 'active' ? 'No active alerts.' : 'No alerts match.'}</p> : (
          <>
            <p className="muted small" data-testid="alert-total">{offset + 1}–{offset + list.length} of {total}</p>
            {open.length > 0 && (
              <p className="btns bulk">
                <label className="check"><input type="checkbox" checked={open.every((a) => picked.has(a.alert_id))}
                  onChange={(e) => setPicked(e.target.checked ? new Set(open.map((a) => a.alert_id)) : new Set())} /> Select all open on this page</label>
                <button type="button" disabled={!open.some((a) => picked.has(a.alert_id))} onClick={ackPicked}>
                  Acknowledge selected ({open.filter((a) => picked.has(a.alert_id)).length})</button>
              </p>)}
            {/* outside the bulk bar: once every open alert is acknowledged the bar goes, the outcome stays */}
            {bulkMsg && <p className="small"><span role="status">{bulkMsg}</span></p>}
            <ul className="list">{groupUpdates(list).map((it) => (it.kind === 'one'
              ? <AlertRow key={it.a.alert_id} a={it.a} name={names(it.a.server_id)} onChanged={() => { q.reload(); setMuted((n) => n + 1); }}
                select={it.a.status === 'open' ? { checked: picked.has(it.a.alert_id), onChange: (on) => pick(it.a.alert_id, on) } : undefined} />
              : <UpdatesRow key={it.server_id} alerts={it.alerts} name={names(it.server_id)} onChanged={() => q.reload()}
                select={it.alerts.some((a) => a.status === 'open') ? {
                  checked: it.alerts.every((a) => a.status !== 'open' || picked.has(a.alert_id)),
                  onChange: (on) => it.alerts.forEach((a) => a.status === 'open' && pick(a.alert_id, on)),
                } : undefined} />))}</ul>
          </>)}
        {(offset > 0 || offset + list.length < total) && (
          <p className="btns">
            <button type="button" className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>Newer</button>
            <button type="button" className="secondary" disabled={offset + list.length >= total} onClick={() => setOffset(offset + PAGE)}>Older</button>
          </p>)}
      </State>
    </>
  );
}

export function ActionsPage() {
  const h = usePoll<any>('/actions/history', 5000);
  const names = useNames();
  const list = h.data?.actions ?? [];
  return (
    <>
      <h1>Actions</h1>
      <PendingActions />
      <section className="panel" aria-label="Action history">
        <h2>History</h2>
        <State what="action history" loading={h.loading && !h.data} error={h.error} missing={h.missing}>
          {list.length === 0 ? <p className="muted">No actions yet.</p> : (
            <ul className="list">{list.map((a: any) => (
              <li key={a.action_id} className="col" data-action-id={a.action_id} data-status={a.status}>
                <details>
                  <summary><b>{actionName(a.action_type)}</b> {a.target ?? ''} <span className="muted">on {names(a.server_id)} · {a.status}
                    {a.exit_code != null ? ` · exit ${a.exit_code}` : ''} · {ago(a.completed_at ?? a.created_at)}</span></summary>
                  {a.stdout && <pre>{a.stdout}</pre>}
                  {a.stderr && <pre className="error">{a.stderr}</pre>}
                  {!a.stdout && !a.stderr && <p className="muted small">No output.</p>}
                </details>
              </li>))}</ul>)}
        </State>
      </section>
    </>
  );
}

/** What the fleet's electricity costs; the rate and currency are changed in Settings, each machine's power on its own form. */
export function CostsPage() {
  const q = usePoll<Costs>('/costs', 30000);
  const d = q.data;
  return (
    <>
      <h1>Costs</h1>
      <State what="costs" loading={q.loading && !d} error={d ? null : q.error} missing={q.missing}>
        {d && (<>
          <section className="summary" aria-label="Fleet cost">
            <div><b data-testid="fleet-daily">{money(d.fleet.daily, d.currency)}</b><span>per day</span></div>
            <div><b>{money(d.fleet.monthly, d.currency)}</b><span>per month</span></div>
            <div><b>{money(d.fleet.yearly, d.currency)}</b><span>per year</span></div>
            <div><b>{money(d.fleet.month_to_date, d.currency)}</b><span>month to date</span></div>
          </section>
          <p className="muted small">{Math.round(d.fleet.watts)} W across the fleet · month = 30 days</p>
          <p data-testid="costs-rate">Rate: <b>{d.electricity_rate_kwh} {d.currency}</b> per kWh · <a href="#/settings">change it in Settings</a></p>
          <div className="scroll-x"><table>
            <thead><tr><th>Machine</th><th>Power (W)</th><th>h/day</th><th>Day</th><th>Month</th><th>Year</th><th>Month to date</th></tr></thead>
            <tbody>{d.servers.map((s) => (
              <tr key={s.server_id} data-server-id={s.server_id}>
                <td><a href={`#/machine/${encodeURIComponent(s.server_id)}`}>{s.display_name || s.server_id}</a>
                  <span className="muted small"> {s.machine_type}</span></td>
                <td className="num" data-testid="tdp">{s.tdp_watts ?? <span className="muted">not set</span>}{' '}
                  <a className="small" href={`#/edit/${encodeURIComponent(s.server_id)}`} aria-label={`Change the power of ${s.display_name || s.server_id}`}>change</a></td>
                <td title={s.basis}>{s.hours_per_day}{s.basis && /measured/.test(s.basis) ? <span className="muted small"> measured</span> : null}</td>
                <td>{money(s.daily, d.currency)}</td><td>{money(s.monthly, d.currency)}</td>
                <td>{money(s.yearly, d.currency)}</td><td>{money(s.month_to_date, d.currency)}</td>
              </tr>))}</tbody>
          </table></div>
        </>)}
      </State>
    </>
  );
}

const ACTION_TYPES = Object.keys(ACTION_NAMES);

const LEVEL_NAMES: [string, string][] = [['cpu', 'CPU'], ['memory', 'RAM'], ['disk', 'Disk']];
/** The thresholds' own rule, said as the operator would: a warning comes before its critical level. */
export function thresholdProblem(t: Record<string, any>): ApiError | null {
  for (const [k, label] of LEVEL_NAMES) {
    const w = t[`${k}_warning_percent`], c = t[`${k}_critical_percent`];
    if (typeof w === 'number' && typeof c === 'number' && w >= c)
      return new ApiError(422, 'VALIDATION_ERROR', `${label} warning must be lower than ${label} critical (${w}% is not below ${c}%)`, `${k}_warning_percent`);
  }
  return null;
}

function FieldError({ err, field }: { err: ApiError | null; field: string }) {
  if (!err || !err.field || (err.field !== field && !err.field.endsWith('.' + field))) return null;
  return <span className="error small" role="alert" id={`err-${field}`}>{err.message}</span>;
}

export const CHANNELS: [string, string, string][] = [
  ['slack_webhook_url', 'Slack webhook URL', 'https://hooks.slack.com/services/…'],
  ['webhook_url', 'Generic webhook URL', 'https://example.lan/hook'],
  ['ntfy_url', 'ntfy topic URL', 'https://ntfy.example.lan/homelab'],
];
const SWITCHES: [string, string][] = [
  ['notify_on_critical', 'Critical'], ['notify_on_high', 'High'], ['notify_on_medium', 'Medium'], ['notify_on_low', 'Low'],
  ['notify_on_remediation', 'Auto-remediation results'],
];

/**
 * The notifications section to PUT: the switches as they are, and only the URLs the
 * operator typed or cleared (the hub shows stored URLs masked, so they are never sent back).
 */
export function notificationsBody(cfg: Record<string, any>, typed: Record<string, string | null>): Record<string, any> {
  const body: Record<string, any> = {};
  for (const [k] of SWITCHES) if (typeof cfg[k] === 'boolean') body[k] = cfg[k];
  for (const [k] of CHANNELS) {
    const v = typed[k];
    if (v === null) body[k] = '';
    else if (v !== undefined && v.trim() !== '') body[k] = v.trim();
  }
  return body;
}

function Notifications({ cfg, onSaved }: { cfg: Record<string, any>; onSaved: (n: any) => void }) {
  const [sw, setSw] = useState<Record<string, any>>(cfg);
  const [typed, setTyped] = useState<Record<string, string | null>>({});
  const [err, setErr] = useState<ApiError | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const [test, setTest] = useState<{ busy: boolean; results?: ChannelResult[]; note?: string }>({ busy: false });
  useEffect(() => setSw(cfg), [cfg]);
  useUnsaved(Object.keys(typed).some((k) => typed[k] === null || (typed[k] ?? '').trim() !== '')
    || SWITCHES.some(([k]) => !!sw[k] !== !!cfg[k]));
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setErr(null);
    try {
      const r: any = await api('PUT', '/config', { notifications: notificationsBody(sw, typed) });
      setTyped({}); setMsg('Saved.');
      if (r?.notifications) onSaved(r.notifications);
    } catch (x: any) { setErr(x instanceof ApiError ? x : null); setMsg(`Not saved: ${x?.message ?? x}`); }
  };
  const sendTest = async () => {
    setTest({ busy: true, note: 'Sending…' });
    try {
      const r = await api<{ results: ChannelResult[] }>('POST', '/notifications/test');
      const ok = r.results.filter((c) => c.ok).length;
      setTest({ busy: false, results: r.results, note: `${ok} of ${r.results.length} channels delivered.` });
    } catch (x: any) {
      setTest({ busy: false, note: isMissingFeature(x) ? 'Test notifications are not available on this hub yet.'
        : x instanceof ApiError && x.code === 'NO_CHANNEL' ? 'No channel is configured: save a URL first.' : `Test failed: ${x?.message ?? x}` });
    }
  };
  return (
    <form className="panel" aria-label="Notifications" onSubmit={save}>
      <h2>Notifications</h2>
      <div className="form-grid">
        {CHANNELS.map(([k, label, ph]) => (
          <div key={k} className="field">
            <label htmlFor={`n-${k}`}>{label}</label>
            <input id={`n-${k}`} name={`notifications.${k}`} type="text" inputMode="url" autoComplete="off" value={typed[k] ?? ''}
              placeholder={typed[k] === null ? 'will be cleared' : cfg[k] ? 'type a new URL to replace it' : ph}
              onChange={(e) => setTyped({ ...typed, [k]: e.target.value })} aria-describedby={`hint-${k} err-${k}`} />
            <span className="small muted" id={`hint-${k}`} data-channel={k}>{typed[k] === null ? 'will be cleared on save' : cfg[k] ? `saved: ${cfg[k]}` : 'not set'}
              {k === 'slack_webhook_url' && cfg.slack_webhook_source === 'env' ? ' (from SLACK_WEBHOOK_URL in the hub\'s environment)' : ''}</span>
            {cfg[k] && typed[k] !== null && !(k === 'slack_webhook_url' && cfg.slack_webhook_source === 'env') && <button type="button" className="linkish small" onClick={() => setTyped({ ...typed, [k]: null })}
              aria-label={`Clear ${label}`}>clear</button>}
            <FieldError err={err} field={k} />
          </div>))}
      </div>
      <fieldset className="switches"><legend>Notify on</legend>
        {SWITCHES.map(([k, label]) => (
          <label key={k} className="check"><input type="checkbox" name={`notifications.${k}`} checked={!!sw[k]}
            onChange={(e) => setSw({ ...sw, [k]: e.target.checked })} /> {label}</label>))}
      </fieldset>
      <button type="submit">Save notifications</button>{' '}
      <button type="button" className="secondary" onClick={sendTest} disabled={test.busy}>Send test</button>
      {' '}<span role="status">{msg}</span>
      {test.note && <p role="status" data-testid="test-note">{test.note}</p>}
      {test.results && (
        <ul className="plain small" aria-label="Test results">{test.results.map((c) => (
          <li key={c.channel} data-channel={c.channel} data-ok={c.ok}>
            <span className={c.ok ? 'ok' : 'error'}>{c.ok ? '✓' : '✗'}</span> {c.channel}
            {c.status != null ? ` · HTTP ${c.status}` : ''}{c.error ? ` · ${c.error}` : ''}</li>))}
        </ul>)}
    </form>
  );
}

/** Push agents: a one-time enrollment token with the install one-liner (the
 * token is typed at the installer's prompt, never put on a command line), and
 * the switch that stops taking heartbeats signed with the admin key. */
function Agents({ children }: { children: React.ReactNode }) {
  const [tok, setTok] = useState<{ token: string; expires_at: string } | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const hub = window.location.origin;
  const create = async () => {
    setNote(null);
    try { setTok(await api('POST', '/agents/enrollment-tokens', {})); }
    catch (x: any) { setNote(`Not created: ${x?.message ?? x}`); }
  };
  return (
    <div className="panel" aria-label="Push agents">
      <h2>Push agents</h2>
      <p className="small">On the laptop or desktop, as root, run the line below and paste the enrollment token when it asks.
        The token works once and until it expires; the agent then holds only its own token.</p>
      <pre className="small" data-testid="agent-oneliner">{`curl -sSL ${hub}/agent/install.sh | sudo sh -s -- --hub ${hub}`}</pre>
      <button type="button" onClick={create}>Create enrollment token</button> <span role="status">{note}</span>
      {tok && <p className="small">Enrollment token (shown once, valid until {tok.expires_at}): <code data-testid="enrollment-token">{tok.token}</code></p>}
      {children}
    </div>
  );
}

/** The Settings sections edited in place and saved by their own button. */
const SETTINGS_SECTIONS = ['thresholds', 'remediation', 'agent', 'costs', 'packs'];

export function SettingsPage() {
  const [cfg, setCfg] = useState<any>(null);
  const [loadErr, setLoadErr] = useState<string | null>(null);
  const [msg, setMsg] = useState<Record<string, string>>({});
  const [err, setErr] = useState<ApiError | null>(null);
  // the sections as the hub last answered them: what the form is compared with
  const [base, setBase] = useState<any>(null);
  useEffect(() => { api('GET', '/config').then((c) => { setCfg(c); setBase(c); }).catch((e) => setLoadErr(e?.message ?? String(e))); }, []);
  useUnsaved(!!cfg && !!base && SETTINGS_SECTIONS.some((s) => JSON.stringify(cfg[s] ?? null) !== JSON.stringify(base[s] ?? null)));
  if (loadErr) return <p className="error" role="alert">Could not load settings: {loadErr}</p>;
  if (!cfg) return <p className="muted">Loading settings…</p>;
  const set = (sec: string, k: string, v: any) => setCfg((c: any) => ({ ...c, [sec]: { ...c[sec], [k]: v } }));
  const save = async (sec: string) => {
    setErr(null);
    const local = sec === 'thresholds' ? thresholdProblem(cfg.thresholds ?? {}) : null;
    if (local) { setErr(local); setMsg((m) => ({ ...m, [sec]: 'Not saved: see the field marked above.' })); return; }
    try {
      const r: any = await api('PUT', '/config', { [sec]: cfg[sec] });
      const now = r && r[sec] ? r[sec] : cfg[sec];
      setCfg((c: any) => ({ ...c, [sec]: now }));
      setBase((b: any) => ({ ...b, [sec]: now }));
      setMsg((m) => ({ ...m, [sec]: 'Saved.' }));
    } catch (e: any) {
      setErr(e instanceof ApiError ? e : null);
      // a message shown next to its field is not repeated beside the button
      setMsg((m) => ({ ...m, [sec]: e instanceof ApiError && e.field ? 'Not saved: see the field marked above.' : `Not saved: ${e?.message ?? e}` }));
    }
  };
  const num = (sec: string, k: string, label: string, step: number | 'any' = 1) => (
    <label key={k}>{label}
      <input type="number" step={step} name={`${sec}.${k}`} value={cfg[sec]?.[k] ?? ''} aria-describedby={`err-${k}`}
        onChange={(e) => set(sec, k, e.target.value === '' ? '' : Number(e.target.value))} />
      <FieldError err={err} field={k} /></label>
  );
  const bool = (sec: string, k: string, label: string) => (
    <label key={k} className="check"><input type="checkbox" name={`${sec}.${k}`} checked={!!cfg[sec]?.[k]} onChange={(e) => set(sec, k, e.target.checked)} /> {label}</label>
  );
  const auto: string[] = cfg.remediation?.auto_approve_actions ?? [];
  return (
    <>
      <h1>Settings</h1>
      <form className="panel" aria-label="Thresholds" onSubmit={(e) => { e.preventDefault(); save('thresholds'); }}>
        <h2>Thresholds</h2>
        <div className="form-grid">
          {num('thresholds', 'cpu_warning_percent', 'CPU warning %')}{num('thresholds', 'cpu_critical_percent', 'CPU critical %')}
          {num('thresholds', 'memory_warning_percent', 'RAM warning %')}{num('thresholds', 'memory_critical_percent', 'RAM critical %')}
          {num('thresholds', 'disk_warning_percent', 'Disk warning %')}{num('thresholds', 'disk_critical_percent', 'Disk critical %')}
          {num('thresholds', 'server_offline_seconds', 'Offline after (s)')}
        </div>
        <button type="submit">Save thresholds</button> <span role="status">{msg.thresholds}</span>
      </form>
      <TailscaleCredential />
      <Notifications cfg={cfg.notifications ?? {}} onSaved={(n) => setCfg((c: any) => ({ ...c, notifications: n }))} />
      <form className="panel" aria-label="Remediation" onSubmit={(e) => { e.preventDefault(); save('remediation'); }}>
        <h2>Auto-approve</h2>
        {bool('remediation', 'auto_approve_enabled', 'Run the ticked actions without asking')}
        <p className="small" data-testid="auto-effect">{cfg.remediation?.auto_approve_enabled
          ? 'On: a ticked action runs as soon as it is asked for (by you or by an alert); the others wait for Approve.'
          : 'Off: every action waits for Approve, ticked or not. The ticks take effect when this is on.'}</p>
        {ACTION_TYPES.map((t) => (
          <label key={t} className="check"><input type="checkbox" checked={auto.includes(t)}
            onChange={(e) => set('remediation', 'auto_approve_actions', e.target.checked ? [...auto, t] : auto.filter((x) => x !== t))} /> {actionName(t)}</label>))}
        <FieldError err={err} field="auto_approve_actions" />
        <button type="submit">Save auto-approve</button> <span role="status">{msg.remediation}</span>
      </form>
      <Agents>
        <form aria-label="Agent sign-in" onSubmit={(e) => { e.preventDefault(); save('agent'); }}>
          {bool('agent', 'allow_admin_key_heartbeats', 'Take heartbeats signed with the admin key (v1 agents; flagged on their cards)')}
          <button type="submit">Save</button> <span role="status">{msg.agent}</span>
        </form>
      </Agents>
      <form className="panel" aria-label="Drift detection" onSubmit={(e) => { e.preventDefault(); save('packs'); }}>
        <h2>Drift detection</h2>
        <p className="small muted">How often every machine's assigned packs are checked (a machine may set its own interval on its page), and how severe a drift alert is.</p>
        <div className="form-grid">
          {num('packs', 'drift_interval_hours', 'Check every (hours)')}
          <label>Drift alert severity
            <select name="packs.drift_severity" value={cfg.packs?.drift_severity ?? 'medium'} aria-describedby="err-drift_severity"
              onChange={(e) => set('packs', 'drift_severity', e.target.value)}>
              {SEVERITIES.map((v) => <option key={v} value={v}>{v}</option>)}</select>
            <FieldError err={err} field="drift_severity" /></label>
        </div>
        <button type="submit">Save drift detection</button> <span role="status">{msg.packs}</span>
      </form>
      <TagPacksPanel />
      <section className="panel" aria-label="This browser">
        <h2>This browser</h2>
        <p className="small">The API key is kept in this browser's storage. Forget it on a shared computer; you will be asked for it again.</p>
        <button type="button" className="danger-outline" onClick={() => { setKey(null); window.dispatchEvent(new CustomEvent('hlc-unauthorized')); }}>Forget the key</button>
      </section>
      <form className="panel" aria-label="Electricity" onSubmit={(e) => { e.preventDefault(); save('costs'); }}>
        <h2>Electricity</h2>
        <p className="small muted">The rate and currency of every cost figure (the <a href="#/costs">Costs page</a> shows them).
          Each machine's power is set on its own Edit form.</p>
        <div className="form-grid">
          {num('costs', 'electricity_rate_kwh', 'Rate per kWh', 'any')}
          <label>Currency
            <input name="costs.currency" value={cfg.costs?.currency ?? ''} maxLength={8} aria-describedby="err-currency"
              onChange={(e) => set('costs', 'currency', e.target.value)} />
            <FieldError err={err} field="currency" /></label>
        </div>
        <button type="submit">Save electricity</button> <span role="status">{msg.costs}</span>
      </form>
    </>
  );
}

const FIELDS: [string, string, string][] = [
  ['server_id', 'Machine id', 'text'], ['display_name', 'Display name', 'text'], ['hostname', 'Hostname', 'text'],
  ['ip_address', 'IP address', 'text'], ['ssh_port', 'SSH port', 'number'], ['ssh_user', 'SSH user', 'text'],
  ['tdp_watts', 'Power (W)', 'number'], ['location', 'Location', 'text'],
  ['tailscale_hostname', 'Tailscale name', 'text'], ['tailscale_ip', 'Tailscale IP', 'text'],
];

const NEW_MACHINE = { machine_type: 'server', connectivity: 'direct' };
const servicesText = (m: any) => (m.expected_services ?? []).map((s: any) => (s.critical ? `${s.name}!` : s.name)).join(' ');

/** Whether the form holds anything other than what it started from (the saved machine, or an empty form). */
export function machineFormChanged(start: any, f: any, startServices: string, services: string): boolean {
  const v = (m: any, k: string) => String(m?.[k] ?? (NEW_MACHINE as any)[k] ?? '');
  return [...FIELDS.map(([k]) => k), 'machine_type', 'connectivity'].some((k) => v(f, k) !== v(start, k))
    || services.trim() !== startServices.trim();
}

/** Add (no id; query: #/add?ip=&hostname= from a discovered host) or edit a machine. */
export function MachineForm({ id, query }: { id?: string; query?: string }) {
  const [start] = useState<any>(() => ({ ...NEW_MACHINE, ...(id ? {} : addPrefill(query ?? '')) }));
  const [f, setF] = useState<any>(start);
  const [services, setServices] = useState('');
  const [err, setErr] = useState<ApiError | null>(null);
  const [other, setOther] = useState<string | null>(null);
  // the machine as the hub holds it: its name heads the page while the form is edited
  const [saved, setSaved] = useState<any>(null);
  useEffect(() => {
    if (!id) return;
    api<any>('GET', `/servers/${encodeURIComponent(id)}`).then((m) => {
      setF(m); setSaved(m);
      setServices(servicesText(m));
    }).catch((e) => setOther(e?.message ?? String(e)));
  }, [id]);
  useUnsaved(machineFormChanged(saved ?? start, f, saved ? servicesText(saved) : '', services));
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setErr(null); setOther(null);
    const body: any = {};
    for (const [k, , t] of FIELDS) {
      if (id && k === 'server_id') continue;
      const v = f[k];
      if (v === undefined || v === null || v === '') continue;
      body[k] = t === 'number' ? Number(v) : v;
    }
    body.machine_type = f.machine_type; body.connectivity = f.connectivity;
    body.expected_services = services.split(/[\s,]+/).filter(Boolean).map((s) => ({ name: s.replace(/!$/, ''), critical: s.endsWith('!') }));
    try {
      const r: any = await api(id ? 'PUT' : 'POST', id ? `/servers/${encodeURIComponent(id)}` : '/servers', body);
      go(`#/machine/${encodeURIComponent(r?.server_id ?? id ?? body.server_id)}`);
    } catch (x: any) {
      if (x instanceof ApiError && x.field) setErr(x); else setOther(x?.message ?? String(x));
    }
  };
  const del = async () => {
    if (!id || !window.confirm(`Delete ${machineName(saved, id)} and its history?`)) return;
    try { await api('DELETE', `/servers/${encodeURIComponent(id)}`); go('#/'); }
    catch (x: any) { setOther(x?.message ?? String(x)); }
  };
  const fieldErr = (k: string) => (err && (err.field === k || err.field?.startsWith(k + '[') || err.field?.startsWith(k + '.')) ? err.message : null);
  return (
    <form className="panel" onSubmit={submit} aria-label={id ? 'Edit machine' : 'Add machine'}>
      <h1>{id ? `Edit ${saved ? machineName(saved, id) : id}` : 'Add machine'}</h1>
      {!id && (
        <fieldset className="guide">
          <legend>How the hub reaches it</legend>
          <label className="check"><input type="radio" name="connectivity-choice" value="direct" checked={f.connectivity !== 'tailscale'}
            onChange={() => setF({ ...f, connectivity: 'direct' })} /> Direct: the hub connects to its IP address (else its hostname) on the LAN</label>
          <label className="check"><input type="radio" name="connectivity-choice" value="tailscale" checked={f.connectivity === 'tailscale'}
            onChange={() => setF({ ...f, connectivity: 'tailscale' })} /> Tailscale: the hub connects to its Tailscale IP (else its Tailscale name); the hub must be on the tailnet</label>
        </fieldset>)}
      <div className="form-grid">
        {FIELDS.map(([k, label, t]) => (id && k === 'server_id' ? null : (
          <label key={k}>{label}
            <input name={k} type={t} value={f[k] ?? ''} onChange={(e) => setF({ ...f, [k]: e.target.value })}
              aria-invalid={!!fieldErr(k)} aria-describedby={`err-${k}`} required={!id && (k === 'server_id' || k === 'hostname')} />
            {fieldErr(k) && <span className="error small" role="alert" id={`err-${k}`}>{fieldErr(k)}</span>}
          </label>)))}
        <label>Type<select name="machine_type" value={f.machine_type ?? 'server'} onChange={(e) => setF({ ...f, machine_type: e.target.value })}>
          <option value="server">server</option><option value="workstation">workstation</option></select></label>
        {id && <label>Connectivity<select name="connectivity" value={f.connectivity ?? 'direct'} onChange={(e) => setF({ ...f, connectivity: e.target.value })}>
          <option value="direct">direct</option><option value="tailscale">tailscale</option></select></label>}
        <label className="wide">Services to watch (space separated, ! = critical)
          <input name="expected_services" value={services} onChange={(e) => setServices(e.target.value)} placeholder="nginx! docker" />
          {fieldErr('expected_services') && <span className="error small" role="alert">{fieldErr('expected_services')}</span>}</label>
      </div>
      {!id && <ConnectGuide f={f} />}
      {err && !FIELDS.some(([k]) => fieldErr(k)) && !fieldErr('expected_services') && <p className="error" role="alert">{err.field}: {err.message}</p>}
      {other && <p className="error" role="alert">{other}</p>}
      <button type="submit">{id ? 'Save' : 'Add machine'}</button>{' '}
      {id && <button type="button" className="danger" onClick={del}>Delete machine</button>}
    </form>
  );
}
