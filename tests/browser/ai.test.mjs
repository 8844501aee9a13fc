// ai.test.mjs - the machine page's AI and GPU widgets in Debian's Chromium
// against the real hub and a real sshd machine: an Ollama stand-in (the
// documented /api/version, /api/tags and /api/ps shapes) on the machine's
// address is found after a poll and shown with its models and what is
// loaded; stopped, Probe now shows it down; an nvidia-smi stand-in on the
// machine's PATH gives the GPU widget its readings and the history's
// temperatures chart a line per GPU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Hub, Fleet, launch, openPage, shot, until } from './harness.mjs';

let hub, fleet, browser, ollama, m;

const TAGS = { models: [
  { name: 'llama3.2:latest', model: 'llama3.2:latest', modified_at: '2025-05-04T17:37:44-07:00', size: 2019393189,
    digest: 'a80c', details: { format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '3.2B', quantization_level: 'Q4_K_M' } },
] };
const PS = { models: [{ name: 'llama3.2:latest', model: 'llama3.2:latest', size: 4000000000, size_vram: 3000000000,
  digest: 'a80c', details: {}, expires_at: '2026-12-07T16:47:07Z', context_length: 4096 }] };

function serveOllama(host) {
  const s = createServer((req, res) => {
    const body = { '/api/version': { version: '0.5.7' }, '/api/tags': TAGS, '/api/ps': PS }[req.url];
    res.writeHead(body ? 200 : 404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body ?? { error: 'not found' }));
  });
  return new Promise((ok) => s.listen(11434, host, () => ok(s)));
}

before(async () => {
  hub = await new Hub().start();
  const pub = (await hub.req('GET', '/api/v1/ssh/public-key')).json.public_key;
  fleet = new Fleet(1, pub, 133).up();
  m = fleet.machines[0];
  writeFileSync(join(m.dir, 'bin', 'nvidia-smi'),
    '#!/bin/sh\necho "0, NVIDIA GeForce RTX 3090, 35, 10240, 24576, 65, 250.50"\n', { mode: 0o755 });
  ollama = await serveOllama(m.host);
  const r = await hub.req('POST', '/api/v1/servers', {
    server_id: 'ai0', display_name: 'AI box', hostname: m.host, ip_address: m.host, ssh_port: m.port, ssh_user: fleet.user,
  });
  assert.equal(r.status, 201, r.text);
  assert.equal((await hub.req('POST', '/api/v1/servers/ai0/poll')).status, 200);
  await until(async () => (await hub.req('GET', '/api/v1/servers/ai0/ollama')).json.state === 'up');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  ollama?.close();
  fleet?.down();
  await hub?.stop();
});

test('AI widget shows the models and what is loaded; GPU widget the readings; a stopped Ollama shows down', async () => {
  const page = await openPage(browser, hub);
  await page.goto(hub.url + '/#/machine/ai0');
  const ai = page.locator('[data-widget="ai"] [data-ollama-state]');
  await ai.waitFor();
  assert.equal(await ai.getAttribute('data-ollama-state'), 'up');
  const text = await ai.textContent();
  assert.match(text, /0\.5\.7/);
  assert.match(text, /llama3\.2:latest/);
  assert.match(text, /75% in VRAM/);
  assert.match(text, /Installed \(1\)/);
  const gpu = page.locator('[data-widget="gpu"] [data-gpu="nvidia0"]');
  await gpu.waitFor();
  assert.match(await gpu.textContent(), /NVIDIA GeForce RTX 3090.*35% busy.*65 °C.*251 W/);
  await shot(page, 'ai-gpu-widgets');

  await new Promise((ok) => ollama.close(ok));
  ollama = null;
  await page.locator('[data-widget="ai"]').getByRole('button', { name: 'Probe now' }).click();
  await until(async () => (await ai.getAttribute('data-ollama-state')) === 'down');
  assert.equal((await hub.req('GET', '/api/v1/servers/ai0/ollama')).json.state, 'down');
  assert.match(await ai.textContent(), /not answering/);
});

test('history: the temperatures chart draws each GPU beside the CPU, latest in the legend', async () => {
  // a second reading, hotter, so the legend's latest is the newest poll's
  writeFileSync(join(m.dir, 'bin', 'nvidia-smi'),
    '#!/bin/sh\necho "0, NVIDIA GeForce RTX 3090, 40, 10240, 24576, 71, 250.50"\n', { mode: 0o755 });
  await new Promise((ok) => setTimeout(ok, 1100)); // samples are unique per second
  assert.equal((await hub.req('POST', '/api/v1/servers/ai0/poll')).status, 200);
  await until(async () => (await hub.req('GET', '/api/v1/servers/ai0/gpus?hours=1')).json.gpus[0]?.temp_c === 71);
  const page = await openPage(browser, hub, { viewport: { width: 1400, height: 1000 } });
  await page.goto(hub.url + '/#/machine/ai0');
  const chart = page.locator('[data-widget="chart"]');
  await chart.getByRole('button', { name: '1h', exact: true }).click();
  const temp = chart.locator('.chart-box[data-range="1h"][data-state=ready] [data-metric=temp]');
  await temp.waitFor({ timeout: 15000 });
  const items = await temp.locator('.legend-item').evaluateAll((els) => els.map((e) => [e.dataset.series, e.textContent.replace(/^ · /, '')]));
  const gpuItem = items.find(([s]) => s === 'GPU NVIDIA GeForce RTX 3090');
  assert.ok(gpuItem, JSON.stringify(items));
  // polls in the same minute average into one bucket: the newest one (71) is in it
  const shown = Number(gpuItem[1].match(/^GPU NVIDIA GeForce RTX 3090 (\d+) °C$/)?.[1]);
  assert.ok(shown > 65 && shown <= 71, gpuItem[1]);
  // the CPU's own line is there exactly when the machine reports a CPU temperature
  const h = (await hub.req('GET', '/api/v1/metrics/ai0?range=1h&points=60')).json;
  const cpu = h.series.cpu_temp_c.avg.some((v) => v !== null);
  assert.equal(items.some(([s]) => s === 'CPU'), cpu, JSON.stringify(items));
  assert.equal(await temp.getAttribute('data-lines'), String(cpu ? 2 : 1));
  assert.match(await temp.locator('[role=img]').getAttribute('aria-label'), /^Temperatures over 1h: .*GPU NVIDIA GeForce RTX 3090 \d+ °C to \d+ °C, latest \d+ °C$/);
  await page.context().close();
});
