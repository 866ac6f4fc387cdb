// Vite configuration of the web app: ONE JavaScript bundle and ONE stylesheet (no code
// splitting, no preload polyfill, every asset inlined) so that `circuit view --export` can inline
// them into a self-contained report, and the .circuit keywords read from the grammar at build time.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';
import { grammarKeywords } from './build/grammar_keywords';

const grammarDir = fileURLToPath(new URL('../grammar', import.meta.url));
// `npm run dev` forwards the API to a running `circuit serve` (its default address, or $CIRCUIT_SERVE).
const serve = process.env.CIRCUIT_SERVE ?? 'http://127.0.0.1:8765';

export default defineConfig({
  base: '/',
  plugins: [grammarKeywords(grammarDir)],
  server: { proxy: { '/api': { target: serve, ws: true } } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    cssCodeSplit: false,
    assetsInlineLimit: Number.MAX_SAFE_INTEGER,
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      output: {
        inlineDynamicImports: true,
        entryFileNames: 'assets/app-[hash].js',
        assetFileNames: 'assets/app-[hash][extname]',
      },
    },
  },
});
