// App.tsx - shell: API key prompt, navigation, theme, hash routes.
import { lazy, Suspense, useEffect, useState } from 'react';
import { getKey, setKey, api, alertsPath, type AlertList } from './api';
import { usePoll } from './hooks';
import { installLeaveGuard, keepOnBack } from './unsaved';
import Dashboard from './Dashboard';
// The dashboard is the first screen: everything else loads on demand.
const MachineDetail = lazy(() => import('./MachineDetail'));
const AlertsPage = lazy(() => import('./Pages').then((m) => ({ default: m.AlertsPage })));
const ActionsPage = lazy(() => import('./Pages').then((m) => ({ default: m.ActionsPage })));
const CostsPage = lazy(() => import('./Pages').then((m) => ({ default: m.CostsPage })));
const SettingsPage = lazy(() => import('./Pages').then((m) => ({ default: m.SettingsPage })));
const DiscoverPage = lazy(() => import('./Discover').then((m) => ({ default: m.DiscoverPage })));
const CompliancePage = lazy(() => import('./compliance').then((m) => ({ default: m.CompliancePage })));
const ComplianceDetail = lazy(() => import('./compliance').then((m) => ({ default: m.ComplianceDetail })));
const ChecksPage = lazy(() => import('./Checks'));
const ScansPage = lazy(() => import('./Scans'));
const MachineForm = lazy(() => import('./Pages').then((m) => ({ default: m.MachineForm })));

/** Whether an element is drawn: Suspense keeps the page being left in the DOM, hidden, while the next one loads. */
function shown(el: HTMLElement): boolean {
  for (let e: HTMLElement | null = el; e; e = e.parentElement) if (e.hidden || e.style.display === 'none') return false;
  return true;
}

/** After a navigation (not the first load), the keyboard focus goes to the new page's heading. */
function focusHeading() {
  let tries = 0;
  const look = () => {
    const h = [...document.querySelectorAll<HTMLElement>('main h1')].find(shown);
    if (h) {
      if (!h.hasAttribute('tabindex')) h.tabIndex = -1;
      h.focus({ preventScroll: false });
      if (document.activeElement === h) return;
    }
    if (++tries < 120) requestAnimationFrame(look); // a lazy page: wait for its chunk (~2 s at most)
  };
  requestAnimationFrame(look);
}

function useHash(): string {
  const [h, setH] = useState(window.location.hash || '#/');
  useEffect(() => {
    const f = (e: HashChangeEvent) => { if (!keepOnBack(e)) return; setH(window.location.hash || '#/'); focusHeading(); };
    window.addEventListener('hashchange', f);
    const off = installLeaveGuard();
    return () => { window.removeEventListener('hashchange', f); off(); };
  }, []);
  return h;
}

type Theme = 'system' | 'light' | 'dark';
function useTheme(): [Theme, (t: Theme) => void] {
  const [t, setT] = useState<Theme>(() => (localStorage.getItem('hlc.theme') as Theme) || 'system');
  useEffect(() => {
    const root = document.documentElement;
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    const apply = () => {
      const dark = t === 'dark' || (t === 'system' && !!mq?.matches);
      root.dataset.theme = dark ? 'dark' : 'light';
    };
    apply();
    localStorage.setItem('hlc.theme', t);
    mq?.addEventListener?.('change', apply);
    return () => mq?.removeEventListener?.('change', apply);
  }, [t]);
  return [t, setT];
}

function KeyPrompt({ onDone }: { onDone: () => void }) {
  const [k, setK] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setKey(k.trim());
    try {
      await api('GET', '/servers');
      onDone();
    } catch (x: any) {
      setKey(null);
      setErr(x?.status === 401 ? 'The hub refused this key.' : `Could not reach the hub: ${x?.message ?? x}`);
    }
  };
  return (
    <main className="keyprompt">
      <h1>HomelabCmd</h1>
      <form onSubmit={submit}>
        <label htmlFor="apikey">API key</label>
        <input id="apikey" type="password" autoComplete="current-password" value={k}
          onChange={(e) => setK(e.target.value)} autoFocus required />
        <button type="submit">Connect</button>
        {err && <p className="error" role="alert">{err}</p>}
        <p className="muted">quickstart prints the key once; on the hub it is kept in <code>DATA_DIR/api_key</code> (<code>./data/api_key</code> for
          quickstart), or is the <code>HOMELABCMD_API_KEY</code> the hub was started with. This browser keeps it until you choose
          <i> Forget the key</i> in Settings.</p>
      </form>
    </main>
  );
}

