// MachineDetail.tsx - one machine as a widget grid (react-grid-layout) with an
// edit mode; the layout is kept per machine on the hub.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import GridLayout, { type Layout } from 'react-grid-layout';
import 'react-grid-layout/css/styles.css';
import { api, alertsPath, isMissingFeature, type AlertList, type Costs } from './api';
import { AlertRow, groupUpdates, UpdatesRow } from './alerts';
import { usePoll } from './hooks';
import { ago, bps, bytes, clock, machineName, money, normaliseThresholds, STATUS_LABEL, statusWord, unreachable, uptime } from './format';
import { BP_LABEL, BREAKPOINTS, breakpointOf, changedBreakpoints, colsOf, draftEdit, layoutFor, minFor, nudge, saveBody, savedLayouts, settle, withDrafts, type Breakpoint, type Drafts, type Layouts, type Nudge, type Widget } from './layout';
import { Bar, State, StatusDot } from './ui';
import Chart from './Chart';
import { outcomeOf, RunAction, VerbButtons, type Outcome } from './controls';
import { AdminKeyBadge } from './cards';
import { ComplianceWidget } from './compliance';
import { MachinePacksPanel } from './packassign';
import { MachineThresholdsForm } from './alertrules';
import { AiWidget, GpuWidget } from './ai';
import { useUnsaved } from './unsaved';

/** The grid's own width, measured when its box appears (before paint) and on every resize. */
function useWidth(): [(el: HTMLDivElement | null) => void, number] {
  const [w, setW] = useState(0);
  const ro = useRef<ResizeObserver | null>(null);
  const ref = useCallback((el: HTMLDivElement | null) => {
    ro.current?.disconnect();
    ro.current = null;
    if (!el) return;
    setW(el.clientWidth);
    ro.current = new ResizeObserver(() => setW(el.clientWidth));
    ro.current.observe(el);
  }, []);
  useEffect(() => () => ro.current?.disconnect(), []);
  return [ref, w];
}

const KEYS: Record<string, [Nudge, Nudge]> = {
  ArrowLeft: ['left', 'narrower'], ArrowRight: ['right', 'wider'], ArrowUp: ['up', 'shorter'], ArrowDown: ['down', 'taller'],
};

const TITLES: Record<string, string> = {
  cpu: 'CPU', memory: 'Memory', load: 'Load', disk: 'Disks', services: 'Services', containers: 'Containers',
  network: 'Network', system: 'System', cost: 'Cost', chart: 'History', alerts: 'Alerts', compliance: 'Compliance',
  ai: 'AI', gpu: 'GPU',
};

/** PID, memory and CPU % (derived by the hub between two polls) of a running service. */
function ServiceFigures({ s }: { s: any }) {
  const bits: string[] = [];
  if (s.pid) bits.push(`PID ${s.pid}`);
  if (s.memory_bytes != null) bits.push(bytes(s.memory_bytes));
  if (s.cpu_percent != null) bits.push(`CPU ${s.cpu_percent < 10 ? s.cpu_percent.toFixed(1) : Math.round(s.cpu_percent)}%`);
  return bits.length ? <span className="muted small" data-testid="service-figures"> · {bits.join(' · ')}</span> : null;
}

/** The POST of a service or container verb; the answer (or the error's detail) is the outcome. */
async function runVerb(id: string, kind: 'services' | 'containers', name: string, verb: string): Promise<Outcome> {
  try { return outcomeOf(await api('POST', `/servers/${encodeURIComponent(id)}/${kind}/${encodeURIComponent(name)}/${verb}`)); }
  catch (e) { return outcomeOf(null, e); }
}

function Services({ id }: { id: string }) {
  const q = usePoll<any>(`/servers/${encodeURIComponent(id)}/services`, 5000, id);
  const list = q.data?.services ?? [];
  return (
    <State what="services" loading={q.loading && !q.data} error={q.data ? null : q.error} missing={q.missing}>
      {list.length === 0 ? <p className="muted">No services configured.</p> : (
        <ul className="list">{list.map((s: any) => (
          <li key={s.service_name} data-service={s.service_name} data-status={s.status}>
            <span><StatusDot level={s.status === 'running' ? 'green' : s.status === 'unknown' ? 'grey' : 'red'} text={s.status} />{' '}
              {s.service_name}{s.critical ? <span className="small" title="critical service"> ★ critical</span> : null} <span className="muted">{s.status}</span>
              <ServiceFigures s={s} /></span>
            <VerbButtons name={s.service_name} run={async (v) => { const o = await runVerb(id, 'services', s.service_name, v); q.reload(); return o; }}
              verbs={[{ verb: 'restart', confirm: s.critical ? `${s.service_name} is critical: restart it?` : null }, { verb: 'start' },
                { verb: 'stop', danger: true, confirm: `Stop ${s.service_name}${s.critical ? ' (critical)' : ''} on this machine?` }]} />
          </li>))}
        </ul>)}
    </State>
  );
}

