// "Leave without saving?": the app's own links and back/forward ask while a form holds
// unsaved changes, beforeunload is set for closing or reloading; nothing once saved.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { MachineForm, SettingsPage, machineFormChanged } from './Pages';
import { MachineThresholdsForm } from './alertrules';
import { hasUnsaved, installLeaveGuard, LEAVE_PROMPT } from './unsaved';

function mockHub(handler: (m: string, p: string, b: any) => [number, any] | undefined) {
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: any = {}) => {
    const path = String(url).replace(/^\/api\/v1/, '');
    const r = handler(init.method ?? 'GET', path, init.body ? JSON.parse(init.body) : undefined)
      ?? [404, { detail: { code: 'NOT_FOUND', message: 'no such endpoint', field: null } }];
    return new Response(JSON.stringify(r[1]), { status: r[0], headers: { 'Content-Type': 'application/json' } });
  }));
}

const NAS = { server_id: 'nas', display_name: 'NAS', hostname: 'nas.lan', ssh_port: 22, machine_type: 'server', connectivity: 'direct',
  expected_services: [{ name: 'smbd', critical: true }] };
const CONFIG = { thresholds: { cpu_warning_percent: 90, cpu_critical_percent: 98 }, remediation: { auto_approve_enabled: false, auto_approve_actions: [] },
  agent: { allow_admin_key_heartbeats: true }, notifications: { notify_on_critical: true }, costs: { electricity_rate_kwh: 0.24, currency: 'GBP' } };

/** Clicks an app link as the header's nav does; answers whether the browser would follow it. */
let navs = 0;
function clickNav(): boolean {
  const a = document.createElement('a');
  a.href = `#/alerts/${++navs}`; // never the address the page is at (that link is no navigation)
  a.textContent = 'Alerts';
  document.body.appendChild(a);
  const followed = fireEvent.click(a);
  a.remove();
  return followed;
}
const unloadAsks = () => { const e = new Event('beforeunload', { cancelable: true }); window.dispatchEvent(e); return e.defaultPrevented; };

let off: () => void;
let confirm: ReturnType<typeof vi.fn>;
beforeEach(() => {
  localStorage.setItem('hlc.apiKey', 'k');
  off = installLeaveGuard();
  confirm = vi.fn(() => false);
  vi.stubGlobal('confirm', confirm);
});
afterEach(() => { cleanup(); off(); vi.unstubAllGlobals(); localStorage.clear(); });

