// compliance.tsx - config packs: the machine widget (per pack: compliant or how
// many items fail, when, Check now), the diff view of one check, the fleet page.
import { useMemo, useState } from 'react';
import { api } from './api';
import { useNames, usePoll } from './hooks';
import { ago } from './format';
import { State } from './ui';
import { ApplyPack } from './packapply';

export interface PackItem {
  kind: string; check: string; target: string; status: 'pass' | 'fail' | 'error';
  expected: string | null; actual: string | null; diff: string | null; reason: string | null; origin: string;
}
export interface CheckResult {
  server_id: string; pack: string; compliant: boolean; checked_at: string;
  counts: { pass: number; fail: number; error: number }; items: PackItem[];
}

const enc = encodeURIComponent;

function verdict(r: CheckResult | undefined): string {
  if (!r) return 'never checked';
  if (r.compliant) return 'compliant';
  const bad = r.counts.fail + r.counts.error;
  return `${bad} item${bad === 1 ? '' : 's'} failing`;
}

/** US0098: one row per pack with its latest verdict and a Check now button. */
export function ComplianceWidget({ id }: { id: string }) {
  const packs = usePoll<any>('/packs', 60000);
  const q = usePoll<{ latest: CheckResult[] }>(`/servers/${enc(id)}/compliance`, 30000, id);
  const [busy, setBusy] = useState<string | null>(null);
  const [msg, setMsg] = useState<Record<string, string>>({});
  const latest = useMemo(() => new Map((q.data?.latest ?? []).map((r) => [r.pack, r])), [q.data]);
  const check = async (pack: string) => {
    setBusy(pack);
    setMsg((m) => ({ ...m, [pack]: 'checking…' }));
    try {
      const r = await api<CheckResult>('POST', `/servers/${enc(id)}/compliance/check`, { pack });
      setMsg((m) => ({ ...m, [pack]: r.compliant ? 'compliant' : `${r.counts.fail + r.counts.error} failing` }));
    } catch (e: any) {
      setMsg((m) => ({ ...m, [pack]: `check failed: ${e?.message ?? e}` }));
    }
    setBusy(null);
    q.reload();
  };
  const names: string[] = (packs.data?.packs ?? []).map((p: any) => p.name);
  return (
    <State what="compliance" loading={(q.loading && !q.data) || (packs.loading && !packs.data)} error={q.data ? null : q.error} missing={q.missing || packs.missing}>
      {names.length === 0 ? <p className="muted">No packs.</p> : (
        <ul className="list">{names.map((n) => {
          const r = latest.get(n);
          const v = verdict(r);
          return (
            <li key={n} data-pack={n} data-verdict={r ? (r.compliant ? 'compliant' : 'not_compliant') : 'never_checked'}>
              <span><span className={`dot dot-${!r ? 'grey' : r.compliant ? 'green' : 'red'}`} aria-hidden="true" />{' '}
                <b>{n}</b> <span className="muted">{v}{r ? ` · ${ago(r.checked_at)}` : ''}</span>
                {r && !r.compliant && <> · <a href={`#/compliance/${enc(id)}/${enc(n)}`}>details</a></>}
                {msg[n] && <span className="result" role="status"> — {msg[n]}</span>}</span>
              <span className="btns"><button type="button" disabled={busy !== null} onClick={() => check(n)}
                aria-label={`Check ${n} now`}>Check now</button></span>
              {r && <ApplyPack id={id} pack={n} onDone={() => q.reload()} />}
            </li>);
        })}</ul>)}
    </State>
  );
}

/** A unified diff coloured line by line, as a code review tool shows it. */
export function Diff({ text }: { text: string }) {
  const lines = text.replace(/\n$/, '').split('\n');
  return (
    <pre className="diff" data-testid="diff">{lines.map((l, i) => {
      const c = l.startsWith('+++') || l.startsWith('---') ? 'diff-file' : l.startsWith('@@') ? 'diff-hunk'
        : l.startsWith('+') ? 'diff-add' : l.startsWith('-') ? 'diff-del' : l.startsWith('\\') ? 'diff-note' : 'diff-ctx';
      return <span key={i} className={c}>{l}{'\n'}</span>;
    })}</pre>
  );
}

