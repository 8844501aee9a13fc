// Discover.tsx - the tailnet's devices (GET /tailscale/devices), select and import
// them as machines; the LAN's live hosts (GET /network/discover), each one step
// from a pre-filled Add machine; and the Settings panel that stores the
// Tailscale credential.
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from './api';
import { useUnsaved } from './unsaved';
import { useNames } from './hooks';
import { StatusDot } from './ui';
import { ago } from './format';
import { addHash, type FoundHost } from './addflow';

export interface TsDevice {
  node_id: string; name: string | null; hostname: string | null; tailscale_ip: string | null;
  addresses: string[]; os: string | null; online: boolean | null; last_seen: string | null;
  tags: string[]; key_expiry: string | null; imported_as: string | null;
  suggested_server_id: string | null; suggested_machine_type: 'server' | 'workstation';
}
interface TsList { source: 'api' | 'local'; fetched_at: string; devices: TsDevice[] }
interface ImportResult { node_id: string; status: 'created' | 'already_imported' | 'error'; server_id: string | null; message: string | null }

/** The import request for the selected devices with the chosen type/user/port ("" = as suggested). */
export function importBody(devs: TsDevice[], selected: Set<string>, type: string, user: string, port: string): any {
  return {
    devices: devs.filter((d) => selected.has(d.node_id) && !d.imported_as).map((d) => ({
      node_id: d.node_id,
      ...(type ? { machine_type: type } : {}),
      ...(user.trim() ? { ssh_user: user.trim() } : {}),
      ...(port.trim() ? { ssh_port: Number(port) } : {}),
    })),
  };
}

interface NetDiscovery { subnet: string; hosts: FoundHost[]; duration_ms: number; probe: 'icmp' | 'tcp'; probed: number; timed_out: boolean }

/** Subnet field and the live hosts found, readable on a phone (rows become cards). */
export function NetworkDiscover() {
  const [subnet, setSubnet] = useState('');
  const [res, setRes] = useState<NetDiscovery | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const names = useNames();
  const run = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true); setErr(null);
    try { setRes(await api<NetDiscovery>('GET', `/network/discover?subnet=${encodeURIComponent(subnet.trim())}`)); }
    catch (x: any) { setRes(null); setErr(x instanceof ApiError ? x : new ApiError(0, 'ERROR', String(x?.message ?? x), null)); }
    finally { setBusy(false); }
  };
  return (
    <section className="panel" aria-label="Discover network">
      <h2>Discover network</h2>
      <form className="inline-form" onSubmit={run}>
        <label>Subnet (IPv4, up to a /22)
          <input name="subnet" value={subnet} placeholder="192.168.1.0/24" required maxLength={18}
            aria-invalid={!!err && err.field === 'subnet'} aria-describedby="subnet-err" onChange={(e) => setSubnet(e.target.value)} /></label>
        <button type="submit" disabled={busy}>{busy ? 'Discovering…' : 'Discover'}</button>
      </form>
      {err && <p className="error" role="alert" id="subnet-err" data-code={err.code}>{err.message}</p>}
      {res && (<>
        <p className="muted small" role="status">{res.hosts.length} live host{res.hosts.length === 1 ? '' : 's'} in {res.subnet}
          {' '}({res.probe === 'icmp' ? 'ping' : 'TCP connects'}, {res.probed} addresses, {(res.duration_ms / 1000).toFixed(1)} s{res.timed_out ? ', cut short by the time limit' : ''})</p>
        <table className="stack" aria-label="Network hosts">
          <thead><tr><th>Host</th><th>MAC · vendor</th><th>SSH</th><th /></tr></thead>
          <tbody>
            {res.hosts.map((h) => (
              <tr key={h.ip} data-ip={h.ip}>
                <td data-label="Host"><strong>{h.ip}</strong>{h.hostname && <><br /><span className="small">{h.hostname}</span></>}</td>
                <td data-label="MAC">{h.mac ?? <span className="muted">none</span>}{h.vendor && <><br /><span className="small muted">{h.vendor}</span></>}</td>
                <td data-label="SSH">{h.ssh ? 'yes' : 'no'}{h.ssh_banner && <><br /><span className="small muted">{h.ssh_banner}</span></>}</td>
                <td>{h.registered_as
                  ? <a href={`#/machine/${encodeURIComponent(h.registered_as)}`} data-registered={h.registered_as}>{names(h.registered_as)}</a>
                  : <a className="button" href={addHash(h)} aria-label={`Add ${h.hostname ?? h.ip}`}>Add</a>}</td>
              </tr>))}
          </tbody>
        </table>
      </>)}
    </section>
  );
}

