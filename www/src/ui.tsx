// ui.tsx - small shared pieces: bars, state messages.
import type { ReactNode } from 'react';
import { level, pct } from './format';

export function Bar({ label, value, warn, crit }: { label: string; value: number | null | undefined; warn: number; crit: number }) {
  const lv = level(value, warn, crit);
  const v = value === null || value === undefined ? 0 : Math.max(0, Math.min(100, value));
  return (
    <div className={`bar bar-${lv}`} role="meter" aria-label={label} aria-valuemin={0} aria-valuemax={100}
      aria-valuenow={value === null || value === undefined ? undefined : Math.round(value)}>
      <span className="bar-label">{label}</span>
      {/* fill and warning mark are drawn by the track's own backgrounds: 150 bars on
          the front page, two elements fewer each to lay out and paint */}
      <span className="bar-track" style={{ '--v': `${v}%`, '--w': `${Math.max(0, Math.min(100, warn))}%` } as any}
        title={`warning at ${warn}%`} />
      <span className="bar-value">{pct(value)}{lv === 'warning' || lv === 'critical' ? ' ⚠' : ''}</span>
    </div>
  );
}

export function State({ loading, error, missing, what, children }: {
  loading?: boolean; error?: string | null; missing?: boolean; what: string; children?: ReactNode;
}) {
  if (missing) return <p className="muted" data-state="missing">{what}: not available on this hub yet.</p>;
  if (error) return <p className="error" role="alert">Could not load {what}: {error}</p>;
  if (loading) return <p className="muted" aria-busy="true">Loading {what}…</p>;
  return <>{children}</>;
}

/** A status dot that says its status to a screen reader too (not by colour alone). */
export function StatusDot({ level, text }: { level: 'green' | 'amber' | 'red' | 'grey'; text: string }) {
  return <span className={`dot dot-${level}`} role="img" aria-label={`status: ${text}`} title={text} />;
}
