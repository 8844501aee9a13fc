// bench_dashboard.mjs - the dashboard in headless Chromium on loopback against the
// real hub holding 50 machines with 30 days of history (seeded into its SQLite
// file by seed_history.py while the hub is stopped).
// Figures: time to a rendered dashboard (Performance API, navigation start to all
// 50 cards drawn with their bars), a 30-day chart's render time (uPlot build,
// and click-to-drawn including the history request), JS+CSS transferred (gzip).
// Baseline in the same run: GET /api/v1/servers from Node (the data the page
// needs, without a browser), so the ratio says what the browser side costs.
// Goals: <= 500 ms, <= 100 ms, <= 300 KB. HLC_BENCH_RUNS (default 5) loads each.
// Then the fleet table with HLC_BENCH_TABLE_MACHINES (default 500) machines: the
// table's render (mount to all rows painted, and navigation start to that) and a
// search's filter time (keystroke to the filtered rows painted), against GET
// /api/v1/servers for that fleet from Node in the same run.
// HLC_BENCH_COMPARE_WWW=DIR: also load another build of the dashboard (say the one
// on main) from a second hub holding a copy of the same data, alternating loads
// with this one, so load from other processes falls on both alike.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hub, launch, openPage } from '../browser/harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.HLC_BENCH_MACHINES || 50);
const DAYS = Number(process.env.HLC_BENCH_DAYS || 30);
const STEP = Number(process.env.HLC_BENCH_STEP || 300);
const RUNS = Number(process.env.HLC_BENCH_RUNS || 5);
const med = (a) => { const s = a.slice().sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };

const COMPARE = process.env.HLC_BENCH_COMPARE_WWW || '';
const dir = mkdtempSync(join(tmpdir(), 'hlc-bench-dash-'));
const dir2 = COMPARE ? mkdtempSync(join(tmpdir(), 'hlc-bench-dash-')) : null;
let hub = new Hub({ dir });
let hub2 = null;
let browser;

/** Installed in every page before its own scripts: the Performance API time of
 * the first frame painted with all N cards and their bars (the DOM change that
 * completes them, then the end of the frame that draws it: a task posted from
 * requestAnimationFrame runs after that frame's paint). */
function markRendered(n) {
  const done = () => document.querySelectorAll('.card').length >= n
    && document.querySelectorAll('.card [role=meter][aria-label=Disk]').length >= n * 0.8;
  const mo = new MutationObserver(() => {
    if (!done()) return;
    mo.disconnect();
    requestAnimationFrame(() => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => { window.__hlcRendered = performance.now(); };
      ch.port2.postMessage(0);
    });
  });
  mo.observe(document, { childList: true, subtree: true });
}

/** One cold load (new context) then a warm reload: ms from navigation start to
 * the N cards painted (in the page), and to the test driver seeing them. */
