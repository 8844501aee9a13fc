// packassign.tsx - which config packs a machine gets: its own list and its tags'
// (machine page), removal with optional cleanup, the per-tag lists (Settings), and
// the link from a drift alert to the diff of the check that raised it.
import { useState } from 'react';
import { api } from './api';
import { usePoll } from './hooks';
import { ago } from './format';
import { State } from './ui';

const enc = encodeURIComponent;

export interface Effective { name: string; sources: string[] }
export interface MachinePacks {
  server_id: string; packs: string[]; effective: Effective[];
  drift_interval_hours: number | null; effective_drift_interval_hours: number; last_drift_check: string | null;
}
export interface CleanupResult {
  files: { path: string; outcome: string }[]; packages: { name: string; outcome: string }[];
  removed: number; left: number; note?: string;
}

export const DRIFT_TYPES = ['config_drift', 'config_noncompliant'];

/** The diff view a drift alert points at: "#/compliance/<machine>/<pack>", or null for other alerts. */
export function alertDiffHref(a: { type: string; subject: string; server_id: string | null }): string | null {
  if (!DRIFT_TYPES.includes(a.type) || !a.server_id || !a.subject.startsWith('pack:')) return null;
  return `#/compliance/${enc(a.server_id)}/${enc(a.subject.slice(5))}`;
}

/** "machine", "tag dev", "machine, tag dev" */
export function sourcesLabel(sources: string[]): string {
  return sources.map((s) => (s.startsWith('tag:') ? `tag ${s.slice(4)}` : s)).join(', ');
}

/** What a cleanup did, in one line a person reads. */
export function cleanupSummary(c: CleanupResult): string {
  if (c.note) return c.note;
  const left = [...c.files.filter((f) => f.outcome === 'changed' || f.outcome === 'not_regular' || f.outcome === 'failed' || f.outcome === 'unknown')
    .map((f) => `${f.path} (${f.outcome === 'changed' ? 'changed since, left alone' : f.outcome})`),
  ...c.packages.filter((p) => p.outcome === 'kept' || p.outcome === 'failed' || p.outcome === 'unknown')
    .map((p) => `${p.name} (${p.outcome === 'kept' ? 'another pack needs it' : p.outcome})`)];
  return `${c.removed} removed${left.length ? `; left: ${left.join(', ')}` : ''}`;
}

/** US0099/US0101 on the machine page: add a pack, remove one (optionally cleaning up), the drift interval. */
export function MachinePacksPanel({ id }: { id: string }) {
  const q = usePoll<MachinePacks>(`/servers/${enc(id)}/packs`, 60000, id);
  const all = usePoll<any>('/packs', 60000);
  const [add, setAdd] = useState('');
  const [cleanup, setCleanup] = useState(false);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);
  const [hours, setHours] = useState<string | null>(null); // null: as the hub has it
  const d = q.data;
  const names: string[] = (all.data?.packs ?? []).map((p: any) => p.name);
  const put = async (packs: string[], extra: { drift_interval_hours?: number | null } = {}) => {
    setBusy(true); setMsg(null);
    try { await api('PUT', `/servers/${enc(id)}/packs`, { packs, ...extra }); setMsg('Saved.'); setHours(null); }
    catch (e: any) { setMsg(`Not saved: ${e?.message ?? e}`); }
    setBusy(false); setAdd(''); q.reload();
  };
  const remove = async (name: string) => {
    setBusy(true); setMsg(null);
    try {
      const r = await api<{ cleanup: CleanupResult | null }>('DELETE', `/servers/${enc(id)}/packs/${enc(name)}${cleanup ? '?cleanup=true' : ''}`);
      setMsg(`Removed ${name}.${r.cleanup ? ` Cleanup: ${cleanupSummary(r.cleanup)}.` : ''}`);
    } catch (e: any) { setMsg(`Not removed: ${e?.message ?? e}`); }
    setBusy(false); q.reload();
  };
  return (
    <section className="panel" aria-label="Assigned packs">
      <h2>Assigned packs</h2>
      <State what="assigned packs" loading={q.loading && !d} error={d ? null : q.error} missing={q.missing}>
        {d && <>
          <p className="small muted" data-testid="drift-schedule">Checked for drift every {d.effective_drift_interval_hours} h
            {d.drift_interval_hours ? ' (this machine\'s own interval)' : ''} · last scheduled check {d.last_drift_check ? ago(d.last_drift_check) : 'never'}</p>
          {d.effective.length === 0 ? <p className="muted">No packs assigned.</p> : (
            <ul className="list">{d.effective.map((e) => {
              const own = e.sources.includes('machine');
              return (
                <li key={e.name} data-assigned={e.name}>
                  <span><b>{e.name}</b> <span className="muted">from {sourcesLabel(e.sources)}</span></span>
                  <span className="btns">{own
                    ? <button type="button" className="secondary" disabled={busy} onClick={() => remove(e.name)} aria-label={`Remove ${e.name}`}>Remove</button>
                    : <span className="muted small">change it in Settings</span>}</span>
                </li>);
            })}</ul>)}
          <label className="small check"><input type="checkbox" checked={cleanup} onChange={(e) => setCleanup(e.target.checked)} />
            {' '}on Remove, also clean up (only files still as the pack wrote them; packages no other pack needs)</label>
          <form className="inline" onSubmit={(e) => { e.preventDefault(); if (add) put([...d.packs, add]); }}>
            <label>Add a pack <select value={add} onChange={(e) => setAdd(e.target.value)} aria-label="Pack to assign">
              <option value="">choose…</option>
              {names.filter((n) => !d.packs.includes(n)).map((n) => <option key={n} value={n}>{n}</option>)}</select></label>
            {' '}<button type="submit" disabled={busy || !add}>Assign</button>
          </form>
          <form className="inline" onSubmit={(e) => {
            e.preventDefault();
            const h = (hours ?? '').trim();
            put(d.packs, { drift_interval_hours: h === '' ? null : Number(h) });
          }}>
            <label>Own drift interval (hours, empty = the fleet's) <input type="number" min={1} max={8760} name="drift_interval_hours"
              value={hours ?? (d.drift_interval_hours == null ? '' : String(d.drift_interval_hours))} onChange={(e) => setHours(e.target.value)} /></label>
            {' '}<button type="submit" disabled={busy}>Save interval</button>
          </form>
        </>}
        {msg && <p role="status" className="small">{msg}</p>}
      </State>
    </section>
  );
}

