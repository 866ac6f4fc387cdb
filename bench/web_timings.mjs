// The web app's performance figures for bench/RESULTS.md (a benchmark, not a test): first paint
// of a saved SmolLM2 IOI result from localhost (the page opened at its address, timed from the
// navigation's start), keystroke to lint underline in the editor, and
// how fast the patching and attention tabs open and heads switch. Drives Debian's chromium with
// tests/browser's playwright-core and prints a Markdown section to paste into RESULTS.md.
//   node bench/web_timings.mjs
// Times are taken inside the page (performance.now()) from the user's action to the frame after
// the awaited element is in the DOM, so playwright's round trips do not count.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { chromium } = createRequire(join(REPO, 'tests/browser/package.json'))('playwright-core');
const BINARY = process.env.CIRCUIT_BIN ?? join(REPO, 'build/circuit');
const IOI_CACHE = '/tmp/ioi-results';  // a finished `circuit run examples/ioi.circuit`, reused
const PAINT_TRIALS = 5;
const LINT_TRIALS = 10;
const HEAD_SWITCHES = 10;

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const ms = (x) => `${x.toFixed(0)} ms`;
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

// A finished IOI result (about a minute of CPU the first time).
function ioiResults() {
  if (existsSync(join(IOI_CACHE, 'results.json'))) return IOI_CACHE;
  console.error(`producing ${IOI_CACHE} (circuit run examples/ioi.circuit, about a minute)...`);
  rmSync(IOI_CACHE, { recursive: true, force: true });
  const r = spawnSync(BINARY, ['run', join(REPO, 'examples/ioi.circuit'), '--out', IOI_CACHE, '--threads', '2'], { cwd: REPO, encoding: 'utf8' });
  // A run whose claims fail still writes its results (exit 1 with results.json).
  if (!existsSync(join(IOI_CACHE, 'results.json'))) throw new Error(`circuit run examples/ioi.circuit failed (${r.status}): ${r.stderr}`);
  return IOI_CACHE;
}

function workspace() {
  const dir = mkdtempSync(join(tmpdir(), 'circuit-web-bench-'));
  for (const f of readdirSync(join(REPO, 'examples'))) cpSync(join(REPO, 'examples', f), join(dir, f), { recursive: true });
  cpSync(ioiResults(), join(dir, 'results/ioi'), { recursive: true });
  return dir;
}

function serve(dir) {
  const server = spawn(BINARY, ['serve', dir, '--port', '0', '--threads', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const address = new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`circuit serve printed no address: ${out}`)), 60_000);
    server.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /open (http:\/\/\S+)/.exec(out);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    server.on('exit', (code) => fail(new Error(`circuit serve exited (${code}): ${out}`)));
  });
  return { server, address };
}

// In the page: __act(action, wait) runs `action` (a click on a selector, or nothing) and resolves
// with the ms from just before it to the frame after `wait` holds. wait: {sel, text?, canvas?}:
// an element matching sel, whose text matches `text`, or which is a canvas already drawn on.
const PAGE_HELPERS = () => {
  const holds = (w) => {
    for (const el of document.querySelectorAll(w.sel)) {
      if (w.text && !new RegExp(w.text).test(el.textContent ?? '')) continue;
      if (w.canvas && !(el.width > 0 && el.height > 0)) continue;
      return true;
    }
    return false;
  };
  window.__until = (w, t0) => new Promise((resolve) => {
    const done = () => requestAnimationFrame(() => setTimeout(() => resolve(performance.now() - t0), 0));
    if (holds(w)) { done(); return; }
    const mo = new MutationObserver(() => { if (holds(w)) { mo.disconnect(); done(); } });
    mo.observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  window.__act = (clickSel, w) => {
    const t0 = performance.now();
    const p = window.__until(w, t0);
    if (clickSel) document.querySelector(clickSel).click();
    return p;
  };
  // Long tasks (> 50 ms on the main thread) since the page opened: how unresponsive it got.
  window.__long = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); }).observe({ type: 'longtask', buffered: true });
};

