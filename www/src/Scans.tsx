// Scans.tsx - ad-hoc SSH scans (POST/GET /scans): start one, the history per
// host, a result readable on a phone, compare two, and add a scanned host as a machine.
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError } from './api';
import { ago, bytes, pct, uptime } from './format';

export type ScanStatus = 'pending' | 'running' | 'completed' | 'failed';
export interface ScanSummary {
  scan_id: string; hostname: string; port: number; ssh_user: string; scan_type: 'quick' | 'full';
  status: ScanStatus; error: string | null; host_key_fingerprint: string | null;
  created_at: string; started_at: string | null; completed_at: string | null;
}
export interface Scan extends ScanSummary { results: any | null }
interface ScanList { scans: ScanSummary[]; total: number; limit: number; offset: number }
export interface Change { before: any; after: any; changed: boolean }
export interface Compare {
  scan_id: string; other_id: string;
  packages: { added: Pkg[]; removed: Pkg[]; changed: { name: string; from: string; to: string }[] } | null;
  disks: { mount: string; used_bytes_before: number | null; used_bytes_after: number | null; growth_bytes: number | null;
    total_bytes_before: number | null; total_bytes_after: number | null }[];
  memory: Change; kernel: Change; os: Change;
}
interface Pkg { name: string; version: string }

export interface ScanForm { hostname: string; port: string; ssh_user: string; scan_type: 'quick' | 'full'; ssh_private_key?: string }
export const EMPTY_SCAN: ScanForm = { hostname: '', port: '', ssh_user: '', scan_type: 'quick', ssh_private_key: '' };
const PAGE = 20;

/** The POST /scans body: blanks are left to the hub's defaults (port 22, user homelabcmd). */
export function scanBody(f: ScanForm): Record<string, unknown> {
  const b: Record<string, unknown> = { hostname: f.hostname.trim(), scan_type: f.scan_type };
  if (f.port.trim()) b.port = Number(f.port.trim());
  if (f.ssh_user.trim()) b.ssh_user = f.ssh_user.trim();
  if (f.ssh_private_key?.trim()) b.ssh_private_key = f.ssh_private_key.trim() + '\n';
  return b;
}

/** A machine id (slug) suggested from a host name: "NAS.lan" -> "nas", "192.168.1.5" -> "192-168-1-5". */
export function slugFor(host: string | null | undefined): string {
  const h = (host ?? '').trim().toLowerCase();
  const base = /^[0-9.]+$/.test(h) || h.includes(':') ? h : h.split('.')[0];
  const s = base.replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return s || 'machine';
}

/** The two selected scans in time order (older first), so a compare reads "from -> to". */
export function compareOrder(scans: ScanSummary[], ids: string[]): [string, string] | null {
  const two = scans.filter((s) => ids.includes(s.scan_id));
  if (two.length !== 2) return null;
  two.sort((a, b) => a.created_at.localeCompare(b.created_at));
  return [two[0].scan_id, two[1].scan_id];
}

function errText(e: any): string {
  return e instanceof ApiError ? `${e.field ? `${e.field}: ` : ''}${e.message}` : String(e?.message ?? e);
}

function Row({ k, children }: { k: string; children: React.ReactNode }) {
  return <><dt>{k}</dt><dd>{children}</dd></>;
}

