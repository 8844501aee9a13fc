// operator.test.mjs - the dashboard as an operator lives in it (issue 28): controls
// that ask before they hurt, a layout that cannot break, actions started from the
// machine page, the fleet table, per-metric charts, names, contrast. Real hub, real
// sshd machines, Debian's Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Fleet, launch, openPage, shot, until } from './harness.mjs';

let hub, fleet, browser;

before(async () => {
  hub = await new Hub().start();
  const pub = (await hub.req('GET', '/api/v1/ssh/public-key')).json.public_key;
  fleet = new Fleet(2, pub, 60).up();
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