/** Settings: the packs every machine with a tag gets. */
export function TagPacksPanel() {
  const q = usePoll<{ tags: Record<string, string[]> }>('/packs/assignments', 60000);
  const all = usePoll<any>('/packs', 60000);
  const [tag, setTag] = useState('');
  const [picked, setPicked] = useState<string[]>([]);
  const [msg, setMsg] = useState<string | null>(null);
  const names: string[] = (all.data?.packs ?? []).map((p: any) => p.name);
  const tags = q.data?.tags ?? {};
  const save = async (t: string, packs: string[]) => {
    setMsg(null);
    try { await api('PUT', `/packs/assignments/tags/${enc(t)}`, { packs }); setMsg(`Saved the packs of tag ${t}.`); setTag(''); setPicked([]); }
    catch (e: any) { setMsg(`Not saved: ${e?.message ?? e}`); }
    q.reload();
  };
  return (
    <section className="panel" aria-label="Packs by tag">
      <h2>Packs by tag</h2>
      <p className="small muted">Every machine with the tag gets these packs (checked for drift like its own).</p>
      <State what="tag assignments" loading={q.loading && !q.data} error={q.data ? null : q.error} missing={q.missing}>
        {Object.keys(tags).length === 0 ? <p className="muted">No tag has packs.</p> : (
          <ul className="list">{Object.entries(tags).map(([t, ps]) => (
            <li key={t} data-tag={t}><span><b>{t}</b>: {ps.join(', ')}</span>
              <span className="btns">
                <button type="button" className="secondary" onClick={() => { setTag(t); setPicked(ps); }} aria-label={`Edit tag ${t}`}>Edit</button>
                <button type="button" className="secondary" onClick={() => save(t, [])} aria-label={`Clear tag ${t}`}>Clear</button></span></li>))}</ul>)}
        <form onSubmit={(e) => { e.preventDefault(); if (tag.trim()) save(tag.trim(), picked); }}>
          <label>Tag <input value={tag} maxLength={32} onChange={(e) => setTag(e.target.value)} placeholder="dev" /></label>
          <fieldset className="plain"><legend className="small">Packs</legend>{names.map((n) => (
            <label key={n} className="check"><input type="checkbox" checked={picked.includes(n)}
              onChange={(e) => setPicked((p) => (e.target.checked ? [...p, n] : p.filter((x) => x !== n)))} /> {n}</label>))}</fieldset>
          <button type="submit" disabled={!tag.trim()}>Save tag packs</button>
        </form>
        {msg && <p role="status" className="small">{msg}</p>}
      </State>
    </section>
  );
}
