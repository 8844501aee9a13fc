// Checks.tsx - the service checks page: each check with its state per place
// (where it works and where it fails), run now, delete, uptime and history on
// demand, and a form to add one with the hub's field-level messages.
import { useState } from 'react';
import { api, ApiError } from './api';
import { useNames, usePoll } from './hooks';
import { State, StatusDot } from './ui';
import { ago } from './format';
import { checkBody, checkState, checkTarget, EMPTY_FORM, STATE_COLOUR, type Check, type CheckForm } from './checks';

/** A check's place ("hub" or a machine id) in words. */
type NameOf = (id: string | null) => string;

function Places({ c, name }: { c: Check; name: NameOf }) {
  return (
    <ul className="places">
      {c.run_from.map((p) => {
        const l = c.latest.find((x) => x.place === p);
        const colour = !l ? 'grey' : l.ok ? 'green' : 'red';
        return (
          <li key={p} data-place={p} data-ok={l ? String(l.ok) : 'pending'}>
            <span className={`dot dot-${colour}`} aria-hidden="true" />
            <b>{p === 'hub' ? 'from the hub' : `from ${name(p)}`}</b>{' '}
            {!l ? <span className="muted">not run yet</span> : l.ok
              ? <span className="muted">up{l.response_ms != null ? ` · ${l.response_ms.toFixed(0)} ms` : ''}{l.cert_days != null ? ` · certificate ${Math.floor(l.cert_days)} days` : ''} · {ago(l.last_at)}</span>
              : <span className="error">{l.error} ({l.fails} in a row)</span>}
          </li>
        );
      })}
    </ul>
  );
}

function Results({ id, name }: { id: number; name: NameOf }) {
  const q = usePoll<any>(`/checks/${id}/results?limit=20`, 15000);
  return (
    <State what="results" loading={q.loading} error={q.error}>
      <table className="small">
        <thead><tr><th>Place</th><th>24 h</th><th>7 d</th><th>30 d</th></tr></thead>
        <tbody>{(q.data?.places ?? []).map((p: any) => (
          <tr key={p.place}><td>{p.place === 'hub' ? 'the hub' : name(p.place)}</td>{['24h', '7d', '30d'].map((k) => <td key={k}>{p.uptime?.[k] == null ? '–' : `${p.uptime[k]}%`}</td>)}</tr>))}
        </tbody>
      </table>
      <ol className="history small">{(q.data?.history ?? []).map((h: any, i: number) => (
        <li key={i}><StatusDot level={h.ok ? 'green' : 'red'} text={h.ok ? 'up' : 'down'} /> {h.place === 'hub' ? 'the hub' : name(h.place)} {ago(h.time)}{h.ok ? '' : `: ${h.error}`}</li>))}
      </ol>
    </State>
  );
}

function Row({ c, onChange, name }: { c: Check; onChange: () => void; name: NameOf }) {
  const [busy, setBusy] = useState(false);
  const [open, setOpen] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const st = checkState(c);
  const act = async (method: string, path: string) => {
    setBusy(true); setErr(null);
    try { await api(method, path); onChange(); } catch (e: any) { setErr(e?.message ?? String(e)); } finally { setBusy(false); }
  };
  return (
    <li className="panel check" data-check-id={c.id} data-state={st}>
      <div className="card-head">
        <StatusDot level={STATE_COLOUR[st] as any} text={st} />
        <b>{c.name}</b> <span className="muted">{c.type.toUpperCase()} {checkTarget(c)} · every {c.interval_seconds} s</span>
      </div>
      <Places c={c} name={name} />
      <div className="toolbar">
        <button type="button" disabled={busy} onClick={() => act('POST', `/checks/${c.id}/run`)}>Run now</button>
        <button type="button" onClick={() => setOpen(!open)} aria-expanded={open}>Uptime and history</button>
        <button type="button" className="danger" disabled={busy} onClick={() => { if (window.confirm(`Delete the check ${c.name}?`)) act('DELETE', `/checks/${c.id}`); }}>Delete</button>
      </div>
      {err && <p className="error" role="alert">{err}</p>}
      {open && <Results id={c.id} name={name} />}
    </li>
  );
}

