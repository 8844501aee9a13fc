// dashboard.test.mjs - the built dashboard in Debian's Chromium against the real
// hub and real sshd machines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Fleet, launch, openPage, shot, until, KEY } from './harness.mjs';

let hub, fleet, browser;
const N = 3;

before(async () => {
  hub = await new Hub().start();
  const pub = (await hub.req('GET', '/api/v1/ssh/public-key')).json.public_key;
  fleet = new Fleet(N, pub, 40).up();
  let r = await hub.req('PUT', '/api/v1/config', { polling: { poll_interval_seconds: 10, ssh_timeout_seconds: 8 } });
  assert.equal(r.status, 200, r.text);
  for (const [i, m] of fleet.machines.entries()) {
    fleet.setUnit(m, 'plex', 'active');
    fleet.setUnit(m, 'sonarr', 'inactive');
    r = await hub.req('POST', '/api/v1/servers', {
      server_id: `m${i}`, display_name: `Machine ${i}`, hostname: m.host, ip_address: m.host, ssh_port: m.port,
      ssh_user: fleet.user, machine_type: i === N - 1 ? 'workstation' : 'server',
      expected_services: [{ name: 'plex', critical: true }, { name: 'sonarr', critical: false }],
    });
    assert.equal(r.status, 201, r.text);
    r = await hub.req('POST', `/api/v1/servers/m${i}/poll`);
    assert.equal(r.status, 200, r.text);
  }
  await new Promise((res) => setTimeout(res, 1100));
  for (let i = 0; i < N; i++) await hub.req('POST', `/api/v1/servers/m${i}/poll`);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  fleet?.down();
  await hub?.stop();
});

test('asks for the API key once and keeps it', async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(hub.url + '/');
  await page.getByLabel('API key').fill('wrong-key');
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByText('The hub refused this key.').waitFor();
  await page.getByLabel('API key').fill(KEY);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.locator('[data-server-id="m0"]').waitFor();
  await page.reload();
  await page.locator('[data-server-id="m0"]').waitFor();
  assert.equal(await page.getByLabel('API key').count(), 0);
  await ctx.close();
});

test('dashboard shows every machine with live values from the hub', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/');
  for (let i = 0; i < N; i++) await page.locator(`[data-server-id="m${i}"] [role=meter][aria-label=RAM]`).waitFor();
  const servers = (await hub.req('GET', '/api/v1/servers')).json.servers;
  for (const m of servers) {
    const card = page.locator(`[data-server-id="${m.server_id}"]`);
    assert.match(await card.textContent(), new RegExp(m.display_name));
    const ram = await card.locator('[role=meter][aria-label=RAM]').getAttribute('aria-valuenow');
    assert.ok(Math.abs(Number(ram) - m.latest.memory_percent) <= 5, `RAM ${ram} vs ${m.latest.memory_percent}`);
    const disk = await card.locator('[role=meter][aria-label=Disk]').getAttribute('aria-valuenow');
    assert.equal(Number(disk), Math.round(m.latest.disk_percent));
    assert.match(await card.textContent(), /↑ \d+[dhm]/);
  }
  assert.equal(await page.getByRole('region', { name: 'Servers' }).locator('.card').count(), N - 1);
  assert.equal(await page.getByRole('region', { name: 'Workstations' }).locator('.card').count(), 1);
  assert.equal(await page.getByTestId('sum-online').textContent(), String(N));
  assert.deepEqual(page.external, [], 'no request leaves the hub');
  await shot(page, 'dashboard');
  await page.context().close();
});

test('a dragged card keeps its place after reload', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/');
  const ids = async () => page.getByRole('region', { name: 'Servers' }).locator('.card').evaluateAll((els) => els.map((e) => e.dataset.serverId));
  await page.locator('[data-server-id="m1"]').waitFor();
  await page.locator('section[aria-label="Servers"][data-sortable="ready"]').waitFor();
  const before = await ids();
  assert.deepEqual(before, ['m0', 'm1']);
  const from = await page.locator('[data-server-id="m1"] .handle').boundingBox();
  const to = await page.locator('[data-server-id="m0"]').boundingBox();
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move(from.x + 10, from.y + 10, { steps: 4 });
  await page.mouse.move(to.x + 20, to.y + to.height / 2, { steps: 12 });
  await page.mouse.up();
  await until(async () => (await hub.req('GET', '/api/v1/servers')).json.servers[0].server_id === 'm1');
  await page.reload();
  await page.locator('[data-server-id="m1"]').waitFor();
  assert.deepEqual(await ids(), ['m1', 'm0']);
  await page.context().close();
});

