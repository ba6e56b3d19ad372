/**
 * The Chinese font of the self-contained HTML reports (diagnose, compare, incident report).
 *
 * A report is one file that must open offline, be mailed, and read the same on a machine
 * without a CJK font (many Linux desktops and servers have only DejaVu or Liberation, and draw
 * every Chinese character as the same box). So a report carries the glyphs it uses: the web
 * app's own font, Noto Sans SC (@fontsource/noto-sans-sc, SIL Open Font License), comes in about
 * a hundred unicode-range slices of a few tens of kB; the report embeds, as data URIs, the
 * slices that hold one of its CJK characters, each declared with a unicode-range of exactly the
 * characters it is there for, so the browser uses it for those only and Latin text keeps the
 * system's font. A report in English
 * with no Chinese names embeds nothing; a Chinese diagnosis report embeds about fifteen slices
 * (about 0.6 MB).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** the embedded family's name, the same as the web app's */
const REPORT_CJK_FAMILY = 'Noto Sans SC';

/** the reports' font stack (CSS): the embedded family first, for its characters, then the system's */
export const REPORT_FONT_STACK = `"${REPORT_CJK_FAMILY}",system-ui,sans-serif`;

/** code points from here up go to the embedded font (CJK radicals, punctuation, ideographs, full width) */
const CJK_FROM = 0x2e80;

interface Slice {
  file: string;
  /** its unicode-range, as inclusive [from, to] code point pairs */
  spans: [number, number][];
}

let slices: Slice[] | null = null;

/** The regular weight's slices, from the package's CSS (read once). */
function fontSlices(): Slice[] {
  if (slices !== null) return slices;
  const css = createRequire(import.meta.url).resolve('@fontsource/noto-sans-sc/400.css');
  const text = readFileSync(css, 'utf8');
  const dir = dirname(css);
  const found: Slice[] = [];
  for (const m of text.matchAll(/url\(\.\/(files\/[^)]+\.woff2)\)[^;]*;\s*unicode-range:\s*([^;]+);/g)) {
    const spans = m[2]!.trim().split(',').map((r): [number, number] => {
      const [a, b] = r.trim().replace(/^U\+/i, '').split('-');
      return [parseInt(a!, 16), parseInt(b ?? a!, 16)];
    });
    found.push({ file: join(dir, m[1]!), spans });
  }
  if (found.length === 0) throw new Error(`${css}: no woff2 slice with a unicode-range found; has @fontsource/noto-sans-sc changed its CSS?`);
  slices = found;
  return found;
}

/** Sorted code points as a CSS unicode-range, runs of neighbours as one span. */
function unicodeRange(cps: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < cps.length;) {
    let j = i;
    while (j + 1 < cps.length && cps[j + 1] === cps[j]! + 1) j++;
    const hex = (cp: number): string => cp.toString(16);
    out.push(j === i ? `U+${hex(cps[i]!)}` : `U+${hex(cps[i]!)}-${hex(cps[j]!)}`);
    i = j + 1;
  }
  return out.join(',');
}

/**
 * The @font-face rules (CSS text) that draw every CJK character of `text` with the embedded
 * font: the slices holding them, each a data URI whose unicode-range names exactly the
 * characters of `text` it is there for. Empty when `text` has no such character.
 *
 * The reports put the family first in their font stacks: with the system's `system-ui` first,
 * Chromium on a Debian desktop without a CJK font drew some headings' Chinese as boxes in
 * DejaVu Sans although the embedded font was loaded (its fallback skipped the next family for
 * them). First in the stack and limited to its own characters, the family takes the Chinese
 * and leaves everything else to the system's fonts.
 */
export function cjkFontFaces(text: string): string {
  const chars = new Set<number>();
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    if (cp >= CJK_FROM) chars.add(cp);
  }
  if (chars.size === 0) return '';
  const rules: string[] = [];
  for (const s of fontSlices()) {
    const mine = [...chars].filter((cp) => s.spans.some(([a, b]) => cp >= a && cp <= b)).sort((a, b) => a - b);
    if (mine.length === 0) continue;
    const data = readFileSync(s.file).toString('base64');
    rules.push(`@font-face{font-family:'${REPORT_CJK_FAMILY}';font-style:normal;font-weight:400;src:url(data:font/woff2;base64,${data}) format('woff2');unicode-range:${unicodeRange(mine)}}`);
  }
  return rules.join('\n');
}

/** `html` (a whole document) with the font faces its own text needs, in a style before `</head>`. */
export function withCjkFont(html: string): string {
  const faces = cjkFontFaces(html);
  if (faces === '') return html;
  const at = html.indexOf('</head>');
  if (at < 0) throw new Error('withCjkFont: the document has no </head>');
  return `${html.slice(0, at)}<style>${faces}</style>${html.slice(at)}`;
}
