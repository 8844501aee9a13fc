// operator.test.mjs - the dashboard as an operator lives in it (issue 28): controls
// that ask before they hurt, a layout that cannot break, actions started from the
// machine page, the fleet table, per-metric charts, names, contrast. Real hub, real
// sshd machines, Debian's Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { Hub, Fleet, launch, openPage, shot, until } from './harness.mjs';

let hub, fleet, browser;

before(async () => {
  hub = await new Hub().start();
  const pub = (await hub.req('GET', '/api/v1/ssh/public-key')).json.public_key;
  fleet = new Fleet(2, pub, 60, { thermal: true }).up(); // sshd.py's zones: x86_pkg_temp, acpitz twice
  let r = await hub.req('PUT', '/api/v1/config', { polling: { poll_interval_seconds: 10, ssh_timeout_seconds: 8 } });
  assert.equal(r.status, 200, r.text);
  for (const [i, m] of fleet.machines.entries()) {
    fleet.setUnit(m, 'plex', 'active');
    fleet.setUnit(m, 'sonarr', 'active');
    r = await hub.req('POST', '/api/v1/servers', {
      server_id: `op${i}`, display_name: `Operator box ${i}`, hostname: m.host, ip_address: m.host, ssh_port: m.port,
      ssh_user: fleet.user, machine_type: 'server', tags: i === 0 ? ['media'] : ['backup'],
      expected_services: [{ name: 'plex', critical: true }, { name: 'sonarr', critical: false }],
    });
    assert.equal(r.status, 201, r.text);
    r = await hub.req('POST', `/api/v1/servers/op${i}/poll`);
    assert.equal(r.status, 200, r.text);
  }
  browser = await launch();
});

after(async () => {
  await browser?.close();
  fleet?.down();
  await hub?.stop();
});

test('stop asks first and is styled as destructive; the outcome shows in the row', async () => {
  const m = fleet.machines[0];
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/machine/op0');
  const row = page.locator('[data-widget="services"] [data-service="plex"]');
  await row.waitFor();
  const stop = row.getByRole('button', { name: 'stop plex', exact: true });
  const restart = row.getByRole('button', { name: 'restart plex', exact: true });
  const colour = (l) => l.evaluate((e) => getComputedStyle(e).color);
  assert.notEqual(await colour(stop), await colour(restart), 'stop does not look like restart');
  assert.match(await stop.getAttribute('class'), /danger/);
  // A click only asks; Cancel leaves the unit alone.
  await stop.click();
  const ask = row.getByRole('group', { name: 'Confirm stop plex' });
  await ask.waitFor();
  assert.match(await ask.textContent(), /critical/);
  await page.waitForTimeout(300);
  assert.equal(fleet.unitState(m, 'plex'), 'active', 'nothing ran before the confirmation');
  await ask.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await ask.count(), 0);
  assert.equal(fleet.unitState(m, 'plex'), 'active');
  // Restart of a critical service asks too.
  await restart.click();
  await row.getByRole('group', { name: 'Confirm restart plex' }).getByRole('button', { name: 'Cancel' }).click();
  // Confirmed: runs on the target, and the exit code and duration show where the click was.
  await stop.click();
  await row.getByRole('button', { name: 'Yes, stop plex' }).click();
  const out = row.locator('.outcome');
  await out.waitFor({ timeout: 20000 });
  assert.match(await out.textContent(), /stop: success · exit 0 · \d+ ms/);
  assert.equal(fleet.unitState(m, 'plex'), 'inactive');
  // A non-critical restart runs on one click.
  fleet.setUnit(m, 'sonarr', 'inactive');
  const srow = page.locator('[data-widget="services"] [data-service="sonarr"]');
  await srow.getByRole('button', { name: 'restart sonarr', exact: true }).click();
  await srow.locator('.outcome').waitFor({ timeout: 20000 });
  assert.equal(fleet.unitState(m, 'sonarr'), 'active');
  // A failing unit: the failure and its output, not a success.
  fleet.setUnit(m, 'plex', 'broken');
  await restart.click();
  await row.getByRole('button', { name: 'Yes, restart plex' }).click();
  await until(async () => /restart failed/.test(await out.textContent()), 20000);
  assert.match(await out.textContent(), /restart failed · exit [1-9]/);
  await out.locator('summary').click();
  assert.match(await out.locator('pre').textContent(), /plex|failed/i);
  fleet.setUnit(m, 'plex', 'active');
  await shot(page, 'controls');
  await page.context().close();
});

/** What breaks a layout, measured in the page: widgets that intersect, content wider
 * than its box, a value squeezed to a letter per line, a small widget's value cut. */
