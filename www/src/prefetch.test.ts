// The first screen's answers fetched by index.html's inline script before the app loads.
import { afterEach, describe, expect, it, vi } from 'vitest';
// Vite's ?raw imports: the files' text, as the build sees them.
import html from '../index.html?raw';
import dashboardSrc from './Dashboard.tsx?raw';
import { FIRST_SCREEN, alertsPath, api, peekPrefetched } from './api';

const inline = html.slice(html.indexOf('<script>') + 8, html.indexOf('</script>'));

function runInline(hash: string, key: string | null, answers: Record<string, any>) {
  localStorage.clear();
  if (key) localStorage.setItem('hlc.apiKey', key);
  window.location.hash = hash;
  const seen: { url: string; key: string }[] = [];
  vi.stubGlobal('fetch', vi.fn(async (url: string, init: any) => {
    seen.push({ url, key: init?.headers?.['X-API-Key'] });
    const p = url.replace('/api/v1', '');
    return new Response(JSON.stringify(answers[p] ?? {}), { status: answers[p] ? 200 : 500 });
  }));
  delete (window as any).__hlcPre;
  new Function(inline)();
  return seen;
}

afterEach(() => { vi.unstubAllGlobals(); localStorage.clear(); delete (window as any).__hlcPre; });

describe('first-screen prefetch', () => {
  it('asks for exactly FIRST_SCREEN on the dashboard, with the key, and only the alert count elsewhere', () => {
    expect(runInline('', 'k', {}).map((s) => s.url)).toEqual(FIRST_SCREEN.map((p) => '/api/v1' + p));
    expect(runInline('#/', 'k', {}).every((s) => s.key === 'k')).toBe(true);
    expect(runInline('#/costs', 'k', {}).map((s) => s.url)).toEqual(['/api/v1' + alertsPath({ status: 'open', limit: 1 })]);
    expect(runInline('', null, {})).toEqual([]);
  });
  it('the paths are the ones the dashboard and the header ask for', () => {
    expect(FIRST_SCREEN).toContain(alertsPath({ status: 'open', limit: 1 }));
    const src = dashboardSrc;
    for (const p of FIRST_SCREEN.slice(1)) expect(src).toContain(`usePoll<${p === '/costs' ? 'Costs' : 'any'}>('${p}'`);
  });
  it('hands an arrived answer to the first render once, and only for the same key', async () => {
    runInline('', 'k', { '/servers': { servers: [{ server_id: 'a' }] } });
    await new Promise((r) => setTimeout(r, 20));
    localStorage.setItem('hlc.apiKey', 'other');
    expect(peekPrefetched('/servers')).toBeUndefined();
    localStorage.setItem('hlc.apiKey', 'k');
    expect(peekPrefetched<any>('/servers').servers[0].server_id).toBe('a');
    expect(peekPrefetched('/servers')).toBeUndefined();
  });
  it('api() uses a pending prefetched answer instead of asking again, errors included', async () => {
    const seen = runInline('', 'k', { '/servers': { servers: [] } });
    expect(await api('GET', '/servers')).toEqual({ servers: [] });
    await expect(api('GET', '/costs')).rejects.toMatchObject({ status: 500 });
    expect(seen.length).toBe(FIRST_SCREEN.length); // nothing asked twice
    await api('GET', '/servers');
    expect(seen.length).toBe(FIRST_SCREEN.length + 1); // taken once: the next poll asks the hub
  });
});
