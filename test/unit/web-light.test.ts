/**
 * The hall's lighting choice: a software WebGL renderer (the strings Chromium, Firefox and Mesa
 * report) gets the simple hall, a GPU the full one, and `?light=` decides over both.
 */
import { describe, expect, it } from 'vitest';
import { chooseLight, isSoftwareRenderer } from '../../web/src/scene/light.ts';

const SWIFTSHADER = 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)';
const LLVMPIPE = 'llvmpipe (LLVM 15.0.6, 256 bits)';
const GPU = 'ANGLE (Intel, Mesa Intel(R) UHD Graphics 620 (KBL GT2), OpenGL 4.6)';

describe('hall lighting', () => {
  it('names software renderers, and no GPU', () => {
    expect([SWIFTSHADER, LLVMPIPE, 'Microsoft Basic Render Driver'].map(isSoftwareRenderer)).toEqual([true, true, true]);
    expect([GPU, 'Apple M2', 'NVIDIA GeForce RTX 3060/PCIe/SSE2', ''].map(isSoftwareRenderer)).toEqual([false, false, false, false]);
  });

  it('chooses simple on a software renderer, full on a GPU or without a name, and the URL over both', () => {
    expect(chooseLight('?mode=standalone', () => SWIFTSHADER)).toEqual({ mode: 'simple', renderer: SWIFTSHADER });
    expect(chooseLight('', () => GPU)).toEqual({ mode: 'full', renderer: GPU });
    expect(chooseLight('', () => '').mode).toBe('full');
    let asked = 0;
    const probe = (): string => {
      asked++;
      return SWIFTSHADER;
    };
    expect(chooseLight('?light=full', probe).mode).toBe('full');
    expect(chooseLight('?lang=zh-CN&light=simple', () => GPU).mode).toBe('simple');
    expect(asked, 'the URL decides without creating a WebGL context').toBe(0);
    expect(chooseLight('?light=bright', () => LLVMPIPE).mode, 'an unknown value is ignored').toBe('simple');
  });
});