async function layoutFaults(page) {
  return page.evaluate(() => {
    const ws = [...document.querySelectorAll('[data-widget]')].map((e) => ({ id: e.dataset.widget, e, r: e.getBoundingClientRect() }));
    const bad = [];
    for (let i = 0; i < ws.length; i++) {
      for (let j = i + 1; j < ws.length; j++) {
        const a = ws[i].r, b = ws[j].r;
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1) bad.push(`${ws[i].id} intersects ${ws[j].id}`);
      }
    }
    for (const { id, e, r } of ws) {
      if (e.scrollWidth > e.clientWidth + 1) bad.push(`${id}: content ${e.scrollWidth} px wider than its box ${e.clientWidth} px`);
      if (['cpu', 'memory', 'load', 'system'].includes(id) && e.scrollHeight > e.clientHeight + 1) bad.push(`${id}: value cut (${e.scrollHeight} > ${e.clientHeight} px)`);
      for (const v of e.querySelectorAll('.bar-value, .big, dd, h3')) {
        const vr = v.getBoundingClientRect();
        if (vr.left < r.left - 1 || vr.right > r.right + 1) bad.push(`${id}: "${v.textContent.slice(0, 20)}" outside its box`);
        if (v.scrollWidth > v.clientWidth + 1) bad.push(`${id}: "${v.textContent.slice(0, 20)}" wider than its box`);
        if (v.tagName === "DD" && v.textContent.length > 3 && vr.width < 60) bad.push(`${id}: "${v.textContent.slice(0, 20)}" squeezed to ${Math.round(vr.width)} px`);
      }
    }
    return bad;
  });
}

test('layout editor: one layout per breakpoint; an md edit crossing to 1400 and 390 leaves lg; no overlap at 1400/1024/390', async () => {
  const page = await openPage(browser, hub, { viewport: { width: 1400, height: 900 } });
  const layout = async () => (await hub.req('GET', '/api/v1/servers/op1/layout')).json;
  const ready = async () => {
    await page.locator('[data-widget="system"] dd').first().waitFor();
    await page.locator('[data-widget="cpu"] [role=meter]').waitFor();
    await page.waitForTimeout(200);
  };
  const at = async (width, height, what) => {
    await page.setViewportSize({ width, height });
    await page.waitForTimeout(300);
    assert.deepEqual(await layoutFaults(page), [], what);
  };
  const box = async (id) => page.locator(`[data-widget="${id}"]`).boundingBox();
  const editing = async () => page.getByTestId('bp-note').getAttribute('data-breakpoint');
  await page.goto(hub.url + '/#/machine/op1');
  await ready();
  assert.deepEqual(await layoutFaults(page), [], 'fresh page at 1400');
  // A keyboard move on the wide grid: Load one column left; saved as lg.
  await page.getByRole('button', { name: 'Edit layout' }).click();
  assert.equal(await editing(), 'lg');
  await page.locator('[data-widget="load"] .widget-head').focus();
  await page.keyboard.press('ArrowLeft');
  await page.getByRole('button', { name: 'Save layout' }).click();
  await page.getByText('Layout saved.').waitFor();
  const lg = (await layout()).breakpoints.lg;
  assert.equal(lg.find((x) => x.id === 'load').x, 7, 'moved one column left with the keyboard');
  assert.deepEqual(Object.keys((await layout()).breakpoints), ['lg']);
  const min = { cpu: 3, memory: 3, load: 3, system: 3, chart: 6 };
  for (const x of lg) if (min[x.id]) assert.ok(x.w >= min[x.id], `${x.id} saved ${x.w} columns wide`);

  // Edit at 1024 (md, 6 columns): Memory one column wider, by keyboard.
  await at(1024, 768, 'at 1024 before the md edit');
  await page.getByRole('button', { name: 'Edit layout' }).click();
  assert.equal(await editing(), 'md');
  const cpuMd = await box('cpu');
  await page.locator('[data-widget="memory"] .widget-head').focus();
  await page.keyboard.press('Shift+ArrowRight');
  await page.waitForTimeout(300);
  assert.ok((await box('memory')).width > cpuMd.width * 1.3, 'memory wider on the md grid');
  assert.deepEqual(await layoutFaults(page), [], 'at 1024 after the md edit');
  // Mid-edit across the breakpoints: each width shows its own layout, unbroken.
  await at(1400, 900, 'crossed to 1400 mid-edit');
  assert.equal(await editing(), 'lg');
  assert.ok(Math.abs((await box('memory')).width - (await box('cpu')).width) < 2, 'lg not changed by the md edit');
  await at(390, 844, 'crossed to 390 mid-edit');
  assert.equal(await editing(), 'sm');
  // An edit at 390 is the sm layout's own: CPU moved down one place.
  await page.locator('[data-widget="cpu"] .widget-head').focus();
  await page.keyboard.press('ArrowDown');
  await page.waitForTimeout(300);
  assert.ok((await box('cpu')).y > (await box('memory')).y, 'cpu below memory on the sm grid');
  assert.deepEqual(await layoutFaults(page), [], 'at 390 after the sm edit');
  await at(1024, 768, 'back at 1024');
  assert.equal(await editing(), 'md');
  await page.getByRole('button', { name: 'Save layout' }).click();
  await page.getByText('Layout saved.').waitFor();
  let d = await layout();
  assert.deepEqual(d.breakpoints.lg, lg, 'lg as saved before the md edit');
  assert.equal(d.widgets.length, lg.length);
  const mem = d.breakpoints.md.find((x) => x.id === 'memory');
  assert.equal(mem.w, 3, `md measured at md: ${JSON.stringify(d.breakpoints.md)}`);
  for (const x of d.breakpoints.md) assert.ok(x.x + x.w <= 6, `${x.id} inside 6 columns`);
  for (const x of d.breakpoints.sm) assert.equal(x.w, 1, `${x.id} in the 1-column sm layout`);
  const sm = d.breakpoints.sm;
  assert.ok(sm.find((x) => x.id === 'cpu').y > sm.find((x) => x.id === 'memory').y);

  // After reload, at each width: its own layout, nothing intersecting or clipped.
  for (const [width, height] of [[1400, 900], [1024, 768], [390, 844]]) {
    await page.setViewportSize({ width, height });
    await page.reload();
    await ready();
    assert.deepEqual(await layoutFaults(page), [], `after the edit, at ${width} px`);
    const [c, m] = [await box('cpu'), await box('memory')];
    if (width === 1400) assert.ok(Math.abs(m.width - c.width) < 2, 'lg drawn as saved');
    if (width === 1024) assert.ok(m.width > c.width * 1.3, 'md drawn as saved');
    if (width === 390) assert.ok(c.y > m.y, 'sm drawn as saved');
    await shot(page, `layout-${width}`);
  }

  // A layout an older hub stored (a plain list, here one column wide) is read as lg and drawn repaired.
  const broken = lg.map((x, i) => ({ ...x, x: 0, y: i * 2, w: 1, h: 2 }));
  execFileSync('python3', ['-c', 'import sqlite3,sys; db=sqlite3.connect(sys.argv[1], timeout=10); db.execute("UPDATE server_layouts SET widgets=? WHERE server_id=\'op1\'", (sys.argv[2],)); db.commit()',
    `${hub.dir}/homelabcmd.db`, JSON.stringify(broken)]);
  d = await layout();
  assert.deepEqual(d.widgets, broken, 'the old form is the lg layout');
  assert.deepEqual(Object.keys(d.breakpoints), ['lg']);
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.reload();
  await ready();
  assert.deepEqual(await layoutFaults(page), [], 'a stored 1-column layout at 1400');
  // Reset to default resets this width only; Reset all widths the rest.
  await page.getByRole('button', { name: 'Edit layout' }).click();
  await page.getByRole('button', { name: 'Reset to default' }).click();
  await page.getByRole('button', { name: 'Save layout' }).click();
  await page.getByText('Layout saved.').waitFor();
  assert.deepEqual((await layout()).breakpoints, {});
  const load = await box('load'), grid = await page.locator('.grid-wrap').boundingBox();
  assert.ok(load.x > grid.x + grid.width / 2 && load.y < (await box('alerts')).y, 'load back in its default place');
  assert.equal((await hub.req('PUT', '/api/v1/servers/op1/layout', { breakpoints: { sm } })).status, 200);
  await page.reload();
  await ready();
  await page.getByRole('button', { name: 'Edit layout' }).click();
  await page.getByRole('button', { name: 'Reset all widths' }).click();
  await page.getByRole('button', { name: 'Save layout' }).click();
  await page.getByText('Layout saved.').waitFor();
  assert.deepEqual((await layout()).breakpoints, {});
  await page.context().close();
});