function Containers({ id }: { id: string }) {
  const q = usePoll<any>(`/servers/${encodeURIComponent(id)}/containers`, 5000, id);
  const list = q.data?.containers ?? [];
  return (
    <State what="containers" loading={q.loading && !q.data} error={q.data ? null : q.error} missing={q.missing}>
      {list.length === 0 ? <p className="muted">No containers.</p> : (
        <ul className="list">{list.map((c: any) => (
          <li key={c.id || c.name} data-container={c.name} data-state={c.state}>
            <span>{c.name} <span className="muted">{c.image} · {c.state}</span></span>
            <VerbButtons name={c.name} run={async (v) => { const o = await runVerb(id, 'containers', c.name, v); q.reload(); return o; }}
              verbs={[{ verb: 'start' }, { verb: 'stop', danger: true, confirm: `Stop container ${c.name}?` }, { verb: 'restart' }]} />
          </li>))}
        </ul>)}
    </State>
  );
}

function Cost({ id }: { id: string }) {
  // GET /costs carries the currency; one machine's element of it is this widget.
  const q = usePoll<Costs>('/costs', 60000);
  const c = q.data?.servers.find((s) => s.server_id === id);
  const cur = q.data?.currency;
  return (
    <State what="costs" loading={q.loading && !q.data} error={q.data ? null : q.error} missing={q.missing}>
      {!c ? <p className="muted">No cost figures for this machine.</p> : c.tdp_watts == null ? (
        <p className="muted">Set this machine's power (W) on its <a href={`#/edit/${encodeURIComponent(id)}`}>Edit form</a> to see its cost.</p>) : (
        <dl className="kv" data-testid="machine-cost">
          <dt>Day</dt><dd>{money(c.daily, cur)}</dd><dt>Month</dt><dd>{money(c.monthly, cur)}</dd>
          <dt>Year</dt><dd>{money(c.yearly, cur)}</dd><dt>Month to date</dt><dd>{money(c.month_to_date, cur)}</dd>
          <dt>Power</dt><dd className="small">{c.tdp_watts} W × {c.hours_per_day} h/day at <a href="#/settings" title="The rate is set in Settings">{q.data!.electricity_rate_kwh} {cur}/kWh</a></dd>
        </dl>)}
    </State>
  );
}

export function MachineAlerts({ id, name }: { id: string; name: string }) {
  const q = usePoll<AlertList>(alertsPath({ status: 'active', server_id: id, limit: 20 }), 5000, id);
  const list = q.data?.alerts ?? [];
  return (
    <State what="alerts" loading={q.loading && !q.data} error={q.data ? null : q.error} missing={q.missing}>
      {list.length === 0 ? <p className="muted">No active alerts. <a href={`#/alerts`}>History</a></p> : (
        <ul className="list">{groupUpdates(list).map((it) => (it.kind === 'one'
          ? <AlertRow key={it.a.alert_id} a={it.a} showMachine={false} onChanged={() => q.reload()} />
          : <UpdatesRow key={it.server_id} alerts={it.alerts} name={name} onChanged={() => q.reload()} />))}</ul>)}
    </State>
  );
}