test('restart on a stopped service turns it active on the target and shows success', async () => {
  const m = fleet.machines[0];
  fleet.setUnit(m, 'sonarr', 'inactive');
  await hub.req('POST', '/api/v1/servers/m0/poll');
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/machine/m0');
  const row = page.locator('[data-service="sonarr"]');
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'stopped');
  await page.getByRole('button', { name: 'restart sonarr' }).click();
  await row.getByRole('status').filter({ hasText: 'success' }).waitFor({ timeout: 20000 });
  assert.equal(fleet.unitState(m, 'sonarr'), 'active');
  await until(async () => (await row.getAttribute('data-status')) === 'running', 20000);
  assert.equal(await row.getAttribute('data-status'), 'running');
  await shot(page, 'machine-detail');
  await page.context().close();
});

test('approving a pending action runs it', async () => {
  const m = fleet.machines[1];
  fleet.setUnit(m, 'sonarr', 'inactive');
  const r = await hub.req('POST', '/api/v1/actions', { server_id: 'm1', action_type: 'restart_service', target: 'sonarr' });
  assert.ok(r.status === 200 || r.status === 201 || r.status === 202, r.text);
  assert.equal(r.json.status, 'pending', r.text);
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/actions');
  const item = page.locator(`[aria-label="Pending actions"] [data-action-id="${r.json.action_id}"]`);
  await item.waitFor();
  await item.getByRole('button', { name: 'Approve' }).click();
  await until(() => fleet.unitState(m, 'sonarr') === 'active', 20000);
  assert.equal(fleet.unitState(m, 'sonarr'), 'active');
  await page.locator(`[aria-label="Action history"] [data-action-id="${r.json.action_id}"][data-status="completed"]`).waitFor({ timeout: 20000 });
  await shot(page, 'actions');
  await page.context().close();
});

test('a threshold change is saved on the hub', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/settings');
  const input = page.locator('input[name="thresholds.disk_warning_percent"]');
  await input.fill('71');
  await page.getByRole('button', { name: 'Save thresholds' }).click();
  await page.getByRole('form', { name: 'Thresholds' }).getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal((await hub.req('GET', '/api/v1/config/thresholds')).json.disk_warning_percent, 71);
  // A refused value shows the hub's message next to its field.
  await input.fill('101');
  await page.getByRole('button', { name: 'Save thresholds' }).click();
  await page.locator('#err-disk_warning_percent').waitFor();
  assert.equal((await hub.req('GET', '/api/v1/config/thresholds')).json.disk_warning_percent, 71);
  await shot(page, 'settings');
  await page.context().close();
});

test('add machine shows the API field-level validation message', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/add');
  await page.locator('input[name=server_id]').fill('bad');
  await page.locator('input[name=hostname]').fill('not a host name!');
  await page.getByRole('button', { name: 'Add machine' }).click();
  const err = page.locator('#err-hostname');
  await err.waitFor();
  assert.match(await err.textContent(), /hostname/i);
  assert.equal((await hub.req('GET', '/api/v1/servers/bad')).status, 404);
  await page.context().close();
});

test('dark mode toggles and follows the system', async () => {
  const page = await openPage(browser, hub, { colorScheme: 'dark' });
  await page.goto(hub.url + '/');
  await page.locator('[data-server-id="m0"]').waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  const bgDark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await page.getByRole('button', { name: 'Toggle dark mode' }).click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  const bgLight = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(bgDark, bgLight);
  await page.reload();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  await page.getByRole('button', { name: 'Toggle dark mode' }).click();
  await shot(page, 'dark');
  await page.context().close();
});

test('phone viewport (375 px) has no horizontal scroll on any page', async () => {
  const page = await openPage(browser, hub, { viewport: { width: 375, height: 800 }, isMobile: true, hasTouch: true });
  for (const route of ['/', '/#/machine/m0', '/#/alerts', '/#/actions', '/#/costs', '/#/settings', '/#/add']) {
    await page.goto(hub.url + route);
    await page.locator('main#main').waitFor();
    await page.waitForTimeout(600);
    const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
    assert.ok(sw <= cw, `${route}: scrollWidth ${sw} > ${cw}`);
    if (route === '/' || route === '/#/machine/m0') await shot(page, 'phone' + (route === '/' ? '-dashboard' : '-machine'));
  }
  await page.context().close();
});