export function DiscoverPage() {
  const [list, setList] = useState<TsList | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [sel, setSel] = useState<Set<string>>(new Set());
  const [type, setType] = useState('');
  const [user, setUser] = useState('');
  const [port, setPort] = useState('');
  const [results, setResults] = useState<ImportResult[] | null>(null);
  const load = useCallback(async (refresh: boolean) => {
    setBusy(true);
    try { setList(await api<TsList>('GET', `/tailscale/devices${refresh ? '?refresh=1' : ''}`)); setErr(null); }
    catch (e: any) { setErr(e instanceof ApiError ? e : new ApiError(0, 'ERROR', String(e?.message ?? e), null)); }
    finally { setBusy(false); }
  }, []);
  useEffect(() => { load(false); }, [load]);
  const toggle = (id: string) => setSel((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });
  const doImport = async () => {
    if (!list) return;
    setBusy(true);
    try {
      const r = await api<{ results: ImportResult[] }>('POST', '/tailscale/import', importBody(list.devices, sel, type, user, port));
      setResults(r.results);
      setSel(new Set());
      await load(false);
    } catch (e: any) { setErr(e instanceof ApiError ? e : null); }
    finally { setBusy(false); }
  };
  const devs = list?.devices ?? [];
  const names = useNames();
  // The machine's name as the hub has it; one just created is named after its device until the list is reloaded.
  const nameOf = (r: ImportResult) => {
    if (!r.server_id) return 'a machine';
    const n = names(r.server_id);
    return n !== r.server_id ? n : devs.find((d) => d.node_id === r.node_id)?.hostname || r.server_id;
  };
  const chosen = devs.filter((d) => sel.has(d.node_id) && !d.imported_as).length;
  return (
    <>
      <h1>Discover</h1>
      <NetworkDiscover />
      <h2>Tailscale</h2>
      <p className="muted">
        Devices on your tailnet{list ? ` (from ${list.source === 'api' ? 'the Tailscale API' : 'the local tailscaled'}, ${ago(list.fetched_at)})` : ''}.
        {' '}<button type="button" onClick={() => load(true)} disabled={busy}>Refresh</button>
      </p>
      {err && (
        <p className="error" role="alert" data-code={err.code}>{err.message}
          {err.code === 'TAILSCALE_NOT_CONFIGURED' && <> <a href="#/settings">Settings</a></>}</p>)}
      {results && (
        <ul className="panel" aria-label="Import results">
          {results.map((r) => (
            <li key={r.node_id} data-node-id={r.node_id} data-status={r.status}>
              {r.status === 'created' ? <>Created <a href={`#/machine/${encodeURIComponent(r.server_id ?? '')}`}>{nameOf(r)}</a></>
                : r.status === 'already_imported' ? <>Already imported as {nameOf(r)}</>
                  : <span className="error">{r.node_id}: {r.message}</span>}
            </li>))}
        </ul>)}
      {list && (
        <form className="panel" aria-label="Import" onSubmit={(e) => { e.preventDefault(); doImport(); }}>
          <div className="form-grid">
            <label>Machine type<select name="machine_type" value={type} onChange={(e) => setType(e.target.value)}>
              <option value="">as suggested</option><option value="server">server</option><option value="workstation">workstation</option></select></label>
            <label>SSH user<input name="ssh_user" value={user} placeholder="homelabcmd" onChange={(e) => setUser(e.target.value)} /></label>
            <label>SSH port<input name="ssh_port" type="number" value={port} placeholder="22" onChange={(e) => setPort(e.target.value)} /></label>
          </div>
          <button type="submit" disabled={busy || chosen === 0}>Import {chosen} device{chosen === 1 ? '' : 's'}</button>
        </form>)}
      {list && (
        <div className="scroll-x"><table aria-label="Tailnet devices">
          <thead><tr><th aria-label="Select" /><th>Online</th><th>Name</th><th>OS</th><th>Address</th><th>Tags</th><th>Last seen</th><th /></tr></thead>
          <tbody>
            {devs.map((d) => (
              <tr key={d.node_id} data-node-id={d.node_id}>
                <td><input type="checkbox" aria-label={`Select ${d.hostname ?? d.node_id}`} disabled={!!d.imported_as}
                  checked={sel.has(d.node_id)} onChange={() => toggle(d.node_id)} /></td>
                <td><StatusDot level={d.online ? 'green' : d.online === false ? 'grey' : 'amber'}
                  text={d.online ? 'online' : d.online === false ? 'offline' : 'unknown'} /></td>
                <td>{d.hostname ?? d.node_id}<br /><span className="muted small">{d.name}</span></td>
                <td>{d.os}</td>
                <td>{d.tailscale_ip}</td>
                <td>{d.tags.join(' ')}</td>
                <td>{d.online ? 'now' : d.last_seen ? ago(d.last_seen) : 'never'}</td>
                <td>{d.imported_as ? <a className="badge" data-imported={d.imported_as} href={`#/machine/${encodeURIComponent(d.imported_as)}`}>imported</a>
                  : <span className="muted small">{d.suggested_server_id} · {d.suggested_machine_type}</span>}</td>
              </tr>))}
          </tbody>
        </table></div>)}
    </>
  );
}

