// packapply.tsx - Apply a config pack: the plan first (a dry run: exactly the
// failing items and what will be done to each), then, once confirmed, the
// apply_pack action (approved by the confirm, as the restart buttons are) and
// its per-item outcome.
import { useState } from 'react';
import { api } from './api';

export interface ApplyStep {
  kind: string; target: string; step: string; description: string;
  depends_on: string | null; diff: string | null;
  outcome?: 'applied' | 'unchanged' | 'failed' | 'skipped'; exit_code?: number | null; stderr?: string;
}
export interface ApplyPlan { pack: string; changes: number; plan: ApplyStep[]; compliant: boolean }
export interface ApplyOutcome {
  changes: number; applied: number; unchanged: number; failed: number; skipped: number;
  compliant: boolean | null; items: ApplyStep[];
}

const enc = encodeURIComponent;

type Phase = { s: 'idle' } | { s: 'planning' } | { s: 'planned'; plan: ApplyPlan } | { s: 'applying'; plan: ApplyPlan }
  | { s: 'done'; out: ApplyOutcome; status: string; reason: string | null } | { s: 'error'; msg: string };

/** The Apply button and what follows it, for one machine and pack. */
export function ApplyPack({ id, pack, onDone }: { id: string; pack: string; onDone?: () => void }) {
  const [ph, setPh] = useState<Phase>({ s: 'idle' });
  const path = `/servers/${enc(id)}/packs/${enc(pack)}/apply`;
  const plan = async () => {
    setPh({ s: 'planning' });
    try {
      setPh({ s: 'planned', plan: await api<ApplyPlan>('POST', path, { dry_run: true }) });
    } catch (e: any) {
      setPh({ s: 'error', msg: `plan failed: ${e?.message ?? e}` });
    }
  };
  const apply = async (p: ApplyPlan) => {
    setPh({ s: 'applying', plan: p });
    try {
      let a = await api<any>('POST', path, { dry_run: false });
      if (a.status === 'pending') {
        // The operator's confirm is the approval; the answer is the outcome.
        const act = await api<any>('POST', `/actions/${enc(a.action_id)}/approve`);
        a = { ...act, ...(act.apply ?? {}) };
      }
      setPh({ s: 'done', out: a as ApplyOutcome, status: a.status, reason: a.failure_reason ?? null });
    } catch (e: any) {
      setPh({ s: 'error', msg: `apply failed: ${e?.message ?? e}` });
    }
    onDone?.();
  };
  return (
    <div className="apply" data-apply={pack}>
      {(ph.s === 'idle' || ph.s === 'error' || ph.s === 'done') && (
        <button type="button" onClick={plan} aria-label={`Plan applying ${pack}`}>Apply…</button>)}
      {ph.s === 'planning' && <span role="status">planning…</span>}
      {ph.s === 'error' && <span className="result" role="alert"> {ph.msg}</span>}
      {(ph.s === 'planned' || ph.s === 'applying') && (
        <div data-testid="apply-plan">
          {ph.plan.changes === 0 ? <p>Nothing to change: {pack} is already compliant.</p> : <>
            <p><b>{ph.plan.changes} change{ph.plan.changes === 1 ? '' : 's'}</b> will be made (only the failing items):</p>
            <ol className="small">{ph.plan.plan.map((s, i) => (
              <li key={i} data-step={s.step} data-target={s.target}>{s.description}
                {s.depends_on && <span className="muted"> (needs {s.depends_on})</span>}</li>))}</ol>
          </>}
          <span className="btns">
            {ph.plan.changes > 0 && <button type="button" disabled={ph.s === 'applying'} onClick={() => apply(ph.plan)}>
              {ph.s === 'applying' ? 'Applying…' : `Apply ${ph.plan.changes} change${ph.plan.changes === 1 ? '' : 's'}`}</button>}
            <button type="button" disabled={ph.s === 'applying'} onClick={() => setPh({ s: 'idle' })}>Cancel</button>
          </span>
        </div>)}
      {ph.s === 'done' && (
        <div data-testid="apply-outcome" data-status={ph.status} role="status">
          <p>{ph.status === 'completed' ? 'Applied' : 'Apply failed'}: {ph.out.changes ?? 0} changed
            {ph.out.failed ? `, ${ph.out.failed} failed` : ''}{ph.out.skipped ? `, ${ph.out.skipped} skipped` : ''}
            {' · '}{ph.out.compliant ? 'now compliant' : ph.out.compliant === false ? 'still not compliant' : 'compliance unknown'}
            {ph.reason && ph.status !== 'completed' && !ph.out.items?.length ? ` — ${ph.reason}` : ''}</p>
          {(ph.out.items ?? []).length > 0 && <ul className="plain small">{ph.out.items.map((s, i) => (
            <li key={i} data-target={s.target} data-outcome={s.outcome}>{s.outcome}: {s.description}
              {s.outcome !== 'applied' && s.outcome !== 'unchanged' && s.stderr ? <span className="muted"> — {s.stderr}</span> : null}</li>))}</ul>}
        </div>)}
    </div>
  );
}
