// layout.test.ts - one saved layout per breakpoint (issue 28): reading the hub's
// answer (old and new form), what each width draws, what a save sends, packing.
import { describe, expect, it } from 'vitest';
import {
  arrange, breakpointOf, changedBreakpoints, colsOf, draftEdit, layoutFor, mergeLayout, minFor, nudge, overlaps, saveBody, savedLayouts, settle,
  withDrafts, BREAKPOINTS, DEFAULT_LAYOUT, MIN_SIZE, WIDGETS, type Widget,
} from './layout';
// The hub's validation of the same layouts (Vite's ?raw import: the file's text).
import hubSource from '../../server/src/api/api_layout.c?raw';

const inside = (l: Widget[], cols: number) => {
  for (const w of l) {
    expect(w.x + w.w, `${w.id} inside ${cols} columns`).toBeLessThanOrEqual(cols);
    expect(w.w, `${w.id} not narrower than its content`).toBeGreaterThanOrEqual(minFor(w.id, cols).w);
    expect(w.h, `${w.id} not shorter than its content`).toBeGreaterThanOrEqual(minFor(w.id, cols).h);
  }
};
const md = () => settle(mergeLayout([{ id: 'cpu', x: 0, y: 0, w: 3, h: 3 }, { id: 'memory', x: 3, y: 0, w: 3, h: 4 }], 6), 6);

describe('breakpoints', () => {
  it('a 1024 px window (992 px grid) is md, 1400 (1268) lg, 390 (358) sm', () => {
    expect([1268, 992, 358].map(breakpointOf)).toEqual(['lg', 'md', 'sm']);
    expect(BREAKPOINTS.map(([b]) => colsOf(b))).toEqual([12, 6, 1]);
  });
  it('minimum sizes per breakpoint match the hub', () => {
    expect(minFor('chart', 12)).toEqual({ w: 6, h: 7 });
    expect(minFor('chart', 6)).toEqual({ w: 3, h: 7 });
    expect(minFor('cpu', 6)).toEqual({ w: 2, h: 3 });
    expect(minFor('cost', 6)).toEqual({ w: 3, h: 4 });
    expect(minFor('system', 1)).toEqual({ w: 1, h: 6 });
    // The hub refuses a layout under these sizes: its table is this one.
    const c = hubSource;
    const ids = [...c.slice(c.indexOf('widget_ids[]'), c.indexOf('NULL};')).matchAll(/"([a-z]+)"/g)].map((m) => m[1]);
    const sizes = [...c.slice(c.indexOf('widget_min[] =')).split(';')[0].matchAll(/\{\{(\d+), (\d+), 1\}, (\d+)\}/g)].map((m) => ({ w: +m[1], md: +m[2], h: +m[3] }));
    expect(ids).toEqual([...WIDGETS]);
    expect(Object.fromEntries(ids.map((id, i) => [id, sizes[i]]))).toEqual(MIN_SIZE);
  });
});

describe('saved layouts per breakpoint', () => {
  it('reads a hub before breakpoints (widgets only) as lg', () => {
    const s = savedLayouts({ server_id: 'a', widgets: [{ id: 'cpu', x: 8, y: 0, w: 4, h: 3 }], saved: true });
    expect(Object.keys(s)).toEqual(['lg']);
    expect(s.lg!.find((w) => w.id === 'cpu')).toEqual({ id: 'cpu', x: 8, y: 0, w: 4, h: 3, hidden: false });
    expect(savedLayouts({ widgets: [], saved: false })).toEqual({});
    expect(savedLayouts(null)).toEqual({});
  });
  it('reads each breakpoint in its own columns and repairs it', () => {
    const s = savedLayouts({ widgets: [], breakpoints: { md: [{ id: 'cpu', x: 5, y: 0, w: 1, h: 1 }, { id: 'evil', x: 0, y: 0, w: 1, h: 1 }], xl: [] } });
    expect(Object.keys(s)).toEqual(['md']);
    expect(s.md!.find((w) => w.id === 'cpu')).toEqual({ id: 'cpu', x: 4, y: 0, w: 2, h: 3, hidden: false });
    expect(s.md!.length).toBe(DEFAULT_LAYOUT.length);
    inside(s.md!, 6);
    // the widgets it did not name are added below the saved ones, not on top of them
    expect(overlaps(s.md!)).toBe(false);
  });
  it('a breakpoint with nothing saved is arranged from lg; a saved one is its own', () => {
    const lg = mergeLayout([{ id: 'cpu', x: 8, y: 0, w: 4, h: 3 }]);
    expect(layoutFor({ lg }, 'md')).toEqual(arrange(lg, 6));
    expect(layoutFor({}, 'lg')).toEqual(mergeLayout(null));
    const own = md();
    expect(layoutFor({ lg, md: own }, 'md')).toBe(own);
    expect(layoutFor({ lg, md: own }, 'lg')).toBe(lg);
    for (const [bp, , cols] of BREAKPOINTS) { inside(layoutFor({}, bp), cols); expect(overlaps(layoutFor({}, bp))).toBe(false); }
  });
});

