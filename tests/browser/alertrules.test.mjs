// alertrules.test.mjs - snooze/mute from an alert, the muted list, a machine's own
// thresholds and the grouped "updates" row (alerts page, machine page, dashboard), in Debian's Chromium against the real
// hub fed by agent heartbeats (its alert engine raises every alert seen here).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, launch, openPage, shot, until } from './harness.mjs';

const GIB = 1024 ** 3;
let hub, browser;

/** An agent heartbeat: disk `usedGib` of 100 GiB, 3 updates (1 security). */
function heartbeat(sid, usedGib) {
  return {
    server_id: sid, timestamp: new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z'), hostname: `${sid}.lan`,
    metrics: { cpu_cores: 4, cpu_total_jiffies: 1000, cpu_idle_jiffies: 800, memory_total_bytes: 8 * GIB, memory_available_bytes: 6 * GIB,
      swap_total_bytes: GIB, swap_free_bytes: GIB, load_1m: 0.5, load_5m: 0.25, load_15m: 0.125, uptime_seconds: 3600 },
    os_info: { id: 'debian', distribution: 'Debian GNU/Linux 12 (bookworm)', version: '12', kernel: '6.1.0', architecture: 'x86_64' },
    filesystems: [{ mount: '/', device: '/dev/sda1', fstype: 'ext4', total_bytes: 100 * GIB, used_bytes: usedGib * GIB, avail_bytes: (100 - usedGib) * GIB }],
    network: [], services: [], containers: [], temperatures: [],
    reboot_required: false, updates_available: 3, security_updates: 1,
  };
}
async function beat(sid, usedGib) {
  const r = await hub.req('POST', '/api/v1/agents/heartbeat', heartbeat(sid, usedGib));
  assert.equal(r.status, 200, r.text);
}
const active = async (sid) => (await hub.req('GET', `/api/v1/alerts?server_id=${sid}&status=active`)).json.alerts;

before(async () => {
  hub = await new Hub().start();
  await beat('nas', 85); // 85 %: over the global 80 % disk warning
  assert.equal((await active('nas')).length, 3, JSON.stringify(await active('nas')));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await hub?.stop();
});

test('alerts page: updates grouped per machine; snooze an alert, see it muted, remove the rule', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/');
  const recent = page.getByRole('region', { name: 'Recent alerts' });
  await recent.locator('[data-updates-of="nas"]').waitFor();
  assert.equal(await recent.locator('li').count(), 2, 'the disk alert and one updates row');
  await page.goto(hub.url + '/#/alerts');
  // the two update alerts are one row with one set of buttons
  const group = page.locator('[data-updates-of="nas"]');
  await group.waitFor();
  const text = await group.textContent();
  assert.match(text, /3 updates available/);
  assert.match(text, /1 security update available/);
  assert.equal(await group.getByRole('button', { name: /^Acknowledge/ }).count(), 1);
  assert.equal(await page.locator('li[data-alert-id]').count(), 1, 'only the disk alert is its own row');

  const disk = (await active('nas')).find((a) => a.type === 'disk_warning');
  const row = page.locator(`[data-alert-id="${disk.alert_id}"]`);
  await row.locator('summary', { hasText: 'Snooze' }).click();
  await row.getByRole('button', { name: 'Snooze 8 h' }).click();
  const rules = await until(async () => { const l = (await hub.req('GET', '/api/v1/alert-mutes')).json.mutes; return l.length ? l : null; });
  assert.equal(rules.length, 1);
  assert.equal(rules[0].server_id, 'nas');
  assert.equal(rules[0].alert_type, 'disk_warning');
  const hours = (Date.parse(rules[0].until) - Date.now()) / 3600e3;
  assert.ok(hours > 7.9 && hours <= 8, `until ${rules[0].until}`);
  // the alert is still listed, marked muted; the rule is listed with Remove
  await until(async () => (await row.getAttribute('data-muted')) === 'true');
  assert.equal(await row.getAttribute('data-muted'), 'true');
  const list = page.getByRole('region', { name: 'Muted alerts' });
  await list.waitFor();
  assert.match(await list.textContent(), /disk warning on nas · until/);
  await shot(page, 'alertrules-muted');
  await list.getByRole('button', { name: /^Remove mute/ }).click();
  await until(async () => (await hub.req('GET', '/api/v1/alert-mutes')).json.mutes.length === 0);
  assert.equal((await hub.req('GET', '/api/v1/alert-mutes')).json.mutes.length, 0);
  await until(async () => (await row.getAttribute('data-muted')) === null);
  assert.equal(await row.getAttribute('data-muted'), null);
  // the audit log has both
  const audit = (await hub.req('GET', '/api/v1/audit')).json.entries.map((e) => e.action_type);
  assert.ok(audit.includes('alert_mute') && audit.includes('alert_unmute'), audit.join(','));
  await page.context().close();
});

test('machine page: own thresholds with the global beside them, errors next to the field', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/machine/nas');
  // its alerts panel groups the two update alerts too
  await page.locator('[data-widget="alerts"] [data-updates-of="nas"]').waitFor();
  assert.equal(await page.locator('[data-widget="alerts"] [data-updates-of="nas"]').count(), 1);
  await page.locator('summary', { hasText: 'Alert thresholds for this machine' }).click();
  const form = page.getByRole('form', { name: 'Thresholds for this machine' });
  await form.waitFor();
  const warn = form.locator('input[name="disk_warning_percent"]');
  const crit = form.locator('input[name="disk_critical_percent"]');
  const warnLabel = form.locator('label:has(input[name="disk_warning_percent"])');
  assert.equal(await warn.getAttribute('placeholder'), '80');
  assert.match(await form.locator('#thr-disk_warning_percent').textContent(), /global 80/);
  // 95 is not below the global critical 90: said in words next to the field, nothing sent
  await warn.fill('95');
  await form.getByRole('button', { name: 'Save thresholds for this machine' }).click();
  const err = warnLabel.getByRole('alert');
  await err.waitFor();
  assert.equal(await err.textContent(), 'Disk warning must be lower than Disk critical (95% is not below 90%)');
  assert.deepEqual((await hub.req('GET', '/api/v1/servers/nas/thresholds')).json.overrides, {});
  // a NAS at 85 % is normal: its own 90 / 95
  await warn.fill('90');
  await crit.fill('95');
  await form.getByRole('button', { name: 'Save thresholds for this machine' }).click();
  await form.getByText('Saved.').waitFor();
  const got = (await hub.req('GET', '/api/v1/servers/nas/thresholds')).json;
  assert.deepEqual(got.overrides, { disk_warning_percent: 90, disk_critical_percent: 95 });
  assert.equal(got.source.disk_warning_percent, 'server');
  assert.equal(await warnLabel.getAttribute('data-source'), 'server');
  assert.match(await form.locator('#thr-disk_warning_percent').textContent(), /this machine \(global 80\)/);
  // the next sample at 85 % clears the disk alert under the machine's own threshold
  await beat('nas', 85);
  assert.deepEqual((await active('nas')).map((a) => a.type).sort(), ['security_updates', 'update_available']);
  // emptied: back to the global value
  await warn.fill('');
  await crit.fill('');
  await form.getByRole('button', { name: 'Save thresholds for this machine' }).click();
  await until(async () => Object.keys((await hub.req('GET', '/api/v1/servers/nas/thresholds')).json.overrides).length === 0);
  assert.deepEqual((await hub.req('GET', '/api/v1/servers/nas/thresholds')).json.overrides, {});
  await shot(page, 'alertrules-thresholds');
  await page.context().close();
});
