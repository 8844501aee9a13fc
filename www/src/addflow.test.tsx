// addflow.test.tsx - the guided Add machine (key, command, sudoers, connection
// test step by step, register) and network discovery's results and Add links,
// with fetch mocked at the network boundary.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { addHash, addPrefill, failedStep, sudoersCommand, targetAddress, testBody, type TestResult } from './addflow';
import { MachineForm } from './Pages';
import { NetworkDiscover } from './Discover';
import sudoersFile from '../../deploy/sudoers.homelabcmd?raw';

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
afterEach(() => { cleanup(); vi.unstubAllGlobals(); localStorage.clear(); window.location.hash = ''; });

const KEY = { public_key: 'ssh-ed25519 AAAAC3Nza homelabcmd@hub', authorized_keys_line: 'ssh-ed25519 AAAAC3Nza homelabcmd@hub',
  install_hint: "mkdir -p ~/.ssh && chmod 700 ~/.ssh && echo 'ssh-ed25519 AAAAC3Nza homelabcmd@hub' >> ~/.ssh/authorized_keys && chmod 600 ~/.ssh/authorized_keys" };
const step = (name: string, status: string, reason: string | null = null, detail: string | null = null) =>
  ({ name, status, ms: status === 'skipped' ? null : 3, detail, reason });
const refused: TestResult = { ok: false, target: { host: '10.0.0.5', port: 2, user: 'homelabcmd', connectivity: 'direct' }, host_key: null, fingerprint: null,
  steps: [step('resolve', 'ok', null, '10.0.0.5'), step('connect', 'failed', 'connection refused', '10.0.0.5:2'), step('host_key', 'skipped'), step('auth', 'skipped'), step('exec', 'skipped')] as any };
const passed: TestResult = { ok: true, target: { host: '10.0.0.5', port: 2222, user: 'homelabcmd', connectivity: 'direct' }, host_key: 'new', fingerprint: 'SHA256:abc',
  steps: ['resolve', 'connect', 'host_key', 'auth', 'exec'].map((n) => step(n, 'ok')) as any };

describe('add-flow helpers', () => {
  it('tests the address the hub would use for the connectivity', () => {
    expect(targetAddress({ connectivity: 'direct', ip_address: ' ', hostname: 'nas.lan', tailscale_ip: '100.64.0.9' })).toBe('nas.lan');
    expect(targetAddress({ connectivity: 'tailscale', ip_address: '10.0.0.5', tailscale_hostname: 'nas' })).toBe('nas');
    expect(testBody({ connectivity: 'direct', ip_address: '10.0.0.5', ssh_port: '2222', ssh_user: ' admin ' }))
      .toEqual({ hostname: '10.0.0.5', ssh_port: 2222, ssh_user: 'admin' });
    expect(testBody({ connectivity: 'direct', hostname: 'nas.lan' })).toEqual({ hostname: 'nas.lan' });
    expect(testBody({ connectivity: 'tailscale', ip_address: '10.0.0.5' })).toBeNull();
  });
  it('names the step that failed and why', () => {
    expect(failedStep(refused)).toBe('TCP connect failed: connection refused (10.0.0.5:2)');
    expect(failedStep(passed)).toBeNull();
  });
  it('gives the shipped sudoers file for the login user, never anything else', () => {
    const c = sudoersCommand('admin');
    expect(c).toContain("sudo tee /etc/sudoers.d/homelabcmd >/dev/null <<'EOF'\n");
    expect(c).toContain('\nadmin ALL=(root) NOPASSWD: HLC_SERVICES, HLC_CONTAINERS, HLC_LOGS, HLC_UPDATES\nEOF\n');
    expect(c).toContain('Cmnd_Alias HLC_SERVICES'); // the file itself, as shipped
    expect(c.endsWith('sudo visudo -cf /etc/sudoers.d/homelabcmd')).toBe(true);
    expect(sudoersCommand("x'; rm -rf /")).toContain('\nhomelabcmd ALL=(root)');
    expect(sudoersCommand('homelabcmd')).toContain(sudoersFile.trimEnd());
  });
  it('pre-fills Add machine from a discovered host and ignores anything else', () => {
    const h = { ip: '192.168.1.20', hostname: 'Pi-Hole.lan', mac: null, vendor: null, ssh: true, ssh_banner: null, registered_as: null };
    expect(addHash(h)).toBe('#/add?ip=192.168.1.20&hostname=Pi-Hole.lan');
    expect(addPrefill('ip=192.168.1.20&hostname=Pi-Hole.lan&ssh_user=root'))
      .toEqual({ ip_address: '192.168.1.20', hostname: 'Pi-Hole.lan', server_id: 'pi-hole' });
    expect(addPrefill('ip=10.0.0.7')).toEqual({ ip_address: '10.0.0.7', hostname: '10.0.0.7', server_id: 'host-10-0-0-7' });
    expect(addPrefill('ip=<script>&hostname=a b')).toEqual({});
  });
});

