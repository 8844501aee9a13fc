// addflow.tsx - the guided Add machine: how the hub reaches the machine, the
// hub's key with the command that authorizes it (and the optional sudoers
// file), a connection test that shows which step failed and why; and the
// prefill a host found by network discovery hands to the form.
import { useEffect, useState } from 'react';
import { api, ApiError } from './api';
import sudoersFile from '../../deploy/sudoers.homelabcmd?raw';

export interface PublicKey { public_key: string; authorized_keys_line: string; install_hint: string }
export interface TestStep { name: string; status: 'ok' | 'failed' | 'skipped'; ms: number | null; detail: string | null; reason: string | null }
export interface TestResult {
  ok: boolean; target: { host: string; port: number; user: string; connectivity: string };
  host_key: string | null; fingerprint: string | null; steps: TestStep[];
}
export interface FoundHost { ip: string; hostname: string | null; mac: string | null; vendor: string | null; ssh: boolean; ssh_banner: string | null; registered_as: string | null }

export const STEP_LABELS: Record<string, string> = {
  resolve: 'Resolve the name', connect: 'TCP connect', host_key: 'Host key', auth: 'Authentication', exec: 'Run a command',
};
export const DEFAULT_USER = 'homelabcmd';
const USER_RE = /^[a-z_][a-z0-9_.-]{0,31}$/;

/** The address the hub will connect to, as the hub picks it for the connectivity. */
export function targetAddress(f: any): string {
  const pick = (...ks: string[]) => ks.map((k) => String(f?.[k] ?? '').trim()).find(Boolean) ?? '';
  return f?.connectivity === 'tailscale' ? pick('tailscale_ip', 'tailscale_hostname') : pick('ip_address', 'hostname');
}

/** The body of POST /test-connection for the form as it stands, or null without an address. */
export function testBody(f: any): { hostname: string; ssh_port?: number; ssh_user?: string } | null {
  const hostname = targetAddress(f);
  if (!hostname) return null;
  const body: any = { hostname };
  const port = String(f?.ssh_port ?? '').trim();
  if (port) body.ssh_port = Number(port);
  const user = String(f?.ssh_user ?? '').trim();
  if (user) body.ssh_user = user;
  return body;
}

/** The shipped sudoers file for `user`, and the one command that installs and checks it. */
export function sudoersCommand(user: string): string {
  const u = USER_RE.test(user) ? user : DEFAULT_USER;
  const text = sudoersFile.trimEnd().replace(/^homelabcmd (ALL=)/m, `${u} $1`);
  return `sudo tee /etc/sudoers.d/homelabcmd >/dev/null <<'EOF'\n${text}\nEOF\n`
    + 'sudo chmod 0440 /etc/sudoers.d/homelabcmd && sudo visudo -cf /etc/sudoers.d/homelabcmd';
}

/** The first step that failed, in words, or null when none did. */
export function failedStep(r: TestResult): string | null {
  const s = r.steps.find((x) => x.status === 'failed');
  if (!s) return null;
  return `${STEP_LABELS[s.name] ?? s.name} failed: ${s.reason ?? 'failed'}${s.detail ? ` (${s.detail})` : ''}`;
}

/** The hash that opens Add machine pre-filled with a discovered host. */
export function addHash(h: FoundHost): string {
  const q = new URLSearchParams({ ip: h.ip });
  if (h.hostname) q.set('hostname', h.hostname);
  return `#/add?${q.toString()}`;
}

/** The form's starting fields from #/add?ip=&hostname= (anything else is ignored). */
export function addPrefill(qs: string): Record<string, string> {
  const q = new URLSearchParams(qs);
  const ip = q.get('ip') ?? '';
  const name = q.get('hostname') ?? '';
  const out: Record<string, string> = {};
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) out.ip_address = ip;
  if (/^[A-Za-z0-9.-]{1,253}$/.test(name)) out.hostname = name;
  else if (out.ip_address) out.hostname = out.ip_address;
  const base = (out.hostname && out.hostname !== out.ip_address ? out.hostname.split('.')[0] : `host-${ip.replace(/\./g, '-')}`)
    .toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  if (out.ip_address || out.hostname) out.server_id = base || 'machine';
  return out;
}

