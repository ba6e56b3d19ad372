/**
 * Child processes owned by a test: every process a test starts (a `twinline` command, a serve
 * host, a broker) runs in its own process group, is listed here until it exits, and is killed
 * with its whole group on timeout, on `stop()`, after each test file (test/setup.ts) and when the
 * test worker exits. Each child keeps its own output buffer. Also the machine factor that
 * scales waiting budgets on a slow or busy machine (measured once per run, test/global-setup.ts).
 */
import { spawn, type ChildProcessWithoutNullStreams, type SpawnOptionsWithoutStdio } from 'node:child_process';
import { once } from 'node:events';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';

/**
 * How much slower this machine is than a quiet 2-core one (≥ 1, at most 6): the larger of what
 * the global setup measured at the start of the run ($TWINLINE_TEST_FACTOR) and the run queue
 * per core now (the suite's own workers load the machine after the start). A budget for waiting
 * on readiness is `scaled(ms)`.
 */
export function machineFactor(): number {
  const f = Number(process.env.TWINLINE_TEST_FACTOR);
  const atStart = Number.isFinite(f) && f >= 1 ? f : 1;
  return Math.min(6, Math.max(atStart, loadavg()[0]! / availableParallelism()));
}

/** `ms` scaled by the machine factor: a generous limit, never a timing assertion. */
export const scaled = (ms: number): number => Math.round(ms * machineFactor());

/** A child process a test owns. */
export interface Owned {
  proc: ChildProcessWithoutNullStreams;
  /** what it was started as, for messages */
  readonly label: string;
  /** stdout and stderr as they came, interleaved */
  out(): string;
  stdout(): string;
  stderr(): string;
  /** still running */
  running(): boolean;
  /** resolves with the exit code (null when killed by a signal) once the process has exited */
  readonly exited: Promise<number | null>;
  /** Sends `signal` to its process group, SIGKILL to the group after `ms`; resolves with the exit code. */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<number | null>;
}

const live = new Set<Owned>();

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

// a worker that exits (normally or by an uncaught error) takes its children with it
process.once('exit', () => {
  for (const o of live) killGroup(o.proc.pid, 'SIGKILL');
});

/**
 * Starts `cmd args` in a process group of its own, owned until it exits. With `timeoutMs`
 * the group is killed (SIGTERM, SIGKILL 5 s later) once that much time has passed.
 */
export function own(cmd: string, args: readonly string[], opts: SpawnOptionsWithoutStdio & { timeoutMs?: number } = {}): Owned {
  const { timeoutMs, ...spawnOpts } = opts;
  const proc = spawn(cmd, args, { ...spawnOpts, detached: true, stdio: 'pipe' });
  let out = '';
  let stdout = '';
  let stderr = '';
  // decoded as a stream: a character whose UTF-8 bytes straddle two reads stays whole
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d: string) => {
    out += d;
    stdout += d;
  });
  proc.stderr.on('data', (d: string) => {
    out += d;
    stderr += d;
  });
  // 'close': the exit code and every byte of output are in
  const exited = new Promise<number | null>((resolve) => {
    proc.once('error', () => resolve(null));
    proc.once('close', (code: number | null) => resolve(code));
  });
  const label = [cmd, ...args].join(' ');
  const running = (): boolean => proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined;
  let timer: NodeJS.Timeout | undefined;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM', ms = 15_000): Promise<number | null> => {
    if (timer !== undefined) clearTimeout(timer);
    if (running()) {
      killGroup(proc.pid, signal);
      const killer = setTimeout(() => killGroup(proc.pid, 'SIGKILL'), ms);
      await once(proc, 'exit').catch(() => undefined);
      clearTimeout(killer);
    }
    // the leader is gone; anything left in its group goes with it
    killGroup(proc.pid, 'SIGKILL');
    return exited;
  };
  const o: Owned = { proc, label, out: () => out, stdout: () => stdout, stderr: () => stderr, running, exited, stop };
  live.add(o);
  void exited.then(() => {
    if (timer !== undefined) clearTimeout(timer);
    killGroup(proc.pid, 'SIGKILL');
    live.delete(o);
  });
  if (timeoutMs !== undefined) {
    timer = setTimeout(() => {
      const note = `\n[killed after ${timeoutMs} ms]\n`;
      out += note;
      stderr += note;
      void stop('SIGTERM', 5000);
    }, timeoutMs);
  }
  return o;
}

/** A finished command: exit code (-1 when killed by a signal or on timeout), output, wall time. */
export interface Finished {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `cmd args` to its end (its group killed after `timeoutMs`, scaled by the machine factor). */
export async function runToEnd(cmd: string, args: readonly string[], opts: SpawnOptionsWithoutStdio & { timeoutMs?: number; input?: string } = {}): Promise<Finished> {
  const { timeoutMs = 120_000, input, ...rest } = opts;
  const t0 = Date.now();
  const o = own(cmd, args, { ...rest, timeoutMs: scaled(timeoutMs) });
  if (input !== undefined) o.proc.stdin.end(input);
  else o.proc.stdin.end();
  const code = await o.exited;
  return { code: code ?? -1, stdout: o.stdout(), stderr: o.stderr(), ms: Date.now() - t0 };
}

/** The checkout's root, where the CLI runs. */
export const ROOT = resolvePath(import.meta.dirname, '..');

/** `twinline args` (bin/twinline.mjs in the checkout) run to its end: exit code and output. */
export async function twinlineCli(args: readonly string[], timeoutMs = 240_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await runToEnd(process.execPath, [join(ROOT, 'bin/twinline.mjs'), ...args], { cwd: ROOT, timeoutMs });
  return { code, stdout, stderr };
}

/** The owned children still running. */
export function ownedChildren(): readonly Owned[] {
  return [...live].filter((o) => o.running());
}

/** Kills every owned child's group (SIGTERM, then SIGKILL); returns what had to be stopped. */
export async function reapAll(ms = 10_000): Promise<string[]> {
  const left = ownedChildren();
  await Promise.all(left.map((o) => o.stop('SIGTERM', ms)));
  return left.map((o) => `${o.proc.pid ?? '?'} ${o.label}`);
}
