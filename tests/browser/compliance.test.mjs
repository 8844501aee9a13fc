// compliance.test.mjs - config packs in Debian's Chromium against the real hub
// and a real sshd machine: the machine page's compliance widget runs a check
// (Check now), the diff view shows the machine's file against the pack's
// coloured line by line (also at phone width), the fleet page filters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Fleet, launch, openPage, shot, until } from './harness.mjs';

let hub, fleet, browser, target;

before(async () => {
  hub = await new Hub().start();
  const pub = (await hub.req('GET', '/api/v1/ssh/public-key')).json.public_key;
  fleet = new Fleet(1, pub, 130).up();
  const m = fleet.machines[0];
  target = join(fleet.dir, 'target');
  mkdirSync(target, { recursive: true });
  chmodSync(target, 0o755);
  writeFileSync(join(target, 'app.conf'), 'a=1\nb=3\n', { mode: 0o644 });
  fleet.setUnit(m, 'ssh', 'active');
  mkdirSync(join(hub.dir, 'packs'), { recursive: true });
  writeFileSync(join(hub.dir, 'packs', 'web.yaml'),
    `name: web\ndescription: browser test\nfiles:\n  - {path: ${target}/app.conf, content: "a=1\\nb=2\\n"}\nservices:\n  running: [ssh]\n`);
  let r = await hub.req('POST', '/api/v1/packs/reload');
  assert.ok(r.json.packs.some((p) => p.name === 'web'), r.text);
  r = await hub.req('POST', '/api/v1/servers', {
    server_id: 'w0', display_name: 'Web box', hostname: m.host, ip_address: m.host, ssh_port: m.port, ssh_user: fleet.user,
  });
  assert.equal(r.status, 201, r.text);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  fleet?.down();
  await hub?.stop();
});

test('widget: Check now runs a real check; details show the coloured diff; fixing the file makes it compliant', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/machine/w0');
  const row = page.locator('[data-widget="compliance"] [data-pack="web"]');
  await row.waitFor();
  assert.equal(await row.getAttribute('data-verdict'), 'never_checked');
  assert.match(await row.textContent(), /never checked/);
  await row.getByRole('button', { name: 'Check web now' }).click();
  await until(async () => (await row.getAttribute('data-verdict')) === 'not_compliant');
  assert.equal(await row.getAttribute('data-verdict'), 'not_compliant');
  assert.match(await row.textContent(), /1 item failing/);
  // the hub stored what the widget shows
  const stored = (await hub.req('GET', '/api/v1/servers/w0/compliance')).json.latest.find((x) => x.pack === 'web');
  assert.deepEqual(stored.counts, { pass: 1, fail: 1, error: 0 });

  await row.getByRole('link', { name: 'details' }).click();
  const diff = page.getByTestId('diff');
  await diff.waitFor();
  const lines = await diff.locator('span').evaluateAll((els) => els.map((e) => [e.className, e.textContent.replace(/\n$/, ''), getComputedStyle(e).backgroundColor]));
  assert.deepEqual(lines.map(([c, t]) => [c, t]), [
    ['diff-file', `--- ${target}/app.conf (machine)`],
    ['diff-file', `+++ ${target}/app.conf (pack)`],
    ['diff-hunk', '@@ -1,2 +1,2 @@'],
    ['diff-ctx', ' a=1'],
    ['diff-del', '-b=3'],
    ['diff-add', '+b=2'],
  ]);
  const bg = Object.fromEntries(lines.map(([c, , b]) => [c, b]));
  assert.notEqual(bg['diff-add'], bg['diff-del']);
  assert.notEqual(bg['diff-add'], bg['diff-ctx']);
  const item = page.locator(`[data-item="${target}/app.conf"]`);
  assert.equal(await item.getAttribute('data-status'), 'fail');
  assert.match(await item.textContent(), /expected.*sha256/);
  assert.equal(await page.locator('[data-item="ssh"]').count(), 0); // passing items hidden by default
  await page.getByLabel('show passing items too').check();
  await page.locator('[data-item="ssh"]').waitFor();
  await shot(page, 'compliance-diff');

  writeFileSync(join(target, 'app.conf'), 'a=1\nb=2\n');
  await page.goto(hub.url + '/#/machine/w0');
  await row.waitFor();
  await row.getByRole('button', { name: 'Check web now' }).click();
  await until(async () => (await row.getAttribute('data-verdict')) === 'compliant');
  assert.equal(await row.getAttribute('data-verdict'), 'compliant');
  assert.deepEqual(page.external, []);
  await page.context().close();
});

test('diff view at phone width: the page does not scroll sideways, the diff box does', async () => {
  writeFileSync(join(target, 'app.conf'), 'a=1\nb=' + 'x'.repeat(300) + '\n');
  const r = await hub.req('POST', '/api/v1/servers/w0/compliance/check', { pack: 'web' });
  assert.equal(r.status, 200, r.text);
  const page = await openPage(browser, hub, { viewport: { width: 390, height: 844 }, isMobile: true });
  await page.goto(hub.url + '/#/compliance/w0/web');
  const diff = page.getByTestId('diff');
  await diff.waitFor();
  const m = await page.evaluate(() => {
    const d = document.querySelector('[data-testid="diff"]');
    return { page: document.documentElement.scrollWidth, vw: window.innerWidth, box: d.clientWidth, inner: d.scrollWidth };
  });
  assert.ok(m.page <= m.vw + 1, JSON.stringify(m));
  assert.ok(m.inner > m.box, JSON.stringify(m)); // the long line scrolls inside the box
  assert.ok(await diff.locator('.diff-del', { hasText: 'x'.repeat(300) }).count() === 1);
  await shot(page, 'compliance-diff-phone');
  await page.context().close();
});

test('fleet page: machines x packs with verdicts, filtered by machine, pack and verdict', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/compliance');
  const table = page.getByTestId('fleet-compliance');
  const cell = table.locator('[data-server="w0"] [data-pack="web"]');
  await cell.waitFor();
  assert.equal(await cell.getAttribute('data-status'), 'not_compliant');
  assert.equal(await table.locator('[data-server="w0"] [data-pack="base"]').getAttribute('data-status'), 'never_checked');
  await page.getByLabel('Pack').selectOption('web');
  assert.equal(await table.locator('th').count(), 2); // Machine + web
  await page.getByLabel('only not compliant').check();
  assert.equal(await table.locator('[data-server="w0"]').count(), 1);
  await page.getByLabel('Machine').fill('zzz');
  assert.equal(await table.locator('[data-server="w0"]').count(), 0);
  await page.context().close();
});