/** One scan's results: sections stacked, wide tables scroll on their own (390 px phones). */
export function ScanResult({ scan }: { scan: Scan }) {
  const r = scan.results;
  if (!r) return null;
  const net = r.network;
  return (
    <div className="scan-result" data-testid="scan-result">
      <section className="panel" aria-label="System">
        <h3>System</h3>
        <dl className="kv">
          <Row k="Host name">{r.hostname ?? '—'}</Row>
          <Row k="OS">{r.os?.name || '—'}</Row>
          <Row k="Kernel">{r.kernel ?? '—'} {r.arch ? `(${r.arch})` : ''}</Row>
          <Row k="Up">{r.uptime_seconds != null ? uptime(r.uptime_seconds) : '—'}</Row>
          <Row k="CPU">{r.cpu?.cores ?? '?'} cores{r.cpu?.model ? ` · ${r.cpu.model}` : ''}{r.cpu?.load ? ` · load ${r.cpu.load.map((x: number) => x.toFixed(2)).join(' ')}` : ''}</Row>
          <Row k="Memory"><span data-testid="scan-memory">{r.memory ? `${bytes(r.memory.total_bytes)} (${pct(r.memory.used_percent)} used)` : '—'}</span></Row>
          {r.memory?.swap_total_bytes ? <Row k="Swap">{bytes(r.memory.swap_total_bytes)}</Row> : null}
          <Row k="Host key"><code className="wrap">{scan.host_key_fingerprint ?? '—'}</code></Row>
        </dl>
      </section>
      {r.disks && (
        <section className="panel" aria-label="Disks">
          <h3>Disks</h3>
          <div className="scroll-x"><table>
            <thead><tr><th>Mount</th><th>Size</th><th>Used</th><th>Type</th></tr></thead>
            <tbody>{r.disks.map((d: any) => (
              <tr key={d.mount} data-mount={d.mount}><td>{d.mount}</td><td>{bytes(d.total_bytes)}</td><td>{pct(d.used_percent)}</td><td>{d.fstype}</td></tr>))}
            </tbody></table></div>
        </section>)}
      {net && (
        <section className="panel" aria-label="Network">
          <h3>Network</h3>
          <ul className="plain">{(net.interfaces ?? []).map((i: any) => (
            <li key={i.name}><b>{i.name}</b> {i.state ?? ''} {i.mac ?? ''}{i.mtu ? ` mtu ${i.mtu}` : ''}
              <br /><span className="small wrap">{i.addresses.map((a: any) => a.address).join(', ') || 'no address'}</span></li>))}
          </ul>
          {net.routes && <p className="small wrap">Routes: {net.routes.map((x: any) => `${x.destination}${x.via ? ` via ${x.via}` : ''}${x.dev ? ` (${x.dev})` : ''}`).join('; ')}</p>}
          {net.dns && <p className="small wrap">DNS: {net.dns.nameservers.join(', ') || '—'}{net.dns.search.length ? ` · search ${net.dns.search.join(' ')}` : ''}</p>}
        </section>)}
      {r.listening && (
        <section className="panel" aria-label="Listening ports">
          <h3>Listening ports ({r.listening.length})</h3>
          <p className="small wrap">{r.listening.map((l: any) => `${l.protocol} ${l.address}:${l.port}`).join(' · ')}</p>
        </section>)}
      {r.processes && (
        <section className="panel" aria-label="Top processes">
          <h3>Top processes</h3>
          <div className="scroll-x"><table>
            <thead><tr><th>Command</th><th>User</th><th>CPU</th><th>Memory</th></tr></thead>
            <tbody>{(r.processes.by_cpu ?? []).map((p: any) => (
              <tr key={p.pid}><td>{p.command}</td><td>{p.user}</td><td>{p.cpu_percent.toFixed(1)}%</td><td>{bytes(p.rss_bytes)}</td></tr>))}
            </tbody></table></div>
        </section>)}
      {r.packages && (
        <section className="panel" aria-label="Packages">
          <h3>Packages: <span data-testid="scan-packages">{r.packages.count}</span> ({r.packages.manager})</h3>
          <details><summary>List</summary>
            <p className="small wrap">{(r.packages.list ?? []).map((p: Pkg) => `${p.name} ${p.version}`).join(' · ')}
              {r.packages.truncated ? ' … (cut)' : ''}</p>
          </details>
        </section>)}
      {r.containers && (
        <section className="panel" aria-label="Containers">
          <h3>Containers ({r.containers.length})</h3>
          <ul className="plain">{r.containers.map((c: any) => <li key={c.id}>{c.name} · {c.image} · {c.status}</li>)}</ul>
        </section>)}
      {r.failed_units && (
        <section className="panel" aria-label="Failed units">
          <h3>Failed units ({r.failed_units.length})</h3>
          <ul className="plain">{r.failed_units.map((u: any) => <li key={u.unit}>{u.unit} {u.description}</li>)}</ul>
        </section>)}
      {r.truncated && <p className="muted small">Some of the host's answer was over a limit and was cut.</p>}
    </div>
  );
}

function AddAsMachine({ scan }: { scan: Scan }) {
  const [id, setId] = useState(() => slugFor(scan.results?.hostname ?? scan.hostname));
  const [msg, setMsg] = useState<React.ReactNode>(null);
  const add = async (e: React.FormEvent) => {
    e.preventDefault();
    try {
      const m = await api<any>('POST', `/scans/${scan.scan_id}/register`, { server_id: id.trim() });
      setMsg(<>Added <a href={`#/machine/${encodeURIComponent(m.server_id)}`} data-testid="added-machine">{m.display_name}</a>.</>);
    } catch (x) { setMsg(<span className="error" role="alert">{errText(x)}</span>); }
  };
  return (
    <form className="panel" aria-label="Add as machine" onSubmit={add}>
      <label>Machine id<input name="server_id" value={id} onChange={(e) => setId(e.target.value)} required maxLength={63} /></label>
      <button type="submit">Add as machine</button> <span role="status">{msg}</span>
    </form>
  );
}

function CompareView({ c }: { c: Compare }) {
  const ch = (label: string, x: Change, fmt: (v: any) => string = String) => (
    <Row k={label}>{x.changed ? <b data-changed="true">{fmt(x.before)} → {fmt(x.after)}</b> : <span>{x.after == null ? '—' : fmt(x.after)} (same)</span>}</Row>);
  return (
    <section className="panel" aria-label="Comparison" data-testid="scan-compare">
      <h2>What changed</h2>
      <dl className="kv">
        {ch('OS', c.os)}
        {ch('Kernel', c.kernel)}
        {ch('Memory', c.memory, (v) => bytes(v))}
      </dl>
      <h3>Disks</h3>
      <ul className="plain">{c.disks.map((d) => (
        <li key={d.mount} data-mount={d.mount}>{d.mount}: {d.growth_bytes == null ? (d.used_bytes_before == null ? 'new' : 'gone')
          : `${d.growth_bytes >= 0 ? '+' : '−'}${bytes(Math.abs(d.growth_bytes))}`}</li>))}</ul>
      <h3>Packages</h3>
      {c.packages ? (
        <ul className="plain">
          <li>Added ({c.packages.added.length}): <span className="wrap" data-testid="pk-added">{c.packages.added.map((p) => p.name).join(', ') || '—'}</span></li>
          <li>Removed ({c.packages.removed.length}): <span className="wrap" data-testid="pk-removed">{c.packages.removed.map((p) => p.name).join(', ') || '—'}</span></li>
          <li>Upgraded or changed ({c.packages.changed.length}): <span className="wrap">{c.packages.changed.map((p) => `${p.name} ${p.from} → ${p.to}`).join(', ') || '—'}</span></li>
        </ul>) : <p className="muted small">Only full scans list packages.</p>}
    </section>
  );
}

export default function ScansPage({ id }: { id?: string }) {
  const [form, setForm] = useState<ScanForm>(EMPTY_SCAN);
  const [err, setErr] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const [list, setList] = useState<ScanList | null>(null);
  const [extra, setExtra] = useState<ScanSummary[]>([]);
  const [open, setOpen] = useState<Scan | null>(null);
  const [sel, setSel] = useState<string[]>([]);
  const [cmp, setCmp] = useState<Compare | null>(null);
  const load = useCallback(async () => {
    const q = filter.trim() ? `?hostname=${encodeURIComponent(filter.trim())}&limit=${PAGE}` : `?limit=${PAGE}`;
    try { setList(await api<ScanList>('GET', `/scans${q}`)); setExtra([]); }
    catch (x) { setErr(errText(x)); }
  }, [filter]);
  useEffect(() => { load(); }, [load]);
  const show = useCallback(async (sid: string) => {
    try { setOpen(await api<Scan>('GET', `/scans/${sid}`)); setCmp(null); } catch (x) { setErr(errText(x)); }
  }, []);
  useEffect(() => { if (id) show(id); }, [id, show]);
  // While the open scan is unfinished, look again every second.
  useEffect(() => {
    if (!open || open.status === 'completed' || open.status === 'failed') return;
    const t = setTimeout(async () => {
      try {
        const s = await api<Scan>('GET', `/scans/${open.scan_id}`);
        setOpen(s);
        if (s.status === 'completed' || s.status === 'failed') load();
      } catch (x) { setErr(errText(x)); }
    }, 1000);
    return () => clearTimeout(t);
  }, [open, load]);
  const start = async (e: React.FormEvent) => {
    e.preventDefault();
    setErr(null);
    try {
      const r = await api<{ scan_id: string }>('POST', '/scans', scanBody(form));
      setForm((f) => ({ ...f, ssh_private_key: '' })); // the key does not stay on the page
      await show(r.scan_id);
      load();
    } catch (x) { setErr(errText(x)); }
  };
  const more = async () => {
    const offset = (list?.scans.length ?? 0) + extra.length;
    const q = `?limit=${PAGE}&offset=${offset}${filter.trim() ? `&hostname=${encodeURIComponent(filter.trim())}` : ''}`;
    try { const r = await api<ScanList>('GET', `/scans${q}`); setExtra((x) => [...x, ...r.scans]); } catch (x) { setErr(errText(x)); }
  };
  const scans = [...(list?.scans ?? []), ...extra];
  const toggle = (sid: string) => setSel((s) => s.includes(sid) ? s.filter((x) => x !== sid) : [...s, sid].slice(-2));
  const compare = async () => {
    const pair = compareOrder(scans, sel);
    if (!pair) return;
    try { setCmp(await api<Compare>('GET', `/scans/${pair[0]}/compare/${pair[1]}`)); } catch (x) { setErr(errText(x)); }
  };
  const set = (k: keyof ScanForm) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setForm({ ...form, [k]: e.target.value });
  return (
    <>
      <h1>Scans</h1>
      <p className="muted small">Look at any host the hub can reach over SSH, registered or not. Quick: OS, kernel, CPU, memory,
        disks. Full adds network, listening ports, top processes, packages, containers and failed units. Kept 30 days.</p>
      <form className="panel" aria-label="Start a scan" onSubmit={start}>
        <div className="form-grid">
          <label>Host<input name="hostname" value={form.hostname} onChange={set('hostname')} required maxLength={253} placeholder="laptop.lan or 192.168.1.20" /></label>
          <label>SSH port<input name="port" type="number" min={1} max={65535} value={form.port} onChange={set('port')} placeholder="22" /></label>
          <label>SSH user<input name="ssh_user" value={form.ssh_user} onChange={set('ssh_user')} placeholder="homelabcmd" /></label>
          <label>Scan type<select name="scan_type" value={form.scan_type} onChange={set('scan_type')}>
            <option value="quick">quick</option><option value="full">full</option></select></label>
        </div>
        <details><summary>Log in with another key</summary>
          <label>Private key (OpenSSH or PEM, no passphrase; used for this scan only, never stored)
            <textarea name="ssh_private_key" rows={4} spellCheck={false} autoComplete="off" value={form.ssh_private_key ?? ''}
              onChange={(e) => setForm({ ...form, ssh_private_key: e.target.value })} /></label>
        </details>
        <button type="submit">Start scan</button>
      </form>
      {err && <p className="error" role="alert">{err}</p>}
      {open && (
        <section aria-label="Scan" data-scan-id={open.scan_id} data-status={open.status}>
          <h2>{open.hostname}:{open.port} · {open.scan_type} · <span data-testid="scan-status">{open.status}</span></h2>
          {open.status === 'failed' && <p className="error" data-testid="scan-error">{open.error}</p>}
          {(open.status === 'pending' || open.status === 'running') && <p className="muted" aria-busy="true">Scanning…</p>}
          {open.status === 'completed' && <><ScanResult scan={open} /><AddAsMachine key={open.scan_id} scan={open} /></>}
        </section>)}
      {cmp && <CompareView c={cmp} />}
      <section className="panel" aria-label="History">
        <h2>History</h2>
        <form className="inline" onSubmit={(e) => { e.preventDefault(); load(); }}>
          <label>Host<input name="filter" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="all hosts" /></label>
          <button type="submit">Show</button>{' '}
          <button type="button" onClick={compare} disabled={!compareOrder(scans, sel)}>Compare selected</button>
        </form>
        {list && scans.length === 0 && <p className="muted">No scans yet.</p>}
        <ul className="plain scan-list">
          {scans.map((s) => (
            <li key={s.scan_id} data-scan-id={s.scan_id} data-status={s.status}>
              <input type="checkbox" aria-label={`Select scan of ${s.hostname} ${ago(s.created_at)}`} disabled={s.status !== 'completed'}
                checked={sel.includes(s.scan_id)} onChange={() => toggle(s.scan_id)} />{' '}
              <button type="button" className="linkish" onClick={() => show(s.scan_id)}>{s.hostname}:{s.port}</button>{' '}
              <span className="small">{s.scan_type} · {s.status} · {ago(s.created_at)}</span>
              {s.error && <><br /><span className="small error">{s.error}</span></>}
            </li>))}
        </ul>
        {list && scans.length < list.total && <button type="button" onClick={more}>More</button>}
      </section>
    </>
  );
}
