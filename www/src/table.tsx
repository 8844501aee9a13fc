// table.tsx - the fleet as a table beside the cards: search, filters, sort by any
// column, last-hour sparklines (GET /metrics/sparklines, one request for the fleet).
// Loaded in its own chunk the first time the table view is chosen.
import { memo, useDeferredValue, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { usePoll } from './hooks';
import {
  ago, bps, clock, fleetRows, machineName, pct, sparkPath, statusWord, STATUS_LABEL, uptime, cardColour,
  type FleetQuery, type Thresholds,
} from './format';
import { StatusDot } from './ui';

interface Spark { i: number[]; cpu: (number | null)[]; mem: (number | null)[] }
interface Sparks { points: number; servers: Record<string, Spark> }

const SW = 64;
const SH = 18;

function Sparkline({ s, k, n, label }: { s?: Spark; k: 'cpu' | 'mem'; n: number; label: string }) {
  if (!s || !s.i.length) return null;
  const vals = s[k].filter((v): v is number => v !== null);
  if (!vals.length) return null;
  return (
    <svg className="spark" width={SW} height={SH} viewBox={`0 0 ${SW} ${SH}`} role="img"
      aria-label={`${label} last hour: ${Math.round(Math.min(...vals))} to ${Math.round(Math.max(...vals))}%`}>
      <path d={sparkPath(s.i, s[k], n, SW, SH)} />
    </svg>
  );
}

const COLUMNS: [string, string][] = [
  ['name', 'Name'], ['status', 'Status'], ['cpu', 'CPU'], ['ram', 'RAM'], ['disk', 'Disk'], ['net', 'Network'],
  ['load', 'Load'], ['temp', 'Temp'], ['uptime', 'Uptime'], ['seen', 'Last seen'],
];

const Row = memo(function Row({ m, s, n, th }: { m: any; s?: Spark; n: number; th: Required<Thresholds> }) {
  const l = m.latest;
  const word = statusWord(m);
  const stale = word !== 'online' && l;
  const name = machineName(m);
  return (
    <tr data-server-id={m.server_id} data-status={word}>
      <td><a href={`#/machine/${encodeURIComponent(m.server_id)}`}>{name}</a>
        {Array.isArray(m.tags) && m.tags.length > 0 && <span className="muted small"> {m.tags.join(', ')}</span>}</td>
      <td><StatusDot level={cardColour(m, th)} text={STATUS_LABEL[word]} /> {STATUS_LABEL[word]}
        {stale && <span className="muted small"> · as of {clock(m.last_seen)}</span>}</td>
      <td className="num">{pct(l?.cpu_percent)} <Sparkline s={s} k="cpu" n={n} label={`${name} CPU`} /></td>
      <td className="num">{pct(l?.memory_percent)} <Sparkline s={s} k="mem" n={n} label={`${name} RAM`} /></td>
      <td className="num">{pct(l?.disk_percent)}</td>
      <td className="num small">{l ? `↓ ${bps(l.network_rx_bps)} ↑ ${bps(l.network_tx_bps)}` : '–'}</td>
      <td className="num">{l?.load_1m != null ? l.load_1m.toFixed(2) : '–'}</td>
      <td className="num">{l?.cpu_temp_c != null ? `${Math.round(l.cpu_temp_c)} °C` : '–'}</td>
      <td className="num">{l ? uptime(l.uptime_seconds).replace('↑ ', '') : '–'}</td>
      <td className="num small">{ago(m.last_seen)}</td>
    </tr>
  );
});

const QKEY = 'hlc.fleetQuery';

export default function FleetTable({ machines, th }: { machines: any[]; th: Required<Thresholds> }) {
  const [q, setQ] = useState<FleetQuery>(() => {
    const d: FleetQuery = { text: '', status: '', type: '', tag: '', sort: 'name', desc: false };
    try { return { ...d, ...JSON.parse(localStorage.getItem(QKEY) || '{}'), text: '' }; } catch { return d; }
  });
  useEffect(() => { const { text, ...keep } = q; localStorage.setItem(QKEY, JSON.stringify(keep)); }, [q]);
  const sparks = usePoll<Sparks>('/metrics/sparklines?points=30', 60000);
  // Typing stays responsive with 500 rows: the rows follow the text a frame later.
  const dq = useDeferredValue(q);
  const rows = useMemo(() => fleetRows(machines, dq), [machines, dq]);
  const tags = useMemo(() => [...new Set(machines.flatMap((m) => (Array.isArray(m.tags) ? m.tags : [])))].sort(), [machines]);
  const n = sparks.data?.points ?? 30;
  // Timings for the dashboard benchmark: mount to first rows painted, change to rows painted.
  const box = useRef<HTMLDivElement>(null);
  const t0 = useRef(performance.now());
  const changed = useRef<number | null>(null);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const key = changed.current === null ? 'renderMs' : 'filterMs';
    const from = changed.current ?? t0.current;
    if (key === 'renderMs' && el.dataset.renderMs) return;
    changed.current = null;
    requestAnimationFrame(() => setTimeout(() => { el.dataset[key] = (performance.now() - from).toFixed(1); el.dataset.rows = String(rows.length); }, 0));
  }, [rows]);
  const set = (p: Partial<FleetQuery>) => { changed.current = performance.now(); setQ((o) => ({ ...o, ...p })); };
  const sortBy = (k: string) => set(q.sort === k ? { desc: !q.desc } : { sort: k, desc: k !== 'name' && k !== 'status' });
  return (
    <div ref={box} className="fleet-table" data-testid="fleet-table">
      <div className="filters" role="search" aria-label="Filter machines">
        <label>Search<input type="search" name="fleet-search" value={q.text} placeholder="name or host" onChange={(e) => set({ text: e.target.value })} /></label>
        <label>Status<select name="fleet-status" value={q.status} onChange={(e) => set({ status: e.target.value as any })}>
          <option value="">any</option>{(['online', 'offline', 'asleep', 'unknown'] as const).map((s) => <option key={s} value={s}>{STATUS_LABEL[s]}</option>)}</select></label>
        <label>Type<select name="fleet-type" value={q.type} onChange={(e) => set({ type: e.target.value })}>
          <option value="">any</option><option value="server">server</option><option value="workstation">workstation</option></select></label>
        {tags.length > 0 && <label>Tag<select name="fleet-tag" value={q.tag} onChange={(e) => set({ tag: e.target.value })}>
          <option value="">any</option>{tags.map((t) => <option key={t} value={t}>{t}</option>)}</select></label>}
      </div>
      <p className="muted small" role="status" data-testid="fleet-count">{rows.length} of {machines.length} machines</p>
      <div className="scroll-x"><table>
        <thead><tr>{COLUMNS.map(([k, label]) => (
          <th key={k} scope="col" aria-sort={q.sort === k ? (q.desc ? 'descending' : 'ascending') : undefined}>
            <button type="button" className="linkish sort" onClick={() => sortBy(k)}>{label}{q.sort === k ? (q.desc ? ' ▼' : ' ▲') : ''}</button></th>))}
        </tr></thead>
        <tbody>{rows.map((m) => <Row key={m.server_id} m={m} s={sparks.data?.servers?.[m.server_id]} n={n} th={th} />)}</tbody>
      </table></div>
    </div>
  );
}
