/**
 * The README shows current screenshots of the line (web/screenshots.ts renders them in real
 * Chromium): both linked near the top, both PNGs of the size the script takes, and not the
 * same picture twice.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('README screenshots', () => {
  it('links docs/twin-en.png and docs/twin-zh-CN.png in its first 40 lines; both are 1280×720 PNGs that differ', () => {
    const top = readFileSync('README.md', 'utf8').split('\n').slice(0, 40).join('\n');
    const images: Buffer[] = [];
    for (const name of ['docs/twin-en.png', 'docs/twin-zh-CN.png']) {
      expect(top).toContain(`](${name})`);
      const png = readFileSync(name);
      expect([...png.subarray(0, 8)], name).toEqual(PNG);
      expect(png.subarray(12, 16).toString('latin1'), name).toBe('IHDR');
      expect([png.readUInt32BE(16), png.readUInt32BE(20)], name).toEqual([1280, 720]);
      expect(png.length, name).toBeGreaterThan(50_000); // a rendered line, not a blank page
      images.push(png);
    }
    expect(images[0]!.equals(images[1]!)).toBe(false);
  });
});