export default function MachineDetail({ id }: { id: string }) {
  const mq = usePoll<any>(`/servers/${encodeURIComponent(id)}`, 5000, id);
  const thq = usePoll<any>('/config/thresholds', 60000);
  // the machine's effective thresholds (its overrides over the global ones); global on an older hub
  const own = usePoll<any>(`/servers/${encodeURIComponent(id)}/thresholds`, 60000, id);
  const th = useMemo(() => normaliseThresholds(own.data ?? thq.data), [own.data, thq.data]);
  // The layouts as stored on the hub, one per breakpoint, and this edit's changes
  // over them: each breakpoint's edits are its own, made on a grid of its width.
  const [stored, setStored] = useState<Layouts>({});
  const [drafts, setDrafts] = useState<Drafts>({});
  const [layoutNote, setLayoutNote] = useState<string | null>(null);
  const [layoutSaved, setLayoutSaved] = useState(true);
  // The grid waits for the saved layout (or 1.5 s) so it does not jump from the default.
  const [layoutReady, setLayoutReady] = useState(false);
  const [edit, setEdit] = useState(false);
  const [gridRef, gridWidth] = useWidth();
  const bp = breakpointOf(gridWidth);
  const [hk, setHk] = useState<string | null>(null);
  // The breakpoint whose grid has been drawn for a moment: only then do its widgets
  // animate (style.css), so a grid redrawn for a new width never slides into place.
  const [drawn, setDrawn] = useState<Breakpoint | null>(null);
  useEffect(() => {
    setDrawn(null);
    if (!layoutReady) return;
    const t = window.setTimeout(() => setDrawn(bp), 300);
    return () => window.clearTimeout(t);
  }, [bp, layoutReady]);
  useEffect(() => {
    let alive = true;
    setLayoutReady(false);
    const late = window.setTimeout(() => setLayoutReady(true), 1500);
    api<any>('GET', `/servers/${encodeURIComponent(id)}/layout`).then((d) => { if (alive) { setStored(savedLayouts(d)); setDrafts({}); setLayoutSaved(true); } })
      .catch((e) => { if (!alive) return; setLayoutSaved(!isMissingFeature(e)); if (isMissingFeature(e)) setLayoutNote('Saving layouts is not available on this hub yet; the default layout is shown.'); })
      .finally(() => { if (alive) { window.clearTimeout(late); setLayoutReady(true); } });
    return () => { alive = false; window.clearTimeout(late); };
  }, [id]);
  const cols = colsOf(bp);
  // What this width draws (with this edit's changes), and what each change records.
  const layout = layoutFor(withDrafts(stored, drafts), bp);
  const change = (f: (l: Widget[]) => Widget[]) => setDrafts((d) => draftEdit(stored, d, bp, f(layoutFor(withDrafts(stored, d), bp))));
  // Saving is possible (layoutSaved) and some breakpoint differs from what is stored: leaving asks.
  useUnsaved(layoutSaved && changedBreakpoints(stored, drafts).length > 0);
  const m = mq.data;
  const l = m?.latest;
  const cant = m && statusWord(m) !== 'online' && !m.host_key_changed ? unreachable(m.last_error, m.ssh_user) : null;
  const save = async () => {
    // Only the breakpoints changed in this edit are sent; each was edited on its own grid.
    const body = saveBody(stored, drafts);
    if (!body) { setDrafts({}); setLayoutNote('Layout saved. Nothing had changed.'); setEdit(false); return; }
    const names = changedBreakpoints(stored, drafts).map((b) => BP_LABEL[b].split(' ')[0]).join(', ');
    try {
      const d = await api<any>('PUT', `/servers/${encodeURIComponent(id)}/layout`, body);
      setStored(d?.breakpoints ? savedLayouts(d) : withDrafts(stored, drafts)); setDrafts({});
      setLayoutNote(`Layout saved. Widths saved: ${names}.`); setEdit(false);
    } catch (e: any) { setLayoutNote(isMissingFeature(e) ? 'Saving layouts is not available on this hub yet.' : `Layout not saved: ${e?.message ?? e}`); }
  };
  // A drag or resize ended on this breakpoint's grid (keyed by breakpoint, so `cur` is
  // measured at this width); a box outside the columns or under its minimum is refused.
  const onMoved = (cur: Layout[]) => {
    if (!edit || cur.some((c) => c.x + c.w > cols || c.w < minFor(c.i, cols).w || c.h < minFor(c.i, cols).h)) return;
    change((old) => old.map((w) => { const c = cur.find((x) => x.i === w.id); return c ? { ...w, x: c.x, y: c.y, w: c.w, h: c.h } : w; }));
  };
  const onKey = (wid: string) => (e: React.KeyboardEvent) => {
    const k = KEYS[e.key];
    if (!edit || !k || e.target !== e.currentTarget) return;
    e.preventDefault();
    change((ls) => settle(nudge(ls, wid, k[e.shiftKey ? 1 : 0], cols), cols));
  };
  const setHidden = (wid: string, hidden: boolean) => change((ls) => ls.map((x) => (x.id === wid ? { ...x, hidden } : x)));
  const reset = (all: boolean) => setDrafts((d) => (all ? Object.fromEntries(BREAKPOINTS.map(([b]) => [b, null])) : { ...d, [bp]: null }));
  const acceptKey = async () => {
    try { await api('POST', `/servers/${encodeURIComponent(id)}/host-key/accept`); setHk('New host key accepted.'); mq.reload(); }
    catch (e: any) { setHk(`Not accepted: ${e?.message ?? e}`); }
  };
  const body = (w: string) => {
    if (!l && !['services', 'containers', 'cost', 'chart', 'system', 'alerts', 'compliance', 'ai', 'gpu'].includes(w)) return <p className="muted">No sample yet.</p>;
    switch (w) {
      case 'cpu': return <><Bar label="CPU" value={l.cpu_percent} warn={th.cpu_warning} crit={th.cpu_critical} /><p className="muted small">{l.cpu_cores ?? '?'} cores{l.cpu_temp_c != null ? ` · ${Math.round(l.cpu_temp_c)} °C` : ''}</p></>;
      case 'memory': return <><Bar label="RAM" value={l.memory_percent} warn={th.memory_warning} crit={th.memory_critical} /><p className="muted small">{bytes(l.memory_used_bytes)} of {bytes(l.memory_total_bytes)}{l.swap_total_bytes ? ` · swap ${bytes(l.swap_used_bytes)} / ${bytes(l.swap_total_bytes)}` : ''}</p></>;
      case 'load': return <p className="big">{[l.load_1m, l.load_5m, l.load_15m].map((x: number | null) => (x == null ? '–' : x.toFixed(2))).join(' · ')}</p>;
      case 'disk': return <>{(l.filesystems ?? []).map((f: any) => <Bar key={f.mount} label={f.mount} value={f.percent} warn={th.disk_warning} crit={th.disk_critical} />)}</>;
      case 'network': return <><p>↓ {bps(l.network_rx_bps)} · ↑ {bps(l.network_tx_bps)}</p><ul className="plain small">{(l.network ?? []).map((n: any) => <li key={n.name}>{n.name}: ↓ {bps(n.rx_bps)} ↑ {bps(n.tx_bps)}</li>)}</ul></>;
      case 'system': return (
        <dl className="kv small">
          <dt>Host</dt><dd>{m?.hostname}</dd>
          <dt>OS</dt><dd>{l?.os?.distribution ?? m?.os_distribution ?? '–'} {l?.os?.version ?? ''}</dd>
          <dt>Kernel</dt><dd>{l?.os?.kernel ?? '–'}</dd>
          <dt>Arch</dt><dd>{l?.os?.architecture ?? '–'}</dd>
          <dt>Uptime</dt><dd>{l ? uptime(l.uptime_seconds) : '–'}</dd>
          <dt>Updates</dt><dd>{l ? `${l.updates_available ?? 0} (${l.security_updates ?? 0} security)${l.reboot_required ? ' · reboot required' : ''}` : '–'}</dd>
          <dt>Source</dt><dd>{l?.source ?? '–'}</dd>
        </dl>);
      case 'services': return <Services id={id} />;
      case 'containers': return <Containers id={id} />;
      case 'cost': return <Cost id={id} />;
      case 'chart': return <Chart id={id} />;
      case 'alerts': return <MachineAlerts id={id} name={machineName(m, id)} />;
      case 'compliance': return <ComplianceWidget id={id} />;
      case 'ai': return <AiWidget id={id} />;
      case 'gpu': return <GpuWidget id={id} />;
    }
    return null;
  };
  if (!m) return <State what="machine" loading={mq.loading} error={mq.error} />;
  const shown = layout.filter((w) => !w.hidden);
  const hidden = layout.filter((w) => w.hidden);
  return (
    <>
      <p><a href="#/">← Dashboard</a></p>
      <div className="detail-head">
        <h1 tabIndex={-1}>{machineName(m)} <span className={`status status-${statusWord(m)}`}>{STATUS_LABEL[statusWord(m)]}</span></h1>
        <span className="btns">
          <a className="button secondary" href={`#/edit/${encodeURIComponent(id)}`}>Edit</a>
          {edit ? <><button type="button" onClick={save} disabled={!layoutSaved}>Save layout</button>
            <button type="button" className="secondary" onClick={() => reset(false)} title={`The ${BP_LABEL[bp]} layout goes back to the default${bp === 'lg' ? '' : ', arranged from the wide one'}`}>Reset to default</button>
            <button type="button" className="secondary" onClick={() => reset(true)}>Reset all widths</button>
            <button type="button" className="secondary" onClick={() => setEdit(false)}>Done</button></>
            : <button type="button" className="secondary" onClick={() => { setLayoutNote((n) => (n?.startsWith('Layout saved') ? null : n)); setEdit(true); }}>Edit layout</button>}
        </span>
      </div>
      <p className="muted small">{m.hostname} · {m.machine_type} · last seen {ago(m.last_seen)}
        {l && statusWord(m) !== 'online' ? <span data-testid="as-of"> · values below as of {clock(m.last_seen)}</span> : null}</p>
      {cant && (
        <div className="unreachable-page" data-testid="unreachable">
          <h2>The hub cannot reach this machine</h2>
          <p>{cant.why}</p><p><b>What to do:</b> {cant.todo}</p>
          <p className="small muted">The hub said: {m.last_error}</p>
        </div>)}
      <AdminKeyBadge m={m} />
      {m.host_key_changed && (
        <div className="banner" role="alert">
          The host key of this machine changed. Polling stops until you confirm the machine was reinstalled.
          <button type="button" onClick={acceptKey}>Accept new host key</button>
        </div>)}
      {hk && <p role="status">{hk}</p>}
      <details className="panel run-panel"><summary>Run an action on this machine</summary>
        <RunAction id={id} services={(m.expected_services ?? []).map((s: any) => s.name)} /></details>
      <details className="panel run-panel"><summary>Alert thresholds for this machine</summary>
        <MachineThresholdsForm id={id} onSaved={() => own.reload()} /></details>
      <details className="panel run-panel"><summary>Config packs assigned to this machine</summary>
        <MachinePacksPanel id={id} /></details>
      {layoutNote && <p className="muted small" role="status">{layoutNote}</p>}
      {edit && hidden.length > 0 && (
        <p className="small">Hidden: {hidden.map((w) => (
          <button key={w.id} type="button" className="secondary" onClick={() => setHidden(w.id, false)}>Show {TITLES[w.id]}</button>))}</p>)}
      {edit && (
        <p className="muted small" role="status" data-testid="bp-note" data-breakpoint={bp}>
          Editing the {BP_LABEL[bp]} layout, the one this window's width shows{stored[bp] || drafts[bp] ? '' : ' (arranged from the wide one until you change it)'}.
          Each width keeps its own layout: a window resized past another width edits that one, and Save stores each width's changes as made at that width.
          Drag a widget by its title, or focus the title and use the arrow keys to move it (Shift + arrows to resize).
        </p>)}
      <div ref={gridRef} className="grid-wrap">
        {!layoutReady || !gridWidth ? <p className="muted">Loading…</p> : (
          <GridLayout key={bp} className={`grid ${edit ? 'editing' : ''} ${edit && drawn === bp ? 'animate' : ''}`} width={gridWidth} cols={cols} rowHeight={40}
            layout={shown.map((w) => ({ i: w.id, x: w.x, y: w.y, w: w.w, h: w.h, minW: minFor(w.id, cols).w, minH: minFor(w.id, cols).h }))}
            isDraggable={edit} isResizable={edit} draggableHandle=".widget-head" draggableCancel="button"
            onDragStop={onMoved} onResizeStop={onMoved} margin={[10, 10]}>
            {shown.map((w) => (
              <div key={w.id} className="widget" data-widget={w.id}>
                <div className="widget-head" tabIndex={edit ? 0 : undefined} onKeyDown={onKey(w.id)}
                  aria-label={edit ? `${TITLES[w.id]}: arrow keys move, Shift and arrow keys resize` : undefined}><h3>{TITLES[w.id]}</h3>
                  {edit && <button type="button" className="secondary small" aria-label={`Hide ${TITLES[w.id]}`}
                    onClick={() => setHidden(w.id, true)}>Hide</button>}</div>
                <div className="widget-body">{body(w.id)}</div>
              </div>))}
          </GridLayout>)}
      </div>
    </>
  );
}
