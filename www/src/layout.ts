// layout.ts - widget grid layout: the known widgets, a default, validation.
export const WIDGETS = ['cpu', 'memory', 'load', 'disk', 'services', 'containers', 'network', 'system', 'cost', 'chart', 'alerts', 'compliance', 'ai', 'gpu'] as const;
export type WidgetId = (typeof WIDGETS)[number];
export interface Widget { id: string; x: number; y: number; w: number; h: number; hidden?: boolean }

export const COLS = 12;

/**
 * The grid's breakpoints (the grid's own width in px) and their columns. Each one
 * has its own saved layout; one with nothing saved is arranged from lg (arrange).
 * lg starts at 1100 px so a 1024 px window (a 992 px grid) is md: twelve columns of
 * ~80 px squeeze the widgets' values, six of ~160 px do not.
 */
export type Breakpoint = 'lg' | 'md' | 'sm';
export const BREAKPOINTS: [Breakpoint, number, number][] = [['lg', 1100, COLS], ['md', 560, 6], ['sm', 0, 1]];
export const BP_LABEL: Record<Breakpoint, string> = { lg: 'wide (12 columns)', md: 'medium (6 columns)', sm: 'narrow (1 column)' };
export function breakpointOf(width: number): Breakpoint {
  return (BREAKPOINTS.find(([, min]) => width >= min) ?? BREAKPOINTS[BREAKPOINTS.length - 1])[0];
}
export function colsOf(bp: Breakpoint): number {
  return BREAKPOINTS.find(([b]) => b === bp)![2];
}
/** The layouts saved per breakpoint (a missing one is arranged from lg). */
export type Layouts = Partial<Record<Breakpoint, Widget[]>>;

/**
 * The smallest box in which each widget's content fits at every width of its
 * breakpoint: w columns of lg's 12, md columns of md's 6, h rows (sm: 1 column). A
 * column is ~80 px at the narrow end of both lg (1100 px) and md (560 px), so md
 * needs about half lg's columns; cost's list of labelled sums needs 3 there (at 2 its
 * values were squeezed to 37 px at 560).
 */
export const MIN_SIZE: Record<string, { w: number; md: number; h: number }> = {
  cpu: { w: 3, md: 2, h: 3 }, memory: { w: 3, md: 2, h: 3 }, load: { w: 3, md: 2, h: 3 }, disk: { w: 3, md: 2, h: 3 },
  services: { w: 4, md: 2, h: 4 }, containers: { w: 4, md: 2, h: 4 }, network: { w: 3, md: 2, h: 3 }, system: { w: 3, md: 2, h: 6 },
  cost: { w: 3, md: 3, h: 4 }, chart: { w: 6, md: 3, h: 7 }, alerts: { w: 4, md: 2, h: 3 }, compliance: { w: 4, md: 2, h: 3 },
  ai: { w: 4, md: 2, h: 5 }, gpu: { w: 4, md: 2, h: 4 },
};

/** The smallest box on a grid of `cols` columns (12, 6 or 1; another count gets its share of lg's). */
export function minFor(id: string, cols: number = COLS): { w: number; h: number } {
  const m = MIN_SIZE[id] ?? { w: 1, md: 1, h: 1 };
  const w = cols === COLS ? m.w : cols === 6 ? m.md : Math.ceil((m.w * cols) / COLS);
  return { w: Math.min(cols, w), h: m.h };
}

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

/**
 * Keeps known widgets with sane numbers for a grid of `cols` columns and adds any
 * missing one: on lg where the default puts it, on a narrower grid below the rest.
 */
export function mergeLayout(saved: unknown, cols: number = COLS): Widget[] {
  const out: Widget[] = [];
  const seen = new Set<string>();
  if (Array.isArray(saved)) {
    for (const w of saved as any[]) {
      if (!w || typeof w.id !== 'string' || !(WIDGETS as readonly string[]).includes(w.id) || seen.has(w.id)) continue;
      const n = (v: any, lo: number, hi: number, d: number) => (Number.isInteger(v) && v >= lo && v <= hi ? v : d);
      const def = DEFAULT_LAYOUT.find((d) => d.id === w.id)!;
      // A box smaller than its content (a layout saved before the minimum sizes) grows to it.
      const min = minFor(w.id, cols);
      const ww = Math.max(min.w, n(w.w, 1, cols, Math.min(cols, def.w)));
      const x = Math.min(n(w.x, 0, cols - 1, Math.min(def.x, cols - 1)), cols - ww);
      out.push({ id: w.id, x, y: n(w.y, 0, 1000, def.y), w: ww, h: Math.max(min.h, n(w.h, 1, 50, def.h)), hidden: !!w.hidden });
      seen.add(w.id);
    }
  }
  let bottom = Math.max(0, ...out.filter((w) => !w.hidden).map((w) => w.y + w.h));
  const defaults = cols >= COLS ? DEFAULT_LAYOUT : arrange(DEFAULT_LAYOUT, cols);
  for (const d of defaults) {
    if (seen.has(d.id)) continue;
    if (cols >= COLS || out.length === 0) out.push({ ...d, hidden: false });
    else { out.push({ ...d, x: 0, y: bottom, hidden: false }); bottom += d.h; }
  }
  return out;
}

/**
 * The saved layouts in a GET /layout answer: breakpoints.{lg,md,sm}, or (from a hub
 * before breakpoints) a non-empty widgets list as lg.
 */
