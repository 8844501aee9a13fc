// MachineDetail.tsx - one machine as a widget grid (react-grid-layout) with an
// edit mode; the layout is kept per machine on the hub.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import GridLayout, { type Layout } from 'react-grid-layout';
import 'react-grid-layout/css/styles.css';
import { api, alertsPath, isMissingFeature, type AlertList, type Costs } from './api';
import { AlertRow, groupUpdates, UpdatesRow } from './alerts';
import { usePoll } from './hooks';
import { ago, bps, bytes, clock, machineName, money, normaliseThresholds, STATUS_LABEL, statusWord, unreachable, uptime } from './format';
import { arrange, breakpointOf, colsOf, COLS, DEFAULT_LAYOUT, MIN_SIZE, mergeLayout, nudge, type Nudge, type Widget } from './layout';
import { Bar, State, StatusDot } from './ui';
import Chart from './Chart';
import { outcomeOf, RunAction, VerbButtons, type Outcome } from './controls';
import { AdminKeyBadge } from './cards';
import { ComplianceWidget } from './compliance';
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
  const [layout, setLayout] = useState<Widget[]>(mergeLayout(null));
  const [layoutNote, setLayoutNote] = useState<string | null>(null);
  const [layoutSaved, setLayoutSaved] = useState(true);
  // the layout as stored on the hub: an edit that differs from it is unsaved
  const [stored, setStored] = useState<Widget[]>(mergeLayout(null));
  // The grid waits for the saved layout (or 1.5 s) so it does not jump from the default.
  const [layoutReady, setLayoutReady] = useState(false);
  const [edit, setEdit] = useState(false);
  const [gridRef, gridWidth] = useWidth();
  const bp = breakpointOf(gridWidth);
  const [hk, setHk] = useState<string | null>(null);
  useEffect(() => {
    let alive = true;
    setLayoutReady(false);
    const late = window.setTimeout(() => setLayoutReady(true), 1500);
    api<any>('GET', `/servers/${encodeURIComponent(id)}/layout`).then((d) => { if (alive) { const w = mergeLayout(d?.widgets); setLayout(w); setStored(w); setLayoutSaved(true); } })
      .catch((e) => { if (!alive) return; setLayoutSaved(!isMissingFeature(e)); if (isMissingFeature(e)) setLayoutNote('Saving layouts is not available on this hub yet; the default layout is shown.'); })
      .finally(() => { if (alive) { window.clearTimeout(late); setLayoutReady(true); } });
    return () => { alive = false; window.clearTimeout(late); };
  }, [id]);
  // Saving is possible (layoutSaved) and the grid is not what is stored: leaving asks.
  useUnsaved(layoutSaved && JSON.stringify(layout) !== JSON.stringify(stored));
  const m = mq.data;
  const l = m?.latest;
  const cant = m && statusWord(m) !== 'online' && !m.host_key_changed ? unreachable(m.last_error, m.ssh_user) : null;
  const save = async () => {
    // Only the wide layout is stored, and only edits made at that width reach it (onLayout).
    try { await api('PUT', `/servers/${encodeURIComponent(id)}/layout`, { widgets: layout }); setStored(layout); setLayoutNote('Layout saved.'); setEdit(false); }
    catch (e: any) { setLayoutNote(isMissingFeature(e) ? 'Saving layouts is not available on this hub yet.' : `Layout not saved: ${e?.message ?? e}`); }
  };
  const onLayout = (cur: Layout[]) => {
    // The grid is keyed by breakpoint, so this is the lg grid's own answer; a box under
    // its minimum (never drawn by the lg grid) is refused all the same.
    if (!edit || bp !== 'lg' || cur.some((c) => c.x + c.w > COLS || c.w < (MIN_SIZE[c.i]?.w ?? 1))) return;
    setLayout((old) => old.map((w) => { const c = cur.find((x) => x.i === w.id); return c ? { ...w, x: c.x, y: c.y, w: c.w, h: c.h } : w; }));
  };
  const onKey = (wid: string) => (e: React.KeyboardEvent) => {
    const k = KEYS[e.key];
    if (!edit || bp !== 'lg' || !k || e.target !== e.currentTarget) return;
    e.preventDefault();
    setLayout((ls) => nudge(ls, wid, k[e.shiftKey ? 1 : 0]));
  };
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
            <button type="button" className="secondary" onClick={() => setLayout(DEFAULT_LAYOUT.map((w) => ({ ...w, hidden: false })))}>Reset to default</button>
            <button type="button" className="secondary" onClick={() => setEdit(false)}>Done</button></>
            : <button type="button" className="secondary" onClick={() => setEdit(true)}>Edit layout</button>}
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
      {layoutNote && <p className="muted small" role="status">{layoutNote}</p>}
      {edit && hidden.length > 0 && (
        <p className="small">Hidden: {hidden.map((w) => (
          <button key={w.id} type="button" className="secondary" onClick={() => setLayout((ls) => ls.map((x) => (x.id === w.id ? { ...x, hidden: false } : x)))}>Show {TITLES[w.id]}</button>))}</p>)}
      {edit && bp !== 'lg' && <p className="small" role="status" data-testid="narrow-note">This window is narrow, so the widgets are stacked from the wide layout. Move and resize them in a window at least {Math.ceil(900 + 32)} px wide; what you save is the wide layout.</p>}
      {edit && bp === 'lg' && <p className="muted small">Drag a widget by its title, or focus the title and use the arrow keys to move it (Shift + arrows to resize).</p>}
      <div ref={gridRef} className="grid-wrap">
        {!layoutReady || !gridWidth ? <p className="muted">Loading…</p> : (
          <GridLayout key={bp} className={`grid ${edit ? 'editing' : ''}`} width={gridWidth} cols={colsOf(bp)} rowHeight={40}
            layout={(bp === 'lg' ? shown : arrange(shown, colsOf(bp))).map((w) => ({
              i: w.id, x: w.x, y: w.y, w: w.w, h: w.h,
              minW: Math.min(colsOf(bp), Math.ceil(((MIN_SIZE[w.id]?.w ?? 1) * colsOf(bp)) / COLS)), minH: MIN_SIZE[w.id]?.h ?? 1,
            }))}
            isDraggable={edit && bp === 'lg'} isResizable={edit && bp === 'lg'} draggableHandle=".widget-head" draggableCancel="button"
            onLayoutChange={onLayout} margin={[10, 10]}>
            {shown.map((w) => (
              <div key={w.id} className="widget" data-widget={w.id}>
                <div className="widget-head" tabIndex={edit && bp === 'lg' ? 0 : undefined} onKeyDown={onKey(w.id)}
                  aria-label={edit && bp === 'lg' ? `${TITLES[w.id]}: arrow keys move, Shift and arrow keys resize` : undefined}><h3>{TITLES[w.id]}</h3>
                  {edit && <button type="button" className="secondary small" aria-label={`Hide ${TITLES[w.id]}`}
                    onClick={() => setLayout((ls) => ls.map((x) => (x.id === w.id ? { ...x, hidden: true } : x)))}>Hide</button>}</div>
                <div className="widget-body">{body(w.id)}</div>
              </div>))}
          </GridLayout>)}
      </div>
    </>
  );
}
