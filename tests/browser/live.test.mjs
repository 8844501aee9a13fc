// live.test.mjs - a new sample shows within a second: the hub's event stream
// (GET /api/v1/events) tells the open dashboard, which refetches at once (its
// fallback poll is every 5 s, so this cannot pass on polling alone).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hub, launch, openPage, shot } from './harness.mjs';

const GIB = 1024 ** 3;
let hub, browser;

function heartbeat(sid, availGiB, t) {
  return {
    server_id: sid, timestamp: new Date(t * 1000).toISOString().replace(/\.\d+Z$/, 'Z'), hostname: `${sid}.lan`,
    metrics: { cpu_cores: 4, cpu_total_jiffies: 1000 + t, cpu_idle_jiffies: 800 + t, memory_total_bytes: 8 * GIB,
      memory_available_bytes: availGiB * GIB, load_1m: 0.5, load_5m: 0.25, load_15m: 0.125, uptime_seconds: 3600 },
    filesystems: [{ mount: '/', device: '/dev/sda1', fstype: 'ext4', total_bytes: 100 * GIB, used_bytes: 40 * GIB, avail_bytes: 55 * GIB }],
  };
}
async function send(sid, availGiB, t) {
  const r = await hub.req('POST', '/api/v1/agents/heartbeat', heartbeat(sid, availGiB, t));
  assert.equal(r.status, 200, r.text);
}

before(async () => {
  hub = await new Hub().start();
  browser = await launch();
});
after(async () => { await browser?.close(); await hub?.stop(); });

/** ms from the heartbeat POST until the meter shows want. */
async function timeUntilShown(page, meter, sid, availGiB, t, want) {
  await page.evaluate(() => { window.__t0 = performance.now(); });
  const start = Date.now();
  await send(sid, availGiB, t);
  await page.waitForFunction(([sel, v]) => document.querySelector(sel)?.getAttribute('aria-valuenow') === v,
    [meter, String(want)], { timeout: 6000, polling: 20 });
  return Date.now() - start;
}

test('machine page and dashboard show a new sample within a second', async () => {
  const now = Math.floor(Date.now() / 1000);
  await send('live-ws', 6, now - 30); // RAM 25 %
  const page = await openPage(browser, hub);
  const streams = [];
  page.on('request', (r) => { if (r.url().includes('/api/v1/events')) streams.push(r.url()); });
  await page.goto(hub.url + '/#/machine/live-ws');
  const meter = '[data-widget="memory"] [role=meter]';
  await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute('aria-valuenow') === '25', meter);
  await page.waitForTimeout(300); // the stream is open
  const ms1 = await timeUntilShown(page, meter, 'live-ws', 2, now - 20, 75);
  assert.ok(ms1 < 1000, `machine page: ${ms1} ms`);
  await page.goto(hub.url + '/');
  const card = '[data-server-id="live-ws"] [role=meter][aria-label=RAM]';
  await page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute('aria-valuenow') === '75', card);
  await page.waitForTimeout(300);
  const ms2 = await timeUntilShown(page, card, 'live-ws', 4, now - 10, 50);
  assert.ok(ms2 < 1000, `dashboard: ${ms2} ms`);
  console.log(`# new sample shown after ${ms1} ms (machine page), ${ms2} ms (dashboard)`);
  assert.ok(streams.length >= 1 && streams.every((u) => u.startsWith(hub.url + '/api/v1/events?key=')), streams.join());
  assert.deepEqual(page.external, []);
  await shot(page, 'live');
  await page.context().close();
});