describe('guided Add machine', () => {
  it('shows the key and command, tests step by step, then registers', async () => {
    const writeText = vi.fn(async () => {});
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    let tries = 0;
    mockHub((m, p, b) => {
      if (m === 'GET' && p === '/ssh/public-key') return [200, KEY];
      if (m === 'POST' && p === '/test-connection') return [200, ++tries === 1 ? refused : passed];
      if (m === 'POST' && p === '/servers') return [201, { ...b }];
      return undefined;
    });
    render(<MachineForm query="ip=10.0.0.5&hostname=nas.lan" />);
    expect(await screen.findByLabelText('Hub public key')).toHaveProperty('textContent', KEY.public_key);
    expect(screen.getByLabelText('Authorize command').textContent).toBe(KEY.install_hint);
    fireEvent.click(screen.getByRole('button', { name: 'Copy command' }));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(KEY.install_hint));
    expect(await screen.findByText('Copied.')).toBeTruthy();
    expect(screen.getByLabelText('Sudoers command').textContent).toContain('homelabcmd ALL=(root) NOPASSWD:');
    // pre-filled from discovery
    expect((screen.getByDisplayValue('10.0.0.5') as HTMLInputElement).name).toBe('ip_address');
    expect((screen.getByDisplayValue('nas') as HTMLInputElement).name).toBe('server_id');
    // a wrong port: the TCP step fails, with its reason
    fireEvent.change(document.querySelector('input[name=ssh_port]')!, { target: { value: '2' } });
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    const steps = await screen.findByRole('list', { name: 'Connection steps' });
    expect(calls.find((c) => c.path === '/test-connection')?.body).toEqual({ hostname: '10.0.0.5', ssh_port: 2 });
    expect(steps.getAttribute('data-ok')).toBe('false');
    expect(within(steps).getAllByRole('listitem').map((li) => li.getAttribute('data-status'))).toEqual(['ok', 'failed', 'skipped', 'skipped', 'skipped']);
    expect(document.querySelector('[data-result=failed]')?.textContent).toBe('TCP connect failed: connection refused (10.0.0.5:2)');
    // the right port passes every step
    fireEvent.change(document.querySelector('input[name=ssh_port]')!, { target: { value: '2222' } });
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    await waitFor(() => expect(document.querySelector('[data-result=ok]')?.textContent).toContain('every step passed (host key SHA256:abc)'));
    // Tailscale changes what is tested
    fireEvent.click(screen.getByLabelText(/^Tailscale:/));
    expect(screen.getByRole('button', { name: 'Test connection' })).toHaveProperty('disabled', true);
    fireEvent.click(screen.getByLabelText(/^Direct:/));
    fireEvent.click(screen.getByRole('button', { name: 'Add machine' }));
    await waitFor(() => expect(calls.some((c) => c.method === 'POST' && c.path === '/servers')).toBe(true));
    const reg = calls.find((c) => c.method === 'POST' && c.path === '/servers')!.body;
    expect(reg).toMatchObject({ server_id: 'nas', hostname: 'nas.lan', ip_address: '10.0.0.5', ssh_port: 2222, connectivity: 'direct' });
    await waitFor(() => expect(window.location.hash).toBe('#/machine/nas'));
  });

  it('says why the key could not be read and shows a refused test body', async () => {
    mockHub((m, p) => {
      if (p === '/ssh/public-key') return [500, { detail: { code: 'INTERNAL', message: 'keyring locked', field: null } }];
      if (p === '/test-connection') return [422, { detail: { code: 'VALIDATION_ERROR', message: 'must be a host name or IP address', field: 'hostname' } }];
      return undefined;
    });
    render(<MachineForm />);
    expect((await screen.findByRole('alert')).textContent).toContain('keyring locked');
    fireEvent.change(document.querySelector('input[name=hostname]')!, { target: { value: 'bad host' } });
    fireEvent.click(screen.getByRole('button', { name: 'Test connection' }));
    await waitFor(() => expect(screen.getAllByRole('alert').map((a) => a.textContent)).toContain('hostname: must be a host name or IP address'));
  });
});

