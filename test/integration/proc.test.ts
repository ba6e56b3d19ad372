/**
 * The owned-child helper every process-starting test relies on: a timeout, `stop()` and the
 * reaper kill the whole process group (a grandchild too), output stays per child, and the run
 * mark of the global setup reaches every child (the end-of-suite check finds leftovers by it).
 */
import { describe, expect, it } from 'vitest';
import { marked } from '../global-setup.ts';
import { own, ownedChildren, reapAll, runToEnd } from '../proc.ts';

/** Polls `get` until `ok` holds (a local copy: opcua-host.ts would load node-opcua for nothing). */
async function waitFor<T>(what: string, get: () => T, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (let v = get(); ; v = get()) {
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** a node process that starts a grandchild sleeping for a minute, prints both pids, then waits */
const PARENT = `const { spawn } = require('node:child_process');
const g = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
console.log('pids ' + process.pid + ' ' + g.pid);
setTimeout(() => {}, 60000);`;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function family(): Promise<{ o: ReturnType<typeof own>; pids: number[] }> {
  const o = own(process.execPath, ['-e', PARENT]);
  await waitFor('both pids printed', () => o.out(), (t) => /pids \d+ \d+/.test(t), 30_000);
  const pids = /pids (\d+) (\d+)/.exec(o.out())!.slice(1).map(Number);
  expect(pids.every(alive)).toBe(true);
  return { o, pids };
}

describe('owned child processes', () => {
  it('stop() kills the process group, the grandchild too', async () => {
    const { o, pids } = await family();
    await o.stop('SIGTERM', 5000);
    await waitFor('group gone', () => pids.filter(alive), (l) => l.length === 0, 10_000);
    expect(ownedChildren()).not.toContain(o);
  });

  it('a timeout kills the group and says so in the output', async () => {
    const r = await runToEnd(process.execPath, ['-e', PARENT], { timeoutMs: 1000 });
    expect(r.code).toBe(-1);
    // the budget is scaled by the machine factor at spawn time, which the load may have moved since
    const killedAfter = Number(/\[killed after (\d+) ms\]/.exec(r.stderr)?.[1]);
    expect(killedAfter).toBeGreaterThanOrEqual(1000);
    expect(killedAfter).toBeLessThanOrEqual(6000);
    const pids = /pids (\d+) (\d+)/.exec(r.stdout)!.slice(1).map(Number);
    await waitFor('group gone', () => pids.filter(alive), (l) => l.length === 0, 10_000);
  });

  it('the reaper kills whatever is still running, and names it', async () => {
    const { pids } = await family();
    const reaped = await reapAll(5000);
    expect(reaped).toHaveLength(1);
    expect(reaped[0]).toContain(String(pids[0]));
    await waitFor('group gone', () => pids.filter(alive), (l) => l.length === 0, 10_000);
  });

  it('each child keeps its own output, and carries the run mark the end-of-suite check looks for', async () => {
    const [a, b] = await Promise.all([
      runToEnd(process.execPath, ['-e', 'console.log("a:" + process.env.TWINLINE_TEST_RUN); console.error("to stderr")']),
      runToEnd(process.execPath, ['-e', 'console.log("b")']),
    ]);
    expect(process.env.TWINLINE_TEST_RUN).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).toMatchObject({ code: 0, stdout: `a:${process.env.TWINLINE_TEST_RUN}\n`, stderr: 'to stderr\n' });
    expect(b).toMatchObject({ code: 0, stdout: 'b\n', stderr: '' });
    const { o, pids } = await family();
    const mark = `TWINLINE_TEST_RUN=${process.env.TWINLINE_TEST_RUN}`;
    expect(marked(mark).map((p) => p.pid)).toEqual(expect.arrayContaining(pids));
    await o.stop();
  });
});