/** US0096: the failing items of a machine's latest check of one pack. */
export function ComplianceDetail({ id, pack }: { id: string; pack: string }) {
  const q = usePoll<{ latest: CheckResult[] }>(`/servers/${enc(id)}/compliance`, 30000, id);
  const [all, setAll] = useState(false);
  const names = useNames();
  const r = q.data?.latest.find((x) => x.pack === pack);
  const items = (r?.items ?? []).filter((i) => all || i.status !== 'pass');
  return (
    <>
      <p><a href={`#/machine/${enc(id)}`}>← {names(id)}</a> · <a href="#/compliance">Fleet compliance</a></p>
      <h1>{pack} on {names(id)}</h1>
      <State what="compliance" loading={q.loading && !q.data} error={q.data ? null : q.error} missing={q.missing}>
        {!r ? <p className="muted">This pack was never checked on this machine.</p> : <>
          <p data-testid="summary">{verdict(r)} · {r.counts.pass} pass, {r.counts.fail} fail, {r.counts.error} error · checked {ago(r.checked_at)}</p>
          <ApplyPack id={id} pack={pack} onDone={() => q.reload()} />
          <label className="small check"><input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> show passing items too</label>
          <ul className="plain items">{items.map((i, k) => (
            <li key={k} className={`item item-${i.status}`} data-item={i.target} data-status={i.status}>
              <div><span className={`dot dot-${i.status === 'pass' ? 'green' : i.status === 'fail' ? 'red' : 'amber'}`} aria-hidden="true" />{' '}
                <b>{i.kind}</b> {i.target} <span className="muted">({i.check}, from {i.origin}) · {i.status}</span></div>
              {i.status === 'error' ? <div className="small">error: {i.reason}</div> : (
                <dl className="kv small"><dt>expected</dt><dd>{i.expected}</dd><dt>actual</dt><dd>{i.actual}</dd></dl>)}
              {i.diff && <Diff text={i.diff} />}
            </li>))}</ul>
        </>}
      </State>
    </>
  );
}

/** Machines x packs, filterable by machine name, pack and verdict. */
export function CompliancePage() {
  const q = usePoll<any>('/compliance', 15000);
  const [text, setText] = useState('');
  const [pack, setPack] = useState('');
  const [bad, setBad] = useState(false);
  const packs: string[] = (q.data?.packs ?? []).filter((p: string) => !pack || p === pack);
  const rows = (q.data?.servers ?? []).filter((s: any) => {
    const name = `${s.server_id} ${s.display_name ?? ''}`.toLowerCase();
    if (text && !name.includes(text.toLowerCase())) return false;
    return !bad || packs.some((p) => s.packs[p]?.status === 'not_compliant');
  });
  const label = (c: any) => (c?.status === 'compliant' ? '✓ compliant' : c?.status === 'not_compliant' ? `✗ ${c.fail + c.error} failing` : '– never');
  return (
    <>
      <h1>Compliance</h1>
      <div className="filters">
        <label className="field">Machine<input value={text} onChange={(e) => setText(e.target.value)} placeholder="name" /></label>
        <label className="field">Pack<select value={pack} onChange={(e) => setPack(e.target.value)}>
          <option value="">all packs</option>{(q.data?.packs ?? []).map((p: string) => <option key={p} value={p}>{p}</option>)}</select></label>
        <label className="small check"><input type="checkbox" checked={bad} onChange={(e) => setBad(e.target.checked)} /> only not compliant</label>
      </div>
      <State what="compliance" loading={q.loading && !q.data} error={q.data ? null : q.error} missing={q.missing}>
        <div className="scroll-x"><table data-testid="fleet-compliance">
          <thead><tr><th>Machine</th>{packs.map((p) => <th key={p}>{p}</th>)}</tr></thead>
          <tbody>{rows.map((s: any) => (
            <tr key={s.server_id} data-server={s.server_id}>
              <td><a href={`#/machine/${enc(s.server_id)}`}>{s.display_name || s.server_id}</a></td>
              {packs.map((p) => {
                const c = s.packs[p];
                return <td key={p} data-pack={p} data-status={c?.status ?? 'never_checked'} className={c?.status === 'compliant' ? 'ok' : c?.status === 'not_compliant' ? 'bad' : 'muted'}>
                  {c?.status === 'not_compliant' ? <a href={`#/compliance/${enc(s.server_id)}/${enc(p)}`}>{label(c)}</a> : label(c)}
                  {c?.checked_at && <span className="muted small"> {ago(c.checked_at)}</span>}</td>;
              })}
            </tr>))}</tbody>
        </table></div>
      </State>
    </>
  );
}
