/**
 * A real `twinline serve` process for integration and e2e tests: its own temporary home
 * (accounts, PKI, run records; never the checkout's `.twinline`), ready once the banner names
 * the web app and the run's records, with the passwords it created and helpers that call the
 * REST API as one of its accounts (HTTP Basic), paging the event log forward. The process is
 * owned (test/proc.ts): its group is killed when it fails to start, on `stop()`, and after the
 * test file at the latest; each host has its own output buffer and free ports.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineFactor, own } from '../proc.ts';

/** An event as `GET /api/events` pages it. */
export type Ev = { seq: number; tick: number; type: string; station: string | null; data: Record<string, unknown> };

/** A served twin. */
export interface ServeProc {
  proc: ChildProcessWithoutNullStreams;
  /** `http://127.0.0.1:PORT/` */
  base: string;
  /** `opc.tcp://127.0.0.1:PORT`, or '' when the host serves no OPC UA */
  endpoint: string;
  home: string;
  /** the run's folder (events, audit, commands, attacks and values .ndjson, run.json) */
  runDir: string;
  /** everything the process printed so far */
  out(): string;
  /** passwords of the accounts the home was created with */
  passwords: Record<string, string>;
  /** `Authorization: Basic …` for an account */
  basic(user: string): string;
  /** fetch `path` (relative to base) as `user` (HTTP Basic), or without a credential when user is null */
  request(path: string, init?: RequestInit, user?: string | null): Promise<Response>;
  /** `request`, its body parsed as JSON (or `{text}`) */
  call(path: string, init?: RequestInit, user?: string | null): Promise<{ status: number; body: Record<string, unknown> }>;
  /** POST a JSON command as `user` */
  command(body: unknown, user?: string | null): Promise<{ status: number; body: Record<string, unknown> }>;
  /** every event the host holds (oldest first), read as `user` */
  events(user?: string): Promise<Ev[]>;
  /** Sends `signal` (SIGKILL after `ms`), removes the home, resolves with the exit code. */
  stop(signal?: NodeJS.Signals, ms?: number): Promise<number | null>;
}

/**
 * how long a host may take to come up on a busy 2-core machine (OPC UA makes its certificates
 * first) [ms]: 3 minutes, more on a machine the global setup measured slower
 */
export const START_MS = Math.max(180_000, Math.round(90_000 * machineFactor()));

/** `user → password` from a home's initial-passwords.txt (a comment line, then `user\trole\tpassword`); none when it was removed. */
export function readPasswords(home: string): Record<string, string> {
  const out: Record<string, string> = {};
  const file = join(home, 'initial-passwords.txt');
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [user, , pw] = line.split('\t');
    if (user !== undefined && pw !== undefined && !user.startsWith('#')) out[user] = pw;
  }
  return out;
}

/**
 * Starts `twinline serve <args…> --home <home>`; resolves once it serves. The home is a fresh
 * temporary folder (removed by `stop()`) unless `home` is given (kept: a test that restarts a host on it).
 */
export async function startServe(args: readonly string[], o: { readyMs?: number; env?: NodeJS.ProcessEnv; home?: string } = {}): Promise<ServeProc> {
  const home = o.home ?? mkdtempSync(join(tmpdir(), 'twinline-home-'));
  const child = own(process.execPath, ['bin/twinline.mjs', 'serve', ...args, '--home', home], { cwd: process.cwd(), env: { ...process.env, ...o.env } });
  const { proc } = child;
  const out = child.out;
  const stop = async (signal: NodeJS.Signals = 'SIGKILL', ms = 15_000): Promise<number | null> => {
    const code = await child.stop(signal, ms);
    if (o.home === undefined) rmSync(home, { recursive: true, force: true });
    return code;
  };
  const deadline = Date.now() + (o.readyMs ?? START_MS);
  let base = '';
  let runDir = '';
  while (Date.now() < deadline && child.running()) {
    const m = /web app\s+(http:\/\/\S+\/)/.exec(out());
    const r = /records\s+(\S+)/.exec(out());
    if (m !== null && r !== null) {
      base = m[1]!;
      runDir = r[1]!;
      break;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  if (base === '') {
    const running = child.running();
    await stop();
    throw new Error(`twinline serve ${args.join(' ')} did not start${running ? ` within ${o.readyMs ?? START_MS} ms (killed)` : ''}:\n${out()}`);
  }
  const endpoint = /OPC UA\s+(opc\.tcp:\/\/\S+)/.exec(out())?.[1] ?? '';
  const passwords = readPasswords(home);
  const basic = (user: string): string => `Basic ${Buffer.from(`${user}:${passwords[user] ?? ''}`).toString('base64')}`;
  const request: ServeProc['request'] = (path, init = {}, user = 'operator') => {
    const headers = new Headers(init.headers);
    if (user !== null) headers.set('authorization', basic(user));
    return fetch(new URL(path, base), { ...init, headers });
  };
  const call: ServeProc['call'] = async (path, init = {}, user = 'operator') => {
    const r = await request(path, init, user);
    const text = await r.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
    return { status: r.status, body };
  };
  return {
    proc, base, endpoint, home, runDir, passwords, basic, request, call, stop, out,
    command: (body, user = 'operator') => call('api/commands', { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } }, user),
    async events(user = 'viewer') {
      const all: Ev[] = [];
      let since = -1;
      for (;;) {
        const page = (await call(`api/events?since=${since}&limit=2000`, {}, user)).body as { events?: Ev[]; next: number; more: boolean };
        if (page.events === undefined) throw new Error(`GET /api/events as ${user}: ${JSON.stringify(page)}`);
        all.push(...page.events);
        if (!page.more || page.events.length === 0) return all;
        since = page.next;
      }
    },
  };
}