/** Open (unacknowledged) alerts, shown beside "Alerts" in the header. */
export function AlertCount() {
  const q = usePoll<AlertList>(alertsPath({ status: 'open', limit: 1 }), 10000, '*');
  const n = q.data?.total ?? 0;
  if (!n) return null;
  return <span className="badge" data-testid="alert-count" aria-label={`${n} open alert${n === 1 ? '' : 's'}`}>{n > 99 ? '99+' : n}</span>;
}

export default function App() {
  const [hasKey, setHasKey] = useState(!!getKey());
  const [theme, setTheme] = useTheme();
  const hash = useHash();
  useEffect(() => {
    const f = () => { setKey(null); setHasKey(false); };
    window.addEventListener('hlc-unauthorized', f);
    return () => window.removeEventListener('hlc-unauthorized', f);
  }, []);
  if (!hasKey) return <KeyPrompt onDone={() => setHasKey(true)} />;

  const path = hash.replace(/^#/, '') || '/';
  const [route, query = ''] = path.split('?');
  const parts = route.split('/').filter(Boolean);
  let page;
  if (parts[0] === 'machine' && parts[1]) page = <MachineDetail id={decodeURIComponent(parts[1])} />;
  else if (parts[0] === 'alerts') page = <AlertsPage />;
  else if (parts[0] === 'actions') page = <ActionsPage />;
  else if (parts[0] === 'costs') page = <CostsPage />;
  else if (parts[0] === 'checks') page = <ChecksPage />;
  else if (parts[0] === 'scans') page = <ScansPage id={parts[1] ? decodeURIComponent(parts[1]) : undefined} />;
  else if (parts[0] === 'settings') page = <SettingsPage />;
  else if (parts[0] === 'compliance' && parts[1] && parts[2]) page = <ComplianceDetail id={decodeURIComponent(parts[1])} pack={decodeURIComponent(parts[2])} />;
  else if (parts[0] === 'compliance') page = <CompliancePage />;
  else if (parts[0] === 'discover') page = <DiscoverPage />;
  else if (parts[0] === 'add') page = <MachineForm key={query} query={query} />;
  else if (parts[0] === 'edit' && parts[1]) page = <MachineForm id={decodeURIComponent(parts[1])} />;
  else page = <Dashboard />;
  const nav = [['#/', 'Dashboard'], ['#/alerts', 'Alerts'], ['#/actions', 'Actions'], ['#/checks', 'Checks'], ['#/costs', 'Costs'], ['#/compliance', 'Compliance'], ['#/discover', 'Discover'], ['#/scans', 'Scans'], ['#/settings', 'Settings']];
  const isDark = theme === 'dark' || (theme === 'system' && !!window.matchMedia?.('(prefers-color-scheme: dark)').matches);
  return (
    <>
      <header className="top">
        <a className="brand" href="#/">HomelabCmd</a>
        <nav aria-label="Main">
          {nav.map(([h, l]) => (
            <a key={h} href={h} aria-current={(h === '#/' ? path === '/' : hash.startsWith(h)) ? 'page' : undefined}>{l}{h === '#/alerts' && <AlertCount />}</a>
          ))}
        </nav>
        <button type="button" className="theme" aria-label="Toggle dark mode" aria-pressed={isDark} title={isDark ? 'Switch to light mode' : 'Switch to dark mode'}
          onClick={() => setTheme(isDark ? 'light' : 'dark')}>{isDark ? '☀' : '☾'}</button>
      </header>
      <main id="main"><Suspense fallback={<p className="muted">Loading…</p>}>{page}</Suspense></main>
    </>
  );
}