// A fresh page opened on the saved IOI result by its address (?run=saved:ioi), as a link or a
// reload would open it. `onLoad` (run in the page before its scripts) may start measuring.
async function freshPage(browser, address, onLoad = null) {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.addInitScript(PAGE_HELPERS);
  if (onLoad) await page.addInitScript(onLoad.script, onLoad.arg);
  await page.goto(`${address}${address.includes('?') ? '&' : '?'}run=saved:ioi`);
  await page.locator('[data-run="saved:ioi"]').waitFor({ timeout: 30_000 });
  return page;
}

const act = (page, click, wait) => page.evaluate(([c, w]) => window.__act(c, w), [click, wait]);
const GRAPH_NODE = { sel: '.cv-graph .cv-node' };
const HEATMAP = { sel: '.view-host[data-view="patching"] .cv-heatmap-canvas', canvas: true };
const ATTENTION = { sel: '.view-host[data-view="attention"] .cv-attention canvas', canvas: true };
const PATCHING_TAB = '[data-tab^="patching:head_effects:"]';

// First paint is timed from the navigation's start (performance.now() is 0 there): loading the
// app, the session, the results and drawing, all of it.
const FIRST_GRAPH = { script: (w) => { window.__first = window.__until(w, 0); }, arg: GRAPH_NODE };
const FIRST_HEATMAP = {
  script: ([tab, w]) => {
    window.__first = window.__until(w, 0);
    void window.__until({ sel: tab }, 0).then(() => document.querySelector(tab).click());
  },
  arg: [PATCHING_TAB, HEATMAP],
};

// 2 and 4: per fresh page, its address names the saved run -> first graph node; the same with
// the patching tab clicked the moment it shows -> head_effects heatmap; then on the first page,
// open the patching tab, the attention tab, and switch heads.
async function resultTimings(browser, address) {
  const t = { graph: [], heatmapFirst: [], patchingTab: [], attentionTab: [], headSwitch: [], longest: [] };
  for (let i = 0; i < PAINT_TRIALS; i++) {
    let page = await freshPage(browser, address, FIRST_HEATMAP);
    t.heatmapFirst.push(await page.evaluate(() => window.__first));
    await page.close();
    page = await freshPage(browser, address, FIRST_GRAPH);
    t.graph.push(await page.evaluate(() => window.__first));
    t.patchingTab.push(await act(page, PATCHING_TAB, HEATMAP));
    t.attentionTab.push(await act(page, '[data-tab^="attention:"]', ATTENTION));
    const chips = await page.locator('.head-chip').evaluateAll((bs) => bs.map((b) => b.dataset.head));
    for (let k = 0; k < Math.min(HEAD_SWITCHES, chips.length); k++) {
      const id = chips[(k + 1) % chips.length];
      const [, layer, head] = /a(\d+)\.h(\d+)/.exec(id);
      t.headSwitch.push(await act(page, `.head-chip[data-head="${id}"]`, { sel: '.head-picker-status', text: `^head ${layer}\\.${head} · .*\\[` }));
    }
    t.longest.push(Math.max(0, ...(await page.evaluate(() => window.__long))));
    if (i === 0) t.heads = chips.length;
    await page.close();
  }
  return t;
}

