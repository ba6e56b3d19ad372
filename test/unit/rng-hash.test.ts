import { describe, expect, it } from 'vitest';
import { exponential, nextU32, normal, seedState, uniform } from '../../sim/core/rng.ts';
import { HASH_INIT_A, HASH_INIT_B, hashHex, hashNumber, hashString } from '../../sim/core/hash.ts';

describe('seeded RNG', () => {
  it('repeats for a seed and differs between seeds', () => {
    const a = new Uint32Array(4);
    const b = new Uint32Array(4);
    seedState(a, 42);
    seedState(b, 42);
    const xs = Array.from({ length: 5 }, () => nextU32(a));
    expect(Array.from({ length: 5 }, () => nextU32(b))).toEqual(xs);
    seedState(b, 43);
    expect(Array.from({ length: 5 }, () => nextU32(b))).not.toEqual(xs);
  });

  it('has the right moments', () => {
    const st = new Uint32Array(4);
    seedState(st, 1);
    const n = 200_000;
    let su = 0;
    let se = 0;
    let sn = 0;
    let sn2 = 0;
    for (let k = 0; k < n; k++) {
      const u = uniform(st);
      expect(u >= 0 && u < 1).toBe(true);
      su += u;
      se += exponential(st, 3);
      const z = normal(st);
      sn += z;
      sn2 += z * z;
    }
    expect(su / n).toBeCloseTo(0.5, 2);
    expect(se / n).toBeCloseTo(3, 1);
    expect(sn / n).toBeCloseTo(0, 1);
    expect(sn2 / n).toBeCloseTo(1, 1);
  });
});

describe('event hash', () => {
  it('depends on every value and on order', () => {
    const h = (parts: (number | string)[]): string => {
      const w = new Uint32Array([HASH_INIT_A, HASH_INIT_B]);
      for (const p of parts) if (typeof p === 'number') hashNumber(w, 0, p);
      else hashString(w, 0, p);
      return hashHex(w, 0);
    };
    expect(h([1, 'a'])).toBe(h([1, 'a']));
    expect(h([1, 'a'])).not.toBe(h(['a', 1]));
    expect(h([1])).not.toBe(h([1 + Number.EPSILON]));
    expect(h(['ab', 'c'])).not.toBe(h(['a', 'bc']));
    expect(h([])).toMatch(/^[0-9a-f]{16}$/);
  });
});