describe('Discover network', () => {
  it('lists live hosts with an Add link pre-filling the form, and refuses a large subnet in words', async () => {
    mockHub((m, p) => {
      if (p === '/servers') return [200, { servers: [{ server_id: 'nas', display_name: 'Big NAS' }] }];
      if (p.startsWith('/network/discover?subnet=10.0.0.0%2F8')) return [422, { detail: { code: 'SUBNET_TOO_LARGE', message: 'subnets larger than a /22 are refused', field: 'subnet' } }];
      if (p.startsWith('/network/discover')) return [200, { subnet: '192.168.1.0/24', probe: 'icmp', probed: 254, duration_ms: 970, timed_out: false, hosts: [
        { ip: '192.168.1.10', mac: 'a8:5e:45:12:34:56', vendor: 'ASUSTek COMPUTER INC.', hostname: 'nas.lan', ssh: true, ssh_banner: 'SSH-2.0-OpenSSH_9.2p1', registered_as: 'nas' },
        { ip: '192.168.1.20', mac: null, vendor: null, hostname: null, ssh: false, ssh_banner: null, registered_as: null }] }];
      return undefined;
    });
    render(<NetworkDiscover />);
    fireEvent.change(screen.getByLabelText(/^Subnet/), { target: { value: '10.0.0.0/8' } });
    fireEvent.click(screen.getByRole('button', { name: 'Discover' }));
    expect((await screen.findByRole('alert')).getAttribute('data-code')).toBe('SUBNET_TOO_LARGE');
    fireEvent.change(screen.getByLabelText(/^Subnet/), { target: { value: ' 192.168.1.0/24' } });
    fireEvent.click(screen.getByRole('button', { name: 'Discover' }));
    const table = await screen.findByRole('table', { name: 'Network hosts' });
    expect(calls.some((c) => c.path === '/network/discover?subnet=192.168.1.0%2F24')).toBe(true);
    expect(screen.queryByRole('alert')).toBeNull();
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows.map((r) => r.getAttribute('data-ip'))).toEqual(['192.168.1.10', '192.168.1.20']);
    expect(rows[0].textContent).toContain('ASUSTek COMPUTER INC.');
    expect(rows[0].textContent).toContain('SSH-2.0-OpenSSH_9.2p1');
    await waitFor(() => expect(within(rows[0]).getByRole('link').textContent).toBe('Big NAS'));
    expect(within(rows[1]).getByRole('link', { name: 'Add 192.168.1.20' }).getAttribute('href')).toBe('#/add?ip=192.168.1.20');
    expect(screen.getByRole('status').textContent).toContain('2 live hosts in 192.168.1.0/24');
  });
});