describe('saving an edit', () => {
  const lg = mergeLayout(null);
  it('an md edit sends md only; lg and sm stay as saved', () => {
    const stored = { lg, sm: layoutFor({ lg }, 'sm') };
    const moved = nudge(layoutFor(stored, 'md'), 'cpu', 'wider', 6);
    const drafts = { md: settle(moved, 6) };
    expect(changedBreakpoints(stored, drafts)).toEqual(['md']);
    const body = saveBody(stored, drafts)!;
    expect(Object.keys(body)).toEqual(['breakpoints']);
    expect(Object.keys(body.breakpoints!)).toEqual(['md']);
    expect(overlaps(body.breakpoints!.md!)).toBe(false);
    inside(body.breakpoints!.md!, 6);
    const after = withDrafts(stored, drafts);
    expect(after.lg).toBe(lg);
    expect(after.sm).toBe(stored.sm);
  });
  it('a changed lg goes as widgets (an older hub takes it); Reset forgets the breakpoint', () => {
    const drafts = { lg: nudge(lg, 'load', 'left') };
    const body = saveBody({}, drafts)!;
    expect(body.breakpoints).toBeUndefined();
    expect(overlaps(body.widgets!)).toBe(false); // load moved into memory's cell: packed below it
    expect(body.widgets!.find((w) => w.id === 'load')!.x).toBe(7);
    expect(saveBody({ lg, md: md() }, { md: null })).toEqual({ breakpoints: { md: null } });
    expect(saveBody({ lg }, { lg: null, md: null, sm: null })).toEqual({ breakpoints: { lg: null } });
    expect(withDrafts({ lg, md: md() }, { md: null })).toEqual({ lg });
  });
  it('an edit at one width is a draft of that width only; one that changes nothing is none', () => {
    const stored = { lg };
    let d = draftEdit(stored, {}, 'md', layoutFor(stored, 'md').map((w) => ({ ...w })));
    expect(d).toEqual({});
    const moved = settle(nudge(layoutFor(stored, 'md'), 'cpu', 'down', 6), 6);
    d = draftEdit(stored, d, 'md', moved);
    expect(Object.keys(d)).toEqual(['md']);
    d = draftEdit(stored, d, 'sm', settle(nudge(layoutFor(stored, 'sm'), 'cpu', 'down', 1), 1));
    expect(Object.keys(d).sort()).toEqual(['md', 'sm']);
    expect(withDrafts(stored, d).lg).toBe(lg);
    // moved back: md has no draft again
    expect(Object.keys(draftEdit(stored, d, 'md', layoutFor(stored, 'md')))).toEqual(['sm']);
  });
  it('no change, no save', () => {
    expect(saveBody({ lg }, {})).toBeNull();
    expect(saveBody({ lg }, { lg: lg.map((w) => ({ ...w })) })).toBeNull();
    expect(saveBody({}, { md: null })).toBeNull();
  });
});

describe('settle and keyboard moves per breakpoint', () => {
  it('packs any layout without overlap, inside the columns, never under the minimum', () => {
    const crowded = DEFAULT_LAYOUT.map((w) => ({ ...w, x: 5, y: 0, w: 1, h: 1 }));
    for (const cols of [12, 6, 1]) {
      const l = settle(crowded, cols);
      expect(overlaps(l)).toBe(false);
      inside(l, cols);
    }
    // hidden widgets stay where they are
    const h = settle([{ id: 'cpu', x: 0, y: 0, w: 4, h: 3 }, { id: 'load', x: 0, y: 0, w: 4, h: 3, hidden: true }]);
    expect(h[1]).toEqual({ id: 'load', x: 0, y: 0, w: 4, h: 3, hidden: true });
    // a gap above closes, as the grid draws it
    expect(settle([{ id: 'cpu', x: 0, y: 9, w: 4, h: 3 }])[0].y).toBe(0);
  });
  it('moves on md and sm stay inside their columns', () => {
    let l = layoutFor({}, 'md');
    for (let i = 0; i < 10; i++) l = settle(nudge(l, 'cpu', 'right', 6), 6);
    expect(l.find((w) => w.id === 'cpu')!.x + l.find((w) => w.id === 'cpu')!.w).toBe(6);
    for (let i = 0; i < 10; i++) l = settle(nudge(l, 'cpu', 'narrower', 6), 6);
    expect(l.find((w) => w.id === 'cpu')!.w).toBe(2);
    expect(overlaps(l)).toBe(false);
    let s = layoutFor({}, 'sm');
    const first = s.slice().sort((a, b) => a.y - b.y)[0].id;
    s = settle(nudge(s, first, 'down', 1), 1);
    expect(s.slice().sort((a, b) => a.y - b.y)[0].id).not.toBe(first);
    s = settle(nudge(s, 'system', 'wider', 1), 1);
    expect(s.find((w) => w.id === 'system')!.w).toBe(1);
    expect(overlaps(s)).toBe(false);
  });
});
