// Apply a pack from the compliance widget: the plan first, nothing applied until
// confirmed, then the pending apply_pack action approved and its outcome shown.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { ComplianceWidget } from './compliance';

const calls: [string, string, any][] = [];
function mockHub(handler: (m: string, p: string, b: any) => [number, any] | undefined) {
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: any = {}) => {
    const path = String(url).replace(/^\/api\/v1/, '');
    const body = init.body ? JSON.parse(init.body) : null;
    calls.push([init.method ?? 'GET', path, body]);
    const r = handler(init.method ?? 'GET', path, body) ?? [404, { detail: { code: 'NOT_FOUND', message: 'no such endpoint', field: null } }];
    return new Response(JSON.stringify(r[1]), { status: r[0], headers: { 'Content-Type': 'application/json' } });
  }));
}

const at = new Date().toISOString();
const LATEST = { server_id: 'nas', pack: 'web', compliant: false, checked_at: at, counts: { pass: 3, fail: 2, error: 0 }, items: [] };
const STEPS = [
  { kind: 'package', target: 'nginx', step: 'install', description: 'apt-get install -y --no-install-recommends nginx', depends_on: null, diff: null },
  { kind: 'service', target: 'nginx', step: 'enable', description: 'systemctl enable --now nginx', depends_on: 'nginx', diff: null },
];

beforeEach(() => { localStorage.setItem('hlc.apiKey', 'k'); calls.length = 0; });
afterEach(() => { cleanup(); vi.unstubAllGlobals(); localStorage.clear(); });

describe('apply a pack', () => {
  it('plans, applies only once confirmed, approves and shows the outcome', async () => {
    let applied = false;
    mockHub((m, p, b) => {
      if (p === '/packs') return [200, { packs: [{ name: 'web' }], errors: [] }];
      if (p === '/servers/nas/compliance') return [200, { latest: [applied ? { ...LATEST, compliant: true } : LATEST] }];
      if (m === 'POST' && p === '/servers/nas/packs/web/apply' && b?.dry_run === true)
        return [200, { pack: 'web', dry_run: true, compliant: false, changes: 2, plan: STEPS }];
      if (m === 'POST' && p === '/servers/nas/packs/web/apply' && b?.dry_run === false)
        return [202, { action_id: 'a1', status: 'pending' }];
      if (m === 'POST' && p === '/actions/a1/approve') {
        applied = true;
        return [200, { action_id: 'a1', status: 'completed', apply: { changes: 2, applied: 2, unchanged: 0, failed: 0, skipped: 0, compliant: true,
          items: STEPS.map((s) => ({ ...s, outcome: 'applied', exit_code: 0, stderr: '' })) } }];
      }
      return undefined;
    });
    render(<ComplianceWidget id="nas" />);
    fireEvent.click(await screen.findByRole('button', { name: 'Plan applying web' }));
    const plan = await screen.findByTestId('apply-plan');
    expect(plan.textContent).toContain('2 changes');
    expect(plan.textContent).toContain('systemctl enable --now nginx');
    expect(plan.textContent).toContain('needs nginx');
    expect(calls.some(([, p, b]) => p.endsWith('/apply') && b?.dry_run === false)).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Apply 2 changes' }));
    const out = await screen.findByTestId('apply-outcome');
    expect(out.getAttribute('data-status')).toBe('completed');
    expect(out.textContent).toContain('2 changed');
    expect(out.textContent).toContain('now compliant');
    expect(out.querySelectorAll('[data-outcome="applied"]').length).toBe(2);
    expect(calls.filter(([m, p]) => m === 'POST' && p === '/actions/a1/approve').length).toBe(1);
    await waitFor(() => expect(document.querySelector('[data-pack="web"]')?.getAttribute('data-verdict')).toBe('compliant'));
    expect(screen.getByTestId('apply-outcome').textContent).toContain('now compliant'); // stays shown
  });

  it('a failed item and a skipped one are shown with their reason; cancel sends nothing', async () => {
    mockHub((m, p, b) => {
      if (p === '/packs') return [200, { packs: [{ name: 'web' }], errors: [] }];
      if (p === '/servers/nas/compliance') return [200, { latest: [LATEST] }];
      if (p === '/servers/nas/packs/web/apply' && b?.dry_run) return [200, { pack: 'web', changes: 2, plan: STEPS, compliant: false }];
      if (p === '/servers/nas/packs/web/apply') return [200, { action_id: 'a2', status: 'failed', changes: 0, applied: 0, unchanged: 0, failed: 1, skipped: 1, compliant: false,
        items: [{ ...STEPS[0], outcome: 'failed', exit_code: 100, stderr: 'E: Unable to locate package nginx' },
          { ...STEPS[1], outcome: 'skipped', exit_code: null, stderr: 'skipped: installing package nginx did not succeed' }] }];
      return undefined;
    });
    render(<ComplianceWidget id="nas" />);
    fireEvent.click(await screen.findByRole('button', { name: 'Plan applying web' }));
    await screen.findByTestId('apply-plan');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByTestId('apply-plan')).toBeNull();
    expect(calls.some(([, p, b]) => p.endsWith('/apply') && b?.dry_run === false)).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Plan applying web' }));
    await screen.findByTestId('apply-plan');
    fireEvent.click(screen.getByRole('button', { name: 'Apply 2 changes' }));
    const out = await screen.findByTestId('apply-outcome');
    expect(out.getAttribute('data-status')).toBe('failed');
    expect(out.textContent).toContain('1 failed, 1 skipped');
    expect(out.textContent).toContain('E: Unable to locate package nginx');
    expect(out.textContent).toContain('still not compliant');
  });
});