describe('leave without saving', () => {
  it('machine form: nothing changed, no prompt; an edit asks, Cancel stays with the value; typed back, no prompt', async () => {
    mockHub((m, p) => (p === '/servers/nas' ? [200, NAS] : undefined));
    render(<MachineForm id="nas" />);
    const name = await screen.findByDisplayValue('NAS');
    expect(clickNav()).toBe(true);
    expect(unloadAsks()).toBe(false);
    expect(confirm).not.toHaveBeenCalled();
    fireEvent.change(name, { target: { value: 'Big NAS' } });
    await waitFor(() => expect(hasUnsaved()).toBe(true));
    expect(clickNav()).toBe(false);
    expect(confirm).toHaveBeenCalledWith(LEAVE_PROMPT);
    expect((screen.getByDisplayValue('Big NAS') as HTMLInputElement).value).toBe('Big NAS');
    expect(unloadAsks()).toBe(true);
    fireEvent.change(name, { target: { value: 'NAS' } });
    await waitFor(() => expect(hasUnsaved()).toBe(false));
    expect(unloadAsks()).toBe(false);
  });
  it('machine form: once saved, the navigation to the machine does not ask', async () => {
    mockHub((m, p) => (p === '/servers/nas' ? [200, NAS] : undefined));
    render(<MachineForm id="nas" />);
    fireEvent.change(await screen.findByDisplayValue('nas.lan'), { target: { value: 'nas2.lan' } });
    await waitFor(() => expect(hasUnsaved()).toBe(true));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(window.location.hash).toBe('#/machine/nas'));
    expect(confirm).not.toHaveBeenCalled();
    expect(hasUnsaved()).toBe(false);
  });
  it('an OK on the prompt lets the link go', async () => {
    mockHub((m, p) => (p === '/servers/nas' ? [200, NAS] : undefined));
    render(<MachineForm id="nas" />);
    fireEvent.change(await screen.findByDisplayValue('NAS'), { target: { value: 'x' } });
    await waitFor(() => expect(hasUnsaved()).toBe(true));
    confirm.mockReturnValue(true);
    expect(clickNav()).toBe(true);
    expect(hasUnsaved()).toBe(false);
  });
  it('settings: an edited section asks until its Save is answered', async () => {
    mockHub((m, p, b) => (p === '/config' && m === 'GET' ? [200, CONFIG] : p === '/config' && m === 'PUT' ? [200, b] : p === '/credentials' ? [200, { credentials: [] }] : undefined));
    render(<SettingsPage />);
    const cpu = await screen.findByLabelText('CPU warning %');
    expect(hasUnsaved()).toBe(false);
    fireEvent.change(cpu, { target: { value: '80' } });
    await waitFor(() => expect(hasUnsaved()).toBe(true));
    expect(clickNav()).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Save thresholds' }));
    await waitFor(() => expect(hasUnsaved()).toBe(false));
    expect(clickNav()).toBe(true);
    // a typed notification URL is unsaved too
    fireEvent.change(screen.getByLabelText('Slack webhook URL'), { target: { value: 'https://hooks.slack.com/services/x' } });
    await waitFor(() => expect(hasUnsaved()).toBe(true));
  });
  it('per-machine thresholds: a typed override is unsaved', async () => {
    mockHub((m, p) => (p === '/servers/nas/thresholds' ? [200, { server_id: 'nas', thresholds: { cpu_warning_percent: 90 }, source: { cpu_warning_percent: 'global' }, overrides: {} }]
      : p === '/config/thresholds' ? [200, { cpu_warning_percent: 90 }] : undefined));
    render(<MachineThresholdsForm id="nas" />);
    const f = await screen.findByLabelText(/CPU warning %/);
    fireEvent.change(f, { target: { value: '70' } });
    await waitFor(() => expect(hasUnsaved()).toBe(true));
    expect(unloadAsks()).toBe(true);
    fireEvent.change(f, { target: { value: '' } });
    await waitFor(() => expect(hasUnsaved()).toBe(false));
  });
  it('back/forward: Cancel puts the address back', async () => {
    mockHub((m, p) => (p === '/servers/nas' ? [200, NAS] : undefined));
    const { keepOnBack } = await import('./unsaved');
    render(<MachineForm id="nas" />);
    fireEvent.change(await screen.findByDisplayValue('NAS'), { target: { value: 'y' } });
    await waitFor(() => expect(hasUnsaved()).toBe(true));
    const push = vi.spyOn(window.history, 'pushState');
    const back = window.location.origin + '/#/edit/nas';
    act(() => { expect(keepOnBack(new HashChangeEvent('hashchange', { oldURL: back, newURL: window.location.origin + '/#/' }))).toBe(false); });
    expect(push).toHaveBeenCalledWith(null, '', back);
    expect(confirm).toHaveBeenCalledWith(LEAVE_PROMPT);
  });
  it('compares the add form with an empty one', () => {
    const start = { machine_type: 'server', connectivity: 'direct' };
    expect(machineFormChanged(start, { ...start }, '', '')).toBe(false);
    expect(machineFormChanged(start, { ...start, hostname: 'a' }, '', '')).toBe(true);
    expect(machineFormChanged(start, { ...start, machine_type: 'workstation' }, '', '')).toBe(true);
    expect(machineFormChanged(NAS, { ...NAS, ssh_port: '22' }, 'smbd!', 'smbd! ')).toBe(false);
    expect(machineFormChanged(NAS, NAS, 'smbd!', 'smbd')).toBe(true);
  });
});