function AddCheck({ machines, onDone, name }: { machines: string[]; onDone: () => void; name: NameOf }) {
  const [f, setF] = useState<CheckForm>(EMPTY_FORM);
  const [err, setErr] = useState<{ message: string; field: string | null } | null>(null);
  const set = (k: keyof CheckForm) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setF({ ...f, [k]: e.target.value });
  const field = (k: keyof CheckForm, label: string, api_field: string, placeholder = '') => (
    <label>{label}<input value={f[k] as string} onChange={set(k)} placeholder={placeholder}
      aria-invalid={err?.field === api_field || undefined} /></label>
  );
  const togglePlace = (p: string) => setF({ ...f, run_from: f.run_from.includes(p) ? f.run_from.filter((x) => x !== p) : [...f.run_from, p] });
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setErr(null);
    try { await api('POST', '/checks', checkBody(f)); setF(EMPTY_FORM); onDone(); }
    catch (x: any) { setErr({ message: x?.message ?? String(x), field: x instanceof ApiError ? x.field : null }); }
  };
  return (
    <form className="panel form" onSubmit={submit} aria-label="Add a check">
      <h2>Add a check</h2>
      <label>Name<input value={f.name} onChange={set('name')} required aria-invalid={err?.field === 'name' || undefined} /></label>
      <label>Type<select value={f.type} onChange={set('type')}><option value="http">HTTP(S)</option><option value="tcp">TCP port</option><option value="dns">DNS</option><option value="ping">Ping</option></select></label>
      {f.type === 'http' && <>{field('url', 'URL', 'url', 'http://nas.lan:32400/identity')}{field('keyword', 'Keyword (optional)', 'keyword')}</>}
      {f.type === 'ping' && field('host', 'Host', 'host', 'nas.lan')}
      {f.type === 'tcp' && <>{field('host', 'Host', 'host', 'nas.lan')}{field('port', 'Port', 'port', '445')}</>}
      {f.type === 'dns' && <>{field('query', 'Name to resolve', 'query', 'nas.lan')}{field('resolver', 'Resolver (optional)', 'resolver', '192.168.1.2')}{field('expect', 'Expected address (optional)', 'expect')}</>}
      {field('interval', 'Every (seconds)', 'interval_seconds')}
      <fieldset><legend>Run from</legend>
        {['hub', ...machines].map((p) => (
          <label key={p} className="inline"><input type="checkbox" checked={f.run_from.includes(p)} onChange={() => togglePlace(p)} /> {p === 'hub' ? 'the hub' : name(p)}</label>))}
      </fieldset>
      <button type="submit">Add check</button>
      {err && <p className="error" role="alert">{err.field ? `${err.field}: ` : ''}{err.message}</p>}
    </form>
  );
}

interface StatusPage { enabled: boolean; public_on_lan: boolean; title: string; services: { check_id: number; label: string }[]; has_token: boolean }

/** The family status page: which checks it shows, its link (made and revoked here), LAN-public mode. */
function StatusPagePanel({ checks }: { checks: Check[] }) {
  const q = usePoll<StatusPage>('/status-page', 60000);
  const [link, setLink] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const sp = q.data;
  if (!sp) return <State what="the status page" loading={q.loading} error={q.error} missing={q.missing} />;
  const save = async (patch: Partial<StatusPage>) => {
    setErr(null);
    try { await api('PUT', '/status-page', patch); q.reload(); } catch (e: any) { setErr(e?.message ?? String(e)); }
  };
  const shown = new Set(sp.services.map((s) => s.check_id));
  const toggle = (c: Check) => save({
    services: shown.has(c.id) ? sp.services.filter((s) => s.check_id !== c.id) : [...sp.services, { check_id: c.id, label: c.name }],
  });
  const newLink = async () => {
    setErr(null);
    try { const r = await api<{ path: string }>('POST', '/status-page/token'); setLink(window.location.origin + r.path); q.reload(); }
    catch (e: any) { setErr(e?.message ?? String(e)); }
  };
  const revoke = async () => { await api('DELETE', '/status-page/token'); setLink(null); q.reload(); };
  return (
    <section className="panel" aria-label="Family status page">
      <h2>Family status page</h2>
      <p className="muted">A read-only page with only the services ticked here (up, down, uptime): no addresses, no machines, no buttons.</p>
      <label className="inline"><input type="checkbox" checked={sp.enabled} onChange={() => save({ enabled: !sp.enabled })} /> Page on</label>
      <label className="inline"><input type="checkbox" checked={sp.public_on_lan} onChange={() => save({ public_on_lan: !sp.public_on_lan })} /> Anyone on the LAN may open <code>/status</code></label>
      <fieldset><legend>Shown</legend>
        {checks.map((c) => <label key={c.id} className="inline"><input type="checkbox" checked={shown.has(c.id)} onChange={() => toggle(c)} /> {c.name}</label>)}
      </fieldset>
      <div className="toolbar">
        <button type="button" onClick={newLink}>{sp.has_token ? 'Make a new link (the old one stops working)' : 'Make a link'}</button>
        {sp.has_token && <button type="button" className="danger" onClick={revoke}>Revoke the link</button>}
      </div>
      {link && <p data-testid="status-link">Share this link: <a href={link}>{link}</a> (shown once)</p>}
      {err && <p className="error" role="alert">{err}</p>}
    </section>
  );
}

export default function ChecksPage() {
  const q = usePoll<{ checks: Check[] }>('/checks', 10000);
  const servers = usePoll<any>('/servers', 60000);
  const machines = (servers.data?.servers ?? []).filter((m: any) => m.machine_type !== 'workstation').map((m: any) => m.server_id);
  const names = useNames(servers.data?.servers ?? []);
  const checks = q.data?.checks ?? [];
  return (
    <>
      <h1>Service checks</h1>
      <State what="checks" loading={q.loading && !q.data} error={q.data ? null : q.error} missing={q.missing}>
        {checks.length === 0 ? <p className="muted">No checks yet: add one below.</p>
          : <ul className="checks">{checks.map((c) => <Row key={c.id} c={c} onChange={q.reload} name={names} />)}</ul>}
      </State>
      <AddCheck machines={machines} onDone={q.reload} name={names} />
      <StatusPagePanel checks={checks} />
    </>
  );
}
