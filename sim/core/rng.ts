/**
 * Seeded random numbers (sfc32). The four words of state live in a `Uint32Array` that the
 * world keeps inside its state buffer, so a snapshot captures the generator too.
 */

/** Spreads a 32-bit seed into four state words (splitmix32). */
export function seedState(state: Uint32Array, seed: number): void {
  let s = seed >>> 0;
  for (let k = 0; k < 4; k++) {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    state[k] = (z ^ (z >>> 16)) >>> 0;
  }
  for (let k = 0; k < 12; k++) nextU32(state);
}

/** Next 32-bit unsigned integer. */
export function nextU32(st: Uint32Array): number {
  const a = st[0] ?? 0;
  const b = st[1] ?? 0;
  const c = st[2] ?? 0;
  const d = st[3] ?? 0;
  const t = (((a + b) | 0) + d) | 0;
  st[3] = (d + 1) | 0;
  st[0] = b ^ (b >>> 9);
  st[1] = (c + (c << 3)) | 0;
  st[2] = ((c << 21) | (c >>> 11)) + t;
  return t >>> 0;
}

/** Uniform in [0, 1). */
export function uniform(st: Uint32Array): number {
  return nextU32(st) / 4294967296;
}

/** Exponential with the given mean (same unit as `mean`). */
export function exponential(st: Uint32Array, mean: number): number {
  return -mean * Math.log(1 - uniform(st));
}

/** Standard normal (Box–Muller, one of the pair). */
export function normal(st: Uint32Array): number {
  const u = 1 - uniform(st);
  const v = uniform(st);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** True with probability `p` (clamped to [0, 1]). */
export function chance(st: Uint32Array, p: number): boolean {
  return uniform(st) < p;
}