test('widget layout is saved per machine on the hub', async (t) => {
  const probe = await hub.req('GET', '/api/v1/servers/m0/layout');
  if (probe.status === 404 && /no such endpoint/.test(probe.text)) { t.skip('layout endpoint not on this hub'); return; }
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/machine/m0');
  await page.locator('[data-widget="network"]').waitFor();
  await page.getByRole('button', { name: 'Edit layout' }).click();
  await page.getByRole('button', { name: 'Hide Network' }).click();
  await page.getByRole('button', { name: 'Save layout' }).click();
  await page.getByText('Layout saved.').waitFor();
  const saved = (await hub.req('GET', '/api/v1/servers/m0/layout')).json.widgets;
  assert.equal(saved.find((w) => w.id === 'network').hidden, true);
  await page.reload();
  await page.locator('[data-widget="cpu"]').waitFor();
  assert.equal(await page.locator('[data-widget="network"]').count(), 0);
  assert.equal(await page.locator('[data-widget="network"]').count(), 0);
  await page.context().close();
});

test('container start/stop/restart buttons show the real result and change the target', async () => {
  const m = fleet.machines[0];
  fleet.setContainer(m, 'web', 'exited');
  assert.equal((await hub.req('POST', '/api/v1/servers/m0/poll')).status, 200);
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/machine/m0');
  const row = page.locator('[data-widget="containers"] [data-container="web"]');
  await row.waitFor();
  assert.equal(await row.getAttribute('data-state'), 'exited');
  for (const [verb, want] of [['start', 'running'], ['stop', 'exited'], ['restart', 'running']]) {
    await row.getByRole('button', { name: `${verb} web`, exact: true }).click();
    if (verb === 'stop') await row.getByRole('button', { name: 'Yes, stop web' }).click();
    await row.getByRole('status').filter({ hasText: `${verb}: success` }).waitFor({ timeout: 20000 });
    assert.equal(fleet.containerState(m, 'web'), want, `${verb} on the target`);
    // Shown after the next sample (a poll may be refused while a scheduled one runs: ask again).
    await until(async () => {
      if ((await row.getAttribute('data-state')) === want) return true;
      await hub.req('POST', '/api/v1/servers/m0/poll');
      return (await row.getAttribute('data-state')) === want;
    }, 20000, 500);
    assert.equal(await row.getAttribute('data-state'), want, `${verb} shown`);
  }
  // A container the target does not have: the real failure, not a success.
  fleet.setContainer(m, 'ghost', 'running');
  const ghost = page.locator('[data-widget="containers"] [data-container="ghost"]');
  await until(async () => (await ghost.count()) > 0 || ((await hub.req('POST', '/api/v1/servers/m0/poll')) && false), 20000, 500);
  await ghost.waitFor();
  const { unlinkSync } = await import('node:fs');
  unlinkSync(`${m.dir}/state/containers/ghost`);
  await ghost.getByRole('button', { name: 'stop ghost', exact: true }).click();
  await ghost.getByRole('button', { name: 'Yes, stop ghost' }).click();
  await ghost.getByRole('status').filter({ hasText: 'failed' }).waitFor({ timeout: 20000 });
  assert.doesNotMatch(await ghost.getByRole('status').textContent(), /success/);
  await shot(page, 'containers');
  await page.context().close();
});

test('widgets resized, hidden and shown in edit mode keep that after reload', async (t) => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/machine/m1');
  const cpu = page.locator('[data-widget="cpu"]');
  await cpu.waitFor();
  const w0 = (await cpu.boundingBox()).width;
  await page.getByRole('button', { name: 'Edit layout' }).click();
  const handle = cpu.locator('.react-resizable-handle');
  const hb = await handle.boundingBox();
  await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
  await page.mouse.down();
  await page.mouse.move(hb.x + 150, hb.y + 60, { steps: 10 });
  await page.mouse.up();
  await page.getByRole('button', { name: 'Hide Load' }).click();
  await page.getByRole('button', { name: 'Save layout' }).click();
  await page.getByText('Layout saved.').waitFor();
  let saved = (await hub.req('GET', '/api/v1/servers/m1/layout')).json.widgets;
  const cpuW = saved.find((w) => w.id === 'cpu');
  assert.ok(cpuW.w > 4 && cpuW.h > 3, `resized: ${JSON.stringify(cpuW)}`);
  assert.equal(saved.find((w) => w.id === 'load').hidden, true);
  await page.reload();
  await cpu.waitFor();
  // Measured as soon as it shows: the grid is first drawn with the saved layout (no jump from the default).
  assert.ok((await cpu.boundingBox()).width > w0 + 50, 'wider after reload');
  assert.equal(await page.locator('[data-widget="load"]').count(), 0);
  // Show it again.
  await page.getByRole('button', { name: 'Edit layout' }).click();
  await page.getByRole('button', { name: 'Show Load' }).click();
  await page.getByRole('button', { name: 'Save layout' }).click();
  await page.getByText('Layout saved.').waitFor();
  saved = (await hub.req('GET', '/api/v1/servers/m1/layout')).json.widgets;
  assert.equal(saved.find((w) => w.id === 'load').hidden, false);
  await page.reload();
  await page.locator('[data-widget="load"]').waitFor();
  await shot(page, 'layout-edited');
  await page.context().close();
});

