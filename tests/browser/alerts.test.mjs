// alerts.test.mjs - alerts, costs and notifications pages in Debian's Chromium
// against the real hub (its alert engine, cost API and notification sender) and
// real sshd machines: every disk over a 1 % warning threshold raises a real alert.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Hub, Fleet, launch, openPage, shot, until } from './harness.mjs';

let hub, fleet, browser, receiver;
const got = []; // requests the loopback ntfy receiver saw
const N = 2;

before(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { got.push({ method: req.method, url: req.url, body }); res.writeHead(200); res.end('{}'); });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  hub = await new Hub().start();
  const pub = (await hub.req('GET', '/api/v1/ssh/public-key')).json.public_key;
  fleet = new Fleet(N, pub, 60).up();
  let r = await hub.req('PUT', '/api/v1/config', {
    polling: { poll_interval_seconds: 10, ssh_timeout_seconds: 8 },
    thresholds: { disk_warning_percent: 1, disk_critical_percent: 100 },
  });
  assert.equal(r.status, 200, r.text);
  for (const [i, m] of fleet.machines.entries()) {
    r = await hub.req('POST', '/api/v1/servers', {
      server_id: `a${i}`, display_name: `Alert box ${i}`, hostname: m.host, ip_address: m.host, ssh_port: m.port,
      ssh_user: fleet.user, tdp_watts: 40 + i * 10,
    });
    assert.equal(r.status, 201, r.text);
    r = await hub.req('POST', `/api/v1/servers/a${i}/poll`);
    assert.equal(r.status, 200, r.text);
  }
  // Every machine has a disk over 1 %: a real disk alert each.
  const ok = await until(async () => (await hub.req('GET', '/api/v1/alerts?status=open')).json?.total >= N, 20000);
  assert.ok(ok, 'the hub raised no disk alerts: ' + JSON.stringify((await hub.req('GET', '/api/v1/alerts')).json));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  fleet?.down();
  await hub?.stop();
  await new Promise((r) => (receiver ? receiver.close(r) : r()));
});

const openAlerts = async () => (await hub.req('GET', '/api/v1/alerts?status=open')).json;

