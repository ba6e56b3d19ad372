/** Pixels of what the browser twin draws, for e2e tests that judge the frame, not only handles. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';

/** where screenshots go */
export const OUT = 'test-output/e2e';

/** The decoded shots a page keeps, by name (`keepShot`). */
export type Shots = Record<string, ImageData>;

/** Decodes a PNG screenshot in the page and keeps its pixels there as `window.__shots[key]`. */
async function decodeIn(page: Page, key: string, png: Buffer): Promise<void> {
  await page.evaluate(async ([k, b64]) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d')!;
    g.drawImage(img, 0, 0);
    const w = window as unknown as { __shots?: Shots };
    (w.__shots ??= {})[k!] = g.getImageData(0, 0, c.width, c.height);
  }, [key, png.toString('base64')]);
}

/**
 * Decodes a PNG screenshot in the page and returns its RGBA pixels. They come back as base64
 * text: the same pixels as a JSON array of numbers took 12–18 s a frame on a busy machine,
 * as text a few hundred ms.
 */
export async function pixels(page: Page, png: Buffer): Promise<number[]> {
  await decodeIn(page, '', png);
  const b64 = await page.evaluate(() => {
    const shots = (window as unknown as { __shots: Shots }).__shots;
    const px = shots['']!.data;
    delete shots[''];
    let text = '';
    for (let k = 0; k < px.length; k += 0x8000) text += String.fromCharCode(...px.subarray(k, k + 0x8000));
    return btoa(text);
  });
  return Array.from(Buffer.from(b64, 'base64'));
}

/** A screenshot of the page's canvas, saved as `<name>.png` under `out`; its pixels. */
export async function shot(page: Page, name: string, out = OUT): Promise<number[]> {
  const png = await page.locator('.view canvas').screenshot();
  writeFileSync(join(out, `${name}.png`), png);
  return pixels(page, png);
}

/**
 * A screenshot of the page's canvas, saved as `<name>.png` under `out` and decoded in the page,
 * where its pixels stay (`window.__shots[name]`) for counts made there: handing a whole frame's
 * pixels to the test costs a few hundred ms (`pixels`), a count costs nothing.
 */
export async function keepShot(page: Page, name: string, out = OUT): Promise<void> {
  const png = await page.locator('.view canvas').screenshot();
  writeFileSync(join(out, `${name}.png`), png);
  await decodeIn(page, name, png);
}

/** Share of pixels that are clearly red (the overlay's unusual traffic). */
export function redShare(px: number[]): number {
  let n = 0;
  for (let k = 0; k < px.length; k += 4) if (px[k]! > 170 && px[k + 1]! < 110 && px[k + 2]! < 110) n++;
  return n / (px.length / 4);
}

/** Distinct colours (quantised) and the share of the most common one. */
export function variety(px: number[]): { colours: number; dominant: number } {
  const counts = new Map<number, number>();
  for (let k = 0; k < px.length; k += 4) {
    const key = ((px[k]! >> 4) << 8) | ((px[k + 1]! >> 4) << 4) | (px[k + 2]! >> 4);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { colours: counts.size, dominant: Math.max(...counts.values()) / (px.length / 4) };
}

/** Share of pixels that differ noticeably between two shots of the same size. */
export function changed(a: number[], b: number[]): number {
  let n = 0;
  for (let k = 0; k < a.length; k += 4) {
    const d = Math.abs(a[k]! - b[k]!) + Math.abs(a[k + 1]! - b[k + 1]!) + Math.abs(a[k + 2]! - b[k + 2]!);
    if (d > 30) n++;
  }
  return n / (a.length / 4);
}