test('the smallest layout the hub accepts still fits every value, at the narrow end of each width', async () => {
  // Each widget's minimum per breakpoint (columns at lg, md; sm is 1), and rows.
  const MIN = { cpu: [3, 2, 3], memory: [3, 2, 3], load: [3, 2, 3], disk: [3, 2, 3], services: [4, 2, 4], containers: [4, 2, 4],
    network: [3, 2, 3], system: [3, 2, 6], cost: [3, 3, 4], chart: [6, 3, 7], alerts: [4, 2, 3], compliance: [4, 2, 3], ai: [4, 2, 5], gpu: [4, 2, 4] };
  const pack = (cols, shrink = null) => {
    const out = []; let x = 0, y = 0, rowH = 0;
    for (const [id, [lg, md, h]] of Object.entries(MIN)) {
      const w = (cols === 12 ? lg : cols === 6 ? md : 1) - (id === shrink ? 1 : 0);
      if (x + w > cols) { x = 0; y += rowH; rowH = 0; }
      out.push({ id, x, y, w, h }); x += w; rowH = Math.max(rowH, h);
    }
    return out;
  };
  const put = (bp, l) => hub.req('PUT', '/api/v1/servers/op1/layout', { breakpoints: { [bp]: l } });
  // One column less than its minimum is refused for every widget, naming it.
  for (const [bp, cols] of [['lg', 12], ['md', 6]]) {
    for (const [i, id] of Object.keys(MIN).entries()) {
      const r = await put(bp, pack(cols, id));
      assert.equal(r.status, 422, `${bp} ${id} under its minimum: ${r.text}`);
      assert.equal(r.json.detail.field, `breakpoints.${bp}[${i}].w`);
    }
  }
  for (const [bp, cols] of [['lg', 12], ['md', 6], ['sm', 1]]) assert.equal((await put(bp, pack(cols))).status, 200, bp);
  const page = await openPage(browser, hub, { viewport: { width: 1132, height: 900 } });
  try {
    // 1132, 592, 320 px windows: grids of ~1100, ~560 and ~290 px, the narrowest of lg, md and sm.
    for (const [width, bp] of [[1132, 'lg'], [592, 'md'], [320, 'sm']]) {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(hub.url + '/#/machine/op1');
      await page.reload();
      await page.locator('[data-widget="system"] dd').first().waitFor();
      await page.locator('[data-widget="cpu"] [role=meter]').waitFor();
      await page.locator('[data-testid="machine-cost"], [data-widget="cost"] p').first().waitFor();
      await page.waitForTimeout(200);
      await page.getByRole('button', { name: 'Edit layout' }).click();
      assert.equal(await page.getByTestId('bp-note').getAttribute('data-breakpoint'), bp, `${width} px is ${bp}`);
      await page.getByRole('button', { name: 'Done' }).click();
      assert.deepEqual(await layoutFaults(page), [], `every widget at its minimum, ${width} px`);
    }
  } finally {
    await page.context().close();
    await hub.req('PUT', '/api/v1/servers/op1/layout', { breakpoints: { lg: null, md: null, sm: null } });
  }
});

