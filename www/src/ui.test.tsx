import { describe, expect, it, afterEach } from 'vitest';
import { render, cleanup } from '@testing-library/react';
import { Bar, State } from './ui';

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
