/**
 * Incremental 64-bit hash (two FNV-1a lanes with different offsets) over numbers and strings.
 * Used for the event-log hash that proves determinism; state is two u32 words kept in the
 * world's buffer so it survives snapshot/restore.
 */

const PRIME = 0x01000193;
/** FNV offset basis of lane A and an independent basis for lane B. */
export const HASH_INIT_A = 0x811c9dc5;
export const HASH_INIT_B = 0x050c5d1f;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Mixes one 32-bit word into both lanes of `h`. */
export function hashWord(h: Uint32Array, off: number, w: number): void {
  let a = h[off] ?? 0;
  let b = h[off + 1] ?? 0;
  for (let k = 0; k < 4; k++) {
    const byte = (w >>> (k * 8)) & 0xff;
    a = Math.imul(a ^ byte, PRIME) >>> 0;
    b = Math.imul(b ^ ((byte + 0x5b) & 0xff), PRIME) >>> 0;
  }
  h[off] = a;
  h[off + 1] = b;
}

/** Mixes a float64 (exact bits) into the hash. */
export function hashNumber(h: Uint32Array, off: number, x: number): void {
  f64[0] = x;
  hashWord(h, off, u32[0] ?? 0);
  hashWord(h, off, u32[1] ?? 0);
}

/** Mixes a string (UTF-16 code units, length-prefixed) into the hash. */
export function hashString(h: Uint32Array, off: number, s: string): void {
  hashWord(h, off, s.length);
  for (let k = 0; k < s.length; k++) hashWord(h, off, s.charCodeAt(k));
}

/** The hash as 16 hex digits. */
export function hashHex(h: Uint32Array, off: number): string {
  return ((h[off] ?? 0).toString(16).padStart(8, '0') + (h[off + 1] ?? 0).toString(16).padStart(8, '0'));
}
