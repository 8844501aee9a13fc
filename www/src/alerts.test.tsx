// Alerts, costs and notifications against the TEAM.md contract, with fetch mocked
// at the network boundary (the request the hub would receive is asserted).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { alertsPath, type Alert, type Costs } from './api';
import { alertFigures, alertVerbs, AlertRow } from './alerts';
import { AlertsPage, CostsPage, SettingsPage, notificationsBody } from './Pages';
import { AlertCount } from './App';
import Dashboard from './Dashboard';

type Handler = (method: string, path: string, body: any) => [number, any] | undefined;
let calls: { method: string; path: string; body: any; key: string | null }[] = [];

function mockHub(handler: Handler) {
  calls = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: any = {}) => {
    const method = init.method ?? 'GET';
    const path = String(url).replace(/^\/api\/v1/, '');
    const body = init.body ? JSON.parse(init.body) : undefined;
    calls.push({ method, path, body, key: init.headers?.['X-API-Key'] ?? null });
    const r = handler(method, path, body) ?? [404, { detail: { code: 'NOT_FOUND', message: 'no such endpoint', field: null } }];
    return new Response(JSON.stringify(r[1]), { status: r[0], headers: { 'Content-Type': 'application/json' } });
  }));
}

const alert = (over: Partial<Alert> = {}): Alert => ({
  alert_id: 'a1', server_id: 'nas', severity: 'high', type: 'disk_warning', subject: '/', title: 'Disk / at 91%',
  message: 'Disk usage on / is 91%', metric_value: 91.2, threshold_value: 80, status: 'open',
  created_at: new Date(Date.now() - 120000).toISOString(), acknowledged_at: null, resolved_at: null, auto_resolved: false,
  auto_remediation: { available: false, action_id: null, status: null }, ...over,
});

const costs: Costs = {
  currency: 'GBP', electricity_rate_kwh: 0.24,
  fleet: { daily: 0.96, monthly: 28.8, yearly: 345.6, month_to_date: 21.12, watts: 165 },
  servers: [
    { server_id: 'nas', hostname: 'nas.lan', display_name: 'NAS', machine_type: 'server', tdp_watts: 65, hours_per_day: 24, daily: 0.37, monthly: 11.23, yearly: 134.78, month_to_date: 8.24 },
    { server_id: 'pi', hostname: 'pi.lan', display_name: null, machine_type: 'workstation', tdp_watts: null, hours_per_day: 5.5, basis: 'measured up-time (last 30 days)', daily: 0, monthly: 0, yearly: 0, month_to_date: 0 },
  ],
};

beforeEach(() => localStorage.setItem('hlc.apiKey', 'k1'));
afterEach(() => { cleanup(); vi.unstubAllGlobals(); localStorage.clear(); });

describe('alert helpers', () => {
  it('builds the GET /alerts query, leaving empty filters out', () => {
    expect(alertsPath({})).toBe('/alerts');
    expect(alertsPath({ status: 'active', severity: '', server_id: '' })).toBe('/alerts?status=active');
    expect(alertsPath({ status: 'resolved', severity: 'critical', server_id: 'my nas', limit: 50, offset: 100 }))
      .toBe('/alerts?status=resolved&severity=critical&server_id=my+nas&limit=50&offset=100');
  });
  it('offers acknowledge only while open and resolve until resolved', () => {
    expect(alertVerbs('open')).toEqual(['acknowledge', 'resolve']);
    expect(alertVerbs('acknowledged')).toEqual(['resolve']);
    expect(alertVerbs('resolved')).toEqual([]);
  });
  it('formats metric and threshold', () => {
    expect(alertFigures(alert())).toBe('91.2% (threshold 80%)');
    expect(alertFigures(alert({ type: 'update_available', metric_value: 12, threshold_value: null }))).toBe('12');
    expect(alertFigures(alert({ type: 'server_offline', metric_value: null, threshold_value: null }))).toBe('');
  });
});