function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState('');
  const copy = async () => {
    try { await navigator.clipboard.writeText(text); setDone('Copied.'); }
    catch { setDone('Select the text and copy it.'); }
  };
  return <><button type="button" onClick={copy}>{label}</button> <span role="status" className="small">{done}</span></>;
}

/** Steps 2 and 3 of Add machine, for the form's fields `f`. */
export function ConnectGuide({ f }: { f: any }) {
  const [key, setKey] = useState<PublicKey | null>(null);
  const [keyErr, setKeyErr] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<TestResult | null>(null);
  const [err, setErr] = useState('');
  useEffect(() => {
    api<PublicKey>('GET', '/ssh/public-key').then(setKey).catch((e) => setKeyErr(e?.message ?? String(e)));
  }, []);
  const user = String(f.ssh_user ?? '').trim() || DEFAULT_USER;
  const body = testBody(f);
  const test = async () => {
    if (!body) return;
    setBusy(true); setErr(''); setResult(null);
    try { setResult(await api<TestResult>('POST', '/test-connection', body)); }
    catch (e: any) { setErr(e instanceof ApiError ? `${e.field ? `${e.field}: ` : ''}${e.message}` : String(e?.message ?? e)); }
    finally { setBusy(false); }
  };
  const failed = result ? failedStep(result) : null;
  return (
    <>
      <section aria-label="Authorize the hub" className="guide">
        <h2>Authorize the hub's key</h2>
        {keyErr && <p className="error" role="alert">The hub's key could not be read: {keyErr}</p>}
        {key && (<>
          <p className="small">The hub's public key:</p>
          <pre aria-label="Hub public key">{key.public_key}</pre>
          <p className="small">On the machine, logged in as <strong>{user}</strong>, run:</p>
          <pre aria-label="Authorize command">{key.install_hint}</pre>
          <CopyButton text={key.install_hint} label="Copy command" />
        </>)}
        <details>
          <summary>Optional: let {user} run the hub's commands as root (sudoers)</summary>
          <p className="small">Needed only when {user} is not root, for the restart, log and update buttons
            (sudo 1.9.10 or newer). It allows exactly the commands the hub sends, through <code>sudo -n</code>.</p>
          <pre aria-label="Sudoers command">{sudoersCommand(user)}</pre>
          <CopyButton text={sudoersCommand(user)} label="Copy sudoers command" />
        </details>
      </section>
      <section aria-label="Test connection" className="guide">
        <h2>Test the connection</h2>
        <p className="small muted">{body ? `The hub connects to ${body.hostname}:${body.ssh_port ?? 22} as ${user}${f.connectivity === 'tailscale' ? ' over Tailscale' : ''}; nothing is stored.`
          : f.connectivity === 'tailscale' ? 'Enter the Tailscale IP or name first.' : 'Enter the IP address or hostname first.'}</p>
        <button type="button" onClick={test} disabled={!body || busy}>{busy ? 'Testing…' : 'Test connection'}</button>
        {err && <p className="error" role="alert">{err}</p>}
        {result && (<>
          <ol aria-label="Connection steps" data-ok={result.ok ? 'true' : 'false'}>
            {result.steps.map((s) => (
              <li key={s.name} data-step={s.name} data-status={s.status} className={s.status === 'failed' ? 'error' : s.status === 'skipped' ? 'muted' : undefined}>
                {STEP_LABELS[s.name] ?? s.name}: {s.status}{s.ms !== null ? ` (${s.ms} ms)` : ''}
                {s.detail ? ` · ${s.detail}` : ''}{s.reason ? ` · ${s.reason}` : ''}
              </li>))}
          </ol>
          <p role="status" data-result={result.ok ? 'ok' : 'failed'} className={result.ok ? undefined : 'error'}>
            {result.ok ? `Connected: every step passed${result.fingerprint ? ` (host key ${result.fingerprint})` : ''}. Add the machine below.` : failed}
          </p>
        </>)}
      </section>
    </>
  );
}