test('header count and recent alerts show the hub\'s open alerts; acknowledge from the dashboard', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/');
  const open = await openAlerts();
  await until(async () => (await page.getByTestId('alert-count').count()) > 0);
  assert.equal(await page.getByTestId('alert-count').textContent(), String(open.total));
  const recent = page.getByRole('region', { name: 'Recent alerts' });
  const first = open.alerts[0];
  const row = recent.locator(`[data-alert-id="${first.alert_id}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), new RegExp(first.title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  await shot(page, 'alerts-dashboard');
  await row.getByRole('button', { name: /^Acknowledge/ }).click();
  await until(async () => (await hub.req('GET', `/api/v1/alerts/${first.alert_id}`)).json.status === 'acknowledged');
  assert.equal((await hub.req('GET', `/api/v1/alerts/${first.alert_id}`)).json.status, 'acknowledged');
  await until(async () => (await row.getAttribute('data-status')) === 'acknowledged');
  assert.equal(await row.getAttribute('data-status'), 'acknowledged');
  // The header counts open (unacknowledged) alerts: one fewer now.
  await until(async () => (await page.getByTestId('alert-count').count()) === 0
    || (await page.getByTestId('alert-count').textContent()) === String(open.total - 1), 15000);
  const left = (await openAlerts()).total;
  assert.equal(left, open.total - 1);
  if (left > 0) assert.equal(await page.getByTestId('alert-count').textContent(), String(left));
  await page.context().close();
});

test('alerts page: filters by machine and status, acknowledge and resolve agree with the API', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/alerts');
  await page.locator('li.alert').first().waitFor();
  const active = (await hub.req('GET', '/api/v1/alerts?status=active')).json;
  assert.equal(await page.locator('li.alert').count(), active.total);
  await page.getByLabel('Machine').selectOption('a1');
  await until(async () => (await page.locator('li.alert').evaluateAll((els) => els.every((e) => e.textContent.includes('Alert box 1')))));
  const a1 = (await hub.req('GET', '/api/v1/alerts?status=active&server_id=a1')).json.alerts;
  assert.ok(a1.length >= 1);
  assert.deepEqual(await page.locator('li.alert').evaluateAll((els) => els.map((e) => e.dataset.alertId)), a1.map((a) => a.alert_id));
  const target = a1[0];
  const row = page.locator(`li.alert[data-alert-id="${target.alert_id}"]`);
  if (target.status === 'open') {
    await row.getByRole('button', { name: /^Acknowledge/ }).click();
    await until(async () => (await row.getAttribute('data-status')) === 'acknowledged');
  }
  await row.getByRole('button', { name: /^Resolve/ }).click();
  await until(async () => (await hub.req('GET', `/api/v1/alerts/${target.alert_id}`)).json.status === 'resolved');
  const api = (await hub.req('GET', `/api/v1/alerts/${target.alert_id}`)).json;
  assert.equal(api.status, 'resolved');
  assert.ok(api.acknowledged_at, 'acknowledged on the way');
  // Gone from the active view, in the history under "resolved".
  await until(async () => (await row.count()) === 0);
  assert.equal(await row.count(), 0);
  await page.getByRole('button', { name: 'History' }).click();
  await page.getByLabel('Status').selectOption('resolved');
  await row.waitFor();
  assert.equal(await row.getAttribute('data-status'), 'resolved');
  assert.equal(await row.getByRole('button').count(), 0);
  await shot(page, 'alerts-page');
  await page.context().close();
});

test('machine page lists that machine\'s active alerts', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/machine/a0');
  const widget = page.locator('[data-widget="alerts"]');
  const want = (await hub.req('GET', '/api/v1/alerts?status=active&server_id=a0')).json.alerts;
  assert.ok(want.length >= 1);
  await widget.locator(`[data-alert-id="${want[0].alert_id}"]`).waitFor();
  assert.equal(await widget.locator('li.alert').count(), want.length);
  await page.context().close();
});

test('costs: fleet figure on the dashboard and costs page match the API; rate saved in Settings, power on the machine form', async () => {
  const costs = (await hub.req('GET', '/api/v1/costs')).json;
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/');
  await until(async () => (await page.getByTestId('sum-cost').textContent()) !== '–');
  assert.match(await page.getByTestId('sum-cost').textContent(), new RegExp(costs.fleet.daily.toFixed(2).replace('.', '\\.') + '$'));
  await page.goto(hub.url + '/#/costs');
  await page.getByTestId('fleet-daily').waitFor();
  assert.match(await page.getByTestId('fleet-daily').textContent(), new RegExp(costs.fleet.daily.toFixed(2).replace('.', '\\.') + '$'));
  // The costs page only shows the rate and each power; each is changed in one place.
  assert.equal(await page.locator('main input').count(), 0, 'nothing to edit on the costs page');
  assert.match(await page.getByTestId('costs-rate').textContent(), /0\.24 GBP per kWh/);
  await page.getByRole('link', { name: 'change it in Settings' }).click();
  const elec = page.getByRole('form', { name: 'Electricity' });
  await elec.getByLabel('Rate per kWh').fill('0.5');
  await elec.getByRole('button', { name: 'Save electricity' }).click();
  await elec.getByText('Saved.').waitFor();
  assert.equal((await hub.req('GET', '/api/v1/costs')).json.electricity_rate_kwh, 0.5);
  await page.goto(hub.url + '/#/costs');
  await page.getByRole('link', { name: 'Change the power of Alert box 1' }).click();
  const tdp = page.locator('input[name=tdp_watts]');
  await until(async () => (await tdp.inputValue()) === '50');
  await tdp.fill('120');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: /Alert box 1/ }).waitFor();
  const after = (await hub.req('GET', '/api/v1/costs')).json;
  assert.equal(after.electricity_rate_kwh, 0.5);
  assert.equal(after.servers.find((s) => s.server_id === 'a1').tdp_watts, 120);
  assert.equal(after.servers.find((s) => s.server_id === 'a0').tdp_watts, 40);
  await page.goto(hub.url + '/#/costs');
  await until(async () => (await page.getByTestId('fleet-daily').textContent()).endsWith(after.fleet.daily.toFixed(2)));
  assert.ok((await page.getByTestId('fleet-daily').textContent()).endsWith(after.fleet.daily.toFixed(2)));
  assert.match(await page.getByTestId('costs-rate').textContent(), /0\.5 GBP per kWh/);
  // A refused value: the hub's message beside its field, nothing saved.
  await page.goto(hub.url + '/#/settings');
  await elec.getByLabel('Rate per kWh').fill('-1');
  await elec.getByRole('button', { name: 'Save electricity' }).click();
  await page.locator('#err-electricity_rate_kwh').waitFor();
  assert.equal((await hub.req('GET', '/api/v1/costs')).json.electricity_rate_kwh, 0.5);
  await shot(page, 'costs');
  await page.context().close();
});

test('notifications: a channel URL is saved masked and Send test shows each channel\'s real result', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/settings');
  // No channel yet: the hub's 409 said plainly.
  await page.getByRole('button', { name: 'Send test' }).click();
  await until(async () => /No channel/.test(await page.getByTestId('test-note').textContent()));
  assert.match(await page.getByTestId('test-note').textContent(), /No channel is configured/);
  const url = `http://127.0.0.1:${receiver.address().port}/homelab-topic`;
  await page.getByLabel('ntfy topic URL').fill(url);
  await page.getByRole('form', { name: 'Notifications' }).getByLabel('Medium').check();
  await page.getByRole('button', { name: 'Save notifications' }).click();
  await page.getByRole('form', { name: 'Notifications' }).getByText('Saved.').waitFor();
  const cfg = (await hub.req('GET', '/api/v1/config')).json.notifications;
  assert.equal(cfg.notify_on_medium, true);
  assert.ok(cfg.ntfy_url && cfg.ntfy_url !== url && cfg.ntfy_url.startsWith('http://127.0.0.1'), `masked: ${cfg.ntfy_url}`);
  assert.match(await page.locator('[data-channel="ntfy_url"]').first().textContent(), /saved: http:\/\/127\.0\.0\.1/);
  const before = got.length;
  await page.getByRole('button', { name: 'Send test' }).click();
  const item = page.getByRole('list', { name: 'Test results' }).locator('[data-channel="ntfy"]');
  await item.waitFor({ timeout: 20000 });
  assert.equal(await item.getAttribute('data-ok'), 'true', await item.textContent());
  assert.match(await item.textContent(), /HTTP 200/);
  assert.ok(got.slice(before).some((g) => g.url === '/homelab-topic'), 'the receiver got the test: ' + JSON.stringify(got));
  // Saving again without typing keeps the stored URL (the masked one is never sent back).
  await page.getByRole('button', { name: 'Save notifications' }).click();
  await page.waitForTimeout(300);
  const n = got.length;
  assert.equal((await hub.req('POST', '/api/v1/notifications/test')).json.results.find((c) => c.channel === 'ntfy').ok, true);
  assert.ok(got.length > n);
  await shot(page, 'notifications');
  await page.context().close();
});