describe('AlertRow', () => {
  it('acknowledges through the API with the key and hands back the updated alert', async () => {
    mockHub((m, p) => (m === 'POST' && p === '/alerts/a1/acknowledge' ? [200, alert({ status: 'acknowledged' })] : undefined));
    const changed = vi.fn();
    render(<ul><AlertRow a={alert()} onChanged={changed} /></ul>);
    fireEvent.click(screen.getByRole('button', { name: /^Acknowledge/ }));
    await waitFor(() => expect(changed).toHaveBeenCalled());
    expect(calls).toEqual([{ method: 'POST', path: '/alerts/a1/acknowledge', body: undefined, key: 'k1' }]);
    expect(changed.mock.calls[0][0].status).toBe('acknowledged');
  });
  it('says so when the hub answers 409 (already resolved)', async () => {
    mockHub(() => [409, { detail: { code: 'ALERT_RESOLVED', message: 'alert is resolved', field: null } }]);
    const changed = vi.fn();
    render(<ul><AlertRow a={alert()} onChanged={changed} /></ul>);
    fireEvent.click(screen.getByRole('button', { name: /^Resolve/ }));
    expect((await screen.findByRole('alert')).textContent).toContain('Already resolved');
    expect(changed).toHaveBeenCalledWith(null);
  });
  it('shows no buttons on a resolved alert, and when it cleared by itself', () => {
    render(<ul><AlertRow a={alert({ status: 'resolved', resolved_at: new Date().toISOString(), auto_resolved: true })} onChanged={() => {}} /></ul>);
    expect(screen.queryAllByRole('button')).toHaveLength(0);
    expect(document.body.textContent).toContain('cleared by itself');
  });
});

describe('AlertsPage', () => {
  it('asks for active alerts first, then history filtered by status, severity and machine', async () => {
    mockHub((m, p) => {
      if (p.startsWith('/alerts')) return [200, { alerts: [alert()], total: 1 }];
      if (p === '/servers') return [200, { servers: [{ server_id: 'nas', display_name: 'NAS' }] }];
      return undefined;
    });
    render(<AlertsPage />);
    await screen.findByText('Disk / at 91%');
    expect(calls.some((c) => c.path === '/alerts?status=active&limit=50')).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'History' }));
    await waitFor(() => expect(calls.some((c) => c.path === '/alerts?limit=50')).toBe(true));
    fireEvent.change(screen.getByLabelText('Status'), { target: { value: 'resolved' } });
    fireEvent.change(screen.getByLabelText('Severity'), { target: { value: 'critical' } });
    await screen.findByRole('option', { name: 'NAS' });
    fireEvent.change(screen.getByLabelText('Machine'), { target: { value: 'nas' } });
    await waitFor(() => expect(calls.some((c) => c.path === '/alerts?status=resolved&severity=critical&server_id=nas&limit=50')).toBe(true));
    expect(screen.getByTestId('alert-total').textContent).toBe('1–1 of 1');
  });
  it('pages through a long history', async () => {
    mockHub((m, p) => {
      if (p.startsWith('/alerts')) {
        const off = Number(new URLSearchParams(p.split('?')[1]).get('offset') ?? 0);
        return [200, { alerts: Array.from({ length: off ? 10 : 50 }, (_, i) => alert({ alert_id: `x${off + i}`, title: `alert ${off + i}` })), total: 60 }];
      }
      return [200, { servers: [] }];
    });
    render(<AlertsPage />);
    await screen.findByText('alert 0');
    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    await screen.findByText('alert 59');
    expect(screen.getByTestId('alert-total').textContent).toBe('51–60 of 60');
    expect((screen.getByRole('button', { name: 'Older' }) as HTMLButtonElement).disabled).toBe(true);
  });
});

describe('header alert count', () => {
  it('shows the number of open alerts and nothing when there are none', async () => {
    mockHub(() => [200, { alerts: [alert()], total: 3 }]);
    render(<AlertCount />);
    expect((await screen.findByTestId('alert-count')).getAttribute('aria-label')).toBe('3 open alerts');
    expect(calls[0].path).toBe('/alerts?status=open&limit=1');
    cleanup();
    mockHub(() => [200, { alerts: [], total: 0 }]);
    const { container } = render(<AlertCount />);
    await waitFor(() => expect(calls.length).toBe(1));
    expect(container.textContent).toBe('');
  });
});

