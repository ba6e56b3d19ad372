/**
 * A browser on a machine without a CJK font, and a way to tell glyphs from the box a font
 * without them draws: for the tests that Chinese reads as Chinese in the web twin and in the
 * self-contained HTML reports, whatever fonts the machine has.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from './host.ts';

/**
 * A fontconfig that knows only Latin fonts (DejaVu, Liberation where installed) with the
 * system's matching rules, and caches in `dir`: a browser started with it as FONTCONFIG_FILE is
 * a desktop without any CJK font.
 */
function latinOnlyFonts(dir: string): string {
  const latin = ['/usr/share/fonts/truetype/dejavu', '/usr/share/fonts/truetype/liberation'].filter((d) => existsSync(d));
  const file = join(dir, 'fonts.conf');
  writeFileSync(file, [
    '<?xml version="1.0"?>', '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">', '<fontconfig>',
    ...latin.map((d) => `  <dir>${d}</dir>`), `  <cachedir>${join(dir, 'cache')}</cachedir>`,
    // the system's rules (aliases such as sans-serif, hinting), which name no font folder of their own
    '  <include ignore_missing="yes">/etc/fonts/conf.d</include>', '</fontconfig>', '',
  ].join('\n'));
  return file;
}

/** A Chromium that sees only Latin fonts, in a profile of its own; `close` removes both. */
export async function latinOnlyBrowser(viewport = { width: 1024, height: 640 }): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'twinline-latin-fonts-'));
  const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport, env: { ...process.env, FONTCONFIG_FILE: latinOnlyFonts(dir) },
  }).catch((e: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A hash of each of `chars` drawn on a canvas in `family` (CSS font-family list; null: the
 * body's), after asking the page's fonts for it: a font without the glyphs draws one and the
 * same box for all of them.
 */
export function glyphShapes(page: Page, family: string | null, chars: string[]): Promise<number[]> {
  return page.evaluate(async ([fam, list]) => {
    const stack = fam ?? getComputedStyle(document.body).fontFamily;
    const c = document.createElement('canvas');
    c.width = c.height = 48;
    const g = c.getContext('2d')!;
    const font = `36px ${stack}`;
    await document.fonts.load(font, list.join(''));
    g.font = font;
    g.textBaseline = 'top';
    g.fillStyle = '#fff';
    return list.map((ch) => {
      g.clearRect(0, 0, 48, 48);
      g.fillText(ch, 4, 4);
      const a = g.getImageData(0, 0, 48, 48).data;
      let h = 0;
      for (let k = 3; k < a.length; k += 4) h = (Math.imul(h, 31) + a[k]!) | 0;
      return h;
    });
  }, [family, chars] as const);
}

/**
 * The elements among `selector` that draw some of their own Chinese characters with a font of
 * the machine rather than one the page brought: what Chromium says it used for each element's
 * text (DevTools' CSS.getPlatformFontsForNode), against the CJK characters of that text. In a
 * browser without a CJK font, each such element shows boxes.
 */
export async function chineseInSystemFonts(page: Page, selector: string): Promise<{ text: string; fonts: string[] }[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
    const { nodeIds } = await cdp.send('DOM.querySelectorAll', { nodeId: root.nodeId, selector });
    const bad: { text: string; fonts: string[] }[] = [];
    for (const nodeId of nodeIds) {
      const { node } = await cdp.send('DOM.describeNode', { nodeId, depth: 1 });
      const own = (node.children ?? []).filter((c) => c.nodeType === 3).map((c) => c.nodeValue).join('');
      const cjk = [...own].filter((c) => /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/.test(c)).length;
      if (cjk === 0) continue;
      const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
      // not drawn (hidden, or an option of a closed list)
      if (fonts.length === 0) continue;
      const brought = fonts.filter((f) => f.isCustomFont).reduce((n, f) => n + f.glyphCount, 0);
      if (brought < cjk) bad.push({ text: own, fonts: fonts.map((f) => `${f.familyName}${f.isCustomFont ? '' : ' (system)'}: ${f.glyphCount}`) });
    }
    return bad;
  } finally {
    await cdp.detach();
  }
}
