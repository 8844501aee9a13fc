// cards.tsx - one machine card (PRD colour table), drawn without any drag machinery;
// sortable.tsx wraps it with dnd-kit once drag is switched on.
import { createContext, memo, useContext } from 'react';
import type { Dot } from './checks';
import { ago, cardColour, clock, machineName, STATUS_LABEL, statusWord, unreachable, uptime, type Thresholds } from './format';
import { Bar, StatusDot } from './ui';

/** Service-check dots per machine (checks tied to it or run from it), given by the dashboard. */
export const CheckDots = createContext<Record<string, Dot[]>>({});

export interface Sort { ref?: (el: HTMLElement | null) => void; style?: any; handle?: any }

/** A machine whose agent still signs heartbeats with the admin key (a v1 agent,
 * or one never enrolled): that machine holds the key to the whole fleet. */
export function AdminKeyBadge({ m }: { m: any }) {
  if (m.agent_auth !== 'admin_key') return null;
  return <p className="agent-admin-key small" title="This agent sends the hub's admin API key. Enroll it with an enrollment token so it holds only its own agent token.">Agent uses the admin key</p>;
}

/** One machine card; `sort` carries dnd-kit's ref, style and handle props once drag is live. */
export const Card = memo(function Card({ m, th, sort }: { m: any; th: Required<Thresholds>; sort?: Sort }) {
  const colour = cardColour(m, th);
  const l = m.latest;
  const handle = sort?.handle ?? {};
  const dots = useContext(CheckDots)[m.server_id];
  const word = statusWord(m);
  const name = machineName(m);
  const cant = word !== 'online' && !m.host_key_changed ? unreachable(m.last_error, m.ssh_user) : null;
  return (
    <li ref={sort?.ref} style={sort?.style} className={`card card-${colour}`} data-server-id={m.server_id} data-colour={colour} data-status={word}>
      <div className="card-head">
        <button type="button" className="handle" aria-label={`Move ${name}`} {...handle}>⠿</button>
        <a href={`#/machine/${encodeURIComponent(m.server_id)}`} className="card-title">{name}</a>
        <StatusDot level={colour} text={STATUS_LABEL[word]} />
      </div>
      {m.tailscale_hostname && <p className="muted small" data-tailscale={m.tailscale_hostname} title="Tailscale name">Tailscale: {m.tailscale_hostname}</p>}
      {dots && (
        <p className="checkdots" aria-label="Service checks">
          {dots.map((d) => <a key={`${d.id}@${d.place}`} href="#/checks" className={`dot dot-${d.ok ? 'green' : 'red'}`}
            title={`${d.name} from ${d.where ?? d.place}: ${d.ok ? 'up' : 'down'}`} aria-label={`${d.name} from ${d.where ?? d.place}: ${d.ok ? 'up' : 'down'}`} />)}
        </p>)}
      {m.host_key_changed && <p className="error small">Host key changed</p>}
      <AdminKeyBadge m={m} />
      {cant && <p className="unreachable small" data-testid="unreachable"><b>Can't reach it:</b> {cant.why} {cant.todo}</p>}
      {l && (word === 'online' || word === 'offline' || word === 'asleep') ? (
        <>
          <Bar label="CPU" value={l.cpu_percent} warn={th.cpu_warning} crit={th.cpu_critical} />
          <Bar label="RAM" value={l.memory_percent} warn={th.memory_warning} crit={th.memory_critical} />
          <Bar label="Disk" value={l.disk_percent} warn={th.disk_warning} crit={th.disk_critical} />
          <p className="muted small">{word === 'online' ? <>{uptime(l.uptime_seconds)}{l.updates_available ? ` · ${l.updates_available} updates` : ''}</>
            : <span data-testid="as-of">{word === 'asleep' ? 'Asleep' : 'Offline'} · as of {clock(m.last_seen)}</span>}</p>
        </>
      ) : (
        <p className="muted small">
          {word === 'asleep' || word === 'offline' ? `${word === 'asleep' ? 'Asleep' : 'Offline'} · last seen ${ago(m.last_seen)}`
            : word === 'online' ? 'Waiting for the first sample' : cant ? 'Not reached yet' : 'Not polled yet'}
        </p>
      )}
    </li>
  );
});

