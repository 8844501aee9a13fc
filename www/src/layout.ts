// layout.ts - widget grid layout: the known widgets, a default, validation.
export const WIDGETS = ['cpu', 'memory', 'load', 'disk', 'services', 'containers', 'network', 'system', 'cost', 'chart', 'alerts', 'compliance'] as const;
export type WidgetId = (typeof WIDGETS)[number];
export interface Widget { id: string; x: number; y: number; w: number; h: number; hidden?: boolean }

export const COLS = 12;

export const DEFAULT_LAYOUT: Widget[] = [
  { id: 'cpu', x: 0, y: 0, w: 4, h: 3 },
  { id: 'memory', x: 4, y: 0, w: 4, h: 3 },
  { id: 'load', x: 8, y: 0, w: 4, h: 3 },
  { id: 'alerts', x: 0, y: 3, w: 12, h: 4 },
  { id: 'chart', x: 0, y: 7, w: 12, h: 6 },
  { id: 'services', x: 0, y: 13, w: 6, h: 6 },
  { id: 'containers', x: 6, y: 13, w: 6, h: 6 },
  { id: 'disk', x: 0, y: 19, w: 6, h: 4 },
  { id: 'network', x: 6, y: 19, w: 6, h: 4 },
  { id: 'system', x: 0, y: 23, w: 6, h: 4 },
  { id: 'cost', x: 6, y: 23, w: 6, h: 4 },
  { id: 'compliance', x: 0, y: 27, w: 12, h: 4 },
];

/** Keeps known widgets with sane numbers and adds any missing one from the default. */
export function mergeLayout(saved: unknown): Widget[] {
  const out: Widget[] = [];
  const seen = new Set<string>();
  if (Array.isArray(saved)) {
    for (const w of saved as any[]) {
      if (!w || typeof w.id !== 'string' || !(WIDGETS as readonly string[]).includes(w.id) || seen.has(w.id)) continue;
      const n = (v: any, lo: number, hi: number, d: number) => (Number.isInteger(v) && v >= lo && v <= hi ? v : d);
      const def = DEFAULT_LAYOUT.find((d) => d.id === w.id)!;
      out.push({ id: w.id, x: n(w.x, 0, COLS - 1, def.x), y: n(w.y, 0, 1000, def.y), w: n(w.w, 1, COLS, def.w), h: n(w.h, 1, 50, def.h), hidden: !!w.hidden });
      seen.add(w.id);
    }
  }
  for (const d of DEFAULT_LAYOUT) if (!seen.has(d.id)) out.push({ ...d, hidden: false });
  return out;
}
