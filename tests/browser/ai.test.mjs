// ai.test.mjs - the machine page's AI and GPU widgets in Debian's Chromium
// against the real hub and a real sshd machine: an Ollama stand-in (the
// documented /api/version, /api/tags and /api/ps shapes) on the machine's
// address is found after a poll and shown with its models and what is
// loaded; stopped, Probe now shows it down; an nvidia-smi stand-in on the
// machine's PATH gives the GPU widget its readings.
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
