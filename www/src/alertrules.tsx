// alertrules.tsx - the list of mute rules in force (alerts page) and a machine's own
// thresholds (overrides of the global ones) on its page; both in lazy chunks.
import { useEffect, useState } from 'react';
import { api, ApiError, isMissingFeature } from './api';
import { clock } from './format';
import { usePoll } from './hooks';
import type { Mute } from './snooze';
import { useUnsaved } from './unsaved';

/** "disk_warning on nas · until 18:00" as an operator reads a rule. */
export function muteWords(m: Mute, name: (id: string | null) => string = (id) => id ?? ''): string {
  const what = m.alert_type ? m.alert_type.replace(/_/g, ' ') : 'every alert';
  const where = m.server_id ? name(m.server_id) : 'every machine';
  return `${what} on ${where} · ${m.until ? `until ${clock(m.until)}` : 'until removed'}`;
}

/** The mute rules in force, each with Remove; nothing when there are none. */
export function MuteList({ name, changed }: { name: (id: string | null) => string; changed?: number }) {
  const q = usePoll<{ mutes: Mute[] }>('/alert-mutes', 10000);
  const [msg, setMsg] = useState<string | null>(null);
  useEffect(() => { if (changed) q.reload(); }, [changed]); // eslint-disable-line react-hooks/exhaustive-deps
  const list = q.data?.mutes ?? [];
  if (q.missing || list.length === 0) return msg ? <p className="small" role="status">{msg}</p> : null;
  const remove = async (m: Mute) => {
    try { await api('DELETE', `/alert-mutes/${m.id}`); setMsg(`Removed: ${muteWords(m, name)}. Messages about it are sent again.`); }
    catch (e: any) { setMsg(e instanceof ApiError && e.status === 404 ? 'That rule was already gone.' : `Not removed: ${e?.message ?? e}`); }
    q.reload();
  };
  return (
    <section className="panel" aria-label="Muted alerts">
      <h2>Muted and snoozed</h2>
      <p className="small muted">These alerts are still recorded and shown (marked muted) but send no messages. Auto-remediation still runs.</p>
      <ul className="list">{list.map((m) => (
        <li key={m.id} data-mute-id={m.id}>
          <span>{muteWords(m, name)}{m.reason ? <span className="muted small"> · {m.reason}</span> : null}</span>
          <button type="button" className="secondary small" onClick={() => remove(m)} aria-label={`Remove mute: ${muteWords(m, name)}`}>Remove</button>
        </li>))}</ul>
      {msg && <p className="small" role="status">{msg}</p>}
    </section>
  );
}

// ---- a machine's own thresholds -----------------------------------------------

export const OVERRIDE_FIELDS: [string, string][] = [
  ['cpu_warning_percent', 'CPU warning %'], ['cpu_critical_percent', 'CPU critical %'],
  ['memory_warning_percent', 'RAM warning %'], ['memory_critical_percent', 'RAM critical %'],
  ['disk_warning_percent', 'Disk warning %'], ['disk_critical_percent', 'Disk critical %'],
  ['cpu_sustained_samples', 'CPU samples in a row'],
];
const PAIRS: [string, string][] = [['cpu', 'CPU'], ['memory', 'RAM'], ['disk', 'Disk']];

export interface MachineThresholds {
  server_id: string; thresholds: Record<string, number>; source: Record<string, 'global' | 'server'>; overrides: Record<string, number>;
}

/**
 * The PUT body from what the form holds: a typed number overrides, an emptied field
 * that was an override goes back to global (null); untouched fields are left out.
 */
export function overridePatch(saved: Record<string, number>, typed: Record<string, string>): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [k] of OVERRIDE_FIELDS) {
    const t = typed[k];
    if (t === undefined) continue;
    if (t.trim() === '') { if (k in saved) out[k] = null; continue; }
    const v = Number(t);
    if (saved[k] !== v) out[k] = v;
  }
  return out;
}

/** The effective values once the patch applies (the global where no override is left). */
export function effectiveAfter(cur: MachineThresholds, global: Record<string, number>, patch: Record<string, number | null>): Record<string, number> {
  const eff: Record<string, number> = { ...cur.thresholds };
  for (const [k, v] of Object.entries(patch)) eff[k] = v === null ? global[k] ?? eff[k] : v;
  return eff;
}

