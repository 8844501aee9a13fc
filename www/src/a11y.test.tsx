// Things the dashboard already promised (issue 28) with no test behind them: the
// summary's "asleep", stale values "as of", the focus on a new page's <h1>, the theme
// toggle's name, and status dots that say their status in words.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import Dashboard from './Dashboard';
import FleetTable from './table';
import App from './App';
import ChecksPage from './Checks';
import { ComplianceWidget } from './compliance';
import { DiscoverPage } from './Discover';
import { clock } from './format';

vi.hoisted(() => { (window as any).matchMedia ??= () => ({ matches: false, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }); });

function mockHub(handler: (m: string, p: string) => [number, any] | undefined) {
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: any = {}) => {
    const path = String(url).replace(/^\/api\/v1/, '');
    const r = handler(init.method ?? 'GET', path) ?? [404, { detail: { code: 'NOT_FOUND', message: 'no such endpoint', field: null } }];
    return new Response(JSON.stringify(r[1]), { status: r[0], headers: { 'Content-Type': 'application/json' } });
  }));
}

const seen = new Date(Date.now() - 3 * 3600e3).toISOString();
const latest = { cpu_percent: 12, memory_percent: 40, disk_percent: 50, uptime_seconds: 9000 };
const FLEET = [
  { server_id: 'web', display_name: 'Web', machine_type: 'server', status: 'online', latest, last_seen: new Date().toISOString() },
  { server_id: 'nas', display_name: 'NAS', machine_type: 'server', status: 'offline', latest, last_seen: seen },
  { server_id: 'lap', display_name: 'Laptop', machine_type: 'workstation', status: 'offline', latest, last_seen: seen },
];
const TH = { cpu_warning: 90, cpu_critical: 98, memory_warning: 85, memory_critical: 95, disk_warning: 80, disk_critical: 90 };
const at = new Date().toISOString();

function fleetHub(m: string, p: string): [number, any] | undefined {
  if (p === '/servers') return [200, { servers: FLEET }];
  if (p === '/config/thresholds') return [200, {}];
  if (p.startsWith('/alerts')) return [200, { alerts: [], total: 0 }];
  if (p.startsWith('/actions')) return [200, { actions: [] }];
  if (p === '/checks') return [200, { checks: [] }];
  if (p === '/costs') return [200, { currency: 'GBP', electricity_rate_kwh: 0.24, fleet: { daily: 1, monthly: 30, yearly: 360, month_to_date: 5, watts: 100 }, servers: [] }];
  return undefined;
}

/** Every status dot in the page either says its status (role img + a name) or is hidden beside text that does. */
function dotsSayTheirStatus() {
  const dots = [...document.querySelectorAll('.dot')];
  const silent = dots.filter((d) => d.getAttribute('aria-hidden') !== 'true' && d.tagName !== 'A'
    && !(d.getAttribute('role') === 'img' && (d.getAttribute('aria-label') ?? '').trim()));
  return { n: dots.length, silent: silent.map((d) => d.outerHTML) };
}

beforeEach(() => localStorage.setItem('hlc.apiKey', 'k'));
afterEach(() => { cleanup(); vi.unstubAllGlobals(); localStorage.clear(); document.documentElement.removeAttribute('data-theme'); window.location.hash = ''; });

describe('summary and stale values', () => {
  it('counts an asleep workstation as asleep, not offline', async () => {
    mockHub(fleetHub);
    render(<Dashboard />);
    await waitFor(() => expect(screen.getByTestId('sum-online').textContent).toBe('1'));
    expect(screen.getByTestId('sum-offline').textContent).toBe('1');
    expect(screen.getByTestId('sum-asleep').textContent).toBe('1');
    expect(screen.getByTestId('sum-asleep').nextElementSibling!.textContent).toBe('asleep');
  });
  it('cards of an offline server and an asleep workstation give their values "as of" the time last seen', async () => {
    mockHub(fleetHub);
    render(<Dashboard />);
    const card = (id: string) => document.querySelector(`.card[data-server-id="${id}"]`);
    await waitFor(() => expect(card('lap')).not.toBeNull());
    expect(card('nas')!.querySelector('[data-testid=as-of]')!.textContent).toBe(`Offline · as of ${clock(seen)}`);
    expect(card('lap')!.querySelector('[data-testid=as-of]')!.textContent).toBe(`Asleep · as of ${clock(seen)}`);
    expect(card('web')!.querySelector('[data-testid=as-of]')).toBeNull();
    expect(clock(seen)).toMatch(/\d{1,2}:\d{2}/);
  });
  it('the fleet table marks stale rows "as of" too', () => {
    mockHub(() => [200, { points: 30, servers: {} }]);
    render(<FleetTable machines={FLEET} th={TH} />);
    const row = (id: string) => document.querySelector(`tr[data-server-id="${id}"]`)!.textContent;
    expect(row('nas')).toContain(`as of ${clock(seen)}`);
    expect(row('lap')).toContain(`asleep · as of ${clock(seen)}`);
    expect(row('web')).not.toContain('as of');
  });
});

