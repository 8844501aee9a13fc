import { describe, expect, it, afterEach } from 'vitest';
import { render, cleanup } from '@testing-library/react';
import { Bar, State } from './ui';
import { Card } from './cards';

afterEach(cleanup);

describe('Bar', () => {
  it('marks a warning value', () => {
    const { container } = render(<Bar label="Disk" value={85} warn={80} crit={90} />);
    expect(container.querySelector('.bar-warning')).not.toBeNull();
    expect(container.textContent).toContain('85%');
    expect(container.textContent).toContain('⚠');
  });
  it('no warning under the threshold', () => {
    const { container } = render(<Bar label="CPU" value={12.4} warn={80} crit={90} />);
    expect(container.querySelector('.bar-ok')).not.toBeNull();
    expect(container.textContent).not.toContain('⚠');
  });
});

describe('State', () => {
  it('says a feature is not available instead of showing data', () => {
    const { container } = render(<State what="alerts" missing><p>data</p></State>);
    expect(container.textContent).toContain('not available');
    expect(container.textContent).not.toContain('data');
  });
  it('shows errors and loading, then children', () => {
    expect(render(<State what="x" error="boom" />).container.textContent).toContain('boom');
    cleanup();
    expect(render(<State what="x" loading />).container.textContent).toContain('Loading');
    cleanup();
    expect(render(<State what="x"><p>ok</p></State>).container.textContent).toBe('ok');
  });
});

describe('Card', () => {
  const th = { cpu_warning: 90, cpu_critical: 98, memory_warning: 85, memory_critical: 95, disk_warning: 80, disk_critical: 90 } as any;
  const m = { server_id: 'lap', status: 'online', machine_type: 'workstation', latest: null };
  it('flags a machine whose agent signs with the admin key', () => {
    const { container } = render(<Card m={{ ...m, agent_auth: 'admin_key' }} th={th} />);
    expect(container.querySelector('.agent-admin-key')?.textContent).toContain('admin key');
  });
  it('shows no flag for an enrolled agent or an SSH-only machine', () => {
    expect(render(<Card m={{ ...m, agent_auth: 'agent_token' }} th={th} />).container.querySelector('.agent-admin-key')).toBeNull();
    cleanup();
    expect(render(<Card m={{ ...m, agent_auth: null }} th={th} />).container.querySelector('.agent-admin-key')).toBeNull();
  });
});
