// The test run's reaper (test/reaper.ts) with real processes: a stand-in runner, a process
// carrying the stand-in's run mark in a process group of its own (as a test's broker runs),
// and one carrying another mark. Killing the runner outright kills the first, not the second.
import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { own, ROOT, scaled } from '../proc.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const IDLE = ['-e', 'setInterval(() => {}, 1000)'];

describe('the test run reaper', () => {
  it('kills the processes of a run whose runner was killed outright, and nothing else', async () => {
    const mark = `TWINLINE_TEST_RUN=${randomUUID()}`;
    const runEnv = { ...process.env, TWINLINE_TEST_RUN: mark.split('=')[1] };
    const runner = own(process.execPath, IDLE);
    const started = own(process.execPath, IDLE, { env: runEnv });
    const other = own(process.execPath, IDLE, { env: { ...process.env, TWINLINE_TEST_RUN: randomUUID() } });
    const reaper = own(process.execPath, [join(ROOT, 'bin', 'run-ts.mjs'), join(ROOT, 'test', 'reaper.ts'), String(runner.proc.pid), mark], { cwd: ROOT });
    // while the runner lives, nothing is touched (the reaper looks every second)
    await sleep(scaled(2500));
    expect(reaper.running(), reaper.out()).toBe(true);
    expect(started.running()).toBe(true);
    await runner.stop('SIGKILL');
    const code = await Promise.race([reaper.exited, sleep(scaled(15_000)).then(() => 'still running')]);
    expect(code, reaper.out()).toBe(0);
    expect(reaper.stderr()).toMatch(new RegExp(`the test runner ${runner.proc.pid} is gone; killed 1 process`));
    await Promise.race([started.exited, sleep(scaled(5000))]);
    expect(started.running()).toBe(false);
    expect(other.running()).toBe(true);
    await other.stop();
  }, scaled(60_000));

  it('refuses to run without a pid and a run mark', async () => {
    const r = own(process.execPath, [join(ROOT, 'bin', 'run-ts.mjs'), join(ROOT, 'test', 'reaper.ts'), '123'], { cwd: ROOT });
    expect(await r.exited).toBe(2);
    expect(r.stderr()).toContain('usage: reaper.ts <pid> TWINLINE_TEST_RUN=<id>');
  }, scaled(30_000));
});