describe('status dots', () => {
  it('say their status in words on the cards and in the table', async () => {
    mockHub(fleetHub);
    render(<Dashboard />);
    await waitFor(() => expect(document.querySelectorAll('.card')).toHaveLength(3));
    expect(screen.getAllByRole('img', { name: 'status: asleep' })).toHaveLength(1);
    expect(screen.getAllByRole('img', { name: 'status: offline' })).toHaveLength(1);
    expect(dotsSayTheirStatus()).toEqual({ n: 3, silent: [] });
    cleanup();
    render(<FleetTable machines={FLEET} th={TH} />);
    expect(screen.getByRole('img', { name: 'status: online' })).toBeTruthy();
    expect(dotsSayTheirStatus().silent).toEqual([]);
  });
  it('on the checks, compliance and discover pages', async () => {
    mockHub((m, p) => {
      if (p === '/servers') return [200, { servers: [] }];
      if (p === '/checks') return [200, { checks: [{ id: 1, name: 'Plex', type: 'http', interval_seconds: 60, run_from: ['hub'], url: 'http://nas/',
        latest: [{ place: 'hub', ok: true, fails: 0, last_at: at, response_ms: 3, status_code: 200, cert_days: null, error: null, since: at }] }] }];
      if (p.startsWith('/checks/1/results')) return [200, { places: [], history: [{ place: 'hub', ok: true, time: at }, { place: 'hub', ok: false, time: at, error: 'refused' }] }];
      if (p === '/status-page') return [200, { enabled: false, public_on_lan: false, title: 'Home', services: [], has_token: false }];
      if (p === '/packs') return [200, { packs: [{ name: 'base' }] }];
      if (p === '/servers/nas/compliance') return [200, { latest: [{ server_id: 'nas', pack: 'base', compliant: true, checked_at: at, counts: { pass: 1, fail: 0, error: 0 }, items: [] }] }];
      if (p.startsWith('/tailscale/devices')) return [200, { source: 'api', fetched_at: at, devices: [{ node_id: 'n1', hostname: 'tv', name: 'tv.ts.net', os: 'linux', tailscale_ip: '100.64.0.1', tags: [], online: true, last_seen: at, imported_as: null, suggested_server_id: 'tv', suggested_machine_type: 'server' }] }];
      return undefined;
    });
    render(<ChecksPage />);
    await screen.findByRole('img', { name: 'status: up' });
    fireEvent.click(screen.getByRole('button', { name: 'Uptime and history' }));
    await screen.findByRole('img', { name: 'status: down' });
    expect(dotsSayTheirStatus().silent).toEqual([]);
    cleanup();
    render(<ComplianceWidget id="nas" />);
    await waitFor(() => expect(document.querySelector('[data-pack=base]')?.getAttribute('data-verdict')).toBe('compliant'));
    expect(dotsSayTheirStatus()).toEqual({ n: 1, silent: [] });
    cleanup();
    render(<DiscoverPage />);
    await screen.findByRole('img', { name: 'status: online' });
    expect(dotsSayTheirStatus().silent).toEqual([]);
  });
});

describe('shell', () => {
  it('the theme toggle has a name and a tooltip that says what it does', async () => {
    mockHub(fleetHub);
    render(<App />);
    const b = screen.getByRole('button', { name: 'Toggle dark mode' });
    expect(b.getAttribute('title')).toBe('Switch to dark mode');
    expect(b.getAttribute('aria-pressed')).toBe('false');
    fireEvent.click(b);
    expect(b.getAttribute('title')).toBe('Switch to light mode');
    expect(b.getAttribute('aria-pressed')).toBe('true');
    expect(document.documentElement.dataset.theme).toBe('dark');
  });
  it('a navigation moves the keyboard focus to the new page\'s <h1>', async () => {
    mockHub(fleetHub);
    await import('./Pages'); // the lazy page's chunk, loaded before the clock of the focus starts
    render(<App />);
    await screen.findByRole('heading', { level: 1, name: 'Fleet' });
    expect(document.activeElement).toBe(document.body); // the first load leaves the focus alone
    act(() => { window.location.hash = '#/costs'; window.dispatchEvent(new HashChangeEvent('hashchange')); });
    const h = await screen.findByRole('heading', { level: 1, name: 'Costs' }, { timeout: 3000 });
    await waitFor(() => expect(document.activeElement).toBe(h));
  });
});
