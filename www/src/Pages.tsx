// Pages.tsx - alerts, actions, costs, settings, add/edit machine.
import { useEffect, useState } from 'react';
import { api, ApiError, isMissingFeature } from './api';
import { usePoll } from './hooks';
import { ago, money } from './format';
import { State } from './ui';
import { PendingActions } from './Dashboard';

export function AlertsPage() {
  const [tab, setTab] = useState<'open' | 'history'>('open');
  const [severity, setSeverity] = useState('');
  const [server, setServer] = useState('');
  const qs = new URLSearchParams();
  if (tab === 'open') qs.set('status', 'open');
  if (severity) qs.set('severity', severity);
  if (server) qs.set('server_id', server);
  const q = usePoll<any>(`/alerts?${qs}`, 5000);
  const act = async (id: string, verb: string) => { try { await api('POST', `/alerts/${encodeURIComponent(id)}/${verb}`); } finally { q.reload(); } };
  const list = q.data?.alerts ?? [];
  return (
    <>
      <h1>Alerts</h1>
      <div className="seg" role="group" aria-label="Alert view">
        <button type="button" aria-pressed={tab === 'open'} onClick={() => setTab('open')}>Active</button>
        <button type="button" aria-pressed={tab === 'history'} onClick={() => setTab('history')}>History</button>
      </div>
      <div className="filters">
        <label>Severity <select value={severity} onChange={(e) => setSeverity(e.target.value)}>
          <option value="">any</option><option>critical</option><option>high</option><option>medium</option><option>low</option></select></label>
        <label>Machine <input value={server} onChange={(e) => setServer(e.target.value.trim())} placeholder="server id" /></label>
      </div>
      <State what="alerts" loading={q.loading && !q.data} error={q.error} missing={q.missing}>
        {list.length === 0 ? <p className="muted">No alerts.</p> : (
          <ul className="list">{list.map((a: any) => (
            <li key={a.alert_id} className={`sev-${a.severity}`}>
              <span><b>{a.severity}</b> {a.title} <span className="muted">· {a.server_id} · {a.status} · {ago(a.created_at)}</span>
                {a.message && <><br /><span className="small">{a.message}</span></>}</span>
              <span className="btns">
                {a.status === 'open' && <button type="button" onClick={() => act(a.alert_id, 'acknowledge')}>Acknowledge</button>}
                {a.status !== 'resolved' && <button type="button" className="secondary" onClick={() => act(a.alert_id, 'resolve')}>Resolve</button>}
              </span>
            </li>))}</ul>)}
      </State>
    </>
  );
}

