/**
 * The README's screenshots of the line, from a real render: builds the web app if it is not
 * built, starts a real `twinline serve` of the ceramic line after its retrofit (open profile,
 * its own temporary home, 3000× real time until the line has shipped a few hundred pieces,
 * which is a few simulated hours: the kiln is full and every station works), opens it in
 * headless Chromium (SwiftShader) at 1280×720, waits until the camera has framed the whole line
 * and parts are on the belts, and writes docs/twin-en.png and docs/twin-zh-CN.png. Run:
 *   node bin/run-ts.mjs web/screenshots.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { TwinlineHooks } from './src/test-hooks.ts';
import { startServe } from '../test/integration/serve-proc.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/e2e/host.ts';

declare const window: { __twinline: TwinlineHooks };

const repo = fileURLToPath(new URL('..', import.meta.url));
const docs = join(repo, 'docs');
const VIEWPORT = { width: 1280, height: 720 };
/** parts in flight before the picture is taken (the line fills from its source) */
const MIN_PARTS = 25;
/** pieces the line has shipped before the pictures: it runs as it does all day */
const MIN_SHIPPED = 300;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

if (!existsSync(join(repo, 'web/dist/index.html'))) {
  const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: repo, stdio: 'inherit' });
  if (build.status !== 0) throw new Error('vite build failed');
}
mkdirSync(docs, { recursive: true });
const host = await startServe(['scenarios/ceramic-after.yaml', '--profile', 'open', '--no-mqtt', '--opcua-port', '0', '--http-port', '0', '--speed', '3000']);
const profile = mkdtempSync(join(tmpdir(), 'twinline-chromium-'));
try {
  for (let shipped = 0, k = 0; shipped < MIN_SHIPPED; k++) {
    if (k > 600) throw new Error(`the line shipped ${shipped} pieces in 10 min, not ${MIN_SHIPPED}`);
    await sleep(1000);
    const st = (await (await fetch(new URL('api/state', host.base))).json()) as { kpis: { shipped: number } };
    shipped = st.kpis.shipped;
  }
  const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: VIEWPORT });
  try {
    for (const lang of ['en', 'zh-CN']) {
      const page = await ctx.newPage();
      await page.goto(new URL(`?lang=${lang}&light=full`, host.base).href);
      await page.waitForSelector('.app[data-ready="1"]', { timeout: 120_000 });
      await page.waitForFunction((n) => window.__twinline.parts().length >= n && window.__twinline.fitted(), MIN_PARTS, { timeout: 300_000, polling: 500 });
      await page.waitForFunction(() => document.fonts.status === 'loaded', undefined, { timeout: 60_000 });
      await page.waitForTimeout(1000); // a few more frames after the last glide
      const file = join(docs, `twin-${lang}.png`);
      await page.screenshot({ path: file });
      console.log(`${file}: ${await page.evaluate(() => window.__twinline.parts().length)} parts in flight`);
      await page.close();
    }
  } finally {
    await ctx.close();
  }
} finally {
  rmSync(profile, { recursive: true, force: true });
  await host.stop('SIGINT');
}
