// Pack assignment in the dashboard: the machine panel's assign/remove requests,
// the Settings per-tag form, and drift alerts linking to their diff, with fetch
// mocked at the network boundary.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { alertDiffHref, cleanupSummary, MachinePacksPanel, sourcesLabel, TagPacksPanel } from './packassign';
import { AlertRow } from './alerts';
import type { Alert } from './api';
import { SettingsPage } from './Pages';

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

const lastPut = (path?: string) => calls.filter((c) => c.method === 'PUT' && (!path || c.path === path)).slice(-1)[0];
const PACKS = { packs: [{ name: 'base' }, { name: 'drifty' }, { name: 'devpack' }], errors: [] };

describe('pack assignment helpers', () => {
  it('links only drift alerts of a machine to the diff of their pack', () => {
    expect(alertDiffHref({ type: 'config_drift', subject: 'pack:my-nas', server_id: 'box 1' })).toBe('#/compliance/box%201/my-nas');
    expect(alertDiffHref({ type: 'config_noncompliant', subject: 'pack:base', server_id: 'pi' })).toBe('#/compliance/pi/base');
    expect(alertDiffHref({ type: 'disk_warning', subject: '/', server_id: 'pi' })).toBeNull();
    expect(alertDiffHref({ type: 'config_drift', subject: 'pack:base', server_id: null })).toBeNull();
  });
  it('says where a pack came from and what a cleanup left', () => {
    expect(sourcesLabel(['machine', 'tag:dev'])).toBe('machine, tag dev');
    expect(cleanupSummary({ files: [{ path: '/etc/a', outcome: 'removed' }, { path: '/etc/b', outcome: 'changed' }],
      packages: [{ name: 'git', outcome: 'kept' }, { name: 'htop', outcome: 'removed' }], removed: 2, left: 1 }))
      .toBe('2 removed; left: /etc/b (changed since, left alone), git (another pack needs it)');
  });
});

