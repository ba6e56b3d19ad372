/**
 * Makes web/public/favicon.ico from web/public/icon.svg: the SVG rendered by real Chromium at
 * 16, 32 and 48 px on a transparent background, each PNG stored in one ICO (PNG entries, as
 * every browser since IE 9 reads them). Run after changing the icon:
 *   node bin/run-ts.mjs web/make-favicon.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/e2e/host.ts';

const SIZES = [16, 32, 48];
const svg = readFileSync(fileURLToPath(new URL('public/icon.svg', import.meta.url)), 'utf8');
const out = fileURLToPath(new URL('public/favicon.ico', import.meta.url));

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
const pngs: Buffer[] = [];
try {
  for (const n of SIZES) {
    const page = await browser.newPage({ viewport: { width: n, height: n } });
    await page.setContent(`<html><body style="margin:0;background:transparent">${svg.replace('<svg ', `<svg width="${n}" height="${n}" `)}</body></html>`);
    pngs.push(await page.screenshot({ omitBackground: true, type: 'png' }));
    await page.close();
  }
} finally {
  await browser.close();
}
// ICONDIR (6 bytes), one ICONDIRENTRY (16 bytes) per image, then the PNGs
const head = Buffer.alloc(6 + 16 * pngs.length);
head.writeUInt16LE(0, 0);
head.writeUInt16LE(1, 2);
head.writeUInt16LE(pngs.length, 4);
let offset = head.length;
pngs.forEach((png, k) => {
  const n = SIZES[k]!;
  const e = 6 + 16 * k;
  head.writeUInt8(n % 256, e);
  head.writeUInt8(n % 256, e + 1);
  head.writeUInt16LE(1, e + 4); // colour planes
  head.writeUInt16LE(32, e + 6); // bits per pixel
  head.writeUInt32LE(png.length, e + 8);
  head.writeUInt32LE(offset, e + 12);
  offset += png.length;
});
writeFileSync(out, Buffer.concat([head, ...pngs]));
console.log(`${out}: ${SIZES.join(', ')} px, ${offset} bytes`);
