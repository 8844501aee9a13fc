// unsaved.test.mjs - "Leave without saving?" (issue 28): an edited form holds the page
// against the app's own links and asks before the tab closes; nothing once saved.
// Real hub, Debian's Chromium; the machine need not answer for its forms to work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, launch, openPage, until } from './harness.mjs';

let hub, browser;

before(async () => {
  hub = await new Hub().start();
  const r = await hub.req('POST', '/api/v1/servers', { server_id: 'quiet', display_name: 'Quiet box', hostname: '127.0.0.1', ssh_port: 1, machine_type: 'server' });
  assert.equal(r.status, 201, r.text);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

/** The dialogs the page opens, answered by `answer` (true: OK). */
function dialogs(page, answer) {
  const seen = [];
  page.on('dialog', async (d) => { seen.push({ type: d.type(), message: d.message() }); if (answer()) await d.accept(); else await d.dismiss(); });
  return seen;
}

test('machine form: an edit asks before a nav link, Cancel keeps it; no prompt unchanged or once saved', async () => {
  const page = await openPage(browser, hub);
  let ok = false;
  const seen = dialogs(page, () => ok);
  await page.goto(hub.url + '/#/edit/quiet');
  const name = page.locator('input[name=display_name]');
  await until(async () => (await name.inputValue()) === 'Quiet box');
  const nav = page.getByRole('navigation', { name: 'Main' });
  // Nothing changed: the link just goes.
  await nav.getByRole('link', { name: 'Alerts' }).click();
  await page.getByRole('heading', { level: 1, name: 'Alerts' }).waitFor();
  assert.deepEqual(seen, []);
  // The keyboard focus went to the new page's heading (a lazy page: after its chunk came).
  await until(async () => (await page.evaluate(() => document.activeElement?.tagName === 'H1' && document.activeElement.textContent)) === 'Alerts', 5000);
  await page.goBack();
  await until(async () => (await name.inputValue()) === 'Quiet box');
  await name.fill('Quieter box');
  await nav.getByRole('link', { name: 'Alerts' }).click();
  await until(async () => seen.length === 1);
  assert.deepEqual(seen[0], { type: 'confirm', message: 'Leave without saving?' });
  assert.match(page.url(), /#\/edit\/quiet$/);
  assert.equal(await name.inputValue(), 'Quieter box', 'Cancel keeps the value');
  // The browser's own leave (close, reload) is asked for by beforeunload.
  assert.equal(await page.evaluate(() => { const e = new Event('beforeunload', { cancelable: true }); window.dispatchEvent(e); return e.defaultPrevented; }), true);
  // Saved: the form goes to the machine without asking, and then nothing is held.
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: /Quieter box/ }).waitFor();
  assert.equal(seen.length, 1);
  assert.equal((await hub.req('GET', '/api/v1/servers/quiet')).json.display_name, 'Quieter box');
  assert.equal(await page.evaluate(() => { const e = new Event('beforeunload', { cancelable: true }); window.dispatchEvent(e); return e.defaultPrevented; }), false);
  // OK on the prompt leaves.
  await page.goto(hub.url + '/#/settings');
  const cpu = page.locator('input[name="thresholds.cpu_warning_percent"]');
  await cpu.waitFor();
  await cpu.fill('77');
  ok = true;
  await nav.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByRole('heading', { level: 1, name: 'Fleet' }).waitFor();
  assert.equal(seen.length, 2);
  assert.notEqual((await hub.req('GET', '/api/v1/config/thresholds')).json.cpu_warning_percent, 77, 'left unsaved');
  await page.context().close();
});

test('layout editor: a moved widget asks; Edit layout alone does not', async () => {
  const page = await openPage(browser, hub, { viewport: { width: 1400, height: 900 } });
  const seen = dialogs(page, () => false);
  await page.goto(hub.url + '/#/machine/quiet');
  await page.locator('[data-widget="load"] .widget-head').waitFor();
  await page.getByRole('button', { name: 'Edit layout' }).click();
  await page.getByRole('link', { name: '← Dashboard' }).click();
  await page.getByRole('heading', { level: 1, name: 'Fleet' }).waitFor();
  assert.deepEqual(seen, [], 'nothing changed');
  await page.goto(hub.url + '/#/machine/quiet');
  await page.getByRole('button', { name: 'Edit layout' }).click();
  await page.locator('[data-widget="load"] .widget-head').focus();
  await page.keyboard.press('ArrowLeft');
  await page.getByRole('link', { name: '← Dashboard' }).click();
  await until(async () => seen.length === 1);
  assert.equal(seen[0].message, 'Leave without saving?');
  assert.match(page.url(), /#\/machine\/quiet$/);
  await page.getByRole('button', { name: 'Save layout' }).click();
  await page.getByText('Layout saved.').waitFor();
  await page.getByRole('link', { name: '← Dashboard' }).click();
  await page.getByRole('heading', { level: 1, name: 'Fleet' }).waitFor();
  assert.equal(seen.length, 1, 'saved: no prompt');
  await page.context().close();
});