export function savedLayouts(d: any): Layouts {
  const b = d?.breakpoints;
  const src: any = b && typeof b === 'object' && !Array.isArray(b) ? b : Array.isArray(d?.widgets) && d.widgets.length ? { lg: d.widgets } : {};
  const out: Layouts = {};
  for (const [bp, , cols] of BREAKPOINTS) if (Array.isArray(src[bp])) out[bp] = mergeLayout(src[bp], cols);
  return out;
}

/** What a breakpoint draws: its own saved layout, else (md, sm) arranged from lg, else the default. */
export function layoutFor(saved: Layouts, bp: Breakpoint): Widget[] {
  const lg = saved.lg ?? mergeLayout(null);
  if (bp === 'lg') return lg;
  return saved[bp] ?? arrange(lg, colsOf(bp));
}

/**
 * Edits not yet saved, per breakpoint: a layout, or null to go back to the default
 * (forget the saved one). Each breakpoint's edits are its own, made on its own grid.
 */
export type Drafts = Partial<Record<Breakpoint, Widget[] | null>>;

/** The saved layouts with the drafts over them. */
export function withDrafts(saved: Layouts, drafts: Drafts): Layouts {
  const out: Layouts = { ...saved };
  for (const [bp] of BREAKPOINTS) {
    if (!(bp in drafts)) continue;
    const d = drafts[bp];
    if (d) out[bp] = d; else delete out[bp];
  }
  return out;
}

/**
 * The drafts after an edit on bp's grid turned what it draws into `next`; an edit
 * that ends where bp started (a click on a title, a move and back) leaves no draft.
 */
export function draftEdit(saved: Layouts, drafts: Drafts, bp: Breakpoint, next: Widget[]): Drafts {
  const rest: Drafts = { ...drafts };
  delete rest[bp];
  return JSON.stringify(next) === JSON.stringify(layoutFor(withDrafts(saved, rest), bp)) ? rest : { ...drafts, [bp]: next };
}

/** The breakpoints whose draft differs from what is saved. */
export function changedBreakpoints(saved: Layouts, drafts: Drafts): Breakpoint[] {
  return BREAKPOINTS.map(([bp]) => bp).filter((bp) => bp in drafts && JSON.stringify(drafts[bp] ?? null) !== JSON.stringify(saved[bp] ?? null));
}

/**
 * The PUT body for the changed breakpoints, each settled (no overlaps, inside its
 * columns, never under the minimum). A changed lg layout goes as `widgets`, which
 * a hub before breakpoints also takes. null when nothing changed.
 */
export function saveBody(saved: Layouts, drafts: Drafts): { widgets?: Widget[]; breakpoints?: Partial<Record<Breakpoint, Widget[] | null>> } | null {
  const bps = changedBreakpoints(saved, drafts);
  if (!bps.length) return null;
  const body: { widgets?: Widget[]; breakpoints?: Partial<Record<Breakpoint, Widget[] | null>> } = {};
  for (const bp of bps) {
    const d = drafts[bp];
    const v = d ? settle(d, colsOf(bp)) : null;
    if (bp === 'lg' && v) body.widgets = v;
    else (body.breakpoints ??= {})[bp] = v;
  }
  return body;
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
    const min = minFor(w.id, cols);
    const ww = Math.min(cols, Math.max(min.w, Math.round((w.w * cols) / COLS)));
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
 * The editor's keyboard moves on a grid of `cols` columns: one column left/right, one size
 * step, or up/down past the nearest widget sharing a column (the grid then packs
 * the rest up, so a move down swaps with the widget below).
 */
export function nudge(layout: Widget[], id: string, how: Nudge, cols: number = COLS): Widget[] {
  const me = layout.find((w) => w.id === id);
  if (!me) return layout;
  const min = minFor(id, cols);
  const shares = (o: Widget) => !o.hidden && o.id !== id && o.x < me.x + me.w && me.x < o.x + o.w;
  let n: Partial<Widget> = {};
  let other: [string, Partial<Widget>] | null = null;
  switch (how) {
    case 'left': n = { x: Math.max(0, me.x - 1) }; break;
    case 'right': n = { x: Math.min(cols - me.w, me.x + 1) }; break;
    case 'wider': n = { w: Math.min(cols - me.x, me.w + 1) }; break;
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

/**
 * Packs a layout as the grid draws it: in reading order each visible widget is kept
 * inside the columns and at least its minimum size, rises while the space above is
 * free and drops below whatever it would share a cell with. Hidden widgets stay put.
 */
export function settle(layout: Widget[], cols: number = COLS): Widget[] {
  const placed: Widget[] = [];
  for (const w0 of layout.filter((w) => !w.hidden).sort(byPlace)) {
    const min = minFor(w0.id, cols);
    const ww = Math.min(cols, Math.max(min.w, w0.w));
    const w: Widget = { ...w0, w: ww, x: Math.max(0, Math.min(w0.x, cols - ww)), h: Math.max(min.h, w0.h) };
    const hit = (y: number) => placed.find((o) => o.x < w.x + w.w && w.x < o.x + o.w && o.y < y + w.h && y < o.y + o.h);
    while (w.y > 0 && !hit(w.y - 1)) w.y--;
    for (let o = hit(w.y); o; o = hit(w.y)) w.y = o.y + o.h;
    placed.push(w);
  }
  return layout.map((w) => placed.find((p) => p.id === w.id) ?? w);
}
