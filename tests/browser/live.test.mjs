// The live app against a real `circuit serve` in Chromium: the page loads with no console error
// and no outside request; typing an error underlines the right span with the compiler's message
// within a second; fixing it and pressing Ctrl-Enter runs the file and the views show the new
// run's graph; clicking a head shows its attention pattern.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO, chromiumPath, circuit, circuitBinary, openBrowser, screenshot, watchedPage } from './harness.mjs';

// $CIRCUIT_APP_URL: test an app already being served (e.g. `npm run dev` in webview/ in front of
// a `circuit serve` of a fresh copy of examples/), instead of starting `circuit serve` here.
const appUrl = process.env.CIRCUIT_APP_URL;
const binary = circuitBinary();
const canServe = chromiumPath() && (appUrl || (binary && /^\s+serve\s/m.test(circuit(binary, ['--help']))));
let server;
let address;
let browser;

before(async () => {
  if (!canServe) return;
  browser = await openBrowser();
  if (appUrl) {
    address = appUrl;
    return;
  }
  const workspace = mkdtempSync(join(tmpdir(), 'circuit-serve-'));
  cpSync(join(REPO, 'examples'), join(workspace, 'examples'), { recursive: true });
  server = spawn(binary, ['serve', workspace, '--port', '0', '--model', 'induction-2l'], { stdio: ['ignore', 'pipe', 'pipe'] });
  address = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`circuit serve printed no address: ${out}`)), 60_000);
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /open (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    server.on('exit', (code) => reject(new Error(`circuit serve exited (${code}): ${out}`)));
  });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGINT');
});

test('edit, see the error, fix, run, inspect', { skip: !canServe && 'needs circuit with `serve` and chromium' }, async (t) => {
  const origin = new URL(address).origin;
  const { page, problems } = await watchedPage(browser, origin);
  await page.goto(address);
  await page.locator('.file', { hasText: 'induction.circuit' }).first().click();
  await page.locator('.cm-line', { hasText: 'let induction_heads' }).waitFor();
  await page.locator('.status-connection[data-state="open"]').waitFor({ timeout: 5_000 });

  // An out-of-range layer: the compiler underlines `heads 7.*`'s layer.
  const line = page.locator('.cm-line', { hasText: 'let induction_heads' });
  await line.click();
  await page.keyboard.press('End');
  await page.keyboard.type('\nlet broken = heads 7.*');
  const typed = Date.now();
  const underline = page.locator('.cm-lintRange-error');
  await underline.first().waitFor({ timeout: 1_000 });
  const elapsed = Date.now() - typed;
  assert.ok(elapsed < 1_000, `underlined after ${elapsed} ms`);
  t.diagnostic(`keystroke to underline: ${elapsed} ms`);
  assert.match(await underline.first().textContent(), /7/);
  await underline.first().hover();
  assert.match(await page.locator('.cm-tooltip-lint').textContent(), /layer 7|out of range/);
  await screenshot(page, 'live-error');

  // Fix it (delete the line), then Ctrl-Enter runs the file.
  await page.keyboard.press('Escape');
  await page.locator('.cm-line', { hasText: 'let broken' }).click();
  await page.keyboard.press('End');
  await page.keyboard.press('Shift+Home');
  await page.keyboard.press('Backspace');
  await page.keyboard.press('Backspace');
  await page.waitForFunction(() => document.querySelectorAll('.cm-lintRange-error').length === 0, null, { timeout: 2_000 });
  await page.keyboard.press('Control+Enter');
  await page.locator('.run[data-state="done"]').first().waitFor({ timeout: 60_000 });
  await page.locator('.cv-graph .cv-node', { hasText: '1.0' }).first().waitFor({ timeout: 10_000 });
  await screenshot(page, 'live-graph');

  await page.locator('.cv-graph .cv-node', { hasText: '0.0' }).first().click();
  await page.locator('.cv-attention canvas').first().waitFor({ timeout: 10_000 });
  assert.match(await page.locator('.head-picker-status').textContent(), /head 0\.0/);
  await screenshot(page, 'live-attention');

  // The address names the open file and run, so a reload (or a link sent to a colleague on the
  // same server) opens them again.
  const runId = await page.locator('.run.selected').getAttribute('data-run');
  const url = new URL(page.url());
  assert.match(url.searchParams.get('file'), /(^|\/)induction\.circuit$/);
  assert.equal(url.searchParams.get('run'), runId);
  await page.reload();
  await page.locator('.results-title', { hasText: runId }).waitFor({ timeout: 10_000 });
  await page.locator('.cv-graph .cv-node', { hasText: '1.0' }).first().waitFor({ timeout: 10_000 });
  assert.deepEqual(problems.console, [], 'no console errors');
  assert.deepEqual(problems.outside, [], 'no outside requests');
});
