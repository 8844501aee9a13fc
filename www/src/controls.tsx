// controls.tsx - buttons that change a machine: stop (and restart of a critical
// service) ask first, destructive ones look it, and the outcome (exit code,
// duration, output) is shown where the click happened.
import { useEffect, useState } from 'react';
import { api, ApiError } from './api';
import { ACTION_NAMES, actionName, DESTRUCTIVE_ACTIONS } from './format';

export interface Outcome { ok: boolean; status: string; exit_code?: number | null; duration_ms?: number | null; stdout?: string | null; stderr?: string | null; message?: string }

/** The outcome of a synchronous action from its 200 answer or its error body (409/504 carry it in detail). */
export function outcomeOf(r: any, err?: unknown): Outcome {
  if (err !== undefined) {
    const d = err instanceof ApiError ? err.detail : {};
    return { ok: false, status: d.status ?? 'failed', exit_code: d.exit_code ?? null, duration_ms: d.duration_ms ?? null,
      stdout: d.stdout ?? null, stderr: d.stderr ?? null, message: (err as any)?.message ?? String(err) };
  }
  const ok = r?.status === 'completed' && (r.exit_code === 0 || r.exit_code == null);
  return { ok, status: r?.status ?? 'unknown', exit_code: r?.exit_code ?? null, duration_ms: r?.duration_ms ?? null,
    stdout: r?.stdout ?? null, stderr: r?.stderr ?? null, message: r?.failure_reason ?? undefined };
}

/** "restart: success · exit 0 · 412 ms" / "stop failed · exit 5 · …: reason". */
export function outcomeLine(verb: string, o: Outcome): string {
  const bits = [o.ok ? `${verb}: success` : `${verb} failed`];
  if (o.exit_code != null) bits.push(`exit ${o.exit_code}`);
  if (o.duration_ms != null) bits.push(`${o.duration_ms} ms`);
  let s = bits.join(' · ');
  if (!o.ok && o.message) s += `: ${o.message}`;
  return s;
}

export function OutcomeView({ verb, o }: { verb: string; o: Outcome }) {
  const out = [o.stdout, o.stderr].filter(Boolean).join('\n');
  return (
    <div className={`outcome ${o.ok ? 'ok' : 'error'}`} role="status" data-ok={o.ok}>
      <span>{outcomeLine(verb, o)}</span>
      {out && <details><summary className="small">output</summary><pre>{out}</pre></details>}
    </div>
  );
}

export interface Verb { verb: string; danger?: boolean; confirm?: string | null }

/**
 * The verb buttons of one service or container. A verb with `confirm` asks in
 * place (Cancel has the focus) before it runs; the outcome shows below the row.
 */
export function VerbButtons({ name, verbs, run }: { name: string; verbs: Verb[]; run: (verb: string) => Promise<Outcome> }) {
  const [asking, setAsking] = useState<Verb | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [res, setRes] = useState<{ verb: string; o: Outcome } | null>(null);
  const go = async (v: Verb) => {
    setAsking(null); setBusy(v.verb); setRes(null);
    const o = await run(v.verb);
    setBusy(null); setRes({ verb: v.verb, o });
  };
  return (
    <>
      {asking ? (
        <span className="btns confirm" role="group" aria-label={`Confirm ${asking.verb} ${name}`}>
          <span className="small">{asking.confirm}</span>
          <button type="button" className="danger" onClick={() => go(asking)}>{`Yes, ${asking.verb} ${name}`}</button>
          <button type="button" className="secondary" autoFocus onClick={() => setAsking(null)}>Cancel</button>
        </span>
      ) : (
        <span className="btns">{verbs.map((v) => (
          <button key={v.verb} type="button" className={v.danger ? 'danger-outline' : 'secondary'} disabled={busy !== null}
            aria-label={`${v.verb} ${name}`} onClick={() => (v.confirm ? setAsking(v) : go(v))}>
            {busy === v.verb ? `${v.verb}…` : v.verb}</button>))}
        </span>
      )}
      {busy && <span className="small muted" role="status">{busy}…</span>}
      {res && <OutcomeView verb={res.verb} o={res.o} />}
    </>
  );
}

const DONE = ['completed', 'failed', 'rejected'];

/**
 * Start any whitelisted action on one machine from its page: POST /actions, so the
 * approval rules apply (auto-approved types run now; the rest wait for Approve).
 * The action's state and, once it ends, its outcome show here.
 */
