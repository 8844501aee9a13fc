// scans.test.mjs - the Scans page end to end on a phone-sized screen: a full
// scan of a real sshd machine (tests/integration/sshd.py) is started from the
// form, followed to completed, its result read at 390 px without the page
// scrolling sideways, and the host added as a machine from the scan: the hub
// then has that machine with the scan's facts and pinned host key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, chownSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Hub, Fleet, launch, openPage, shot, until } from './harness.mjs';

let hub, fleet, browser;

before(async () => {
  hub = await new Hub().start();
  const pub = (await hub.req('GET', '/api/v1/ssh/public-key')).json.public_key;
  fleet = new Fleet(1, pub, 190).up();
  // the dpkg-query stand-in's installed set
  const m = fleet.machines[0];
  const p = join(m.dir, 'state', 'packages');
  writeFileSync(p, 'bash 5.2.15-2+b2\ncurl 7.88.1-10+deb12u8\nhtop 3.2.2-2\n');
  chownSync(p, Number(execFileSync('id', ['-u', fleet.user], { encoding: 'utf8' }).trim()), -1);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  fleet?.down();
  await hub?.stop();
});

test('start a full scan, see it complete on a phone, add the host as a machine', async () => {
  const m = fleet.machines[0];
  const page = await openPage(browser, hub, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.goto(hub.url + '/#/scans');
  await page.getByRole('heading', { name: 'Scans', level: 1 }).waitFor();
  const form = page.getByRole('form', { name: 'Start a scan' });
  await form.getByLabel('Host').fill(m.host);
  await form.getByLabel('SSH port').fill(String(m.port));
  await form.getByLabel('SSH user').fill(fleet.user);
  await form.getByLabel('Scan type').selectOption('full');
  await form.getByRole('button', { name: 'Start scan' }).click();
  await until(async () => (await page.getByTestId('scan-status').textContent().catch(() => '')) === 'completed', 30000);
  assert.equal(await page.getByTestId('scan-status').textContent(), 'completed');

  // The values shown are the host's: memory from /proc/meminfo, the package count of the stand-in.
  const kb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))[1]);
  const gib = (kb * 1024) / 1024 ** 3;
  const mem = await page.getByTestId('scan-memory').textContent();
  assert.ok(mem.startsWith(`${gib >= 100 ? gib.toFixed(0) : gib.toFixed(1)} GiB`), mem);
  assert.equal(await page.getByTestId('scan-packages').textContent(), '3');
  const scanId = await page.locator('section[data-scan-id]').getAttribute('data-scan-id');
  const scan = (await hub.req('GET', `/api/v1/scans/${scanId}`)).json;
  assert.equal(scan.status, 'completed');
  assert.ok(await page.getByText(scan.results.os.name).first().isVisible());
  // Readable at 390 px: nothing makes the page itself scroll sideways.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page is ${overflow}px wider than the screen`);
  await shot(page, 'scans-result-390');

  // The history lists it; then add it as a machine.
  await page.locator(`.scan-list li[data-scan-id="${scanId}"]`).waitFor();
  const add = page.getByRole('form', { name: 'Add as machine' });
  await add.getByLabel('Machine id').fill('scanned-host');
  await add.getByRole('button', { name: 'Add as machine' }).click();
  const link = page.getByTestId('added-machine');
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), '#/machine/scanned-host');
  const mach = (await hub.req('GET', '/api/v1/servers/scanned-host')).json;
  assert.equal(mach.hostname, m.host);
  assert.equal(mach.ssh_port, m.port);
  assert.equal(mach.ssh_user, fleet.user);
  assert.equal(mach.display_name, scan.results.hostname);
  assert.equal(mach.host_key_fingerprint, scan.host_key_fingerprint);
  assert.equal(mach.os_distribution, scan.results.os.name);
  await link.click();
  await page.getByRole('heading', { level: 1, name: scan.results.hostname }).waitFor();
  assert.deepEqual(page.external, []);
});
