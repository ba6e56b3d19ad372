/**
 * A twin for the matrix: a real `twinline serve` child process with its own temporary home and
 * every face on a free port (port 0: the server picks, so no port is raced), ready once its
 * banner names its records, with each face's endpoint read from the banner. Every twin started
 * is on one list, so that an interrupted matrix (Ctrl-C, SIGTERM) or one that fails reaps them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TwinlineError } from '../../sim/core/errors.ts';
import type { Face } from '../attacks/types.ts';

const CLI = fileURLToPath(new URL('../../bin/twinline.mjs', import.meta.url));
/** the twin's output kept for error messages [characters] */
const KEEP = 64 * 1024;

/**
 * Per face: the serve flags that put it on a free port and how its banner line names its
 * endpoint. A `Record` over `Face`, so a new face cannot be added without saying how the
 * matrix finds it.
 */
export const FACES: Readonly<Record<Face, { ports: readonly string[]; banner: RegExp }>> = {
  rest: { ports: ['--http-port', '0'], banner: /web app\s+(http:\/\/\S+\/)/ },
  opcua: { ports: ['--opcua-port', '0'], banner: /OPC UA\s+(opc\.tcp:\/\/\S+)/ },
  mqtt: { ports: ['--mqtt-port', '0', '--mqtt-ws-port', '0'], banner: /MQTT\s+((?:mqtts?|wss?|tcp):\/\/\S+)/ },
  // the legacy face beside the others in every profile (hardened serves it read-only)
  modbus: { ports: ['--modbus-port', '0'], banner: /Modbus\s+(modbus:\/\/\S+)/ },
};

/** A started twin. */
export interface Twin {
  /** the range's web address (`http://127.0.0.1:PORT/`) */
  web: string;
  /** each face's endpoint, or null when the twin does not serve it */
  endpoints: Record<Face, string | null>;
  home: string;
  /** wall time from spawn to the ready banner [ms] */
  startMs: number;
  /** whether the process is still running */
  alive(): boolean;
  /** the end of what the process printed */
  out(): string;
  /** Stops the twin (SIGTERM, SIGKILL after `ms`); the home stays (the caller owns it). */
  stop(ms?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
const homes = new Set<string>();

/** Kills every twin still running, at once (SIGKILL): for exit paths that cannot wait. */
export function killAllTwins(): void {
  for (const p of live) p.kill('SIGKILL');
  live.clear();
}

/** Kills every twin and removes every home still there: the last thing before the process exits. */
export function reapAll(): void {
  killAllTwins();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
  homes.clear();
}

/**
 * Ctrl-C / SIGTERM for a command that runs twins: the first signal says `what` on `stderr`,
 * aborts `signal` and calls `first`; a second one reaps every twin at once and exits 130. Every
 * twin is reaped when the process exits. `release()` undoes it and kills any twin left.
 */
export function interruptible(stderr: NodeJS.WritableStream, what: string, first: () => void = () => undefined): { signal: AbortSignal; release(): void } {
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (abort.signal.aborted) {
      reapAll();
      process.exit(130);
    }
    stderr.write(`\n${sig}: ${what} …\n`);
    abort.abort(new Error(`interrupted (${sig})`));
    first();
  };
  const onExit = (): void => reapAll();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  return {
    signal: abort.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('exit', onExit);
      killAllTwins();
    },
  };
}

/** A fresh temporary home for a profile's twin(s). */
export function makeHome(): string {
  const h = mkdtempSync(join(tmpdir(), 'twinline-matrix-'));
  homes.add(h);
  return h;
}

/** Removes a home made by `makeHome`. */
export function removeHome(home: string): void {
  rmSync(home, { recursive: true, force: true });
  homes.delete(home);
}

/**
 * Starts `twinline serve [scenario] --profile base <flags…>` with `home` and a free port per
 * face; resolves once the banner is complete. A twin that exits first is an error carrying its
 * output (a serve exit code 2 is bad input: a TwinlineError).
 */
export async function startTwin(o: { scenario?: string; base: string; flags: readonly string[]; home: string; readyMs: number }): Promise<Twin> {
  const args = [CLI, 'serve', ...(o.scenario !== undefined ? [o.scenario] : []), '--profile', o.base, ...o.flags, ...Object.values(FACES).flatMap((f) => f.ports), '--home', o.home];
  const t0 = performance.now();
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let out = '';
  const take = (d: Buffer): void => {
    out += d.toString();
    if (out.length > KEEP) out = out.slice(-KEEP);
  };
  proc.stdout!.on('data', take);
  proc.stderr!.on('data', take);
  const exited = once(proc, 'exit').then(() => void live.delete(proc));
  const alive = (): boolean => proc.exitCode === null && proc.signalCode === null;
  const stop = async (ms = 15_000): Promise<void> => {
    if (alive()) {
      proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(killer);
    }
    live.delete(proc);
  };
  const shown = `twinline serve --profile ${o.base}${o.flags.length > 0 ? ` ${o.flags.join(' ')}` : ''}`;
  // ready: the banner's last fixed line (records) is out; the faces' lines come before it
  const deadline = Date.now() + o.readyMs;
  while (alive() && !/records\s+\S+/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (!/records\s+\S+/.test(out)) {
    const wasAlive = alive();
    await stop();
    await exited;
    if (proc.exitCode === 2) throw new TwinlineError('USAGE', `${shown} refused its input:\n${out.trim()}`);
    throw new Error(`${shown} ${wasAlive ? `did not come up within ${o.readyMs / 1000} s` : `exited (${proc.exitCode ?? proc.signalCode}) before it was ready`}:\n${out.trim()}`);
  }
  const endpoints = Object.fromEntries(Object.entries(FACES).map(([face, f]) => [face, f.banner.exec(out)?.[1] ?? null])) as Record<Face, string | null>;
  if (endpoints.rest === null) {
    await stop();
    throw new Error(`${shown} printed no web address:\n${out.trim()}`);
  }
  return { web: endpoints.rest, endpoints, home: o.home, startMs: performance.now() - t0, alive, out: () => out, stop };
}