test('keyboard: every control reachable with Tab, visible focus, card order moved with keys', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/');
  // Focus a card's handle before drag is switched on: it keeps the focus when it is.
  await page.locator('[data-server-id="m0"] .handle').waitFor();
  await page.locator('[data-server-id="m0"] .handle').focus();
  await page.locator('section[aria-label="Servers"][data-sortable="ready"]').waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Move Machine 0');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-roledescription')), 'sortable', 'the focused handle is dnd-kit\'s');
  await page.evaluate(() => document.activeElement?.blur());
  const seen = [];
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const d = await page.evaluate(() => {
      const e = document.activeElement;
      if (!e || e === document.body) return null;
      const cs = getComputedStyle(e);
      return { tag: e.tagName, text: (e.getAttribute('aria-label') || e.textContent || '').trim().slice(0, 40),
        outline: cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0 };
    });
    if (d) seen.push(d);
  }
  const texts = seen.map((d) => d.text);
  for (const want of ['HomelabCmd', 'Alerts', 'Settings', 'Toggle dark mode', 'Add machine', 'Move Machine 0', 'Machine 0', 'Move Machine 2']) {
    assert.ok(texts.some((t) => t === want || t.startsWith(want)), `${want} not reached by Tab: ${texts.join(' | ')}`);
  }
  assert.ok(seen.filter((d) => d.tag === 'A' || d.tag === 'BUTTON').every((d) => d.outline), 'focus is visible on every control');
  // Keyboard drag (dnd-kit): pick up the second server card, move it left, drop.
  const ids = () => page.getByRole('region', { name: 'Servers' }).locator('.card').evaluateAll((els) => els.map((e) => e.dataset.serverId));
  const before = await ids();
  const second = before[1];
  await page.locator(`[data-server-id="${second}"] .handle`).focus();
  await page.keyboard.press('Space');
  await page.waitForTimeout(200);
  await page.keyboard.press('ArrowLeft');
  await page.waitForTimeout(300);
  await page.keyboard.press('Space');
  await until(async () => (await hub.req('GET', '/api/v1/servers')).json.servers[0].server_id === second);
  assert.equal((await hub.req('GET', '/api/v1/servers')).json.servers[0].server_id, second);
  assert.deepEqual(await ids(), [second, before[0]]);
  await page.context().close();
});

test('host key changed: banner on the machine page, accept, polling resumes', async () => {
  const m = fleet.machines[2];
  fleet.rekey(m);
  let r;
  await until(async () => { r = await hub.req('POST', '/api/v1/servers/m2/poll'); return r.status === 409; }, 20000, 500);
  assert.equal(r.status, 409, r.text);
  assert.equal((await hub.req('GET', '/api/v1/servers/m2')).json.host_key_changed, true);
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/');
  const card = page.locator('[data-server-id="m2"]');
  await card.getByText('Host key changed').waitFor();
  assert.equal(await card.getAttribute('data-colour'), 'red');
  await page.goto(hub.url + '/#/machine/m2');
  const banner = page.locator('.banner[role=alert]');
  await banner.waitFor();
  assert.match(await banner.textContent(), /host key of this machine changed/);
  await shot(page, 'host-key-banner');
  await banner.getByRole('button', { name: 'Accept new host key' }).click();
  await page.getByText('New host key accepted.').waitFor();
  assert.equal((await hub.req('GET', '/api/v1/servers/m2')).json.host_key_changed, false);
  await until(async () => (await banner.count()) === 0);
  assert.equal(await banner.count(), 0);
  assert.equal((await hub.req('POST', '/api/v1/servers/m2/poll')).status, 200);
  await page.context().close();
});
