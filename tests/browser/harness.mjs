// harness.mjs - starts the real hub (HLC_BUILD_DIR) serving www/dist, real sshd
// machines through tests/integration/sshd.py, and Debian's Chromium.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync, existsSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(here, '..', '..');
export const BUILD = process.env.HLC_BUILD_DIR || join(ROOT, 'build');
export const HUB_BIN = join(BUILD, 'server', 'homelabcmd');
export const WWW = join(ROOT, 'www', 'dist');
export const KEY = 'browser-key-0123456789abcdef0123456789abcdef';
export const ARTIFACTS = join(here, 'artifacts');
export const SSHD = join(ROOT, 'tests', 'integration', 'sshd.py');
// Stand-in for sudo on the test machines (as in test_executor.py): only the
// non-interactive form, logged, runs the command as the same user.
const SUDO = `#!/bin/sh
echo "$(date +%s) sudo $*" >> "$HLC_MACHINE/commands.log"
if [ "$1" != "-n" ]; then echo "sudo: a password is required" >&2; exit 1; fi
shift
while [ $# -gt 0 ]; do case "$1" in *=*) export "$1"; shift;; *) break;; esac; done
exec "$@"
`;

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
    s.on('error', rej);
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Hub {
  /** opts.dir: keep the hub's data in this directory (not removed on stop);
   *  opts.env: extra environment for the hub. */
  constructor(opts = {}) { this.keepDir = opts.dir; this.www = opts.www || WWW; this.extraEnv = opts.env || {}; }
  async start() {
    if (!existsSync(HUB_BIN)) throw new Error(`no hub binary at ${HUB_BIN} (set HLC_BUILD_DIR)`);
    if (!existsSync(join(this.www, 'index.html'))) throw new Error(`no ${this.www}/index.html: run npm run build in www/`);
    this.dir = this.keepDir || mkdtempSync(join(tmpdir(), 'hlc-browser-'));
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HOMELABCMD_')));
    env.HOMELABCMD_API_KEY = KEY;
    env.HOMELABCMD_DATA_DIR = this.dir;
    env.ASAN_OPTIONS ??= 'detect_leaks=1:abort_on_error=0';
    Object.assign(env, this.extraEnv);
    const out = join(this.dir, 'hub.log');
    this.logPath = out;
    const fd = (await import('node:fs')).openSync(out, 'a');
    this.proc = spawn(HUB_BIN, ['serve', '--listen', `127.0.0.1:${this.port}`, '--www-dir', this.www], { env, stdio: ['ignore', fd, fd] });
    for (let i = 0; i < 400; i++) {
      if (this.proc.exitCode !== null) throw new Error('hub exited:\n' + this.log());
      try { const r = await fetch(this.url + '/api/v1/system/health'); if (r.ok) return this; } catch { /* not yet */ }
      await sleep(50);
    }
    throw new Error('hub did not become healthy:\n' + this.log());
  }
  log() { try { return readFileSync(this.logPath, 'utf8'); } catch { return ''; } }
  async req(method, path, body) {
    const r = await fetch(this.url + path, {
      method, headers: { 'X-API-Key': KEY, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const t = await r.text();
    let json = null; try { json = t ? JSON.parse(t) : null; } catch { json = null; }
    return { status: r.status, json, text: t };
  }
  async stop() {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      await new Promise((r) => { const t = setTimeout(() => { this.proc.kill('SIGKILL'); r(); }, 15000); this.proc.once('exit', () => { clearTimeout(t); r(); }); });
    }
    const log = this.log();
    if (this.dir && !this.keepDir) rmSync(this.dir, { recursive: true, force: true });
    if (/ERROR: AddressSanitizer|runtime error:|LeakSanitizer/.test(log)) throw new Error('sanitizer report in hub log:\n' + log.slice(-4000));
  }
}

/** Real sshd machines through the fixture's CLI; stopped by PID with `down`. */
export class Fleet {
  /** opts.thermal: each machine gets sshd.py's THERMAL_FIXTURE zones at /sys/class/thermal. */
  constructor(count, pubkey, firstIp = 2, opts = {}) { this.count = count; this.pubkey = pubkey; this.firstIp = firstIp; this.opts = opts; }
  up() {
    this.dir = mkdtempSync(join(tmpdir(), 'hlc-fleet-'));
    const pk = join(this.dir, 'hub.pub');
    writeFileSync(pk, this.pubkey + '\n');
    const out = execFileSync('python3', [SSHD, 'up', '--dir', this.dir, '--count', String(this.count), '--pubkey-file', pk, '--first-ip', String(this.firstIp),
      ...(this.opts.thermal ? ['--thermal'] : [])], { encoding: 'utf8' });
    const doc = JSON.parse(out.slice(out.indexOf('{')));
    this.user = doc.user;
    this.machines = doc.machines;
    for (const m of this.machines) writeFileSync(join(m.dir, 'bin', 'sudo'), SUDO, { mode: 0o755 });
    return this;
  }
  setUnit(m, unit, state) {
    const p = join(m.dir, 'state', 'units', unit);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, state + '\n');
    const uid = Number(execFileSync('id', ['-u', this.user], { encoding: 'utf8' }).trim());
    try { chownSync(p, uid, -1); } catch { /* not root: the file is ours already */ }
  }
  setContainer(m, name, state) {
    const p = join(m.dir, 'state', 'containers', name);
    writeFileSync(p, state + '\n');
    const uid = Number(execFileSync('id', ['-u', this.user], { encoding: 'utf8' }).trim());
    try { chownSync(p, uid, -1); } catch { /* not root: the file is ours already */ }
  }
  containerState(m, name) {
    try { return readFileSync(join(m.dir, 'state', 'containers', name), 'utf8').trim(); } catch { return null; }
  }
  /** A reinstalled machine: new SSH host key, sshd restarted on the same address. */
  rekey(m) {
    const out = execFileSync('python3', [SSHD, 'rekey', '--dir', this.dir, '--name', m.name], { encoding: 'utf8' });
    Object.assign(m, JSON.parse(out.slice(out.indexOf('{'))));
  }
  unitState(m, unit) {
    try { return readFileSync(join(m.dir, 'state', 'units', unit), 'utf8').trim(); } catch { return null; }
  }
  down() {
    if (!this.dir) return;
    try { execFileSync('python3', [SSHD, 'down', '--dir', this.dir], { stdio: 'ignore' }); } finally { rmSync(this.dir, { recursive: true, force: true }); }
  }
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.HLC_CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** A page already holding the API key, so the prompt does not show. */
export async function openPage(browser, hub, opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
  await ctx.addInitScript((k) => { if (!localStorage.getItem('hlc.apiKey')) localStorage.setItem('hlc.apiKey', k); }, KEY);
  const page = await ctx.newPage();
  const external = [];
  page.on('request', (r) => { const u = r.url(); if (!u.startsWith(hub.url) && !u.startsWith('data:') && !u.startsWith('blob:')) external.push(u); });
  page.external = external;
  return page;
}

export async function shot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, name + '.png'), fullPage: true });
}

export async function until(fn, ms = 15000, step = 200) {
  const end = Date.now() + ms;
  let v;
  while (Date.now() < end) { v = await fn(); if (v) return v; await sleep(step); }
  return fn();
}
