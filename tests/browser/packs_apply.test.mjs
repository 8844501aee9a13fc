// packs_apply.test.mjs - applying a config pack from the dashboard in Debian's
// Chromium against the real hub and a real sshd machine (non-root user, sudo -n
// stand-in): see non-compliance, plan (nothing changes yet), confirm, and see
// the machine compliant with its file rewritten.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, chmodSync, chownSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Hub, Fleet, launch, openPage, until } from './harness.mjs';

let hub, fleet, browser, target;

before(async () => {
  hub = await new Hub().start();
  const pub = (await hub.req('GET', '/api/v1/ssh/public-key')).json.public_key;
  fleet = new Fleet(1, pub, 133).up();
  const m = fleet.machines[0];
  const uid = Number(execFileSync('id', ['-u', fleet.user], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', fleet.user], { encoding: 'utf8' }).trim());
  target = join(fleet.dir, 'target');
  mkdirSync(target, { recursive: true });
  chmodSync(target, 0o755);
  chownSync(target, uid, gid);
  writeFileSync(join(target, 'app.conf'), 'a=1\nb=3\n', { mode: 0o644 });
  writeFileSync(join(target, 'env'), 'EDITOR=nano\n', { mode: 0o644 });
  chownSync(join(target, 'app.conf'), uid, gid);
  chownSync(join(target, 'env'), uid, gid);
  mkdirSync(join(hub.dir, 'packs'), { recursive: true });
  writeFileSync(join(hub.dir, 'packs', 'web.yaml'),
    `name: web\nfiles:\n  - {path: ${target}/app.conf, content: "a=1\\nb=2\\n", mode: "0640"}\n`
    + `settings:\n  lines:\n    - {path: ${target}/env, line: "EDITOR=vim", match: "^EDITOR="}\n`);
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

test('compliance widget: plan, confirm, applied and compliant', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/machine/w0');
  const row = page.locator('[data-widget="compliance"] [data-pack="web"]');
  await row.waitFor();
  await row.getByRole('button', { name: 'Check web now' }).click();
  await until(async () => (await row.getAttribute('data-verdict')) === 'not_compliant');
  await row.getByRole('button', { name: 'Plan applying web' }).click();
  const plan = row.getByTestId('apply-plan');
  await plan.waitFor();
  assert.match(await plan.textContent(), /2 changes/);
  assert.match(await plan.textContent(), /write .*app\.conf/);
  assert.equal(readFileSync(join(target, 'app.conf'), 'utf8'), 'a=1\nb=3\n'); // the plan changed nothing
  await row.getByRole('button', { name: 'Apply 2 changes' }).click();
  const out = row.getByTestId('apply-outcome');
  await out.waitFor({ timeout: 30000 });
  assert.equal(await out.getAttribute('data-status'), 'completed', await out.textContent());
  assert.match(await out.textContent(), /2 changed/);
  assert.match(await out.textContent(), /now compliant/);
  await until(async () => (await row.getAttribute('data-verdict')) === 'compliant');
  assert.equal(readFileSync(join(target, 'app.conf'), 'utf8'), 'a=1\nb=2\n');
  assert.equal(readFileSync(join(target, 'env'), 'utf8'), 'EDITOR=vim\n');
  const acts = (await hub.req('GET', '/api/v1/actions?server_id=w0')).json;
  const list = acts.actions ?? acts;
  assert.ok(list.some((a) => a.action_type === 'apply_pack' && a.status === 'completed'), JSON.stringify(acts).slice(0, 500));
});