test('any whitelisted action starts from the machine page, through the approval rules', async () => {
  const m = fleet.machines[1];
  fleet.setUnit(m, 'sonarr', 'inactive');
  let r = await hub.req('PUT', '/api/v1/config', { remediation: { auto_approve_enabled: false } });
  assert.equal(r.status, 200, r.text);
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/machine/op1');
  await page.getByText('Run an action on this machine').click();
  const form = page.getByRole('form', { name: 'Run an action' });
  const options = await form.locator('select[name=action_type] option').allTextContents();
  for (const want of ['Restart a service', 'Apply updates', 'Clear logs', 'Run a custom script', 'Stop a container']) assert.ok(options.includes(want), options.join(', '));
  await form.locator('select[name=action_type]').selectOption({ label: 'Restart a service' });
  await form.locator('select[name=target]').selectOption('sonarr');
  await form.getByRole('button', { name: 'Run' }).click();
  const state = form.locator('.action-state');
  await state.getByText('Waiting for approval').waitFor();
  const aid = await state.getAttribute('data-action-id');
  const pending = (await hub.req('GET', '/api/v1/actions?status=pending&server_id=op1')).json.actions;
  assert.ok(pending.some((a) => a.action_id === aid && a.action_type === 'restart_service' && a.target === 'sonarr'), JSON.stringify(pending));
  assert.equal(fleet.unitState(m, 'sonarr'), 'inactive', 'nothing ran before approval');
  await state.getByRole('button', { name: 'Approve' }).click();
  await form.locator(`.action-state[data-status=completed] .outcome`).waitFor({ timeout: 20000 });
  assert.match(await form.locator('.outcome').textContent(), /Restart a service: success · exit 0/);
  assert.equal(fleet.unitState(m, 'sonarr'), 'active');
  // Auto-approved types run at once, with no approval step.
  r = await hub.req('PUT', '/api/v1/config', { remediation: { auto_approve_enabled: true, auto_approve_actions: ['restart_service'] } });
  assert.equal(r.status, 200, r.text);
  fleet.setUnit(m, 'sonarr', 'inactive');
  await form.getByRole('button', { name: 'Run' }).click();
  await form.locator('.action-state[data-status=completed] .outcome').waitFor({ timeout: 20000 });
  assert.equal(fleet.unitState(m, 'sonarr'), 'active');
  // Stopping asks first.
  await form.locator('select[name=action_type]').selectOption({ label: 'Stop a service' });
  await form.locator('select[name=target]').selectOption('sonarr');
  await form.getByRole('button', { name: 'Run' }).click();
  await form.getByRole('group', { name: 'Confirm the action' }).getByRole('button', { name: 'Cancel' }).click();
  assert.equal(fleet.unitState(m, 'sonarr'), 'active');
  await hub.req('PUT', '/api/v1/config', { remediation: { auto_approve_enabled: false } });
  await shot(page, 'run-action');
  await page.context().close();
});

