// Dashboard.tsx - summary bar, Servers / Workstations card groups with
// drag-and-drop order saved on the hub, recent alerts, pending actions.
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  DndContext, KeyboardSensor, PointerSensor, closestCenter, useSensor, useSensors, type DragEndEvent,
} from '@dnd-kit/core';
import { SortableContext, rectSortingStrategy, sortableKeyboardCoordinates, useSortable } from '@dnd-kit/sortable';
import { CSS } from '@dnd-kit/utilities';
import { api, alertsPath, type AlertList, type Costs } from './api';
import { AlertRow } from './alerts';
import { usePoll } from './hooks';
import { ago, cardColour, hasWarning, money, moveId, normaliseThresholds, sortMachines, uptime, type Thresholds } from './format';
import { Bar, State } from './ui';

interface Sort { ref?: (el: HTMLElement | null) => void; style?: any; handle?: any }

/** One machine card; `sort` carries dnd-kit's ref, style and handle props once drag is live. */
const Card = memo(function Card({ m, th, sort }: { m: any; th: Required<Thresholds>; sort?: Sort }) {
  const colour = cardColour(m, th);
  const l = m.latest;
  const handle = sort?.handle ?? {};
  return (
    <li ref={sort?.ref} style={sort?.style} className={`card card-${colour}`} data-server-id={m.server_id} data-colour={colour}>
      <div className="card-head">
        <button type="button" className="handle" aria-label={`Move ${m.display_name || m.server_id}`} {...handle}>⠿</button>
        <a href={`#/machine/${encodeURIComponent(m.server_id)}`} className="card-title">{m.display_name || m.server_id}</a>
        <span className={`dot dot-${colour}`} aria-label={`status ${m.status}`} title={m.status} />
      </div>
      {m.host_key_changed && <p className="error small">Host key changed</p>}
      {m.status === 'online' && l ? (
        <>
          <Bar label="CPU" value={l.cpu_percent} warn={th.cpu_warning} crit={th.cpu_critical} />
          <Bar label="RAM" value={l.memory_percent} warn={th.memory_warning} crit={th.memory_critical} />
          <Bar label="Disk" value={l.disk_percent} warn={th.disk_warning} crit={th.disk_critical} />
          <p className="muted small">{uptime(l.uptime_seconds)}{l.updates_available ? ` · ${l.updates_available} updates` : ''}</p>
        </>
      ) : (
        <p className="muted small">
          {m.status === 'offline' ? `${m.machine_type === 'workstation' ? 'Asleep' : 'Offline'} · last seen ${ago(m.last_seen)}`
            : m.status === 'online' ? 'Waiting for the first sample' : 'Not polled yet'}
          {m.last_error && m.status !== 'online' ? <><br />{m.last_error}</> : null}
        </p>
      )}
    </li>
  );
});

function SortableCard({ m, th }: { m: any; th: Required<Thresholds> }) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id: m.server_id });
  const style = { transform: CSS.Transform.toString(transform), transition, opacity: isDragging ? 0.6 : 1 };
  return <Card m={m} th={th} sort={{ ref: setNodeRef, style, handle: { ...attributes, ...listeners } }} />;
}

/**
 * A group of cards. The cards are drawn first as plain elements; dnd-kit (a hook per
 * card and a registration each) is switched on when the browser is next idle, so the
 * first screen does not wait for the drag machinery.
 */
const Group = memo(function Group({ title, machines, th, onMove, live }: {
  title: string; machines: any[]; th: Required<Thresholds>; onMove: (a: string, b: string) => void; live: boolean;
}) {
  if (!machines.length) return null;
  return (
    <section aria-label={title} data-sortable={live ? 'ready' : 'pending'}>
      <h2>{title} <span className="muted">({machines.length})</span></h2>
      {live ? <SortableCards machines={machines} th={th} onMove={onMove} />
        : <ul className="cards">{machines.map((m) => <Card key={m.server_id} m={m} th={th} />)}</ul>}
    </section>
  );
});

