// drift.test.mjs - pack assignment and drift in Debian's Chromium against the
// real hub and a real sshd machine: a pack assigned on the machine page, a file
// changed by hand found by the drift schedule, its alert's "See the diff" link
// opening the diff, packs by tag saved in Settings, and Remove with cleanup.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, chmodSync, chownSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Hub, Fleet, launch, openPage, shot, until } from './harness.mjs';

let hub, fleet, browser, target;

before(async () => {
  hub = await new Hub().start();
  const pub = (await hub.req('GET', '/api/v1/ssh/public-key')).json.public_key;
  fleet = new Fleet(1, pub, 160).up();
  const m = fleet.machines[0];
  const uid = Number(execFileSync('id', ['-u', fleet.user], { encoding: 'utf8' }).trim());
  target = join(fleet.dir, 'drift-target');
  mkdirSync(target, { recursive: true });
  chmodSync(target, 0o755);
  chownSync(target, uid, -1); // the machine's user may remove the pack's files
  writeFileSync(join(target, 'app.conf'), 'a=1\nb=2\n', { mode: 0o644 });
  chownSync(join(target, 'app.conf'), uid, -1);
  mkdirSync(join(hub.dir, 'packs'), { recursive: true });
  writeFileSync(join(hub.dir, 'packs', 'web.yaml'),
    `name: web\ndescription: browser drift test\nfiles:\n  - {path: ${target}/app.conf, content: "a=1\\nb=2\\n"}\n`);
  let r = await hub.req('POST', '/api/v1/packs/reload');
  assert.ok(r.json.packs.some((p) => p.name === 'web'), r.text);
  r = await hub.req('POST', '/api/v1/servers', {
    server_id: 'd0', display_name: 'Drift box', hostname: m.host, ip_address: m.host, ssh_port: m.port, ssh_user: fleet.user,
  });
  assert.equal(r.status, 201, r.text);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  fleet?.down();
  await hub?.stop();
});

test('assign on the machine page; drift is alerted and links to its diff; remove with cleanup', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/machine/d0');
  await page.getByText('Config packs assigned to this machine').click();
  const panel = page.getByRole('region', { name: 'Assigned packs' });
  await panel.getByText('No packs assigned.').waitFor();
  await panel.getByLabel('Pack to assign').selectOption('web');
  await panel.getByRole('button', { name: 'Assign' }).click();
  const row = panel.locator('[data-assigned="web"]');
  await row.waitFor();
  assert.match(await row.textContent(), /from machine/);
  assert.deepEqual((await hub.req('GET', '/api/v1/servers/d0/packs')).json.effective, [{ name: 'web', sources: ['machine'] }]);

  // compliant on the first scheduled round; a hand edit is drift on the next
  let r = await hub.req('POST', '/api/v1/packs/drift/run');
  assert.equal(r.json.compliant, 1, r.text);
  writeFileSync(join(target, 'app.conf'), 'a=1\nb=3\n');
  r = await hub.req('POST', '/api/v1/packs/drift/run');
  assert.equal(r.json.not_compliant, 1, r.text);

  await page.goto(hub.url + '/#/alerts');
  const link = page.getByTestId('drift-diff');
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), '#/compliance/d0/web');
  await shot(page, 'drift-alert');
  await link.click();
  const diff = page.getByTestId('diff');
  await diff.waitFor();
  const lines = await diff.locator('span').evaluateAll((els) => els.map((e) => e.textContent.replace(/\n$/, '')));
  assert.deepEqual(lines.slice(3), [' a=1', '-b=3', '+b=2']);

  // Remove with cleanup: the file is no longer the pack's, so it stays
  await page.goto(hub.url + '/#/machine/d0');
  await page.getByText('Config packs assigned to this machine').click();
  await panel.locator('[data-assigned="web"]').waitFor();
  await panel.getByLabel(/also clean up/).check();
  await panel.getByRole('button', { name: 'Remove web' }).click();
  await panel.getByText(/Removed web\. Cleanup: 0 removed; left: .*app\.conf \(changed since, left alone\)/).waitFor();
  assert.ok(existsSync(join(target, 'app.conf')));
  await panel.getByText('No packs assigned.').waitFor();
  assert.deepEqual(page.external, []);
  await page.context().close();
});

test('Settings: packs by tag are saved and listed', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/settings');
  const panel = page.getByRole('region', { name: 'Packs by tag' });
  await panel.getByText('No tag has packs.').waitFor();
  await panel.getByLabel('Tag').fill('edge');
  await panel.getByLabel('web').check();
  await panel.getByRole('button', { name: 'Save tag packs' }).click();
  await panel.getByText('Saved the packs of tag edge.').waitFor();
  await panel.locator('[data-tag="edge"]').waitFor();
  assert.deepEqual((await hub.req('GET', '/api/v1/packs/assignments')).json, { tags: { edge: ['web'] } });
  await shot(page, 'drift-tag-packs');
  await page.context().close();
});
