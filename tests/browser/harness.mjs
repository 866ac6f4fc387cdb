// Shared set-up of the browser tests: the circuit binary, Debian's chromium through
// playwright-core, a page that records console errors and every request that leaves the page
// (anything but file:, data:, blob: and the server under test), and screenshots under
// tests/browser/artifacts/ (not committed; look at them).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = join(REPO, 'tests/browser/artifacts');

// $CIRCUIT_BIN, else build/circuit, else the newest circuit of a developer's build-*/ folder.
export function circuitBinary() {
  if (process.env.CIRCUIT_BIN) return process.env.CIRCUIT_BIN;
  if (existsSync(join(REPO, 'build/circuit'))) return join(REPO, 'build/circuit');
  const found = readdirSync(REPO).filter((d) => d.startsWith('build-')).map((d) => join(REPO, d, 'circuit')).filter((p) => existsSync(p));
  return found.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0] ?? null;
}

export function circuit(binary, args, options = {}) {
  const r = spawnSync(binary, args, { encoding: 'utf8', timeout: 120_000, ...options });
  if (r.status !== 0) throw new Error(`circuit ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function chromiumPath() {
  for (const p of [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (p && existsSync(p)) return p;
  return null;
}

export async function openBrowser() {
  const executablePath = chromiumPath();
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
}

// A page plus what it did wrong: console errors, uncaught exceptions, outside requests.
export async function watchedPage(browser, allowedOrigin = null) {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, acceptDownloads: true });
  const problems = { console: [], outside: [] };
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.console.push(`${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.console.push(`exception: ${e.message}`));
  page.on('request', (r) => {
    const url = r.url();
    const inside = /^(file|data|blob):/.test(url) || (allowedOrigin && url.startsWith(allowedOrigin));
    if (!inside) problems.outside.push(url);
  });
  return { page, problems };
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}
