/**
 * The test run's reaper: once process `pid` (the vitest runner) is gone, kills every process
 * whose environment carries `mark` (`TWINLINE_TEST_RUN=<id>`, inherited by every process the
 * suite starts), then exits. A runner killed outright (SIGKILL, an aborted CI job) runs no
 * teardown, and a broker or serve host that a test started in a process group of its own would
 * outlive it. test/global-setup.ts starts the reaper detached, without the mark, and stops it
 * at the end of the run.
 *
 * Usage: node bin/run-ts.mjs test/reaper.ts <pid> <mark>
 */
import { marked } from './global-setup.ts';

/** how often the runner is looked for [ms] */
const POLL_MS = 1000;

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, owned by someone else
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Kills what carries `mark`, twice over (a process may be starting at that moment); how many. */
function reap(mark: string): number {
  const killed = new Set<number>();
  for (let pass = 0; pass < 2; pass++) {
    for (const p of marked(mark)) {
      try {
        process.kill(p.pid, 'SIGKILL');
        killed.add(p.pid);
      } catch {
        // gone meanwhile
      }
    }
  }
  return killed.size;
}

const [pidArg, mark] = process.argv.slice(2);
const pid = Number(pidArg);
if (!Number.isInteger(pid) || pid <= 0 || mark === undefined || !mark.startsWith('TWINLINE_TEST_RUN=')) {
  console.error('usage: reaper.ts <pid> TWINLINE_TEST_RUN=<id>');
  process.exit(2);
}
process.on('SIGTERM', () => process.exit(0));
const timer = setInterval(() => {
  if (alive(pid)) return;
  clearInterval(timer);
  const n = reap(mark);
  if (n > 0) console.error(`reaper: the test runner ${pid} is gone; killed ${n} process(es) its tests had started`);
  process.exit(0);
}, POLL_MS);
