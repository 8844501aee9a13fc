// The Scans page: the request it sends, a scan followed to its end, the
// result, a comparison of two scans and "Add as machine", with fetch mocked
// at the network boundary.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import ScansPage, { compareOrder, scanBody, slugFor, EMPTY_SCAN, type ScanSummary } from './Scans';

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

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const summary = (id: string, created: string, over: Partial<ScanSummary> = {}): ScanSummary => ({
  scan_id: id, hostname: 'laptop.lan', port: 22, ssh_user: 'homelabcmd', scan_type: 'full', status: 'completed',
  error: null, host_key_fingerprint: 'SHA256:abc', created_at: created, started_at: created, completed_at: created, ...over,
});
const results = {
  scan_type: 'full', hostname: 'Laptop', os: { id: 'debian', name: 'Debian GNU/Linux 12 (bookworm)', version: '12' },
  kernel: '6.1.0-27-amd64', arch: 'x86_64', uptime_seconds: 7200, boot_time: 0,
  cpu: { cores: 4, model: 'N5105', load: [0.1, 0.2, 0.3] },
  memory: { total_bytes: 8 * 1024 ** 3, available_bytes: 4 * 1024 ** 3, used_percent: 50, swap_total_bytes: 0, swap_free_bytes: 0 },
  disks: [{ mount: '/', device: '/dev/sda1', fstype: 'ext4', total_bytes: 100e9, used_bytes: 40e9, avail_bytes: 60e9, used_percent: 40 }],
  network: null, listening: [{ protocol: 'tcp', address: '0.0.0.0', port: 22 }], processes: null,
  packages: { manager: 'dpkg', count: 2, list: [{ name: 'bash', version: '5.2' }, { name: 'curl', version: '7.88' }], truncated: false },
  containers: null, failed_units: [], truncated: false,
};

describe('scan helpers', () => {
  it('sends only what was filled in, and suggests a machine id', () => {
    expect(scanBody({ ...EMPTY_SCAN, hostname: ' nas.lan ' })).toEqual({ hostname: 'nas.lan', scan_type: 'quick' });
    expect(scanBody({ hostname: 'pi', port: '2222', ssh_user: ' admin ', scan_type: 'full' }))
      .toEqual({ hostname: 'pi', port: 2222, ssh_user: 'admin', scan_type: 'full' });
    expect(scanBody({ ...EMPTY_SCAN, hostname: 'pi', ssh_private_key: '-----BEGIN KEY-----\nAAA\n-----END KEY-----\n\n' }))
      .toEqual({ hostname: 'pi', scan_type: 'quick', ssh_private_key: '-----BEGIN KEY-----\nAAA\n-----END KEY-----\n' });
    expect(slugFor('NAS.lan')).toBe('nas');
    expect(slugFor('192.168.1.5')).toBe('192-168-1-5');
    expect(slugFor('My_Laptop')).toBe('my-laptop');
    expect(slugFor('')).toBe('machine');
  });
  it('compares two selected scans older first', () => {
    const s = [summary(B, '2026-12-02T10:00:00Z'), summary(A, '2026-12-01T10:00:00Z')];
    expect(compareOrder(s, [B, A])).toEqual([A, B]);
    expect(compareOrder(s, [A])).toBeNull();
  });
});

