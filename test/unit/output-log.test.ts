/**
 * A plant's child output files (sim/plant/output-log.ts): bounded at twice their size limit
 * however much is written, the newest output always in the live file, and a file that cannot be
 * written given up without an exception; a child's output read whole, characters split across
 * reads included.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { OutputLog, readOutput } from '../../sim/plant/output-log.ts';

const dir = mkdtempSync(join(tmpdir(), 'twinline-output-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('OutputLog', () => {
  it('rotates to node.1.log past its limit, so at most twice the limit stays on disk, the newest output in the file', () => {
    const file = join(dir, 'node.log');
    const older = join(dir, 'node.1.log');
    const log = new OutputLog(file, 3000);
    log.started('node 1');
    for (let k = 0; k < 100; k++) log.write(`${String(k).padStart(3, '0')} ${'x'.repeat(995)}\n`);
    expect(statSync(file).size).toBeLessThanOrEqual(3000);
    expect(statSync(older).size).toBeLessThanOrEqual(3000);
    expect(readFileSync(file, 'utf8')).toContain(`099 ${'x'.repeat(995)}`);
    expect(readFileSync(older, 'utf8')).not.toContain('099 ');
    log.close();
    // a new owner (plant up started again) goes on from the file's size
    const again = new OutputLog(file, 3000);
    again.started('node 1 again');
    again.write('after\n');
    expect(statSync(file).size).toBeLessThanOrEqual(3000);
    expect(readFileSync(file, 'utf8')).toMatch(/node 1 again ---\nafter\n$/);
    again.close();
  });

  it('gives up a file it cannot write without throwing', () => {
    const file = join(dir, 'no-such-dir', 'host.log');
    const log = new OutputLog(file, 3000);
    expect(() => log.write('lost\n')).not.toThrow();
    expect(() => log.write('lost too\n')).not.toThrow();
    expect(existsSync(file)).toBe(false);
  });
});

describe('readOutput', () => {
  it('keeps a character whose UTF-8 bytes straddle two reads, on stdout and stderr', async () => {
    // 机 is E6 9C BA: the first byte, a pause, the other two
    const script = 'process.stdout.write(Buffer.from([0xe6])); setTimeout(() => { process.stdout.write(Buffer.from([0x9c, 0xba])); process.stderr.write(Buffer.from([0xe6, 0x9c])); setTimeout(() => process.stderr.write(Buffer.from([0xba])), 100); }, 100);';
    const p = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    readOutput(p, (t) => (text += t));
    await new Promise((r) => p.once('close', r));
    expect(text).toBe('机机');
  });
});
