/**
 * A real `twinline serve` for end-to-end tests: started in its own temporary home (so its
 * accounts and initial passwords are the test's own), ready once its banner names the web app
 * and the run's records, stopped and removed by `stop()`. Also the Chromium flags every e2e
 * test runs with, and small REST helpers that log in the way any client would.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { webBuildDir } from '../global-setup.ts';
import { startServe } from '../integration/serve-proc.ts';
export { START_MS } from '../integration/serve-proc.ts';
import { runToEnd, scaled } from '../proc.ts';
import { findTool } from '../tools.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** $CHROMIUM_PATH, else chromium on $PATH (Debian's), as bin/check-prereqs.mjs finds it */
export const CHROMIUM = findTool('chromium', '/usr/bin/chromium');
/** headless Chromium on a machine without a GPU: WebGL through SwiftShader */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--use-angle=swiftshader', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run',
];

/**
 * Builds the web app into web/dist once per test run: the first e2e file to ask builds it, the
 * others wait for that build's outcome (a failed build fails each of them with vite's output).
 */
export async function buildWebApp(): Promise<void> {
  const dir = webBuildDir();
  const outcome = join(dir, 'outcome.json');
  let mine = true;
  try {
    mkdirSync(dir);
  } catch {
    mine = false; // another file of this run builds, or has built
  }
  if (mine) {
    const r = await runToEnd(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { timeoutMs: 300_000 });
    writeFileSync(`${outcome}.part`, JSON.stringify({ code: r.code, output: `${r.stdout}\n${r.stderr}` }));
    renameSync(`${outcome}.part`, outcome);
  } else {
    await until('the web app\'s build by another test file', () => existsSync(outcome), scaled(300_000), 500);
  }
  const r = JSON.parse(readFileSync(outcome, 'utf8')) as { code: number; output: string };
  if (r.code !== 0) throw new Error(`vite build failed (exit ${r.code}):\n${r.output}`);
}

/** A running host (see test/integration/serve-proc.ts). */
export interface Host {
  /** `http://127.0.0.1:<port>/` */
  base: string;
  home: string;
  /** the run's folder (events, audit trail, commands), from the banner's `records` line */
  runDir: string;
  /** initial passwords by user name, from the home's initial-passwords.txt */
  passwords: Record<string, string>;
  /** everything the host printed so far */
  log(): string;
  /** Stops the host (SIGINT, then SIGKILL if it lingers) and removes its home. */
  stop(): Promise<void>;
}

/** Starts `twinline serve <args>` with a fresh `--home`; resolves once its banner is printed. */
export async function startHost(args: readonly string[]): Promise<Host> {
  const s = await startServe([...args, '--http-port', '0']);
  return {
    base: s.base, home: s.home, runDir: s.runDir, passwords: s.passwords, log: s.out,
    async stop() {
      await s.stop('SIGINT');
    },
  };
}

/** Logs `user` in over REST; returns the bearer token. */
export async function login(host: Host, user: string): Promise<string> {
  const r = await fetch(new URL('api/login', host.base), {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password: host.passwords[user] }),
  });
  const body = (await r.json()) as { token?: string };
  if (r.status !== 200 || typeof body.token !== 'string') throw new Error(`login ${user}: HTTP ${r.status} ${JSON.stringify(body)}`);
  return body.token;
}

/** A REST call with a bearer token: status and parsed JSON body. */
export async function api<T = unknown>(host: Host, token: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${token}`);
  const r = await fetch(new URL(path, host.base), { ...init, headers });
  const text = await r.text();
  return { status: r.status, body: (text === '' ? null : JSON.parse(text)) as T };
}

/** One event of the line's log as `GET /api/events` pages it. */
export interface HostEvent {
  seq: number;
  tick: number;
  type: string;
  station: string | null;
  data: Record<string, unknown>;
}

/** Every event the host holds, paged forward from the start. */
export async function allEvents(host: Host, token: string): Promise<HostEvent[]> {
  const out: HostEvent[] = [];
  let since = -1;
  for (let k = 0; k < 1000; k++) {
    const page = await api<{ events: HostEvent[]; next: number; more: boolean }>(host, token, `api/events?since=${since}&limit=2000`);
    if (page.status !== 200) throw new Error(`GET /api/events: HTTP ${page.status}`);
    out.push(...page.body.events);
    if (!page.body.more) break;
    since = page.body.next;
  }
  return out;
}

/** Waits until `ok()` resolves true, polling; throws with `what` after `ms`. */
export async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 30_000, every = 250): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(every);
  }
}
