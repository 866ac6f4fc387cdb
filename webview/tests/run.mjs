// Runs the web app's unit tests: bundles every *.test.ts of the given folders (default: tests/)
// with the esbuild that Vite installs into a temporary folder, then runs them with `node --test`.
// Usage (from webview/): node tests/run.mjs [FOLDER...]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const folders = process.argv.length > 2 ? process.argv.slice(2) : ['tests'];
const entryPoints = folders.flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.test.ts')).map((f) => resolve(d, f)));
const out = mkdtempSync(join(tmpdir(), 'webview-tests-'));
try {
  await build({
    entryPoints,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    outdir: out,
    outExtension: { '.js': '.mjs' },
    // The grammar's words, as Vite's plugin serves them to the app.
    plugins: [{
      name: 'circuit-grammar',
      setup(b) {
        b.onResolve({ filter: /^virtual:circuit-grammar$/ }, () => ({ path: 'grammar', namespace: 'circuit-grammar' }));
        b.onLoad({ filter: /.*/, namespace: 'circuit-grammar' }, () => ({
          contents: `import { readGrammarWords } from './build/grammar_keywords.ts';
                     export default readGrammarWords(${JSON.stringify(resolve('../grammar'))});`,
          resolveDir: resolve('.'),
          loader: 'ts',
        }));
      },
    }],
    logLevel: 'error',
  });
  const files = readdirSync(out).map((f) => join(out, f));
  const run = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit' });
  process.exitCode = run.status ?? 1;
} finally {
  rmSync(out, { recursive: true, force: true });
}
