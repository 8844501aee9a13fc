import { describe, expect, it } from 'vitest';
import { ago, bytes, cardColour, hasWarning, level, moveId, normaliseThresholds, sortMachines, uptime, DEFAULT_THRESHOLDS } from './format';
import { parseError, isMissingFeature, ApiError } from './api';
import { arrange, mergeLayout, nudge, overlaps, DEFAULT_LAYOUT, MIN_SIZE, COLS } from './layout';

const th = DEFAULT_THRESHOLDS;
const on = (l: any, extra: any = {}) => ({ server_id: 'a', status: 'online', machine_type: 'server', latest: l, ...extra });

describe('status colour (PRD colour table)', () => {
  it('green when online and under every threshold', () => {
    expect(cardColour(on({ cpu_percent: 10, memory_percent: 20, disk_percent: 30 }), th)).toBe('green');
  });
  it('amber at a warning, red at a critical value', () => {
    expect(cardColour(on({ cpu_percent: 10, memory_percent: 20, disk_percent: 81 }), th)).toBe('amber');
    expect(cardColour(on({ cpu_percent: 99, memory_percent: 20, disk_percent: 30 }), th)).toBe('red');
  });
  it('offline server red, offline workstation grey, unknown grey', () => {
    expect(cardColour({ status: 'offline', machine_type: 'server' }, th)).toBe('red');
    expect(cardColour({ status: 'offline', machine_type: 'workstation' }, th)).toBe('grey');
    expect(cardColour({ status: 'unknown', machine_type: 'server' }, th)).toBe('grey');
  });
  it('host key changed is red', () => {
    expect(cardColour(on(null, { host_key_changed: true }), th)).toBe('red');
  });
  it('null cpu (first sample) does not warn', () => {
    expect(level(null, 80, 90)).toBe('none');
    expect(hasWarning(on({ cpu_percent: null, memory_percent: 10, disk_percent: 10 }), th)).toBe(false);
  });
});

describe('formatting', () => {
  it('uptime', () => {
    expect(uptime(42 * 86400 + 5)).toBe('↑ 42d');
    expect(uptime(7200)).toBe('↑ 2h');
    expect(uptime(59)).toBe('↑ 0m');
    expect(uptime(null)).toBe('');
  });
  it('ago', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(ago('2026-01-01T11:58:00Z', now)).toBe('2m ago');
    expect(ago('2025-12-30T12:00:00Z', now)).toBe('2d ago');
    expect(ago(null, now)).toBe('never');
  });
  it('bytes', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(1536)).toBe('1.5 KiB');
    expect(bytes(8 * 1024 ** 3)).toBe('8.0 GiB');
  });
});

describe('thresholds from the hub', () => {
  it('reads the config section field names', () => {
    const t = normaliseThresholds({ disk_warning_percent: 70, disk_critical_percent: 85, cpu_warning_percent: 50 });
    expect(t.disk_warning).toBe(70);
    expect(t.disk_critical).toBe(85);
    expect(t.cpu_warning).toBe(50);
    expect(t.memory_warning).toBe(th.memory_warning);
  });
});

describe('card order', () => {
  it('moves an id before the target', () => {
    expect(moveId(['a', 'b', 'c', 'd'], 'd', 'b')).toEqual(['a', 'd', 'b', 'c']);
    expect(moveId(['a', 'b', 'c'], 'a', 'c')).toEqual(['b', 'c', 'a']);
    expect(moveId(['a', 'b'], 'x', 'a')).toEqual(['a', 'b']);
  });
  it('sorts by sort_order with nulls last', () => {
    const s = sortMachines([{ server_id: 'z', sort_order: null }, { server_id: 'b', sort_order: 2 }, { server_id: 'a', sort_order: 5 }, { server_id: 'c', sort_order: null }]);
    expect(s.map((m) => m.server_id)).toEqual(['b', 'a', 'c', 'z']);
  });
});

describe('API errors', () => {
  it('reads the TRD error form with its field', () => {
    const e = parseError(422, { detail: { code: 'VALIDATION', message: 'hostname is not valid', field: 'hostname' } });
    expect(e.field).toBe('hostname');
    expect(e.message).toBe('hostname is not valid');
  });
  it('a missing route is a missing feature, a missing machine is not', () => {
    expect(isMissingFeature(new ApiError(404, 'NOT_FOUND', 'no such endpoint', null))).toBe(true);
    expect(isMissingFeature(new ApiError(404, 'NOT_FOUND', 'no machine with that id', null))).toBe(false);
    expect(isMissingFeature(new ApiError(500, 'X', 'no such endpoint', null))).toBe(false);
  });
});

