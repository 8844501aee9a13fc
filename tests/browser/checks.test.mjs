// checks.test.mjs - the checks page and the family status page in Debian's
// Chromium against the real hub and a real loopback HTTP server: a check that
// answers and one on a closed port, Run now, adding a check through the form,
// phone width, and the status page opened with its own token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { Hub, launch, openPage, shot, until } from './harness.mjs';

let hub, browser, web, closedPort;

before(async () => {
  web = http.createServer((req, res) => { res.writeHead(200); res.end('Plex Media Server is up'); });
  await new Promise((r) => web.listen(0, '127.0.0.1', r));
  const probe = net.createServer();
  await new Promise((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = probe.address().port;
  await new Promise((r) => probe.close(r));
  hub = await new Hub().start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await hub?.stop();
  await new Promise((r) => (web ? web.close(r) : r()));
});

test('checks page: state per check, run now, add through the form, status page link', async () => {
  const url = `http://127.0.0.1:${web.address().port}/`;
  let r = await hub.req('POST', '/api/v1/checks', { name: 'Films', type: 'http', url, keyword: 'Plex', interval_seconds: 3600 });
  assert.equal(r.status, 201, r.text);
  const up = r.json.id;
  r = await hub.req('POST', '/api/v1/checks', { name: 'NAS shares', type: 'tcp', host: '127.0.0.1', port: closedPort, interval_seconds: 3600 });
  const down = r.json.id;
  await hub.req('POST', `/api/v1/checks/${up}/run`);
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/checks');
  const row = (id) => page.locator(`[data-check-id="${id}"]`);
  await row(up).waitFor();
  await until(async () => (await row(up).getAttribute('data-state')) === 'up');
  assert.equal(await row(up).getAttribute('data-state'), 'up');
  // A new check runs at once; Run now runs it again: one more result row.
  await until(async () => (await row(down).getAttribute('data-state')) === 'down');
  assert.equal(await row(down).getAttribute('data-state'), 'down');
  assert.match(await row(down).textContent(), /could not connect/);
  const results = async () => (await hub.req('GET', `/api/v1/checks/${down}/results?place=hub`)).json.history.length;
  const before = await results();
  await row(down).getByRole('button', { name: 'Run now' }).click();
  assert.ok(await until(async () => (await results()) > before), 'Run now added no result');
  // The form: a TCP check to the web server's port, sent as the hub wants it.
  const form = page.getByRole('form', { name: 'Add a check' });
  await form.getByLabel('Name', { exact: true }).fill('Web port');
  await form.locator('select').first().selectOption('tcp');
  await form.getByLabel('Host', { exact: true }).fill('127.0.0.1');
  await form.getByLabel('Port', { exact: true }).fill(String(web.address().port));
  await form.getByRole('button', { name: 'Add check' }).click();
  await until(async () => (await hub.req('GET', '/api/v1/checks')).json.checks.some((c) => c.name === 'Web port'));
  const made = (await hub.req('GET', '/api/v1/checks')).json.checks.find((c) => c.name === 'Web port');
  assert.deepEqual([made.type, made.host, made.port, made.run_from], ['tcp', '127.0.0.1', web.address().port, ['hub']]);
  await row(made.id).waitFor();
  await shot(page, 'checks');
  // The front page's widget counts them.
  await page.goto(hub.url + '/');
  const widget = page.getByTestId('checks-widget');
  await widget.waitFor();
  await until(async () => /1 of 3 up|2 of 3 up/.test(await widget.textContent()));
  assert.match(await widget.textContent(), /NAS shares/);
  // The status page: on, with Films, through its own link.
  await page.goto(hub.url + '/#/checks');
  const panel = page.getByRole('region', { name: 'Family status page' });
  // The boxes follow the hub's saved state, so click and wait for the save.
  await panel.getByLabel('Page on').click();
  assert.ok(await until(async () => (await hub.req('GET', '/api/v1/status-page')).json.enabled), 'page not on');
  assert.ok(await until(() => panel.getByLabel('Page on').isChecked()));
  await panel.getByLabel('Films').click();
  assert.ok(await until(async () => (await hub.req('GET', '/api/v1/status-page')).json.services.length === 1), 'Films not shown');
  assert.ok(await until(() => panel.getByLabel('Films').isChecked()));
  await panel.getByRole('button', { name: 'Make a link' }).click();
  const link = await page.getByTestId('status-link').getByRole('link').getAttribute('href');
  assert.match(link, /\/status\/[0-9a-f]{48}$/);
  const family = await openPage(browser, hub, { viewport: { width: 390, height: 800 } });
  await family.goto(link);
  await until(async () => /Films/.test(await family.locator('#l').textContent()));
  assert.match(await family.locator('#l').textContent(), /Films\s*Working/);
  assert.doesNotMatch(await family.content(), /NAS shares|127\.0\.0\.1/);
  const [sw, cw] = await family.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(sw <= cw, `status page scrollWidth ${sw} > ${cw}`);
  await shot(family, 'status-page-phone');
  assert.deepEqual(page.external, []);
});
