/**
 * Once per `vitest run`: marks the run (every process the suite starts inherits
 * $TWINLINE_TEST_RUN) and starts its reaper (test/reaper.ts: should the runner be killed
 * outright, it kills what the tests started), measures how slow the machine is now
 * ($TWINLINE_TEST_FACTOR, read by test/proc.ts to scale waiting budgets) and, at the end,
 * stops the reaper and fails the run naming every process
 * still carrying the mark — a `twinline serve`, broker or Chromium that outlived its tests —
 * after killing it, and every file it left in the checkout (homes, run folders and PKI belong in
 * temp dirs; only the web app's build output and test-output/, the screenshots kept for a person
 * to look at, may appear).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

/** wall time of `work()` on an idle 2-core x86 machine, roughly [ms]: a floor, the factor never goes below 1 */
const QUIET_MS = 100;

function work(): number {
  const t0 = performance.now();
  let h = Buffer.alloc(64);
  for (let i = 0; i < 20_000; i++) h = createHash('sha256').update(h).digest();
  return performance.now() - t0;
}

/** ≥ 1: the slower of the CPU (best of three timings) and the run queue per core, at most 6 */
function measureFactor(): { factor: number; cpu: number; load: number } {
  const cpu = Math.min(work(), work(), work()) / QUIET_MS;
  const load = loadavg()[0]! / availableParallelism();
  return { factor: Math.min(6, Math.max(1, cpu, load)), cpu, load };
}

/**
 * The machine factor of this run, measured once (when vitest loads its config, so the per-test
 * timeouts scale with it too) and kept in $TWINLINE_TEST_FACTOR for every process the run starts.
 */
export function runFactor(): number {
  if (process.env.TWINLINE_TEST_FACTOR === undefined) {
    const m = measureFactor();
    process.env.TWINLINE_TEST_FACTOR = m.factor.toFixed(2);
    process.env.TWINLINE_TEST_FACTOR_FROM = `CPU ${m.cpu.toFixed(2)} × a quiet machine, load ${m.load.toFixed(2)} per core`;
  }
  return Number(process.env.TWINLINE_TEST_FACTOR);
}

/** Processes (pid, command line) whose environment carries `mark`, other than this one and vitest's workers. */
export function marked(mark: string): { pid: number; cmd: string }[] {
  if (!existsSync('/proc/self/environ')) return [];
  const found: { pid: number; cmd: string }[] = [];
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (!readFileSync(`/proc/${d}/environ`, 'latin1').split('\0').includes(mark)) continue;
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (cmd === '' || /node_modules\/(vitest|tinypool)\//.test(cmd)) continue; // a zombie, or the runner's own workers
      found.push({ pid, cmd });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** Untracked and ignored paths of the checkout (git's view), or null outside a git checkout. */
function strayPaths(): Set<string> | null {
  const r = spawnSync('git', ['status', '--porcelain', '--ignored', '--untracked-files=normal'], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  const paths = r.stdout.split('\n').filter((l) => l.startsWith('?? ') || l.startsWith('!! ')).map((l) => l.slice(3));
  return new Set(paths.filter((p) => !/^(node_modules|web\/dist|test-output)\/?$/.test(p)));
}

/** Where the web app's one build of test run `run` reports its outcome (test/e2e/host.ts); removed at the end of the run. */
export function webBuildDir(run = process.env.TWINLINE_TEST_RUN ?? String(process.pid)): string {
  return join(tmpdir(), `twinline-web-build-${run}`);
}

function fail(message: string): void {
  // vitest reports an error thrown by a teardown but still exits 0: print and set the exit code instead
  console.error(`\nFAIL: ${message}\n`);
  process.exitCode = 1;
}

export default function setup(): () => Promise<void> {
  const strayBefore = strayPaths();
  const mark = `TWINLINE_TEST_RUN=${randomUUID()}`;
  process.env.TWINLINE_TEST_RUN = mark.split('=')[1];
  const factor = runFactor();
  console.log(`machine factor ${factor.toFixed(2)} (${process.env.TWINLINE_TEST_FACTOR_FROM ?? 'given in TWINLINE_TEST_FACTOR'}): waiting budgets and test timeouts scale by it`);
  // should this runner be killed outright (no teardown), the reaper kills what the tests started
  const env = { ...process.env };
  delete env.TWINLINE_TEST_RUN;
  const root = join(import.meta.dirname, '..');
  const reaper = spawn(process.execPath, [join(root, 'bin', 'run-ts.mjs'), join(root, 'test', 'reaper.ts'), String(process.pid), mark], { cwd: root, env, detached: true, stdio: ['ignore', 'ignore', 'inherit'] });
  reaper.unref();
  return async () => {
    reaper.kill('SIGTERM');
    // the outcome of this run's one web app build (test/e2e/host.ts)
    rmSync(webBuildDir(process.env.TWINLINE_TEST_RUN), { recursive: true, force: true });
    // a child stopped by the last afterAll may still be exiting
    const end = Date.now() + 10_000;
    let left = marked(mark);
    while (left.length > 0 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 250));
      left = marked(mark);
    }
    if (strayBefore !== null) {
      const added = [...(strayPaths() ?? [])].filter((p) => !strayBefore.has(p));
      if (added.length > 0) fail(`the tests wrote into the checkout (use a temp dir): ${added.join(', ')}`);
    }
    if (left.length === 0) return;
    for (const p of left) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fail(`${left.length} process(es) started by the tests outlived them (killed now):\n${left.map((p) => `  ${p.pid} ${p.cmd}`).join('\n')}`);
  };
}