describe('dashboard', () => {
  it('shows the fleet cost per day and recent alerts with acknowledge', async () => {
    mockHub((m, p) => {
      if (p === '/servers') return [200, { servers: [] }];
      if (p === '/costs') return [200, costs];
      if (p.startsWith('/alerts')) return [200, { alerts: [alert()], total: 1 }];
      if (p.startsWith('/actions')) return [200, { actions: [] }];
      if (p === '/config/thresholds') return [200, {}];
      if (m === 'POST') return [200, alert({ status: 'acknowledged' })];
      return undefined;
    });
    render(<Dashboard />);
    await waitFor(() => expect(screen.getByTestId('sum-cost').textContent).toBe('£0.96'));
    const region = screen.getByRole('region', { name: 'Recent alerts' });
    await waitFor(() => expect(region.textContent).toContain('Disk / at 91%'));
    expect(region.querySelectorAll('button')).toHaveLength(1); // acknowledge only
    fireEvent.click(screen.getByRole('button', { name: /^Acknowledge Disk/ }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/alerts/a1/acknowledge')).toBe(true));
  });
});

describe('costs page', () => {
  it('shows fleet and machines; the rate and each power read-only, with where to change them', async () => {
    mockHub((m, p) => (m === 'GET' && p === '/costs' ? [200, costs] : undefined));
    render(<CostsPage />);
    expect((await screen.findByTestId('fleet-daily')).textContent).toBe('£0.96');
    expect(document.querySelector('tr[data-server-id=nas]')!.textContent).toContain('£134.78');
    expect(document.querySelector('tr[data-server-id=pi]')!.textContent).toContain('5.5 measured');
    expect(document.querySelector('tr[data-server-id=nas]')!.textContent).not.toContain('measured');
    // The rate is edited in one place, Settings; the power on the machine's form.
    expect(document.querySelectorAll('input, select, button[type=submit]')).toHaveLength(0);
    expect(screen.getByTestId('costs-rate').textContent).toContain('0.24 GBP per kWh');
    expect(screen.getByRole('link', { name: 'change it in Settings' }).getAttribute('href')).toBe('#/settings');
    expect(document.querySelector('tr[data-server-id=nas] [data-testid=tdp]')!.textContent).toContain('65');
    expect(screen.getByRole('link', { name: 'Change the power of NAS' }).getAttribute('href')).toBe('#/edit/nas');
  });
});

describe('electricity settings', () => {
  it('saves the rate and currency as the config\'s costs section; a refused rate is said beside its field', async () => {
    let put: any = null;
    mockHub((m, p, b) => {
      if (m === 'GET' && p === '/config') return [200, { thresholds: {}, remediation: {}, notifications: {}, costs: { electricity_rate_kwh: 0.24, currency: 'GBP' } }];
      if (m === 'PUT' && p === '/config') {
        if (b.costs?.electricity_rate_kwh > 100) return [422, { detail: { code: 'VALIDATION_ERROR', message: 'must be between 0 and 100', field: 'costs.electricity_rate_kwh' } }];
        put = b; return [200, b];
      }
      return undefined;
    });
    render(<SettingsPage />);
    const form = await screen.findByRole('form', { name: 'Electricity' });
    fireEvent.change(screen.getByLabelText('Rate per kWh'), { target: { value: '0.3' } });
    fireEvent.change(screen.getByLabelText('Currency'), { target: { value: 'EUR' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save electricity' }));
    await waitFor(() => expect(form.textContent).toContain('Saved.'));
    expect(put).toEqual({ costs: { electricity_rate_kwh: 0.3, currency: 'EUR' } });
    fireEvent.change(screen.getByLabelText('Rate per kWh'), { target: { value: '500' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save electricity' }));
    expect((await screen.findByRole('alert')).textContent).toBe('must be between 0 and 100');
    expect(document.querySelector('#err-electricity_rate_kwh')).not.toBeNull();
  });
});

describe('notification settings', () => {
  it('says when the Slack URL comes from the hub\'s environment and offers no clear for it', async () => {
    mockHub((m, p) => (m === 'GET' && p === '/config' ? [200, { thresholds: {}, costs: {}, remediation: {},
      notifications: { notify_on_critical: true, slack_webhook_url: 'https://hooks.slack.com/…', slack_webhook_source: 'env', webhook_url: null, ntfy_url: null } }] : undefined));
    render(<SettingsPage />);
    await screen.findByLabelText('Slack webhook URL');
    expect(document.querySelector('[data-channel=slack_webhook_url]')!.textContent).toContain('SLACK_WEBHOOK_URL');
    expect(screen.queryByRole('button', { name: 'Clear Slack webhook URL' })).toBeNull();
  });
  const cfg = {
    thresholds: {}, costs: {}, remediation: {},
    notifications: { notify_on_critical: true, notify_on_high: true, notify_on_medium: false, notify_on_low: false, notify_on_remediation: true,
      slack_webhook_url: 'https://hooks.slack.com/…', webhook_url: null, ntfy_url: null },
  };
  it('never sends a masked URL back; "" clears one', () => {
    expect(notificationsBody(cfg.notifications, {})).toEqual({ notify_on_critical: true, notify_on_high: true, notify_on_medium: false, notify_on_low: false, notify_on_remediation: true });
    expect(notificationsBody(cfg.notifications, { slack_webhook_url: null, ntfy_url: ' http://127.0.0.1:9/t ', webhook_url: '' }))
      .toMatchObject({ slack_webhook_url: '', ntfy_url: 'http://127.0.0.1:9/t' });
    expect('webhook_url' in notificationsBody(cfg.notifications, { webhook_url: '' })).toBe(false);
  });
  it('saves a URL and a severity switch, and shows each channel of the test', async () => {
    let put: any = null;
    let test: [number, any] = [200, { results: [
      { channel: 'slack', ok: true, status: 200, error: null },
      { channel: 'ntfy', ok: false, status: null, error: 'connection refused' }] }];
    mockHub((m, p, b) => {
      if (m === 'GET' && p === '/config') return [200, cfg];
      if (m === 'PUT' && p === '/config') { put = b; return [200, { notifications: { ...cfg.notifications, ...b.notifications, ntfy_url: 'http://127.0.0.1/…' } }]; }
      if (m === 'POST' && p === '/notifications/test') return test;
      return undefined;
    });
    render(<SettingsPage />);
    const ntfy = await screen.findByLabelText('ntfy topic URL');
    expect(document.querySelector('[data-channel=slack_webhook_url]')!.textContent).toContain('saved: https://hooks.slack.com/…');
    expect(document.querySelector('[data-channel=slack_webhook_url]')!.textContent).not.toContain('SLACK_WEBHOOK_URL');
    expect(screen.getByRole('button', { name: 'Clear Slack webhook URL' })).toBeTruthy();
    fireEvent.change(ntfy, { target: { value: 'http://127.0.0.1:9/topic' } });
    fireEvent.click(screen.getByLabelText('Medium'));
    fireEvent.click(screen.getByRole('button', { name: 'Save notifications' }));
    await waitFor(() => expect(put).not.toBeNull());
    expect(put.notifications).toEqual({ notify_on_critical: true, notify_on_high: true, notify_on_medium: true, notify_on_low: false,
      notify_on_remediation: true, ntfy_url: 'http://127.0.0.1:9/topic' });
    await waitFor(() => expect(document.querySelector('[data-channel=ntfy_url]')!.textContent).toContain('saved: http://127.0.0.1/…'));
    fireEvent.click(screen.getByRole('button', { name: 'Send test' }));
    expect((await screen.findByTestId('test-note')).textContent).toBe('1 of 2 channels delivered.');
    const items = screen.getByRole('list', { name: 'Test results' }).querySelectorAll('li');
    expect(items[0].textContent).toContain('slack · HTTP 200');
    expect(items[1].getAttribute('data-ok')).toBe('false');
    expect(items[1].textContent).toContain('connection refused');
    test = [409, { detail: { code: 'NO_CHANNEL', message: 'no notification channel is configured', field: null } }];
    fireEvent.click(screen.getByRole('button', { name: 'Send test' }));
    await waitFor(() => expect(screen.getByTestId('test-note').textContent).toBe('No channel is configured: save a URL first.'));
  });
});

describe('push agent settings', () => {
  it('creates an enrollment token, shows it with the one-liner, and switches admin-key heartbeats off', async () => {
    let put: any = null;
    mockHub((m, p, b) => {
      if (m === 'GET' && p === '/config') return [200, { thresholds: {}, costs: {}, remediation: {}, notifications: {},
        agent: { heartbeat_interval_seconds: 60, command_timeout_seconds: 300, allow_admin_key_heartbeats: true } }];
      if (m === 'POST' && p === '/agents/enrollment-tokens') return [201, { id: 'e1', token: 'hlce_abc', expires_at: '2026-12-07T08:00:00Z', status: 'active' }];
      if (m === 'PUT' && p === '/config') { put = b; return [200, b]; }
      return undefined;
    });
    render(<SettingsPage />);
    const line = await screen.findByTestId('agent-oneliner');
    expect(line.textContent).toContain('/agent/install.sh | sudo sh -s -- --hub ');
    expect(line.textContent).not.toContain('--key');
    fireEvent.click(screen.getByRole('button', { name: 'Create enrollment token' }));
    expect((await screen.findByTestId('enrollment-token')).textContent).toBe('hlce_abc');
    expect(calls.find((c) => c.method === 'POST')!.body).toEqual({});
    fireEvent.click(screen.getByLabelText(/Take heartbeats signed with the admin key/));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(put).not.toBeNull());
    expect(put.agent.allow_admin_key_heartbeats).toBe(false);
  });
});

describe('alert rules', () => {
  it('groups a machine\'s two update alerts into one row, leaves single ones alone', async () => {
    const { groupUpdates } = await import('./alerts');
    const mk = (id: string, sid: string, type: string) => alert({ alert_id: id, server_id: sid, type, title: type });
    const items = groupUpdates([mk('1', 'a', 'update_available'), mk('2', 'b', 'disk_warning'), mk('3', 'a', 'security_updates'),
      mk('4', 'c', 'update_available')]);
    expect(items.map((i) => (i.kind === 'one' ? i.a.alert_id : `g:${i.alerts.map((a) => a.alert_id).join('+')}`)))
      .toEqual(['g:1+3', '2', '4']);
  });

  it('builds snooze bodies and threshold patches as the hub expects', async () => {
    const { muteBody } = await import('./snooze');
    const { overridePatch, overrideProblem, effectiveAfter } = await import('./alertrules');
    expect(muteBody({ server_id: 'nas', type: 'disk_warning', title: 'Disk usage high' }, 60))
      .toEqual({ server_id: 'nas', alert_type: 'disk_warning', duration_minutes: 60, reason: 'snoozed from the dashboard: Disk usage high' });
    expect(muteBody({ server_id: 'nas', type: 'disk_warning', title: 't' }, null)).not.toHaveProperty('duration_minutes');
    // a typed number overrides, an emptied override goes back to global, untouched keys are left out
    expect(overridePatch({ disk_warning_percent: 88 }, { disk_warning_percent: '', cpu_warning_percent: '70', memory_warning_percent: '' }))
      .toEqual({ disk_warning_percent: null, cpu_warning_percent: 70 });
    const cur = { server_id: 'nas', thresholds: { disk_warning_percent: 80, disk_critical_percent: 90 }, source: {} as any, overrides: {} };
    const eff = effectiveAfter(cur, { disk_warning_percent: 80, disk_critical_percent: 90 }, { disk_warning_percent: 92 });
    expect(overrideProblem(eff, { disk_warning_percent: '92' })?.message).toBe('Disk warning must be lower than Disk critical (92% is not below 90%)');
    expect(overrideProblem(eff, { disk_warning_percent: '92' })?.field).toBe('disk_warning_percent');
    expect(overrideProblem({ disk_warning_percent: 85, disk_critical_percent: 95 }, { disk_warning_percent: '85' })).toBeNull();
  });
});
