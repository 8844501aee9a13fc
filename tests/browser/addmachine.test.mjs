// addmachine.test.mjs - the guided Add machine end to end against the real hub
// and a real sshd machine (tests/integration/sshd.py on 127.0.0.x): the page
// shows the hub's key and the command that authorizes it (copied to the
// clipboard), a connection test on a wrong port fails at the TCP step, on the
// right port passes every step, and the machine is registered and polled.
// Then Discover network at phone width on loopback (127.0.0.0/30, the only
// network a test may touch here): the results fit 390 px and *Add* pre-fills
// the form.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, Fleet, launch, openPage, shot, until } from './harness.mjs';

let hub, fleet, browser, pub;

before(async () => {
  hub = await new Hub().start();
  pub = (await hub.req('GET', '/api/v1/ssh/public-key')).json.public_key;
  fleet = new Fleet(1, pub, 61).up();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  fleet?.down();
  await hub?.stop();
});

test('add machine: key and command, a failing then a passing connection test, register', async () => {
  const m = fleet.machines[0];
  const page = await openPage(browser, hub);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.url });
  await page.goto(hub.url + '/#/add');
  const key = page.getByLabel('Hub public key');
  await key.waitFor();
  assert.equal((await key.textContent()).trim(), pub);
  const cmd = await page.getByLabel('Authorize command').textContent();
  assert.ok(cmd.includes(`echo '${pub}' >> ~/.ssh/authorized_keys`), cmd);
  await page.getByRole('button', { name: 'Copy command' }).click();
  await page.getByText('Copied.').waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), cmd);
  await page.getByText(/Optional: let .* run the hub's commands as root/).click();
  assert.match(await page.getByLabel('Sudoers command').textContent(), /\nhomelabcmd ALL=\(root\) NOPASSWD: HLC_SERVICES/);

  await page.locator('input[name=server_id]').fill('lab-vm');
  await page.locator('input[name=hostname]').fill(m.host);
  await page.locator('input[name=ssh_user]').fill(fleet.user);
  assert.match(await page.getByLabel('Sudoers command').textContent(), new RegExp(`\\n${fleet.user} ALL=\\(root\\) NOPASSWD: HLC_SERVICES`));
  // a wrong port: nothing listens on 1
  await page.locator('input[name=ssh_port]').fill('1');
  await page.getByRole('button', { name: 'Test connection' }).click();
  const failed = page.locator('[data-result=failed]');
  await failed.waitFor({ timeout: 20000 });
  assert.match(await failed.textContent(), /^TCP connect failed: /);
  assert.equal(await page.locator('li[data-step=resolve]').getAttribute('data-status'), 'ok');
  assert.equal(await page.locator('li[data-step=connect]').getAttribute('data-status'), 'failed');
  assert.equal(await page.locator('li[data-step=auth]').getAttribute('data-status'), 'skipped');
  await shot(page, 'addmachine-failed');
  // the right port: every step passes
  await page.locator('input[name=ssh_port]').fill(String(m.port));
  await page.getByRole('button', { name: 'Test connection' }).click();
  const ok = page.locator('[data-result=ok]');
  await ok.waitFor({ timeout: 20000 });
  assert.match(await ok.textContent(), /every step passed \(host key SHA256:/);
  for (const s of ['resolve', 'connect', 'host_key', 'auth', 'exec'])
    assert.equal(await page.locator(`li[data-step=${s}]`).getAttribute('data-status'), 'ok', s);
  assert.equal((await hub.req('GET', '/api/v1/servers/lab-vm')).status, 404); // a test stores nothing

  await page.getByRole('button', { name: 'Add machine' }).click();
  await page.waitForURL(/#\/machine\/lab-vm$/);
  const polled = await until(async () => {
    const r = await hub.req('GET', '/api/v1/servers/lab-vm');
    return r.status === 200 && r.json.status === 'online' ? r.json : null;
  }, 20000);
  assert.ok(polled, 'the registered machine was polled');
  assert.equal(polled.ssh_port, m.port);
  assert.equal(polled.connectivity, 'direct');
  assert.deepEqual(page.external, []);
  await page.context().close();
});

test('discover network at 390 px: results fit and Add pre-fills the form', async () => {
  const page = await openPage(browser, hub, { viewport: { width: 390, height: 844 } });
  await page.goto(hub.url + '/#/discover');
  await page.getByLabel(/^Subnet/).fill('10.0.0.0/8');
  await page.getByRole('button', { name: 'Discover' }).click();
  await page.locator('[role=alert][data-code=SUBNET_TOO_LARGE]').waitFor();
  await page.getByLabel(/^Subnet/).fill('127.0.0.60/30');
  await page.getByRole('button', { name: 'Discover' }).click();
  const table = page.getByRole('table', { name: 'Network hosts' });
  await table.waitFor({ timeout: 20000 });
  // 127.0.0.61 is the registered machine, .62 is not; loopback answers for both
  const row61 = table.locator('tr[data-ip="127.0.0.61"]');
  await row61.getByRole('link', { name: 'lab-vm' }).waitFor();
  const row62 = table.locator('tr[data-ip="127.0.0.62"]');
  await row62.waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 390, `page is ${overflow} px wide at 390`);
  await shot(page, 'discover-network-390');
  await row62.getByRole('link', { name: 'Add 127.0.0.62' }).click();
  await page.waitForURL(/#\/add\?ip=127\.0\.0\.62/);
  assert.equal(await page.locator('input[name=ip_address]').inputValue(), '127.0.0.62');
  assert.equal(await page.locator('input[name=server_id]').inputValue(), 'host-127-0-0-62');
  assert.deepEqual(page.external, []);
  await page.context().close();
});
