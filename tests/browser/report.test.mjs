// The exported report (`circuit view RESULTS --export report.html`) in real Chromium from
// file://: no console error, no outside request, the induction circuit's graph shows its heads,
// clicking a head shows its attention pattern, and the model tree opens.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO, chromiumPath, circuit, circuitBinary, openBrowser, screenshot, watchedPage } from './harness.mjs';

const binary = circuitBinary();
// `circuit run` needs the libtorch build; a torch-free developer build borrows build/circuit's.
const hasRun = (b) => b && existsSync(b) && /^\s+run\s/m.test(circuit(b, ['--help']));
const runBinary = [binary, join(REPO, 'build/circuit')].find(hasRun);
const canRun = binary && runBinary && chromiumPath();
let browser;
let reportUrl;

before(async () => {
  if (!canRun) return;
  const dir = mkdtempSync(join(tmpdir(), 'circuit-report-'));
  circuit(runBinary, ['run', join(REPO, 'examples/induction.circuit'), '--out', join(dir, 'induction'), '--threads', '1'], { cwd: REPO });
  circuit(binary, ['view', join(dir, 'induction'), '--export', join(dir, 'report.html')]);
  reportUrl = `file://${join(dir, 'report.html')}`;
  browser = await openBrowser();
});

after(async () => {
  await browser?.close();
});

test('the report opens from file:// and shows the graph, attention and model', { skip: !canRun && 'needs circuit with `run` and chromium' }, async () => {
  const { page, problems } = await watchedPage(browser);
  await page.goto(reportUrl);
  // The graph's head nodes (labels "layer.head").
  const nodes = page.locator('.cv-graph .cv-node');
  await nodes.first().waitFor({ timeout: 10_000 });
  const labels = await page.locator('.cv-graph .cv-node text').allTextContents();
  for (const head of ['0.0', '1.0', '1.1', '1.3']) assert.ok(labels.includes(head), `graph shows head ${head} (${labels})`);
  await screenshot(page, 'report-graph');

  // Clicking a head in the graph opens its attention pattern.
  await page.locator('.cv-graph .cv-node', { hasText: '1.3' }).first().click();
  await page.locator('.cv-attention canvas').first().waitFor({ timeout: 10_000 });
  assert.match(await page.locator('.head-picker-status').textContent(), /head 1\.3/);
  await screenshot(page, 'report-attention');

  // The model tree: clicking the graph's head opened layer 1 there; click its head 2.
  await page.locator('.sidebar-tabs [data-panel="model"]').click();
  assert.equal(await page.locator('details[data-layer="1"]').getAttribute('open'), '', 'layer 1 is open');
  assert.match(await page.locator('.model-inspector').textContent(), /attention head 3 of layer 1/);
  await page.locator('details[data-layer="1"] .head-chip', { hasText: '2' }).click();
  assert.match(await page.locator('.model-inspector').textContent(), /attention head 2 of layer 1/);
  await page.locator('.cv-attention canvas').first().waitFor();
  assert.match(await page.locator('.head-picker-status').textContent(), /head 1\.2/);
  // The report carries the model's hook points with their shapes (the run's model was here).
  await page.locator('details[data-layer="1"] .tree-hooks > summary').click();
  await page.locator('details[data-layer="1"] .hook-row', { hasText: 'attn.hook_pattern' }).click();
  assert.match(await page.locator('.model-inspector').textContent(), /blocks\.1\.attn\.hook_pattern.*\[batch, 4, q_pos, k_pos\]/s);
  await screenshot(page, 'report-model-tree');

  // The logit lens: per layer and position, what the residual stream predicts. In the second
  // copy of the repeated tokens, layer 1 predicts the token that followed in the first copy.
  await page.locator('.results-pane .tab', { hasText: 'Logit lens' }).click();
  const lens = page.locator('.view-host:not([hidden]) .cv-lens-canvas');
  await lens.waitFor({ timeout: 5_000 });
  assert.ok((await lens.evaluate((c) => c.width)) > 0, 'the lens grid is drawn');
  await screenshot(page, 'report-logit-lens');

  // Claims, detectors, provenance render.
  for (const tab of ['Claims', 'Detectors', 'Provenance']) {
    await page.locator('.results-pane .tab', { hasText: tab }).click();
    await page.locator(`.view-host:not([hidden]) [class^="cv-"]`).first().waitFor({ timeout: 5_000 });
  }
  await screenshot(page, 'report-provenance');

  // The interchange document downloads from the page itself.
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.cv-provenance a, .cv-provenance button', { hasText: /download/i }).first().click()]);
  const doc = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(doc.format, 'circuitry.circuit');
  assert.ok(doc.nodes.some((n) => n.id === 'a1.h0'));
  assert.deepEqual(problems.console, [], 'no console errors');
  assert.deepEqual(problems.outside, [], 'no outside requests');
});