export function ActionsPage() {
  const h = usePoll<any>('/actions/history', 5000);
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
                  <summary><b>{a.action_type}</b> {a.target ?? ''} <span className="muted">on {a.server_id} · {a.status}
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

export function CostsPage() {
  const q = usePoll<any>('/costs', 30000);
  const d = q.data;
  return (
    <>
      <h1>Costs</h1>
      <State what="costs" loading={q.loading} error={q.error} missing={q.missing}>
        {d && (<>
          <section className="summary">
            <div><b>{money(d.daily, d.currency)}</b><span>per day</span></div>
            <div><b>{money(d.monthly, d.currency)}</b><span>per month</span></div>
            <div><b>{money(d.yearly, d.currency)}</b><span>per year</span></div>
            <div><b>{money(d.month_to_date, d.currency)}</b><span>month to date</span></div>
          </section>
          <p className="muted">Rate {d.rate_kwh} {d.currency}/kWh</p>
          <div className="scroll-x"><table>
            <thead><tr><th>Machine</th><th>TDP</th><th>Day</th><th>Month</th></tr></thead>
            <tbody>{(d.servers ?? []).map((s: any) => (
              <tr key={s.server_id}><td>{s.server_id}</td><td>{s.tdp_watts ?? '–'} W</td><td>{money(s.daily, d.currency)}</td><td>{money(s.monthly, d.currency)}</td></tr>))}</tbody>
          </table></div>
        </>)}
      </State>
    </>
  );
}

const ACTION_TYPES = ['restart_service', 'clear_logs', 'apply_updates', 'custom'];

function FieldError({ err, field }: { err: ApiError | null; field: string }) {
  if (!err || !err.field || (err.field !== field && !err.field.endsWith('.' + field))) return null;
  return <span className="error small" role="alert" id={`err-${field}`}>{err.message}</span>;
}

export function SettingsPage() {
  const [cfg, setCfg] = useState<any>(null);
  const [loadErr, setLoadErr] = useState<string | null>(null);
  const [msg, setMsg] = useState<Record<string, string>>({});
  const [err, setErr] = useState<ApiError | null>(null);
  useEffect(() => { api('GET', '/config').then(setCfg).catch((e) => setLoadErr(e?.message ?? String(e))); }, []);
  if (loadErr) return <p className="error" role="alert">Could not load settings: {loadErr}</p>;
  if (!cfg) return <p className="muted">Loading settings…</p>;
  const set = (sec: string, k: string, v: any) => setCfg((c: any) => ({ ...c, [sec]: { ...c[sec], [k]: v } }));
  const save = async (sec: string) => {
    setErr(null);
    try {
      const r: any = await api('PUT', '/config', { [sec]: cfg[sec] });
      if (r && r[sec]) setCfg((c: any) => ({ ...c, [sec]: r[sec] }));
      setMsg((m) => ({ ...m, [sec]: 'Saved.' }));
    } catch (e: any) { setErr(e instanceof ApiError ? e : null); setMsg((m) => ({ ...m, [sec]: `Not saved: ${e?.message ?? e}` })); }
  };
  const test = async () => {
    try { await api('POST', '/notifications/test'); setMsg((m) => ({ ...m, notifications: 'Test notification sent.' })); }
    catch (e: any) { setMsg((m) => ({ ...m, notifications: isMissingFeature(e) ? 'Test notifications are not available on this hub yet.' : `Test failed: ${e?.message ?? e}` })); }
  };
  const num = (sec: string, k: string, label: string, step = 1) => (
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
      <form className="panel" aria-label="Notifications" onSubmit={(e) => { e.preventDefault(); save('notifications'); }}>
        <h2>Notifications</h2>
        {Object.keys(cfg.notifications ?? {}).filter((k) => typeof cfg.notifications[k] === 'boolean').map((k) => bool('notifications', k, k.replace(/_/g, ' ')))}
        {Object.keys(cfg.notifications ?? {}).filter((k) => typeof cfg.notifications[k] === 'string').map((k) => (
          <label key={k}>{k.replace(/_/g, ' ')}<input value={cfg.notifications[k]} onChange={(e) => set('notifications', k, e.target.value)} /><FieldError err={err} field={k} /></label>))}
        <button type="submit">Save notifications</button> <button type="button" className="secondary" onClick={test}>Send test</button>
        {' '}<span role="status">{msg.notifications}</span>
      </form>
      <form className="panel" aria-label="Remediation" onSubmit={(e) => { e.preventDefault(); save('remediation'); }}>
        <h2>Auto-approve</h2>
        {bool('remediation', 'auto_approve_enabled', 'Run covered actions without asking')}
        {ACTION_TYPES.map((t) => (
          <label key={t} className="check"><input type="checkbox" checked={auto.includes(t)}
            onChange={(e) => set('remediation', 'auto_approve_actions', e.target.checked ? [...auto, t] : auto.filter((x) => x !== t))} /> {t}</label>))}
        <FieldError err={err} field="auto_approve_actions" />
        <button type="submit">Save auto-approve</button> <span role="status">{msg.remediation}</span>
      </form>
      <form className="panel" aria-label="Costs" onSubmit={(e) => { e.preventDefault(); save('costs'); }}>
        <h2>Electricity</h2>
        {num('costs', 'electricity_rate_kwh', 'Rate per kWh', 0.01)}
        <label>Currency<input value={cfg.costs?.currency ?? ''} onChange={(e) => set('costs', 'currency', e.target.value)} /><FieldError err={err} field="currency" /></label>
        <button type="submit">Save rate</button> <span role="status">{msg.costs}</span>
      </form>
    </>
  );
}

const FIELDS: [string, string, string][] = [
  ['server_id', 'Machine id', 'text'], ['display_name', 'Display name', 'text'], ['hostname', 'Hostname', 'text'],
  ['ip_address', 'IP address', 'text'], ['ssh_port', 'SSH port', 'number'], ['ssh_user', 'SSH user', 'text'],
  ['tdp_watts', 'Power (W)', 'number'], ['location', 'Location', 'text'],
];

export function MachineForm({ id }: { id?: string }) {
  const [f, setF] = useState<any>({ machine_type: 'server', connectivity: 'direct' });
  const [services, setServices] = useState('');
  const [err, setErr] = useState<ApiError | null>(null);
  const [other, setOther] = useState<string | null>(null);
  useEffect(() => {
    if (!id) return;
    api<any>('GET', `/servers/${encodeURIComponent(id)}`).then((m) => {
      setF(m);
      setServices((m.expected_services ?? []).map((s: any) => (s.critical ? `${s.name}!` : s.name)).join(' '));
    }).catch((e) => setOther(e?.message ?? String(e)));
  }, [id]);
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
      window.location.hash = `#/machine/${encodeURIComponent(r?.server_id ?? id ?? body.server_id)}`;
    } catch (x: any) {
      if (x instanceof ApiError && x.field) setErr(x); else setOther(x?.message ?? String(x));
    }
  };
  const del = async () => {
    if (!id || !window.confirm(`Delete ${id} and its history?`)) return;
    try { await api('DELETE', `/servers/${encodeURIComponent(id)}`); window.location.hash = '#/'; }
    catch (x: any) { setOther(x?.message ?? String(x)); }
  };
  const fieldErr = (k: string) => (err && (err.field === k || err.field?.startsWith(k + '[') || err.field?.startsWith(k + '.')) ? err.message : null);
  return (
    <form className="panel" onSubmit={submit} aria-label={id ? 'Edit machine' : 'Add machine'}>
      <h1>{id ? `Edit ${id}` : 'Add machine'}</h1>
      <div className="form-grid">
        {FIELDS.map(([k, label, t]) => (id && k === 'server_id' ? null : (
          <label key={k}>{label}
            <input name={k} type={t} value={f[k] ?? ''} onChange={(e) => setF({ ...f, [k]: e.target.value })}
              aria-invalid={!!fieldErr(k)} aria-describedby={`err-${k}`} required={!id && (k === 'server_id' || k === 'hostname')} />
            {fieldErr(k) && <span className="error small" role="alert" id={`err-${k}`}>{fieldErr(k)}</span>}
          </label>)))}
        <label>Type<select name="machine_type" value={f.machine_type ?? 'server'} onChange={(e) => setF({ ...f, machine_type: e.target.value })}>
          <option value="server">server</option><option value="workstation">workstation</option></select></label>
        <label>Connectivity<select name="connectivity" value={f.connectivity ?? 'direct'} onChange={(e) => setF({ ...f, connectivity: e.target.value })}>
          <option value="direct">direct</option><option value="tailscale">tailscale</option></select></label>
        <label className="wide">Services to watch (space separated, ! = critical)
          <input name="expected_services" value={services} onChange={(e) => setServices(e.target.value)} placeholder="nginx! docker" />
          {fieldErr('expected_services') && <span className="error small" role="alert">{fieldErr('expected_services')}</span>}</label>
      </div>
      {err && !FIELDS.some(([k]) => fieldErr(k)) && !fieldErr('expected_services') && <p className="error" role="alert">{err.field}: {err.message}</p>}
      {other && <p className="error" role="alert">{other}</p>}
      <button type="submit">{id ? 'Save' : 'Add machine'}</button>{' '}
      {id && <button type="button" className="danger" onClick={del}>Delete machine</button>}
    </form>
  );
}