test('fleet table: search, filter, sort, sparklines, remembered; names and reasons in words', async () => {
  let r = await hub.req('POST', '/api/v1/servers', { server_id: 'ghost', display_name: 'Ghost box', hostname: '127.0.0.1', ssh_port: 1, machine_type: 'server' });
  assert.equal(r.status, 201, r.text);
  await hub.req('POST', '/api/v1/servers/ghost/poll');
  for (const id of ['op0', 'op1']) await hub.req('POST', `/api/v1/servers/${id}/poll`);
  const page = await openPage(browser, hub, { viewport: { width: 1400, height: 900 } });
  await page.goto(hub.url + '/');
  // An unreachable machine says why on its card, in words, with what to do.
  const ghostCard = page.locator('.card[data-server-id="ghost"]');
  await ghostCard.getByTestId('unreachable').waitFor();
  assert.match(await ghostCard.getByTestId('unreachable').textContent(), /Nothing listens on the SSH port.*Start the SSH server/);
  await page.getByRole('group', { name: 'Fleet view' }).getByRole('button', { name: 'Table' }).click();
  const table = page.getByTestId('fleet-table');
  await table.locator('tbody tr').nth(2).waitFor();
  assert.equal(await table.locator('tbody tr').count(), 3);
  const names = () => table.locator('tbody tr').evaluateAll((els) => els.map((e) => e.dataset.serverId));
  assert.deepEqual(await names(), ['ghost', 'op0', 'op1'], 'by name first');
  // Sparklines of the last hour for the polled machines, one request for the fleet.
  await table.locator('tr[data-server-id="op0"] svg.spark').first().waitFor();
  assert.match(await table.locator('tr[data-server-id="op0"] svg.spark').first().getAttribute('aria-label'), /Operator box 0 CPU last hour/);
  await table.locator('input[name=fleet-search]').fill('box 1');
  await until(async () => (await table.locator('tbody tr').count()) === 1);
  assert.deepEqual(await names(), ['op1']);
  await table.locator('input[name=fleet-search]').fill('');
  await table.locator('select[name=fleet-status]').selectOption({ label: 'not reached yet' });
  await until(async () => (await table.locator('tbody tr').count()) === 1);
  assert.deepEqual(await names(), ['ghost']);
  await table.locator('select[name=fleet-status]').selectOption('');
  await table.locator('select[name=fleet-tag]').selectOption('backup');
  await until(async () => (await table.locator('tbody tr').count()) === 1);
  assert.deepEqual(await names(), ['op1']);
  await table.locator('select[name=fleet-tag]').selectOption('');
  await table.getByRole('button', { name: 'RAM' }).click();
  assert.equal(await table.locator('th', { has: page.getByRole('button', { name: /RAM/ }) }).getAttribute('aria-sort'), 'descending');
  // The values the table shows (the hub keeps polling, so the API's may be
  // newer than the table's); rounding keeps their order, '–' sorts last.
  // The click may land while the cleared tag filter is still re-rendering,
  // so wait for the order to settle before checking it.
  const ramShown = () => table.locator('tbody tr').evaluateAll((els) =>
    els.map((e) => { const v = parseFloat(e.cells[3].textContent); return Number.isNaN(v) ? -1 : v; }));
  await until(async () => (await ramShown())[2] === -1, 5000);
  const shownRam = await ramShown();
  assert.equal(shownRam.length, 3);
  assert.equal(shownRam[2], -1, `the machine never polled is last: ${shownRam}`);
  for (let i = 1; i < shownRam.length; i++) assert.ok(shownRam[i - 1] >= shownRam[i], `sorted by RAM: ${shownRam}`);
  // The choice of view is remembered.
  await page.reload();
  await table.locator('tbody tr').first().waitFor();
  assert.equal(await page.locator('.card').count(), 0);
  await shot(page, 'fleet-table');
  // The machine page explains too, prominently.
  await page.goto(hub.url + '/#/machine/ghost');
  await page.getByRole('heading', { name: 'The hub cannot reach this machine' }).waitFor();
  assert.match(await page.getByTestId('unreachable').textContent(), /What to do: Start the SSH server/);
  await page.evaluate(() => localStorage.setItem('hlc.fleetView', 'cards'));
  await page.context().close();
});

