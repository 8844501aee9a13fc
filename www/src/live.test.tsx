// Live refresh: usePoll reloads when the hub's event stream announces a sample.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, render, waitFor } from '@testing-library/react';
import { usePoll } from './hooks';

class FakeSource {
  static all: FakeSource[] = [];
  static CLOSED = 2;
  url: string; readyState = 1; closed = false;
  handlers: Record<string, ((e: any) => void)[]> = {};
  constructor(url: string) { this.url = url; FakeSource.all.push(this); }
  addEventListener(t: string, f: (e: any) => void) { (this.handlers[t] ??= []).push(f); }
  close() { this.closed = true; this.readyState = 2; }
  emit(t: string, data?: any) { (this.handlers[t] ?? []).forEach((f) => f({ data: JSON.stringify(data) })); }
}

let gets: string[] = [];
function Probe({ live }: { live: string }) {
  const q = usePoll<any>('/servers/m1', 60000, live);
  return <p>{q.data ? 'loaded' : 'loading'}</p>;
}

afterEach(() => { cleanup(); vi.unstubAllGlobals(); FakeSource.all = []; localStorage.clear(); });

function setup() {
  localStorage.setItem('hlc.apiKey', 'k y');
  gets = [];
  vi.stubGlobal('EventSource', FakeSource);
  vi.stubGlobal('fetch', vi.fn(async (url: string) => { gets.push(url); return new Response('{"ok":1}', { status: 200 }); }));
}

describe('live refresh over server-sent events', () => {
  it('one stream with the key in the query; reloads on its machine\'s sample, not another\'s', async () => {
    setup();
    render(<><Probe live="m1" /><Probe live="m1" /></>);
    await waitFor(() => expect(gets.length).toBe(2));
    expect(FakeSource.all).toHaveLength(1);
    expect(FakeSource.all[0].url).toBe('/api/v1/events?key=k%20y');
    act(() => FakeSource.all[0].emit('sample', { kind: 'sample', id: 'm2' }));
    await new Promise((r) => setTimeout(r, 300));
    expect(gets.length).toBe(2);
    act(() => { FakeSource.all[0].emit('sample', { kind: 'sample', id: 'm1' }); FakeSource.all[0].emit('sample', { kind: 'sample', id: 'm1' }); });
    await waitFor(() => expect(gets.length).toBe(4)); // one reload per hook for the burst
    await new Promise((r) => setTimeout(r, 300));
    expect(gets.length).toBe(4);
  });
  it('"*" follows every machine, resync reloads, and the stream closes with the last user', async () => {
    setup();
    const { unmount } = render(<Probe live="*" />);
    await waitFor(() => expect(gets.length).toBe(1));
    act(() => FakeSource.all[0].emit('sample', { kind: 'sample', id: 'anything' }));
    await waitFor(() => expect(gets.length).toBe(2));
    act(() => FakeSource.all[0].emit('resync', {}));
    await waitFor(() => expect(gets.length).toBe(3));
    unmount();
    expect(FakeSource.all[0].closed).toBe(true);
  });
});