function SortableCards({ machines, th, onMove }: { machines: any[]; th: Required<Thresholds>; onMove: (a: string, b: string) => void }) {
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }));
  const end = (e: DragEndEvent) => { if (e.over && e.active.id !== e.over.id) onMove(String(e.active.id), String(e.over.id)); };
  return (
    <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={end}>
      <SortableContext items={machines.map((m) => m.server_id)} strategy={rectSortingStrategy}>
        <ul className="cards">{machines.map((m) => <SortableCard key={m.server_id} m={m} th={th} />)}</ul>
      </SortableContext>
    </DndContext>
  );
}

/** True once the browser has been idle after the first cards were drawn. */
function useIdleAfter(ready: boolean): boolean {
  const [idle, setIdle] = useState(false);
  useEffect(() => {
    if (idle || !ready) return;
    const w = window as any;
    if (w.requestIdleCallback) { const h = w.requestIdleCallback(() => setIdle(true), { timeout: 400 }); return () => w.cancelIdleCallback(h); }
    const t = window.setTimeout(() => setIdle(true), 50);
    return () => window.clearTimeout(t);
  }, [ready, idle]);
  return idle;
}

export function RecentAlerts({ limit = 5 }: { limit?: number }) {
  const q = usePoll<AlertList>(alertsPath({ status: 'active', limit }), 5000, '*');
  const alerts = q.data?.alerts ?? [];
  const total = q.data?.total ?? 0;
  return (
    <section aria-label="Recent alerts" className="panel">
      <h2>Recent alerts {total > 0 && <span className="muted">({total} active)</span>}</h2>
      <State what="alerts" loading={q.loading && !q.data} error={q.data ? null : q.error} missing={q.missing}>
        {alerts.length === 0 ? <p className="muted">No active alerts.</p> : (
          <ul className="list">{alerts.map((a) => <AlertRow key={a.alert_id} a={a} verbs={['acknowledge']} onChanged={() => q.reload()} />)}</ul>)}
        {total > alerts.length && <p className="small"><a href="#/alerts">All {total} active alerts →</a></p>}
      </State>
    </section>
  );
}

export function PendingActions() {
  const q = usePoll<any>('/actions?status=pending', 4000);
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
              <span><b>{a.action_type}</b> {a.target ?? ''} <span className="muted">on {a.server_id}</span></span>
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

export default function Dashboard() {
  const servers = usePoll<any>('/servers', 5000, '*');
  const thq = usePoll<any>('/config/thresholds', 60000);
  const costs = usePoll<Costs>('/costs', 60000);
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
  const live = useIdleAfter(machines.length > 0);
  const online = machines.filter((m) => m.status === 'online').length;
  const offline = machines.filter((m) => m.status === 'offline').length;
  const warnings = machines.filter((m) => hasWarning(m, th)).length;
  return (
    <>
      <section className="summary" aria-label="Fleet summary">
        <div><b data-testid="sum-online">{online}</b><span>online</span></div>
        <div><b data-testid="sum-offline">{offline}</b><span>offline</span></div>
        <div><b data-testid="sum-warnings">{warnings}</b><span>warnings</span></div>
        <div><b data-testid="sum-cost">{costs.missing ? '–' : money(costs.data?.fleet?.daily, costs.data?.currency)}</b><span>{costs.missing ? 'cost n/a' : 'per day'}</span></div>
      </section>
      <div className="toolbar"><a className="button" href="#/add">Add machine</a></div>
      {saveErr && <p className="error" role="alert">{saveErr}</p>}
      <State what="machines" loading={servers.loading && !servers.data} error={servers.data ? null : servers.error}>
        {machines.length === 0 ? <p className="muted">No machines yet. <a href="#/add">Add the first one.</a></p> : (
          <>
            <Group title="Servers" machines={servers_} th={th} onMove={move} live={live} />
            <Group title="Workstations" machines={stations} th={th} onMove={move} live={live} />
          </>)}
      </State>
      <div className="two">
        <RecentAlerts />
        <PendingActions />
      </div>
    </>
  );
}