/** The form's own check, in the operator's words, before anything is sent. */
export function overrideProblem(eff: Record<string, number>, typed: Record<string, string>): ApiError | null {
  for (const [k] of OVERRIDE_FIELDS) {
    const t = typed[k];
    if (t !== undefined && t.trim() !== '' && !Number.isFinite(Number(t)))
      return new ApiError(422, 'VALIDATION_ERROR', 'Enter a number, or leave it empty to use the global value', k);
  }
  for (const [p, label] of PAIRS) {
    const w = eff[`${p}_warning_percent`], c = eff[`${p}_critical_percent`];
    if (typeof w === 'number' && typeof c === 'number' && w >= c)
      return new ApiError(422, 'VALIDATION_ERROR', `${label} warning must be lower than ${label} critical (${w}% is not below ${c}%)`,
        typed[`${p}_warning_percent`] !== undefined ? `${p}_warning_percent` : `${p}_critical_percent`);
  }
  return null;
}

/** The machine page's form: each threshold with the global value beside it. */
export function MachineThresholdsForm({ id, onSaved }: { id: string; onSaved?: (t: MachineThresholds) => void }) {
  const [cur, setCur] = useState<MachineThresholds | null>(null);
  const [global, setGlobal] = useState<Record<string, number>>({});
  const [typed, setTyped] = useState<Record<string, string>>({});
  const [err, setErr] = useState<ApiError | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);
  useEffect(() => {
    let alive = true;
    setCur(null); setTyped({}); setErr(null); setMsg(null);
    api<MachineThresholds>('GET', `/servers/${encodeURIComponent(id)}/thresholds`).then((d) => { if (alive) setCur(d); })
      .catch((e) => { if (alive) { if (isMissingFeature(e)) setMissing(true); else setMsg(`Could not load: ${e?.message ?? e}`); } });
    api<Record<string, number>>('GET', '/config/thresholds').then((g) => { if (alive) setGlobal(g); }).catch(() => undefined);
    return () => { alive = false; };
  }, [id]);
  useUnsaved(!!cur && Object.keys(overridePatch(cur.overrides, typed)).length > 0);
  if (missing) return <p className="muted small">Per-machine thresholds are not available on this hub yet.</p>;
  if (!cur) return <p className="muted small">{msg ?? 'Loading…'}</p>;
  const save = async () => {
    setErr(null); setMsg(null);
    const patch = overridePatch(cur.overrides, typed);
    const local = overrideProblem(effectiveAfter(cur, global, patch), typed);
    if (local) { setErr(local); setMsg('Not saved: see the field marked above.'); return; }
    if (Object.keys(patch).length === 0) { setMsg('Nothing changed.'); return; }
    try {
      const r = await api<MachineThresholds>('PUT', `/servers/${encodeURIComponent(id)}/thresholds`, patch);
      setCur(r); setTyped({}); setMsg('Saved.'); onSaved?.(r);
    } catch (e: any) {
      setErr(e instanceof ApiError && e.field ? e : null);
      setMsg(e instanceof ApiError && e.field ? 'Not saved: see the field marked above.' : `Not saved: ${e?.message ?? e}`);
    }
  };
  return (
    <form aria-label="Thresholds for this machine" onSubmit={(e) => { e.preventDefault(); save(); }}>
      <p className="small muted">Leave a field empty to use the global value (Settings). A NAS that always runs at 85 % disk can have its own disk warning.</p>
      <div className="form-grid">{OVERRIDE_FIELDS.map(([k, label]) => {
        const own = cur.source[k] === 'server';
        const value = typed[k] ?? (own ? String(cur.overrides[k]) : '');
        return (
          <label key={k} data-source={own && typed[k] === undefined ? 'server' : 'global'}>{label}
            <input type="number" step="any" name={k} value={value} placeholder={String(global[k] ?? cur.thresholds[k] ?? '')}
              aria-describedby={`thr-${k}`} onChange={(e) => setTyped((t) => ({ ...t, [k]: e.target.value }))} />
            <span className="small muted" id={`thr-${k}`}>{own ? `this machine (global ${global[k] ?? '–'})` : `global ${cur.thresholds[k]}`}</span>
            {err && err.field === k && <span className="error small" role="alert">{err.message}</span>}
          </label>);
      })}</div>
      <button type="submit">Save thresholds for this machine</button> <span role="status">{msg}</span>
    </form>
  );
}