// 3: induction.circuit, `heads 1.*` -> `heads 7.*` by one keystroke, until the underline whose
// tooltip source is the compiler's message; then the 7 goes back to 1 and the underline away.
async function lintTimings(browser, address) {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.addInitScript(PAGE_HELPERS);
  await page.goto(address);
  await page.locator('.file', { hasText: 'induction.circuit' }).first().click();
  const line = page.locator('.cm-line', { hasText: 'let induction_heads = heads 1.*' });
  await line.waitFor();
  await page.locator('.status-connection[data-state="open"]').waitFor({ timeout: 10_000 });
  const times = [];
  let message = '';
  for (let i = 0; i < LINT_TRIALS; i++) {
    await page.waitForFunction(() => document.querySelectorAll('.cm-lintRange-error').length === 0, null, { timeout: 5_000 });
    // Put the cursor just after the `1` of `heads 1.*` and select it.
    await line.click();
    await page.keyboard.press('Home');
    const col = 'let induction_heads = heads 1'.length;
    for (let c = 0; c < col; c++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Shift+ArrowLeft');
    const pending = page.evaluate(() => new Promise((resolve) => {
      // From the keydown's own timestamp, so the time playwright takes to deliver it is counted.
      document.addEventListener('keydown', (e) => resolve(window.__until({ sel: '.cm-lintRange-error', text: '7' }, e.timeStamp)), { once: true, capture: true });
    }));
    await page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
    await page.keyboard.press('7');
    times.push(await pending);
    if (i === 0) {
      await page.locator('.cm-lintRange-error').first().hover();
      message = (await page.locator('.cm-tooltip-lint').first().innerText()).trim();
      await page.keyboard.press('Escape');
    }
    await page.keyboard.press('Shift+ArrowLeft');
    await page.keyboard.press('1');
  }
  await page.waitForFunction(() => document.querySelectorAll('.cm-lintRange-error').length === 0, null, { timeout: 5_000 });
  await page.close();
  return { times, message };
}

function machine() {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const mem = (readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)?.[1] ?? 0) / 1048576;
  const chrome = spawnSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? 'chromium';
  return `${cpus().length} × ${cpu}, ${mem.toFixed(0)} GiB RAM, ${chrome} (headless, --disable-gpu), node ${process.version}`;
}

async function main() {
  const startLoad = load();
  const started = new Date();
  const dir = workspace();
  const { server, address } = serve(dir);
  const url = await address;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  let r;
  let lint;
  try {
    r = await resultTimings(browser, url);
    lint = await lintTimings(browser, url);
  } finally {
    await browser.close();
    server.kill('SIGINT');
    rmSync(dir, { recursive: true, force: true });
  }
  const endLoad = load();
  const list = (xs) => xs.map((x) => x.toFixed(0)).join(', ');
  const row = (what, xs, goal) => `| ${what} | **${ms(median(xs))}** | ${list(xs)} | ${goal} |`;
  const out = [
    `## Web app timings (bench/web_timings.mjs)`,
    ``,
    `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${machine()} · \`circuit serve --threads 2\` on 127.0.0.1 · load average (1/5/15 min) ${startLoad} at start, ${endLoad} at end.`,
    `Times are measured in the page (performance.now()) from the navigation's start (first paint), or the click or keydown, to the frame after the awaited element is in the DOM.`,
    ``,
    `| what (SmolLM2-135M IOI result \`saved:ioi\`, induction.circuit for lint) | median | trials (ms) | goal (issue 6) |`,
    `|---|---|---|---|`,
    row('open the page at `?run=saved:ioi` → first circuit-graph node drawn (from navigation start)', r.graph, 'first paint < 1 s'),
    row('open the page at `?run=saved:ioi` → `head_effects` patching heatmap drawn (tab clicked as soon as it shows)', r.heatmapFirst, 'first paint < 1 s'),
    row('keystroke (`heads 1.*` → `heads 7.*`) → lint underline', lint.times, '< 100 ms'),
    row('open the patching tab → `head_effects` heatmap drawn', r.patchingTab, 'responsive'),
    row('open the attention tab → first pattern drawn', r.attentionTab, 'responsive'),
    row(`switch heads in the attention tab (${r.heads} heads saved; ${HEAD_SWITCHES} switches × ${PAINT_TRIALS} pages)`, r.headSwitch, 'responsive'),
    row('longest main-thread task per page (longtask observer, 0 = none over 50 ms)', r.longest, 'responsive'),
    ``,
    `The result's documents: ${['results.json', 'circuit.json'].map((f) => `${f} ${(statSync(join(IOI_CACHE, f)).size / 1e6).toFixed(1)} MB`).join(', ')} (the app fetches results.json to open a run, circuit.json only for provenance or a circuit written in the file).`,
    `Lint message under the underline: \`${lint.message.replace(/\s+/g, ' ')}\`.`,
  ];
  console.log(out.join('\n'));
}

main().catch((e) => { console.error(`web_timings: ${e.stack ?? e}`); process.exit(1); });
