import { defineConfig, type Plugin, type ProxyOptions } from 'vite';
import type { IncomingMessage } from 'node:http';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { readFile, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zc, gzip } from 'node:zlib';

const root = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('..', import.meta.url));

/** Cross-origin isolation: the browser twin's worker shares memory with the page. */
const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** the `twinline serve` host `npm run dev` talks to */
const HOST = process.env.TWINLINE_HOST ?? 'http://127.0.0.1:8080';

/**
 * The dev server's proxy to the host. The host answers only requests that name it (Host) and
 * come from its own pages (Origin: a page on another origin may not post commands or open the
 * live socket). A page served by this dev server is one of the host's own pages in disguise,
 * so the proxy presents the host's own Origin (and Host, `changeOrigin`) for it, on requests
 * and on the live socket's upgrade. Only for this dev server's own pages: a request whose
 * Origin is any other site keeps it, and the host refuses it as it would without the proxy.
 */
function hostProxy(target: string): ProxyOptions {
  const hostOrigin = new URL(target).origin;
  const own = (req: IncomingMessage): boolean => {
    const origin = req.headers.origin;
    return origin !== undefined && req.headers.host !== undefined && /^https?:\/\/[^/]+$/.test(origin) && new URL(origin).host === req.headers.host;
  };
  return {
    target,
    ws: true,
    changeOrigin: true,
    configure(proxy) {
      proxy.on('proxyReq', (proxyReq, req) => {
        if (own(req)) proxyReq.setHeader('origin', hostOrigin);
      });
      proxy.on('proxyReqWs', (proxyReq, req) => {
        if (own(req)) proxyReq.setHeader('origin', hostOrigin);
      });
    },
  };
}

/** what `twinline serve` compresses (sim/host/static-files.ts: the same extensions and least size) */
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.map', '.txt', '.wasm']);
const MIN_COMPRESS = 1024;

/**
 * Writes a brotli (quality 11) and a gzip (level 9) copy next to every compressible file of
 * the build (`x.js.br`, `x.js.gz`), which `twinline serve` sends to clients that accept them
 * instead of compressing at run time.
 */
function precompress(): Plugin {
  const br = promisify(brotliCompress);
  const gz = promisify(gzip);
  return {
    name: 'twinline-precompress',
    apply: 'build',
    async writeBundle(options, bundle) {
      const dir = options.dir ?? join(root, 'dist');
      const names = [...Object.keys(bundle), 'icon.svg'].filter((n) => COMPRESSIBLE.has(extname(n)));
      await Promise.all([...new Set(names)].map(async (name) => {
        const raw = await readFile(join(dir, name)).catch(() => null);
        if (raw === null || raw.length < MIN_COMPRESS) return;
        const [b, g] = await Promise.all([
          br(raw, { params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
          gz(raw, { level: 9 }),
        ]);
        await Promise.all([writeFile(join(dir, `${name}.br`), b), writeFile(join(dir, `${name}.gz`), g)]);
      }));
    },
  };
}

/**
 * The browser twin: `vite build --config web/vite.config.ts` writes web/dist, which
 * `twinline serve` serves. The simulation worker is bundled from sim/worker/browser-entry.ts.
 */
export default defineConfig({
  root,
  base: './',
  plugins: [react(), precompress()],
  worker: { format: 'es' },
  // `vite --config web/vite.config.ts`: standalone works as is; attached talks to a running
  // `twinline serve` (TWINLINE_HOST, default http://127.0.0.1:8080) through the proxy, which
  // presents the host's own Host and Origin for this server's pages (see hostProxy)
  server: {
    headers: ISOLATION,
    fs: { allow: [repo] },
    // ws: the live feed /api/live is a WebSocket upgrade
    proxy: { '/api': hostProxy(HOST) },
  },
  preview: { headers: ISOLATION },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    // brotli at quality 11 (precompress) takes seconds by design: no slow-plugin warning for it
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
});
