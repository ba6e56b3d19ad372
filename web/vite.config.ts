import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));

/** Cross-origin isolation: the browser twin's worker shares memory with the page. */
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The browser twin: `vite build --config web/vite.config.ts` writes web/dist, which
 * `twinline serve` serves. The simulation worker is bundled from sim/worker/browser-entry.ts.
 */
export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  worker: { format: 'es' },
  // `vite --config web/vite.config.ts`: standalone works as is; attached talks to a running
  // `twinline serve` (TWINLINE_HOST, default http://127.0.0.1:8080) through the proxy
  server: {
    headers: ISOLATION,
    fs: { allow: [repo] },
    // ws: the live feed /api/live is a WebSocket upgrade
    proxy: { '/api': { target: process.env.TWINLINE_HOST ?? 'http://127.0.0.1:8080', ws: true } },
  },
  preview: { headers: ISOLATION },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
  },
});
