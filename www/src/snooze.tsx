// snooze.tsx - Snooze / Mute on an alert row (in the first chunk: every alert list uses it).
import { useState } from 'react';
import { api, isMissingFeature, type Alert } from './api';
import { clock } from './format';

export interface Mute {
  id: number; server_id: string | null; alert_type: string | null; until: string | null;
  reason: string | null; created_at: string; created_by: string;
}

/** The snooze choices on an alert: minutes, or null for "until I unmute it". */
export const SNOOZES: [number | null, string][] = [[60, 'Snooze 1 h'], [480, 'Snooze 8 h'], [1440, 'Snooze 24 h'], [null, 'Mute this type on this machine']];

/** The POST /alert-mutes body that silences alerts like `a` on its machine. */
export function muteBody(a: Pick<Alert, 'server_id' | 'type' | 'title'>, minutes: number | null): Record<string, any> {
  const b: Record<string, any> = { server_id: a.server_id, alert_type: a.type };
  if (minutes !== null) b.duration_minutes = minutes;
  b.reason = `${minutes === null ? 'muted' : 'snoozed'} from the dashboard: ${a.title}`.slice(0, 200);
  return b;
}

/** Snooze / mute buttons of one active alert tied to a machine. */
export function SnoozeControls({ a, who, onDone }: { a: Alert; who: string; onDone: () => void }) {
  const [msg, setMsg] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (minutes: number | null) => {
    setBusy(true); setMsg(null);
    try {
      const m = await api<Mute>('POST', '/alert-mutes', muteBody(a, minutes));
      setMsg(m.until ? `Snoozed until ${clock(m.until)}: no messages about this.` : 'Muted: no messages about this until you remove the rule.');
      onDone();
    } catch (e: any) {
      setMsg(isMissingFeature(e) ? 'Snoozing is not available on this hub yet.' : `Not snoozed: ${e?.message ?? e}`);
    } finally { setBusy(false); }
  };
  return (
    <details className="snooze">
      <summary aria-label={`Snooze ${a.title} on ${who}`}>Snooze…</summary>
      <span className="btns">{SNOOZES.map(([min, label]) => (
        <button key={label} type="button" className="secondary small" disabled={busy} onClick={() => run(min)}>{label}</button>))}</span>
      {msg && <span className="small" role="status">{msg}</span>}
    </details>
  );
}