describe('scans page', () => {
  it('starts a scan, follows it to completed, compares two and adds one as a machine', async () => {
    localStorage.setItem('hlc.apiKey', 'k');
    let polls = 0;
    let history = [summary(A, '2026-12-01T10:00:00Z')];
    mockHub((m, p, b) => {
      if (m === 'GET' && p.startsWith('/scans?')) return [200, { scans: history, total: history.length, limit: 20, offset: 0 }];
      if (m === 'POST' && p === '/scans') {
        if (b.hostname === 'bad host') return [422, { detail: { code: 'VALIDATION_ERROR', message: 'hostname must be a host name or IP address', field: 'hostname' } }];
        return [202, { scan_id: B, status: 'pending' }];
      }
      if (m === 'GET' && p === `/scans/${B}`) {
        polls++;
        if (polls < 2) return [200, { ...summary(B, '2026-12-02T10:00:00Z', { status: 'running' }), results: null }];
        history = [summary(B, '2026-12-02T10:00:00Z'), ...history];
        return [200, { ...summary(B, '2026-12-02T10:00:00Z'), results }];
      }
      if (m === 'GET' && p === `/scans/${A}/compare/${B}`) return [200, {
        scan_id: A, other_id: B, packages: { added: [{ name: 'htop', version: '3' }], removed: [{ name: 'vim', version: '9' }], changed: [] },
        disks: [{ mount: '/', used_bytes_before: 1e9, used_bytes_after: 3e9, growth_bytes: 2e9, total_bytes_before: 1e11, total_bytes_after: 1e11 }],
        memory: { before: 1, after: 1, changed: false }, kernel: { before: '6.1.0-26-amd64', after: '6.1.0-27-amd64', changed: true },
        os: { before: 'Debian 12', after: 'Debian 12', changed: false },
      }];
      if (m === 'POST' && p === `/scans/${B}/register`) return [201, { server_id: b.server_id, display_name: 'Laptop' }];
      return undefined;
    });
    render(<ScansPage />);
    await screen.findByText('laptop.lan:22');
    // a refused host name says why
    fireEvent.change(screen.getByLabelText('Host', { selector: 'input[name="hostname"]' }), { target: { value: 'bad host' } });
    fireEvent.click(screen.getByText('Start scan'));
    expect((await screen.findByRole('alert')).textContent).toBe('hostname: hostname must be a host name or IP address');
    fireEvent.change(screen.getByLabelText('Host', { selector: 'input[name="hostname"]' }), { target: { value: 'laptop.lan' } });
    fireEvent.change(screen.getByLabelText('Scan type'), { target: { value: 'full' } });
    fireEvent.click(screen.getByText('Start scan'));
    await waitFor(() => expect(screen.getByTestId('scan-status').textContent).toBe('running'));
    await waitFor(() => expect(screen.getByTestId('scan-status').textContent).toBe('completed'), { timeout: 3000 });
    expect(calls.find((c) => c.method === 'POST' && c.path === '/scans' && c.body.hostname === 'laptop.lan')!.body)
      .toEqual({ hostname: 'laptop.lan', scan_type: 'full' });
    expect(screen.getByTestId('scan-memory').textContent).toBe('8.0 GiB (50% used)');
    expect(screen.getByTestId('scan-packages').textContent).toBe('2');
    expect(screen.getByText(/Debian GNU\/Linux 12/)).toBeTruthy();
    // compare: both scans of the host, selected in either order
    await waitFor(() => expect(document.querySelectorAll('.scan-list li').length).toBe(2));
    for (const box of screen.getAllByLabelText(/^Select scan of laptop.lan/)) fireEvent.click(box);
    fireEvent.click(screen.getByText('Compare selected'));
    const cmp = await screen.findByTestId('scan-compare');
    expect(screen.getByTestId('pk-added').textContent).toBe('htop');
    expect(screen.getByTestId('pk-removed').textContent).toBe('vim');
    expect(cmp.querySelector('[data-mount="/"]')!.textContent).toBe('/: +1.9 GiB');
    expect(cmp.querySelector('[data-changed="true"]')!.textContent).toBe('6.1.0-26-amd64 → 6.1.0-27-amd64');
    // add as machine, with the suggested id from the host's own name
    expect((screen.getByLabelText('Machine id') as HTMLInputElement).value).toBe('laptop');
    fireEvent.click(screen.getByText('Add as machine'));
    const link = await screen.findByTestId('added-machine');
    expect(link.getAttribute('href')).toBe('#/machine/laptop');
    expect(calls.find((c) => c.path === `/scans/${B}/register`)!.body).toEqual({ server_id: 'laptop' });
  });

  it('shows a failed scan with its reason', async () => {
    localStorage.setItem('hlc.apiKey', 'k');
    mockHub((m, p) => {
      if (p.startsWith('/scans?')) return [200, { scans: [], total: 0, limit: 20, offset: 0 }];
      if (p === `/scans/${A}`) return [200, { ...summary(A, '2026-12-01T10:00:00Z', { status: 'failed', error: 'authentication refused: …' }), results: null }];
      return undefined;
    });
    render(<ScansPage id={A} />);
    expect((await screen.findByTestId('scan-error')).textContent).toBe('authentication refused: …');
    expect(screen.queryByText('Add as machine')).toBeNull();
    expect(screen.getByText('No scans yet.')).toBeTruthy();
  });
});
