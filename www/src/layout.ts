// layout.ts - widget grid layout: the known widgets, a default, validation.
export const WIDGETS = ['cpu', 'memory', 'load', 'disk', 'services', 'containers', 'network', 'system', 'cost', 'chart', 'alerts', 'compliance', 'ai', 'gpu'] as const;
export type WidgetId = (typeof WIDGETS)[number];
export interface Widget { id: string; x: number; y: number; w: number; h: number; hidden?: boolean }

export const COLS = 12;

/**
 * The grid's breakpoints (the grid's own width in px) and their columns. The saved
 * layout is the wide one (lg); md and sm are arranged from it, so a layout is only
 * ever recorded from a grid that is lg wide, and a narrow window never overwrites it.
 */
export type Breakpoint = 'lg' | 'md' | 'sm';
export const BREAKPOINTS: [Breakpoint, number, number][] = [['lg', 900, COLS], ['md', 560, 6], ['sm', 0, 1]];
export function breakpointOf(width: number): Breakpoint {
  return (BREAKPOINTS.find(([, min]) => width >= min) ?? BREAKPOINTS[BREAKPOINTS.length - 1])[0];
}
export function colsOf(bp: Breakpoint): number {
  return BREAKPOINTS.find(([b]) => b === bp)![2];
}

/** The smallest box (lg columns, rows) in which each widget's content fits. */
export const MIN_SIZE: Record<string, { w: number; h: number }> = {
  cpu: { w: 3, h: 3 }, memory: { w: 3, h: 3 }, load: { w: 3, h: 3 }, disk: { w: 3, h: 3 }, services: { w: 4, h: 4 },
  containers: { w: 4, h: 4 }, network: { w: 3, h: 3 }, system: { w: 3, h: 6 }, cost: { w: 3, h: 4 }, chart: { w: 6, h: 7 },
  alerts: { w: 4, h: 3 }, compliance: { w: 4, h: 3 }, ai: { w: 4, h: 5 }, gpu: { w: 4, h: 4 },
};

export const DEFAULT_LAYOUT: Widget[] = [
  { id: 'cpu', x: 0, y: 0, w: 4, h: 3 },
  { id: 'memory', x: 4, y: 0, w: 4, h: 3 },
  { id: 'load', x: 8, y: 0, w: 4, h: 3 },
  { id: 'alerts', x: 0, y: 3, w: 12, h: 4 },
  { id: 'chart', x: 0, y: 7, w: 12, h: 9 },
  { id: 'services', x: 0, y: 16, w: 6, h: 6 },
  { id: 'containers', x: 6, y: 16, w: 6, h: 6 },
  { id: 'disk', x: 0, y: 22, w: 6, h: 4 },
  { id: 'network', x: 6, y: 22, w: 6, h: 4 },
  { id: 'system', x: 0, y: 26, w: 6, h: 6 },
  { id: 'cost', x: 6, y: 26, w: 6, h: 6 },
  { id: 'compliance', x: 0, y: 32, w: 12, h: 4 },
  { id: 'ai', x: 0, y: 36, w: 6, h: 7 },
  { id: 'gpu', x: 6, y: 36, w: 6, h: 7 },
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
      // A box smaller than its content (a layout saved before the minimum sizes) grows to it.
      const min = MIN_SIZE[w.id];
      const ww = Math.max(min.w, n(w.w, 1, COLS, def.w));
      const x = Math.min(n(w.x, 0, COLS - 1, def.x), COLS - ww);
      out.push({ id: w.id, x, y: n(w.y, 0, 1000, def.y), w: ww, h: Math.max(min.h, n(w.h, 1, 50, def.h)), hidden: !!w.hidden });
      seen.add(w.id);
    }
  }
  for (const d of DEFAULT_LAYOUT) if (!seen.has(d.id)) out.push({ ...d, hidden: false });
  return out;
}

/** Reading order: by row, then column. */
function byPlace(a: Widget, b: Widget): number { return a.y - b.y || a.x - b.x; }

/**
 * The layout for a narrower grid, arranged from the wide one: widgets keep their
 * reading order and their share of the width (never under their minimum), and are
 * packed row by row so no two share a cell.
 */
export function arrange(wide: Widget[], cols: number): Widget[] {
  if (cols >= COLS) return wide;
  const out: Widget[] = [];
  const top = new Array(cols).fill(0); // first free row of each column
  let x = 0;
  for (const w of wide.slice().sort(byPlace)) {
    const min = MIN_SIZE[w.id] ?? { w: 1, h: 1 };
    const ww = Math.min(cols, Math.max(Math.ceil((min.w * cols) / COLS), Math.round((w.w * cols) / COLS)));
    if (x + ww > cols) x = 0;
    const y = Math.max(...top.slice(x, x + ww));
    // a narrower box is taller: the same content wraps into more lines
    const h = Math.max(min.h, cols === 1 ? Math.ceil(w.h * 1.2) : w.h);
    out.push({ ...w, x, y, w: ww, h });
    for (let c = x; c < x + ww; c++) top[c] = y + h;
    x += ww;
    if (x >= cols) x = 0;
  }
  return out;
}

export type Nudge = 'left' | 'right' | 'up' | 'down' | 'wider' | 'narrower' | 'taller' | 'shorter';

/**
 * The editor's keyboard moves on the wide layout: one column left/right, one size
 * step, or up/down past the nearest widget sharing a column (the grid then packs
 * the rest up, so a move down swaps with the widget below).
 */
export function nudge(layout: Widget[], id: string, how: Nudge): Widget[] {
  const me = layout.find((w) => w.id === id);
  if (!me) return layout;
  const min = MIN_SIZE[id] ?? { w: 1, h: 1 };
  const shares = (o: Widget) => !o.hidden && o.id !== id && o.x < me.x + me.w && me.x < o.x + o.w;
  let n: Partial<Widget> = {};
  let other: [string, Partial<Widget>] | null = null;
  switch (how) {
    case 'left': n = { x: Math.max(0, me.x - 1) }; break;
    case 'right': n = { x: Math.min(COLS - me.w, me.x + 1) }; break;
    case 'wider': n = { w: Math.min(COLS - me.x, me.w + 1) }; break;
    case 'narrower': n = { w: Math.max(min.w, me.w - 1) }; break;
    case 'taller': n = { h: Math.min(50, me.h + 1) }; break;
    case 'shorter': n = { h: Math.max(min.h, me.h - 1) }; break;
    case 'down': {
      const below = layout.filter((o) => shares(o) && o.y >= me.y + me.h).sort(byPlace)[0];
      if (below) n = { y: below.y + 1 };
      break;
    }
    case 'up': {
      const above = layout.filter((o) => shares(o) && o.y + o.h <= me.y).sort((a, b) => b.y - a.y)[0];
      if (above) { n = { y: above.y }; other = [above.id, { y: above.y + 1 }]; }
      break;
    }
  }
  return layout.map((w) => (w.id === id ? { ...w, ...n } : other && w.id === other[0] ? { ...w, ...other[1] } : w));
}

/** True when two visible widgets share a cell. */
export function overlaps(layout: Widget[]): boolean {
  const v = layout.filter((w) => !w.hidden);
  return v.some((a, i) => v.slice(i + 1).some((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h));
}