export function RunAction({ id, services }: { id: string; services: string[] }) {
  const [type, setType] = useState('restart_service');
  const [target, setTarget] = useState('');
  const [listed, setListed] = useState<string[]>([]);
  const [err, setErr] = useState<ApiError | null>(null);
  const [asking, setAsking] = useState(false);
  const [act, setAct] = useState<any>(null);
  // Containers and scripts are asked for when their action type is chosen.
  const kind = type === 'custom' ? 'scripts' : type.startsWith('container_') ? 'containers' : null;
  useEffect(() => {
    if (!kind) return;
    setListed([]);
    api<any>('GET', `/servers/${encodeURIComponent(id)}/${kind}`).then((d) => setListed((d?.[kind] ?? []).map((s: any) => s.name)))
      .catch(() => setListed([]));
  }, [id, kind]);
  // Follow a started action until it ends (approval may come from anywhere).
  useEffect(() => {
    if (!act || DONE.includes(act.status)) return;
    const t = window.setInterval(() => {
      api<any>('GET', `/actions/${encodeURIComponent(act.action_id)}`).then(setAct).catch(() => undefined);
    }, 1500);
    return () => window.clearInterval(t);
  }, [act?.action_id, act?.status]);
  const choices = type.endsWith('_service') ? services : kind ? listed : null;
  const needsTarget = type !== 'apply_updates';
  const send = async () => {
    setAsking(false); setErr(null); setAct(null);
    const body: any = { server_id: id, action_type: type };
    if (needsTarget) body.target = target || (type === 'clear_logs' ? 'journal' : '');
    try { setAct(await api('POST', '/actions', body)); }
    catch (e) { setErr(e instanceof ApiError ? e : new ApiError(0, 'ERROR', String((e as any)?.message ?? e), null)); }
  };
  const submit = (e: React.FormEvent) => { e.preventDefault(); if (DESTRUCTIVE_ACTIONS.includes(type)) setAsking(true); else send(); };
  const approve = async (verb: 'approve' | 'reject') => {
    try { setAct(await api('POST', `/actions/${encodeURIComponent(act.action_id)}/${verb}`)); }
    catch (e) { const d = e instanceof ApiError ? e.detail : {}; if (d.action_id) setAct({ ...act, ...d }); else setErr(e as ApiError); }
  };
  return (
    <form className="run-action" aria-label="Run an action" onSubmit={submit}>
      <label>Action
        <select name="action_type" value={type} onChange={(e) => { setType(e.target.value); setTarget(''); setAsking(false); }}>
          {Object.entries(ACTION_NAMES).map(([k, v]) => <option key={k} value={k}>{v}</option>)}
        </select></label>
      {needsTarget && (choices ? (
        <label>{type === 'custom' ? 'Script' : type.startsWith('container_') ? 'Container' : 'Service'}
          <select name="target" value={target} onChange={(e) => setTarget(e.target.value)} required>
            <option value="" disabled>{choices.length ? 'choose…' : 'none on this machine'}</option>
            {choices.map((c) => <option key={c} value={c}>{c}</option>)}
          </select></label>
      ) : (
        <label>Log<input name="target" value={target} placeholder="journal, or /var/log/…" onChange={(e) => setTarget(e.target.value)} /></label>
      ))}
      {asking ? (
        <span className="btns confirm" role="group" aria-label="Confirm the action">
          <span className="small">{actionName(type)}{needsTarget ? ` ${target || 'journal'}` : ''} on this machine?</span>
          <button type="button" className="danger" onClick={send}>Yes, run it</button>
          <button type="button" className="secondary" autoFocus onClick={() => setAsking(false)}>Cancel</button>
        </span>
      ) : <button type="submit" className={DESTRUCTIVE_ACTIONS.includes(type) ? 'danger-outline' : undefined}>Run</button>}
      {err && <p className="error small" role="alert">{err.field ? `${err.field}: ` : ''}{err.message}</p>}
      {act && (
        <div className="action-state" data-action-id={act.action_id} data-status={act.status}>
          {act.status === 'pending' ? (
            <p className="small" role="status">Waiting for approval (auto-approve does not cover {actionName(act.action_type)}).{' '}
              <button type="button" onClick={() => approve('approve')}>Approve</button>{' '}
              <button type="button" className="secondary" onClick={() => approve('reject')}>Reject</button></p>
          ) : DONE.includes(act.status) && act.status !== 'rejected' ? <OutcomeView verb={actionName(act.action_type)} o={outcomeOf(act)} />
            : <p className="small" role="status">{act.status === 'rejected' ? 'Rejected; nothing ran.' : `${actionName(act.action_type)}: ${act.status}…`}</p>}
        </div>)}
    </form>
  );
}