describe('machine packs panel', () => {
  it('assigns a pack and removes one with cleanup', async () => {
    localStorage.setItem('hlc.apiKey', 'k');
    mockHub((m, p) => {
      if (m === 'GET' && p === '/packs') return [200, PACKS];
      if (m === 'GET' && p === '/servers/box/packs') return [200, {
        server_id: 'box', packs: ['drifty'], drift_interval_hours: null, effective_drift_interval_hours: 24, last_drift_check: null,
        effective: [{ name: 'devpack', sources: ['tag:dev'] }, { name: 'drifty', sources: ['machine'] }] }];
      if (m === 'PUT' && p === '/servers/box/packs') return [200, {}];
      if (m === 'DELETE' && p === '/servers/box/packs/drifty?cleanup=true') return [200, {
        server_id: 'box', pack: 'drifty', removed: true,
        cleanup: { files: [{ path: '/etc/a.conf', outcome: 'removed' }, { path: '/etc/b.conf', outcome: 'changed' }], packages: [], removed: 1, left: 1 } }];
      return undefined;
    });
    render(<MachinePacksPanel id="box" />);
    await screen.findByText('from tag dev');
    expect(screen.getByTestId('drift-schedule').textContent).toContain('every 24 h');
    // a tag's pack is changed in Settings, not here
    expect(screen.queryByRole('button', { name: 'Remove devpack' })).toBeNull();
    const sel = screen.getByLabelText('Pack to assign') as HTMLSelectElement;
    expect([...sel.options].map((o) => o.value)).toEqual(['', 'base', 'devpack']);
    fireEvent.change(sel, { target: { value: 'base' } });
    fireEvent.click(screen.getByRole('button', { name: 'Assign' }));
    await waitFor(() => expect(calls.find((c) => c.method === 'PUT')?.body).toEqual({ packs: ['drifty', 'base'] }));
    fireEvent.click(screen.getByLabelText(/also clean up/));
    fireEvent.click(screen.getByRole('button', { name: 'Remove drifty' }));
    await screen.findByText('Removed drifty. Cleanup: 1 removed; left: /etc/b.conf (changed since, left alone).');
    // the machine's own drift interval, then back to the fleet's
    const hours = screen.getByLabelText(/Own drift interval/) as HTMLInputElement;
    expect(hours.value).toBe('');
    fireEvent.change(hours, { target: { value: '6' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save interval' }));
    await waitFor(() => expect(lastPut()?.body).toEqual({ packs: ['drifty'], drift_interval_hours: 6 }));
    fireEvent.change(screen.getByLabelText(/Own drift interval/), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save interval' }));
    await waitFor(() => expect(lastPut()?.body).toEqual({ packs: ['drifty'], drift_interval_hours: null }));
  });
});

describe('tag packs in Settings', () => {
  it('lists the tags and saves one tag\'s packs', async () => {
    localStorage.setItem('hlc.apiKey', 'k');
    mockHub((m, p) => {
      if (m === 'GET' && p === '/packs') return [200, PACKS];
      if (m === 'GET' && p === '/packs/assignments') return [200, { tags: { web: ['base'] } }];
      if (m === 'PUT' && p === '/packs/assignments/tags/dev') return [200, { tag: 'dev', packs: ['devpack'] }];
      return undefined;
    });
    render(<TagPacksPanel />);
    await screen.findByText(': base', { exact: false });
    fireEvent.change(screen.getByPlaceholderText('dev'), { target: { value: 'dev' } });
    fireEvent.click(await screen.findByLabelText('devpack'));
    fireEvent.click(screen.getByRole('button', { name: 'Save tag packs' }));
    await screen.findByText('Saved the packs of tag dev.');
    expect(calls.find((c) => c.method === 'PUT')).toEqual({ method: 'PUT', path: '/packs/assignments/tags/dev', body: { packs: ['devpack'] } });
  });
});

describe('drift detection in Settings', () => {
  it('saves the fleet interval and severity and shows the hub\'s field error', async () => {
    localStorage.setItem('hlc.apiKey', 'k');
    let fail = true;
    mockHub((m, p, b) => {
      if (m === 'GET' && p === '/config') return [200, { thresholds: {}, costs: {}, notifications: {}, remediation: {}, agent: {}, polling: {},
        packs: { drift_interval_hours: 24, drift_severity: 'medium' } }];
      if (m === 'PUT' && p === '/config' && b.packs) {
        if (fail) { fail = false; return [422, { detail: { code: 'VALIDATION_ERROR', message: 'drift_interval_hours must be at most 8760', field: 'packs.drift_interval_hours' } }]; }
        return [200, { packs: b.packs }];
      }
      return undefined;
    });
    render(<SettingsPage />);
    const form = await screen.findByRole('form', { name: 'Drift detection' });
    const interval = form.querySelector('input[name="packs.drift_interval_hours"]') as HTMLInputElement;
    expect(interval.value).toBe('24');
    fireEvent.change(interval, { target: { value: '9000' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save drift detection' }));
    await screen.findByText('drift_interval_hours must be at most 8760');
    fireEvent.change(interval, { target: { value: '12' } });
    fireEvent.change(screen.getByLabelText(/Drift alert severity/), { target: { value: 'high' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save drift detection' }));
    await waitFor(() => expect(form.textContent).toContain('Saved.'));
    expect(lastPut('/config')?.body)
      .toEqual({ packs: { drift_interval_hours: 12, drift_severity: 'high' } });
  });
});

describe('drift alerts', () => {
  it('link to the diff of the pack that drifted', () => {
    const a: Alert = {
      alert_id: 'a1', server_id: 'box', severity: 'medium', type: 'config_drift', subject: 'pack:drifty',
      title: 'Config drift: pack drifty on box', message: '1 of 3 items differs: file /etc/a.conf (content)',
      metric_value: null, threshold_value: null, status: 'open', created_at: new Date().toISOString(),
      acknowledged_at: null, resolved_at: null, auto_resolved: false,
    };
    render(<ul><AlertRow a={a} onChanged={() => {}} snooze={false} /></ul>);
    expect(screen.getByTestId('drift-diff').getAttribute('href')).toBe('#/compliance/box/drifty');
    cleanup();
    render(<ul><AlertRow a={{ ...a, type: 'disk_warning', subject: '/' }} onChanged={() => {}} snooze={false} /></ul>);
    expect(screen.queryByTestId('drift-diff')).toBeNull();
  });
});
