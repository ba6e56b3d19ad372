/**
 * Scenario bytes → text. A scenario is UTF-8; anything else is named as such with the place of
 * the first bad byte, instead of being decoded into replacement characters that then validate
 * as ordinary text inside a string.
 */
import { TwinlineError } from '../core/errors.ts';

/** Length of the valid UTF-8 sequence at `k`, or 0 when the bytes there are not UTF-8. */
function sequenceAt(b: Uint8Array, k: number): number {
  const c = b[k] ?? 0;
  if (c < 0x80) return 1;
  const cont = (j: number): boolean => ((b[k + j] ?? 0) & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const c1 = b[k + 1] ?? 0;
    // no overlong forms (E0 80–9F) and no UTF-16 surrogates (ED A0–BF)
    if ((c === 0xe0 && c1 < 0xa0) || (c === 0xed && c1 > 0x9f)) return 0;
    return cont(1) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const c1 = b[k + 1] ?? 0;
    if ((c === 0xf0 && c1 < 0x90) || (c === 0xf4 && c1 > 0x8f)) return 0;
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** Offset of the first byte that is not valid UTF-8, or -1. */
export function firstNonUtf8(b: Uint8Array): number {
  for (let k = 0; k < b.length; ) {
    const n = sequenceAt(b, k);
    if (n === 0) return k;
    k += n;
  }
  return -1;
}

/** Decodes a scenario file's bytes; a file that is not UTF-8 is a `SCENARIO_SYNTAX` error at its first bad byte. */
export function decodeScenario(bytes: Uint8Array, file: string): string {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new TwinlineError('SCENARIO_SYNTAX', 'the file is UTF-16 text; scenario files are UTF-8: save it as UTF-8', { file, line: 1, column: 1 });
  }
  const bad = firstNonUtf8(bytes);
  if (bad < 0) return new TextDecoder('utf-8').decode(bytes);
  let line = 1;
  let lineStart = 0;
  for (let k = 0; k < bad; k++) {
    if (bytes[k] === 0x0a) {
      line++;
      lineStart = k + 1;
    }
  }
  const column = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, bad)).length + 1;
  const hex = `0x${(bytes[bad] ?? 0).toString(16).toUpperCase().padStart(2, '0')}`;
  throw new TwinlineError(
    'SCENARIO_SYNTAX',
    `the file is not UTF-8 text: byte ${hex} at line ${line}, column ${column} is not valid UTF-8 (a Latin-1 or GBK file? scenario files are UTF-8: save it as UTF-8)`,
    { file, line, column },
  );
}