/** Settings panel: store a Tailscale API key or OAuth client (write-only, sealed by the hub). */
export function TailscaleCredential() {
  const [kind, setKind] = useState<'tailscale_api_key' | 'tailscale_oauth_client'>('tailscale_api_key');
  const [key, setKeyV] = useState('');
  const [cid, setCid] = useState('');
  const [secret, setSecret] = useState('');
  const [stored, setStored] = useState<string | null>(null);
  const [msg, setMsg] = useState('');
  useUnsaved(!!(key.trim() || secret.trim() || cid.trim()));
  const refresh = useCallback(() => {
    api<any>('GET', '/credentials').then((r) => {
      const c = (r.credentials ?? []).find((x: any) => String(x.kind).startsWith('tailscale_'));
      setStored(c ? c.kind : null);
    }).catch(() => setStored(null));
  }, []);
  useEffect(refresh, [refresh]);
  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    const value = kind === 'tailscale_api_key' ? key.trim() : `${cid.trim()}:${secret.trim()}`;
    try {
      await api('POST', '/credentials', { kind, value });
      setKeyV(''); setSecret(''); setCid(''); setMsg('Saved.');
      refresh();
    } catch (x: any) { setMsg(`Not saved: ${x?.message ?? x}`); }
  };
  return (
    <form className="panel" aria-label="Tailscale" onSubmit={save}>
      <h2>Tailscale</h2>
      <p className="muted small">{stored ? `${stored === 'tailscale_api_key' ? 'An API key' : 'An OAuth client'} is stored (sealed; it is never shown again).`
        : 'No credential stored: discovery uses the local tailscaled if the hub runs on a tailnet node.'} Scope needed: devices:core:read.</p>
      <label className="check"><input type="radio" name="ts-kind" checked={kind === 'tailscale_api_key'} onChange={() => setKind('tailscale_api_key')} /> API access token</label>
      <label className="check"><input type="radio" name="ts-kind" checked={kind === 'tailscale_oauth_client'} onChange={() => setKind('tailscale_oauth_client')} /> OAuth client</label>
      {kind === 'tailscale_api_key' ? (
        <label>Token (tskey-api-…)<input type="password" autoComplete="off" value={key} onChange={(e) => setKeyV(e.target.value)} required /></label>
      ) : (
        <div className="form-grid">
          <label>Client id<input value={cid} onChange={(e) => setCid(e.target.value)} required /></label>
          <label>Client secret<input type="password" autoComplete="off" value={secret} onChange={(e) => setSecret(e.target.value)} required /></label>
        </div>)}
      <button type="submit">Save Tailscale credential</button> <span role="status">{msg}</span>
      <p className="small"><a href="#/discover">Discover devices</a></p>
    </form>
  );
}
