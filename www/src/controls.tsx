// controls.tsx - buttons that change a machine: stop (and restart of a critical
// service) ask first, destructive ones look it, and the outcome (exit code,
// duration, output) is shown where the click happened.
import { useState } from 'react';
import { ApiError } from './api';

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