/** WCAG 2.1 contrast ratio of two 'rgb(r, g, b)' / [r, g, b] colours. */
export function contrast(a, b) {
  const rgb = (c) => (Array.isArray(c) ? c : c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number));
  const lum = (c) => {
    const [r, g, bb] = rgb(c).map((v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bb;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

test('history: a chart per metric, 1h to 1y, latest value in the legend, axes legible in dark mode', async () => {
  for (const id of ['op0']) await hub.req('POST', `/api/v1/servers/${id}/poll`);
  const page = await openPage(browser, hub, { viewport: { width: 1400, height: 1000 }, colorScheme: 'dark' });
  await page.goto(hub.url + '/#/machine/op0');
  const chart = page.locator('[data-widget="chart"]');
  await chart.locator('.chart-box[data-state=ready]').waitFor({ timeout: 15000 });
  const ranges = await chart.getByRole('group', { name: 'Chart range' }).getByRole('button').allTextContents();
  assert.deepEqual(ranges, ['1h', '6h', '24h', '7d', '30d', '1y']);
  // What the page itself was answered for 1h: polls land every 10 s, so a later read may differ.
  const answered = (path) => page.waitForResponse((r) => r.url().startsWith(`${hub.url}/api/v1/metrics/op0${path}?range=1h&`)).then((r) => r.json());
  const seen = Promise.all([answered(''), answered('/filesystems'), answered('/temperatures')]);
  await chart.getByRole('button', { name: '1h', exact: true }).click();
  const box = chart.locator('.chart-box[data-range="1h"][data-state=ready]');
  await box.waitFor();
  const [pageApi, fsApi, tempApi] = await seen;
  assert.equal(await box.getAttribute('data-bucket'), '60', 'one point a minute over the last hour');
  const metrics = await box.locator('figure').evaluateAll((els) => els.map((e) => e.dataset.metric));
  for (const want of ['cpu', 'memory', 'disk', 'filesystems', 'load', 'network', 'temp']) assert.ok(metrics.includes(want), metrics.join());
  // The legend shows the latest value without hovering, as the API has it.
  const pct = (v) => `${v < 10 ? v.toFixed(1) : Math.round(v)}%`;
  const lastOf = (vals) => vals.filter((v) => v !== null).at(-1);
  const last = lastOf(pageApi.series.memory_percent.avg);
  const shown = await box.getByTestId('latest-memory').textContent();
  assert.equal(shown, pct(last));
  // Load: three lines, 1, 5 and 15 minutes, each with its latest value in the legend.
  const load = box.locator('[data-metric=load]');
  assert.equal(await load.getAttribute('data-lines'), '3');
  const loadLegend = await load.locator('.legend-item').evaluateAll((els) => els.map((e) => [e.dataset.series, e.textContent.replace(/^ · /, '')]));
  assert.deepEqual(loadLegend, [['1 min', 'load_1m'], ['5 min', 'load_5m'], ['15 min', 'load_15m']]
    .map(([label, k]) => [label, `${label} ${lastOf(pageApi.series[k].avg).toFixed(2)}`]));
  // Filesystems: one line per mount the machine reports, the legend naming each with its latest used %.
  assert.ok(fsApi.filesystems.some((f) => f.mount === '/'), JSON.stringify(fsApi));
  const fsFig = box.locator('[data-metric=filesystems]');
  assert.equal(await fsFig.getAttribute('data-lines'), String(fsApi.filesystems.length));
  const fsLegend = await fsFig.locator('.legend-item').evaluateAll((els) => els.map((e) => [e.dataset.series, e.textContent.replace(/^ · /, '')]));
  assert.deepEqual(fsLegend, fsApi.filesystems.map((f) => [f.mount, `${f.mount} ${pct(f.series.at(-1).used_percent)}`]));
  assert.match(await fsFig.locator('[role=img]').getAttribute('aria-label'), /^Filesystems over 1h: \/ \d/);
  // Temperatures: one line per sensor zone the machine's sysfs lists (acpitz twice: one line),
  // the legend naming each with its latest reading.
  assert.deepEqual(tempApi.temperatures.map((z) => z.zone), ['acpitz', 'x86_pkg_temp'], JSON.stringify(tempApi));
  assert.equal(tempApi.temperatures[1].series.at(-1).celsius, 47.5);
  const tempFig = box.locator('[data-metric=temp]');
  assert.equal(await tempFig.getAttribute('data-lines'), '2');
  const tempLegend = await tempFig.locator('.legend-item').evaluateAll((els) => els.map((e) => [e.dataset.series, e.textContent.replace(/^ · /, '')]));
  assert.deepEqual(tempLegend, [['acpitz', 'acpitz 31 °C'], ['x86_pkg_temp', 'x86_pkg_temp 48 °C']]);
  // A text alternative for each chart.
  assert.match(await box.locator('[data-metric=cpu] [role=img]').getAttribute('aria-label'), /^CPU over 1h: CPU \d/);
  // Dark mode: the axis labels on the canvas, measured against the panel.
  const m = await box.locator('[data-metric=cpu]').evaluate((fig) => {
    const c = fig.querySelector('canvas');
    const ctx = c.getContext('2d');
    const { data } = ctx.getImageData(0, 0, Math.round(40 * devicePixelRatio), c.height);
    const px = [];
    for (let i = 0; i < data.length; i += 4) if (data[i + 3] >= 200) px.push([data[i], data[i + 1], data[i + 2]]);
    px.sort((a, b) => (b[0] + b[1] + b[2]) - (a[0] + a[1] + a[2]));
    return { n: px.length, text: px[Math.floor(px.length / 4)], bg: getComputedStyle(fig.closest('.widget')).backgroundColor };
  });
  assert.ok(m.n > 20, 'axis labels drawn');
  const ratio = contrast(m.text, m.bg);
  assert.ok(ratio >= 4.5, `axis label contrast ${ratio.toFixed(2)}:1 in dark mode`);
  await shot(page, 'charts-dark');
  await page.context().close();
});

/** In the page: every visible text against its background, and every field's border
 * against what is around it, by the WCAG 2.1 formula (AA: 4.5:1 text, 3:1 large text
 * and control boundaries). Disabled controls are exempt, as WCAG says. */
function contrastAudit() {
  const parse = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => { const [h, l] = [lum(a), lum(b)].sort((x, y) => y - x); return (h + 0.05) / (l + 0.05); };
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) { const p = parse(getComputedStyle(e).backgroundColor); if (p.length === 3 || p[3] > 0.5) return p; }
    return parse(getComputedStyle(document.documentElement).backgroundColor);
  };
  const bad = [];
  let n = 0;
  for (const el of document.querySelectorAll('body *')) {
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true }) || el.closest(':disabled, [aria-disabled=true]')) continue;
    const cs = getComputedStyle(el);
    const text = [...el.childNodes].filter((x) => x.nodeType === 3).map((x) => x.textContent).join('').trim();
    if (text) {
      n++;
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (Number(cs.fontWeight) >= 700 && size >= 18.66);
      const r = ratio(parse(cs.color), bgOf(el));
      if (r < (large ? 3 : 4.5)) bad.push(`text "${text.slice(0, 24)}" (${el.tagName.toLowerCase()}.${el.className}) ${r.toFixed(2)}:1`);
    }
    if ((el.tagName === 'INPUT' && el.type !== 'checkbox' && el.type !== 'hidden') || el.tagName === 'SELECT') {
      const r = ratio(parse(cs.borderTopColor), bgOf(el.parentElement));
      if (r < 3) bad.push(`field ${el.name} border ${r.toFixed(2)}:1`);
    }
  }
  return { n, bad };
}