describe('widget layout', () => {
  it('keeps known widgets, drops unknown and bad numbers, adds missing ones', () => {
    const l = mergeLayout([{ id: 'cpu', x: 3, y: 1, w: 2, h: 2, hidden: true }, { id: 'evil', x: 0, y: 0, w: 1, h: 1 }, { id: 'memory', x: -1, y: 0, w: 99, h: 2 }]);
    // cpu asked for 2x2, below its minimum 3x3: it grows to fit its content
    expect(l.find((w) => w.id === 'cpu')).toEqual({ id: 'cpu', x: 3, y: 1, w: 3, h: 3, hidden: true });
    expect(l.find((w) => w.id === 'evil')).toBeUndefined();
    const mem = l.find((w) => w.id === 'memory')!;
    expect(mem.x).toBe(4); expect(mem.w).toBe(4);
    expect(l.length).toBe(DEFAULT_LAYOUT.length);
  });
});

describe('layout per breakpoint', () => {
  it('repairs a layout saved at one column wide', () => {
    const broken = DEFAULT_LAYOUT.map((w, i) => ({ ...w, x: 0, y: i * 3, w: 1 }));
    for (const w of mergeLayout(broken)) expect(w.w).toBeGreaterThanOrEqual(MIN_SIZE[w.id].w);
  });
  it('arranges narrower grids without overlap, inside the columns, in reading order', () => {
    for (const cols of [6, 1]) {
      const l = arrange(mergeLayout(null), cols);
      expect(overlaps(l)).toBe(false);
      for (const w of l) { expect(w.x + w.w).toBeLessThanOrEqual(cols); expect(w.h).toBeGreaterThanOrEqual(MIN_SIZE[w.id].h); }
      if (cols === 1) expect(l.map((w) => w.id)).toEqual(mergeLayout(null).slice().sort((a, b) => a.y - b.y || a.x - b.x).map((w) => w.id));
    }
    expect(arrange(DEFAULT_LAYOUT, COLS)).toBe(DEFAULT_LAYOUT);
  });
  it('moves with the keyboard inside the grid and never under the minimum size', () => {
    let l = mergeLayout(null);
    l = nudge(l, 'cpu', 'left');
    expect(l.find((w) => w.id === 'cpu')!.x).toBe(0);
    for (let i = 0; i < 5; i++) l = nudge(l, 'cpu', 'narrower');
    expect(l.find((w) => w.id === 'cpu')!.w).toBe(MIN_SIZE.cpu.w);
    for (let i = 0; i < 20; i++) l = nudge(l, 'load', 'right');
    expect(l.find((w) => w.id === 'load')!.x + l.find((w) => w.id === 'load')!.w).toBe(COLS);
    const down = nudge(l, 'cpu', 'down');
    expect(down.find((w) => w.id === 'cpu')!.y).toBe(l.find((w) => w.id === 'alerts')!.y + 1);
    const up = nudge(l, 'alerts', 'up');
    expect(up.find((w) => w.id === 'alerts')!.y).toBe(0);
    expect(up.find((w) => w.id === 'cpu')!.y).toBe(1);
  });
});

import { fleetRows, sparkPath, statusWord, actionName } from './format';
describe('fleet table', () => {
  const ms = [
    { server_id: 'nas', display_name: 'Big NAS', status: 'online', machine_type: 'server', tags: ['storage'], latest: { cpu_percent: 10, memory_percent: 70 } },
    { server_id: 'pi', display_name: null, status: 'offline', machine_type: 'server', tags: [], latest: { cpu_percent: 50, memory_percent: 20 } },
    { server_id: 'desk', display_name: 'Desk', status: 'offline', machine_type: 'workstation', latest: null },
    { server_id: 'new', status: 'unknown', machine_type: 'server' },
  ];
  const q = { text: '', status: '' as const, type: '', tag: '', sort: 'name', desc: false };
  it('one status word: a sleeping workstation is asleep, not offline', () => {
    expect(ms.map(statusWord)).toEqual(['online', 'offline', 'asleep', 'unknown']);
  });
  it('searches names, filters, sorts by a column either way', () => {
    expect(fleetRows(ms, { ...q, text: 'big' }).map((m) => m.server_id)).toEqual(['nas']);
    expect(fleetRows(ms, { ...q, status: 'asleep' }).map((m) => m.server_id)).toEqual(['desk']);
    expect(fleetRows(ms, { ...q, type: 'server', tag: 'storage' }).map((m) => m.server_id)).toEqual(['nas']);
    expect(fleetRows(ms, { ...q, sort: 'cpu', desc: true }).map((m) => m.server_id)).toEqual(['pi', 'nas', 'desk', 'new']);
    expect(fleetRows(ms, { ...q, sort: 'ram' }).map((m) => m.server_id)).toEqual(['desk', 'new', 'pi', 'nas']);
    expect(fleetRows(ms, q).map((m) => m.server_id)).toEqual(['nas', 'desk', 'new', 'pi']);
  });
  it('draws a sparkline that breaks at gaps and stays in its box', () => {
    expect(sparkPath([0, 1, 3], [0, 100, 50], 4, 30, 10)).toBe('M0.0 10.0L10.0 0.0M30.0 5.0');
    expect(sparkPath([0, 1], [null, 150], 2, 10, 10)).toBe('M10.0 0.0');
    expect(actionName('apply_updates')).toBe('Apply updates');
  });
});
