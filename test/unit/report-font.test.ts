/** The HTML reports' embedded Chinese font: the slices a text needs, and only those. */
import { describe, expect, it } from 'vitest';
import { cjkFontFaces, withCjkFont } from '../../sim/host/report-font.ts';

/** each rule's unicode-range as [from, to] pairs, and its font bytes */
function rules(css: string): { spans: [number, number][]; font: Buffer }[] {
  return [...css.matchAll(/base64,([A-Za-z0-9+/=]+)\) format\('woff2'\);unicode-range:([^}]+)\}/g)].map((m) => ({
    font: Buffer.from(m[1]!, 'base64'),
    spans: m[2]!.split(',').map((r): [number, number] => {
      const [a, b] = r.trim().slice(2).split('-');
      return [parseInt(a!, 16), parseInt(b ?? a!, 16)];
    }),
  }));
}
const covers = (rs: ReturnType<typeof rules>, ch: string): boolean => rs.some((r) => r.spans.some(([a, b]) => ch.codePointAt(0)! >= a && ch.codePointAt(0)! <= b));

describe('report font', () => {
  it('embeds nothing for a text without CJK characters, arrows and warning signs included', () => {
    expect(cjkFontFaces('Kiln 1 → 2 ⚠ – ≈ 5 %')).toBe('');
    const html = '<!doctype html><html><head><title>x</title></head><body>plain</body></html>';
    expect(withCjkFont(html)).toBe(html);
  });

  it('embeds, as woff2 data, slices covering every Chinese character of the text and declared for those only, and more slices for rarer characters', () => {
    const text = '智能化改造诊断：窑炉、喷釉、压机，合格品。';
    const rs = rules(cjkFontFaces(text));
    expect(rs.length).toBeGreaterThan(0);
    for (const ch of text) expect(covers(rs, ch), ch).toBe(true);
    for (const r of rs) expect(r.font.subarray(0, 4).toString('latin1')).toBe('wOF2');
    // each face is declared for the text's own characters only, so everything else keeps the system's fonts
    for (const r of rs) {
      for (const [a, b] of r.spans) for (let cp = a; cp <= b; cp++) expect(text, String.fromCodePoint(cp)).toContain(String.fromCodePoint(cp));
    }
    // a rare character lives in another slice, which then comes too
    const rare = '龘';
    expect(covers(rs, rare)).toBe(false);
    const more = rules(cjkFontFaces(text + rare));
    expect(more.length).toBe(rs.length + 1);
    expect(covers(more, rare)).toBe(true);
  });

  it('puts the faces in a style before </head>, and refuses a document without a head', () => {
    const out = withCjkFont('<!doctype html><html><head><title>诊断</title></head><body>窑炉</body></html>');
    expect(out).toMatch(/^<!doctype html><html><head><title>诊断<\/title><style>@font-face\{font-family:'Noto Sans SC';/);
    expect(out).toMatch(/<\/style><\/head><body>窑炉<\/body><\/html>$/);
    expect(() => withCjkFont('<p>窑炉</p>')).toThrow(/no <\/head>/);
  });
});