/** In the page: WCAG 2.1 1.4.11 non-text contrast (3:1). A button's boundary (its
 * border, or its filled background) against what is around it, a status dot against
 * its background; a button with neither (a text link look) is identified by its text,
 * which contrastAudit measures. Disabled controls are exempt. */
function nonTextAudit() {
  const parse = (c) => (c.match(/[\d.]+/g) || []).map(Number);
  const lum = (c) => {
    const [r, g, b] = c.slice(0, 3).map((v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => { const [h, l] = [lum(a), lum(b)].sort((x, y) => y - x); return (h + 0.05) / (l + 0.05); };
  const opaque = (p) => p.length === 3 || p[3] > 0.5;
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) { const p = parse(getComputedStyle(e).backgroundColor); if (opaque(p)) return p; }
    return parse(getComputedStyle(document.documentElement).backgroundColor);
  };
  const bad = [];
  let buttons = 0, dots = 0;
  for (const el of document.querySelectorAll('button, a.button, .dot')) {
    if (!el.checkVisibility({ opacityProperty: true, visibilityProperty: true }) || el.closest(':disabled, [aria-disabled=true]')) continue;
    const cs = getComputedStyle(el);
    const around = bgOf(el.parentElement);
    const bg = parse(cs.backgroundColor);
    const name = `${el.tagName.toLowerCase()}.${el.className} "${(el.textContent || el.getAttribute('aria-label') || '').trim().slice(0, 20)}"`;
    if (el.classList.contains('dot')) {
      dots++;
      const r = ratio(bg, around);
      if (r < 3) bad.push(`dot ${name} ${r.toFixed(2)}:1`);
      continue;
    }
    const seen = [];
    if (opaque(bg)) seen.push(ratio(bg, around));
    if (parseFloat(cs.borderTopWidth) >= 1 && cs.borderTopStyle !== 'none') seen.push(ratio(parse(cs.borderTopColor), around));
    if (!seen.length) continue; // no boundary drawn: the text is the control
    buttons++;
    const best = Math.max(...seen);
    if (best < 3) bad.push(`button ${name} boundary ${best.toFixed(2)}:1`);
  }
  return { buttons, dots, bad };
}

test('WCAG 1.4.11: buttons, status dots and fields 3:1 in both themes, fleet table, checks, compliance, discover', async () => {
  let r = await hub.req('POST', '/api/v1/checks', { name: 'Hub port', type: 'tcp', host: '127.0.0.1', port: hub.port, interval_seconds: 60, run_from: ['hub'] });
  assert.equal(r.status, 201, r.text);
  assert.equal((await hub.req('POST', `/api/v1/checks/${r.json.id}/run`)).status, 200);
  for (const scheme of ['light', 'dark']) {
    const page = await openPage(browser, hub, { viewport: { width: 1280, height: 900 }, colorScheme: scheme });
    const views = [['/', 'cards'], ['/', 'table'], ['/#/machine/op0'], ['/#/checks'], ['/#/compliance'], ['/#/discover'], ['/#/settings'], ['/#/alerts'], ['/#/add']];
    for (const [route, view] of views) {
      await page.goto(hub.url + '/#/costs');
      await page.evaluate((v) => localStorage.setItem('hlc.fleetView', v || 'cards'), view);
      await page.goto(hub.url + route);
      await page.locator('main#main h1').first().waitFor();
      if (view === 'table') await page.getByTestId('fleet-table').locator('tbody tr').first().waitFor();
      if (route === '/#/checks') await page.locator('[data-check-id] .dot').first().waitFor();
      await page.waitForTimeout(400);
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), scheme);
      const where = `${scheme} ${route}${view ? ` (${view})` : ''}`;
      const { buttons, dots, bad } = await page.evaluate(nonTextAudit);
      assert.ok(buttons > 0, `${where}: buttons found`);
      if (route === '/' || route === '/#/checks') assert.ok(dots > 0, `${where}: status dots found`);
      assert.deepEqual(bad, [], where);
      const fields = (await page.evaluate(contrastAudit)).bad.filter((b) => b.startsWith('field '));
      assert.deepEqual(fields, [], `${where}: field borders`);
    }
    await page.context().close();
  }
});

