// Dashboard.tsx - summary bar, Servers / Workstations card groups with
// drag-and-drop order saved on the hub, recent alerts, pending actions.
import { lazy, memo, Suspense, useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { api, alertsPath, type AlertList, type Costs } from './api';
import { AlertRow, groupUpdates, UpdatesRow } from './alerts';
import { useNames, usePoll } from './hooks';
import { actionName, hasWarning, machineName, money, moveId, normaliseThresholds, sortMachines, statusWord, type Thresholds } from './format';
import { State } from './ui';
import { Card, CheckDots } from './cards';
import { checkState, dotsByMachine, STATE_COLOUR, type Check } from './checks';

type SortableModule = typeof import('./sortable');
const FleetTable = lazy(() => import('./table'));
const VIEW_KEY = 'hlc.fleetView';

/**
 * A group of cards. The cards are drawn first as plain elements; dnd-kit (a hook per
 * card and a registration each) is switched on when the browser is next idle, so the
 * first screen does not wait for the drag machinery.
 */
const Group = memo(function Group({ title, machines, th, onMove, live }: {
  title: string; machines: any[]; th: Required<Thresholds>; onMove: (a: string, b: string) => void; live: SortableModule | null;
}) {
  if (!machines.length) return null;
  return (
    <section aria-label={title} data-sortable={live ? 'ready' : 'pending'}>
      <h2>{title} <span className="muted">({machines.length})</span></h2>
      {live ? <live.SortableCards machines={machines} th={th} onMove={onMove} />
        : <ul className="cards">{machines.map((m) => <Card key={m.server_id} m={m} th={th} />)}</ul>}
    </section>
  );
});

// Where the keyboard focus was (card id + its handle or title) when drag was switched on.
let refocus: [string, string] | null = null;

/**
 * dnd-kit's module, loaded when a pointer or the keyboard focus first comes to the
 * cards, or after the first screen has settled (about a second, when idle), so
 * the first screen neither downloads nor runs the drag machinery.
 */
function useIdleSortable(ready: boolean): SortableModule | null {
  const [mod, setMod] = useState<SortableModule | null>(null);
  useEffect(() => {
    if (mod || !ready) return;
    let alive = true;
    let started = false;
    const load = () => {
      if (started) return;
      started = true;
      import('./sortable').then((m) => { if (alive) setMod(m); });
    };
    const near = (e: Event) => {
      const el = e.target as Element | null;
      const card = el?.closest?.('.cards [data-server-id]');
      if (!card) return;
      if (e.type === 'focusin') refocus = [card.getAttribute('data-server-id') ?? '', el?.closest('.handle') ? '.handle' : '.card-title'];
      load();
    };
    const w = window as any;
    let idle = 0;
    const t = window.setTimeout(() => { if (w.requestIdleCallback) idle = w.requestIdleCallback(load, { timeout: 1000 }); else load(); }, 800);
    document.addEventListener('pointerover', near, true);
    document.addEventListener('focusin', near, true);
    return () => {
      alive = false;
      window.clearTimeout(t);
      if (idle) w.cancelIdleCallback(idle);
      document.removeEventListener('pointerover', near, true);
      document.removeEventListener('focusin', near, true);
    };
  }, [ready, mod]);
  // The cards are drawn anew with dnd-kit: keep the keyboard focus where it was.
  useLayoutEffect(() => {
    if (!mod || !refocus) return;
    const [id, part] = refocus;
    refocus = null;
    if (document.activeElement && document.activeElement !== document.body) return;
    document.querySelector<HTMLElement>(`.cards [data-server-id="${CSS.escape(id)}"] ${part}`)?.focus();
  }, [mod]);
  return mod;
}

export function RecentAlerts({ limit = 5, servers }: { limit?: number; servers?: any[] | null }) {
  const q = usePoll<AlertList>(alertsPath({ status: 'active', limit }), 5000, '*');
  const names = useNames(servers);
  const alerts = q.data?.alerts ?? [];
  const total = q.data?.total ?? 0;
  return (
    <section aria-label="Recent alerts" className="panel">
      <h2>Recent alerts {total > 0 && <span className="muted">({total} active)</span>}</h2>
      <State what="alerts" loading={q.loading && !q.data} error={q.data ? null : q.error} missing={q.missing}>
        {alerts.length === 0 ? <p className="muted">No active alerts.</p> : (
          <ul className="list">{groupUpdates(alerts).map((it) => (it.kind === 'one'
            ? <AlertRow key={it.a.alert_id} a={it.a} name={names(it.a.server_id)} verbs={['acknowledge']} snooze={false} onChanged={() => q.reload()} />
            : <UpdatesRow key={it.server_id} alerts={it.alerts} name={names(it.server_id)} verbs={['acknowledge']} onChanged={() => q.reload()} />))}</ul>)}
        {total > alerts.length && <p className="small"><a href="#/alerts">All {total} active alerts →</a></p>}
      </State>
    </section>
  );
}

export function PendingActions({ servers }: { servers?: any[] | null } = {}) {
  const q = usePoll<any>('/actions?status=pending', 4000);
  const names = useNames(servers);
  const [msg, setMsg] = useState<string | null>(null);
  const act = async (id: string, verb: 'approve' | 'reject') => {
    try {
      const r: any = await api('POST', `/actions/${encodeURIComponent(id)}/${verb}`);
      setMsg(`${verb === 'approve' ? 'Approved' : 'Rejected'}: ${r?.status ?? 'done'}${r?.exit_code !== undefined && r?.exit_code !== null ? ` (exit ${r.exit_code})` : ''}`);
    } catch (e: any) { setMsg(`Failed: ${e?.message ?? e}`); }
    q.reload();
  };
  const list = q.data?.actions ?? [];
  return (
    <section aria-label="Pending actions" className="panel">
      <h2>Pending actions</h2>
      <State what="actions" loading={q.loading} error={q.error} missing={q.missing}>
        {list.length === 0 ? <p className="muted">Nothing waiting for approval.</p> : (
          <ul className="list">{list.map((a: any) => (
            <li key={a.action_id} data-action-id={a.action_id}>
              <span><b>{actionName(a.action_type)}</b> {a.target ?? ''} <span className="muted">on {names(a.server_id)}</span></span>
              <span className="btns">
                <button type="button" onClick={() => act(a.action_id, 'approve')}>Approve</button>
                <button type="button" className="secondary" onClick={() => act(a.action_id, 'reject')}>Reject</button>
              </span>
            </li>))}
          </ul>)}
        {msg && <p role="status">{msg}</p>}
      </State>
    </section>
  );
}

/** The checks widget: how many services answer, and the ones that do not. */
function ChecksWidget({ checks, name }: { checks: Check[]; name: (id: string | null) => string }) {
  if (!checks.length) return null;
  const states = checks.map((c) => ({ c, st: checkState(c) }));
  const up = states.filter((x) => x.st === 'up').length;
  const bad = states.filter((x) => x.st === 'down' || x.st === 'degraded');
  return (
    <section aria-label="Service checks" className="panel" data-testid="checks-widget">
      <h2><a href="#/checks">Service checks</a> <span className="muted">({up} of {checks.length} up)</span></h2>
      {bad.length === 0 ? <p className="muted">Every check answers.</p> : (
        <ul className="plain">{bad.map(({ c, st }) => (
          <li key={c.id}><span className={`dot dot-${STATE_COLOUR[st]}`} aria-hidden="true" /> <b>{c.name}</b> {st}
            {' '}<span className="muted">{c.latest.filter((l) => !l.ok).map((l) => `${l.place === 'hub' ? 'the hub' : name(l.place)}: ${l.error}`).join('; ')}</span></li>))}
        </ul>)}
    </section>
  );
}

export default function Dashboard() {
  const servers = usePoll<any>('/servers', 5000, '*');
  const thq = usePoll<any>('/config/thresholds', 60000);
  const costs = usePoll<Costs>('/costs', 60000);
  const checksQ = usePoll<{ checks: Check[] }>('/checks', 15000);
  const checks = checksQ.data?.checks ?? [];
  const names = useNames(servers.data?.servers ?? []);
  // each dot says where it was measured from by the machine's name
  const dots = useMemo(() => {
    const by = dotsByMachine(checksQ.data?.checks ?? []);
    for (const ds of Object.values(by)) for (const d of ds) d.where = d.place === 'hub' ? 'the hub' : names(d.place);
    return by;
  }, [checksQ.data, servers.data]); // eslint-disable-line react-hooks/exhaustive-deps
  const th = useMemo(() => normaliseThresholds(thq.data), [thq.data]);
  const [order, setOrder] = useState<string[] | null>(null);
  const [saveErr, setSaveErr] = useState<string | null>(null);
  const machines = useMemo(() => sortMachines<any>(servers.data?.servers ?? []), [servers.data]);
  useEffect(() => { setOrder(null); }, [servers.data]);
  const ordered = useMemo(() => (order ? order.map((id) => machines.find((m) => m.server_id === id)).filter(Boolean) as any[] : machines), [order, machines]);
  const servers_ = useMemo(() => ordered.filter((m) => m.machine_type !== 'workstation'), [ordered]);
  const stations = useMemo(() => ordered.filter((m) => m.machine_type === 'workstation'), [ordered]);
  const orderedRef = useRef(ordered);
  orderedRef.current = ordered;
  const reloadServers = servers.reload;
  const move = useCallback(async (a: string, b: string) => {
    const next = moveId(orderedRef.current.map((m) => m.server_id), a, b);
    setOrder(next);
    try { await api('PUT', '/preferences/card-order', { order: next }); setSaveErr(null); reloadServers(); }
    catch (e: any) { setSaveErr(`Order not saved: ${e?.message ?? e}`); }
  }, [reloadServers]);
  const [view, setView] = useState<'cards' | 'table'>(() => (localStorage.getItem(VIEW_KEY) === 'table' ? 'table' : 'cards'));
  const choose = (v: 'cards' | 'table') => { setView(v); localStorage.setItem(VIEW_KEY, v); };
  const live = useIdleSortable(machines.length > 0 && view === 'cards');
  const count = (w: string) => machines.filter((m) => statusWord(m) === w).length;
  const online = count('online');
  const offline = count('offline');
  const asleep = count('asleep');
  const warnings = machines.filter((m) => hasWarning(m, th)).length;
  return (
    <>
      <h1 tabIndex={-1} className="page-title">Fleet</h1>
      <section className="summary" aria-label="Fleet summary">
        <div><b data-testid="sum-online">{online}</b><span>online</span></div>
        <div><b data-testid="sum-offline">{offline}</b><span>offline</span></div>
        {asleep > 0 && <div><b data-testid="sum-asleep">{asleep}</b><span>asleep</span></div>}
        <div><b data-testid="sum-warnings">{warnings}</b><span>warnings</span></div>
        <div><b data-testid="sum-cost">{costs.missing ? '–' : money(costs.data?.fleet?.daily, costs.data?.currency)}</b><span>{costs.missing ? 'cost n/a' : 'per day'}</span></div>
      </section>
      <div className="toolbar">
        <div className="seg" role="group" aria-label="Fleet view">
          <button type="button" aria-pressed={view === 'cards'} onClick={() => choose('cards')}>Cards</button>
          <button type="button" aria-pressed={view === 'table'} onClick={() => choose('table')}>Table</button>
        </div>
        <a className="button" href="#/add">Add machine</a></div>
      {saveErr && <p className="error" role="alert">{saveErr}</p>}
      <State what="machines" loading={servers.loading && !servers.data} error={servers.data ? null : servers.error}>
        {machines.length === 0 ? <p className="muted">No machines yet. <a href="#/add">Add the first one.</a></p> : view === 'table' ? (
          <Suspense fallback={<p className="muted">Loading the table…</p>}><FleetTable machines={ordered} th={th} /></Suspense>) : (
          <CheckDots.Provider value={dots}>
            <Group title="Servers" machines={servers_} th={th} onMove={move} live={live} />
            <Group title="Workstations" machines={stations} th={th} onMove={move} live={live} />
          </CheckDots.Provider>)}
      </State>
      <ChecksWidget checks={checks} name={names} />
      <div className="two">
        <RecentAlerts servers={servers.data?.servers ?? null} />
        <PendingActions servers={servers.data?.servers ?? null} />
      </div>
    </>
  );
}
