// Service checks in the dashboard: state per place, the form's request, the
// widget and card dots, with fetch mocked at the network boundary.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { checkBody, checkState, checkTarget, dotsByMachine, EMPTY_FORM, type Check } from './checks';
import ChecksPage from './Checks';
import Dashboard from './Dashboard';
import { AlertRow } from './alerts';

const at = new Date().toISOString();
const check = (over: Partial<Check> = {}): Check => ({
  id: 1, name: 'Plex', type: 'http', interval_seconds: 60, run_from: ['hub', 'pi'], url: 'http://nas.lan:32400/',
  latest: [
    { place: 'hub', ok: true, fails: 0, last_at: at, response_ms: 12.3, status_code: 200, cert_days: null, error: null, since: at },
    { place: 'pi', ok: false, fails: 3, last_at: at, response_ms: null, status_code: null, cert_days: null, error: 'could not connect', since: at },
  ], ...over,
});

let calls: { method: string; path: string; body: any }[] = [];
function mockHub(handler: (m: string, p: string, b: any) => [number, any] | undefined) {
  calls = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: any = {}) => {
    const method = init.method ?? 'GET';
    const path = String(url).replace(/^\/api\/v1/, '');
    const body = init.body ? JSON.parse(init.body) : undefined;
    calls.push({ method, path, body });
    const r = handler(method, path, body) ?? [404, { detail: { code: 'NOT_FOUND', message: 'no such endpoint', field: null } }];
    return new Response(JSON.stringify(r[1]), { status: r[0], headers: { 'Content-Type': 'application/json' } });
  }));
}

afterEach(() => { cleanup(); vi.unstubAllGlobals(); localStorage.clear(); });

describe('check helpers', () => {
  it('says where a check works and where it fails', () => {
    expect(checkState(check())).toBe('degraded');
    expect(checkState(check({ latest: [] }))).toBe('pending');
    expect(checkState(check({ run_from: ['hub'] }))).toBe('up');
    const down = check();
    down.latest[0].ok = false;
    expect(checkState(down)).toBe('down');
  });
  it('describes targets and builds only the chosen type\'s fields', () => {
    expect(checkTarget(check({ type: 'dns', query: 'nas.lan', resolver: '192.168.1.2', resolver_port: 5353, expect: '10.0.0.5' })))
      .toBe('nas.lan via 192.168.1.2:5353 = 10.0.0.5');
    expect(checkTarget(check({ type: 'tcp', host: 'nas', port: 445 }))).toBe('nas:445');
    expect(checkBody({ ...EMPTY_FORM, name: ' Pi-hole ', type: 'dns', url: 'ignored', query: 'nas.lan', resolver: '192.168.1.2', interval: '30' }))
      .toEqual({ name: 'Pi-hole', type: 'dns', interval_seconds: 30, run_from: ['hub'], query: 'nas.lan', resolver: '192.168.1.2' });
    expect(checkBody({ ...EMPTY_FORM, name: 'smb', type: 'tcp', host: 'nas', port: '445' }))
      .toEqual({ name: 'smb', type: 'tcp', interval_seconds: 60, run_from: ['hub'], host: 'nas', port: 445 });
  });
  it('puts a dot on the machine a check is tied to or runs from', () => {
    expect(dotsByMachine([check()])).toEqual({ pi: [{ id: 1, name: 'Plex', ok: false, place: 'pi' }] });
    expect(Object.keys(dotsByMachine([check({ server_id: 'nas' })]))).toEqual(['nas']);
  });
});

describe('checks page', () => {
  it('shows each place and sends the form to the hub with its field errors', async () => {
    localStorage.setItem('hlc.apiKey', 'k');
    mockHub((m, p, b) => {
      if (m === 'GET' && p === '/checks') return [200, { checks: [check()] }];
      if (m === 'GET' && p === '/servers') return [200, { servers: [{ server_id: 'pi', machine_type: 'server' }] }];
      if (m === 'GET' && p === '/status-page') return [200, { enabled: false, public_on_lan: false, title: 'Home', services: [], has_token: false }];
      if (m === 'POST' && p === '/checks') return b.url?.startsWith('ftp') ? [422, { detail: { code: 'VALIDATION_ERROR', message: 'url must be http(s)', field: 'url' } }] : [201, { id: 2 }];
      if (m === 'POST' && p === '/checks/1/run') return [200, { check_id: 1, results: [] }];
      return undefined;
    });
    render(<ChecksPage />);
    await screen.findByText('Plex', { selector: 'b' });
    const pi = document.querySelector('[data-place="pi"]')!;
    expect(pi.getAttribute('data-ok')).toBe('false');
    expect(pi.textContent).toContain('could not connect (3 in a row)');
    expect(document.querySelector('[data-check-id="1"]')!.getAttribute('data-state')).toBe('degraded');
    fireEvent.click(screen.getByText('Run now'));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/checks/1/run')).toBe(true));
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'Films' } });
    fireEvent.change(screen.getByLabelText('URL'), { target: { value: 'ftp://nas/' } });
    fireEvent.click(await screen.findByLabelText('pi'));
    fireEvent.click(screen.getByText('Add check'));
    expect((await screen.findByRole('alert')).textContent).toBe('url: url must be http(s)');
    expect(screen.getByLabelText('URL').getAttribute('aria-invalid')).toBe('true');
    const post = calls.find((c) => c.method === 'POST' && c.path === '/checks')!;
    expect(post.body).toEqual({ name: 'Films', type: 'http', interval_seconds: 60, run_from: ['hub', 'pi'], url: 'ftp://nas/' });
  });
});

describe('dashboard', () => {
  it('shows the checks widget and a dot on the card of the machine a check fails from', async () => {
    localStorage.setItem('hlc.apiKey', 'k');
    mockHub((m, p) => {
      if (p === '/checks') return [200, { checks: [check()] }];
      if (p === '/servers') return [200, { servers: [{ server_id: 'pi', display_name: 'Pi', machine_type: 'server', status: 'online', latest: null }] }];
      if (p === '/config/thresholds') return [200, {}];
      if (p.startsWith('/alerts')) return [200, { alerts: [], total: 0 }];
      if (p.startsWith('/actions')) return [200, { actions: [] }];
      return undefined;
    });
    render(<Dashboard />);
    const w = await screen.findByTestId('checks-widget');
    await waitFor(() => expect(w.textContent).toContain('0 of 1 up'));
    expect(w.textContent).toContain('Pi: could not connect'); // the machine's name, not its id
    await waitFor(() => expect(screen.getByLabelText('Plex from Pi: down')).toBeTruthy());
  });
});

describe('alerts of hub checks', () => {
  it('names the hub, not a machine, for an alert with no server_id', () => {
    render(<ul><AlertRow onChanged={() => {}} a={{
      alert_id: 'a9', server_id: null, severity: 'high', type: 'check_failed', subject: 'check:1@hub', title: 'Check Plex failing from the hub',
      message: 'HTTP 503', metric_value: 2, threshold_value: 2, status: 'open', created_at: at, acknowledged_at: null, resolved_at: null, auto_resolved: false,
    }} /></ul>);
    expect(screen.getByText('service check from the hub').getAttribute('href')).toBe('#/checks');
    expect(document.querySelector('a[href^="#/machine/"]')).toBeNull();
    expect(screen.getByLabelText('Acknowledge Check Plex failing from the hub on the hub')).toBeTruthy();
  });
});