test('WCAG AA contrast for text and fields in both themes, measured on every page', async () => {
  if ((await hub.req('GET', '/api/v1/servers/ghost')).status === 404) {
    await hub.req('POST', '/api/v1/servers', { server_id: 'ghost', display_name: 'Ghost box', hostname: '127.0.0.1', ssh_port: 1 });
    await hub.req('POST', '/api/v1/servers/ghost/poll');
  }
  for (const scheme of ['light', 'dark']) {
    const page = await openPage(browser, hub, { viewport: { width: 1280, height: 900 }, colorScheme: scheme });
    for (const route of ['/', '/#/machine/op0', '/#/machine/ghost', '/#/alerts', '/#/actions', '/#/costs', '/#/settings', '/#/add',
      '/#/checks', '/#/compliance', '/#/discover']) {
      await page.goto(hub.url + route);
      await page.locator('main#main h1').first().waitFor();
      await page.waitForTimeout(400);
      assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), scheme);
      const { n, bad } = await page.evaluate(contrastAudit);
      assert.ok(n > 5, `${route}: text found`);
      assert.deepEqual(bad, [], `${scheme} ${route}`);
    }
    await page.context().close();
  }
});

test('settings say errors in words once; auto-approve readable; favicon; forget the key', async () => {
  const page = await openPage(browser, hub);
  const missing = [];
  page.on('response', (r) => { if (r.status() === 404 && !r.url().includes('/api/')) missing.push(r.url()); });
  await page.goto(hub.url + '/#/settings');
  const form = page.getByRole('form', { name: 'Thresholds' });
  await form.locator('input[name="thresholds.cpu_critical_percent"]').waitFor();
  const before = (await hub.req('GET', '/api/v1/config/thresholds')).json;
  await form.locator('input[name="thresholds.cpu_warning_percent"]').fill('97');
  await form.locator('input[name="thresholds.cpu_critical_percent"]').fill('95');
  await form.getByRole('button', { name: 'Save thresholds' }).click();
  const err = page.locator('#err-cpu_warning_percent');
  await err.waitFor();
  assert.match(await err.textContent(), /^CPU warning must be lower than CPU critical/);
  assert.equal(await page.getByText('CPU warning must be lower than CPU critical').count(), 1, 'said once');
  assert.deepEqual((await hub.req('GET', '/api/v1/config/thresholds')).json, before, 'nothing saved');
  const auto = page.getByRole('form', { name: 'Remediation' });
  assert.ok((await auto.textContent()).includes('Apply updates'));
  assert.match(await auto.getByTestId('auto-effect').textContent(), /^(On|Off): /);
  assert.equal(await page.locator('link[rel=icon]').count(), 1);
  // Forget the key: the prompt comes back, and says where the key is kept on the hub.
  await page.getByRole('button', { name: 'Forget the key' }).click();
  await page.getByLabel('API key').waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('hlc.apiKey')), null);
  assert.match(await page.locator('.keyprompt').textContent(), /DATA_DIR\/api_key/);
  assert.deepEqual(missing, [], 'no 404 for page assets (favicon)');
  await page.context().close();
});

test('alerts: bulk acknowledge the selected open alerts', async () => {
  let r = await hub.req('PUT', '/api/v1/config', { thresholds: { disk_warning_percent: 1, disk_critical_percent: 100 } });
  assert.equal(r.status, 200, r.text);
  for (const id of ['op0', 'op1']) await hub.req('POST', `/api/v1/servers/${id}/poll`);
  const disk = async () => (await hub.req('GET', '/api/v1/alerts?status=open')).json.alerts.filter((a) => a.type.startsWith('disk_') && a.server_id.startsWith('op'));
  await until(async () => (await disk()).length >= 2, 20000);
  const want = (await disk()).map((a) => a.alert_id);
  assert.ok(want.length >= 2);
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/alerts');
  await page.locator(`li.alert[data-alert-id="${want[0]}"]`).waitFor();
  // Shown with the display name, not the id (once the machine list has come).
  await until(async () => /Operator box \d/.test(await page.locator(`li.alert[data-alert-id="${want[0]}"]`).textContent()));
  assert.match(await page.locator(`li.alert[data-alert-id="${want[0]}"]`).textContent(), /Operator box \d/);
  await page.getByLabel('Select all open on this page').check();
  await page.getByRole('button', { name: /^Acknowledge selected/ }).click();
  await page.getByRole('status').filter({ hasText: 'acknowledged.' }).waitFor({ timeout: 15000 });
  for (const id of want) assert.equal((await hub.req('GET', `/api/v1/alerts/${id}`)).json.status, 'acknowledged', id);
  await hub.req('PUT', '/api/v1/config', { thresholds: { disk_warning_percent: 80, disk_critical_percent: 90 } });
  await page.context().close();
});
