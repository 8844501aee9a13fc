// Names, not ids (issue 28 audit): wherever the dashboard says which machine, it
// says the name the operator gave it. fetch is mocked at the network boundary.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { MachineAlerts } from './MachineDetail';

// uPlot (the machine page's chart) asks matchMedia when it loads; jsdom has none.
vi.hoisted(() => { (window as any).matchMedia ??= () => ({ matches: false, addEventListener() {}, removeEventListener() {}, addListener() {}, removeListener() {} }); });
import { MachineForm } from './Pages';
import { ComplianceDetail } from './compliance';
import ChecksPage from './Checks';
import { DiscoverPage } from './Discover';
import { fireEvent } from '@testing-library/react';
import type { Alert } from './api';

function mockHub(handler: (m: string, p: string) => [number, any] | undefined) {
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: any = {}) => {
    const path = String(url).replace(/^\/api\/v1/, '');
    const r = handler(init.method ?? 'GET', path) ?? [404, { detail: { code: 'NOT_FOUND', message: 'no such endpoint', field: null } }];
    return new Response(JSON.stringify(r[1]), { status: r[0], headers: { 'Content-Type': 'application/json' } });
  }));
}

const NAS = { server_id: 'nas-01', display_name: 'Family NAS', hostname: 'nas.lan', machine_type: 'server', connectivity: 'direct', expected_services: [] };
const SERVERS: [number, any] = [200, { servers: [NAS, { server_id: 'pi', display_name: 'Kitchen Pi', machine_type: 'server' }] }];
const at = new Date().toISOString();
const upd = (id: string, type: string): Alert => ({
  alert_id: id, server_id: 'nas-01', severity: type === 'security_updates' ? 'high' : 'low', type, subject: '', title: type, message: '',
  metric_value: 3, threshold_value: null, status: 'open', created_at: at, acknowledged_at: null, resolved_at: null, auto_resolved: false,
});

beforeEach(() => localStorage.setItem('hlc.apiKey', 'k'));
afterEach(() => { cleanup(); vi.unstubAllGlobals(); localStorage.clear(); });

describe('display names, not ids', () => {
  it('machine page: grouped updates say the machine\'s name', async () => {
    mockHub((m, p) => (p.startsWith('/alerts') ? [200, { alerts: [upd('u1', 'update_available'), upd('u2', 'security_updates')], total: 2 }] : undefined));
    render(<MachineAlerts id="nas-01" name="Family NAS" />);
    const row = await waitFor(() => { const r = document.querySelector('[data-updates-of="nas-01"]'); expect(r).not.toBeNull(); return r!; });
    expect(row.textContent).toContain('Updates on Family NAS');
    expect(row.textContent).not.toContain('nas-01');
  });
  it('edit page: the heading is the saved name, not what is being typed or the id', async () => {
    mockHub((m, p) => (p === '/servers/nas-01' ? [200, NAS] : undefined));
    render(<MachineForm id="nas-01" />);
    expect((await screen.findByRole('heading', { level: 1, name: 'Edit Family NAS' }))).toBeTruthy();
  });
  it('compliance detail: the back link and heading name the machine', async () => {
    mockHub((m, p) => (p === '/servers' ? SERVERS : p === '/servers/nas-01/compliance' ? [200, { latest: [] }] : undefined));
    render(<ComplianceDetail id="nas-01" pack="baseline" />);
    await screen.findByRole('heading', { level: 1, name: 'baseline on Family NAS' });
    expect(screen.getByRole('link', { name: '← Family NAS' }).getAttribute('href')).toBe('#/machine/nas-01');
  });
  it('checks page: places and the run-from choices are machine names', async () => {
    mockHub((m, p) => {
      if (p === '/servers') return SERVERS;
      if (p === '/checks') return [200, { checks: [{ id: 1, name: 'Plex', type: 'http', interval_seconds: 60, run_from: ['hub', 'pi'], url: 'http://nas/', latest: [
        { place: 'pi', ok: false, fails: 2, last_at: at, response_ms: null, status_code: null, cert_days: null, error: 'refused', since: at }] }] }];
      if (p === '/status-page') return [200, { enabled: false, public_on_lan: false, title: 'Home', services: [], has_token: false }];
      return undefined;
    });
    render(<ChecksPage />);
    await waitFor(() => expect(document.querySelector('[data-place="pi"]')?.textContent).toContain('from Kitchen Pi'));
    expect(await screen.findByLabelText('Kitchen Pi')).toBeTruthy();
    expect(await screen.findByLabelText('Family NAS')).toBeTruthy();
  });
  it('discover: import results name the machines', async () => {
    const dev = (id: string, host: string, imported: string | null) => ({ node_id: id, hostname: host, name: `${host}.ts.net`, os: 'linux', tailscale_ip: '100.64.0.9',
      addresses: [], tags: [], online: true, last_seen: at, key_expiry: null, imported_as: imported, suggested_server_id: 'tv', suggested_machine_type: 'server' });
    mockHub((m, p) => {
      if (p === '/servers') return SERVERS;
      if (p.startsWith('/tailscale/devices')) return [200, { source: 'api', fetched_at: at, devices: [dev('n1', 'Living room TV', null), dev('n2', 'nas', null)] }];
      if (m === 'POST' && p === '/tailscale/import') return [200, { results: [
        { node_id: 'n1', status: 'created', server_id: 'tv', message: null }, { node_id: 'n2', status: 'already_imported', server_id: 'nas-01', message: null }] }];
      return undefined;
    });
    render(<DiscoverPage />);
    fireEvent.click(await screen.findByLabelText('Select Living room TV'));
    fireEvent.click(screen.getByLabelText('Select nas'));
    fireEvent.click(screen.getByRole('button', { name: 'Import 2 devices' }));
    await waitFor(() => expect(document.querySelector('li[data-node-id=n1]')?.textContent).toBe('Created Living room TV'));
    await waitFor(() => expect(document.querySelector('li[data-node-id=n2]')?.textContent).toBe('Already imported as Family NAS'));
  });
});