async function load(h, wantBytes) {
  const page = await openPage(browser, h);
  await page.context().addInitScript(markRendered, N);
  const out = {};
  for (const kind of ['cold', 'warm']) {
    if (kind === 'warm') await page.goto('about:blank');
    await page.goto(h.url + '/');
    await page.waitForFunction(() => window.__hlcRendered !== undefined, null, { timeout: 30000 });
    const cards = await page.evaluate(() => document.querySelectorAll('.card').length);
    if (cards !== N) throw new Error(`${cards} cards drawn, want ${N}`);
    const [painted, seen] = await page.evaluate(() => [window.__hlcRendered, performance.now()]);
    out[kind] = painted;
    out[kind + 'Seen'] = seen;
    if (kind === 'cold' && wantBytes) {
      out.bytes = await page.evaluate(() => performance.getEntriesByType('resource')
        .filter((e) => /\.(js|css)(\?|$)/.test(e.name)).reduce((a, e) => a + e.transferSize, 0));
    }
  }
  await page.context().close();
  return out;
}
try {
  await hub.start();
  for (let i = 0; i < N; i++) {
    const id = `machine-${String(i + 1).padStart(2, '0')}`;
    const r = await hub.req('POST', '/api/v1/servers', {
      server_id: id, display_name: `Machine ${i + 1}`, hostname: '127.0.0.1', ssh_port: 1, tdp_watts: 35,
      machine_type: i % 5 === 4 ? 'workstation' : 'server', expected_services: [{ name: 'sshd', critical: true }],
    });
    if (r.status !== 201) throw new Error(r.text);
  }
  await hub.stop();
  const t0 = Date.now();
  console.log(execFileSync('python3', [join(here, 'seed_history.py'), join(dir, 'homelabcmd.db'), String(DAYS), String(STEP)], { encoding: 'utf8' }).trim(),
    `(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  if (COMPARE) {
    cpSync(dir, dir2, { recursive: true });
    hub2 = await new Hub({ dir: dir2, www: COMPARE }).start();
  }
  hub = new Hub({ dir });
  await hub.start();

  // Baseline: the fleet JSON fetched from Node.
  const api = [];
  for (let i = 0; i < RUNS * 2; i++) {
    const s = performance.now();
    const r = await fetch(hub.url + '/api/v1/servers', { headers: { 'X-API-Key': (await import('../browser/harness.mjs')).KEY } });
    await r.json();
    api.push(performance.now() - s);
  }

  browser = await launch();
  const dash = [];
  const warm = [];
  const seen = [];
  const dash2 = [];
  const warm2 = [];
  let bytes = null;
  let bytes2 = null;
  for (let i = 0; i < RUNS; i++) {
    const order = i % 2 ? [hub2, hub] : [hub, hub2];
    for (const h of order) {
      if (!h) continue;
      const r = await load(h, (h === hub ? bytes : bytes2) === null);
      if (h === hub) { dash.push(r.cold); warm.push(r.warm); seen.push(r.coldSeen); bytes ??= r.bytes; }
      else { dash2.push(r.cold); warm2.push(r.warm); bytes2 ??= r.bytes; }
    }
  }

  const build = [];
  const click = [];
  const page = await openPage(browser, hub);
  for (let i = 0; i < RUNS; i++) {
    await page.goto(hub.url + '/#/machine/machine-' + String(i + 1).padStart(2, '0'));
    await page.locator('.chart-box[data-state=ready]').waitFor({ timeout: 30000 });
    const s = await page.evaluate(() => performance.now());
    await page.getByRole('button', { name: '30d' }).click();
    await page.locator('.chart-box[data-range="30d"][data-state=ready]').waitFor({ timeout: 30000 });
    const e = await page.evaluate(() => performance.now());
    click.push(e - s);
    build.push(Number(await page.locator('.chart-box').getAttribute('data-render-ms')));
    const pts = Number(await page.locator('.chart-box').getAttribute('data-points'));
    if (pts < 100) throw new Error(`30-day chart has only ${pts} points`);
  }
  await page.context().close();

  // The fleet table with TABLE_N machines: the extra ones registered now, each with
  // two heartbeats in the last hour so its sparklines have a line.
  const TABLE_N = Number(process.env.HLC_BENCH_TABLE_MACHINES || 500);
  const { KEY } = await import('../browser/harness.mjs');
  const GIB = 1024 ** 3;
  const now = Math.floor(Date.now() / 1000);
  for (let i = N; i < TABLE_N; i++) {
    const id = `machine-${String(i + 1).padStart(3, '0')}`;
    const r = await hub.req('POST', '/api/v1/servers', { server_id: id, display_name: `Machine ${i + 1}`, hostname: '127.0.0.1', ssh_port: 1,
      machine_type: i % 5 === 4 ? 'workstation' : 'server', tags: [i % 3 ? 'rack' : 'edge'] });
    if (r.status !== 201) throw new Error(r.text);
    for (const [k, t] of [[0, now - 1200], [1, now - 60]]) {
      const h = await hub.req('POST', '/api/v1/agents/heartbeat', { server_id: id, hostname: `${id}.lan`,
        timestamp: new Date(t * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
        metrics: { cpu_cores: 4, cpu_total_jiffies: 10000 + k * 1000, cpu_idle_jiffies: 9000 + k * (500 + (i % 400)), memory_total_bytes: 8 * GIB,
          memory_available_bytes: Math.round((2 + (i % 5)) * GIB), load_1m: (i % 7) / 2, load_5m: 0.5, load_15m: 0.5, uptime_seconds: 3600 + i } });
      if (h.status !== 200) throw new Error(h.text);
    }
  }
  const api500 = [];
  for (let i = 0; i < RUNS * 2; i++) {
    const s = performance.now();
    const r = await fetch(hub.url + '/api/v1/servers', { headers: { 'X-API-Key': KEY } });
    await r.json();
    api500.push(performance.now() - s);
  }
  const tRender = [];
  const tNav = [];
  const tFilter = [];
  const tClear = [];
  for (let i = 0; i < RUNS; i++) {
    const tp = await openPage(browser, hub);
    await tp.context().addInitScript(() => localStorage.setItem('hlc.fleetView', 'table'));
    await tp.goto(hub.url + '/');
    const tbl = tp.locator('[data-testid=fleet-table][data-render-ms]');
    await tbl.waitFor({ timeout: 30000 });
    const rows = await tp.locator('[data-testid=fleet-table] tbody tr').count();
    if (rows !== TABLE_N) throw new Error(`${rows} table rows, want ${TABLE_N}`);
    tRender.push(Number(await tbl.getAttribute('data-render-ms')));
    tNav.push(await tp.evaluate(() => performance.now()));
    for (const [text, want, into] of [['Machine 12', null, tFilter], ['', TABLE_N, tClear]]) {
      await tp.evaluate(() => { delete document.querySelector('[data-testid=fleet-table]').dataset.filterMs; });
      await tp.locator('input[name=fleet-search]').fill(text);
      await tp.locator('[data-testid=fleet-table][data-filter-ms]').waitFor({ timeout: 30000 });
      const n = Number(await tp.locator('[data-testid=fleet-table]').getAttribute('data-rows'));
      if (want !== null && n !== want) throw new Error(`${n} rows after clearing the search`);
      into.push(Number(await tp.locator('[data-testid=fleet-table]').getAttribute('data-filter-ms')));
    }
    await tp.context().close();
  }

  const f = (x) => x.toFixed(1);
  console.log(`machines ${N}, history ${DAYS} d every ${STEP} s, runs ${RUNS}`);
  console.log(`baseline GET /api/v1/servers from Node: median ${f(med(api))} ms`);
  console.log(`dashboard rendered (cold cache, navigation start -> first frame painted with ${N} cards): median ${f(med(dash))} ms, max ${f(Math.max(...dash))} ms  (goal <= 500 ms; ${f(med(dash) / med(api))}x the API baseline)`);
  console.log(`dashboard rendered (warm cache): median ${f(med(warm))} ms`);
  console.log(`cold loads as the test driver saw them (its polling and round trips to the page added): median ${f(med(seen))} ms`);
  console.log(`30-day chart: uPlot render median ${f(med(build))} ms (goal <= 100 ms); click -> drawn incl. history request median ${f(med(click))} ms`);
  console.log(`JS+CSS transferred (gzip, cold): ${(bytes / 1024).toFixed(1)} KiB (goal <= 300 KB)`);
  console.log(`fleet table, ${TABLE_N} machines: baseline GET /api/v1/servers from Node median ${f(med(api500))} ms`);
  console.log(`fleet table render (table mounted -> ${TABLE_N} rows with sparklines painted): median ${f(med(tRender))} ms, max ${f(Math.max(...tRender))} ms (${f(med(tRender) / med(api500))}x the API baseline); navigation start -> the driver saw them: median ${f(med(tNav))} ms`);
  console.log(`fleet table search "Machine 12" (keystroke -> filtered rows painted): median ${f(med(tFilter))} ms; clearing it (-> ${TABLE_N} rows): median ${f(med(tClear))} ms, max ${f(Math.max(...tClear))} ms`);
  if (COMPARE) {
    console.log(`compared build ${COMPARE}, loads alternated with the above: cold median ${f(med(dash2))} ms, max ${f(Math.max(...dash2))} ms; warm median ${f(med(warm2))} ms; JS+CSS ${(bytes2 / 1024).toFixed(1)} KiB`);
    console.log(`cold loads, this build vs compared: ${dash.map(f).join(' ')} | ${dash2.map(f).join(' ')}`);
  }
} finally {
  await browser?.close();
  await hub.stop().catch((e) => console.error(String(e).slice(0, 2000)));
  await hub2?.stop().catch((e) => console.error(String(e).slice(0, 2000)));
  rmSync(dir, { recursive: true, force: true });
  if (dir2) rmSync(dir2, { recursive: true, force: true });
}
