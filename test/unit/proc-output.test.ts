/**
 * The test harness's child output (test/proc.ts) is decoded as a stream: a character whose UTF-8
 * bytes come in two reads stays whole (the CLI's schema, with Chinese labels, once lost one).
 */
import { describe, expect, it } from 'vitest';
import { runToEnd } from '../proc.ts';

describe('child output', () => {
  it('keeps a character whose bytes straddle two reads', async () => {
    // 机 is E6 9C BA: the first byte, a pause, the other two
    const script = 'process.stdout.write(Buffer.from([0xe6])); setTimeout(() => { process.stdout.write(Buffer.from([0x9c, 0xba])); process.stderr.write(Buffer.from([0xe6, 0x9c])); setTimeout(() => process.stderr.write(Buffer.from([0xba])), 100); }, 100);';
    const r = await runToEnd(process.execPath, ['-e', script], { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('机');
    expect(r.stderr).toBe('机');
  });
});
